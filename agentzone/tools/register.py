"""Register tool manifests as AgentCore Gateway targets (boto3 ``bedrock-agentcore-control``).

Plan first, then apply: every manifest is checked against the gateway's
existing targets before anything is created, so a conflict refuses the whole
batch. Re-registering an identical manifest changes nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from ..naming import PREFIX, SHARED_TOOL_GATEWAY
from .manifest import LoadedManifest, ToolManifest

SYNC_OPERATION = "SynchronizeGatewayTargets"


class RegistrationError(Exception):
    """The request cannot be carried out as given (unknown or ambiguous gateway)."""


@dataclass
class Outcome:
    file: str
    target_name: str
    gateway_id: str
    action: str  # created | updated | unchanged | would-create | would-update | conflict | not-applied
    target_id: str | None = None
    synchronized: bool | None = None  # None: not attempted (not an MCP server target, or dry run)
    notes: list[str] = field(default_factory=list)
    compliance: dict[str, Any] = field(default_factory=dict)

    def render(self) -> str:
        extra = f" ({'; '.join(self.notes)})" if self.notes else ""
        tid = f" [{self.target_id}]" if self.target_id else ""
        return f"{self.file}: {self.action} target {self.target_name!r}{tid} on gateway {self.gateway_id}{extra}"


# ------------------------------------------------------------------ request shapes


def _schema(s) -> dict[str, Any]:
    return s.model_dump(exclude_none=True)


def target_configuration(m: ToolManifest) -> dict[str, Any]:
    """The CreateGatewayTarget ``targetConfiguration`` for a manifest."""
    kind, t = m.target_type, getattr(m.target, m.target_type)
    if kind == "lambda_function":
        if t.tools is not None:
            tools = []
            for tool in t.tools:
                entry = {"name": tool.name, "description": tool.description, "inputSchema": _schema(tool.input_schema)}
                if tool.output_schema:
                    entry["outputSchema"] = _schema(tool.output_schema)
                tools.append(entry)
            schema: dict[str, Any] = {"inlinePayload": tools}
        else:
            schema = {"s3": {"uri": t.tool_schema_s3_uri}}
        return {"mcp": {"lambda": {"lambdaArn": t.arn, "toolSchema": schema}}}
    if kind in ("openapi", "smithy"):
        if t.s3_uri:
            source: dict[str, Any] = {
                "s3": {"uri": t.s3_uri, **({"bucketOwnerAccountId": t.bucket_owner} if t.bucket_owner else {})}
            }
        else:
            inline = t.inline if isinstance(t.inline, str) else json.dumps(t.inline, sort_keys=True)
            source = {"inlinePayload": inline}
        return {"mcp": {"openApiSchema" if kind == "openapi" else "smithyModel": source}}
    server: dict[str, Any] = {"endpoint": t.endpoint}
    if t.listing_mode:
        server["listingMode"] = t.listing_mode
    return {"mcp": {"mcpServer": server}}


def credential_configurations(m: ToolManifest) -> list[dict[str, Any]]:
    """The ``credentialProviderConfigurations`` (AgentCore takes exactly one)."""
    iam, o, k = m.auth.gateway_iam_role, m.auth.oauth, m.auth.api_key
    if iam is not None:
        out: dict[str, Any] = {"credentialProviderType": "GATEWAY_IAM_ROLE"}
        if iam.service:
            out["credentialProvider"] = {
                "iamCredentialProvider": {"service": iam.service, **({"region": iam.region} if iam.region else {})}
            }
        return [out]
    if o is not None:
        provider: dict[str, Any] = {
            "providerArn": o.provider_arn,
            "scopes": list(o.scopes),
            "grantType": "CLIENT_CREDENTIALS",
        }
        return [{"credentialProviderType": "OAUTH", "credentialProvider": {"oauthCredentialProvider": provider}}]
    if k is None:
        raise RegistrationError(f"{m.prefix!r} names no auth method")
    provider = {"providerArn": k.provider_arn, "credentialLocation": k.location}
    if k.parameter_name:
        provider["credentialParameterName"] = k.parameter_name
    if k.prefix:
        provider["credentialPrefix"] = k.prefix
    return [{"credentialProviderType": "API_KEY", "credentialProvider": {"apiKeyCredentialProvider": provider}}]


def create_request(m: ToolManifest, gateway_id: str) -> dict[str, Any]:
    return {
        "gatewayIdentifier": gateway_id,
        "name": m.prefix,
        "description": m.description,
        "targetConfiguration": target_configuration(m),
        "credentialProviderConfigurations": credential_configurations(m),
    }


def _contains(actual: Any, wanted: Any) -> bool:
    """True if everything we would send is already there (the service may add defaults)."""
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(k in actual and _contains(actual[k], v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(wanted)
            and all(_contains(a, w) for a, w in zip(actual, wanted, strict=True))
        )
    return actual == wanted


def differences(existing: dict[str, Any], request: dict[str, Any]) -> list[str]:
    keys = ("description", "targetConfiguration", "credentialProviderConfigurations")
    return [k for k in keys if not _contains(existing.get(k), request[k])]


# ------------------------------------------------------------------ gateway look-ups


def _pages(call, key: str, **kwargs) -> list[dict[str, Any]]:
    items, token = [], None
    while True:
        page = call(**kwargs, **({"nextToken": token} if token else {}))
        items += page.get(key, [])
        token = page.get("nextToken")
        if not token:
            return items


def find_gateway(client, *, gateway_id: str | None = None, gateway_name: str | None = None) -> tuple[str, str]:
    """(id, name) of a gateway given its id (checked) or its unique name."""
    if gateway_id:
        try:
            found = client.get_gateway(gatewayIdentifier=gateway_id)
            return found["gatewayId"], found["name"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                raise RegistrationError(f"no gateway with id {gateway_id!r} in this account and region") from exc
            raise
    matches = [g for g in _pages(client.list_gateways, "items") if g["name"] == gateway_name]
    if not matches:
        raise RegistrationError(
            f"no gateway named {gateway_name!r} in this account and region; pass --gateway-id or --gateway-name"
        )
    if len(matches) > 1:
        ids = ", ".join(g["gatewayId"] for g in matches)
        raise RegistrationError(f"{len(matches)} gateways are named {gateway_name!r} ({ids}); pass --gateway-id")
    return matches[0]["gatewayId"], matches[0]["name"]


def _check_kind(m: ToolManifest, gateway: str) -> None:
    """A manifest for a tenant's gateway must not land on the shared one, nor the reverse."""
    if m.gateway == "tenant" and gateway == SHARED_TOOL_GATEWAY:
        raise RegistrationError(
            f"{m.prefix!r} is a tenant tool (gateway: tenant) but {gateway!r} is the shared gateway"
        )
    if m.gateway == "shared" and gateway != SHARED_TOOL_GATEWAY and re.fullmatch(rf"{PREFIX}-.+-tools", gateway):
        raise RegistrationError(f"{m.prefix!r} is a shared tool (gateway: shared) but {gateway!r} is a tenant gateway")


