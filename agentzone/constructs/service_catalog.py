"""Self-service vending, the construct half: product versions, names, and the launch side in tenant accounts.

- :class:`CatalogLaunchAccess` (the tenant's ``UseCaseStack``): the launch
  role ``agentzone-catalog-launch-<tenant>`` (trusted only by Service Catalog
  for launches in its own account, with exactly the permissions the offered
  products need), the permissions boundary every role a product creates must
  carry, and the account's catalog key, the CMK launched products encrypt with.
- :class:`ProductVersions`: product versions follow the library's releases:
  a product's provisioning artifact is named after the ``agentzone`` package
  version (:data:`LIBRARY_VERSION`); a release adds one while earlier ones
  stay launchable.

The portfolio and the products themselves (they build blueprints) are
:mod:`agentzone.blueprints.products`.
"""

from __future__ import annotations

import importlib.metadata
import re
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_servicecatalog as servicecatalog
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ..nag import acknowledge
from ..naming import PREFIX, launch_role_name, product_boundary_name
from ..project import PROJECT_ROOT
from .platform_resource import PlatformResourceProvider

PROVIDER = "AgentZone platform"
# Every resource a launched product creates carries this tag (value: the blueprint), so self-service
# resources are told apart from the ones the account's stack vends.
PRODUCT_TAG = f"{PREFIX}:catalog-product"
# SSM parameter (tenant accounts) holding the catalog key's ARN; product templates resolve it at launch.
KEY_PARAMETER = f"/{PREFIX}/catalog/product-key-arn"
KEY_ALIAS = f"alias/{PREFIX}/catalog-products"
# `cdk synth -c agentzone:release-products=true` writes and locks the current version's snapshots.
RELEASE_CONTEXT = f"{PREFIX}:release-products"
# Released snapshots: the repository's product-stack-snapshots/, or `-c agentzone:product-snapshots=<dir>`.
SNAPSHOT_DIR = PROJECT_ROOT / "product-stack-snapshots"
SNAPSHOT_DIR_CONTEXT = f"{PREFIX}:product-snapshots"
SNAPSHOT_SUFFIX = ".product.template.json"
# The products the launch role may create, by their PRODUCT_TAG value (the blueprint's registry name).
GUARDRAIL_PRODUCT = "guardrail"
MEMORY_PRODUCT = "memory"


def _library_version() -> str:
    try:
        return importlib.metadata.version(PREFIX)
    except importlib.metadata.PackageNotFoundError:  # a source checkout that was never installed
        text = (PROJECT_ROOT / "pyproject.toml").read_text()
        match = re.search(r'^version\s*=\s*"([^"]+)"', text, re.MULTILINE)
        if match is None:
            raise
        return match.group(1)


LIBRARY_VERSION = _library_version()


# ------------------------------------------------------------------ names


def portfolio_name(tenant: str, environment: str) -> str:
    return f"{PREFIX}-{tenant}-{environment}"


def provisioned_stack_pattern(account: str) -> str:
    """Service Catalog names the stack of a provisioned product ``SC-<account>-pp-<id>``.

    CloudFormation names the roles of that stack ``<stack name>-<logical id>-<suffix>``, so the same
    prefix scopes the roles a launch may create.
    """
    return f"SC-{account}-pp-*"


# ------------------------------------------------------------------ versions


