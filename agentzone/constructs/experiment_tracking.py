"""Experiment tracking: SageMaker managed MLflow with a CMK-encrypted artifact bucket and per-tenant roles.

What SageMaker MLflow can and cannot isolate (Service Authorization Reference,
"Actions, resources, and condition keys for Amazon SageMaker with MLflow"):
the only resource type is ``mlflow-tracking-server`` and the only condition key
is ``aws:ResourceTag``, the *server's* tags. There is no experiment, run or
registered-model resource and no condition key on experiment names, so IAM
cannot keep one tenant out of another tenant's experiments on the same server.
The server has no resource policy either, which is why tenants reach it through
a role in this account.

Hence two modes:

- shared server (default): one server; each tenant's role can use the server
  (all its experiments, runs, models and traces are visible to and writable by
  every tenant with a role) and read/write S3 only under ``<tenant>/``. That
  keeps tenants' *direct* artifact access apart, nothing more; artifacts the
  server itself fetches for a caller (ListArtifacts, model download URIs) are
  read with the server's role. Tenants must name their experiments
  ``<tenant>/...`` and create them with ``artifact_location=s3://<bucket>/<tenant>/...``
  (docs/shared-components.md); that is a convention, not a control.
- ``dedicated_server_per_tenant=True``: one server per tenant, its artifact
  store ``s3://<bucket>/<tenant>/`` and its execution role limited to that
  prefix; each tenant role can use only its own server. This is real
  isolation, at the price of one tracking server (billed per hour, by size)
  per tenant and environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ..nag import acknowledge
from ..naming import MLFLOW_TRACKING_SERVER, tenant_mlflow_role_name
from ..patterns import SLUG_PATTERN
from .ids import invalid_accounts, is_organization_id
from .secure_bucket import AccessLogsBucket, SecureBucket

_TENANT = re.compile(SLUG_PATTERN)
_SERVER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
_WINDOW = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01]\d|2[0-3]):([0-5]\d)$")
_VERSION = re.compile(r"^\d+(\.\d+)+$")

# Every sagemaker-mlflow action that takes the mlflow-tracking-server resource
# (Service Authorization Reference, sagemaker-mlflow). AccessUI is not here: it
# has no resource type, see TenantMlflowRole.
MLFLOW_SERVER_ACTIONS = tuple(
    f"sagemaker-mlflow:{a}"
    for a in (
        "CreateExperiment",
        "CreateModelVersion",
        "CreateRegisteredModel",
        "CreateRun",
        "DeleteExperiment",
        "DeleteLoggedModel",
        "DeleteLoggedModelTag",
        "DeleteModelVersion",
        "DeleteModelVersionTag",
        "DeleteRegisteredModel",
        "DeleteRegisteredModelAlias",
        "DeleteRegisteredModelTag",
        "DeleteRun",
        "DeleteTag",
        "DeleteTraceTag",
        "DeleteTraces",
        "EndTrace",
        "FinalizeLoggedModel",
        "GetDownloadURIForModelVersionArtifacts",
        "GetExperiment",
        "GetExperimentByName",
        "GetLatestModelVersions",
        "GetLoggedModel",
        "GetMetricHistory",
        "GetModelVersion",
        "GetModelVersionByAlias",
        "GetRegisteredModel",
        "GetRun",
        "GetTraceInfo",
        "ListArtifacts",
        "ListLoggedModelArtifacts",
        "LogBatch",
        "LogInputs",
        "LogLoggedModelParams",
        "LogMetric",
        "LogModel",
        "LogOutputs",
        "LogParam",
        "RenameRegisteredModel",
        "RestoreExperiment",
        "RestoreRun",
        "SearchExperiments",
        "SearchLoggedModels",
        "SearchModelVersions",
        "SearchRegisteredModels",
        "SearchRuns",
        "SearchTraces",
        "SetExperimentTag",
        "SetLoggedModelTags",
        "SetModelVersionTag",
        "SetRegisteredModelAlias",
        "SetRegisteredModelTag",
        "SetTag",
        "SetTraceTag",
        "StartTrace",
        "TransitionModelVersionStage",
        "UpdateExperiment",
        "UpdateModelVersion",
        "UpdateRegisteredModel",
        "UpdateRun",
    )
)
# SageMaker API actions a tenant needs on its server: the presigned UI URL and the server's URL/status.
SAGEMAKER_SERVER_ACTIONS = (
    "sagemaker:CreatePresignedMlflowTrackingServerUrl",
    "sagemaker:DescribeMlflowTrackingServer",
)
OBJECT_ACTIONS = ("s3:DeleteObject", "s3:GetObject", "s3:PutObject")
KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


@dataclass(frozen=True)
class TrackingServer:
    """One tracking server with its execution role; ``tenants`` are the tenants that may use it."""

    server: sagemaker.CfnMlflowTrackingServer
    role: iam.Role
    artifact_prefix: str  # "" for the whole bucket, else "<tenant>/"
    tenants: tuple[str, ...]

    @property
    def arn(self) -> str:
        return self.server.attr_tracking_server_arn

    @property
    def name(self) -> str:
        return self.server.tracking_server_name


@dataclass(frozen=True)
class ExperimentTrackingProps:
    """``tenant_accounts``: tenant slug -> the accounts whose roots may assume its role (members of
    ``organization_id`` only). ``artifact_bucket``: bring your own (encrypted with ``encryption_key``);
    otherwise a SecureBucket is created, logging to ``access_logs`` (or to a new AccessLogsBucket).
    ``automatic_model_registration`` stays off: it would need SageMaker Model Registry write permissions on
    the server role, and registering is a deliberate step here."""

    encryption_key: kms.IKey
    tenant_accounts: Mapping[str, Sequence[str]]
    organization_id: str
    size: Literal["Small", "Medium", "Large"] = "Small"
    mlflow_version: str = "3.0"
    maintenance_window: str = "Sun:02:00"
    artifact_bucket: s3.IBucket | None = None
    access_logs: AccessLogsBucket | None = None
    tracking_server_name: str = MLFLOW_TRACKING_SERVER
    automatic_model_registration: bool = False
    dedicated_server_per_tenant: bool = False
    artifact_bucket_nag_arn: str | None = None  # how cdk-nag prints a given bucket's ARN (an imported one's)
    tenant_roles: bool = (
        True  # False: the caller creates each tenant's TenantMlflowAccess (server_for gives the server)
    )


class ExperimentTracking(Construct):
    """SageMaker managed MLflow for the tenants of one environment (see the module docstring for isolation).

    Creates (unless given) a CMK-encrypted :class:`SecureBucket` for artifacts,
    the tracking server(s) with a least-privilege execution role, and per tenant
    an IAM role ``agentzone-<tenant>-mlflow`` that only that tenant's accounts
    (account roots, and only as members of ``organization_id``) can assume.

    Attributes: ``artifact_bucket`` (s3.IBucket), ``servers`` (list of
    :class:`TrackingServer`), ``tenant_roles`` (tenant -> iam.Role),
    ``tracking_server_arn`` (shared mode), ``server_for(tenant)``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: ExperimentTrackingProps) -> None:
        super().__init__(scope, construct_id)
        problems = _problems(props)
        if problems:
            raise ValueError("ExperimentTracking: " + "; ".join(problems))
        self.encryption_key = props.encryption_key
        self.organization_id = props.organization_id
        self.artifact_bucket_nag_arn = props.artifact_bucket_nag_arn
        self.tenant_accounts = {t: tuple(sorted(set(a))) for t, a in sorted(props.tenant_accounts.items())}
        self.dedicated_server_per_tenant = props.dedicated_server_per_tenant

        artifact_bucket = props.artifact_bucket
        self._owns_bucket = artifact_bucket is None
        if artifact_bucket is None:
            logs = props.access_logs or AccessLogsBucket(self, "AccessLogs")
            artifact_bucket = SecureBucket(
                self, "Artifacts", encryption_key=props.encryption_key, access_logs=logs
            ).bucket
        self.artifact_bucket = artifact_bucket

        self.servers = self._servers(props)
        self.tenant_roles: dict[str, iam.Role] = {}
        for tenant, accounts in self.tenant_accounts.items() if props.tenant_roles else ():
            self.tenant_roles[tenant] = self._tenant_role(tenant, accounts, self.server_for(tenant))
        self._outputs()

    # ------------------------------------------------------------------ public

    @property
    def tracking_server_arn(self) -> str:
        """The shared server's ARN (shared mode only)."""
        if self.dedicated_server_per_tenant:
            raise AttributeError("dedicated_server_per_tenant: use server_for(tenant).arn")
        return self.servers[0].arn

    def server_for(self, tenant: str) -> TrackingServer:
        for srv in self.servers:
            if tenant in srv.tenants:
                return srv
        raise KeyError(f"no tracking server for tenant {tenant!r}; known: {', '.join(self.tenant_accounts)}")

    # ----------------------------------------------------------------- helpers

    def _servers(self, props: ExperimentTrackingProps) -> list[TrackingServer]:
        """One shared server, or one per tenant whose artifact store is the tenant's prefix."""
        common = dict(
            tracking_server_size=props.size,
            mlflow_version=props.mlflow_version,
            weekly_maintenance_window_start=props.maintenance_window,
            automatic_model_registration=props.automatic_model_registration,
        )
        name = props.tracking_server_name
        if props.dedicated_server_per_tenant:
            return [
                self._server(f"Server-{tenant}", f"{name}-{tenant}", f"{tenant}/", (tenant,), common)
                for tenant in self.tenant_accounts
            ]
        return [self._server("Server", name, "", tuple(self.tenant_accounts), common)]

    def _outputs(self) -> None:
        for srv in self.servers:
            suffix = f"-{srv.tenants[0]}" if self.dedicated_server_per_tenant else ""
            cdk.CfnOutput(
                self, f"TrackingServerArn{suffix}", value=srv.arn, description=f"MLflow tracking server {srv.name}"
            )
        if self._owns_bucket:  # a given bucket is its owner's to publish (cfn-lint W6001: no output of an import)
            cdk.CfnOutput(
                self, "ArtifactBucketName", value=self.artifact_bucket.bucket_name, description="MLflow artifact bucket"
            )

    def _bucket_ref(self) -> str:
        """How cdk-nag names the bucket's ARN in findings."""
        if self.artifact_bucket_nag_arn:
            return self.artifact_bucket_nag_arn
        child = self.artifact_bucket.node.default_child
        if isinstance(child, cdk.CfnResource):
            return f"<{cdk.Stack.of(self).get_logical_id(child)}.Arn>"
        return self.artifact_bucket.bucket_arn  # imported bucket: a literal ARN

    def _server(
        self, construct_id: str, name: str, prefix: str, tenants: tuple[str, ...], common: dict
    ) -> TrackingServer:
        stack = cdk.Stack.of(self)
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com").with_conditions(
                {"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description=f"MLflow tracking server {name}: artifact store s3://<bucket>/{prefix}",
        )
        policy = iam.ManagedPolicy(
            self,
            f"{construct_id}Policy",
            roles=[role],
            statements=artifact_statements(self, self.artifact_bucket, self.encryption_key, prefix),
        )
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{self._bucket_ref()}/{prefix}*]",
            f"The tracking server stores run artifacts as objects under s3://<artifact bucket>/{prefix}; object "
            "keys are chosen by MLflow at run time, so the grant is on that prefix of this one bucket.",
        )
        server = sagemaker.CfnMlflowTrackingServer(
            self,
            construct_id,
            tracking_server_name=name,
            artifact_store_uri=f"s3://{self.artifact_bucket.bucket_name}/{prefix}",
            role_arn=role.role_arn,
            **common,
        )
        server.node.add_dependency(policy)  # the role must be able to reach the bucket when the server starts
        return TrackingServer(server=server, role=role, artifact_prefix=prefix, tenants=tenants)

    def _tenant_role(self, tenant: str, accounts: tuple[str, ...], srv: TrackingServer) -> iam.Role:
        return TenantMlflowAccess(
            self,
            f"TenantRole-{tenant}",
            props=TenantMlflowAccessProps(
                tenant=tenant,
                accounts=accounts,
                organization_id=self.organization_id,
                server_arn=srv.arn,
                server_name=srv.name,
                artifact_bucket=self.artifact_bucket,
                encryption_key=self.encryption_key,
                bucket_nag_arn=self._bucket_ref(),
            ),
        ).role


