"""Tool manifests for the tools tests: written to a temporary directory, one Lambda manifest to vary."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ..conftest import ROOT

EXAMPLES = ROOT / "examples" / "tools"
VAULT = "arn:aws:bedrock-agentcore:eu-west-1:100000000011:token-vault/default"  # the token vault of the test account


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


LAMBDA_MANIFEST = """\
    name: {name}
    description: Look up customers
    gateway: {gateway}
    {tenant}
    prefix: {prefix}
    target:
      lambda_function:
        arn: arn:aws:lambda:eu-west-1:100000000011:function:lookup
        tools:
          - name: lookup_customer
            description: Find a customer
            input_schema: {{type: object, properties: {{id: {{type: string}}}}, required: [id]}}
    auth:
      gateway_iam_role: {{}}
    compliance:
      data_classification: internal
      pii: true
      owner: team@example.com
      approved_by: security@example.com
      catalog_ref: CAT-1
    """


def lambda_manifest(
    tmp_path, file="m.yaml", *, name="lookup", gateway="tenant", tenant="tenant: claims", prefix="claims-lookup"
):
    return write(tmp_path, file, LAMBDA_MANIFEST.format(name=name, gateway=gateway, tenant=tenant, prefix=prefix))
