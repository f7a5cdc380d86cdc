"""The landing zone as a picture: accounts, the stacks in them and what flows between them.

Drawn from config alone (no synth), so ``agentzone diagram`` takes a second
and a reviewer can render main and a branch and compare the two. ``to_dot``
is deterministic: the same config gives byte-identical DOT whatever order
tenants were loaded in.

Rendering uses Graphviz ``dot`` when it is on PATH. Otherwise SVG comes from
Graphviz compiled to WebAssembly (npm ``@viz-js/viz``, installed by
``make install``) run by Node.js, and PNG is rasterized from that SVG with
resvg (PyPI ``resvg-py``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .composition import stack_name
from .config.model import PLATFORM_ROLES, LandingZone, Tenant, feedback_senders
from .fm_gateway.litellm_config import tenant_gateway_models
from .project import PROJECT_ROOT
from .stacks.platform import gateway_deployed, gateway_deployment
from .stacks.roles import UnknownPlatformRole, platform_role

FORMATS = ("svg", "png", "dot")
SUFFIXES = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}
VIZ_PACKAGE = "@viz-js/viz"
RENDER_TIMEOUT_SECONDS = 120
PNG_ZOOM = 1.0  # 96 dpi: 10 pt node text is 13 px
PNG_FONTS = "Helvetica,Arial,Liberation Sans,Nimbus Sans,DejaVu Sans,sans-serif"
PNG_DPI = 96.0  # Graphviz sizes SVGs in pt; resvg-py's default dpi of 0 makes every pt-sized SVG "invalid size"
FIX_HINT = "run `make install`"


class DiagramError(ValueError):
    """A diagram cannot be written; the message is one line, fit for the terminal."""

    exit_code = 1


class DiagramFormatError(DiagramError):
    """The caller asked for a format that does not exist (a usage error)."""

    exit_code = 2


class RendererUnavailable(DiagramError):
    """Nothing on this machine can lay out the graph (or rasterize it)."""

    exit_code = 1


# ------------------------------------------------------------------ the model

KIND_STYLE = {  # account kind -> (cluster fill, border/edge color)
    "management": ("#fde2e1", "#c0392b"),
    "shared_services": ("#e0ecfb", "#2e6fbd"),
    "logging": ("#eeeeee", "#6b6b6b"),
    "security": ("#efe3f7", "#7d3c98"),
    "data_lake": ("#e3f4e8", "#1e8449"),
    "tenant": ("#fff4d6", "#b9770e"),
}
# Line order inside a combined edge label, and its color (the first kind's).
FLOW_ORDER = (
    "trail",
    "delegated",
    "oam",
    "bedrock_logs",
    "identity",
    "fm_gateway",
    "shared_tools",
    "images",
    "lake_share",
    "feedback",
)
FLOW_COLORS = {
    "trail": "#c0392b",
    "delegated": "#7d3c98",
    "oam": "#6b6b6b",
    "bedrock_logs": "#6b6b6b",
    "identity": "#7d3c98",
    "fm_gateway": "#2e6fbd",
    "shared_tools": "#2e6fbd",
    "images": "#2e6fbd",
    "lake_share": "#1e8449",
    "feedback": "#1e8449",
}


@dataclass(frozen=True)
class Stack:
    name: str
    account: str
    region: str
    details: tuple[str, ...] = ()


@dataclass
class Account:
    key: str  # unique within the graph: kind + environment + account id
    kind: str  # management, shared_services, logging, security, data_lake, tenant
    title: str
    account: str
    region: str
    environment: str | None
    stacks: list[Stack] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        """The stack node edges attach to (they are clipped to the account's box)."""
        return self.stacks[0].name


@dataclass(frozen=True)
class Flow:
    kind: str
    label: str
    active: bool = True  # False: configured but not in effect yet (drawn dashed)


@dataclass(frozen=True)
class Edge:
    """Everything that flows from one account to another, one label line per flow."""

    source: str  # account id
    target: str  # account id
    labels: tuple[str, ...]
    color: str
    dashed: bool

    @property
    def id(self) -> str:
        return f"edge-{self.source}-{self.target}"


@dataclass
class Graph:
    title: str
    management: Account
    environments: dict[str, list[Account]]  # config (promotion) order; platform accounts, then tenants by name
    edges: list[Edge]


def _wrap(prefix: str, items: list[str], per_line: int = 3) -> list[str]:
    if not items:
        return []
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return [f"{prefix}: {lines[0]}", *lines[1:]]


def _shared_services_details(lz: LandingZone, env_name: str) -> tuple[str, ...]:
    shared = lz.organization.shared_services
    out = ["catalogs, agent registry, ECR"]
    gateway = gateway_deployment(lz, env_name)
    if gateway is not None:
        out.append(f"FM gateway ({len(gateway.settings.models)} models)")
    mcp = sorted(server.name for server in shared.tool_gateway.mcp_servers)
    out.append("shared tool gateway" + (f" + MCP: {', '.join(mcp)}" if mcp else ""))
    if shared.experiment_tracking is not None:
        out.append("MLflow tracking")
    return tuple(out)


def _logging_details(lz: LandingZone, env_name: str) -> tuple[str, ...]:
    central = env_name == lz.organization.central_environment
    return ("log archive, OAM sink",) + (("organization trail",) if central else ())


def _security_details(lz: LandingZone, env_name: str) -> tuple[str, ...]:
    central = env_name == lz.organization.central_environment
    return ("agent identity (Cognito)",) + (("organization detection (delegated admin)",) if central else ())


def _data_lake_details(lz: LandingZone, env_name: str) -> tuple[str, ...]:
    central = env_name == lz.organization.central_environment
    return ("raw / curated / masked zones",) + (("feedback bus",) if central and feedback_senders(lz.tenants) else ())


# What each platform account's stack node says, by role (a test checks every role of the table has one).
PLATFORM_DETAILS: dict[str, Callable[[LandingZone, str], tuple[str, ...]]] = {
    "shared_services": _shared_services_details,
    "logging": _logging_details,
    "security": _security_details,
    "data_lake": _data_lake_details,
}


def _platform_details(lz: LandingZone, role: str, env_name: str) -> tuple[str, ...]:
    describe = PLATFORM_DETAILS.get(platform_role(role).name)
    if describe is None:
        raise UnknownPlatformRole(f"the diagram has no details for platform account role {role!r}: add them")
    return describe(lz, env_name)


def _use_case_details(tenant: Tenant, env_name: str) -> tuple[str, ...]:
    blueprints = tenant.blueprints
    out = _wrap("blueprints", blueprints.selected())
    for name in sorted(blueprints.runtime):
        runtime = blueprints.runtime[name]
        release = runtime.releases.get(env_name)
        if release is None:
            out.append(f"agent {name} ({runtime.protocol}): no release")
            continue
        endpoints = ", ".join(f"{ep}=v{version}" for ep, version in sorted(release.endpoints.items()))
        out.append(f"agent {name} ({runtime.protocol}) {release.image_tag} [{endpoints}]")
    out += _wrap("data", sorted(ns.name for ns in tenant.data.namespaces))
    return tuple(out)


def _management_account(lz: LandingZone, tenants: list[Tenant]) -> Account:
    """The Organization stack and every tenant's Governance stack."""
    org = lz.organization
    home, account_id = org.home_region, org.management_account
    management = Account("management", "management", "Management", account_id, home, None)
    bootstrap = ("OUs, account placement, RAM sharing, CDK bootstrap StackSet",)
    management.stacks.append(Stack(stack_name("Bootstrap"), account_id, home, bootstrap))
    management.stacks.append(
        Stack(stack_name("Organization"), account_id, home, ("SCPs, tag policies, organization trail",))
    )
    for tenant in tenants:
        name = stack_name("Governance", "governance", tenant.tenant)
        management.stacks.append(Stack(name, account_id, home, ("budget, SCP, OU placement",)))
    return management


def _platform_accounts(lz: LandingZone, env_name: str) -> dict[str, Account]:
    """An environment's platform accounts by role, each with its role's stack (titles from the role table)."""
    env = lz.organization.environments[env_name]
    region = lz.region_of(env)
    accounts = {}
    for role in PLATFORM_ROLES:
        spec = platform_role(role)
        account_id = getattr(env, role)
        account = Account(f"{role}-{env_name}-{account_id}", role, spec.title, account_id, region, env_name)
        details = _platform_details(lz, role, env_name)
        account.stacks.append(Stack(stack_name(spec.stack.ROLE, env_name), account_id, region, details))
        accounts[role] = account
    return accounts


def _add_tenant_shares(lz: LandingZone, tenant: Tenant, env_name: str, platform: dict[str, Account]) -> None:
    """The tenant's share of the platform accounts (compose(): TenantServices, TenantObservability,
    TenantIdentity, TenantData)."""
    services = [f"images: {', '.join(sorted(tenant.images))}"]
    gateway = gateway_deployment(lz, env_name)
    if gateway is not None:
        models = tenant_gateway_models(tenant, gateway.settings)
        services += _wrap("FM gateway team", models) if models else ["FM gateway team: no models"]
    shared = platform["shared_services"]
    name = stack_name("TenantServices", f"{env_name}-services", tenant.tenant)
    shared.stacks.append(Stack(name, shared.account, shared.region, tuple(services)))
    for suffix, role, details in (
        ("observability", "logging", ("read-only role", "dashboard")),
        ("identity", "security", (f"OAuth2 client: {', '.join(sorted(tenant.auth_scopes))}",)),
    ):
        account = platform[role]
        name = stack_name("", f"{env_name}-{suffix}", tenant.tenant)
        account.stacks.append(Stack(name, account.account, account.region, details))
    if tenant.data.namespaces:
        lake = platform["data_lake"]
        namespaces = sorted(ns.name for ns in tenant.data.namespaces)
        name = stack_name("TenantData", f"{env_name}-data", tenant.tenant)
        lake.stacks.append(Stack(name, lake.account, lake.region, tuple(_wrap("namespaces", namespaces))))


def _tenant_account(lz: LandingZone, tenant: Tenant, env_name: str) -> Account:
    """The tenant's own account in the environment, with its UseCase stack."""
    tenant_env = tenant.environments[env_name]
    region = lz.region_of(tenant_env)
    key = f"tenant-{env_name}-{tenant_env.account}"
    account = Account(key, "tenant", f"{tenant.tenant} ({env_name})", tenant_env.account, region, env_name)
    name = stack_name("UseCase", env_name, tenant.tenant)
    account.stacks.append(Stack(name, tenant_env.account, region, _use_case_details(tenant, env_name)))
    return account


class _Flows:
    """What flows between accounts, collected per (source, target) account pair and merged into edges."""

    def __init__(self, lz: LandingZone, platform: dict[tuple[str, str], Account]) -> None:
        self.lz = lz
        self.platform = platform  # (environment, role) -> account
        self.by_pair: dict[tuple[str, str], list[Flow]] = {}

    def add(self, source: Account, target: Account, item: Flow) -> None:
        self.by_pair.setdefault((source.account, target.account), []).append(item)

    def add_platform(self, management: Account) -> None:
        """The organization trail, delegated administration, and every platform account's OAM link."""
        org = self.lz.organization
        central = org.central_environment
        self.add(management, self.platform[central, "logging"], Flow("trail", "organization trail"))
        self.add(management, self.platform[central, "security"], Flow("delegated", "delegated administrator"))
        for env_name in org.environments:
            for role in PLATFORM_ROLES:
                if role != "logging":  # every platform account but the sink's own links to it
                    self.add_observability(self.platform[env_name, role], env_name)

    def add_observability(self, account: Account, env_name: str) -> None:
        logging = self.platform[env_name, "logging"]
        if account.region != logging.region:  # OAM is regional (AgentZoneStack.link_observability)
            flow = Flow("oam", f"OAM link: none ({account.region} is not {logging.region})", active=False)
        else:
            flow = Flow("oam", "logs/metrics/traces (OAM link)")
        self.add(account, logging, flow)

    def add_tenant(self, tenant: Tenant, env_name: str, account: Account) -> None:
        """A tenant account's links: telemetry, images, gateways, identity and the data lake."""
        self.add_observability(account, env_name)
        self.add(account, self.platform[env_name, "logging"], Flow("bedrock_logs", "Bedrock invocation logs"))
        shared = self.platform[env_name, "shared_services"]
        self.add(account, shared, Flow("images", "image pull"))
        if gateway_deployed(self.lz, env_name):
            self.add(account, shared, Flow("fm_gateway", "FM gateway (PrivateLink)"))
        self.add(account, self.platform[env_name, "security"], Flow("identity", "JWT (central identity)"))
        self.add(account, shared, Flow("shared_tools", "shared tools (JWT)"))
        if tenant.data.namespaces:
            self._add_lake(tenant, env_name, account)

    def _add_lake(self, tenant: Tenant, env_name: str, account: Account) -> None:
        """The central environment's lake serves every environment: masked outside unmasked_environments."""
        org = self.lz.organization
        central_lake = self.platform[org.central_environment, "data_lake"]
        zone = "curated" if env_name in org.data_lake.unmasked_environments else "masked"
        self.add(account, central_lake, Flow("lake_share", f"Lake Formation share ({zone})"))
        if any(env_name in ns.feedback_from for ns in tenant.data.namespaces):
            self.add(account, central_lake, Flow("feedback", "feedback signals"))

    def edges(self) -> list[Edge]:
        """One edge per account pair, its flows in FLOW_ORDER; dashed when none is in effect yet."""
        out = []
        for pair in sorted(self.by_pair):
            items = sorted(self.by_pair[pair], key=lambda f: (FLOW_ORDER.index(f.kind), f.label))
            labels = tuple(f.label for f in items)
            out.append(Edge(*pair, labels, FLOW_COLORS[items[0].kind], dashed=not any(f.active for f in items)))
        return out


def _title(lz: LandingZone) -> str:
    org = lz.organization
    central_name = org.central_environment
    central = org.environments[central_name]
    return (
        f"AgentZone landing zone {org.organization} ({org.organization_id}): home region {org.home_region}, "
        f"central environment {central_name} (logging {central.logging}, security {central.security}, "
        f"data lake {central.data_lake})"
    )


def build_graph(lz: LandingZone) -> Graph:
    """What the picture shows, derived from config the way ``composition.compose`` places stacks."""
    tenants = sorted(lz.tenants, key=lambda t: t.tenant)
    management = _management_account(lz, tenants)
    environments: dict[str, list[Account]] = {}
    platform: dict[tuple[str, str], Account] = {}
    tenant_accounts: list[tuple[Tenant, str, Account]] = []
    for env_name in lz.organization.environments:
        accounts = _platform_accounts(lz, env_name)
        platform.update({(env_name, role): account for role, account in accounts.items()})
        environments[env_name] = list(accounts.values())
        for tenant in tenants:
            if env_name in tenant.environments:
                _add_tenant_shares(lz, tenant, env_name, accounts)
                account = _tenant_account(lz, tenant, env_name)
                tenant_accounts.append((tenant, env_name, account))
                environments[env_name].append(account)
    flows = _Flows(lz, platform)
    flows.add_platform(management)
    for tenant, env_name, account in tenant_accounts:
        flows.add_tenant(tenant, env_name, account)
    return Graph(_title(lz), management, environments, flows.edges())


def edges(lz: LandingZone) -> list[Edge]:
    """The labelled cross-account edges of the diagram, sorted."""
    return build_graph(lz).edges


# -------------------------------------------------------------------- DOT


def quote(text: str) -> str:
    """A DOT double-quoted string; newlines become centered line breaks."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")
    return f'"{escaped}"'


def _attrs(**attrs: str | None) -> str:
    body = ", ".join(f"{key}={quote(value)}" for key, value in attrs.items() if value is not None)
    return f"[{body}]"


def _node_id(stack: str) -> str:
    return f"stack:{stack}"


def _cluster_id(account: Account) -> str:
    return f"cluster_{account.key}"


def _account_cluster(account: Account, indent: str) -> list[str]:
    fill, color = KIND_STYLE[account.kind]
    label = f"{account.title}\n{account.account} ({account.region})"
    cluster = _cluster_id(account)
    style = _attrs(label=label, style="rounded,filled", fillcolor=fill, color=color, penwidth="1.5", id=cluster)
    lines = [f"{indent}subgraph {quote(cluster)} {{", f"{indent}  graph {style};"]
    for stack in account.stacks:
        label = "\n".join((stack.name, *stack.details))
        attrs = _attrs(label=label, tooltip=f"aws://{stack.account}/{stack.region}", color=color)
        lines.append(f"{indent}  {quote(_node_id(stack.name))} {attrs};")
    if len(account.stacks) > 1:  # one column per account, however many stacks it holds
        lines.append(f"{indent}  {{ rank=same; {' '.join(quote(_node_id(stack.name)) for stack in account.stacks)} }}")
    lines.append(f"{indent}}}")
    return lines


def _defaults(title: str) -> list[str]:
    """The graph's, nodes' and edges' default attributes."""
    graph = _attrs(
        label=title,
        labelloc="t",
        fontname="Helvetica",
        fontsize="18",
        rankdir="TB",
        compound="true",
        newrank="true",
        nodesep="0.3",
        ranksep="1.2",
        splines="spline",
        bgcolor="white",
        pad="0.3",
    )
    node = _attrs(
        shape="box",
        style="rounded,filled",
        fillcolor="white",
        fontname="Helvetica",
        fontsize="10",
        margin="0.15,0.06",
    )
    edge = _attrs(fontname="Helvetica", fontsize="9", arrowsize="0.7")
    return [f"  graph {graph};", f"  node {node};", f"  edge {edge};"]


def _environment_cluster(env_name: str, accounts: list[Account]) -> list[str]:
    """One environment: its platform accounts, then its tenants' accounts (the workloads OU)."""
    cluster = f"cluster_env_{env_name}"
    style = _attrs(label=f"environment {env_name}", style="dashed", color="#999999", fontsize="14", id=cluster)
    lines = [f"  subgraph {quote(cluster)} {{", f"    graph {style};"]
    for group, members in (
        ("platform", [a for a in accounts if a.kind != "tenant"]),
        ("workloads", [a for a in accounts if a.kind == "tenant"]),
    ):
        if not members:
            continue
        cluster = f"cluster_{group}_{env_name}"
        label = "Platform accounts" if group == "platform" else f"Workloads ({env_name} OU)"
        lines.append(f"    subgraph {quote(cluster)} {{")
        lines.append("      graph " + _attrs(label=label, style="solid", color="#cccccc", id=cluster) + ";")
        for account in members:
            lines += _account_cluster(account, "      ")
        lines.append("    }")
    lines.append("  }")
    return lines


def _edge_line(edge: Edge, clusters: dict[str, Account]) -> str:
    """An edge between two accounts' anchor stacks, clipped to the accounts' boxes."""
    source, target = clusters[edge.source], clusters[edge.target]
    attrs = _attrs(
        id=edge.id,
        label="\n".join(edge.labels),
        color=edge.color,
        fontcolor=edge.color,
        style="dashed" if edge.dashed else None,
        ltail=_cluster_id(source),
        lhead=_cluster_id(target),
        tooltip=f"{edge.source} -> {edge.target}",
    )
    return f"  {quote(_node_id(source.anchor))} -> {quote(_node_id(target.anchor))} {attrs};"


def _rank_edges(graph: Graph) -> list[str]:
    """Management on top, then the environments in promotion order, each below the previous one.

    Ranks are strict (the order of clusters within a rank is not), so invisible edges push every environment's
    top row (its tenant accounts, or its platform accounts when it has none) below the previous environment's
    bottom.
    """
    lines = []
    above = [graph.management.anchor]
    for accounts in graph.environments.values():
        tops = [a.anchor for a in accounts if a.kind == "tenant"] or [a.anchor for a in accounts if a.kind != "logging"]
        lines += [f'  {quote(_node_id(a))} -> {quote(_node_id(b))} [style="invis"];' for a in above for b in tops]
        above = [a.anchor for a in accounts if a.kind == "logging"]
    return lines


def graph_to_dot(graph: Graph) -> str:
    lines = ["digraph AgentZone {", *_defaults(graph.title)]
    lines += _account_cluster(graph.management, "  ")
    clusters = {graph.management.account: graph.management}
    for env_name, accounts in graph.environments.items():
        lines += _environment_cluster(env_name, accounts)
        clusters.update({account.account: account for account in accounts})
    lines += [_edge_line(edge, clusters) for edge in graph.edges]
    lines += _rank_edges(graph)
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_dot(lz: LandingZone) -> str:
    """Graphviz DOT of the landing zone; byte-identical for the same config."""
    return graph_to_dot(build_graph(lz))


# -------------------------------------------------------------- rendering

# Reads DOT on stdin, writes SVG on stdout; the module's entry file comes in AGENTZONE_VIZ_MODULE.
_VIZ_SCRIPT = """
import { pathToFileURL } from "node:url";
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const viz = await (await import(pathToFileURL(process.env.AGENTZONE_VIZ_MODULE).href)).instance();
const result = viz.render(Buffer.concat(chunks).toString("utf8"), { format: "svg", engine: "dot" });
for (const e of result.errors) process.stderr.write(`${e.level ?? "error"}: ${e.message.trim()}\\n`);
if (result.status !== "success") process.exit(1);
process.stdout.write(result.output);
"""


def viz_module(root: Path = PROJECT_ROOT) -> Path:
    """The entry file of @viz-js/viz under ``root``/node_modules (installed by `make install`)."""
    package_dir = root / "node_modules" / VIZ_PACKAGE
    try:
        package = json.loads((package_dir / "package.json").read_text())
    except (OSError, ValueError):
        raise RendererUnavailable(
            f"rendering needs Graphviz `dot` or the npm package {VIZ_PACKAGE}, not found in "
            f"{root / 'node_modules'}: {FIX_HINT}"
        ) from None
    entry = package_dir / package.get("main", "dist/viz.js")
    if not entry.is_file():
        raise RendererUnavailable(f"{VIZ_PACKAGE} is incomplete ({entry} missing): {FIX_HINT}")
    return entry


def _run(command: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(command, capture_output=True, timeout=RENDER_TIMEOUT_SECONDS, check=False, **kwargs)
    except subprocess.TimeoutExpired:
        raise DiagramError(f"{what} did not finish within {RENDER_TIMEOUT_SECONDS} s") from None
    except OSError as error:
        raise RendererUnavailable(f"cannot run {command[0]}: {error.strerror or error}") from None
    if done.returncode != 0:
        message = " ".join(done.stderr.decode(errors="replace").split()) or f"exit code {done.returncode}"
        raise DiagramError(f"{what} failed: {message[:500]}")
    return done


def svg_with_viz(dot: str, *, root: Path = PROJECT_ROOT, node: str | None = None) -> str:
    """SVG from Graphviz compiled to WebAssembly, run by Node.js."""
    node = node or shutil.which("node")
    if node is None:
        raise RendererUnavailable(
            f"rendering needs Graphviz `dot` or Node.js (with {VIZ_PACKAGE}) on PATH: "
            f"install Node.js 20+ and {FIX_HINT}"
        )
    env = {**os.environ, "AGENTZONE_VIZ_MODULE": str(viz_module(root))}
    done = _run([node, "--input-type=module", "-e", _VIZ_SCRIPT], f"{VIZ_PACKAGE} (node)", input=dot.encode(), env=env)
    return done.stdout.decode()


def with_dot_binary(dot: str, fmt: str, binary: str) -> bytes:
    return _run([binary, f"-T{fmt}"], "Graphviz dot", input=dot.encode()).stdout


def svg_to_png(svg: str) -> bytes:
    try:
        import resvg_py  # lazy: optional; without it the error says how to get a PNG
    except ImportError:
        raise RendererUnavailable(
            f"PNG output needs Graphviz `dot` or the Python package resvg-py: {FIX_HINT} (or write .svg)"
        ) from None
    # resvg matches families by name only (no fontconfig aliases) and has no Helvetica on most Linux machines:
    # offer metric-alike fallbacks before the generic family, or text would be dropped.
    svg = svg.replace('font-family="Helvetica,sans-Serif"', f'font-family="{PNG_FONTS}"')
    try:
        return bytes(resvg_py.svg_to_bytes(svg_string=svg, background="white", dpi=PNG_DPI, zoom=PNG_ZOOM))
    except ValueError as error:
        raise DiagramError(f"resvg could not rasterize the SVG: {' '.join(str(error).split())}") from None


def render_bytes(dot: str, fmt: str) -> bytes:
    """The picture in ``fmt``: Graphviz `dot` if installed, else @viz-js/viz (+ resvg for PNG)."""
    fmt = check_format(fmt)
    if fmt == "dot":
        return dot.encode()
    binary = shutil.which("dot")
    if binary is not None:
        return with_dot_binary(dot, fmt, binary)
    svg = svg_with_viz(dot)
    return svg.encode() if fmt == "svg" else svg_to_png(svg)


def check_format(fmt: str) -> str:
    normalized = fmt.lower().lstrip(".")
    if normalized not in FORMATS:
        raise DiagramFormatError(f"unknown diagram format {fmt!r}: use one of {', '.join(FORMATS)}")
    return normalized


def format_for(out: Path) -> str:
    """The format a file name asks for (.svg, .png, .dot or .gv)."""
    fmt = SUFFIXES.get(Path(out).suffix.lower())
    if fmt is None:
        raise DiagramFormatError(
            f"cannot tell the diagram format from {str(out)!r}: name it .svg, .png or .dot, or pass the format"
        )
    return fmt


def render(lz: LandingZone, *, fmt: str, out: Path) -> Path:
    """Write the diagram of ``lz`` to ``out`` in ``fmt`` (svg, png or dot); returns ``out``."""
    data = render_bytes(to_dot(lz), fmt)
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    except OSError as error:
        raise DiagramError(f"cannot write {out}: {error.strerror or error}") from None
    return out


def write_diagram(lz: LandingZone, out: Path, fmt: str | None = None) -> Path:
    """What `agentzone diagram` calls: ``fmt`` defaults to the one ``out``'s suffix names."""
    fmt = check_format(fmt) if fmt is not None else format_for(Path(out))
    return render(lz, fmt=fmt, out=Path(out))
