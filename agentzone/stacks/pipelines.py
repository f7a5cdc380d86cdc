"""Delivery pipelines (CDK Pipelines), in the delivery account, which builds and operates the landing zone.

``AgentZone-Pipeline`` deploys the platform: the Bootstrap stack, the central log
archive and the Organization stack, then each
platform environment as a wave whose four accounts deploy in parallel, with a
manual approval before the environments in ``delivery.approval_before``
(default: the last). ``AgentZone-<tenant>-pipeline`` deploys one tenant: its
governance stack, then each environment (its share of shared services and
the data lake, then its account). Before an approval environment it runs the
evaluation gate on the previous environment's store (when the tenant has an
evaluation pipeline), a HITL review (when it has the hitl blueprint) and the
manual approval; after deploying there, it watches canary endpoints and rolls
them back on alarm (``agentzone release watch``). Each tenant has its own
pipeline, so teams release in parallel and one team's failure holds no one else.

Every pipeline is self-mutating, and its synth step is the same gate as a pull
request: tests, then synth with cdk-nag, cfn-lint and checkov.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import pipelines
from constructs import Construct

from .. import naming
from ..config.model import DeliverySettings, LandingZone, Tenant
from ..constructs.secure_bucket import AccessLogsBucket
from ..delivery.canary import canaries
from ..nag import acknowledge, acknowledge_compliance, nag_arn
from ..project import PROJECT_ROOT
from .base import AgentZoneStack, StackTarget, tag_cdk_providers

PIPELINE_OUTPUT = "pipeline.out"
SYNTH_CACHE_PREFIX = "agentzone-synth-cache"
CHECKS = ["make test", "make synth"]  # the pull request's gate, on every pipeline run


def pinned_cdk_cli() -> str:
    spec = json.loads((PROJECT_ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    return spec.lstrip("^~")


@dataclass(frozen=True)
class StageStacks:
    """How the stacks a pipeline deploys are built: composition's own functions, passed in.

    A stage then holds exactly the stacks ``agentzone synth`` writes, with the
    same names and accounts, while this module stays below composition.
    """

    bootstrap: Callable[[Construct, LandingZone], AgentZoneStack]
    organization: Callable[[Construct, LandingZone], AgentZoneStack]
    platform: Callable[[Construct, LandingZone, str, str], AgentZoneStack]  # (scope, lz, environment, role)
    platform_roles: tuple[str, ...]
    governance: Callable[[Construct, LandingZone, Tenant], AgentZoneStack]
    # (scope, lz, tenant, environment) -> {"services": ..., "data": ..., "use_case": ...}, ordered among themselves
    tenant_environment: Callable[[Construct, LandingZone, Tenant, str], dict[str, AgentZoneStack]]


class LandingZoneStage(cdk.Stage):
    """A deployable unit of the pipeline: the stacks ``build`` adds (with their usual names and accounts)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, build: Callable[[Construct], Iterable[AgentZoneStack]]
    ) -> None:
        super().__init__(scope, construct_id)
        self.stacks = list(build(self))
        # The pipeline synthesizes its stages while it is built, before composition ends: tag them now.
        tag_cdk_providers(self)