@dataclass(frozen=True)
class ProductVersions:
    """A product's provisioning artifacts: the library's current version and every released one.

    ``ProductStackHistory`` writes the current template on every synth as
    ``<history id>.<product stack id>.<version>.product.template.json``.
    Outside a release that goes to ``<cdk.out>/product-stack-snapshots`` (a
    build output: no synth writes into the repository). Cutting a release:

    1. set the new version in ``pyproject.toml`` (``pip install -e .`` updates
       the installed metadata this module reads);
    2. synthesize every tenant with ``-c agentzone:release-products=true``: the
       snapshots of that version go to the committed ``product-stack-snapshots/``,
       locked: synthesizing that version again with a different template
       fails, so a released version never changes;
    3. commit the new snapshot files with the release.

    Every committed snapshot of another version stays an artifact of its
    product, so a launched product keeps updating on the version it has and
    moves to the new one when its team chooses. A change to a blueprint after a
    release goes out under the next version: bump the version first.
    """

    current: servicecatalog.CloudFormationProductVersion
    released: tuple[servicecatalog.CloudFormationProductVersion, ...]

    @property
    def all(self) -> list[servicecatalog.CloudFormationProductVersion]:
        return [*self.released, self.current]

    @classmethod
    def of(
        cls,
        scope: Construct,
        construct_id: str,
        *,
        product_stack: servicecatalog.ProductStack,
        summary: str,
        snapshots: Path = SNAPSHOT_DIR,
    ) -> ProductVersions:
        release = str(scope.node.try_get_context(RELEASE_CONTEXT) or "").lower() == "true"
        stage = cdk.Stage.of(scope)
        if stage is None:
            raise ValueError(f"{scope.node.path} is not in an app: product snapshots need its output directory")
        directory = snapshots if release else Path(stage.outdir) / "product-stack-snapshots"
        history = servicecatalog.ProductStackHistory(
            scope,
            construct_id,
            product_stack=product_stack,
            current_version_name=LIBRARY_VERSION,
            current_version_locked=release,
            directory=str(directory),
            description=f"{summary} (agentzone {LIBRARY_VERSION})",
        )
        prefix = f"{cdk.Names.unique_id(history)}.{product_stack.artifact_id}."
        released = []
        found = {
            path.name[len(prefix) : -len(SNAPSHOT_SUFFIX)]: path
            for path in snapshots.glob(f"{prefix}*{SNAPSHOT_SUFFIX}")
        }
        for version in sorted(found, key=_version_key):
            if version == LIBRARY_VERSION:
                continue  # the current version comes from the product stack itself
            released.append(
                servicecatalog.CloudFormationProductVersion(
                    cloud_formation_template=servicecatalog.CloudFormationTemplate.from_asset(str(found[version])),
                    product_version_name=version,
                    description=f"{summary} (agentzone {version})",
                )
            )
        return cls(current=history.current_version(), released=tuple(released))


