"""`agentzone diagram`: the landing zone as DOT, SVG and PNG, drawn from config alone."""

from __future__ import annotations

import re
import struct
import sys
import xml.etree.ElementTree as ET

import pytest

from agentzone import diagram
from agentzone.config import load_landing_zone
from agentzone.config.model import PLATFORM_ROLES, TenantData
from agentzone.diagram import DiagramError, DiagramFormatError, RendererUnavailable, render, to_dot, write_diagram
from agentzone.stacks import PLATFORM_ACCOUNTS, UnknownPlatformRole

from .conftest import SAMPLE_CONFIG

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CENTRAL_LAKE = "100000000034"  # prod, the sample's audit.central_environment
EDGE = re.compile(r'^  "stack:[^"]+" -> "stack:[^"]+" \[id="edge-(\d{12})-(\d{12})", label="((?:[^"\\]|\\.)*)"(.*)\];$')


@pytest.fixture(scope="module")
def lz():
    return load_landing_zone(SAMPLE_CONFIG)


@pytest.fixture(scope="module")
def composed(sample_assembly):
    """What compose() places where: stack name -> aws://account/region, as the suite's synth of the sample (compose,
    then synth) resolved them; composing the sample again here would only repeat that work."""
    return dict(sample_assembly.environments)


def labelled_edges(dot: str) -> dict[tuple[str, str], tuple[list[str], str]]:
    """(source account, target account) -> (label lines, remaining attributes)."""
    out = {}
    for line in dot.splitlines():
        match = EDGE.match(line)
        if match:
            source, target, label, rest = match.groups()
            out[source, target] = (label.split("\\n"), rest)
    return out


def with_environment(lz, name: str, **changes):
    org = lz.organization
    environments = {**org.environments, name: org.environments[name].model_copy(update=changes)}
    return lz.model_copy(update={"organization": org.model_copy(update={"environments": environments})})


# ------------------------------------------------------------------------ DOT


def test_every_stack_compose_creates_is_drawn_in_its_account(lz, composed):
    dot = to_dot(lz)
    drawn = dict(re.findall(r'^\s+"stack:([^"]+)" \[label="[^"]*", tooltip="(aws://\d{12}/[a-z0-9-]+)"', dot, re.M))
    assert drawn == composed
    # TenantData stacks only where a tenant has namespaces, in every environment's data lake account.
    assert drawn["AgentZone-claims-dev-data"] == "aws://100000000014/eu-west-1"
    assert drawn["AgentZone-fraud-prod"] == "aws://666666666666/eu-central-1"


def test_every_account_of_the_sample_is_labelled(lz):
    dot = to_dot(lz)
    org = lz.organization
    accounts = {org.management_account}
    accounts |= {getattr(env, role) for env in org.environments.values() for role in PLATFORM_ROLES}
    accounts |= {env.account for tenant in lz.tenants for env in tenant.environments.values()}
    assert len(accounts) == 19
    labelled = set(re.findall(r'^\s+graph \[label="[^"]*\\n(\d{12}) \([a-z0-9-]+\)"', dot, re.M))
    assert labelled == accounts


def test_environments_in_promotion_order_with_platform_and_tenant_accounts(lz):
    dot = to_dot(lz)
    positions = [dot.index(f'subgraph "cluster_env_{env}"') for env in ("dev", "staging", "prod")]
    assert positions == sorted(positions)
    assert 'label="fraud (prod)\\n666666666666 (eu-central-1)"' in dot
    assert 'label="Data lake\\n100000000034 (eu-west-1)"' in dot
    # The tenant account shows what it runs there: blueprints, agents with their releases, data namespaces.
    claims_prod = re.search(r'"stack:AgentZone-claims-prod" \[label="([^"]*)"', dot).group(1).split("\\n")
    assert claims_prod[0] == "AgentZone-claims-prod"
    assert "blueprints: guardrail, memory, prompt_store" in claims_prod
    assert "agent intake (A2A) 1.4.2 [PROD=v7]" in claims_prod
    assert "agent settlement (HTTP) 0.8.3 [PROD=v2]" in claims_prod
    assert "data: feedback, history" in claims_prod
    assert "agent investigator (MCP) 2.0.1 [CANARY=v4, PROD=v3]" in re.search(
        r'"stack:AgentZone-fraud-prod" \[label="([^"]*)"', dot
    ).group(1)