class DeliveryPipeline(Construct):
    """A self-mutating CDK pipeline whose synth step runs the repository's checks."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        delivery: DeliverySettings,
        name: str,
        checks: list[str],
        artifact_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.artifact_bucket = artifact_bucket
        self.source = pipelines.CodePipelineSource.connection(
            delivery.repository, delivery.branch, connection_arn=delivery.connection_arn
        )
        build_environment = codebuild.BuildEnvironment(
            build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
            compute_type=codebuild.ComputeType.MEDIUM,
            privileged=False,
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=name,
            # Ours: CMK (the stack's key, which CDK Pipelines opens to the target accounts' deploy roles),
            # versioned, logged.
            artifact_bucket=artifact_bucket,
            # Cross-region support stacks (tenants in other regions) get replication buckets with their own
            # rotating CMK.
            cross_account_keys=True,
            enable_key_rotation=True,
            synth=pipelines.ShellStep(
                "Synth",
                input=self.source,
                install_commands=["n 20 >/dev/null 2>&1 || true", "python3 --version", "node --version"],
                # The pipelines' own assembly, through the same gate as the landing zone's.
                commands=[*checks, f'make synth ARGS="--only pipelines --output {PIPELINE_OUTPUT}"'],
                primary_output_directory=PIPELINE_OUTPUT,
            ),
            # Deploys into other accounts: the artifact bucket gets a CMK those accounts' deploy roles may use.
            self_mutation=True,
            docker_enabled_for_synth=False,
            # The self-mutation step uses the CDK CLI the repository pins (package.json), not whatever is latest.
            cli_version=pinned_cdk_cli(),
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=build_environment, timeout=cdk.Duration.minutes(90)
            ),
            # agentzone synth's unit cache (verified entry by entry) kept between runs in the artifact bucket.
            synth_code_build_defaults=pipelines.CodeBuildOptions(
                cache=codebuild.Cache.bucket(artifact_bucket, prefix=SYNTH_CACHE_PREFIX),
                partial_build_spec=codebuild.BuildSpec.from_object({"cache": {"paths": [".agentzone-cache/**/*"]}}),
            ),
        )

    def build(self) -> None:
        """Create the CodePipeline, then acknowledge what the CDK Pipelines L3 generates."""
        self.pipeline.build_pipeline()
        acknowledge_pipeline(self)
        narrow_generated_wildcards(self)
        # cfn-lint's E3703 wants a literal role ARN in deploy actions; CDK Pipelines writes the bootstrap roles'
        # ARNs as Fn::Join over AWS::Partition, valid at deploy time. Ignored on this one resource only.
        cfn_pipeline = self.pipeline.pipeline.node.default_child
        assert isinstance(cfn_pipeline, cdk.CfnResource)
        cfn_pipeline.add_metadata("cfn-lint", {"config": {"ignore_checks": ["E3703"]}})


# Actions CDK Pipelines grants on Resource "*" although they act on resources of the delivery account only: the
# asset roles start and watch the Assets stage's projects; the pipeline role uses the cross-region replication
# buckets' keys (imported by alias, so the L2 grant cannot name them).
NARROWABLE = {
    "codebuild:StartBuild": ("codebuild", "project/*"),
    "kms:GenerateDataKey*": ("kms", "key/*"),
}


def narrow_generated_wildcards(delivery: DeliveryPipeline) -> None:
    """Replace ``"*"`` in the L3's statements that grant NARROWABLE actions by those resources in the delivery
    account (in the pipeline's region and each replication region)."""
    stack = cdk.Stack.of(delivery)
    regions = sorted({stack.region, *delivery.pipeline.pipeline.cross_region_support.keys()})
    for child in delivery.node.find_all():
        if not isinstance(child, iam.CfnPolicy):
            continue
        document = stack.resolve(child.policy_document)
        for index, statement in enumerate(document.get("Statement", [])):
            actions = statement.get("Action", [])
            resources = statement.get("Resource", [])
            resources = resources if isinstance(resources, list) else [resources]
            marker = next((a for a in NARROWABLE if a in (actions if isinstance(actions, list) else [actions])), None)
            if marker is None or "*" not in resources:
                continue
            service, resource = NARROWABLE[marker]
            scoped = [f"arn:{stack.partition}:{service}:{r}:{stack.account}:{resource}" for r in regions]
            narrowed = [*scoped, *(r for r in resources if r != "*")]
            child.add_property_override(f"PolicyDocument.Statement.{index}.Resource", narrowed)


def acknowledge_pipeline(delivery: DeliveryPipeline) -> None:
    """The CDK Pipelines L3's own resources, each finding with its reason (nothing of ours is in them).

    The findings are computed from what the L3 generated (its projects, its artifact bucket), so a
    wildcard we did not expect still fails synth.
    """
    resources = _generated_resources(delivery)
    for child in delivery.node.find_all():
        if not isinstance(child, cdk.CfnResource):
            continue
        if child.cfn_resource_type == "AWS::IAM::Policy":
            _acknowledge_policy(child, resources)
        elif child.cfn_resource_type == "AWS::CodeBuild::Project":
            acknowledge(
                child,
                "AwsSolutions-CB4",
                "CDK Pipelines' CodeBuild projects read and write artifacts in the CMK-encrypted "
                "artifact bucket; the project itself stores nothing.",
            )
            acknowledge_compliance(
                child,
                "CodeBuildProjectSourceRepoUrl",
                "The source comes through a CodeConnections connection (no URL, no credentials in the project).",
            )


# The S3 and KMS action groups CDK Pipelines grants on its artifact bucket and artifact key.
ARTIFACT_ACTIONS = (
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
    "s3:Abort*",
    "s3:DeleteObject*",
    "s3:GetBucket*",
    "s3:GetObject*",
    "s3:List*",
)


def _acknowledge_policy(policy: cdk.CfnResource, resources: dict[str, str]) -> None:
    for resource, reason in resources.items():
        acknowledge(policy, f"AwsSolutions-IAM5[Resource::{resource}]", reason)
    for action in ARTIFACT_ACTIONS:
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Action::{action}]",
            "The S3 and KMS action groups CDK Pipelines grants on its artifact bucket and artifact key only.",
        )
    acknowledge_compliance(
        policy,
        "IAMNoInlinePolicy",
        "CDK Pipelines writes each role's grants as a policy attached only to that role.",
    )


