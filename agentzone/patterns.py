"""Id patterns that both the config model and the constructs validating their props check.

Standard library only: the config layer imports it without aws-cdk-lib, and constructs import it
without the config layer.
"""

from __future__ import annotations

ACCOUNT_PATTERN = r"^\d{12}$"
ORG_ID_PATTERN = r"^o-[a-z0-9]{10,32}$"
