"""Designed and forbidden paths: the calls each component exists to make, and the ones it must never make.

Each path is one request simulated against everything that decides it in AWS: all of the caller's
identity policies, the SCPs of every OU above its account, its permission boundary, and the target's
resource or key policy (cross-account when the target lives elsewhere). Paths are generated from the
config (who should reach what) and located in the assembly by the names the stacks give; they are
never derived from the grants they check, so a grant that disappears fails its designed path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .. import naming
from ..config.model import LandingZone, Tenant
from ..fm_gateway import gateway_model_ids
from ..naming import pascal_title
from .assembly import Resource, Stack
from .model import FULL_AWS_ACCESS, LandingZoneModel, Policy, Principal
from .simulator import Request, Simulator, caller_context

ADMINISTRATOR_ACCESS = Policy("AdministratorAccess (a team's own admin role)", FULL_AWS_ACCESS)


@dataclass(frozen=True, eq=False)
class Actor:
    """Who makes the call: a role of the assembly, or a stand-in for a role the landing zone does not create."""

    arn: str
    account: str
    region: str
    label: str
    policies: tuple[Policy, ...]
    boundary: Policy | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(
            principal.arn,
            principal.account,
            principal.region,
            principal.label,
            tuple(principal.policies),
            principal.boundary,
        )

    @classmethod
    def member_admin(cls, account: str, region: str) -> Actor:
        """An administrator a team creates in its own account: SCPs are all that stand in its way."""
        return cls(
            f"arn:aws:iam::{account}:role/TeamAdmin",
            account,
            region,
            f"TeamAdmin in {account}",
            (ADMINISTRATOR_ACCESS,),
        )


# Who a path names as its caller: a role of the assembly, a stand-in, or None when the role is missing.
Caller = Principal | Actor | None


@dataclass(frozen=True, eq=False)
class Path:
    kind: str  # designed (must be Allowed) or forbidden (must be denied)
    tenant: str
    environment: str
    title: str
    actor: Actor | None  # None: the principal the path needs does not exist in the assembly
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    resource_account: str | None = None  # where the target lives, when its ARN does not say
    missing: str = ""  # what could not be found, for a path whose actor or target is absent


@dataclass
class PathBook:
    """Finds what paths need in one tenant environment's stacks; records what is missing instead of guessing."""

    lz: LandingZone
    model: LandingZoneModel
    tenant: Tenant
    environment: str
    paths: list[Path] = field(default_factory=list)

    @property
    def account(self) -> str:
        return self.tenant.environments[self.environment].account

    @property
    def region(self) -> str:
        return self.lz.region_of(self.tenant.environments[self.environment])

    def stack(self, suffix: str = "") -> Stack | None:
        return self.model.assembly.stacks.get(f"AgentZone-{self.tenant.tenant}-{self.environment}{suffix}")

    def platform(self, role: str, environment: str | None = None) -> Stack | None:
        return self.model.assembly.stacks.get(f"AgentZone-{role}-{environment or self.environment}")

    def role(self, stack: Stack | None, *, prefix: str = "", name: str = "") -> Principal | None:
        if stack is None:
            return None
        for principal in self.model.principals.values():
            if principal.stack is stack and (
                principal.name == name if name else principal.resource.logical_id.startswith(prefix)
            ):
                return principal
        return None

    def agent_role(self, agent: str) -> Principal | None:
        """The execution role of one of this tenant environment's runtimes."""
        return self.role(self.stack(), prefix=f"Runtime{pascal_title(agent)}ExecutionRole")

    def resource(self, stack: Stack | None, type_: str, prefix: str = "") -> Resource | None:
        if stack is None:
            return None
        return next((r for r in stack.of_type(type_) if r.logical_id.startswith(prefix)), None)

    def add(
        self,
        kind: str,
        title: str,
        who: Caller,
        action: str,
        resource: str | None,
        context: dict[str, str] | None = None,
        resource_account: str | None = None,
        what: str = "",
    ) -> None:
        actor = Actor.of(who) if isinstance(who, Principal) else who
        missing = "" if actor is not None and resource else (what or title)
        self.paths.append(
            Path(
                kind,
                self.tenant.tenant,
                self.environment,
                title,
                actor,
                action,
                resource or "",
                tuple(sorted((context or {}).items())),
                resource_account,
                missing,
            )
        )

    def designed(self, title: str, who: Caller, action: str, resource: str | None, **kw: Any) -> None:
        self.add("designed", title, who, action, resource, **kw)

    def forbidden(self, title: str, who: Caller, action: str, resource: str | None, **kw: Any) -> None:
        self.add("forbidden", title, who, action, resource, **kw)


