"""The text rules names and ids follow, written once.

The config model validates YAML with them, and constructs and blueprints
check the same values again when a team passes props by hand. Both import
them from here: this module imports nothing, so constructs can use it without
reaching into config, and config without pulling in aws-cdk-lib.
"""

from __future__ import annotations

ACCOUNT_PATTERN = r"^\d{12}$"
SLUG_PATTERN = r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$"
REGION_PATTERN = r"^[a-z]{2}(-gov)?-[a-z]+-\d$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
COST_CENTER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$"
USE_CASE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$"
# A cross-region inference profile id ("eu.anthropic...") or a model id ("amazon.nova-lite-v1:0").
MODEL_PATTERN = r"^([a-z]{2}\.)?[a-z0-9-]+\.[A-Za-z0-9.:_-]+$"
ENV_PATTERN = r"^[a-z][a-z0-9]{1,15}$"
ORG_ID_PATTERN = r"^o-[a-z0-9]{10,32}$"
ROOT_ID_PATTERN = r"^r-[0-9a-z]{4,32}$"
ROLE_NAME_PATTERN = r"^[\w+=,.@-]{1,64}$"
SINK_ARN_PATTERN = r"^arn:aws[a-z-]*:oam:[a-z0-9-]+:\d{12}:sink/[0-9a-f-]{36}$"
SCOPE_PATTERN = r"^[a-z][a-z0-9._-]{0,63}$"
USER_POOL_ID_PATTERN = r"^[a-z]{2}(-gov)?-[a-z]+-\d_[0-9A-Za-z]{1,55}$"
GATEWAY_MODEL_PATTERN = r"^[a-z][a-z0-9.-]{0,46}[a-z0-9]$"
# An ECR repository name (the registry's own rule).
REPOSITORY_PATTERN = r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$"
IMAGE_TAG_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
CERTIFICATE_ARN_PATTERN = r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$"
# Upstream registries whose ECR pull-through cache needs a login (ECR's own rule).
REGISTRIES_WITH_LOGIN = ("ghcr.io", "registry-1.docker.io")
# A pull-through-cache login: ECR reads only secrets named ecr-pullthroughcache/... (full ARN, with its suffix).
REGISTRY_CREDENTIAL_ARN_PATTERN = (
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:ecr-pullthroughcache/[\w/+=.@-]+-[A-Za-z0-9]{6}$"
)
# An EventBridge Scheduler expression.
SCHEDULE_PATTERN = r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^)]+\))$"
GLUE_CRON_PATTERN = r"^cron\([^)]+\)$"
SEMVER_PATTERN = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$"
# A public DNS name (labels of letters, digits and inner hyphens; a top-level domain of letters).
DOMAIN_PATTERN = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
# An availability zone's letter in its region.
ZONE_PATTERN = r"^[a-f]$"
# Lowercase words joined by single hyphens (blueprint names, tool gateway targets, HITL action categories).
WORDS_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
# An AgentCore runtime, endpoint or memory-strategy name.
AGENTCORE_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,47}$"
# An agent image in a tenant's ECR namespace (agentzone/<tenant>/<image>).
IMAGE_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$"
LAMBDA_FUNCTION_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
HTTP_HEADER_PATTERN = r"^[A-Za-z0-9-]{1,64}$"
# An S3 key prefix that ends with '/'.
S3_PREFIX_PATTERN = r"^[A-Za-z0-9!_.*'()/-]{1,200}/$"
# An evaluation metric (a CloudWatch dimension value and a DynamoDB attribute).
METRIC_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
