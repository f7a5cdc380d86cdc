"""A synthesized cloud assembly, read back as deployed names and ARNs.

CloudFormation only knows most physical names at deploy time. To simulate
requests offline, every intrinsic (Ref, Fn::GetAtt, Fn::Join, Fn::Sub,
Fn::ImportValue, pseudo parameters, SSM-typed parameters) is resolved to the
string it would deploy as: explicit names where the template sets one, and a
deterministic stand-in (``<stack>-<logical id>``) where CloudFormation would
generate one. Stand-ins never collide across stacks, so a name one stack builds
by hand for another can only resolve if the other stack really sets it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

# A template fragment as JSON gives it, or its resolved value: strings mostly, but lists, maps and numbers too.
Fragment = Any

PARTITION = "aws"

# Property that carries a resource's physical name, by type (CloudFormation's own property names).
NAME_PROPERTY = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Policy": "PolicyName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::SSM::Parameter": "Name",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::CodeBuild::Project": "Name",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
    "AWS::Glue::Database": "DatabaseInput.Name",
    "AWS::Oam::Sink": "Name",
    "AWS::S3Vectors::VectorBucket": "VectorBucketName",
    "AWS::S3Vectors::Index": "IndexName",
    "AWS::SageMaker::MlflowTrackingServer": "TrackingServerName",
    "AWS::BedrockAgentCore::Runtime": "AgentRuntimeName",
    "AWS::BedrockAgentCore::Memory": "Name",
    "AWS::BedrockAgentCore::Gateway": "Name",
    "AWS::BedrockAgentCore::PolicyEngine": "Name",
    "AWS::BedrockAgentCore::RuntimeEndpoint": "Name",
    "AWS::Bedrock::Guardrail": "Name",
    "AWS::Bedrock::Prompt": "Name",
    "AWS::Bedrock::KnowledgeBase": "Name",
    "AWS::Bedrock::ApplicationInferenceProfile": "InferenceProfileName",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::BedrockAgentCore::ApiKeyCredentialProvider": "Name",
    "AWS::Cognito::UserPool": "UserPoolName",
    "AWS::Organizations::Policy": "Name",
    "AWS::CloudTrail::Trail": "TrailName",
    "AWS::Config::StoredQuery": "QueryName",
    "AWS::Config::ConfigRule": "ConfigRuleName",
    "AWS::Config::ConfigurationAggregator": "ConfigurationAggregatorName",
}

# ARN of a resource from (partition, region, account, physical name, generated id), by type.
ARN_FORMAT = {
    "AWS::IAM::Role": "arn:{p}:iam::{a}:role{path}{name}",
    "AWS::IAM::ManagedPolicy": "arn:{p}:iam::{a}:policy{path}{name}",
    "AWS::S3::Bucket": "arn:{p}:s3:::{name}",
    "AWS::KMS::Key": "arn:{p}:kms:{r}:{a}:key/{id}",
    "AWS::Lambda::Function": "arn:{p}:lambda:{r}:{a}:function:{name}",
    "AWS::DynamoDB::Table": "arn:{p}:dynamodb:{r}:{a}:table/{name}",
    "AWS::DynamoDB::GlobalTable": "arn:{p}:dynamodb:{r}:{a}:table/{name}",
    "AWS::Logs::LogGroup": "arn:{p}:logs:{r}:{a}:log-group:{name}:*",
    "AWS::SecretsManager::Secret": "arn:{p}:secretsmanager:{r}:{a}:secret:{name}-AbCdEf",
    "AWS::StepFunctions::StateMachine": "arn:{p}:states:{r}:{a}:stateMachine:{name}",
    "AWS::Events::EventBus": "arn:{p}:events:{r}:{a}:event-bus/{name}",
    "AWS::Events::Rule": "arn:{p}:events:{r}:{a}:rule/{name}",
    "AWS::ECR::Repository": "arn:{p}:ecr:{r}:{a}:repository/{name}",
    "AWS::SSM::Parameter": "arn:{p}:ssm:{r}:{a}:parameter/{name_no_slash}",
    "AWS::SNS::Topic": "arn:{p}:sns:{r}:{a}:{name}",
    "AWS::SQS::Queue": "arn:{p}:sqs:{r}:{a}:{name}",
    "AWS::CodeBuild::Project": "arn:{p}:codebuild:{r}:{a}:project/{name}",
    "AWS::CloudWatch::Dashboard": "arn:{p}:cloudwatch::{a}:dashboard/{name}",
    "AWS::KinesisFirehose::DeliveryStream": "arn:{p}:firehose:{r}:{a}:deliverystream/{name}",
    "AWS::Glue::Database": "arn:{p}:glue:{r}:{a}:database/{name}",
    "AWS::Oam::Sink": "arn:{p}:oam:{r}:{a}:sink/{id}",
    "AWS::S3Vectors::VectorBucket": "arn:{p}:s3vectors:{r}:{a}:bucket/{name}",
    "AWS::SageMaker::MlflowTrackingServer": "arn:{p}:sagemaker:{r}:{a}:mlflow-tracking-server/{name}",
    "AWS::BedrockAgentCore::Runtime": "arn:{p}:bedrock-agentcore:{r}:{a}:runtime/{sid}",
    "AWS::BedrockAgentCore::Memory": "arn:{p}:bedrock-agentcore:{r}:{a}:memory/{sid}",
    "AWS::BedrockAgentCore::Gateway": "arn:{p}:bedrock-agentcore:{r}:{a}:gateway/{sid}",
    "AWS::BedrockAgentCore::PolicyEngine": "arn:{p}:bedrock-agentcore:{r}:{a}:policy-engine/{sid}",
    "AWS::S3Vectors::Index": "arn:{p}:s3vectors:{r}:{a}:bucket/{bucket}/index/{name}",
    "AWS::BedrockAgentCore::ApiKeyCredentialProvider": (
        "arn:{p}:bedrock-agentcore:{r}:{a}:token-vault/default/apikeycredentialprovider/{name}"
    ),
    "AWS::Bedrock::Guardrail": "arn:{p}:bedrock:{r}:{a}:guardrail/{id}",
    "AWS::Bedrock::Prompt": "arn:{p}:bedrock:{r}:{a}:prompt/{id}",
    "AWS::Bedrock::KnowledgeBase": "arn:{p}:bedrock:{r}:{a}:knowledge-base/{id}",
    "AWS::Bedrock::ApplicationInferenceProfile": "arn:{p}:bedrock:{r}:{a}:application-inference-profile/{id}",
    "AWS::Scheduler::ScheduleGroup": "arn:{p}:scheduler:{r}:{a}:schedule-group/{name}",
    "AWS::Scheduler::Schedule": "arn:{p}:scheduler:{r}:{a}:schedule/default/{name}",
    "AWS::Cognito::UserPool": "arn:{p}:cognito-idp:{r}:{a}:userpool/{r}_{id}",
    "AWS::KMS::Alias": "arn:{p}:kms:{r}:{a}:{name}",
    "AWS::CloudTrail::Trail": "arn:{p}:cloudtrail:{r}:{a}:trail/{name}",
    "AWS::ServiceCatalog::Portfolio": "arn:{p}:catalog:{r}:{a}:portfolio/{id}",
    "AWS::Config::StoredQuery": "arn:{p}:config:{r}:{a}:stored-query/{name}/{id}",
    "AWS::Config::ConfigRule": "arn:{p}:config:{r}:{a}:config-rule/config-rule-{id}",
    # The ARN ends in a generated id, not the name (config-aggregator-<id>).
    "AWS::Config::ConfigurationAggregator": "arn:{p}:config:{r}:{a}:config-aggregator/config-aggregator-{id}",
}

# Attributes that are an ARN (any type's "Arn", and the AgentCore/Bedrock spellings).
ARN_ATTRIBUTES = {
    "Arn",
    "AgentRuntimeArn",
    "MemoryArn",
    "GatewayArn",
    "PolicyEngineArn",
    "GuardrailArn",
    "KnowledgeBaseArn",
    "TrackingServerArn",
    "IndexArn",
    "CredentialProviderArn",
    "InferenceProfileArn",
    "VectorBucketArn",
    "QueryArn",
    "ConfigurationAggregatorArn",
}

# What Ref returns when it is not the physical name, by type.
REF_IS_ARN = {
    "AWS::IAM::ManagedPolicy",
    "AWS::SNS::Topic",
    "AWS::SecretsManager::Secret",
    "AWS::StepFunctions::StateMachine",
}
REF_IS_ID = {
    "AWS::KMS::Key",
    "AWS::Organizations::OrganizationalUnit",
    "AWS::Organizations::Policy",
    "AWS::Bedrock::Guardrail",
    "AWS::ServiceCatalog::Portfolio",
}


class Unresolvable(ValueError):
    """An intrinsic the offline resolver cannot evaluate (reported, never guessed)."""


def _bounded(name: str, limit: int) -> str:
    """Stack name first (as CloudFormation's generated names are), unique after truncation."""
    if len(name) <= limit:
        return name
    return f"{name[: limit - 9]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]", "", text.lower())


