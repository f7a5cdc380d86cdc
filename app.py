#!/usr/bin/env python3
"""CDK entry point: `npx cdk synth` / `make synth`.

Context: -c config_dir=PATH (or AGENTZONE_CONFIG_DIR), -c environment=NAME, -c tenant=NAME.
"""

import os
import sys

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk

from agentzone.composition import Selection, SelectionError, compose
from agentzone.config import ConfigError, load_landing_zone


def main() -> int:
    app = cdk.App()
    try:
        landing_zone = load_landing_zone(app.node.try_get_context("config_dir"))
        compose(app, landing_zone, Selection.from_context(app))
    except (ConfigError, SelectionError) as exc:
        print(f"agentzone: {exc}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