def chat_models(tenant: Tenant) -> list[str]:
    return [m for m in tenant.models if "embed" not in m]


def model_arn(model_id: str, region: str) -> str:
    _, base = naming.split_profile(model_id)
    return f"arn:aws:bedrock:{region}::foundation-model/{base}"


def guardrail_context(book: PathBook) -> dict[str, str]:
    """The guardrail ARN:version the runtime is given (its AGENTZONE_GUARDRAIL_* environment)."""
    # The tenant's guardrail blueprint, not a dedicated FM gateway's own (GatewayGuardrail).
    guardrail = book.resource(book.stack(), "AWS::Bedrock::Guardrail", "Guardrail")
    if guardrail is None:
        return {}
    return {"bedrock:GuardrailIdentifier": f"{guardrail.arn}:1"}


# --- designed paths: what each component exists to do --------------------------------------------


def agent_paths(book: PathBook) -> None:
    """Each runtime: its guarded models, memories at their access level, prompts, knowledge base, tools, safety."""
    stack, runtime = book.stack(), book.tenant.blueprints.runtime or {}
    guarded = guardrail_context(book)
    for agent, spec in sorted(runtime.items()):
        role = book.agent_role(agent)
        for model in chat_models(book.tenant):
            book.designed(
                f"agent {agent} -> {model} with its guardrail",
                role,
                "bedrock:InvokeModel",
                model_arn(model, book.region),
                context=guarded,
            )
        for memory, access in sorted((spec.memory or {}).items()):
            target = book.resource(stack, "AWS::BedrockAgentCore::Memory", f"Memory{pascal_title(memory)}Memory")
            arn = target.arn if target else None
            book.designed(
                f"agent {agent} -> memory {memory} ({access}) read",
                role,
                "bedrock-agentcore:RetrieveMemoryRecords",
                arn,
            )
            if access == "read_write":
                book.designed(f"agent {agent} -> memory {memory} write", role, "bedrock-agentcore:CreateEvent", arn)
        for version in stack.of_type("AWS::Bedrock::PromptVersion") if stack else []:
            book.designed(f"agent {agent} -> prompt {version.logical_id}", role, "bedrock:GetPrompt", version.arn)
        if book.tenant.blueprints.knowledge_base:
            kb = book.resource(stack, "AWS::Bedrock::KnowledgeBase")
            book.designed(f"agent {agent} -> knowledge base", role, "bedrock:Retrieve", kb.arn if kb else None)
        if book.tenant.blueprints.tool_gateway:
            gateway = book.resource(stack, "AWS::BedrockAgentCore::Gateway")
            book.designed(
                f"agent {agent} -> tool gateway",
                role,
                "bedrock-agentcore:InvokeGateway",
                gateway.arn if gateway else None,
            )
        breaker = book.resource(stack, "AWS::StepFunctions::StateMachine", "SafetyCircuitBreaker")
        book.designed(
            f"agent {agent} -> circuit breaker", role, "states:StartSyncExecution", breaker.arn if breaker else None
        )
        switch = book.resource(stack, "AWS::SSM::Parameter", "SafetyKillSwitch")
        book.designed(f"agent {agent} -> kill switch", role, "ssm:GetParameter", switch.arn if switch else None)
        _image_pull(book, agent, spec.image, role)


def _image_pull(book: PathBook, agent: str, image: str, role: Principal | None) -> None:
    """ECR in the shared-services account: the repository policy and its CMK's key policy must let the tenant in."""
    services = book.stack("-services")
    repository = next(
        (
            r
            for r in (services.of_type("AWS::ECR::Repository") if services else [])
            if r.name == naming.tenant_repository(book.tenant.tenant, image)
        ),
        None,
    )
    # ECR decrypts layers of a KMS-encrypted repository through its own grant: pullers need no key permission.
    book.designed(
        f"agent {agent} -> pull image {image} (repository policy)",
        role,
        "ecr:BatchGetImage",
        repository.arn if repository else None,
    )


