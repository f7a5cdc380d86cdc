"""Physical names other accounts refer to.

Cross-account references cannot use CloudFormation exports, so the producer
and every consumer derive the same name from config here. Changing a function
below renames (replaces) a deployed resource.
"""

from __future__ import annotations

import hashlib
import re

PREFIX = "agentzone"

# Role names the SCPs single out; see organization_policies.py.
FM_GATEWAY_ROLE_PREFIX = f"{PREFIX}-fm-gateway"
# The custom-resource role in member accounts; SCPs exempt it (it sets protected settings).
PLATFORM_RESOURCES_ROLE = f"{PREFIX}-platform-resources"
ORGANIZATION_TRAIL = f"{PREFIX}-organization"
OAM_SINK = f"{PREFIX}-observability"
ARCHIVE_KEY_ALIAS = f"alias/{PREFIX}/log-archive"
BEDROCK_LOG_PREFIX = "bedrock"


def archive_bucket_name(account: str, region: str) -> str:
    """The log archive of one logging account (account id keeps it globally unique)."""
    return f"{PREFIX}-logs-{account}-{region}"


def archive_key_alias_arn(account: str, region: str, partition: str = "aws") -> str:
    return f"arn:{partition}:kms:{region}:{account}:{ARCHIVE_KEY_ALIAS}"


def organization_trail_arn(management_account: str, region: str, partition: str = "aws") -> str:
    return f"arn:{partition}:cloudtrail:{region}:{management_account}:trail/{ORGANIZATION_TRAIL}"


def organization_arn(management_account: str, organization_id: str, partition: str = "aws") -> str:
    """The organization as a RAM principal: shares with it reach every member account, no invitation."""
    return f"arn:{partition}:organizations::{management_account}:organization/{organization_id}"


# Bedrock guardrail names: 1-50 characters.
GUARDRAIL_NAME_MAX = 50


def fm_gateway_guardrail(*scope: str) -> str:
    """``agentzone-fm-gateway-<env>`` (shared) or ``-<tenant>-<env>`` (dedicated); a long one keeps its first 41
    characters and a hash of the whole, within Bedrock's 50."""
    name = "-".join((PREFIX, "fm-gateway", *scope))
    if len(name) <= GUARDRAIL_NAME_MAX:
        return name
    return f"{name[: GUARDRAIL_NAME_MAX - 9].rstrip('-')}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def fm_gateway_endpoint_service_parameter(environment: str) -> str:
    """SSM parameter (shared-services account, shared with the organization) naming the FM gateway's PrivateLink
    endpoint service, which tenant VPCs connect to."""
    return f"/{PREFIX}/{environment}/fm-gateway/endpoint-service-name"


def observability_sink_parameter(environment: str) -> str:
    """SSM parameter (logging account, shared with the organization) holding the environment's OAM sink ARN, which
    every account of the environment links to."""
    return f"/{PREFIX}/{environment}/observability/sink-arn"


def tenant_portfolio_parameter(tenant: str, environment: str) -> str:
    """SSM parameter (shared-services account, shared with the organization) holding the id of the tenant's
    self-service portfolio there, which the tenant's account imports."""
    return f"/{PREFIX}/{environment}/catalog/{tenant}/portfolio-id"


def identity_user_pool_parameter(environment: str) -> str:
    """SSM parameter (security account, shared with the organization) holding the id of the environment's agent
    identity user pool, which gateways and JWT authorizers trust."""
    return f"/{PREFIX}/{environment}/identity/user-pool-id"


def shared_parameter_arn(name: str, account: str, region: str, partition: str = "aws") -> str:
    """The full ARN another account reads a RAM-shared SSM parameter by (CloudFormation template parameters only)."""
    return f"arn:{partition}:ssm:{region}:{account}:parameter{name}"


def tenant_reader_role(tenant: str) -> str:
    """Read-only role for one tenant in a logging account."""
    return f"{PREFIX}-{tenant}-observability-reader"


PLATFORM_OPERATOR_ROLE = f"{PREFIX}-platform-observability-operator"


def tenant_dashboard(tenant: str, environment: str) -> str:
    return f"{PREFIX}-{tenant}-{environment}"


def platform_dashboard(environment: str) -> str:
    return f"{PREFIX}-platform-{environment}"


def workloads_ou_parameter(environment: str) -> str:
    """SSM parameter (management account) holding the id of AgentZone-Workloads/<environment>."""
    return f"/{PREFIX}/organization/workloads-ou/{environment}"


