"""Read a synthesized cloud assembly back: stacks, resource counts, acknowledgements."""

from __future__ import annotations

import json
import re
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
    acks: tuple[Acknowledgement, ...]

    @property
    def acknowledgements(self) -> int:
        return len(self.acks)

    @property
    def acknowledgements_by_pack(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for ack in self.acks:
            counts[ack.pack] = counts.get(ack.pack, 0) + 1
        return dict(sorted(counts.items()))


VALIDATOR_PACK = "CloudFormation-Validate"


@dataclass(frozen=True)
class Acknowledgement:
    stack: str
    path: str
    pack: str
    finding: str
    reason: str


def stack_artifacts(outdir: Path | str):
    """(stack name, aws://account/region, template path) per stack, in manifest (composition) order."""
    outdir = Path(outdir)
    manifest = json.loads((outdir / "manifest.json").read_text())
    for name, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") == "aws:cloudformation:stack":
            yield name, artifact["environment"], outdir / artifact["properties"]["templateFile"]


def acknowledgements(outdir: Path | str, stack: str) -> list[Acknowledgement]:
    """Every acknowledged finding of one stack, from its assembly metadata."""
    metadata_file = Path(outdir) / f"{stack}.metadata.json"
    if not metadata_file.is_file():
        return []
    out = []
    for path, entries in json.loads(metadata_file.read_text()).items():
        for entry in entries:
            if entry.get("type") == ACK_METADATA:
                for rule, reason in entry.get("data", {}).items():
                    # "Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]": the prefix ends before the brackets.
                    head, bracket, tail = rule.partition("[")
                    rule_id = head.split("::")[-1]
                    # aws-cdk-lib's own CloudFormation schema validator reports cfn-lint style ids (F3002).
                    pack = VALIDATOR_PACK if re.fullmatch(r"[EFW]\d+", rule_id) else rule_id.rsplit("-", 1)[0]
                    out.append(Acknowledgement(stack, path, pack, rule_id + bracket + tail, reason))
    return sorted(out, key=lambda a: (a.path, a.finding))


def summarize(outdir: Path | str) -> list[StackSummary]:
    out = []
    for name, environment, template_path in stack_artifacts(outdir):
        template = json.loads(template_path.read_text())
        meta = template.get("Metadata", {}).get(TEMPLATE_METADATA_KEY, {})
        account, region = environment.removeprefix("aws://").split("/")
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
                acks=tuple(acknowledgements(outdir, name)),
            )
        )
    return out


def acknowledgement_report(stacks: list[StackSummary]) -> dict:
    """JSON-ready: per pack and stack, every acknowledged finding with its reason."""
    report: dict = {}
    for stack in stacks:
        for ack in stack.acks:
            report.setdefault(ack.pack, {}).setdefault(stack.name, []).append(
                {"path": ack.path, "finding": ack.finding, "reason": ack.reason}
            )
    return report


def render_pack_table(stacks: list[StackSummary]) -> str:
    packs = sorted({p for s in stacks for p in s.acknowledgements_by_pack})
    totals = {p: sum(s.acknowledgements_by_pack.get(p, 0) for s in stacks) for p in packs}
    return "acknowledgements by pack: " + (", ".join(f"{p} {n}" for p, n in totals.items()) or "none")


def render_table(stacks: list[StackSummary]) -> str:
    header = ("stack", "role", "env", "account", "region", "resources", "acks")
    rows = [header] + [
        (
            s.name,
            s.role + (f" ({s.tenant})" if s.tenant else ""),
            s.environment,
            s.account,
            s.region,
            str(s.resources),
            str(s.acknowledgements),
        )
        for s in stacks
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if i < 5 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