def artifact_statements(scope: Construct, bucket: s3.IBucket, key: kms.IKey, prefix: str) -> list[iam.PolicyStatement]:
    """Object read/write under ``prefix`` ("" = whole bucket), listing limited to it, KMS through S3 only."""
    stack = cdk.Stack.of(scope)
    list_statement = iam.PolicyStatement(sid="ListArtifacts", actions=["s3:ListBucket"], resources=[bucket.bucket_arn])
    if prefix:
        list_statement.add_condition("StringLike", {"s3:prefix": [f"{prefix}*"]})
    return [
        iam.PolicyStatement(
            sid="ReadWriteArtifacts", actions=list(OBJECT_ACTIONS), resources=[bucket.arn_for_objects(f"{prefix}*")]
        ),
        list_statement,
        # GetBucketLocation carries no s3:prefix key: under ListArtifacts' prefix condition it would never match.
        iam.PolicyStatement(
            sid="LocateArtifactBucket", actions=["s3:GetBucketLocation"], resources=[bucket.bucket_arn]
        ),
        iam.PolicyStatement(
            sid="ArtifactKeyThroughS3",
            actions=list(KEY_ACTIONS),
            resources=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.{stack.url_suffix}"}},
        ),
    ]


@dataclass(frozen=True)
class TenantMlflowAccessProps:
    """``accounts``: the tenant's accounts whose roots may assume the role (members of ``organization_id`` only);
    ``bucket_nag_arn``: the artifact bucket's ARN as cdk-nag prints it in findings."""

    tenant: str
    accounts: Sequence[str]
    organization_id: str
    server_arn: str
    server_name: str
    artifact_bucket: s3.IBucket
    encryption_key: kms.IKey
    bucket_nag_arn: str