@dataclass
class Resource:
    stack: Stack
    logical_id: str
    type: str
    properties: dict[str, Fragment]

    @cached_property
    def generated_id(self) -> str:
        """Stand-in for an id CloudFormation or the service generates (stable, unique per stack and resource)."""
        return f"{_slug(self.stack.name)}-{self.logical_id.lower()}"

    @cached_property
    def service_id(self) -> str:
        """AgentCore ids are the resource's name and a generated suffix (``claims_intake_prod-Ab12Cd34Ef``)."""
        return f"{self.name}-{hashlib.sha256(self.generated_id.encode()).hexdigest()[:10]}"

    @cached_property
    def tags(self) -> dict[str, str]:
        raw = self.properties.get("Tags") or {}
        if isinstance(raw, dict):
            return {k: str(v) for k, v in raw.items()}
        return {t["Key"]: str(self.stack.resolve(t["Value"])) for t in raw if isinstance(t, dict) and "Key" in t}

    @cached_property
    def name(self) -> str:
        prop = NAME_PROPERTY.get(self.type)
        value: Fragment = self.properties
        for part in (prop or "").split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            return str(self.stack.resolve(value))
        if self.type == "AWS::S3::Bucket":
            return _bounded(self.generated_id, 63)
        return _bounded(f"{self.stack.name}-{self.logical_id}", 64)

    @cached_property
    def arn(self) -> str:
        if self.type == "AWS::Bedrock::PromptVersion":
            return f"{self.stack.resolve(self.properties['PromptArn'])}:1"
        fmt = ARN_FORMAT.get(self.type)
        if fmt is None:
            service = self.type.split("::")[1].lower()
            kind = self.type.split("::")[2].lower()
            return f"arn:{PARTITION}:{service}:{self.stack.region}:{self.stack.account}:{kind}/{self.generated_id}"
        path = self.stack.resolve(self.properties.get("Path", "/")) if "Path" in self.properties else "/"
        return fmt.format(
            p=PARTITION,
            r=self.stack.region,
            a=self.stack.account,
            name=self.name,
            id=self.generated_id,
            path=path,
            name_no_slash=self.name.lstrip("/"),
            sid=self.service_id,
            bucket=self._vector_bucket(),
        )

    def _vector_bucket(self) -> str:
        if self.type != "AWS::S3Vectors::Index":
            return ""
        if "VectorBucketName" in self.properties:
            return str(self.stack.resolve(self.properties["VectorBucketName"]))
        return str(self.stack.resolve(self.properties.get("VectorBucketArn", ""))).rsplit("/", 1)[-1]

    def ref(self) -> str:
        if self.type in REF_IS_ARN:
            return self.arn
        if self.type == "AWS::Organizations::OrganizationalUnit":
            return f"ou-{self.generated_id}"
        if self.type in REF_IS_ID:
            return self.generated_id
        if self.type in NAME_PROPERTY:
            return self.name
        return self.generated_id

    def get_att(self, attribute: str) -> str:
        if attribute in ARN_ATTRIBUTES:
            return self.arn
        if attribute == "Id" and self.type == "AWS::Organizations::OrganizationalUnit":
            return self.ref()
        if self.type.startswith("AWS::BedrockAgentCore::") and attribute in (
            "AgentRuntimeId",
            "MemoryId",
            "GatewayIdentifier",
            "GatewayId",
        ):
            return self.service_id
        if attribute in ("Version",):
            return "1"
        if attribute.endswith("Id"):
            return self.generated_id
        if attribute == "Name" or attribute.endswith("Name"):
            return self.name
        return f"{self.generated_id}.{attribute}"