def _generated_resources(delivery: DeliveryPipeline) -> dict[str, str]:
    """Wildcard resources in the L3's policies (as cdk-nag prints them) -> why each is there."""
    stack = cdk.Stack.of(delivery)
    bucket = delivery.artifact_bucket.node.default_child
    assert isinstance(bucket, cdk.CfnElement)
    artifacts = stack.get_logical_id(bucket)
    projects = [
        c
        for c in delivery.node.find_all()
        if isinstance(c, cdk.CfnResource) and c.cfn_resource_type == "AWS::CodeBuild::Project"
    ]
    return {
        "*": "Pipeline actions and CodeBuild call services without resource-level permissions (e.g. "
        "codebuild:CreateReportGroup naming, cloudformation:DescribeStacks in the self-mutation) as generated by "
        "CDK Pipelines.",
        f"arn:*:iam::{stack.account}:role/*": "The self-mutation step assumes the CDK bootstrap roles "
        "(cdk-<qualifier>-*) by tag condition, as CDK Pipelines generates it.",
        nag_arn(
            delivery, "codebuild", "report-group/*"
        ): "CodeBuild report groups are created per run of the pipeline's projects.",
        nag_arn(
            delivery, "logs", "log-group:/aws/codebuild/*"
        ): "CodeBuild log groups of the pipeline's projects, named per project.",
        f"<{artifacts}.Arn>/*": "The pipeline's artifact bucket: every action reads and writes its artifacts.",
        **{
            nag_arn(
                delivery, "codebuild", f"report-group/<{stack.get_logical_id(p)}>-*"
            ): "Report groups of this CodeBuild project."
            for p in projects
        },
        **{
            nag_arn(
                delivery, "logs", f"log-group:/aws/codebuild/<{stack.get_logical_id(p)}>:*"
            ): "Log streams of this CodeBuild project."
            for p in projects
        },
    }


def harden_support_stacks(app: Construct, pipelines_: list[AgentZoneStack]) -> None:
    """CodePipeline's cross-region support stacks (a replication bucket per extra region, created by the L3): the
    bucket is versioned and its access logged like every bucket of ours; what remains is acknowledged."""
    for child in app.node.children:
        if isinstance(child, cdk.Stack) and child.node.id.startswith("cross-region-stack-"):
            for bucket in child.node.find_all():
                if isinstance(bucket, s3.CfnBucket):
                    _version_and_log(child, bucket)
                    _acknowledge_replication_bucket(bucket, child.region, pipelines_)


def _version_and_log(stack: cdk.Stack, bucket: s3.CfnBucket) -> None:
    access_logs = AccessLogsBucket(stack, "AccessLogs")
    bucket.versioning_configuration = s3.CfnBucket.VersioningConfigurationProperty(status="Enabled")
    bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
        destination_bucket_name=access_logs.bucket.bucket_name, log_file_prefix="replication/"
    )
    access_logs.bucket.add_to_resource_policy(
        iam.PolicyStatement(
            sid="S3ServerAccessLogsPolicy",
            principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[access_logs.bucket.arn_for_objects("replication/*")],
            conditions={
                "ArnLike": {"aws:SourceArn": bucket.attr_arn},
                "StringEquals": {"aws:SourceAccount": stack.account},
            },
        )
    )


def _acknowledge_replication_bucket(bucket: s3.CfnBucket, region: str, pipelines_: list[AgentZoneStack]) -> None:
    for stack in pipelines_:
        # Seen from the pipeline's stack (another region), the L2 bucket has a generated physical name.
        l2_bucket = cast(s3.IBucket, bucket.node.scope)  # jsii types the scope as IConstruct
        name = stack.resolve(l2_bucket.bucket_name)
        if not isinstance(name, str):
            continue
        for policy in stack.node.find_all():
            if isinstance(policy, cdk.CfnResource) and policy.cfn_resource_type == "AWS::IAM::Policy":
                acknowledge(
                    policy,
                    f"AwsSolutions-IAM5[Resource::arn:aws:s3:::{name}/*]",
                    f"Artifacts copied to CodePipeline's replication bucket in {region} for the actions there.",
                )
    acknowledge_compliance(
        bucket, "S3BucketReplicationEnabled", "It is itself the replica CodePipeline needs in this region."
    )