def can_synchronize(client) -> bool:
    """SynchronizeGatewayTargets exists in newer botocore models only."""
    return SYNC_OPERATION in client.meta.method_to_api_mapping.values()


def _synchronize(client, gateway_id: str, target_id: str) -> tuple[bool, str | None]:
    """Index an MCP server's tools now; report rather than fail when the endpoint cannot do it."""
    if not can_synchronize(client):
        return False, f"this botocore has no {SYNC_OPERATION}; run it once botocore is upgraded"
    try:
        client.synchronize_gateway_targets(gatewayIdentifier=gateway_id, targetIdList=[target_id])
    except NotImplementedError:  # moto and other emulators
        return False, f"{SYNC_OPERATION} is not implemented by this endpoint"
    except ClientError as exc:
        return (
            False,
            f"{SYNC_OPERATION} failed: {exc.response['Error']['Code']}: {exc.response['Error'].get('Message', '')}",
        )
    return True, None


# ------------------------------------------------------------------ plan and apply


def register(
    client,
    manifests: list[LoadedManifest],
    *,
    gateway_id: str | None = None,
    gateway_name: str | None = None,
    dry_run: bool = False,
    update: bool = False,
) -> list[Outcome]:
    """Register every manifest, or none if any conflicts. Returns one Outcome per manifest.

    Without ``gateway_id``/``gateway_name`` each manifest goes to its default
    gateway (``agentzone-shared-tools`` or ``agentzone-<tenant>-tools``).
    """
    planner = _Planner(client, gateway_id=gateway_id, gateway_name=gateway_name, dry_run=dry_run, update=update)
    plan = [planner.plan(item) for item in manifests]
    outcomes = [o for _, o, _ in plan]
    if dry_run:
        return outcomes
    if any(o.action == "conflict" for o in outcomes):
        for o in outcomes:
            if o.action != "conflict":
                o.action, o.notes = "not-applied", [*o.notes, "another manifest in this batch conflicts"]
        return outcomes
    for item, outcome, request in plan:
        _apply(client, item, outcome, request)
    return outcomes


