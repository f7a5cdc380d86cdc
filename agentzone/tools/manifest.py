"""Tool manifests: what a team writes to put a tool behind an AgentCore Gateway.

One YAML file per gateway target. Problems are reported like config problems:
every one at once, each with file, line and key path; never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from .. import naming
from ..config.loader import display_path, validate_document
from ..config.model import AccountId, Email, Region, Slug, Strict
from ..config.source import SourceDoc, load_yaml
from ..problems import Problem
from .targets import SHARED, TOOL_NAME_MAX, TOOL_NAME_PATTERN, TOOL_SEPARATOR, prefix_problems

S3Uri = Annotated[str, StringConstraints(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$")]
LambdaArn = Annotated[
    str,
    StringConstraints(
        pattern=r"^arn:aws[a-z-]*:lambda:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$"
    ),
]
OAuthProviderArn = Annotated[
    str,
    StringConstraints(
        pattern=r"^arn:aws[a-z-]*:bedrock-agentcore:[a-z0-9-]+:\d{12}:token-vault/[^/]+/oauth2credentialprovider/.+$"
    ),
]
ApiKeyProviderArn = Annotated[
    str,
    StringConstraints(
        pattern=r"^arn:aws[a-z-]*:bedrock-agentcore:[a-z0-9-]+:\d{12}:token-vault/[^/]+/apikeycredentialprovider/.+$"
    ),
]
HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https://[^\s]+$", max_length=2048)]
ToolName = Annotated[str, StringConstraints(pattern=TOOL_NAME_PATTERN)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


# ------------------------------------------------------------------ target


class SchemaDefinition(Strict):
    """The JSON Schema subset AgentCore accepts for tool input/output."""

    type: Literal["string", "number", "object", "array", "boolean", "integer"]
    description: str | None = None
    properties: dict[str, SchemaDefinition] | None = None
    required: list[str] | None = None
    items: SchemaDefinition | None = None


class ToolDefinition(Strict):
    name: ToolName = Field(description="Tool name; agents see it as <prefix>___<name>")
    description: Text = Field(description="What the tool does; the model reads this to decide when to call it")
    input_schema: SchemaDefinition
    output_schema: SchemaDefinition | None = None


class LambdaTarget(Strict):
    """A Lambda function; the gateway invokes it with its own role."""

    arn: LambdaArn = Field(description="Function ARN (same account as the gateway, or a resource policy allowing it)")
    tools: list[ToolDefinition] | None = Field(None, description="Inline tool schema")
    tool_schema_s3_uri: S3Uri | None = Field(None, description="Tool schema JSON in S3 instead of inline tools")


class SchemaSource(Strict):
    """An OpenAPI or Smithy model, in S3 or inline (a mapping or a JSON/YAML string)."""

    s3_uri: S3Uri | None = None
    bucket_owner: AccountId | None = None
    inline: dict[str, Any] | str | None = None


class McpServerTarget(Strict):
    endpoint: HttpsUrl = Field(description="HTTPS endpoint of the MCP server")
    listing_mode: Literal["DEFAULT", "DYNAMIC"] | None = Field(
        None, description="DYNAMIC lists tools on every call (no semantic search)"
    )


class Target(Strict):
    """Exactly one of these."""

    lambda_function: LambdaTarget | None = None
    openapi: SchemaSource | None = None
    smithy: SchemaSource | None = None
    mcp_server: McpServerTarget | None = None


# ------------------------------------------------------------------ auth


class IamRoleAuth(Strict):
    """The gateway signs with its own role (SigV4)."""

    service: Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9._-]{1,64}$")] | None = Field(
        None,
        description="SigV4 signing service; required for mcp_server/openapi (bedrock-agentcore for AgentCore Runtime)",
    )
    region: Region | None = None


class OAuthAuth(Strict):
    """Client-credentials token from an AgentCore Identity OAuth2 credential provider."""

    provider_arn: OAuthProviderArn
    scopes: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(max_length=100)


class ApiKeyAuth(Strict):
    provider_arn: ApiKeyProviderArn
    location: Literal["HEADER", "QUERY_PARAMETER"] = "HEADER"
    parameter_name: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    prefix: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class Auth(Strict):
    """How the gateway authenticates to the target (outbound). Exactly one of these."""

    gateway_iam_role: IamRoleAuth | None = None
    oauth: OAuthAuth | None = None
    api_key: ApiKeyAuth | None = None


# ------------------------------------------------------------------ manifest


class Compliance(Strict):
    data_classification: Literal["public", "internal", "confidential", "restricted"]
    pii: bool = Field(description="Does the tool read or return personal data?")
    owner: Email = Field(description="Team mailbox accountable for the tool")
    approved_by: Email = Field(description="Who approved it for the catalog (not the owner)")
    catalog_ref: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{1,63}$")] = Field(
        description="Component catalog entry or approval ticket, e.g. CAT-0042"
    )


class ToolManifest(Strict):
    """One gateway target: a Lambda function, an API schema or an MCP server, with its compliance metadata."""

    name: Slug = Field(description="Catalog id of this tool")
    description: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="Gateway target description"
    )
    gateway: Literal["shared", "tenant"] = Field(
        description="shared: the platform's org-wide gateway; tenant: the tenant's own"
    )
    tenant: Slug | None = Field(
        None, description="Owning tenant; required for gateway: tenant, omitted for platform tools"
    )
    prefix: str = Field(description="Gateway target name: '<tenant>-...' or, for platform tools, 'shared-...'")
    target: Target
    auth: Auth
    compliance: Compliance

    @property
    def owner(self) -> str:
        return self.tenant or SHARED

    @property
    def target_type(self) -> str:
        return next(k for k, v in self.target if v is not None)

    @property
    def auth_type(self) -> str:
        return next(k for k, v in self.auth if v is not None)

    def default_gateway_name(self) -> str:
        return naming.SHARED_TOOL_GATEWAY if self.gateway == SHARED else naming.tenant_tool_gateway(str(self.tenant))


# ------------------------------------------------------------------ rules

# target type -> auth types AgentCore accepts for it (gateway-outbound-auth docs)
ALLOWED_AUTH = {
    "lambda_function": {"gateway_iam_role"},
    "smithy": {"gateway_iam_role"},
    "openapi": {"gateway_iam_role", "oauth", "api_key"},
    "mcp_server": {"gateway_iam_role", "oauth"},
}
SIGNED_TARGETS = {"openapi", "mcp_server"}  # IAM auth needs an explicit signing service here


def _one_of(doc: SourceDoc, path: tuple, model: Strict, what: str) -> list[Problem]:
    chosen = [k for k, v in model if v is not None]
    if len(chosen) == 1:
        return []
    keys = ", ".join(type(model).model_fields)
    got = f" (got {', '.join(chosen)})" if chosen else ""
    return [doc.problem(path, f"set exactly one {what}: {keys}{got}")]


def semantic_problems(doc: SourceDoc, m: ToolManifest, known_tenants: set[str] | None = None) -> list[Problem]:
    """Rules pydantic cannot express: ownership, prefix, one target and one auth, auth/target fit."""
    p = _ownership_problems(doc, m, known_tenants)
    target_ok, auth_ok = (
        _one_of(doc, ("target",), m.target, "target type"),
        _one_of(doc, ("auth",), m.auth, "auth method"),
    )
    p += target_ok + auth_ok
    if target_ok or auth_ok:
        return p
    return p + _auth_fit_problems(doc, m) + _target_body_problems(doc, m)


def _ownership_problems(doc: SourceDoc, m: ToolManifest, known_tenants: set[str] | None) -> list[Problem]:
    """Who owns the tool: a known tenant for a tenant gateway, a prefix of its own, an approver who is not the owner."""
    p: list[Problem] = []
    if m.gateway == "tenant" and m.tenant is None:
        p.append(doc.problem(("gateway",), "gateway: tenant needs 'tenant: <slug>' (the tenant whose gateway this is)"))
    if known_tenants is not None and m.tenant is not None and m.tenant not in known_tenants:
        known = ", ".join(sorted(known_tenants)) or "none"
        p.append(doc.problem(("tenant",), f"unknown tenant {m.tenant!r}; known: {known}"))
    p += [doc.problem(("prefix",), msg) for msg in prefix_problems(m.prefix, m.owner)]
    if m.compliance.approved_by.lower() == m.compliance.owner.lower():
        message = "must be someone other than the owner (separation of duties)"
        p.append(doc.problem(("compliance", "approved_by"), message))
    return p


def _auth_fit_problems(doc: SourceDoc, m: ToolManifest) -> list[Problem]:
    """The auth method is one AgentCore accepts for the target type, with a signing service where it needs one."""
    kind, auth = m.target_type, m.auth_type
    if auth not in ALLOWED_AUTH[kind]:
        allowed = ", ".join(sorted(ALLOWED_AUTH[kind]))
        return [doc.problem(("auth", auth), f"{kind} targets accept {allowed}, not {auth}")]
    iam = m.auth.gateway_iam_role
    if auth != "gateway_iam_role" or iam is None:
        return []
    p: list[Problem] = []
    if kind in SIGNED_TARGETS and not iam.service:
        message = f"{kind} targets need 'service' (the SigV4 signing name, e.g. bedrock-agentcore, execute-api)"
        p.append(doc.problem(("auth", auth), message))
    if kind not in SIGNED_TARGETS and (iam.service or iam.region):
        message = f"{kind} targets take gateway_iam_role without service/region: write gateway_iam_role: {{}}"
        p.append(doc.problem(("auth", auth), message))
    return p


def _target_body_problems(doc: SourceDoc, m: ToolManifest) -> list[Problem]:
    kind = m.target_type
    body = getattr(m.target, kind)
    if kind == "lambda_function":
        return _lambda_tool_problems(doc, m, body)
    p: list[Problem] = []
    if kind in ("openapi", "smithy"):
        if (body.s3_uri is None) == (body.inline is None):
            p.append(doc.problem(("target", kind), "set exactly one of s3_uri or inline"))
        if body.bucket_owner and not body.s3_uri:
            p.append(doc.problem(("target", kind, "bucket_owner"), "only applies with s3_uri"))
    return p


def _lambda_tool_problems(doc: SourceDoc, m: ToolManifest, body: LambdaTarget) -> list[Problem]:
    """One source of tools; each tool name once, and short enough with the prefix in front."""
    kind = "lambda_function"
    p: list[Problem] = []
    if (body.tools is None) == (body.tool_schema_s3_uri is None):
        p.append(doc.problem(("target", kind), "set exactly one of tools (inline) or tool_schema_s3_uri"))
    seen: dict[str, int] = {}
    for i, tool in enumerate(body.tools or []):
        path = ("target", kind, "tools", i, "name")
        full = f"{m.prefix}{TOOL_SEPARATOR}{tool.name}"
        if tool.name in seen:
            p.append(doc.problem(path, f"duplicate tool name {tool.name!r} (also tools[{seen[tool.name]}])"))
        seen.setdefault(tool.name, i)
        if len(full) > TOOL_NAME_MAX:
            message = f"agents see {full!r} ({len(full)} characters); keep prefix + '___' + name within {TOOL_NAME_MAX}"
            p.append(doc.problem(path, message))
    return p


# ------------------------------------------------------------------ loading


@dataclass(frozen=True)
class LoadedManifest:
    file: str
    doc: SourceDoc
    manifest: ToolManifest


def load_manifests(
    paths: list[Path | str], known_tenants: set[str] | None = None
) -> tuple[list[LoadedManifest], list[Problem]]:
    """Load and check manifests; also refuse two manifests claiming the same prefix or name."""
    loaded: list[LoadedManifest] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        doc = load_yaml(path, display_path(path))
        manifest = validate_document(ToolManifest, doc)
        if manifest is not None:
            doc.problems.extend(semantic_problems(doc, manifest, known_tenants))
        problems += doc.problems
        if manifest is not None:
            loaded.append(LoadedManifest(doc.file, doc, manifest))
    for key in ("prefix", "name"):
        first: dict[str, LoadedManifest] = {}
        for item in loaded:
            value = getattr(item.manifest, key).lower()
            if value in first:
                other = first[value]
                where = f"{other.file}:{other.doc.line_of((key,))}"
                given = getattr(item.manifest, key)
                message = f"{key} {given!r} is already used by {where}; {key}s must be unique on a gateway"
                problems.append(item.doc.problem((key,), message))
            else:
                first[value] = item
    return loaded, sorted(set(problems))