class PlatformPipelineStack(AgentZoneStack):
    """The platform's pipeline: the central log archive, Organization, then dev -> staging -> prod, accounts in
    parallel per environment."""

    ROLE = "Pipeline"

    def __init__(
        self, scope: Construct, construct_id: str, *, target: StackTarget, lz: LandingZone, stages: StageStacks
    ) -> None:
        super().__init__(scope, construct_id, target=target, description="AgentZone platform pipeline (CDK Pipelines)")
        org = lz.organization
        self.delivery = DeliveryPipeline(
            self,
            "Delivery",
            delivery=delivery_settings(lz),
            name=naming.PLATFORM_PIPELINE,
            checks=CHECKS,
            artifact_bucket=self.secure_bucket("Artifacts").bucket,
        )
        pipeline = self.delivery.pipeline
        # The Bootstrap stack first (deployed by hand once, kept current from here), then the central log archive
        # the organization trail writes to (units.platform_dependencies).
        self.bootstrap = pipeline.add_stage(LandingZoneStage(self, "Bootstrap", build=_builds(stages.bootstrap, lz)))
        central = org.central_environment
        self.log_archive = pipeline.add_stage(
            LandingZoneStage(self, f"{central}-Logging", build=_builds(stages.platform, lz, central, "logging"))
        )
        self.organization = pipeline.add_stage(
            LandingZoneStage(self, "Organization", build=_builds(stages.organization, lz))
        )
        self.waves: dict[str, pipelines.Wave] = {}
        for env in org.environments:
            pre = (
                [pipelines.ManualApprovalStep(f"Approve-{env}", comment=f"Deploy the platform to {env}")]
                if env in org.approval_environments
                else []
            )
            wave = pipeline.add_wave(f"Platform-{env}", pre=pre)
            for role in stages.platform_roles:
                if (env, role) == (central, "logging"):
                    continue
                build = _builds(stages.platform, lz, env, role)
                wave.add_stage(LandingZoneStage(self, f"{env}-{naming.pascal(role)}", build=build))
            self.waves[env] = wave
        self.delivery.build()


def _builds(make: Callable[..., AgentZoneStack], *args: object) -> Callable[[Construct], list[AgentZoneStack]]:
    """A stage's build function: the one stack ``make(stage, *args)`` adds."""
    return lambda stage: [make(stage, *args)]


def _tenant_environment(
    stages: StageStacks, lz: LandingZone, tenant: Tenant, env: str
) -> Callable[[Construct], list[AgentZoneStack]]:
    """A tenant environment's stage: its share of shared services and the data lake, then its account (its runtimes
    pull images from the repositories its services stack creates; ``stages.tenant_environment`` orders them)."""
    return lambda stage: list(stages.tenant_environment(stage, lz, tenant, env).values())


def delivery_settings(lz: LandingZone) -> DeliverySettings:
    if lz.organization.delivery is None:
        raise ValueError("the pipelines need organization.yaml's delivery: section")
    return lz.organization.delivery


