"""boto3 library over the model and component catalog tables.

Versions are immutable: registration is a conditional write, and re-registering
a version succeeds only with identical content. State changes are conditional
updates on the current state, so two reviewers cannot race each other. Tables
may be given by name or by ARN (tenant accounts read cross-account by ARN).
"""

from __future__ import annotations

import builtins
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from .. import naming
from .spec import EntrySpec, next_patch, spec_problems, version_key
from .tables import (
    KINDS,
    PARTITION_KEY,
    SORT_KEY,
    STATE_INDEX,
    STATE_INDEX_PARTITION_KEY,
    STATES,
    TABLE_NAMES,
    catalog_of,
    partition_key,
)


class CatalogError(Exception):
    """The catalog refused the operation (immutability, lineage, state); the CLI exits 1."""


class InvalidRequest(CatalogError):
    """The request itself is wrong (bad reference, date or spec); the CLI exits 2."""


class NotFound(CatalogError):
    pass


class ImmutableVersion(CatalogError):
    pass


class IllegalTransition(CatalogError):
    pass


class LineageError(CatalogError):
    pass


_REF = re.compile(r"^(?:(?P<kind>[a-z-]+)/)?(?P<name>[^@/\s]+)@(?P<version>\S+)$")


@dataclass(frozen=True)
class Ref:
    """``[kind/]name@version``; without a kind the catalog looks the name up in every kind."""

    name: str
    version: str
    kind: str | None = None

    @classmethod
    def parse(cls, text: str | Ref) -> Ref:
        if isinstance(text, Ref):
            return text
        match = _REF.match(text.strip())
        if not match:
            raise InvalidRequest(
                f"{text!r} is not a catalog reference; write NAME@VERSION or KIND/NAME@VERSION, "
                "e.g. tool/claims-lookup@1.2.0"
            )
        kind = match["kind"]
        if kind is not None and kind not in KINDS:
            raise InvalidRequest(f"{text!r}: unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}")
        return cls(match["name"], match["version"], kind)

    def __str__(self) -> str:
        return f"{self.kind + '/' if self.kind else ''}{self.name}@{self.version}"

    @property
    def known_kind(self) -> str:
        """The kind of a reference that must name one (lineage references always do)."""
        if self.kind is None:
            raise InvalidRequest(f"{self} names no kind; write KIND/NAME@VERSION")
        return self.kind


@dataclass(frozen=True)
class Entry:
    """One stored version, as read back from a catalog table."""

    kind: str
    name: str
    version: str
    state: str
    content_hash: str
    spec: dict[str, Any]
    registered_by: str
    registered_at: str
    approved_by: str | None = None
    approved_at: str | None = None
    deprecation: dict[str, Any] | None = None
    lineage: tuple[str, ...] = ()
    history: tuple[dict[str, Any], ...] = field(default=())

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}@{self.version}"

    @property
    def end_of_life(self) -> str:
        """Effective end of life: a deprecation can bring the registered one forward."""
        if self.deprecation:
            return str(self.deprecation["end_of_life"])
        return str(self.spec["lifecycle"]["end_of_life"])

    @property
    def submitted_by(self) -> str | None:
        submits = [e["by"] for e in self.history if e.get("action") == "submit"]
        return submits[-1] if submits else None

    def lineage_refs(self) -> list[Ref]:
        return [Ref(r["name"], r["version"], r["kind"]) for r in self.spec.get("lineage", [])]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "kind": self.kind,
            "name": self.name,
            "version": self.version,
            "state": self.state,
            "owner": self.spec.get("owner"),
            "end_of_life": self.end_of_life,
            "content_hash": self.content_hash,
            "registered_by": self.registered_by,
            "registered_at": self.registered_at,
            "approved_by": self.approved_by,
            "approved_at": self.approved_at,
            "deprecation": self.deprecation,
            "lineage": list(self.lineage),
            "history": list(self.history),
            "spec": self.spec,
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Entry:
        data = {k: _DESERIALIZER.deserialize(v) for k, v in item.items()}
        return cls(
            kind=data["kind"],
            name=data["name"],
            version=data[SORT_KEY],
            state=data["state"],
            content_hash=data["content_hash"],
            spec=json.loads(data["spec"]),
            registered_by=data["registered_by"],
            registered_at=data["registered_at"],
            approved_by=data.get("approved_by"),
            approved_at=data.get("approved_at"),
            deprecation=data.get("deprecation"),
            lineage=tuple(data.get("lineage", [])),
            history=tuple(data.get("history", [])),
        )


