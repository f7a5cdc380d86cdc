"""The approval API: ``POST /requests/{id}/decision`` (IAM SigV4) in front of ``handlers/hitl_decision.py``.

The function checks the caller, returns the request's task token to Step Functions, updates the item and
writes the decision record. It ships only its own module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from ...constructs.platform_resource import HANDLERS_DIR
from ...constructs.retention import retained_log_group
from ...nag import acknowledge, acknowledge_compliance
from ._nag import acknowledge_on_grantee, nag_text
from .contract import ACCESS_LOG_FIELDS, DECISION_MODULE, DECISION_ROUTE, RECORD_PREFIX
from .records import HitlRecords

# The same answer for the stage's web ACL findings (cdk-nag's own rule and the compliance packs').
_NO_WEB_ACL = (
    "Every request must be SigV4-signed by an approver's IAM principal and the stage is throttled; a web ACL "
    "per approval API is left to the account's WAF policy."
)


@dataclass(frozen=True)
class DecisionApiProps:
    """``approver_principals``: IAM role or user ARNs the function accepts (none: every decision is refused)."""

    name: str
    records: HitlRecords
    record_retention_days: int
    approver_principals: tuple[str, ...] = ()
    log_retention_days: int = 365
    api_throttle_rate: int = 10
    api_throttle_burst: int = 20


@dataclass(frozen=True)
class DecisionApi:
    function: lambda_.Function
    policy: iam.ManagedPolicy
    api: apigw.RestApi
    method: apigw.Method


def decision_api(scope: Construct, props: DecisionApiProps) -> DecisionApi:
    """``ApiAccessLogs``, the decision function (``Decision*``) and ``Api``, in ``scope``."""
    key = props.records.encryption_key
    access_logs = retained_log_group(
        scope, "ApiAccessLogs", encryption_key=key, retention_days=props.log_retention_days
    )
    log_group = retained_log_group(scope, "DecisionLogs", encryption_key=key, retention_days=props.log_retention_days)
    policy = _decision_policy(scope, props, log_group)
    _allow_returning_task_tokens(policy, props.records)
    role = iam.Role(
        scope,
        "DecisionRole",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"HITL {props.name} decision API function",
        managed_policies=[policy],
    )
    function = _decision_function(scope, props, role, log_group)
    api, method = _rest_api(scope, props, function, access_logs)
    return DecisionApi(function, policy, api, method)


def _decision_policy(scope: Construct, props: DecisionApiProps, log_group: logs.ILogGroup) -> iam.ManagedPolicy:
    """Read a request, return its token, record the decision; the key only through DynamoDB and S3."""
    region = cdk.Stack.of(scope).region
    table, bucket = props.records.table, props.records.bucket
    return iam.ManagedPolicy(
        scope,
        "DecisionPolicy",
        description=f"HITL {props.name} decision API: read a request, return its token, record the decision",
        statements=[
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            ),
            iam.PolicyStatement(
                sid="ReadAndDecideRequests",
                actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
                resources=[table.table_arn],
            ),
            iam.PolicyStatement(
                sid="WriteDecisionRecords",
                actions=["s3:PutObject", "s3:PutObjectRetention"],
                resources=[bucket.arn_for_objects(f"{RECORD_PREFIX}*")],
            ),
            iam.PolicyStatement(
                sid="UseTheKeyThroughDynamoDbAndS3",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[props.records.encryption_key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": [f"dynamodb.{region}.amazonaws.com", f"s3.{region}.amazonaws.com"]
                    }
                },
            ),
        ],
    )


def _decision_function(
    scope: Construct, props: DecisionApiProps, role: iam.IRole, log_group: logs.ILogGroup
) -> lambda_.Function:
    function = lambda_.Function(
        scope,
        "DecisionFunction",
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        handler="hitl_decision.handler",
        # Only its own module: nothing else from agentzone/handlers ships with the approval API.
        code=lambda_.Code.from_asset(str(HANDLERS_DIR), exclude=["*", f"!{DECISION_MODULE}"]),
        role=role,
        timeout=cdk.Duration.seconds(20),
        memory_size=256,
        log_group=log_group,
        description=f"HITL {props.name}: POST /requests/{{id}}/decision",
        environment={
            "TABLE_NAME": props.records.table.table_name,
            "RECORDS_BUCKET": props.records.bucket.bucket_name,
            "RETENTION_DAYS": str(props.record_retention_days),
            # grant_approve() rewrites it with each approver it adds.
            "APPROVER_PRINCIPALS": ",".join(props.approver_principals),
        },
    )
    acknowledge_compliance(
        function,
        "LambdaConcurrency",
        "Approvals arrive at human pace and API Gateway throttles the route; reserving concurrency would take "
        "capacity from new accounts whose whole limit is 10.",
    )
    acknowledge_compliance(
        function,
        "LambdaDLQ",
        "API Gateway invokes it synchronously and the caller gets every failure as an HTTP error; there is no "
        "asynchronous event to dead-letter.",
    )
    acknowledge_compliance(
        function,
        "LambdaInsideVPC",
        "It calls only regional AWS APIs (DynamoDB, Step Functions, S3); use-case accounts have no VPC this "
        "blueprint could rely on.",
    )
    return function


def _rest_api(
    scope: Construct, props: DecisionApiProps, function: lambda_.IFunction, access_logs: logs.ILogGroup
) -> tuple[apigw.RestApi, apigw.Method]:
    api = apigw.RestApi(
        scope,
        "Api",
        rest_api_name=f"agentzone-hitl-{props.name}",
        description=f"HITL {props.name}: approvers decide pending requests (IAM SigV4)",
        endpoint_types=[apigw.EndpointType.REGIONAL],
        cloud_watch_role=True,
        cloud_watch_role_removal_policy=cdk.RemovalPolicy.RETAIN,
        deploy_options=apigw.StageOptions(
            stage_name="v1",
            access_log_destination=apigw.LogGroupLogDestination(access_logs),
            # Who decided what is in the decision record; the access log adds every attempt, refused ones too.
            access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))),
            logging_level=apigw.MethodLoggingLevel.ERROR,
            data_trace_enabled=False,
            metrics_enabled=True,
            tracing_enabled=True,
            throttling_rate_limit=props.api_throttle_rate,
            throttling_burst_limit=props.api_throttle_burst,
        ),
        default_method_options=apigw.MethodOptions(authorization_type=apigw.AuthorizationType.IAM),
    )
    method = _decision_method(api, function)
    _acknowledge_api(api)
    return api, method


def _decision_method(api: apigw.RestApi, function: lambda_.IFunction) -> apigw.Method:
    """POST /requests/{id}/decision with a validated body: a decision and an optional reason, nothing else."""
    model = api.add_model(
        "DecisionModel",
        content_type="application/json",
        model_name="Decision",
        schema=apigw.JsonSchema(
            schema=apigw.JsonSchemaVersion.DRAFT4,
            type=apigw.JsonSchemaType.OBJECT,
            required=["decision"],
            additional_properties=False,
            properties={
                "decision": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, enum=["APPROVED", "REJECTED"]),
                "reason": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, max_length=1000),
            },
        ),
    )
    validator = api.add_request_validator(
        "DecisionValidator", validate_request_body=True, validate_request_parameters=True
    )
    method = (
        api.root.add_resource("requests")
        .add_resource("{id}")
        .add_resource("decision")
        .add_method(
            "POST",
            apigw.LambdaIntegration(function),
            authorization_type=apigw.AuthorizationType.IAM,
            request_validator=validator,
            request_models={"application/json": model},
            request_parameters={"method.request.path.id": True},
        )
    )
    acknowledge(
        method,
        "AwsSolutions-COG4",
        "Approvers are IAM principals (roles of the approving team) and sign requests with SigV4; the method "
        "uses AWS_IAM authorization, not a Cognito user pool.",
    )
    return method


def _acknowledge_api(api: apigw.RestApi) -> None:
    stage = api.deployment_stage
    acknowledge_compliance(
        stage,
        "APIGWCacheEnabledAndEncrypted",
        "The only route is a POST that changes state (a decision); caching its responses would be wrong, so no "
        "cache cluster exists to encrypt.",
    )
    acknowledge_compliance(
        stage,
        "APIGWSSLEnabled",
        "The backend is a Lambda proxy integration inside AWS; a client certificate only authenticates API "
        "Gateway to HTTP backends.",
    )
    acknowledge_compliance(stage, "APIGWAssociatedWithWAF", _NO_WEB_ACL)
    acknowledge(stage, "AwsSolutions-APIG3", _NO_WEB_ACL)
    cw_role = api.node.try_find_child("CloudWatchRole")
    if cw_role is not None:
        acknowledge(
            cw_role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level logging role needs the AWS managed push-to-CloudWatch policy; API Gateway "
            "names the log groups itself (API-Gateway-Execution-Logs_<api id>/<stage>).",
        )


def _allow_returning_task_tokens(policy: iam.ManagedPolicy, records: HitlRecords) -> None:
    """Let the function return task tokens, and acknowledge the policy's two wildcards."""
    policy.add_statements(
        iam.PolicyStatement(
            sid="ReturnTaskTokens",
            actions=["states:SendTaskSuccess", "states:SendTaskFailure"],
            # These actions have no resource-level permissions: a statement naming the state machine
            # grants nothing. The task token is the authorization: it is only ever written to this
            # workflow's requests table, which this role alone may read.
            resources=["*"],
        )
    )
    acknowledge(
        policy,
        "AwsSolutions-IAM5[Resource::*]",
        "states:SendTaskSuccess and states:SendTaskFailure support only Resource '*' (the task token authorizes the "
        "call); the function only holds tokens of this workflow, read from its own requests table.",
    )
    acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::{nag_text(policy, records.bucket.bucket_arn)}/{RECORD_PREFIX}*]",
        "The decision function writes decisions/<request id>.json with its retention; request ids come from "
        "callers, so the grant covers the decisions/ prefix of this bucket only.",
    )


def grant_invoke_decision_route(api: apigw.RestApi, grantee: iam.IGrantable) -> iam.Grant:
    """execute-api:Invoke on POST /requests/*/decision of this API's stage only."""
    route = api.arn_for_execute_api("POST", DECISION_ROUTE, api.deployment_stage.stage_name)
    grant = iam.Grant.add_to_principal(grantee=grantee, actions=["execute-api:Invoke"], resource_arns=[route])
    acknowledge_on_grantee(
        grantee,
        f"AwsSolutions-IAM5[Resource::{nag_text(api, route)}]",
        "Approvers decide any request of this workflow: the wildcard is the request id in POST "
        "/requests/{id}/decision of this one API and stage; no other route or method.",
    )
    return grant