class TenantPipelineStack(AgentZoneStack):
    """One tenant's pipeline: governance, then each environment, gated before the approval environments."""

    ROLE = "TenantPipeline"
    PER_TENANT_IN_SHARED_ACCOUNT = True

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        target: StackTarget,
        tenant: Tenant,
        lz: LandingZone,
        stages: StageStacks,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            target=target,
            description=f"AgentZone pipeline of tenant {tenant.tenant}",
            tenant=tenant.tenant,
        )
        self.delivery = DeliveryPipeline(
            self,
            "Delivery",
            delivery=delivery_settings(lz),
            name=naming.tenant_pipeline_name(tenant.tenant),
            checks=["make validate", f'make synth ARGS="--tenant {tenant.tenant}"'],
            artifact_bucket=self.secure_bucket("Artifacts").bucket,
        )
        pipeline = self.delivery.pipeline
        pipeline.add_stage(LandingZoneStage(self, "Governance", build=_builds(stages.governance, lz, tenant)))
        envs = [env for env in lz.organization.environments if env in tenant.environments]
        self.steps: dict[str, dict[str, list[pipelines.Step]]] = {}
        for i, env in enumerate(envs):
            pre = self._gates(lz, tenant, env, previous=envs[i - 1] if i else None)
            post: list[pipelines.Step] = (
                [self._canary_watch(lz, tenant, env)] if canaries(lz, tenant.tenant, env) else []
            )
            build = _tenant_environment(stages, lz, tenant, env)
            pipeline.add_stage(LandingZoneStage(self, env, build=build), pre=pre, post=post)
            self.steps[env] = {"pre": pre, "post": post}
        self.delivery.build()

    def _gates(self, lz: LandingZone, tenant: Tenant, env: str, *, previous: str | None) -> list[pipelines.Step]:
        """Before an approval environment: the evaluation gate, then the HITL review, then the approval, in turn."""
        if env not in lz.organization.approval_environments:
            return []
        pre: list[pipelines.Step] = []
        if previous and tenant.blueprints.eval_pipeline is not None:
            pre.append(self._evaluation_gate(lz, tenant, previous, env))
        if tenant.blueprints.hitl is not None:
            approvers = ", ".join(tenant.blueprints.hitl.approvers)
            comment = f"HITL review of {tenant.tenant} before {env}: {approvers}"
            pre.append(pipelines.ManualApprovalStep(f"HitlReview-{env}", comment=comment))
        pre.append(pipelines.ManualApprovalStep(f"Approve-{env}", comment=f"Deploy {tenant.tenant} to {env}"))
        for earlier, later in itertools.pairwise(pre):
            later.add_step_dependency(earlier)
        return pre

    def _delivery_role_arn(self, tenant: Tenant, env: str) -> str:
        account = tenant.environments[env].account
        return f"arn:{self.partition}:iam::{account}:role/{naming.delivery_role_name(tenant.tenant)}"

    def _tenant_profile(self, tenant: Tenant, env: str) -> list[str]:
        """AWS CLI profile `tenant` for the step: the delivery role in the tenant's account of ``env``."""
        return [
            f"aws configure set profile.tenant.role_arn {self._delivery_role_arn(tenant, env)}",
            "aws configure set profile.tenant.credential_source EcsContainer",
        ]

    def _assume(self, tenant: Tenant, env: str) -> iam.PolicyStatement:
        return iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[self._delivery_role_arn(tenant, env)])

    def _evaluation_gate(self, lz: LandingZone, tenant: Tenant, evaluated_in: str, env: str) -> pipelines.CodeBuildStep:
        """Every agent's version bound for ``env`` must have passed evaluation in ``evaluated_in``."""
        region = lz.region_of(tenant.environments[evaluated_in])
        gates = [
            f".venv/bin/agentzone eval gate --tenant {tenant.tenant} --environment {evaluated_in} --agent {agent} "
            f"--version {max(runtime.releases[env].endpoints.values())} --profile tenant --region {region}"
            for agent, runtime in sorted(tenant.blueprints.runtime.items())
            if env in runtime.releases
        ]
        return pipelines.CodeBuildStep(
            f"EvaluationGate-{env}",
            input=self.delivery.source,
            commands=[*self._tenant_profile(tenant, evaluated_in), "make validate", *gates],
            role_policy_statements=[self._assume(tenant, evaluated_in)],
        )

    def _canary_watch(self, lz: LandingZone, tenant: Tenant, env: str) -> pipelines.CodeBuildStep:
        minutes = delivery_settings(lz).canary_watch_minutes
        region = lz.region_of(tenant.environments[env])
        return pipelines.CodeBuildStep(
            f"CanaryWatch-{env}",
            input=self.delivery.source,
            commands=[
                *self._tenant_profile(tenant, env),
                "make validate",
                f".venv/bin/agentzone release watch --tenant {tenant.tenant} --environment {env} --minutes {minutes} "
                f"--profile tenant --region {region}",
            ],
            role_policy_statements=[self._assume(tenant, env)],
            timeout=cdk.Duration.minutes(minutes + 30),
        )


def pipeline_stacks(app: Construct, lz: LandingZone, stages: StageStacks) -> list[AgentZoneStack]:
    """The platform's pipeline and one per tenant, in the delivery account (nothing without ``delivery:``)."""
    org = lz.organization
    account = org.delivery_account
    if org.delivery is None or account is None:
        return []
    region = org.delivery.region or org.home_region
    stacks: list[AgentZoneStack] = [
        PlatformPipelineStack(
            app,
            "AgentZone-Pipeline",
            lz=lz,
            stages=stages,
            target=StackTarget("delivery", account, region, org.platform.owner, org.platform.cost_center, "platform"),
        )
    ]
    for tenant in lz.tenants:
        stacks.append(
            TenantPipelineStack(
                app,
                naming.tenant_pipeline_stack(tenant.tenant),
                lz=lz,
                tenant=tenant,
                stages=stages,
                target=StackTarget("delivery", account, region, tenant.owner, tenant.cost_center, tenant.use_case_id),
            )
        )
    harden_support_stacks(app, stacks)  # the cross-region support stacks exist once the pipelines are built
    return stacks
