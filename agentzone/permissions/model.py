"""Who can do what, read from the assembly: roles with their policies, the SCP chain of every account,
and the resource and key policies that guard resources."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .assembly import ARN_FORMAT, Assembly, Fragment, Resource, Stack, Unresolvable

# An IAM policy document (or one statement of it), as JSON.
Document = dict[str, Any]

FULL_AWS_ACCESS: Document = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}

# Resource types whose policy property guards another resource (policy property, the guarded resource's property).
RESOURCE_POLICY_TYPES = {
    "AWS::S3::BucketPolicy": ("PolicyDocument", "Bucket"),
    "AWS::SNS::TopicPolicy": ("PolicyDocument", "Topics"),
    "AWS::SecretsManager::ResourcePolicy": ("ResourcePolicy", "SecretId"),
}
# What RAM's default managed permission lets a share's principals do, by "service:resource type" of the shared ARN.
RAM_SHARED_ACTIONS = {"ssm:parameter": ["ssm:GetParameter", "ssm:GetParameters"]}
# What the account a portfolio is shared with may do with it: import it and choose who of its own may launch.
PORTFOLIO_SHARE_ACTIONS = [
    "servicecatalog:AcceptPortfolioShare",
    "servicecatalog:AssociatePrincipalWithPortfolio",
    "servicecatalog:DescribePortfolio",
    "servicecatalog:DisassociatePrincipalFromPortfolio",
    "servicecatalog:ListPrincipalsForPortfolio",
]
# Resource types that carry their own policy.
INLINE_POLICY_TYPES = {
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::ECR::Repository": "RepositoryPolicyText",
    "AWS::Oam::Sink": "Policy",
    "AWS::Events::EventBus": "Policy",
}


def statements(document: Document) -> list[Document]:
    found = document.get("Statement", [])
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass
class Policy:
    """A resolved policy document, named after the resource that defines it (``Stack/LogicalId``)."""

    name: str
    document: Document


@dataclass(eq=False)
class Principal:
    """An IAM role and everything attached to it."""

    resource: Resource
    policies: list[Policy] = field(default_factory=list)
    boundary: Policy | None = None
    external_policies: list[str] = field(default_factory=list)  # AWS managed policies (not simulated)

    @property
    def arn(self) -> str:
        return self.resource.arn

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def account(self) -> str:
        return self.resource.stack.account

    @property
    def region(self) -> str:
        return self.resource.stack.region

    @property
    def stack(self) -> Stack:
        return self.resource.stack

    @property
    def label(self) -> str:
        return f"{self.stack.name}/{self.resource.logical_id}"


@dataclass
class Problem:
    """Something the check could not read (an unresolvable intrinsic); reported, never guessed."""

    where: str
    message: str


class LandingZoneModel:
    """Principals, SCP chains and resource policies of a whole assembly."""

    def __init__(self, assembly: Assembly) -> None:
        self.assembly = assembly
        self.problems: list[Problem] = []

    def _resolve(self, stack: Stack, value: Fragment, where: str) -> Fragment:
        try:
            return stack.resolve(value)
        except (Unresolvable, KeyError) as exc:
            self.problems.append(Problem(where, f"cannot resolve {exc}"))
            return None

    @cached_property
    def managed_policies(self) -> dict[str, Resource]:
        return {r.arn: r for r in self.assembly.resources("AWS::IAM::ManagedPolicy")}

    @cached_property
    def principals(self) -> dict[str, Principal]:
        """Role ARN -> principal, with inline, stand-alone and managed policies attached."""
        out = {r.arn: Principal(r) for r in self.assembly.resources("AWS::IAM::Role")}
        by_name = {(p.account, p.name): p for p in out.values()}
        for role in out.values():
            self._attach_role_properties(role)
        for res in self.assembly.resources("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            if res.type == "AWS::IAM::ManagedPolicy" and "Roles" not in res.properties:
                continue
            document = self._resolve(res.stack, res.properties["PolicyDocument"], f"{res.stack.name}/{res.logical_id}")
            for role_name in self._resolve(res.stack, res.properties.get("Roles", []), res.logical_id) or []:
                attached = by_name.get((res.stack.account, role_name))
                if attached is not None and document is not None:
                    attached.policies.append(Policy(f"{res.stack.name}/{res.logical_id}", document))
        return out

    def _attach_role_properties(self, role: Principal) -> None:
        res, where = role.resource, role.label
        for inline in res.properties.get("Policies", []):
            document = self._resolve(res.stack, inline["PolicyDocument"], where)
            if document is not None:
                role.policies.append(Policy(f"{where}/{inline['PolicyName']}", document))
        for arn in self._resolve(res.stack, res.properties.get("ManagedPolicyArns", []), where) or []:
            managed = self.managed_policies.get(arn)
            if managed is None:
                role.external_policies.append(arn)
                continue
            document = self._resolve(managed.stack, managed.properties["PolicyDocument"], where)
            if document is not None:
                role.policies.append(Policy(f"{managed.stack.name}/{managed.logical_id}", document))
        if "PermissionsBoundary" in res.properties:
            arn = self._resolve(res.stack, res.properties["PermissionsBoundary"], where)
            managed = self.managed_policies.get(arn)
            if managed is None:
                self.problems.append(Problem(where, f"permission boundary {arn} is not in the assembly"))
            else:
                role.boundary = Policy(
                    f"{managed.stack.name}/{managed.logical_id}",
                    self._resolve(managed.stack, managed.properties["PolicyDocument"], where),
                )

    # --- organization: OU tree, account placement and SCPs -------------------------------------------

    @cached_property
    def _parents(self) -> dict[str, str]:
        """OU id or account id -> parent id, from the OUs and account placements the stacks create."""
        parents = {}
        for ou in self.assembly.resources("AWS::Organizations::OrganizationalUnit"):
            parents[ou.ref()] = self._resolve(ou.stack, ou.properties["ParentId"], ou.logical_id)
        for placement in self.assembly.resources("Custom::AccountPlacement"):
            account = self._resolve(placement.stack, placement.properties["AccountId"], placement.logical_id)
            parents[account] = self._resolve(placement.stack, placement.properties["ParentId"], placement.logical_id)
        return parents

    @cached_property
    def _scps_by_target(self) -> dict[str, list[Policy]]:
        out: dict[str, list[Policy]] = {}
        for res in self.assembly.resources("AWS::Organizations::Policy"):
            if res.properties.get("Type") != "SERVICE_CONTROL_POLICY":
                continue
            content = self._resolve(res.stack, res.properties["Content"], res.logical_id)
            content = json.loads(content) if isinstance(content, str) else content
            policy = Policy(f"{res.stack.name}/{res.logical_id} ({res.name})", content)
            for target in self._resolve(res.stack, res.properties.get("TargetIds", []), res.logical_id) or []:
                out.setdefault(target, []).append(policy)
        return out

    def scp_chain(self, account: str) -> list[tuple[str, list[Policy]]]:
        """Root first, the account last; FullAWSAccess stays attached at every level (AWS's default).

        An account the landing zone does not place (the management account) gets no SCPs: they never apply to it.
        """
        if account not in self._parents:
            return []
        chain: list[str] = []
        node: str | None = account
        while node is not None:
            chain.append(node)
            node = self._parents.get(node)
        full = Policy("FullAWSAccess", FULL_AWS_ACCESS)
        return [(level, [full, *self._scps_by_target.get(level, [])]) for level in reversed(chain)]

    # --- resource policies ---------------------------------------------------------------------------

    @cached_property
    def resource_policies(self) -> dict[str, Policy]:
        """Guarded resource ARN -> its resource (or key) policy."""
        out: dict[str, Policy] = {}
        for res in self.assembly.resources(*RESOURCE_POLICY_TYPES):
            prop, target = RESOURCE_POLICY_TYPES[res.type]
            document = self._resolve(res.stack, res.properties[prop], res.logical_id)
            for ref in as_list(self._resolve(res.stack, res.properties[target], res.logical_id)):
                arn = f"arn:aws:s3:::{ref}" if res.type == "AWS::S3::BucketPolicy" else ref
                out[arn] = Policy(f"{res.stack.name}/{res.logical_id}", document)
        self._event_bus_policies(out)
        self._ram_share_policies(out)
        self._portfolio_share_policies(out)
        for res in self.assembly.resources(*INLINE_POLICY_TYPES):
            prop = INLINE_POLICY_TYPES[res.type]
            if prop in res.properties:
                out[res.arn] = Policy(
                    f"{res.stack.name}/{res.logical_id}", self._resolve(res.stack, res.properties[prop], res.logical_id)
                )
        return out

    def _event_bus_policies(self, out: dict[str, Policy]) -> None:
        """EventBusPolicy resources each add one statement to their bus's policy."""
        for res in self.assembly.resources("AWS::Events::EventBusPolicy"):
            bus_name = self._resolve(res.stack, res.properties.get("EventBusName", "default"), res.logical_id)
            arn = f"arn:aws:events:{res.stack.region}:{res.stack.account}:event-bus/{bus_name}"
            statement = self._resolve(res.stack, res.properties["Statement"], res.logical_id)
            empty = {"Version": "2012-10-17", "Statement": []}
            out.setdefault(arn, Policy(f"{res.stack.name}/{res.logical_id}", empty)).document["Statement"].append(
                statement
            )

    def _ram_share_policies(self, out: dict[str, Policy]) -> None:
        """A RAM share acts as a resource policy: its managed permission's read actions for its principals (an
        organization: any principal of it; an account: that account)."""
        for res in self.assembly.resources("AWS::RAM::ResourceShare"):
            principals = as_list(self._resolve(res.stack, res.properties.get("Principals", []), res.logical_id))
            for arn in as_list(self._resolve(res.stack, res.properties.get("ResourceArns", []), res.logical_id)):
                parts = arn.split(":", 5)
                actions = RAM_SHARED_ACTIONS.get(f"{parts[2]}:{parts[5].split('/')[0]}")
                if actions is None:
                    continue
                statements_ = [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": actions,
                        "Resource": arn,
                        "Condition": {"StringEquals": {"aws:PrincipalOrgID": p.rsplit("/", 1)[-1]}},
                    }
                    if ":organization/" in p
                    else {"Effect": "Allow", "Principal": {"AWS": p}, "Action": actions, "Resource": arn}
                    for p in principals
                ]
                out[arn] = Policy(
                    f"{res.stack.name}/{res.logical_id}", {"Version": "2012-10-17", "Statement": statements_}
                )

    def _portfolio_share_policies(self, out: dict[str, Policy]) -> None:
        """A portfolio shared with an account lets that account import it and manage its own principals for it."""
        for res in self.assembly.resources("AWS::ServiceCatalog::PortfolioShare"):
            portfolio = self._resolve(res.stack, res.properties["PortfolioId"], res.logical_id)
            account = self._resolve(res.stack, res.properties["AccountId"], res.logical_id)
            arn = f"arn:aws:catalog:{res.stack.region}:{res.stack.account}:portfolio/{portfolio}"
            statement = {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": PORTFOLIO_SHARE_ACTIONS,
                "Resource": arn,
            }
            out[arn] = Policy(f"{res.stack.name}/{res.logical_id}", {"Version": "2012-10-17", "Statement": [statement]})

    @cached_property
    def owners(self) -> dict[str, Resource]:
        """Resource ARN -> the resource (every resource the assembly creates, by its deployed ARN)."""
        return {
            r.arn: r
            for stack in self.assembly.stacks.values()
            for r in stack.resources.values()
            if r.type in ARN_FORMAT
        }

    @cached_property
    def _arns_by_account(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for arn, res in self.owners.items():
            out.setdefault(res.stack.account, []).append(arn)
        return out

    def arns_in(self, account: str) -> list[str]:
        return self._arns_by_account.get(account, [])

    def guarding(self, resource_arn: str) -> tuple[Policy | None, str | None]:
        """The resource (or key) policy that guards an ARN and the account that owns it, when the assembly creates it.

        An object ARN (``arn:aws:s3:::bucket/key``) is guarded by its bucket's policy.
        """
        arn = resource_arn
        if arn.startswith("arn:aws:s3:::"):
            arn = arn.split("/", 1)[0]
        owner = self.owners.get(arn)
        if owner is None:
            return None, None
        return self.resource_policies.get(arn), owner.stack.account