def top_ou_parameter(kind: str) -> str:
    """SSM parameter (management account, Bootstrap stack) holding the id of AgentZone-Platform or
    AgentZone-Workloads (``kind``: platform, workloads), which the Organization stack's policies target."""
    return f"/{PREFIX}/organization/{kind}-ou"


# The service-managed StackSet (Bootstrap stack) that runs the CDK bootstrap template in every AgentZone account.
BOOTSTRAP_STACK_SET = f"{PREFIX}-cdk-bootstrap"
# The CloudFormation execution policy it creates in each account and region (ProtectPlatformPolicies covers it).
BOOTSTRAP_EXECUTION_POLICY = f"{PREFIX}-cdk-execution"
# The role StackSets deploys a service-managed stack instance with, in each member account.
STACKSETS_EXECUTION_ROLE_PATTERN = "arn:aws:iam::*:role/stacksets-exec-*"


# Shared-services catalogs: tenant accounts read them cross-account by ARN.
MODEL_CATALOG_TABLE = f"{PREFIX}-model-catalog"
COMPONENT_CATALOG_TABLE = f"{PREFIX}-component-catalog"
SHARED_TOOL_GATEWAY = f"{PREFIX}-shared-tools"


def tenant_tool_gateway(tenant: str) -> str:
    """A tenant's own tool gateway, the name ``agentzone tools register`` looks up for its manifests."""
    return f"{PREFIX}-{tenant}-tools"


# OAuth2 scope tenants' clients carry to call the shared tool gateway.
SHARED_TOOLS_RESOURCE_SERVER = f"{PREFIX}/shared-tools"
SHARED_TOOLS_SCOPE = "invoke"


def shared_tools_scope() -> str:
    """The full scope string in access tokens, as the gateway's JWT authorizer checks it."""
    return f"{SHARED_TOOLS_RESOURCE_SERVER}/{SHARED_TOOLS_SCOPE}"


FM_GATEWAY_ADMIN_FUNCTION = f"{PREFIX}-fm-gateway-admin"


def fm_gateway_admin_token(account: str, region: str, partition: str = "aws") -> str:
    """Service token of Custom::LiteLLMTeam: tenants' stacks in the shared-services account find it by name."""
    return f"arn:{partition}:lambda:{region}:{account}:function:{FM_GATEWAY_ADMIN_FUNCTION}"


def cognito_discovery_url(region: str, user_pool_id: str) -> str:
    """OIDC discovery URL of an environment's agent identity pool (Security stack), for JWT authorizers."""
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}/.well-known/openid-configuration"


def catalog_table_arn(table: str, account: str, region: str, partition: str = "aws") -> str:
    return f"arn:{partition}:dynamodb:{region}:{account}:table/{table}"


def tenant_scope(tenant: str, scope: str) -> str:
    """A tenant scope as it appears in access tokens (the Security stack's resource server agentzone/<tenant>)."""
    return f"{PREFIX}/{tenant}/{scope}"


# Roles Bedrock knowledge bases run as: the only tenant principals that may call embedding
# models without a guardrail (the SCP exempts them and limits them to embedding models).
KNOWLEDGE_BASE_ROLE_PREFIX = f"{PREFIX}-kb"
# Roles Bedrock evaluation jobs run as: exempt from the guardrail rule, limited to the tenant's judge model.
EVALUATION_ROLE_PREFIX = f"{PREFIX}-eval"
# Roles AgentCore Memory runs custom extraction as: exempt from the guardrail rule, limited to the
# tenant's custom-extraction models.
MEMORY_ROLE_PREFIX = f"{PREFIX}-memory"
IAM_ROLE_NAME_MAX = 64


def role_arn_pattern(prefix: str) -> str:
    """Every role whose name starts with ``<prefix>-``, in any account (the SCPs' ArnLike / ArnNotLike form)."""
    return f"arn:aws:iam::*:role/{prefix}-*"


def evaluation_job_role(tenant: str, environment: str) -> str:
    """Service role of the Bedrock evaluation jobs (LLM as a judge) of one tenant account."""
    return f"{EVALUATION_ROLE_PREFIX}-{tenant}-{environment}"


def online_evaluation_role(agent: str) -> str:
    """Execution role of one agent's AgentCore online evaluation (one per agent in the tenant's environment account)."""
    return f"{EVALUATION_ROLE_PREFIX}-online-{agent}"


def memory_service_role(memory_name: str) -> str:
    """Service role of an AgentCore memory that runs custom extraction with its own models (``memory_name``:
    the memory's AgentCore name, unique in the account)."""
    return f"{MEMORY_ROLE_PREFIX}-{memory_name}"