def service_role_paths(book: PathBook) -> None:
    """Roles AWS services assume on the tenant's behalf: tool targets, embeddings, judge, extraction, HITL, safety."""
    stack, tenant = book.stack(), book.tenant
    if tenant.blueprints.tool_gateway:
        gateway_role = book.role(stack, prefix="ToolGatewayServiceRole")
        for target in stack.of_type("AWS::BedrockAgentCore::GatewayTarget") if stack else []:
            lam = target.stack.resolve(target.properties).get("TargetConfiguration", {}).get("Mcp", {}).get("Lambda")
            if lam:
                book.designed(
                    f"tool gateway -> Lambda target {target.logical_id}",
                    gateway_role,
                    "lambda:InvokeFunction",
                    lam["LambdaArn"],
                )
    if tenant.blueprints.knowledge_base:
        kb_role = book.role(stack, prefix="KnowledgeBaseServiceRole")
        book.designed(
            "knowledge base -> embedding model (no guardrail)",
            kb_role,
            "bedrock:InvokeModel",
            model_arn(tenant.blueprints.knowledge_base.embedding_model, book.region),
        )
        source = book.resource(stack, "AWS::Bedrock::DataSource")
        if source is not None:
            s3 = source.stack.resolve(source.properties["DataSourceConfiguration"])["S3Configuration"]
            book.designed(
                "knowledge base -> its source prefix",
                kb_role,
                "s3:GetObject",
                f"{s3['BucketArn']}/{s3.get('InclusionPrefixes', [''])[0]}doc.pdf",
            )
    pipeline = tenant.blueprints.eval_pipeline
    if pipeline and pipeline.evaluator_model:
        judge = book.role(stack, prefix="EvalPipelineEvaluationJobRole")
        book.designed(
            "evaluation job judge -> evaluator model (no guardrail)",
            judge,
            "bedrock:InvokeModel",
            model_arn(pipeline.evaluator_model, book.region),
        )
    for memory_name, memory in sorted((tenant.blueprints.memory or {}).items()):
        resource = book.resource(stack, "AWS::BedrockAgentCore::Memory", f"Memory{pascal_title(memory_name)}Memory")
        for strategy in memory.custom_strategies:
            if strategy.model and resource is not None:
                role_arn = resource.stack.resolve(resource.properties["MemoryExecutionRoleArn"])
                role = book.model.principals.get(role_arn)
                book.designed(
                    f"memory {memory_name} extraction -> {strategy.model} (no guardrail)",
                    role,
                    "bedrock:InvokeModel",
                    model_arn(strategy.model, book.region),
                )
    _workflow_paths(book, stack)
    findings = book.role(stack, prefix="AuditFindingsRole")
    book.designed(
        "detective alarm -> a Security Hub finding in its account",
        findings,
        "securityhub:BatchImportFindings",
        f"arn:aws:securityhub:{book.region}:{book.account}:product/{book.account}/default",
    )


def _workflow_paths(book: PathBook, stack: Stack | None) -> None:
    if book.tenant.blueprints.hitl:
        handler = book.role(stack, prefix="HitlDecisionRole")
        book.designed("HITL decision handler -> complete the task token", handler, "states:SendTaskSuccess", "*")
        records = book.resource(stack, "AWS::S3::Bucket", "HitlRecordsBucket")
        book.designed(
            "HITL decision handler -> write the Object Lock decision record",
            handler,
            "s3:PutObject",
            f"{records.arn}/decisions/request.json" if records else None,
        )
    agents = [book.agent_role(a) for a in sorted(book.tenant.blueprints.runtime or {})]
    for who, role, policy in (
        ("budget action", naming.BUDGET_ACTION_ROLE, "SafetyBudgetDenyPolicy"),
        ("incident playbook", naming.PLAYBOOK_ROLE, "SafetyKillSwitchDenyPolicy"),
    ):
        actor, deny = book.role(stack, name=role), book.resource(stack, "AWS::IAM::ManagedPolicy", policy)
        for agent in [a for a in agents if a is not None][:1]:
            book.designed(
                f"{who} -> attach {policy.removeprefix('Safety')} to an agent",
                actor,
                "iam:AttachRolePolicy",
                agent.arn,
                context={"iam:PolicyARN": deny.arn} if deny else None,
            )
            book.forbidden(
                f"{who} -> attach AdministratorAccess to an agent",
                actor,
                "iam:AttachRolePolicy",
                agent.arn,
                context={"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"},
            )
    delivery = book.role(stack, name=naming.delivery_role_name(book.tenant.tenant))
    for endpoint in stack.of_type("AWS::BedrockAgentCore::RuntimeEndpoint")[:1] if stack else []:
        runtime = endpoint.stack.resolve(endpoint.properties["AgentRuntimeId"])
        arn = (
            f"arn:aws:bedrock-agentcore:{book.region}:{book.account}:runtime/{runtime}/runtime-endpoint/{endpoint.name}"
        )
        book.designed(
            "delivery role -> move an endpoint to a new version",
            delivery,
            "bedrock-agentcore:UpdateAgentRuntimeEndpoint",
            arn,
        )
    launch = book.role(stack, name=naming.launch_role_name(book.tenant.tenant))
    if launch is not None:
        # The request carries the tags the released memory product puts on its memory.
        tags = product_tags(book, "AWS::BedrockAgentCore::Memory")
        book.designed(
            "Service Catalog launch role -> create a memory product",
            launch,
            "bedrock-agentcore:CreateMemory",
            "*",
            context={f"aws:RequestTag/{k}": v for k, v in tags.items()},
            what="the memory product template",
        )