class TenantMlflowAccess(Construct):
    """The role ``agentzone-<tenant>-mlflow`` a tenant's accounts assume to use one tracking server, with artifacts
    under ``s3://<bucket>/<tenant>/`` only. Lives beside the server (same account), in any stack: the platform puts
    it in the tenant's services stack so the shared-services stack does not grow with tenants."""

    def __init__(self, scope: Construct, construct_id: str, *, props: TenantMlflowAccessProps) -> None:
        super().__init__(scope, construct_id)
        tenant, prefix = props.tenant, f"{props.tenant}/"
        org = {"StringEquals": {"aws:PrincipalOrgID": props.organization_id}}
        self.role = iam.Role(
            self,
            "Role",
            role_name=tenant_mlflow_role_name(tenant),
            assumed_by=iam.CompositePrincipal(
                *(iam.AccountPrincipal(a).with_conditions(org) for a in sorted(set(props.accounts)))
            ),
            max_session_duration=cdk.Duration.hours(4),
            description=f"{tenant}: use MLflow server {props.server_name}, artifacts under s3://<bucket>/{prefix} only",
        )
        prefix = f"{tenant}/"
        statements = [
            iam.PolicyStatement(
                sid="UseTrackingServer", actions=list(MLFLOW_SERVER_ACTIONS), resources=[props.server_arn]
            ),
            iam.PolicyStatement(
                sid="OpenTrackingServer", actions=list(SAGEMAKER_SERVER_ACTIONS), resources=[props.server_arn]
            ),
            # AccessUI has no resource type (SAR): it cannot name a server. The UI opens only through a
            # presigned URL, and those are granted above for this server alone.
            iam.PolicyStatement(sid="MlflowUi", actions=["sagemaker-mlflow:AccessUI"], resources=["*"]),
            *artifact_statements(self, props.artifact_bucket, props.encryption_key, prefix),
        ]
        policy = iam.ManagedPolicy(self, "Policy", roles=[self.role], statements=statements)
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "sagemaker-mlflow:AccessUI has no resource type in the Service Authorization Reference; a UI session "
            "needs a presigned URL, which this role can create for its own tracking server only.",
        )
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{props.bucket_nag_arn}/{prefix}*]",
            f"Objects under this tenant's own artifact prefix {prefix} only; other tenants' prefixes are not granted.",
        )