def test_platform_accounts_are_titled_and_styled_from_the_role_table(lz):
    graph = diagram.build_graph(lz)
    for accounts in graph.environments.values():
        platform = [(a.kind, a.title) for a in accounts if a.kind != "tenant"]
        assert platform == [(name, role.title) for name, role in PLATFORM_ACCOUNTS.items()]
    assert set(diagram.PLATFORM_DETAILS) == set(PLATFORM_ACCOUNTS)
    assert set(diagram.KIND_STYLE) == {"management", *PLATFORM_ACCOUNTS, "tenant"}


def test_an_unknown_platform_role_is_an_error_not_the_data_lake(lz, monkeypatch):
    monkeypatch.setattr(diagram, "PLATFORM_ROLES", (*PLATFORM_ROLES, "audit"))
    with pytest.raises(UnknownPlatformRole, match="unknown platform account role 'audit'"):
        to_dot(lz)
    monkeypatch.setattr(diagram, "PLATFORM_ROLES", PLATFORM_ROLES)
    details = {role: describe for role, describe in diagram.PLATFORM_DETAILS.items() if role != "data_lake"}
    monkeypatch.setattr(diagram, "PLATFORM_DETAILS", details)
    with pytest.raises(UnknownPlatformRole, match="no details for platform account role 'data_lake'"):
        to_dot(lz)


def test_data_lake_edges_go_to_the_central_lake_masked_outside_unmasked_environments(lz):
    edges = labelled_edges(to_dot(lz))
    for account, zone in [
        ("111111111111", "masked"),
        ("222222222222", "masked"),
        ("333333333333", "curated"),
        ("444444444444", "masked"),
        ("555555555555", "masked"),
        ("666666666666", "curated"),
    ]:
        labels, _ = edges[account, CENTRAL_LAKE]
        assert f"Lake Formation share ({zone})" in labels
        assert not any(other in label for label in labels for other in {"masked", "curated"} - {zone})
    # feedback_from: [prod] for both tenants
    assert "feedback signals" in edges["333333333333", CENTRAL_LAKE][0]
    assert "feedback signals" in edges["666666666666", CENTRAL_LAKE][0]
    assert "feedback signals" not in edges["111111111111", CENTRAL_LAKE][0]
    # Only the central lake shares with tenant accounts.
    assert not [key for key in edges if key[1] in {"100000000014", "100000000024"} and key[0] != key[1]]


def test_platform_edges(lz):
    edges = labelled_edges(to_dot(lz))
    assert edges["100000000000", "100000000032"][0] == ["organization trail"]
    assert edges["100000000000", "100000000033"][0] == ["delegated administrator"]
    for env in lz.organization.environments.values():
        for member in (env.shared_services, env.security, env.data_lake):
            assert edges[member, env.logging][0] == ["logs/metrics/traces (OAM link)"]


def test_tenant_edges(lz):
    edges = labelled_edges(to_dot(lz))
    labels, attrs = edges["111111111111", "100000000012"]  # claims dev -> dev logging
    assert labels == ["logs/metrics/traces (OAM link)", "Bedrock invocation logs"]
    assert 'style="dashed"' not in attrs
    assert edges["111111111111", "100000000013"][0] == ["JWT (central identity)"]
    assert edges["111111111111", "100000000011"][0] == ["FM gateway (PrivateLink)", "shared tools (JWT)", "image pull"]
    # fraud prod runs in eu-central-1: OAM is regional, so it is not linked to the eu-west-1 sink.
    labels, _ = edges["666666666666", "100000000032"]
    assert labels == ["OAM link: none (eu-central-1 is not eu-west-1)", "Bedrock invocation logs"]
    assert edges["666666666666", "100000000031"][0][-1] == "image pull"