def client_secret(book: PathBook) -> Resource | None:
    """A tenant's OAuth2 client credentials in this environment's security account (its identity stack)."""
    identity = book.stack("-identity")
    name = naming.tenant_client_secret(book.tenant.tenant)
    return (
        next((r for r in identity.of_type("AWS::SecretsManager::Secret") if r.name == name), None) if identity else None
    )


def replication_role(book: PathBook) -> Principal | None:
    """The role S3 replicates the tenant account's Bedrock invocation logs to the archive with."""
    return book.role(book.stack(), prefix="BedrockInvocationLoggingBucketReplicationRole")


def tenant_reader(book: PathBook) -> Principal | None:
    """A tenant's read-only role in this environment's logging account (its observability stack)."""
    return book.role(book.stack("-observability"), name=naming.tenant_reader_role(book.tenant.tenant))


def product_tags(book: PathBook, type_: str) -> dict[str, str]:
    """Tags a Service Catalog product template of this tenant environment sets on its resource of ``type_``."""
    outdir = book.model.assembly.outdir
    for path in sorted(outdir.glob(f"AgentZone{book.tenant.tenant}{book.environment}services*.product.template.json")):
        for resource in json.loads(path.read_text()).get("Resources", {}).values():
            if resource["Type"] == type_:
                tags = resource.get("Properties", {}).get("Tags", {})
                return tags if isinstance(tags, dict) else {t["Key"]: t["Value"] for t in tags}
    return {}


def platform_paths(book: PathBook) -> None:
    """What the platform accounts do for this tenant environment: observability, identity, FM gateway, MLflow, lake."""
    for build in (_observability_paths, _identity_paths, _shared_services_paths, _data_lake_paths):
        build(book)


def _observability_paths(book: PathBook) -> None:
    """The logging account: archive (bucket and key policy), dashboard, log groups through the sink, the link."""
    logging = book.platform("Logging")
    reader = tenant_reader(book)
    if logging is not None:
        book.designed(
            "tenant reader -> its invocation logs in the archive (bucket policy)",
            reader,
            "s3:GetObject",
            invocation_log(logging, book),
        )
        key = book.resource(logging, "AWS::KMS::Key", "ArchiveKey")
        book.designed(
            "tenant reader -> archive CMK (key policy)",
            reader,
            "kms:Decrypt",
            key.arn if key else None,
            context={"kms:ViaService": f"s3.{logging.region}.amazonaws.com"},
        )
        # The bucket policy names replicators by condition (AgentZone roles of the organization, own prefix only).
        book.designed(
            "invocation-log replication -> its account's prefix in the archive (bucket policy)",
            replication_role(book),
            "s3:ReplicateObject",
            invocation_log(logging, book),
        )
        book.designed(
            "tenant reader -> its dashboard",
            reader,
            "cloudwatch:GetDashboard",
            dashboard(logging, book),
        )
        # OAM serves linked accounts' logs inside the monitoring account: the request never reaches the source account.
        book.designed(
            "tenant reader -> its log groups (through the OAM sink)",
            reader,
            "logs:FilterLogEvents",
            runtime_log_group(book),
            resource_account=logging.account,
        )
        sink = book.resource(logging, "AWS::Oam::Sink")
        if book.resource(book.stack(), "AWS::Oam::Link") is not None:
            book.designed(
                "tenant account -> link to the observability sink (sink policy)",
                Actor.member_admin(book.account, book.region),
                "oam:CreateLink",
                sink.arn if sink else None,
            )


def _identity_paths(book: PathBook) -> None:
    """The security account: the tenant's OAuth2 client credentials (secret policy, then the key policy)."""
    secret = client_secret(book)
    book.designed(
        "tenant account -> its client credentials in the security account (secret policy)",
        Actor.member_admin(book.account, book.region),
        "secretsmanager:GetSecretValue",
        secret.arn if secret else None,
    )
    security = book.platform("Security")
    key = book.resource(security, "AWS::KMS::Key", "ClientCredentialsKey")
    book.designed(
        "tenant account -> decrypt its client credentials (key policy)",
        Actor.member_admin(book.account, book.region),
        "kms:Decrypt",
        key.arn if key else None,
        context={
            "kms:ViaService": f"secretsmanager.{security.region if security else book.region}.amazonaws.com",
            "kms:EncryptionContext:SecretARN": secret.arn if secret else "",
        },
    )