@dataclass(frozen=True)
class Registered:
    entry: Entry
    created: bool  # False: the same content was already registered (idempotent no-op)


_SERIALIZER, _DESERIALIZER = TypeSerializer(), TypeDeserializer()
_CONDITION_FAILED = {"ConditionalCheckFailedException", "TransactionCanceledException"}

# action -> (states it may start from, state it leads to)
_TRANSITIONS = {
    "submit": (("draft",), "pending"),
    "approve": (("pending",), "approved"),
    "reject": (("pending",), "draft"),
    "deprecate": (("draft", "pending", "approved"), "deprecated"),
}
_REFUSALS = {
    ("submit", "pending"): "is already pending approval",
    ("submit", "approved"): "is already approved",
    ("submit", "deprecated"): "is deprecated; register a new version instead",
    ("approve", "draft"): "is draft; submit it before approving",
    ("approve", "approved"): "is already approved",
    ("approve", "deprecated"): "is deprecated; deprecated versions cannot be approved",
    ("reject", "draft"): "is draft; only pending entries can be rejected",
    ("reject", "approved"): "is approved; deprecate it instead of rejecting it",
    ("reject", "deprecated"): "is deprecated; only pending entries can be rejected",
    ("deprecate", "deprecated"): "is already deprecated (end of life {eol})",
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _SERIALIZER.serialize(v) for k, v in values.items() if v is not None}


def _region_of(table: str) -> str | None:
    parts = table.split(":")
    return parts[3] if table.startswith("arn:") and len(parts) > 5 else None