def test_edges_follow_what_is_configured(lz):
    bare = with_environment(lz, "staging", fm_gateway_certificate_arn=None)
    edges = labelled_edges(to_dot(bare))
    # The sink and the user pool are published by the environment's own stacks: linked without any config.
    assert edges["222222222222", "100000000023"][0] == ["JWT (central identity)"]
    assert edges["222222222222", "100000000021"][0] == ["shared tools (JWT)", "image pull"]  # no FM gateway
    labels, attrs = edges["100000000021", "100000000022"]
    assert labels == ["logs/metrics/traces (OAM link)"] and 'style="dashed"' not in attrs
    # fraud's eu-central-1 prod account trusts the eu-west-1 pool too (read across regions).
    assert edges["666666666666", "100000000033"][0] == ["JWT (central identity)"]
    assert edges["111111111111", "100000000011"][0] == [
        "FM gateway (PrivateLink)",
        "shared tools (JWT)",
        "image pull",
    ]  # dev unchanged

    org = lz.organization
    all_masked = lz.model_copy(
        update={
            "organization": org.model_copy(
                update={"data_lake": org.data_lake.model_copy(update={"unmasked_environments": []})}
            )
        }
    )
    assert "Lake Formation share (masked)" in labelled_edges(to_dot(all_masked))["333333333333", CENTRAL_LAKE][0]

    no_data = lz.model_copy(
        update={
            "tenants": tuple(
                t.model_copy(update={"data": TenantData()}) if t.tenant == "fraud" else t for t in lz.tenants
            )
        }
    )
    dot = to_dot(no_data)
    assert "AgentZone-fraud-prod-data" not in dot and "AgentZone-claims-prod-data" in dot
    assert ("666666666666", CENTRAL_LAKE) not in labelled_edges(dot)


def test_edges_api_matches_dot(lz):
    edges = diagram.edges(lz)
    assert edges == sorted(edges, key=lambda e: (e.source, e.target))
    assert {(e.source, e.target): list(e.labels) for e in edges} == {
        k: v[0] for k, v in labelled_edges(to_dot(lz)).items()
    }


def test_dot_is_deterministic(lz):
    dot = to_dot(lz)
    assert to_dot(lz) == dot
    assert to_dot(load_landing_zone(SAMPLE_CONFIG)) == dot
    assert to_dot(lz.model_copy(update={"tenants": tuple(reversed(lz.tenants))})) == dot


def test_dot_is_ascii(lz):
    """Graphviz has no text metrics for non-ASCII characters in its built-in fonts (and warns)."""
    assert to_dot(lz).isascii()


def test_quote_escapes():
    assert diagram.quote('say "hi" \\ bye\nnext') == '"say \\"hi\\" \\\\ bye\\nnext"'


# ------------------------------------------------------------------ rendering


def test_viz_is_installed_from_the_lock():
    """CI runs `make install` (npm ci) first; the renderer must come from package-lock.json."""
    assert diagram.PROJECT_ROOT.joinpath("package-lock.json").read_text().count('"node_modules/@viz-js/viz"') == 1
    assert diagram.viz_module().is_file()


