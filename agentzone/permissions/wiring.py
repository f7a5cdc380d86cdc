"""Cross-account wiring: every name one stack builds for a resource in another account must exist there.

Every string a stack deploys (policies, targets, environment variables, replication rules, ...) is
resolved; each ARN that points into another landing-zone account, and each S3 bucket the stack does not
create itself, must match a resource some stack creates in that account and region (exactly, by pattern,
or as a sub-resource such as an object key or an endpoint). Exports and SSM-typed parameters are resolved
the same way by the assembly reader; what it cannot resolve is reported here too.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from .assembly import Fragment, Resource, Stack, Unresolvable
from .decisions import DecisionStore
from .grant_cache import code_digest
from .model import LandingZoneModel
from .stack_inputs import stack_digests

ARN = re.compile(r"^arn:aws:([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):(.+)$")


def _arn_parts(target: str) -> tuple[str, str, str, str]:
    """(service, region, account, rest) of an ARN the check has already matched."""
    match = ARN.match(target)
    if match is None:
        raise ValueError(f"{target!r} is not an ARN")
    service, region, account, rest = match.groups()
    return service, region, account, rest


# Names other accounts use that no stack creates, by design (what AWS or bootstrap provides).
EXTERNAL = {
    "account root principal": re.compile(r"^arn:aws:iam::\d{12}:root$"),
    "CDK bootstrap resource": re.compile(
        r"^arn:aws:(iam::\d{12}:role/cdk-|s3:::cdk-|ssm:[^:]+:\d{12}:parameter/cdk-bootstrap/)"
    ),
    "AWS-managed or service-linked": re.compile(r"^arn:aws:iam::(aws:policy/|\d{12}:role/aws-service-role/)"),
    "foundation model or AWS-owned profile": re.compile(
        r"^arn:aws:bedrock:[^:]*:(\d{12})?:(foundation-model|inference-profile)/"
    ),
    "service-created log group": re.compile(r"^arn:aws:logs:[^:]+:\d{12}:log-group:(/aws/|aws/)"),
    "the organization (a RAM share's principal)": re.compile(
        r"^arn:aws:organizations::\d{12}:organization/o-[a-z0-9]+$"
    ),
    # The delivery pipelines are synthesized on their own (`agentzone synth --only pipelines`).
    "tenant delivery pipeline role": re.compile(r"^arn:aws:iam::\d{12}:role/AgentZone-[a-z0-9-]+-pipeline-\*$"),
}


@dataclass(frozen=True)
class Reference:
    stack: str
    logical_id: str
    path: str
    target: str


@dataclass(frozen=True)
class WiringProblem:
    reference: Reference
    message: str

    def render(self) -> str:
        r = self.reference
        return f"{r.stack}/{r.logical_id} {r.path}: {r.target}: {self.message}"


def _strings(value: Fragment, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")


def _names(target: str, arn: str) -> bool:
    """Whether ``target`` names the resource ``arn``: exactly, by pattern, as a sub-resource, or as a resource whose
    ARN ends in ``:*`` (a log group's) without it."""
    if arn == target or fnmatch.fnmatchcase(arn, target) or target.startswith((arn + "/", arn + ":")):
        return True
    return arn.endswith(":*") and (target == arn[:-2] or target.startswith(arn[:-2] + ":"))


class WiringCheck:
    def __init__(
        self, model: LandingZoneModel, accounts: set[str], config_values: set[str], store: DecisionStore | None = None
    ) -> None:
        self.model = model
        self.store = store  # earlier runs' resolved strings, by stack inputs (None: resolve every stack)
        self.accounts = accounts
        self.config_values = config_values  # values an operator wrote into config (adopted, not built)

    @cached_property
    def _by_account(self) -> dict[str, list[Resource]]:
        out: dict[str, list[Resource]] = {}
        for res in self.model.owners.values():
            out.setdefault(res.stack.account, []).append(res)
        return out

    @cached_property
    def _buckets(self) -> dict[str, Resource]:
        return {r.name: r for r in self.model.assembly.resources("AWS::S3::Bucket")}

    @cached_property
    def _deployed_strings(self) -> list[tuple[Stack, Resource, str, str]]:
        """(stack, resource, property path, value) of every ARN the stacks deploy, intrinsics resolved; with a store,
        a stack whose inputs (see permissions.stack_inputs) are unchanged gets its stored strings."""
        stacks = list(self.model.assembly.stacks.values())
        keys = stack_digests(self.model.assembly, f"wiring-1 {code_digest()}") if self.store else {}
        stored = self.store.get_many(list(keys.values())) if self.store else {}
        fresh: dict[str, dict[str, list[list[str]]]] = {}
        out: list[tuple[Stack, Resource, str, str]] = []
        for stack in stacks:
            key = keys.get(stack.name, "")
            rows = stored[key]["arns"] if key in stored else self._arns_of(stack)
            if key and key not in stored:
                fresh[key] = {"arns": rows}
            out += [(stack, stack.resources[logical_id], path, value) for logical_id, path, value in rows]
        if self.store and fresh:
            self.store.put_many(fresh)
        return out

    @staticmethod
    def _arns_of(stack: Stack) -> list[list[str]]:
        """[logical id, property path, value] of every ARN-shaped string the stack's resources deploy."""
        out = []
        for res in stack.resources.values():
            try:
                resolved = stack.resolve(res.properties)
            except (Unresolvable, KeyError):
                continue  # reported by the model's own problems
            out += [[res.logical_id, path, value] for path, value in _strings(resolved) if ARN.match(value)]
        return out

    @cached_property
    def references(self) -> list[Reference]:
        return [
            Reference(stack.name, res.logical_id, path, value)
            for stack, res, path, value in self._deployed_strings
            if self._crosses(stack, value)
        ]

    def _crosses(self, stack: Stack, value: str) -> bool:
        match = ARN.match(value)
        if match is None:
            return False
        service, _, account, rest = match.groups()
        if service == "s3" and not account:
            bucket = rest.split("/", 1)[0]
            owner = self._buckets.get(bucket)
            return "*" not in bucket and (owner is None or owner.stack is not stack)
        return account in self.accounts and account != stack.account

    def creators(self, target: str) -> set[str]:
        """The stacks that create what an ARN names: exactly, by pattern, or as a sub-resource (an object key, an
        endpoint); an S3 bucket ARN by the bucket's name."""
        return {stack.name for stack in self._creating(target)}

    def _creating(self, target: str) -> Iterator[Stack]:
        service, _region, account, rest = _arn_parts(target)
        if service == "s3" and not account:
            bucket = self._buckets.get(rest.split("/", 1)[0])
            yield from (bucket.stack,) if bucket is not None else ()
            return
        yield from (res.stack for res in self._by_account.get(account, []) if _names(target, res.arn))

    def _resolves(self, target: str) -> bool:
        return next(self._creating(target), None) is not None  # the first creator will do

    @staticmethod
    def external(target: str) -> bool:
        """A name no stack creates by design (account roots, bootstrap and AWS-managed resources, ...)."""
        return any(pattern.match(target) for pattern in EXTERNAL.values())

    def _adopted(self, target: str) -> str | None:
        """A value from config: only its account, region and resource type can be checked before deploy."""
        if target not in self.config_values:
            return None
        service, region, account, rest = _arn_parts(target)
        kind = rest.split("/", 1)[0]
        if any(
            r.arn.startswith(f"arn:aws:{service}:{region}:{account}:{kind}/") for r in self._by_account.get(account, [])
        ):
            return ""
        return f"config names it, but no stack creates a {service} {kind} in {account}/{region}"

    def nameless(self) -> list[WiringProblem]:
        """ARNs that end where the name should be: a name CloudFormation generates at deploy time, read at synth."""
        return [
            WiringProblem(
                Reference(stack.name, res.logical_id, path, value),
                "the ARN has no resource name (give the resource a fixed name)",
            )
            for stack, res, path, value in self._deployed_strings
            if ARN.match(value) and value.endswith((":", "/")) and not value.startswith("arn:aws:s3:::")
        ]

    def run(self) -> list[WiringProblem]:
        problems = [
            WiringProblem(Reference(p.where.split("/")[0], p.where.split("/", 1)[-1], "", ""), p.message)
            for p in self.model.problems
        ]
        problems += self.nameless()
        for ref in self.references:
            if self.external(ref.target):
                continue
            adopted = self._adopted(ref.target)
            if adopted == "" or (adopted is None and self._resolves(ref.target)):
                continue
            problems.append(WiringProblem(ref, adopted or self._explain(ref.target)))
        problems += self._regional_links()
        return problems

    def _explain(self, target: str) -> str:
        service, _region, account, rest = _arn_parts(target)
        if service == "s3" and not account:
            return f"no stack creates bucket {rest.split('/', 1)[0]}"
        stacks = sorted({r.stack.name for r in self._by_account.get(account, [])}) or ["(no stack)"]
        return f"no stack in {account} creates it; stacks there: {', '.join(stacks)}"

    def _regional_links(self) -> list[WiringProblem]:
        """CloudWatch cross-account observability is regional: a link must be in its sink's region."""
        out: list[WiringProblem] = []
        for link in self.model.assembly.resources("AWS::Oam::Link"):
            sink = str(link.stack.resolve(link.properties.get("SinkIdentifier", "")))
            match = ARN.match(sink)
            if match and match.group(2) != link.stack.region:
                out.append(
                    WiringProblem(
                        Reference(link.stack.name, link.logical_id, "SinkIdentifier", sink),
                        f"an OAM link in {link.stack.region} cannot reach a sink in {match.group(2)}",
                    )
                )
        return out
