"""`agentzone deploy-plan`: the order one `cdk deploy --all` or one pipeline run deploys in, read from an assembly.

Stacks come in waves: a stack's wave is one more than the latest wave of the stacks it depends on (the manifest's
dependencies, which `agentzone synth` completes for stacks of different units), so every stack of a wave can
deploy side by side once the waves before it are done; each line names the account, region, stack and what it
waits for. A pipeline stack (CDK Pipelines) also gets its run: the CodePipeline's stages in order and, in each,
its actions by run order (deploys with their account, region and stack; approvals; build steps).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..command import run_alone

STACK = "aws:cloudformation:stack"
ACCOUNT_IN_ARN = re.compile(r":iam::(\d{12}):role/")


class PlanError(ValueError):
    """The assembly cannot be read (missing, not an assembly): the user's input, reported as one line."""


@dataclass(frozen=True)
class PlannedStack:
    stack: str
    account: str
    region: str
    waits_for: tuple[str, ...]


@dataclass(frozen=True)
class PipelineAction:
    run_order: int
    kind: str  # deploy, approval, build, source, other
    name: str
    stack: str = ""
    account: str = ""
    region: str = ""


def _manifest(assembly: Path) -> dict[str, Any]:
    path = assembly / "manifest.json"
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise PlanError(f"{path} not found: synthesize first (`make synth`) or pass --assembly") from None
    except json.JSONDecodeError as exc:
        raise PlanError(f"{path} is not JSON ({exc})") from None
    return manifest


def stack_waves(assembly: Path) -> list[list[PlannedStack]]:
    """The assembly's stacks in dependency waves (ties in manifest order)."""
    artifacts = {k: v for k, v in _manifest(assembly).get("artifacts", {}).items() if v.get("type") == STACK}
    names = {k: v.get("properties", {}).get("stackName") or k for k, v in artifacts.items()}
    needs = {k: [d for d in v.get("dependencies", []) if d in artifacts] for k, v in artifacts.items()}
    wave: dict[str, int] = {}

    def depth(artifact: str, trail: tuple[str, ...] = ()) -> int:
        if artifact in trail:
            raise PlanError(f"dependency cycle in {assembly}: {' -> '.join(names[a] for a in (*trail, artifact))}")
        if artifact not in wave:
            wave[artifact] = 1 + max((depth(d, (*trail, artifact)) for d in needs[artifact]), default=-1)
        return wave[artifact]

    out: list[list[PlannedStack]] = [[] for _ in range(1 + max((depth(a) for a in artifacts), default=-1))]
    for artifact, spec in artifacts.items():
        account, region = spec.get("environment", "aws://unknown/unknown").removeprefix("aws://").split("/")
        waits = tuple(sorted(names[d] for d in needs[artifact]))
        out[wave[artifact]].append(PlannedStack(names[artifact], account, region, waits))
    return out


def _action(action: dict[str, Any], default_region: str) -> PipelineAction:
    provider = action.get("ActionTypeId", {}).get("Provider", "")
    config = action.get("Configuration", {})
    order, name = int(action.get("RunOrder", 1)), action.get("Name", "")
    if provider == "CloudFormation" and config.get("ActionMode") == "CHANGE_SET_EXECUTE":
        account = ACCOUNT_IN_ARN.search(json.dumps(action.get("RoleArn", "")))
        region = action.get("Region", default_region)
        return PipelineAction(order, "deploy", name, config.get("StackName", ""), account[1] if account else "", region)
    kinds = {"Manual": "approval", "CodeBuild": "build", "CodeStarSourceConnection": "source", "S3": "source"}
    return PipelineAction(order, kinds.get(provider, "other"), name)


def pipeline_runs(assembly: Path) -> dict[str, list[tuple[str, list[PipelineAction]]]]:
    """Pipeline name -> its stages in order, each with its actions by run order (change-set preparations left
    out: each precedes its execution)."""
    runs: dict[str, list[tuple[str, list[PipelineAction]]]] = {}
    for artifact in _manifest(assembly).get("artifacts", {}).values():
        if artifact.get("type") != STACK:
            continue
        region = artifact.get("environment", "aws://unknown/unknown").rsplit("/", 1)[-1]
        template = json.loads((assembly / artifact["properties"]["templateFile"]).read_text())
        for resource in template.get("Resources", {}).values():
            if resource.get("Type") != "AWS::CodePipeline::Pipeline":
                continue
            props = resource.get("Properties", {})
            stages = []
            for stage in props.get("Stages", []):
                actions = [
                    _action(a, region)
                    for a in stage.get("Actions", [])
                    if a.get("Configuration", {}).get("ActionMode") != "CHANGE_SET_REPLACE"
                ]
                stages.append((stage.get("Name", ""), sorted(actions, key=lambda a: (a.run_order, a.name))))
            runs[str(props.get("Name", artifact.get("displayName", "")))] = stages
    return runs


def render(waves: list[list[PlannedStack]], runs: dict[str, list[tuple[str, list[PipelineAction]]]]) -> str:
    lines = [f"cdk deploy --all: {sum(map(len, waves))} stacks in {len(waves)} waves"]
    for number, stacks in enumerate(waves, 1):
        lines.append(f"wave {number}")
        for s in stacks:
            after = f"  after {', '.join(s.waits_for)}" if s.waits_for else ""
            lines.append(f"  {s.account}/{s.region}  {s.stack}{after}")
    for pipeline, stages in runs.items():
        lines += ["", f"pipeline {pipeline}: {len(stages)} stages"]
        for name, actions in stages:
            lines.append(f"stage {name}")
            if name == "Assets":  # CDK Pipelines' asset publishing: one build step per asset
                lines.append(f"       publish {len(actions)} asset(s)")
                continue
            for a in actions:
                where = f"{a.account}/{a.region}  {a.stack}" if a.kind == "deploy" else a.name
                lines.append(f"  {a.run_order:>2}. {a.kind:<8} {where}")
    return "\n".join(lines)


def cmd_deploy_plan(args) -> int:
    assembly = Path(args.assembly)
    try:
        waves, runs = stack_waves(assembly), pipeline_runs(assembly)
    except PlanError as exc:
        print(f"agentzone deploy-plan: {exc}", file=sys.stderr)
        return 2
    if args.json:
        document = {
            "waves": [[asdict(s) for s in stacks] for stacks in waves],
            "pipelines": {
                p: [{"stage": n, "actions": [asdict(a) for a in acts]} for n, acts in st] for p, st in runs.items()
            },
        }
        print(json.dumps(document, indent=2))
    else:
        print(render(waves, runs))
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "deploy-plan",
        help="the waves `cdk deploy --all` and each pipeline run deploy in, from a synthesized assembly",
        description=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--assembly", default="cdk.out", help="synthesized assembly (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="waves and pipeline stages as JSON")
    p.set_defaults(func=cmd_deploy_plan)


def main(argv: list[str] | None = None) -> int:
    return run_alone("deploy-plan", add_parser, argv)