def _shared_services_paths(book: PathBook) -> None:
    """The shared-services account: the FM gateway's models and profiles, MLflow's server and artifacts."""
    tenant = book.tenant.tenant
    shared = book.platform("SharedServices")
    gateway = book.role(shared, prefix="FmGatewayTaskRole")
    # A tenant with a gateway of its own never calls the shared one (dedicated_gateway_paths).
    for model in chat_models(book.tenant) if book.tenant.dedicated_gateway(book.environment) is None else []:
        book.designed(
            f"FM gateway -> {model}",
            gateway,
            "bedrock:InvokeModel",
            model_arn(model, shared.region if shared else book.region),
        )
    services = book.stack("-services")
    for profile in services.of_type("AWS::Bedrock::ApplicationInferenceProfile") if services else []:
        book.designed(
            f"FM gateway -> application inference profile {profile.name}", gateway, "bedrock:InvokeModel", profile.arn
        )
    mlflow = book.role(services, name=naming.tenant_mlflow_role_name(tenant))
    server = tracking_server(book)
    book.designed(
        "MLflow role -> its tracking server", mlflow, "sagemaker-mlflow:CreateRun", server.arn if server else None
    )
    if book.tenant.experiment_tracking == "isolated":
        shared_server = book.resource(shared, "AWS::SageMaker::MlflowTrackingServer")
        book.forbidden(
            "MLflow role (isolated) -> the shared tracking server",
            mlflow,
            "sagemaker-mlflow:SearchExperiments",
            shared_server.arn if shared_server else None,
        )
    artifacts = book.resource(shared, "AWS::S3::Bucket", "ExperimentTrackingArtifactsBucket")
    book.designed(
        "MLflow role -> its artifact prefix",
        mlflow,
        "s3:PutObject",
        f"{artifacts.arn}/{tenant}/run/model.pkl" if artifacts else None,
    )


def dedicated_gateway_paths(book: PathBook) -> None:
    """``fm_gateway.dedicated``: the tenant's own gateway calls its gateway models through its tagged profiles and
    applies its guardrail, under the tenant account's SCPs; a model off the tenant's list stays out of reach."""
    settings = book.lz.organization.shared_services.fm_gateway
    if book.tenant.dedicated_gateway(book.environment) is None or settings is None:
        return
    stack = book.stack()
    gateway = book.role(stack, prefix="FmGatewayTaskRole")
    for name, model in gateway_model_ids(book.tenant, settings).items():
        book.designed(
            f"dedicated FM gateway -> {name} ({model})", gateway, "bedrock:InvokeModel", model_arn(model, book.region)
        )
    for profile in stack.of_type("AWS::Bedrock::ApplicationInferenceProfile") if stack else []:
        book.designed(
            f"dedicated FM gateway -> application inference profile {profile.name}",
            gateway,
            "bedrock:InvokeModel",
            profile.arn,
        )
    guardrail = book.resource(stack, "AWS::Bedrock::Guardrail", "GatewayGuardrail")
    book.designed(
        "dedicated FM gateway -> apply its guardrail",
        gateway,
        "bedrock:ApplyGuardrail",
        guardrail.arn if guardrail else None,
    )
    book.forbidden(
        "dedicated FM gateway -> model off the tenant's list",
        gateway,
        "bedrock:InvokeModel",
        model_arn(UNLISTED_MODEL, book.region),
    )


def agent_config_rule_paths(book: PathBook) -> None:
    """The account's agent-configuration Config rule reads its runtimes and reports to AWS Config."""
    blueprints = book.tenant.blueprints
    if blueprints.guardrail is None and not any(agent.vpc for agent in blueprints.runtime.values()):
        return  # config decides neither a guardrail nor a VPC for this tenant: no rule
    stack = book.stack()
    rule = book.role(stack, prefix="AgentConfigRuleRole")
    runtime = book.resource(stack, "AWS::BedrockAgentCore::Runtime")
    if runtime is not None:
        book.designed(
            "agent-configuration rule -> read a runtime", rule, "bedrock-agentcore:GetAgentRuntime", runtime.arn
        )
    book.designed("agent-configuration rule -> report evaluations", rule, "config:PutEvaluations", "*")


def tracking_server(book: PathBook) -> Resource | None:
    """The MLflow server a tenant uses: its own (``experiment_tracking: isolated``, in its services stack), or the
    environment's shared one."""
    if book.tenant.experiment_tracking == "isolated":
        return book.resource(book.stack("-services"), "AWS::SageMaker::MlflowTrackingServer")
    return book.resource(book.platform("SharedServices"), "AWS::SageMaker::MlflowTrackingServer")