def test_svg(lz, tmp_path):
    out = write_diagram(lz, tmp_path / "lz.svg")
    assert out == tmp_path / "lz.svg"
    text = out.read_text()
    assert "<svg" in text
    root = ET.fromstring(text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "666666666666 (eu-central-1)" in texts
    assert "Lake Formation share (curated)" in texts


def test_svg_through_node_and_viz(lz):
    """The fallback used where Graphviz is not installed (tested even where it is)."""
    root = ET.fromstring(diagram.svg_with_viz(to_dot(lz)))
    assert root.tag.endswith("svg")
    assert any(t.text == "AgentZone-DataLake-prod" for t in root.iter("{http://www.w3.org/2000/svg}text"))


def test_png(lz, tmp_path):
    data = render(lz, fmt="png", out=tmp_path / "nested" / "lz.png").read_bytes()
    assert data.startswith(PNG_MAGIC)
    width, height = struct.unpack(">II", data[16:24])
    assert width > 1000 and height > 1000
    assert len(data) > 100_000


def test_png_from_svg_keeps_text():
    """resvg drops text in fonts it cannot find: the fallback families must reach it."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="200pt" height="40pt">'
        '<text x="5" y="30" font-family="Helvetica,sans-Serif" font-size="28">AgentZone</text></svg>'
    )
    blank = '<svg xmlns="http://www.w3.org/2000/svg" width="200pt" height="40pt"></svg>'
    assert diagram.svg_to_png(svg).startswith(PNG_MAGIC)
    assert len(diagram.svg_to_png(svg)) > len(diagram.svg_to_png(blank)) + 500


def test_dot_file(lz, tmp_path):
    assert write_diagram(lz, tmp_path / "lz.dot").read_text() == to_dot(lz)
    assert write_diagram(lz, tmp_path / "lz.gv").read_text() == to_dot(lz)
    assert write_diagram(lz, tmp_path / "lz.txt", fmt="DOT").read_text() == to_dot(lz)


@pytest.mark.parametrize("name, fmt", [("lz.pdf", None), ("lz", None), ("lz.svg", "jpeg")])
def test_bad_format(lz, tmp_path, name, fmt):
    with pytest.raises(DiagramFormatError) as raised:
        write_diagram(lz, tmp_path / name, fmt)
    assert isinstance(raised.value, DiagramError) and isinstance(raised.value, ValueError)
    assert raised.value.exit_code == 2
    assert "\n" not in str(raised.value) and "svg" in str(raised.value)
    assert not (tmp_path / name).exists()


def test_no_renderer(lz, tmp_path, monkeypatch):
    monkeypatch.setattr(diagram.shutil, "which", lambda name: None)
    with pytest.raises(RendererUnavailable, match=r"Node\.js.*`make install`") as raised:
        write_diagram(lz, tmp_path / "lz.svg")
    assert raised.value.exit_code == 1 and "\n" not in str(raised.value)
    assert not (tmp_path / "lz.svg").exists()
    assert write_diagram(lz, tmp_path / "lz.dot").exists()  # DOT needs no renderer


def test_viz_not_installed(tmp_path):
    with pytest.raises(RendererUnavailable, match=r"@viz-js/viz.*run `make install`"):
        diagram.svg_with_viz("digraph { a -> b }", root=tmp_path)


def test_resvg_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "resvg_py", None)
    with pytest.raises(RendererUnavailable, match="resvg-py"):
        diagram.svg_to_png("<svg/>")


def test_invalid_dot_is_a_one_line_error():
    with pytest.raises(DiagramError) as raised:
        diagram.svg_with_viz("digraph { a -> }")
    assert "\n" not in str(raised.value)
    assert str(raised.value).startswith("@viz-js/viz (node) failed: ")


def test_graphviz_dot_is_preferred_when_installed(lz, tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text('#!/bin/sh\ncat > "$0.in"\necho "rendered with $1"\n')
    fake.chmod(0o755)
    real_which = diagram.shutil.which
    monkeypatch.setattr(diagram.shutil, "which", lambda name: str(fake) if name == "dot" else real_which(name))
    assert write_diagram(lz, tmp_path / "lz.png").read_text() == "rendered with -Tpng\n"
    assert write_diagram(lz, tmp_path / "lz.svg").read_text() == "rendered with -Tsvg\n"
    assert (tmp_path / "dot.in").read_text() == to_dot(lz)
