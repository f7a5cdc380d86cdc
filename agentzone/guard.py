"""Replacement guard: would deploying assembly NEW over OLD lose a stateful resource?

A stateful resource is lost to its stack when its logical id disappears, its
type changes, a create-only property changes (CloudFormation replaces it;
create-only paths come from the resource schemas cfn-lint ships), or its stack
moves to another account or region. DeletionPolicy Retain keeps the data, but
the resource is orphaned and a new, empty one takes its place.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from .report import stack_artifacts

STATEFUL_TYPES = frozenset(
    {
        "AWS::S3::Bucket",
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::KMS::Key",
        "AWS::Logs::LogGroup",
        "AWS::BedrockAgentCore::Memory",
        "AWS::S3Vectors::VectorBucket",
        "AWS::S3Vectors::Index",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance",
        "AWS::Cognito::UserPool",
        "AWS::ECR::Repository",
        "AWS::EFS::FileSystem",
        "AWS::SecretsManager::Secret",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::OpenSearchServerless::Collection",
        "AWS::Kinesis::Stream",
        "AWS::SQS::Queue",
    }
)

_MISSING = object()


@dataclass(frozen=True, order=True)
class Violation:
    stack: str
    logical_id: str
    resource_type: str
    reason: str

    def render(self) -> str:
        return f"{self.stack}/{self.logical_id} ({self.resource_type}): {self.reason}"


@cache
def create_only_paths(resource_type: str, region: str = "us-east-1") -> tuple[tuple[str, ...], ...]:
    """Create-only property paths, e.g. ('BucketName',), from cfn-lint's resource schema."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER  # lazy: cfn-lint's schemas take ~2 s to load

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    except Exception:  # unknown type: no schema, nothing we can prove
        return ()
    paths = []
    for pointer in schema.get("createOnlyProperties", []):
        parts = pointer.split("/")[2:]  # drop '' and 'properties'
        paths.append(tuple(parts))
    return tuple(paths)


def _get(properties: dict, path: tuple[str, ...]):
    current = properties
    for part in path:
        if not isinstance(current, dict) or part not in current:
            return _MISSING
        current = current[part]
    return current


def load_assembly(outdir: Path | str) -> dict[str, tuple[str, dict]]:
    """stack name -> (environment, template)."""
    return {name: (env, json.loads(path.read_text())) for name, env, path in stack_artifacts(outdir)}


def compare(old: dict[str, tuple[str, dict]], new: dict[str, tuple[str, dict]]) -> list[Violation]:
    violations: list[Violation] = []
    for stack, (old_env, old_template) in old.items():
        stateful = {k: v for k, v in old_template.get("Resources", {}).items() if v["Type"] in STATEFUL_TYPES}
        if not stateful:
            continue
        if stack not in new:
            violations += [
                Violation(stack, k, v["Type"], "stack removed: resource would be orphaned") for k, v in stateful.items()
            ]
            continue
        new_env, new_template = new[stack]
        if new_env != old_env:
            violations += [
                Violation(
                    stack, k, v["Type"], f"stack moves from {old_env} to {new_env}: resource would be recreated there"
                )
                for k, v in stateful.items()
            ]
            continue
        new_resources = new_template.get("Resources", {})
        for logical_id, resource in stateful.items():
            after = new_resources.get(logical_id)
            if after is None:
                violations.append(
                    Violation(
                        stack, logical_id, resource["Type"], "logical id removed: resource would be deleted or orphaned"
                    )
                )
                continue
            if after["Type"] != resource["Type"]:
                violations.append(
                    Violation(
                        stack,
                        logical_id,
                        resource["Type"],
                        f"type changes to {after['Type']}: resource would be replaced",
                    )
                )
                continue
            before_props, after_props = resource.get("Properties", {}), after.get("Properties", {})
            for path in create_only_paths(resource["Type"]):
                if _get(before_props, path) != _get(after_props, path):
                    violations.append(
                        Violation(
                            stack,
                            logical_id,
                            resource["Type"],
                            f"create-only property {'.'.join(path)} changes: resource would be replaced",
                        )
                    )
    return sorted(violations)


def guard(old_dir: Path | str, new_dir: Path | str) -> list[Violation]:
    return compare(load_assembly(old_dir), load_assembly(new_dir))


def violations_json(violations: list[Violation]) -> str:
    return json.dumps([asdict(v) for v in violations], indent=2)