def _data_lake_paths(book: PathBook) -> None:
    central = book.lz.organization.audit.central_environment
    lake = book.platform("DataLake", central)
    raw = book.resource(lake, "AWS::S3::Bucket", "RawZoneBucket")
    data = book.model.assembly.stacks.get(f"AgentZone-{book.tenant.tenant}-{central}-data")
    for namespace in book.tenant.data.namespaces if book.environment == central else []:
        if not namespace.producers:
            continue
        ingest = book.role(data, name=naming.namespace_ingest_role(book.tenant.tenant, namespace.name))
        for dataset in namespace.datasets:
            if dataset.ingestion == "batch":
                book.designed(
                    f"producers -> raw prefix of {namespace.name}/{dataset.name} (ingest role)",
                    ingest,
                    "s3:PutObject",
                    f"{raw.arn}/{book.tenant.tenant}/{namespace.name}/{dataset.name}/file.json" if raw else None,
                )
            if dataset.ingestion == "stream":
                stream = naming.dataset_stream(book.tenant.tenant, namespace.name, dataset.name)
                book.designed(
                    f"producers -> stream {stream}",
                    ingest,
                    "firehose:PutRecord",
                    f"arn:aws:firehose:{lake.region}:{lake.account}:deliverystream/{stream}" if lake else None,
                )
    forwarding = book.role(book.stack(), prefix="DataLakeForwardingRole")
    if forwarding is not None and lake is not None:
        book.designed(
            "feedback rule -> the lake's event bus (bus policy)",
            forwarding,
            "events:PutEvents",
            naming.feedback_bus_arn(lake.account, lake.region),
        )


# --- forbidden paths: what must never happen -------------------------------------------------------

UNLISTED_MODEL = "meta.llama3-70b-instruct-v1:0"
OUTSIDE_REGION = "us-east-1"


def guardrail_bypass_paths(book: PathBook) -> None:
    """Agents: no model without the guardrail, none off the tenant's list, none outside allowed_regions."""
    guarded = guardrail_context(book)
    for agent in sorted(book.tenant.blueprints.runtime or {}):
        role = book.agent_role(agent)
        model = chat_models(book.tenant)[0]
        book.forbidden(
            f"agent {agent} -> {model} without a guardrail", role, "bedrock:InvokeModel", model_arn(model, book.region)
        )
        book.forbidden(
            f"agent {agent} -> model off the tenant's list",
            role,
            "bedrock:InvokeModel",
            model_arn(UNLISTED_MODEL, book.region),
            context=guarded,
        )
        if OUTSIDE_REGION not in book.lz.organization.allowed_regions:
            book.forbidden(
                f"agent {agent} -> {model} in {OUTSIDE_REGION}",
                role,
                "bedrock:InvokeModel",
                model_arn(model, OUTSIDE_REGION),
                context={**guarded, "aws:RequestedRegion": OUTSIDE_REGION},
            )


def baseline_tamper_paths(book: PathBook) -> None:
    """A team's own administrator in a member account cannot leave, blind or re-wire the platform."""
    admin = Actor.member_admin(book.account, book.region)
    org = book.lz.organization
    region, account = book.region, book.account
    trail = naming.organization_trail_arn(org.management_account, org.home_region)
    attempts = [
        ("leave the organization", "organizations:LeaveOrganization", "*"),
        ("stop the organization trail", "cloudtrail:StopLogging", trail),
        (
            "delete GuardDuty's detector",
            "guardduty:DeleteDetector",
            f"arn:aws:guardduty:{region}:{account}:detector/d1",
        ),
        (
            "disable Security Hub",
            "securityhub:DisableSecurityHub",
            f"arn:aws:securityhub:{region}:{account}:hub/default",
        ),
        ("stop AWS Config", "config:StopConfigurationRecorder", "*"),
        ("switch off model invocation logging", "bedrock:DeleteModelInvocationLoggingConfiguration", "*"),
        (
            "rewrite an agentzone role's policy",
            "iam:PutRolePolicy",
            f"arn:aws:iam::{account}:role/{naming.delivery_role_name(book.tenant.tenant)}",
        ),
        (
            "widen a platform permission boundary",
            "iam:CreatePolicyVersion",
            f"arn:aws:iam::{account}:policy/{naming.product_boundary_name(book.tenant.tenant)}",
        ),
        (
            "remove a permission boundary",
            "iam:DeleteRolePermissionsBoundary",
            f"arn:aws:iam::{account}:role/AgentZone-{book.tenant.tenant}-{book.environment}-Role",
        ),
        (
            "raise a platform budget",
            "budgets:ModifyBudget",
            f"arn:aws:budgets::{account}:budget/{naming.PREFIX}-{book.tenant.tenant}-{book.environment}",
        ),
    ]
    for title, action, resource in attempts:
        book.forbidden(f"team admin -> {title}", admin, action, resource)