def partition_of(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _condition_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in _CONDITION_FAILED


class Catalog:
    """Register, read and move catalog entries through draft -> pending -> approved (-> deprecated)."""

    def __init__(
        self,
        model_table: str = naming.MODEL_CATALOG_TABLE,
        component_table: str = naming.COMPONENT_CATALOG_TABLE,
        *,
        session: boto3.Session | None = None,
        region: str | None = None,
    ) -> None:
        regions = {r for r in (_region_of(model_table), _region_of(component_table), region) if r}
        if len(regions) > 1:
            raise InvalidRequest(
                f"the catalog tables and the client must be in one region (got {', '.join(sorted(regions))})"
            )
        region = next(iter(regions), None)
        session = session or boto3.Session()
        self.tables = {"model": model_table, "component": component_table}
        self._session, self._region = session, region
        self._ddb = session.client("dynamodb", region_name=region)
        self._identity: str | None = None

    @classmethod
    def for_account(cls, account: str, region: str, *, session: boto3.Session | None = None) -> Catalog:
        """The catalogs of one shared-services account, by ARN (works from tenant accounts too)."""
        partition = partition_of(region)
        arns = [naming.catalog_table_arn(TABLE_NAMES[c], account, region, partition) for c in ("model", "component")]
        return cls(*arns, session=session, region=region)

    # ------------------------------------------------------------- reading

    def get(self, ref: str | Ref) -> Entry:
        """One version; a reference without a kind must match exactly one kind."""
        ref = Ref.parse(ref)
        kinds = [ref.kind] if ref.kind else list(KINDS)
        found = [e for e in (self._get(k, ref.name, ref.version) for k in kinds) if e is not None]
        if not found:
            where = f"the {catalog_of(ref.kind)} catalog" if ref.kind else "the catalogs"
            raise NotFound(f"{ref} is not in {where}")
        if len(found) > 1:
            raise InvalidRequest(f"{ref} is ambiguous ({', '.join(e.ref for e in found)}); write KIND/NAME@VERSION")
        return found[0]

    def list(self, *, kind: str | None = None, name: str | None = None, state: str | None = None) -> list[Entry]:
        """Entries sorted by kind, name and semantic version; the state index serves --state queries."""
        if kind is not None and kind not in KINDS:
            raise InvalidRequest(f"unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}")
        if state is not None and state not in STATES:
            raise InvalidRequest(f"unknown state {state!r}; valid states: {', '.join(STATES)}")
        catalogs = [catalog_of(kind)] if kind else ["model", "component"]
        entries = [Entry.from_item(item) for c in catalogs for item in self._read(self.tables[c], kind, name, state)]
        return sorted(entries, key=lambda e: (KINDS.index(e.kind), e.name, version_key(e.version)))

    # `list` below is the method above: annotations in this class name the builtin as builtins.list.
    def dependents(self, ref: str | Ref) -> builtins.list[Entry]:
        """Versions whose lineage names this one (e.g. which applications use a model)."""
        target = self.get(ref).ref
        out = []
        for table in self.tables.values():
            pages = self._ddb.get_paginator("scan").paginate(
                TableName=table,
                FilterExpression="contains(#lineage, :ref)",
                ExpressionAttributeNames={"#lineage": "lineage"},
                ExpressionAttributeValues={":ref": {"S": target}},
            )
            out += [Entry.from_item(item) for page in pages for item in page.get("Items", [])]
        return sorted(out, key=lambda e: (KINDS.index(e.kind), e.name, version_key(e.version)))

    # ------------------------------------------------------------- writing

    def register(self, spec: EntrySpec, *, today: date | None = None) -> Registered:
        """Write a new draft version; the same content again is a no-op, different content is refused."""
        problems = spec_problems(spec, today)
        if problems:
            raise InvalidRequest(f"{spec}: " + "; ".join(problems))
        digest = spec.content_hash()
        existing = self._get(spec.kind, spec.name, spec.version)
        if existing is not None:
            return self._same_or_refuse(existing, spec, digest)
        lineage = [Ref(r.name, r.version, r.kind) for r in spec.lineage]
        self._check_lineage(spec, lineage, need="registered")
        who, now = self.identity(), _now()
        values = {
            PARTITION_KEY: partition_key(spec.kind, spec.name),
            SORT_KEY: spec.version,
            "kind": spec.kind,
            "name": spec.name,
            "state": "draft",
            "content_hash": digest,
            "spec": spec.model_dump_json(),
            "owner": spec.owner,
            "consumption": spec.consumption,
            "end_of_life": spec.lifecycle.end_of_life.isoformat(),
            "lineage": [str(r) for r in spec.lineage],
            "registered_by": who,
            "registered_at": now,
            "updated_at": now,
            "history": [{"action": "register", "to": "draft", "by": who, "at": now}],
        }
        put: dict[str, Any] = {
            "TableName": self._table(spec.kind),
            "Item": _item(values),
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
        }
        # Lineage is re-checked inside the write, so a reference deprecated meanwhile cannot slip in.
        checks = [
            self._condition(r, "attribute_exists(#pk) AND #state <> :deprecated", {":deprecated": "deprecated"})
            for r in lineage
        ]
        try:
            if checks:
                self._ddb.transact_write_items(TransactItems=[{"Put": put}, *checks])
            else:
                self._ddb.put_item(**put)
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            existing = self._get(spec.kind, spec.name, spec.version)
            if existing is not None:
                return self._same_or_refuse(existing, spec, digest)
            self._check_lineage(spec, lineage, need="registered")
            raise CatalogError(f"{spec}: refused by a concurrent change; try again") from None
        return Registered(Entry.from_item(put["Item"]), created=True)

    def submit(self, ref: str | Ref) -> Entry:
        """draft -> pending: ask for approval."""
        return self._transition(self.get(ref), "submit")

    def approve(self, ref: str | Ref) -> Entry:
        """pending -> approved, by someone other than its author, once everything in its lineage is approved."""
        entry = self.get(ref)
        self._check_state(entry, "approve")
        who = self.identity()
        if who in (entry.registered_by, entry.submitted_by):
            raise IllegalTransition(
                f"{entry.ref} was registered or submitted by {who}; another identity must approve it (four eyes)"
            )
        lineage = entry.lineage_refs()
        self._check_lineage(entry, lineage, need="approved")
        checks = [self._condition(r, "#state = :approved", {":approved": "approved"}) for r in lineage]
        return self._transition(entry, "approve", {"approved_by": who, "approved_at": _now()}, checks)

    def reject(self, ref: str | Ref, *, reason: str) -> Entry:
        """pending -> draft, with the reviewer's reason in the history."""
        return self._transition(self.get(ref), "reject", note=_reason(reason))

    def deprecate(self, ref: str | Ref, *, end_of_life: date, reason: str, today: date | None = None) -> Entry:
        """Mark a version deprecated; its end of life may only move forward in time, never later."""
        entry = self.get(ref)
        reason = _reason(reason)
        today = today or date.today()
        registered_eol = date.fromisoformat(entry.spec["lifecycle"]["end_of_life"])
        if end_of_life < today:
            raise InvalidRequest(f"{entry.ref}: end of life {end_of_life} is in the past (today is {today})")
        if end_of_life > registered_eol:
            raise InvalidRequest(
                f"{entry.ref}: end of life {end_of_life} is later than the registered {registered_eol}; "
                "deprecation can only bring it forward"
            )
        self._check_state(entry, "deprecate")
        deprecation = {"end_of_life": end_of_life.isoformat(), "reason": reason, "by": self.identity(), "at": _now()}
        return self._transition(
            entry, "deprecate", {"deprecation": deprecation, "end_of_life": end_of_life.isoformat()}, note=reason
        )

    def identity(self) -> str:
        """ARN of the caller, recorded on every write (approver, deprecator, ...)."""
        if self._identity is None:
            sts = self._session.client("sts", region_name=self._region)  # only writers need it
            self._identity = sts.get_caller_identity()["Arn"]
        return self._identity

    # ------------------------------------------------------------- internals

    def _table(self, kind: str) -> str:
        return self.tables[catalog_of(kind)]

    def _key(self, kind: str, name: str, version: str) -> dict[str, Any]:
        return {PARTITION_KEY: {"S": partition_key(kind, name)}, SORT_KEY: {"S": version}}

    def _get(self, kind: str, name: str, version: str) -> Entry | None:
        item = self._ddb.get_item(
            TableName=self._table(kind), Key=self._key(kind, name, version), ConsistentRead=True
        ).get("Item")
        return Entry.from_item(item) if item else None

    def _read(self, table: str, kind: str | None, name: str | None, state: str | None) -> Iterator[dict[str, Any]]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        key: list[str] = []
        filters: list[str] = []
        if state:
            names["#state"], values[":state"] = STATE_INDEX_PARTITION_KEY, state
            key.append("#state = :state")
        if kind and name:
            names["#pk"], values[":pk"] = PARTITION_KEY, partition_key(kind, name)
            key.append("#pk = :pk")
        elif kind and state:
            names["#pk"], values[":prefix"] = PARTITION_KEY, f"{kind}#"
            key.append("begins_with(#pk, :prefix)")
        elif kind:
            names["#kind"], values[":kind"] = "kind", kind
            filters.append("#kind = :kind")
        if name and not kind:
            names["#name"], values[":name"] = "name", name
            filters.append("#name = :name")
        args: dict[str, Any] = {"TableName": table}
        if names:
            args["ExpressionAttributeNames"] = names
            args["ExpressionAttributeValues"] = {k: {"S": v} for k, v in values.items()}
        if filters:
            args["FilterExpression"] = " AND ".join(filters)
        if key:
            args["KeyConditionExpression"] = " AND ".join(key)
            if state:
                args["IndexName"] = STATE_INDEX
        pages = self._ddb.get_paginator("query" if key else "scan").paginate(**args)
        for page in pages:
            yield from page.get("Items", [])

    def _same_or_refuse(self, existing: Entry, spec: EntrySpec, digest: str) -> Registered:
        if existing.content_hash == digest:
            return Registered(existing, created=False)
        bump = next_patch(spec.version)
        hint = f"bump the version (e.g. {bump}) and register that" if bump else "register it under a new version"
        raise ImmutableVersion(
            f"{existing.ref} is already registered with different content "
            f"({existing.content_hash[:15]}… != {digest[:15]}…); versions are immutable: {hint}"
        )

    def _check_lineage(self, owner: EntrySpec | Entry, refs: Sequence[Ref], *, need: str) -> None:
        """need='registered': every reference exists and is not deprecated; need='approved': every one is approved."""
        problems = []
        for ref in refs:
            entry = self._get(ref.known_kind, ref.name, ref.version)
            if entry is None:
                problems.append(f"{ref} is not in the {catalog_of(ref.known_kind)} catalog; register it first")
            elif entry.state == "deprecated":
                problems.append(f"{ref} is deprecated (end of life {entry.end_of_life}); reference a supported version")
            elif need == "approved" and entry.state != "approved":
                problems.append(f"{ref} is {entry.state}; approve it first")
        if problems:
            label = owner.ref if isinstance(owner, Entry) else str(owner)
            raise LineageError(f"{label}: lineage " + "; ".join(problems))

    def _check_state(self, entry: Entry, action: str) -> None:
        allowed, _ = _TRANSITIONS[action]
        if entry.state not in allowed:
            raise IllegalTransition(f"{entry.ref} " + _REFUSALS[action, entry.state].format(eol=entry.end_of_life))

    def _condition(self, ref: Ref, expression: str, values: dict[str, str]) -> dict[str, Any]:
        return {
            "ConditionCheck": {
                "TableName": self._table(ref.known_kind),
                "Key": self._key(ref.known_kind, ref.name, ref.version),
                "ConditionExpression": expression,
                "ExpressionAttributeNames": {
                    k: v for k, v in (("#pk", PARTITION_KEY), ("#state", "state")) if k in expression
                },
                "ExpressionAttributeValues": {k: {"S": v} for k, v in values.items()},
            }
        }

    def _transition(
        self,
        entry: Entry,
        action: str,
        sets: dict[str, Any] | None = None,
        checks: Sequence[dict[str, Any]] | None = None,
        *,
        note: str | None = None,
    ) -> Entry:
        self._check_state(entry, action)
        _, target = _TRANSITIONS[action]
        who, now = self.identity(), _now()
        event = {"action": action, "from": entry.state, "to": target, "by": who, "at": now, "note": note}
        sets = {"state": target, "updated_at": now, **(sets or {})}
        names = {f"#a{i}": k for i, k in enumerate(sets)}
        values = {f":v{i}": _SERIALIZER.serialize(v) for i, v in enumerate(sets.values())}
        update = {
            "TableName": self._table(entry.kind),
            "Key": self._key(entry.kind, entry.name, entry.version),
            "UpdateExpression": "SET "
            + ", ".join(f"#a{i} = :v{i}" for i in range(len(sets)))
            + ", #history = list_append(#history, :event)",
            "ConditionExpression": "#state = :from",
            "ExpressionAttributeNames": {**names, "#history": "history", "#state": "state"},
            "ExpressionAttributeValues": {
                **values,
                ":event": _SERIALIZER.serialize([{k: v for k, v in event.items() if v is not None}]),
                ":from": {"S": entry.state},
            },
        }
        try:
            if checks:
                self._ddb.transact_write_items(TransactItems=[{"Update": update}, *checks])
            else:
                self._ddb.update_item(**update)
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            # Someone moved it (or its lineage) meanwhile: explain from the fresh state.
            fresh = self.get(Ref(entry.name, entry.version, entry.kind))
            self._check_state(fresh, action)
            if action == "approve":
                self._check_lineage(fresh, fresh.lineage_refs(), need="approved")
            raise CatalogError(f"{entry.ref}: refused by a concurrent change; try again") from None
        return self.get(Ref(entry.name, entry.version, entry.kind))


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > 1024:
        raise InvalidRequest("a reason is required (1-1024 characters)")
    return reason


__all__ = [
    "Catalog",
    "CatalogError",
    "Entry",
    "IllegalTransition",
    "ImmutableVersion",
    "InvalidRequest",
    "LineageError",
    "NotFound",
    "Ref",
    "Registered",
    "partition_of",
]