# Roles that attach the budget and kill-switch deny policies to agent roles (AWS Budgets actions, incident
# playbooks). Agent roles are platform-protected, so the SCP lets these two roles attach deny policies only.
SAFETY_ROLE_PREFIX = f"{PREFIX}-safety"


def detective_alarm(tenant: str, environment: str, signal: str) -> str:
    """A tenant environment's detective alarm; those entering ALARM become Security Hub findings (by this prefix)."""
    return f"{PREFIX}-{tenant}-{environment}-detect-{signal}"


def playbook_document(tenant: str, environment: str, playbook: str) -> str:
    """The SSM Automation document of one incident playbook (RunawayLoop, PromptInjection, CostExplosion)."""
    return f"AgentZone-{tenant}-{environment}-{playbook}"


# The HITL category of a circuit breaker's human checkpoint: a tenant's HITL blueprint must list it to decide it.
CHECKPOINT_CATEGORY = "agent-checkpoint"
BUDGET_ACTION_ROLE = f"{SAFETY_ROLE_PREFIX}-budget-action"
PLAYBOOK_ROLE = f"{SAFETY_ROLE_PREFIX}-playbook"
# Managed policies that stop agents (budget exhausted, kill switch): agentzone-<tenant>-<environment>-<what>-deny.
DENY_POLICY_PATTERN = f"arn:aws:iam::*:policy/{PREFIX}-*-deny"


def tenant_state_machine(tenant: str, environment: str, purpose: str) -> str:
    """A tenant environment's workflow (circuit breaker, evaluation, canary). A fixed name also makes the
    KMS grant CDK writes for a CMK-encrypted state machine (its stateMachineArn encryption context) match."""
    return f"{PREFIX}-{tenant}-{environment}-{purpose}"


def tenant_repository(tenant: str, name: str) -> str:
    """ECR repository for one tenant's images in a shared-services account."""
    return f"{PREFIX}/{tenant}/{name}"


# Cross-region inference profile prefixes ("eu.anthropic.claude-..."): the model id follows the first dot.
PROFILE_GEOGRAPHIES = frozenset({"us", "eu", "apac", "jp", "au", "ca", "us-gov", "global"})


def split_profile(model_id: str) -> tuple[str | None, str]:
    """('eu', 'anthropic.claude...') for a cross-region inference profile id, (None, id) for a model id."""
    head, _, rest = model_id.partition(".")
    if head in PROFILE_GEOGRAPHIES and "." in rest:
        return head, rest
    return None, model_id


# Data lake: tenant accounts address the central lake's catalog and feedback bus by name.
DATA_LAKE_FEEDBACK_BUS = f"{PREFIX}-feedback"
LF_TAG_TENANT = f"{PREFIX}:tenant"
LF_TAG_SENSITIVITY = f"{PREFIX}:sensitivity"
FIREHOSE_NAME_MAX = 64


def namespace_database(tenant: str, namespace: str) -> str:
    """Glue database of one tenant namespace (Glue names: lowercase, underscores)."""
    return f"{tenant}_{namespace}".replace("-", "_")


def dataset_stream(tenant: str, namespace: str, dataset: str) -> str:
    """Firehose stream that writes one streamed dataset into the raw zone."""
    return f"{PREFIX}-{tenant}-{namespace}-{dataset}".replace("_", "-")


def namespace_ingest_role(tenant: str, namespace: str) -> str:
    """Role producers assume to write one namespace's raw data (data lake account)."""
    return f"{PREFIX}-ingest-{tenant}-{namespace}".replace("_", "-")


def feedback_bus_arn(account: str, region: str, partition: str = "aws") -> str:
    return f"arn:{partition}:events:{region}:{account}:event-bus/{DATA_LAKE_FEEDBACK_BUS}"


def cfn_exec_role_arn(qualifier: str, account: str, region: str, partition: str = "aws") -> str:
    """The role `cdk bootstrap --qualifier` creates for CloudFormation; Lake Formation must list it as an admin."""
    return f"arn:{partition}:iam::{account}:role/cdk-{qualifier}-cfn-exec-role-{account}-{region}"


def logging_export(name: str) -> str:
    """CloudFormation export of the logging stack that per-tenant observability stacks import (same account)."""
    return f"{PREFIX}-logging-{name}"


def identity_export(name: str) -> str:
    """CloudFormation export of the security stack that per-tenant identity stacks import (same account)."""
    return f"{PREFIX}-identity-{name}"


def identity_domain_prefix(organization: str, environment: str, security_account: str) -> str:
    """The Cognito hosted domain of an environment's agent identity: its OAuth2 token endpoint's host."""
    return f"{organization}-{environment}-{security_account}"