def isolation_paths(book: PathBook, other: PathBook) -> None:
    """Tenant A's roles never reach tenant B's data, logs, memories, images, keys or artifacts."""
    theirs = other.stack()
    agent = next(iter(sorted(book.tenant.blueprints.runtime or {})), None)
    role = book.agent_role(agent) if agent else None
    b = other.tenant.tenant
    memory = book.resource(theirs, "AWS::BedrockAgentCore::Memory")
    book.forbidden(
        f"agent -> {b}'s memory", role, "bedrock-agentcore:RetrieveMemoryRecords", memory.arn if memory else None
    )
    key = book.resource(theirs, "AWS::KMS::Key", "BaselineKey")
    book.forbidden(f"agent -> {b}'s CMK", role, "kms:Decrypt", key.arn if key else None)
    services = other.stack("-services")
    repository = book.resource(services, "AWS::ECR::Repository")
    book.forbidden(f"agent -> {b}'s images", role, "ecr:BatchGetImage", repository.arn if repository else None)
    _reader_isolation_paths(book, other)
    secret = client_secret(other)
    book.forbidden(
        f"team admin -> {b}'s client credentials",
        Actor.member_admin(book.account, book.region),
        "secretsmanager:GetSecretValue",
        secret.arn if secret else None,
    )
    shared = book.platform("SharedServices")
    mlflow = book.role(book.stack("-services"), name=naming.tenant_mlflow_role_name(book.tenant.tenant))
    artifacts = book.resource(shared, "AWS::S3::Bucket", "ExperimentTrackingArtifactsBucket")
    book.forbidden(
        f"MLflow role -> {b}'s artifacts",
        mlflow,
        "s3:GetObject",
        f"{artifacts.arn}/{b}/run/model.pkl" if artifacts else None,
    )
    if other.tenant.experiment_tracking == "isolated":
        theirs_server = tracking_server(other)
        book.forbidden(
            f"MLflow role -> {b}'s own tracking server",
            mlflow,
            "sagemaker-mlflow:SearchExperiments",
            theirs_server.arn if theirs_server else None,
        )
    catalog = book.resource(shared, "AWS::DynamoDB::GlobalTable", "CatalogsModelCatalog")
    book.forbidden("agent -> write the model catalog", role, "dynamodb:PutItem", catalog.arn if catalog else None)
    api = book.resource(theirs, "AWS::ApiGateway::RestApi", "HitlApi")
    if api is not None:
        book.forbidden(
            f"agent (outsider) -> approve {b}'s HITL request",
            role,
            "execute-api:Invoke",
            f"arn:aws:execute-api:{other.region}:{other.account}:{api.generated_id}/prod/POST/decisions",
        )


def _reader_isolation_paths(book: PathBook, other: PathBook) -> None:
    """The tenant reader (logging account) sees none of the other tenant's logs or dashboard."""
    logging = book.platform("Logging")
    reader = tenant_reader(book)
    if logging is None:
        return
    b = other.tenant.tenant
    book.forbidden(f"tenant reader -> {b}'s invocation logs", reader, "s3:GetObject", invocation_log(logging, other))
    book.forbidden(
        f"invocation-log replication -> {b}'s prefix in the archive",
        replication_role(book),
        "s3:ReplicateObject",
        invocation_log(logging, other),
    )
    book.forbidden(f"tenant reader -> {b}'s dashboard", reader, "cloudwatch:GetDashboard", dashboard(logging, other))
    book.forbidden(
        f"tenant reader -> {b}'s log groups",
        reader,
        "logs:FilterLogEvents",
        runtime_log_group(other),
        resource_account=logging.account,
    )


def invocation_log(logging: Stack, target: PathBook) -> str:
    """An object of ``target``'s Bedrock invocation logs in the logging account's archive."""
    bucket = naming.archive_bucket_name(logging.account, logging.region)
    return f"arn:aws:s3:::{bucket}/{naming.BEDROCK_LOG_PREFIX}/AWSLogs/{target.account}/log.json.gz"


def dashboard(logging: Stack, target: PathBook) -> str:
    name = naming.tenant_dashboard(target.tenant.tenant, target.environment)
    return f"arn:aws:cloudwatch::{logging.account}:dashboard/{name}"


def runtime_log_group(target: PathBook) -> str:
    return f"arn:aws:logs:{target.region}:{target.account}:log-group:/aws/bedrock-agentcore/runtimes/agent"