def _problems(props: ExperimentTrackingProps) -> list[str]:
    """Everything wrong with the props at once, in a fixed order."""
    problems = []
    if not is_organization_id(props.organization_id):
        problems.append(f"organization_id {props.organization_id!r} is not an AWS Organizations id (o-...)")
    if props.size not in ("Small", "Medium", "Large"):
        problems.append(f"size {props.size!r}: valid sizes are Small, Medium, Large")
    if not _VERSION.match(props.mlflow_version):
        problems.append(f"mlflow_version {props.mlflow_version!r} is not a version like 3.0")
    if not _WINDOW.match(props.maintenance_window):
        problems.append(f"maintenance_window {props.maintenance_window!r} is not like Sun:02:00 (UTC)")
    if not _SERVER_NAME.match(props.tracking_server_name):
        problems.append(f"tracking_server_name {props.tracking_server_name!r}: letters, digits and hyphens only")
    return problems + _tenant_problems(props.tenant_accounts)


def _tenant_problems(tenant_accounts: Mapping[str, Sequence[str]]) -> list[str]:
    problems = []
    for tenant, accounts in tenant_accounts.items():
        if not _TENANT.match(tenant):
            problems.append(f"tenant {tenant!r} is not a slug")
        if not accounts:
            problems.append(f"tenant {tenant!r}: no accounts")
        bad = invalid_accounts(accounts)
        if bad:
            problems.append(f"tenant {tenant!r}: {bad} are not 12-digit account ids")
    owners: dict[str, str] = {}
    for tenant, accounts in tenant_accounts.items():
        for a in accounts:
            if owners.setdefault(a, tenant) != tenant:
                problems.append(f"account {a} is listed for both {owners[a]} and {tenant}")
    return problems