def cognito_token_endpoint(domain_prefix: str, region: str) -> str:
    return f"https://{domain_prefix}.auth.{region}.amazoncognito.com/oauth2/token"


def data_lake_export(name: str) -> str:
    """CloudFormation export of the data lake stack that per-tenant data stacks import (same account and region)."""
    return f"{PREFIX}-data-lake-{name}"


def data_lake_security_configuration(environment: str) -> str:
    return f"{PREFIX}-data-lake-{environment}"


# The shared MLflow tracking server of an environment's shared-services account.
MLFLOW_TRACKING_SERVER = f"{PREFIX}-mlflow"


def mlflow_tracking_server_arn(account: str, region: str, partition: str = "aws") -> str:
    return f"arn:{partition}:sagemaker:{region}:{account}:mlflow-tracking-server/{MLFLOW_TRACKING_SERVER}"


def tenant_mlflow_server(tenant: str) -> str:
    """A tenant's own tracking server (``experiment_tracking: isolated``), beside the shared one."""
    return f"{MLFLOW_TRACKING_SERVER}-{tenant}"


def shared_services_export(name: str) -> str:
    """CloudFormation export of the shared-services stack that per-tenant services stacks import (same account)."""
    return f"{PREFIX}-shared-services-{name}"


def tenant_mlflow_role_name(tenant: str) -> str:
    """The role a tenant account assumes in the shared-services account to use MLflow."""
    return f"{PREFIX}-{tenant}-mlflow"


def resource_name(tenant: str, name: str, environment: str, *, separator: str = "-") -> str:
    """What a blueprint names its resource in a tenant account: ``<tenant><sep><name><sep><environment>``.

    AgentCore names take ``_`` (``claims_triage_dev``): the tenant's hyphens become underscores too.
    ``agentzone release`` finds a runtime by this name, so it must not change.
    """
    text = separator.join(part for part in (tenant, name, environment) if part)
    return text.replace("-", "_") if separator == "_" else text


def agentcore_name(tenant: str, name: str, environment: str) -> str:
    """The AgentCore name of a blueprint's runtime or memory (``claims_triage_dev``)."""
    return resource_name(tenant, name, environment, separator="_")


def tenant_agentcore_names(tenant: str) -> str:
    """Every AgentCore name of one tenant, as an ARN resource wildcard (``claims_*``)."""
    return f"{agentcore_name(tenant, '', '')}_*"


PLATFORM_PIPELINE = f"{PREFIX}-platform"


def tenant_pipeline_name(tenant: str) -> str:
    """The CodePipeline of one tenant (delivery account)."""
    return f"{PREFIX}-{tenant}"


def tenant_pipeline_stack(tenant: str) -> str:
    """The stack of a tenant's pipeline (delivery account); its step roles are named after it, and the tenant's
    delivery role trusts only those."""
    return f"AgentZone-{tenant}-pipeline"


def delivery_role_name(tenant: str) -> str:
    """The role a tenant's delivery pipeline (shared-services account) assumes in each of the tenant's accounts."""
    return f"{PREFIX}-delivery-{tenant}"


def launch_role_name(tenant: str) -> str:
    """Service Catalog launch role in each tenant account; ``agentzone-*``: the baseline-protection SCP keeps tenant
    principals from changing it."""
    return f"{PREFIX}-catalog-launch-{tenant}"


def product_boundary_name(tenant: str) -> str:
    """Managed policy (tenant accounts) every role a launched product creates must carry as its boundary."""
    return f"{PREFIX}-catalog-boundary-{tenant}"


def tenant_client_secret(tenant: str) -> str:
    """Secret (security account) with a tenant's OAuth2 client credentials; the tenant's accounts read it by name."""
    return f"{PREFIX}/identity/{tenant}/client-credentials"


# ------------------------------------------------------------------ construct ids
#
# Construct ids decide logical ids, so changing how a name is spelled replaces the resource; the permissions
# check finds resources in an assembly by the same spelling. Two spellings are in use and both must stay:
# they differ only for a letter after a digit (agent2go: Agent2go, Agent2Go).
_WORD_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")


def pascal(name: str) -> str:
    """claims-intake -> ClaimsIntake: words split on anything but letters and digits, each capitalized."""
    return "".join(word.capitalize() for word in _WORD_SEPARATORS.split(name))


def pascal_title(name: str) -> str:
    """Like :func:`pascal`, but a digit also ends a word (agent2go -> Agent2Go): the spelling of the memory,
    runtime and evaluation construct ids since their first release."""
    return "".join(word.title() for word in _WORD_SEPARATORS.split(name))
