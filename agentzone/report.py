"""Read a synthesized cloud assembly back: stacks, resource counts, acknowledgements."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ACK_METADATA = "aws:cdk:acknowledged-rules"
TEMPLATE_METADATA_KEY = "AgentZone"


@dataclass(frozen=True)
class StackSummary:
    name: str
    role: str
    environment: str
    tenant: str
    account: str
    region: str
    resources: int
    template_bytes: int
    acknowledgements: int


def _acknowledgement_count(metadata_file: Path) -> int:
    if not metadata_file.is_file():
        return 0
    count = 0
    for entries in json.loads(metadata_file.read_text()).values():
        for entry in entries:
            if entry.get("type") == ACK_METADATA:
                count += len(entry.get("data", {}))
    return count


def summarize(outdir: Path | str) -> list[StackSummary]:
    outdir = Path(outdir)
    manifest = json.loads((outdir / "manifest.json").read_text())
    out = []
    for name, artifact in manifest.get("artifacts", {}).items():  # composition order
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template_path = outdir / artifact["properties"]["templateFile"]
        template = json.loads(template_path.read_text())
        meta = template.get("Metadata", {}).get(TEMPLATE_METADATA_KEY, {})
        account, region = artifact["environment"].removeprefix("aws://").split("/")
        out.append(
            StackSummary(
                name=name,
                role=meta.get("role", "?"),
                environment=meta.get("environment", "?"),
                tenant=meta.get("tenant", ""),
                account=account,
                region=region,
                resources=len(template.get("Resources", {})),
                template_bytes=template_path.stat().st_size,
                acknowledgements=_acknowledgement_count(outdir / f"{name}.metadata.json"),
            )
        )
    return out


def render_table(stacks: list[StackSummary]) -> str:
    header = ("stack", "role", "env", "account", "region", "resources", "acks")
    rows = [header] + [
        (s.name, s.role + (f" ({s.tenant})" if s.tenant else ""), s.environment, s.account, s.region, str(s.resources), str(s.acknowledgements))
        for s in stacks
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i < 5 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