def _version_key(version: str) -> tuple:
    """1.10.0 after 1.9.0; pre-release parts sort as text."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"[.+-]", version))


# ------------------------------------------------------------------ tenant-account side

# What CloudFormation does with the launch role on the provisioned product's stack.
STACK_ACTIONS = (
    "cloudformation:CancelUpdateStack",
    "cloudformation:ContinueUpdateRollback",
    "cloudformation:CreateChangeSet",
    "cloudformation:CreateStack",
    "cloudformation:DeleteChangeSet",
    "cloudformation:DeleteStack",
    "cloudformation:DescribeChangeSet",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStackResource",
    "cloudformation:DescribeStackResources",
    "cloudformation:DescribeStacks",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:GetTemplate",
    "cloudformation:ListChangeSets",
    "cloudformation:ListStackResources",
    "cloudformation:SetStackPolicy",
    "cloudformation:TagResource",
    "cloudformation:UntagResource",
    "cloudformation:UpdateStack",
)
# Template checks Service Catalog runs before a stack exists; they take no resource.
TEMPLATE_ACTIONS = ("cloudformation:GetTemplateSummary", "cloudformation:ValidateTemplate")
# The roles a product creates (the memory's service role), with the boundary conditions below.
ROLE_BOUNDED_ACTIONS = ("iam:CreateRole", "iam:DeleteRolePolicy", "iam:PutRolePolicy")
ROLE_ACTIONS = (
    "iam:DeleteRole",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:ListRolePolicies",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRoleDescription",
)
# Create actions authorize against no resource ARN (Resource "*" only): their own statements, bounded by the
# product tag every launched resource carries in its create request.
GUARDRAIL_CREATE_ACTIONS = ("bedrock:CreateGuardrail",)
MEMORY_CREATE_ACTIONS = ("bedrock-agentcore:CreateMemory",)
GUARDRAIL_ACTIONS = (
    "bedrock:CreateGuardrailVersion",
    "bedrock:DeleteGuardrail",
    "bedrock:GetGuardrail",
    "bedrock:ListTagsForResource",
    "bedrock:TagResource",
    "bedrock:UntagResource",
    "bedrock:UpdateGuardrail",
)
MEMORY_ACTIONS = (
    "bedrock-agentcore:DeleteMemory",
    "bedrock-agentcore:GetMemory",
    "bedrock-agentcore:ListTagsForResource",
    "bedrock-agentcore:TagResource",
    "bedrock-agentcore:UntagResource",
    "bedrock-agentcore:UpdateMemory",
)
# What Bedrock and AgentCore need on the catalog key to create CMK-encrypted guardrails and memories for the
# caller (plus kms:CreateGrant, for AWS resources only).
KEY_SERVICE_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
# What product roles may do at most (the boundary): use the catalog key, nothing else.
BOUNDARY_KEY_ACTIONS = (
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)


class CatalogLaunchAccess(Construct):
    """What the tenant's account needs to launch its portfolio's products.

    - ``key``: the catalog key, a rotating, retained CMK only launched
      products use (never the account's baseline key), with its ARN in the
      SSM parameter :data:`KEY_PARAMETER` the product templates resolve;
    - ``boundary``: :func:`product_boundary_name`, the permissions boundary of
      every role a product creates: it allows using the catalog key and
      nothing else;
    - ``role``: :func:`launch_role_name`, assumed only by Service Catalog for
      this account (``aws:SourceAccount``), allowed exactly what the offered
      products' stacks do (:meth:`_grant_products`). It may create only roles
      named after a provisioned product's stack, only with the boundary
      attached, and pass them only to AgentCore; it cannot create, change or
      delete keys, and uses only the catalog key, only through Bedrock or
      AgentCore.
    """

    def __init__(self, scope: Construct, construct_id: str, *, tenant: str) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.key = kms.Key(
            self,
            "Key",
            alias=KEY_ALIAS,
            description=f"AgentZone {tenant}: resources launched from the Service Catalog portfolio",
            enable_key_rotation=True,
            rotation_period=cdk.Duration.days(365),
            pending_window=cdk.Duration.days(30),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.key_parameter = ssm.StringParameter(
            self,
            "KeyArn",
            parameter_name=KEY_PARAMETER,
            string_value=self.key.key_arn,
            description="ARN of the CMK that AgentZone Service Catalog products encrypt with",
        )
        self.boundary = iam.ManagedPolicy(
            self,
            "ProductBoundary",
            managed_policy_name=product_boundary_name(tenant),
            description="Permissions boundary of every role an AgentZone Service Catalog product creates",
            statements=[
                iam.PolicyStatement(
                    sid="UseCatalogKey", actions=list(BOUNDARY_KEY_ACTIONS), resources=[self.key.key_arn]
                )
            ],
        )
        self.role = iam.Role(
            self,
            "Role",
            role_name=launch_role_name(tenant),
            description=f"Service Catalog launch role for AgentZone products of {tenant}",
            assumed_by=iam.ServicePrincipal(
                "servicecatalog.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            max_session_duration=cdk.Duration.hours(1),
        )
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            roles=[self.role],
            description="What launching, updating and terminating AgentZone Service Catalog products takes",
        )
        self._grant_products(stack)

    def _grant_products(self, stack: cdk.Stack) -> None:
        account, region, partition = stack.account, stack.region, stack.partition
        stacks = f"arn:{partition}:cloudformation:{region}:{account}:stack/{provisioned_stack_pattern(account)}/*"
        roles = f"arn:{partition}:iam::{account}:role/{provisioned_stack_pattern(account)}"
        guardrails = f"arn:{partition}:bedrock:{region}:{account}:guardrail/*"
        memories = f"arn:{partition}:bedrock-agentcore:{region}:{account}:memory/*"
        templates = f"arn:{partition}:s3:::*/*"
        self._grant_stacks_and_roles(stacks, templates, roles)
        self._grant_products_resources(guardrails, memories)
        self._grant_catalog_key(region)
        self._acknowledge(stacks, roles, guardrails, memories, templates)

    def _grant_stacks_and_roles(self, stacks: str, templates: str, roles: str) -> None:
        """The provisioned product's stack, its template, and the roles it creates (bounded, passed to AgentCore)."""
        bounded = {"StringEquals": {"iam:PermissionsBoundary": self.boundary.managed_policy_arn}}
        add = self.policy.add_statements
        add(iam.PolicyStatement(sid="ProvisionedProductStacks", actions=list(STACK_ACTIONS), resources=[stacks]))
        add(iam.PolicyStatement(sid="ValidateProductTemplates", actions=list(TEMPLATE_ACTIONS), resources=["*"]))
        add(
            iam.PolicyStatement(
                sid="ReadProductTemplates",
                actions=["s3:GetObject"],
                resources=[templates],
                conditions={"StringEquals": {"s3:ExistingObjectTag/servicecatalog:provisioning": "true"}},
            )
        )
        add(
            iam.PolicyStatement(
                sid="ProductRolesWithBoundary",
                actions=list(ROLE_BOUNDED_ACTIONS),
                resources=[roles],
                conditions=bounded,
            )
        )
        add(iam.PolicyStatement(sid="ProductRoles", actions=list(ROLE_ACTIONS), resources=[roles]))
        add(
            iam.PolicyStatement(
                sid="PassProductRolesToAgentCore",
                actions=["iam:PassRole"],
                resources=[roles],
                conditions={"StringEquals": {"iam:PassedToService": "bedrock-agentcore.amazonaws.com"}},
            )
        )

    def _grant_products_resources(self, guardrails: str, memories: str) -> None:
        """Guardrails and memories: created only with the product tag, then managed by id."""
        add = self.policy.add_statements
        add(
            iam.PolicyStatement(
                sid="CreateGuardrails",
                actions=list(GUARDRAIL_CREATE_ACTIONS),
                resources=["*"],
                conditions={"StringEquals": {f"aws:RequestTag/{PRODUCT_TAG}": GUARDRAIL_PRODUCT}},
            )
        )
        add(iam.PolicyStatement(sid="Guardrails", actions=list(GUARDRAIL_ACTIONS), resources=[guardrails]))
        add(
            iam.PolicyStatement(
                sid="CreateMemories",
                actions=list(MEMORY_CREATE_ACTIONS),
                resources=["*"],
                conditions={"StringEquals": {f"aws:RequestTag/{PRODUCT_TAG}": MEMORY_PRODUCT}},
            )
        )
        add(iam.PolicyStatement(sid="Memories", actions=list(MEMORY_ACTIONS), resources=[memories]))

    def _grant_catalog_key(self, region: str) -> None:
        """The catalog key, used only through Bedrock and AgentCore, and the parameter that names it."""
        add = self.policy.add_statements
        via_services = {
            "kms:ViaService": [f"bedrock.{region}.amazonaws.com", f"bedrock-agentcore.{region}.amazonaws.com"]
        }
        add(
            iam.PolicyStatement(
                sid="CatalogKeyThroughBedrock",
                actions=list(KEY_SERVICE_ACTIONS),
                resources=[self.key.key_arn],
                conditions={"StringEquals": via_services},
            )
        )
        add(
            iam.PolicyStatement(
                sid="CatalogKeyGrantsForBedrock",
                actions=["kms:CreateGrant"],
                resources=[self.key.key_arn],
                conditions={"StringEquals": via_services, "Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )
        add(iam.PolicyStatement(sid="DescribeCatalogKey", actions=["kms:DescribeKey"], resources=[self.key.key_arn]))
        add(
            iam.PolicyStatement(
                sid="ResolveCatalogKey",
                actions=["ssm:GetParameters", "ssm:GetParameter"],
                resources=[self.key_parameter.parameter_arn],
            )
        )

    def _acknowledge(self, stacks: str, roles: str, guardrails: str, memories: str, templates: str) -> None:
        reasons = {
            stacks: "Service Catalog names each provisioned product's stack SC-<account>-pp-<id> when a team launches "
            "it; the pattern is this account's provisioned-product stacks only.",
            roles: "CloudFormation names a launched stack's roles after the stack (SC-<account>-pp-<id>-...); creating "
            "them also requires the product permissions boundary, and they may only be passed to AgentCore.",
            guardrails: "Guardrail ids are assigned by Bedrock when a launch creates one; the statement covers this "
            "account's guardrails in this region and only guardrail actions.",
            memories: "Memory ids are assigned by AgentCore when a launch creates one; the statement covers this "
            "account's memories in this region and only memory actions.",
            templates: "Service Catalog keeps product templates in service-owned buckets whose names are not "
            "published; reads are limited to objects it tags servicecatalog:provisioning=true.",
            "*": "cloudformation:ValidateTemplate and GetTemplateSummary run on a template before any stack exists, "
            "and bedrock:CreateGuardrail and bedrock-agentcore:CreateMemory create a resource whose id is not yet "
            "assigned: none supports resource-level permissions. The create actions require the "
            "agentzone:catalog-product request tag the product templates set.",
        }
        for resource, reason in reasons.items():
            acknowledge(self.policy, f"AwsSolutions-IAM5[Resource::{_nag_resource(self, resource)}]", reason)


def _nag_resource(scope: Construct, arn: str) -> str:
    """An ARN as cdk-nag prints it in finding ids (the partition token as <AWS::Partition>)."""
    resolved = cdk.Stack.of(scope).resolve(arn)
    if isinstance(resolved, str):
        return resolved
    parts = resolved["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in parts)


class ImportedPortfolio(Construct):
    """The tenant account's side of its portfolio share: accepted (imported) by the stack, in the portfolio's
    region, and ``launchers`` (IAM role ARNs of this account) associated as the principals that may launch. The
    list is the whole list: a principal associated by hand is removed on the next deploy.

    Service Catalog has no CloudFormation type for accepting a share, and the portfolio may be in another region:
    a ``Custom::ImportedPortfolio`` does both.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        portfolio_id: str,
        portfolio_account: str,
        portfolio_region: str,
        launchers: list[str],
        provider: PlatformResourceProvider,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        # Any portfolio of the sharing account and region: the id may come from this provider's own custom resource
        # (read across regions), and naming it here would make the provider's policy wait for the provider.
        portfolio_arn = f"arn:{stack.partition}:catalog:{portfolio_region}:{portfolio_account}:portfolio/*"
        acknowledge(
            provider.policy,
            f"AwsSolutions-IAM5[Resource::{_nag_resource(self, portfolio_arn)}]",
            "This account can accept and manage only the portfolios shared with it, and the sharing account "
            "shares exactly one with it (the tenant's); the portfolio's id is read at deploy time.",
        )
        statements = [
            iam.PolicyStatement(
                actions=[
                    "servicecatalog:AcceptPortfolioShare",
                    "servicecatalog:AssociatePrincipalWithPortfolio",
                    "servicecatalog:DisassociatePrincipalFromPortfolio",
                    "servicecatalog:ListPrincipalsForPortfolio",
                ],
                resources=[portfolio_arn],
            )
        ]
        if launchers:
            statements.append(iam.PolicyStatement(actions=["iam:GetRole"], resources=launchers))
        self.resource = provider.resource(
            self,
            "Resource",
            resource_type="Custom::ImportedPortfolio",
            properties={"PortfolioId": portfolio_id, "Region": portfolio_region, "PrincipalArns": launchers},
            statements=statements,
        )


__all__ = [
    "KEY_PARAMETER",
    "LIBRARY_VERSION",
    "PRODUCT_TAG",
    "PROVIDER",
    "CatalogLaunchAccess",
    "ImportedPortfolio",
    "ProductVersions",
    "launch_role_name",
    "portfolio_name",
    "product_boundary_name",
    "provisioned_stack_pattern",
]
