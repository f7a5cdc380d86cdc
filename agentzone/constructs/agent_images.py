"""ECR repositories for agent images, pulled by tenant accounts across the organization."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from .ids import invalid_accounts, is_organization_id

# What `docker pull` / AgentCore Runtime need on the repository (ecr:GetAuthorizationToken
# has no resource type and is granted by the pulling account's own IAM policy).
PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
# What `docker push` needs on top of the pull actions.
PUSH_ACTIONS = ("ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart")


def _check_accounts(what: str, accounts: Sequence[str]) -> tuple[str, ...]:
    bad = invalid_accounts(accounts)
    if bad:
        raise ValueError(f"{what}: {bad} are not 12-digit AWS account ids")
    return tuple(sorted(set(accounts)))  # sorted: input order never changes the template


@dataclass(frozen=True)
class AgentImageRepositoryProps:
    """See :class:`AgentImageRepository` for what each prop does."""

    repository_name: str
    encryption_key: kms.IKey
    pull_accounts: Sequence[str]
    organization_id: str
    keep_tagged: int
    untagged_expire_days: int
    push_accounts: Sequence[str] = ()


def _lifecycle_rules(keep_tagged: int, untagged_expire_days: int) -> list[ecr.LifecycleRule]:
    # Priorities are explicit; no rule selects tagStatus=any, so the "any must be last" rule
    # of ECR lifecycle policies cannot be violated by adding one later at a lower number.
    return [
        ecr.LifecycleRule(
            rule_priority=1,
            description=f"Expire untagged images after {untagged_expire_days} days",
            tag_status=ecr.TagStatus.UNTAGGED,
            max_image_age=cdk.Duration.days(untagged_expire_days),
        ),
        ecr.LifecycleRule(
            rule_priority=2,
            description=f"Keep the newest {keep_tagged} tagged images",
            tag_status=ecr.TagStatus.TAGGED,
            tag_pattern_list=["*"],
            max_image_count=keep_tagged,
        ),
    ]


class AgentImageRepository(Construct):
    """One private ECR repository for a tenant's agent images.

    - tags are IMMUTABLE: a version tag names exactly one image forever, so the
      version an AgentCore Runtime endpoint pins cannot change under it;
    - basic scan on push (see :class:`RegistryScanning` for Inspector's enhanced,
      continuous scanning, an account-level setting);
    - encrypted with the given customer-managed key; retained on delete;
    - lifecycle: untagged images expire after ``untagged_expire_days``, only the
      newest ``keep_tagged`` tagged images are kept;
    - repository policy: ``pull_accounts`` (and ``push_accounts``) may pull,
      only ``push_accounts`` may push, each only as members of
      ``organization_id`` (``aws:PrincipalOrgID``). Nobody else: there is no
      statement for ``*``.

    The principals are account roots: an account's own IAM decides which of its
    roles may use the grant. An AgentCore Runtime pulls with its execution role,
    which needs ``ecr:BatchGetImage``/``ecr:GetDownloadUrlForLayer`` on this
    repository and ``ecr:GetAuthorizationToken`` in its own account.

    No key-policy statement is added for the pulling accounts: ECR creates KMS
    grants for itself when the repository is created and decrypts layers under
    those grants, so pullers (in this or another account) need no permission on
    the key (Amazon ECR User Guide, "Encryption at rest").
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: AgentImageRepositoryProps) -> None:
        super().__init__(scope, construct_id)
        if not is_organization_id(props.organization_id):
            raise ValueError(f"organization_id {props.organization_id!r} is not an AWS Organizations id (o-...)")
        if not 1 <= props.keep_tagged <= 10_000:
            raise ValueError(f"keep_tagged must be between 1 and 10000, got {props.keep_tagged}")
        if not 1 <= props.untagged_expire_days <= 3650:
            raise ValueError(f"untagged_expire_days must be between 1 and 3650, got {props.untagged_expire_days}")
        self.push_accounts = _check_accounts("push_accounts", props.push_accounts)
        # Whoever pushes also pulls (layer checks, multi-arch manifests).
        self.pull_accounts = _check_accounts("pull_accounts", [*props.pull_accounts, *props.push_accounts])
        self.organization_id = props.organization_id

        self.repository = ecr.Repository(
            self,
            "Repository",
            repository_name=props.repository_name,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            image_scan_on_push=True,
            encryption=ecr.RepositoryEncryption.KMS,
            encryption_key=props.encryption_key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            lifecycle_rules=_lifecycle_rules(props.keep_tagged, props.untagged_expire_days),
        )
        self._allow("PullFromOrganizationAccounts", self.pull_accounts, PULL_ACTIONS)
        self._allow("PushFromOrganizationAccounts", self.push_accounts, PUSH_ACTIONS)

    def _allow(self, sid: str, accounts: tuple[str, ...], actions: Sequence[str]) -> None:
        """A repository policy statement for these accounts' principals, as members of the organization only."""
        if not accounts:
            return
        self.repository.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[iam.AccountPrincipal(a) for a in accounts],
                actions=list(actions),
                conditions={"StringEquals": {"aws:PrincipalOrgID": self.organization_id}},
            )
        )

    @property
    def repository_name(self) -> str:
        return self.repository.repository_name

    @property
    def repository_arn(self) -> str:
        return self.repository.repository_arn

    @property
    def repository_uri(self) -> str:
        """``<account>.dkr.ecr.<region>.amazonaws.com/<name>``: what tenants put in their runtime config."""
        return self.repository.repository_uri

    def grant_pull(self, grantee: iam.IGrantable) -> iam.Grant:
        """Same-account principals (e.g. a CI role in this account); other accounts go through pull_accounts."""
        return self.repository.grant_pull(grantee)

    def grant_push(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.repository.grant_push(grantee)


class RegistryScanning(Construct):
    """Amazon Inspector enhanced scanning (continuous) for repositories matching ``repository_filters``.

    **Singleton per account and region**: ``AWS::ECR::RegistryScanningConfiguration``
    replaces the registry's whole scanning configuration, so create exactly one of
    these per account/region (in the stack that owns the account's registry
    settings); a second one in another stack would overwrite the first. Enhanced
    scanning needs Amazon Inspector activated for ECR in the account (billed by
    Inspector); with the scan type ENHANCED the repositories' own ``scanOnPush``
    (basic scanning) no longer applies to matching repositories.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repository_filters: Sequence[str] = ("agentzone/*",),
        continuous: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        if not repository_filters:
            raise ValueError("repository_filters: at least one wildcard filter, e.g. 'agentzone/*'")
        self.configuration = ecr.CfnRegistryScanningConfiguration(
            self,
            "Configuration",
            scan_type="ENHANCED",
            rules=[
                ecr.CfnRegistryScanningConfiguration.ScanningRuleProperty(
                    scan_frequency="CONTINUOUS_SCAN" if continuous else "SCAN_ON_PUSH",
                    repository_filters=[
                        ecr.CfnRegistryScanningConfiguration.RepositoryFilterProperty(filter=f, filter_type="WILDCARD")
                        for f in sorted(set(repository_filters))
                    ],
                )
            ],
        )