class _Planner:
    """What registering each manifest would do, against the targets its gateway already has."""

    def __init__(
        self, client, *, gateway_id: str | None, gateway_name: str | None, dry_run: bool, update: bool
    ) -> None:
        self.client = client
        self.gateway_id, self.gateway_name = gateway_id, gateway_name
        self.dry_run, self.update = dry_run, update
        self.gateways: dict[str, tuple[str, str]] = {}  # name or id -> (id, name)
        self.existing: dict[str, list[dict[str, Any]]] = {}

    def plan(self, item: LoadedManifest) -> tuple[LoadedManifest, Outcome, dict[str, Any]]:
        m = item.manifest
        gid, gname = self._gateway(m)
        _check_kind(m, gname)
        if gid not in self.existing:
            self.existing[gid] = _pages(self.client.list_gateway_targets, "items", gatewayIdentifier=gid)
        request = create_request(m, gid)
        action = "would-create" if self.dry_run else "created"
        outcome = Outcome(item.file, m.prefix, gid, action, compliance=m.compliance.model_dump())
        same = [t for t in self.existing[gid] if t["name"].lower() == m.prefix.lower()]
        exact = next((t for t in same if t["name"] == m.prefix), None)
        if same and exact is None:
            outcome.action = "conflict"
            outcome.notes.append(
                f"target {same[0]['name']!r} ({same[0]['targetId']}) differs only in case; pick another prefix"
            )
        elif exact:
            self._compare(outcome, gid, exact["targetId"], request)
        return item, outcome, request

    def _gateway(self, m: ToolManifest) -> tuple[str, str]:
        key = self.gateway_id or self.gateway_name or m.default_gateway_name()
        if key not in self.gateways:
            name = None if self.gateway_id else key
            self.gateways[key] = find_gateway(self.client, gateway_id=self.gateway_id, gateway_name=name)
        return self.gateways[key]

    def _compare(self, outcome: Outcome, gid: str, target_id: str, request: dict[str, Any]) -> None:
        """The target exists: unchanged, an update (with --update), or a conflict."""
        current = self.client.get_gateway_target(gatewayIdentifier=gid, targetId=target_id)
        outcome.target_id = target_id
        diff = differences(current, request)
        if not diff:
            outcome.action = "unchanged"
        elif self.update:
            outcome.action = "would-update" if self.dry_run else "updated"
            outcome.notes.append(f"changes: {', '.join(diff)}")
        else:
            outcome.action = "conflict"
            outcome.notes.append(
                f"a target named {outcome.target_name!r} already exists with a different {', '.join(diff)}; "
                "pass --update if this manifest owns it, or choose another prefix"
            )


def _apply(client, item: LoadedManifest, outcome: Outcome, request: dict[str, Any]) -> None:
    if outcome.action == "unchanged":
        return
    if outcome.action == "updated":
        client.update_gateway_target(targetId=outcome.target_id, **request)
    else:
        outcome.target_id = client.create_gateway_target(**request)["targetId"]
    if item.manifest.target_type == "mcp_server" and outcome.target_id is not None:
        outcome.synchronized, note = _synchronize(client, outcome.gateway_id, outcome.target_id)
        if note:
            outcome.notes.append(note)


def outcomes_json(outcomes: list[Outcome]) -> str:
    return json.dumps([asdict(o) for o in outcomes], indent=2, sort_keys=True)


__all__ = [
    "Outcome",
    "RegistrationError",
    "can_synchronize",
    "create_request",
    "credential_configurations",
    "find_gateway",
    "outcomes_json",
    "register",
    "target_configuration",
]