def requester_paths(book: PathBook) -> None:
    """The agent that asked for approval cannot approve itself; dev and staging cannot feed the lake."""
    stack = book.stack()
    api = book.resource(stack, "AWS::ApiGateway::RestApi", "HitlApi")
    if api is not None:
        decisions = f"arn:aws:execute-api:{book.region}:{book.account}:{api.generated_id}/prod/POST/decisions"
        for agent in sorted(book.tenant.blueprints.runtime or {}):
            book.forbidden(
                f"agent {agent} (requester) -> approve its own HITL request",
                book.agent_role(agent),
                "execute-api:Invoke",
                decisions,
            )
    central = book.lz.organization.audit.central_environment
    lake = book.platform("DataLake", central)
    if book.environment not in {"prod"} and lake is not None and book.tenant.data.namespaces:
        book.forbidden(
            "team admin outside prod -> the lake's feedback bus",
            Actor.member_admin(book.account, book.region),
            "events:PutEvents",
            naming.feedback_bus_arn(lake.account, lake.region),
        )


def build_paths(lz: LandingZone, model: LandingZoneModel) -> list[Path]:
    """Every designed and forbidden path of every tenant environment in the assembly.

    Isolation is checked against the next tenant (in name order, cyclically) in the same environment, so every
    tenant is both the caller and the target once and the number of paths grows linearly with tenants.
    """
    books = {
        (t.tenant, env): PathBook(lz, model, t, env)
        for t in sorted(lz.tenants, key=lambda t: t.tenant)
        for env in t.environments
        if model.assembly.stacks.get(f"AgentZone-{t.tenant}-{env}")
    }
    builders = (
        agent_paths,
        service_role_paths,
        dedicated_gateway_paths,
        agent_config_rule_paths,
        platform_paths,
        guardrail_bypass_paths,
        baseline_tamper_paths,
        requester_paths,
    )
    for (_, env), book in books.items():
        for build in builders:
            build(book)
        peers = [peer for (other, other_env), peer in books.items() if other_env == env]
        if len(peers) > 1:
            isolation_paths(book, peers[(peers.index(book) + 1) % len(peers)])
    return [p for book in books.values() for p in book.paths]


# --- simulation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PathResult:
    path: Path
    decision: str
    deciding: str

    @property
    def ok(self) -> bool:
        if self.path.missing:
            return False
        if self.decision == "Unverified":
            return True  # counted and listed, neither passed nor failed
        allowed = self.decision == "Allowed"
        return allowed if self.path.kind == "designed" else self.decision in ("ExplicitlyDenied", "ImplicitlyDenied")


def _account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() and len(parts[4]) == 12 else None


def path_request(path: Path, model: LandingZoneModel, simulator: Simulator, org_id: str) -> Request:
    """All the caller's policies, its account's SCP chain and boundary, and the target's resource or key policy;
    the target's tags, when the assembly creates it, as resource tags."""
    actor = path.actor
    if actor is None:
        raise ValueError(f"path {path.title!r} has no caller to simulate ({path.missing})")
    policy, owner = model.guarding(path.resource)
    context = {**caller_context(actor.arn, actor.account, org_id, path.resource, actor.region), **dict(path.context)}
    target = model.owners.get(path.resource)
    for key, value in (target.tags if target is not None else {}).items():
        context.setdefault(f"aws:ResourceTag/{key}", value)
        if path.resource.startswith("arn:aws:iam::"):
            context.setdefault(f"iam:ResourceTag/{key}", value)
    return simulator.request(
        principal=actor.arn,
        action=path.action,
        resource=path.resource,
        resource_account=path.resource_account or owner or _account_of(path.resource) or actor.account,
        context=context,
        identity=list(actor.policies),
        scp_chain=model.scp_chain(actor.account),
        boundary=actor.boundary,
        resource_policy=policy,
    )


def run_paths(paths: list[Path], model: LandingZoneModel, simulator: Simulator, org_id: str) -> list[PathResult]:
    requests = {id(p): path_request(p, model, simulator, org_id) for p in paths if not p.missing}
    decisions = simulator.decide(list(requests.values()))
    results = []
    for path in paths:
        if path.missing:
            results.append(PathResult(path, "Missing", f"not in the assembly: {path.missing}"))
            continue
        decision = decisions[requests[id(path)]]
        undecided = decision.undecided(k for k, _ in path.context)
        if undecided:
            results.append(PathResult(path, "Unverified", f"the simulator does not evaluate {undecided}"))
            continue
        results.append(PathResult(path, decision.decision, decision.deciding()))
    return results