@dataclass
class Stack:
    name: str
    account: str
    region: str
    template: dict[str, Fragment]
    assembly: Assembly = field(repr=False)

    @cached_property
    def resources(self) -> dict[str, Resource]:
        return {
            lid: Resource(self, lid, r["Type"], r.get("Properties", {}))
            for lid, r in self.template.get("Resources", {}).items()
        }

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type in types]

    def resolve(self, value: Fragment) -> Fragment:
        """The deployed value of a template fragment; raises Unresolvable for what cannot be known offline."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            key, arg = next(iter(value.items()))
            if key == "Ref" or key.startswith("Fn::"):
                return self._intrinsic(key, arg)
        return {k: self.resolve(v) for k, v in value.items()}

    def _intrinsic(self, key: str, arg: Fragment) -> Fragment:
        if key == "Ref":
            return self._ref(arg)
        if key == "Fn::GetAtt":
            logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.resources[logical].get_att(attribute)
        if key == "Fn::Join":
            sep, parts = arg
            return sep.join(str(p) for p in self.resolve(parts))
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::ImportValue":
            return self.assembly.export(self, self.resolve(arg))
        if key == "Fn::Select":
            index, items = arg
            values = self.resolve(items)
            if not isinstance(values, list) or int(self.resolve(index)) >= len(values):
                raise Unresolvable(f"Fn::Select over a list known only at deploy time in {self.name}")
            return values[int(self.resolve(index))]
        if key == "Fn::Split":
            sep, text = arg
            return str(self.resolve(text)).split(sep)
        if key == "Fn::If":
            raise Unresolvable(f"Fn::If in {self.name}")
        raise Unresolvable(f"{key} in {self.name}")

    def _ref(self, name: str) -> Fragment:
        """What Ref gives: a pseudo parameter (None for AWS::NoValue), a resource's ref or a parameter's value
        (a Number parameter's default is a JSON number)."""
        pseudo = {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.name,
            "AWS::NoValue": None,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.resources:
            return self.resources[name].ref()
        parameter = self.template.get("Parameters", {}).get(name)
        if parameter is None:
            raise Unresolvable(f"Ref {name} in {self.name}")
        if parameter["Type"].startswith("AWS::SSM::Parameter::Value"):
            return self.assembly.ssm_value(self, parameter.get("Default", ""))
        if "Default" in parameter:
            return parameter["Default"]
        raise Unresolvable(f"parameter {name} of {self.name} has no default")

    def _sub(self, arg: Fragment) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else arg
        values = {k: self.resolve(v) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token in values:
                return str(values[token])
            if "." in token:
                logical, attribute = token.split(".", 1)
                return self.resources[logical].get_att(attribute)
            return str(self._ref(token))

        return re.sub(r"\$\{([^!}][^}]*)\}", replace, text)


@dataclass
class Assembly:
    """Every stack of a cdk.out directory, with its account and region from the manifest."""

    outdir: Path
    stacks: dict[str, Stack] = field(default_factory=dict)

    @classmethod
    def load(cls, outdir: Path) -> Assembly:
        outdir = Path(outdir)
        manifest = json.loads((outdir / "manifest.json").read_text())
        assembly = cls(outdir)
        for name, artifact in manifest["artifacts"].items():
            if artifact.get("type") != "aws:cloudformation:stack":
                continue
            account, region = artifact["environment"].removeprefix("aws://").split("/")
            template = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
            stack_name = artifact.get("properties", {}).get("stackName", name)
            assembly.stacks[stack_name] = Stack(stack_name, account, region, template, assembly)
        return assembly

    @cached_property
    def exports(self) -> dict[tuple[str, str, str], tuple[Stack, Fragment]]:
        """(account, region, export name) -> (stack, unresolved value)."""
        out: dict[tuple[str, str, str], tuple[Stack, Fragment]] = {}
        for stack in self.stacks.values():
            for output in stack.template.get("Outputs", {}).values():
                if "Export" in output:
                    name = stack.resolve(output["Export"]["Name"])
                    out[(stack.account, stack.region, name)] = (stack, output["Value"])
        return out

    def export(self, consumer: Stack, name: str) -> str:
        found = self.exports.get((consumer.account, consumer.region, name))
        if found is None:
            raise Unresolvable(
                f"{consumer.name} imports {name}, which no stack in {consumer.account}/{consumer.region} exports"
            )
        stack, value = found
        return str(stack.resolve(value))  # an output's value is a string

    @cached_property
    def ssm_parameters(self) -> dict[tuple[str, str, str], Resource]:
        out: dict[tuple[str, str, str], Resource] = {}
        for stack in self.stacks.values():
            for res in stack.of_type("AWS::SSM::Parameter"):
                out[(stack.account, stack.region, res.name)] = res
        return out

    @staticmethod
    def ssm_key(consumer: Stack, name: str) -> tuple[str, str, str]:
        """(account, region, name) of the parameter an SSM-typed template parameter reads: a parameter name in the
        consumer's account, or a shared parameter's ARN."""
        match = re.match(r"arn:[^:]+:ssm:([^:]+):(\d{12}):parameter(/.*)", name)
        return (match.group(2), match.group(1), match.group(3)) if match else (consumer.account, consumer.region, name)

    def ssm_value(self, consumer: Stack, name: str) -> str:
        key = self.ssm_key(consumer, name)
        res = self.ssm_parameters.get(key)
        if res is None:
            raise Unresolvable(
                f"{consumer.name} reads SSM parameter {name}, which no stack creates in {key[0]}/{key[1]}"
            )
        return str(res.stack.resolve(res.properties["Value"]))  # an SSM parameter's value is a string

    def resources(self, *types: str) -> list[Resource]:
        return [r for stack in self.stacks.values() for r in stack.of_type(*types)]
