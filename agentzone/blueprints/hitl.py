"""Human-in-the-loop (HITL) blueprint: one Step Functions execution per approval request.

Seed 000: actions an agent may not take alone (payments, account changes, ...)
wait for a human; a timeout escalates, then rejects; every decision is kept as
an immutable record.

How a request flows (``request_id, category, action, payload, requested_by``)::

    Describe ─▶ NeedsApproval? ──no──▶ RecordAutoApproved ─▶ record ─▶ AutoApproved (Succeed)
                    │yes
                    ▼
    RecordPending ─▶ NotifyApprovers (SNS email) ─▶ WaitForDecision ──APPROVED──▶ Approved (Succeed)
                                                      │ HITL.Rejected ─▶ Rejected (Fail)
                                                      │ States.Timeout
                                                      ▼
                     [escalation set] NotifyEscalation ─▶ WaitForEscalatedDecision ─(same exits)
                                                      │ States.Timeout
                                                      ▼
                                  RecordTimeout (REJECTED, reason timeout) ─▶ record ─▶ TimedOut (Fail)

Token handling: the wait states are ``aws-sdk:dynamodb:updateItem.waitForTaskToken``
calls that write ``$$.Task.Token`` onto the request's item (condition: still
PENDING). The token therefore never travels in a message: the emails carry the
request (category, action, payload, its SHA-256) and the API route, and only
the decision function reads tokens from the table. The escalated wait
overwrites the first (dead) token. The approval API (IAM auth) runs
``agentzone/handlers/hitl_decision.py``: it checks the caller, returns the
token (SendTaskSuccess / SendTaskFailure ``HITL.Rejected``), updates the item
and writes ``decisions/<request id>.json`` to the Object Lock bucket. For
auto-approvals and timeouts the state machine writes that record itself
(``aws-sdk:s3:putObject``; the bucket's default COMPLIANCE retention applies).

Start executions with ``name=<request_id>``: Step Functions refuses a second
execution of the same name, and the table refuses a second item per request id.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from .. import naming
from ..config.model import HitlBlueprint
from ..constructs.platform_resource import HANDLERS_DIR
from ..constructs.retention import retained_log_group
from ..constructs.secure_bucket import AccessLogsBucket, SecureBucket
from ..nag import acknowledge, acknowledge_compliance
from .context import BlueprintContext
from .registry import Attach, BlueprintSpec, not_offered

ENV_STATE_MACHINE_ARN = "AGENTZONE_HITL_STATE_MACHINE_ARN"
ENV_CATEGORIES = "AGENTZONE_HITL_CATEGORIES"
STATUS_INDEX = "status-requested_at"
DECISION_ROUTE = "/requests/*/decision"
RECORD_PREFIX = "decisions/"
DECISION_MODULE = "hitl_decision.py"
REJECTED_ERROR = "HITL.Rejected"  # hitl_decision.REJECTED_ERROR
TIMEOUT_ERROR = "HITL.Timeout"
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "userArn": "$context.identity.userArn",
    "caller": "$context.identity.caller",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "status": "$context.status",
    "error": "$context.error.message",
    "responseLength": "$context.responseLength",
}
_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _nag_text(scope: Construct, value: str) -> str:
    """A (tokenized) ARN as cdk-nag prints it in finding ids: Refs as <LogicalId>, GetAtts as <LogicalId.Attr>."""
    resolved = cdk.Stack.of(scope).resolve(value)

    def render(part) -> str:
        if isinstance(part, str):
            return part
        if "Ref" in part:
            return f"<{part['Ref']}>"
        if "Fn::GetAtt" in part:
            return f"<{'.'.join(part['Fn::GetAtt'])}>"
        if "Fn::Join" in part:
            separator, parts = part["Fn::Join"]
            return separator.join(render(p) for p in parts)
        raise ValueError(f"cannot render {part!r} for a nag finding id")

    return render(resolved)


@dataclass(frozen=True)
class HitlWorkflowProps:
    """What an approval workflow needs; defaults match ``HitlBlueprint``.

    ``approver_principals``: IAM role or user ARNs allowed to decide (a role
    covers all its sessions); :meth:`HitlWorkflow.grant_approve` adds more.
    With none, every decision is refused (403): the workflow fails closed.
    ``access_logs``: the account's server access log bucket; one is created
    for the records bucket when omitted.
    """

    name: str
    encryption_key: kms.IKey
    approvers: tuple[str, ...]
    categories: tuple[str, ...]
    timeout: cdk.Duration = cdk.Duration.minutes(60)
    escalation: tuple[str, ...] = ()
    escalation_timeout: cdk.Duration = cdk.Duration.minutes(60)
    record_retention_days: int = 365
    approver_principals: tuple[str, ...] = ()
    access_logs: AccessLogsBucket | None = None
    log_retention_days: int = 365
    api_throttle_rate: int = 10
    api_throttle_burst: int = 20
    tags: dict[str, str] = field(default_factory=dict)


class HitlWorkflow(Construct):
    """Approval workflow + IAM-authenticated approval API + Object Lock decision records.

    Usable from a tenant YAML file (``blueprints: {hitl: {...}}``) or directly::

        hitl = HitlWorkflow(stack, "Hitl", props=HitlWorkflowProps(
            name="claims-dev", encryption_key=key, approvers=("leads@example.com",), categories=("payment",)))
        env = hitl.attach_to_agent(agent_role)      # may start approval requests
        hitl.grant_approve(approver_role)           # may POST /requests/{id}/decision

    Retained on delete under stable construct ids: the requests table, the
    records bucket and the log groups.
    """

    REGISTRY_NAME = "hitl"

    def __init__(self, scope: Construct, construct_id: str, *, props: HitlWorkflowProps) -> None:
        super().__init__(scope, construct_id)
        self._validate(props)
        self._props = props
        self._approver_principals: list[str] = list(props.approver_principals)
        self.state_machine_name = f"{naming.PREFIX}-{props.name}"
        stack = cdk.Stack.of(self)
        key = props.encryption_key

        # --- requests table: one item per request, tokens of waiting requests ----------
        self.table = dynamodb.Table(
            self,
            "Requests",
            partition_key=dynamodb.Attribute(name="request_id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # "Pending (or approved, rejected) requests, oldest first"; tokens are not projected.
        self.table.add_global_secondary_index(
            index_name=STATUS_INDEX,
            partition_key=dynamodb.Attribute(name="status", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="requested_at", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.INCLUDE,
            non_key_attributes=[
                "category",
                "action",
                "requested_by",
                "payload_sha256",
                "decided_by",
                "decided_at",
                "reason",
            ],
        )
        acknowledge_compliance(
            self.table,
            "DynamoDBInBackupPlan",
            "Point-in-time recovery keeps 35 days of the requests table; the decisions themselves are kept immutably "
            "in the Object Lock records bucket, so no separate AWS Backup plan is attached.",
        )

        # --- immutable decision records ----------------------------------------------
        access_logs = props.access_logs or AccessLogsBucket(self, "RecordsAccessLogs")
        self._records = SecureBucket(
            self,
            "Records",
            encryption_key=key,
            access_logs=access_logs,
            object_lock_retention=s3.ObjectLockRetention.compliance(cdk.Duration.days(props.record_retention_days)),
        )
        self.records_bucket: s3.IBucket = self._records.bucket

        # --- who is told ---------------------------------------------------------------
        self.approvers_topic = self._topic("ApproversTopic", f"{props.name} approval requests", props.approvers)
        self.escalation_topic = (
            self._topic("EscalationTopic", f"{props.name} escalated approval requests", props.escalation)
            if props.escalation
            else None
        )

        # --- approval API (created before the state machine: the emails name its URL) --
        self._api_log_group = retained_log_group(
            self, "ApiAccessLogs", encryption_key=key, retention_days=props.log_retention_days
        )
        self.decision_function = self._decision_function(stack)
        self.api = self._api()

        # --- the workflow ----------------------------------------------------------------
        self._sfn_log_group = retained_log_group(
            self, "WorkflowLogs", encryption_key=key, retention_days=props.log_retention_days
        )
        self.state_machine = sfn.StateMachine(
            self,
            "Workflow",
            state_machine_name=self.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(self._definition()),
            timeout=props.timeout.plus(props.escalation_timeout).plus(cdk.Duration.minutes(15)),
            tracing_enabled=True,
            # Execution data holds payloads and task tokens: the log gets events, not data.
            logs=sfn.LogOptions(destination=self._sfn_log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            comment=f"Human approval of {props.name} agent actions in categories {', '.join(sorted(props.categories))}",
        )
        self._grant_workflow_keys(stack)
        self.decision_policy.add_statements(
            iam.PolicyStatement(
                sid="ReturnTaskTokens",
                actions=["states:SendTaskSuccess", "states:SendTaskFailure"],
                # These actions have no resource-level permissions: a statement naming the state machine
                # grants nothing. The task token is the authorization: it is only ever written to this
                # workflow's requests table, which this role alone may read.
                resources=["*"],
            )
        )
        self._acknowledge_workflow_role(stack)
        for tag, value in sorted(props.tags.items()):
            cdk.Tags.of(self).add(tag, value)

    # ------------------------------------------------------------------ construction helpers

    @staticmethod
    def _validate(props: HitlWorkflowProps) -> None:
        if not props.approvers:
            raise ValueError(f"hitl {props.name}: name at least one approver to notify")
        if not props.categories:
            raise ValueError(f"hitl {props.name}: name at least one action category that needs approval")
        bad = sorted(c for c in props.categories if not _CATEGORY.match(c))
        if bad:
            raise ValueError(f"hitl {props.name}: categories {bad} must be lower-case slugs (a-z 0-9 _ -)")
        for label, duration in (("timeout", props.timeout), ("escalation_timeout", props.escalation_timeout)):
            if not 1 <= duration.to_seconds() <= 365 * 24 * 3600:
                raise ValueError(f"hitl {props.name}: {label} must be between 1 second and 365 days")
        if not 1 <= props.record_retention_days <= 36500:
            raise ValueError(f"hitl {props.name}: record_retention_days must be 1-36500")

    def _topic(self, construct_id: str, display_name: str, emails: tuple[str, ...]) -> sns.Topic:
        topic = sns.Topic(
            self, construct_id, display_name=display_name[:100], master_key=self._props.encryption_key, enforce_ssl=True
        )
        for email in sorted(set(emails)):
            topic.add_subscription(subscriptions.EmailSubscription(email))
        return topic

    def _decision_function(self, stack: cdk.Stack) -> lambda_.Function:
        props = self._props
        log_group = retained_log_group(
            self, "DecisionLogs", encryption_key=props.encryption_key, retention_days=props.log_retention_days
        )
        region = stack.region
        self.decision_policy = iam.ManagedPolicy(
            self,
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
                    resources=[self.table.table_arn],
                ),
                iam.PolicyStatement(
                    sid="WriteDecisionRecords",
                    actions=["s3:PutObject", "s3:PutObjectRetention"],
                    resources=[self.records_bucket.arn_for_objects(f"{RECORD_PREFIX}*")],
                ),
                iam.PolicyStatement(
                    sid="UseTheKeyThroughDynamoDbAndS3",
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[props.encryption_key.key_arn],
                    conditions={
                        "StringEquals": {
                            "kms:ViaService": [f"dynamodb.{region}.amazonaws.com", f"s3.{region}.amazonaws.com"]
                        }
                    },
                ),
            ],
        )
        role = iam.Role(
            self,
            "DecisionRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"HITL {props.name} decision API function",
            managed_policies=[self.decision_policy],
        )
        function = lambda_.Function(
            self,
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
                "TABLE_NAME": self.table.table_name,
                "RECORDS_BUCKET": self.records_bucket.bucket_name,
                "RETENTION_DAYS": str(props.record_retention_days),
                # grant_approve() rewrites it with each approver it adds.
                "APPROVER_PRINCIPALS": ",".join(self._approver_principals),
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

    def _api(self) -> apigw.RestApi:
        props = self._props
        api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"agentzone-hitl-{props.name}",
            description=f"HITL {props.name}: approvers decide pending requests (IAM SigV4)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name="v1",
                access_log_destination=apigw.LogGroupLogDestination(self._api_log_group),
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
        self.decision_method = (
            api.root.add_resource("requests")
            .add_resource("{id}")
            .add_resource("decision")
            .add_method(
                "POST",
                apigw.LambdaIntegration(self.decision_function),
                authorization_type=apigw.AuthorizationType.IAM,
                request_validator=validator,
                request_models={"application/json": model},
                request_parameters={"method.request.path.id": True},
            )
        )
        acknowledge(
            self.decision_method,
            "AwsSolutions-COG4",
            "Approvers are IAM principals (roles of the approving team) and sign requests with SigV4; the method "
            "uses AWS_IAM authorization, not a Cognito user pool.",
        )
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
        acknowledge_compliance(
            stage,
            "APIGWAssociatedWithWAF",
            "Every request must be SigV4-signed by an approver's IAM principal and the stage is throttled; a web ACL "
            "per approval API is left to the account's WAF policy.",
        )
        acknowledge(
            stage,
            "AwsSolutions-APIG3",
            "Every request must be SigV4-signed by an approver's IAM principal and the stage is throttled; a web ACL "
            "per approval API is left to the account's WAF policy.",
        )
        cw_role = api.node.try_find_child("CloudWatchRole")
        if cw_role is not None:
            acknowledge(
                cw_role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
                "API Gateway's account-level logging role needs the AWS managed push-to-CloudWatch policy; API Gateway "
                "names the log groups itself (API-Gateway-Execution-Logs_<api id>/<stage>).",
            )
        return api

    # ------------------------------------------------------------------ definition

    def _definition(self) -> sfn.IChainable:
        props = self._props
        describe = sfn.Pass(
            self,
            "Describe",
            comment="Serialize the payload once: its SHA-256 is what approvers and records refer to",
            parameters={
                "payload_json": sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.payload")),
                "payload_sha256": sfn.JsonPath.hash(
                    sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.payload")), "SHA-256"
                ),
                # When the request entered the workflow (not $$.Execution.StartTime: moto 5.2 hands that over as a datetime).
                "requested_at": sfn.JsonPath.string_at("$$.State.EnteredTime"),
                "execution": sfn.JsonPath.string_at("$$.Execution.Id"),
            },
            result_path="$.meta",
        )
        duplicate = sfn.Fail(
            self,
            "DuplicateRequest",
            error="HITL.DuplicateRequest",
            cause="A request with this request_id exists already",
        )

        record_pending = self._put_request("RecordPending", "PENDING").add_catch(
            duplicate, errors=["DynamoDB.ConditionalCheckFailedException"], result_path="$.error"
        )
        auto = (
            self._put_request("RecordAutoApproved", "AUTO_APPROVED")
            .add_catch(duplicate, errors=["DynamoDB.ConditionalCheckFailedException"], result_path="$.error")
            .next(
                self._record(
                    "AutoApproval",
                    outcome="AUTO_APPROVED",
                    reason="category needs no approval",
                    decided_by="system:policy",
                )
            )
            .next(sfn.Succeed(self, "AutoApproved", comment="Category needs no human decision"))
        )

        approved = sfn.Succeed(self, "Approved")
        rejected = sfn.Fail(
            self, "Rejected", error=REJECTED_ERROR, cause="An approver rejected the request (see its decision record)"
        )
        timed_out = (
            tasks.DynamoUpdateItem(
                self,
                "RecordTimeout",
                table=self.table,
                key={"request_id": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.string_at("$.request_id"))},
                update_expression="SET #status = :rejected, #reason = :reason, #by = :by, #at = :at REMOVE #token",
                condition_expression="#status = :pending",
                expression_attribute_names={
                    "#status": "status",
                    "#reason": "reason",
                    "#by": "decided_by",
                    "#at": "decided_at",
                    "#token": "task_token",
                },
                expression_attribute_values={
                    ":rejected": tasks.DynamoAttributeValue.from_string("REJECTED"),
                    ":reason": tasks.DynamoAttributeValue.from_string("timeout"),
                    ":by": tasks.DynamoAttributeValue.from_string("system:timeout"),
                    ":at": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.string_at("$$.State.EnteredTime")),
                    ":pending": tasks.DynamoAttributeValue.from_string("PENDING"),
                },
                result_path=sfn.JsonPath.DISCARD,
            )
            .next(self._record("Timeout", outcome="REJECTED", reason="timeout", decided_by="system:timeout"))
            .next(sfn.Fail(self, "TimedOut", error=TIMEOUT_ERROR, cause="No decision before the timeout: rejected"))
        )

        wait = self._wait("WaitForDecision", "APPROVERS", props.timeout).add_catch(
            rejected, errors=[REJECTED_ERROR], result_path="$.error"
        )
        if self.escalation_topic is not None:
            escalated_wait = (
                self._wait("WaitForEscalatedDecision", "ESCALATED", props.escalation_timeout)
                .add_catch(rejected, errors=[REJECTED_ERROR], result_path="$.error")
                .add_catch(timed_out, errors=["States.Timeout"], result_path="$.error")
            )
            escalate = self._notify("NotifyEscalation", self.escalation_topic, escalated=True).next(escalated_wait)
            escalated_wait.next(approved)
            wait.add_catch(escalate, errors=["States.Timeout"], result_path="$.error")
        else:
            wait.add_catch(timed_out, errors=["States.Timeout"], result_path="$.error")

        needs_approval = (
            sfn.Condition.or_(*[sfn.Condition.string_equals("$.category", c) for c in sorted(props.categories)])
            if len(props.categories) > 1
            else sfn.Condition.string_equals("$.category", props.categories[0])
        )
        approval = record_pending.next(self._notify("NotifyApprovers", self.approvers_topic, escalated=False)).next(
            wait.next(approved)
        )
        return describe.next(
            sfn.Choice(self, "NeedsApproval", comment="Only the configured categories wait for a human")
            .when(needs_approval, approval)
            .otherwise(auto)
        )

    def _put_request(self, construct_id: str, status: str) -> tasks.DynamoPutItem:
        s = lambda path: tasks.DynamoAttributeValue.from_string(sfn.JsonPath.string_at(path))  # noqa: E731
        item = {
            "request_id": s("$.request_id"),
            "status": tasks.DynamoAttributeValue.from_string(status),
            "category": s("$.category"),
            "action": s("$.action"),
            "requested_by": s("$.requested_by"),
            "requested_at": s("$.meta.requested_at"),
            "payload_json": s("$.meta.payload_json"),
            "payload_sha256": s("$.meta.payload_sha256"),
            "execution": s("$.meta.execution"),
        }
        if status != "PENDING":
            item.update(
                decided_by=tasks.DynamoAttributeValue.from_string("system:policy"),
                decided_at=s("$$.State.EnteredTime"),
                reason=tasks.DynamoAttributeValue.from_string("category needs no approval"),
            )
        return tasks.DynamoPutItem(
            self,
            construct_id,
            table=self.table,
            item=item,
            # A request id is used once: never overwrite a request (or its decision).
            condition_expression="attribute_not_exists(request_id)",
            result_path=sfn.JsonPath.DISCARD,
        )

    def _notify(self, construct_id: str, topic: sns.ITopic, *, escalated: bool) -> tasks.SnsPublish:
        props = self._props
        minutes = int((props.escalation_timeout if escalated else props.timeout).to_minutes(integral=False))
        return tasks.SnsPublish(
            self,
            construct_id,
            topic=topic,
            subject=f"{'ESCALATED: ' if escalated else ''}AgentZone approval needed ({props.name})"[:100],
            message=sfn.TaskInput.from_object(
                {
                    "request_id": sfn.JsonPath.string_at("$.request_id"),
                    "category": sfn.JsonPath.string_at("$.category"),
                    "action": sfn.JsonPath.string_at("$.action"),
                    "requested_by": sfn.JsonPath.string_at("$.requested_by"),
                    "payload": sfn.JsonPath.string_at("$.meta.payload_json"),
                    "payload_sha256": sfn.JsonPath.string_at("$.meta.payload_sha256"),
                    "escalated": escalated,
                    "decide_within_minutes": minutes,
                    # SigV4-signed, as an approver role: {"decision": "APPROVED" | "REJECTED", "reason": "..."}
                    "decide_at": "POST " + self.api.url_for_path("/requests/{request_id}/decision"),
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
        )

    def _wait(self, construct_id: str, stage: str, timeout: cdk.Duration) -> tasks.CallAwsService:
        """Park the task token on the request's item and wait for the decision API to return it."""
        return tasks.CallAwsService(
            self,
            construct_id,
            service="dynamodb",
            action="updateItem",
            iam_action="dynamodb:UpdateItem",
            iam_resources=[self.table.table_arn],
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            parameters={
                "TableName": self.table.table_name,
                "Key": {"request_id": {"S": sfn.JsonPath.string_at("$.request_id")}},
                "UpdateExpression": "SET #token = :token, #stage = :stage",
                "ConditionExpression": "#status = :pending",
                "ExpressionAttributeNames": {"#token": "task_token", "#stage": "wait_stage", "#status": "status"},
                "ExpressionAttributeValues": {
                    ":token": {"S": sfn.JsonPath.task_token},
                    ":stage": {"S": stage},
                    ":pending": {"S": "PENDING"},
                },
            },
            task_timeout=sfn.Timeout.duration(timeout),
            result_path="$.decision",
        )

    def _record(self, name: str, *, outcome: str, reason: str, decided_by: str) -> sfn.Chain:
        """Write the immutable decision record (same fields as hitl_decision.decision_record)."""
        build = sfn.Pass(
            self,
            f"Describe{name}Record",
            parameters={
                "request_id": sfn.JsonPath.string_at("$.request_id"),
                "category": sfn.JsonPath.string_at("$.category"),
                "action": sfn.JsonPath.string_at("$.action"),
                "requested_by": sfn.JsonPath.string_at("$.requested_by"),
                "requested_at": sfn.JsonPath.string_at("$.meta.requested_at"),
                "payload_sha256": sfn.JsonPath.string_at("$.meta.payload_sha256"),
                "outcome": outcome,
                "reason": reason,
                "decided_by": decided_by,
                "decided_at": sfn.JsonPath.string_at("$$.State.EnteredTime"),
                "execution": sfn.JsonPath.string_at("$.meta.execution"),
            },
            result_path="$.record",
        )
        write = tasks.CallAwsService(
            self,
            f"Write{name}Record",
            service="s3",
            action="putObject",
            iam_action="s3:PutObject",
            iam_resources=[self.records_bucket.arn_for_objects(f"{RECORD_PREFIX}*")],
            parameters={
                "Bucket": self.records_bucket.bucket_name,
                "Key": sfn.JsonPath.format(f"{RECORD_PREFIX}{{}}.json", sfn.JsonPath.string_at("$.request_id")),
                "Body": sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.record")),
                "ContentType": "application/json",
                # Object Lock buckets require an integrity checksum on every PutObject.
                "ChecksumAlgorithm": "SHA256",
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        return build.next(write)

    def _grant_workflow_keys(self, stack: cdk.Stack) -> None:
        region = stack.region
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                sid="UseTheKeyThroughDynamoDbS3AndSns",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[self._props.encryption_key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": [
                            f"dynamodb.{region}.amazonaws.com",
                            f"s3.{region}.amazonaws.com",
                            f"sns.{region}.amazonaws.com",
                        ]
                    }
                },
            )
        )

    def _acknowledge_workflow_role(self, stack: cdk.Stack) -> None:
        policy = self.state_machine.role.node.find_child("DefaultPolicy")
        bucket_id = stack.get_logical_id(self.records_bucket.node.default_child)
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{RECORD_PREFIX}*]",
            "The workflow writes decisions/<request id>.json for timeouts and auto-approvals; request ids are "
            "chosen per execution, so the grant covers the decisions/ prefix of this bucket only.",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions' log delivery and X-Ray calls (logs:*LogDelivery*, xray:PutTraceSegments and friends) "
            "support no resource-level permissions; aws-cdk-lib adds them for execution logging and tracing.",
        )
        acknowledge_compliance(
            policy,
            "IAMNoInlinePolicy",
            "aws-cdk-lib writes the state machine's task grants as a policy attached only to its role: this table, "
            "these topics, the decisions/ prefix and the key through those services.",
        )
        acknowledge(
            self.decision_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "states:SendTaskSuccess and states:SendTaskFailure support only Resource '*' (the task token authorizes the "
            "call); the function only holds tokens of this workflow, read from its own requests table.",
        )
        bucket_id_policy = stack.get_logical_id(self.records_bucket.node.default_child)
        acknowledge(
            self.decision_policy,
            f"AwsSolutions-IAM5[Resource::<{bucket_id_policy}.Arn>/{RECORD_PREFIX}*]",
            "The decision function writes decisions/<request id>.json with its retention; request ids come from "
            "callers, so the grant covers the decisions/ prefix of this bucket only.",
        )

    # ------------------------------------------------------------------ config entry point

    @classmethod
    def from_config(
        cls, scope: Construct, construct_id: str, *, context: BlueprintContext, config: HitlBlueprint
    ) -> HitlWorkflow:
        workflow = cls(
            scope,
            construct_id,
            props=HitlWorkflowProps(
                name=context.resource_name("hitl"),
                encryption_key=context.encryption_key,
                approvers=tuple(config.approvers),
                categories=tuple(config.categories),
                timeout=cdk.Duration.minutes(config.timeout_minutes),
                escalation=tuple(config.escalation),
                escalation_timeout=cdk.Duration.minutes(config.escalation_timeout_minutes),
                record_retention_days=config.record_retention_days,
                approver_principals=tuple(
                    cdk.Stack.of(scope).format_arn(service="iam", region="", resource="role", resource_name=name)
                    for name in sorted(config.approver_roles)
                ),
                access_logs=context.access_logs,
                tags=context.tags,
            ),
        )
        return workflow

    # ------------------------------------------------------------------ attributes

    @property
    def state_machine_arn(self) -> str:
        return self.state_machine.state_machine_arn

    @property
    def table_name(self) -> str:
        return self.table.table_name

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(sorted(self._props.categories))

    @property
    def approver_principals(self) -> tuple[str, ...]:
        return tuple(self._approver_principals)

    # ------------------------------------------------------------------ grants

    def grant_start(self, grantee: iam.IGrantable) -> iam.Grant:
        """Start approval requests: states:StartExecution on this state machine only (start with name=<request_id>)."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["states:StartExecution"],
            resource_arns=[self.state_machine_arn],
        )

    def grant_approve(self, grantee: iam.IGrantable) -> iam.Grant:
        """Decide requests: execute-api:Invoke on POST /requests/*/decision only, and the decision function accepts the principal.

        ``grantee`` must be an IAM role or user (its ARN is what the function checks callers against).
        """
        principal = grantee.grant_principal
        arn = getattr(principal, "role_arn", None) or getattr(principal, "user_arn", None)
        if arn is None:
            raise ValueError(
                "grant_approve needs an IAM role or user: the decision function matches callers by their ARN"
            )
        if arn not in self._approver_principals:
            self._approver_principals.append(arn)
            self.decision_function.add_environment("APPROVER_PRINCIPALS", ",".join(self._approver_principals))
        route = self.api.arn_for_execute_api("POST", DECISION_ROUTE, self.api.deployment_stage.stage_name)
        grant = iam.Grant.add_to_principal(grantee=grantee, actions=["execute-api:Invoke"], resource_arns=[route])
        self._acknowledge_on_grantee(
            grantee,
            f"AwsSolutions-IAM5[Resource::{_nag_text(self, route)}]",
            "Approvers decide any request of this workflow: the wildcard is the request id in POST "
            "/requests/{id}/decision of this one API and stage; no other route or method.",
        )
        return grant

    def grant_read_decisions(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read requests (items and the status index) and the decision records; never the write side or task tokens' use."""
        stack = cdk.Stack.of(self)
        records = self.records_bucket.arn_for_objects(f"{RECORD_PREFIX}*")
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["dynamodb:GetItem", "dynamodb:Query"],
            resource_arns=[self.table.table_arn, f"{self.table.table_arn}/index/{STATUS_INDEX}"],
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:ListBucket"],
            resource_arns=[self.records_bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{RECORD_PREFIX}*"]}},
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["kms:Decrypt"],
            resource_arns=[self._props.encryption_key.key_arn],
            conditions={
                "StringEquals": {
                    "kms:ViaService": [f"dynamodb.{stack.region}.amazonaws.com", f"s3.{stack.region}.amazonaws.com"]
                }
            },
        )
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=["s3:GetObject", "s3:GetObjectRetention"], resource_arns=[records]
        )
        self._acknowledge_on_grantee(
            grantee,
            f"AwsSolutions-IAM5[Resource::{_nag_text(self, records)}]",
            "Auditors read every decision record: decisions/<request id>.json under this bucket's decisions/ prefix; "
            "request ids are chosen per request.",
        )
        return grant

    @staticmethod
    def _acknowledge_on_grantee(grantee: iam.IGrantable, finding: str, reason: str) -> None:
        """The grant's own wildcard, acknowledged on the grantee's policy when it lives in this app (a role's DefaultPolicy)."""
        principal = grantee.grant_principal
        node = getattr(principal, "node", None)
        policy = node.try_find_child("DefaultPolicy") if node is not None else None
        if policy is not None:
            acknowledge(policy, finding, reason)

    def attach_to_agent(self, grantee: iam.IGrantable) -> dict[str, str]:
        """AgentAttachment: the agent may start approval requests and finds the workflow and its categories by env."""
        self.grant_start(grantee)
        return {ENV_STATE_MACHINE_ARN: self.state_machine_arn, ENV_CATEGORIES: ",".join(self.categories)}

    # ------------------------------------------------------------------ metrics

    def metric_executions_failed(self, **kwargs) -> cloudwatch.Metric:
        """Requests that ended rejected, timed out or broken (Fail states count as failed executions)."""
        return self.state_machine.metric_failed(**kwargs)

    def metric_executions_timed_out(self, **kwargs) -> cloudwatch.Metric:
        """Executions that hit the state machine's overall timeout (a broken wait, not a decision timeout)."""
        return self.state_machine.metric_timed_out(**kwargs)

    def metric_executions_started(self, **kwargs) -> cloudwatch.Metric:
        return self.state_machine.metric_started(**kwargs)

    def metric_executions_succeeded(self, **kwargs) -> cloudwatch.Metric:
        """Approved and auto-approved requests."""
        return self.state_machine.metric_succeeded(**kwargs)

    def metric_decision_errors(self, **kwargs) -> cloudwatch.Metric:
        """Decision function errors (refusals are 4xx responses, not errors)."""
        return self.decision_function.metric_errors(**kwargs)

    def metric_api_client_errors(self, **kwargs) -> cloudwatch.Metric:
        """Refused decisions and denied callers (API Gateway 4XXError of this API)."""
        return self.api.metric_client_error(**kwargs)


# ------------------------------------------------------------------ registry

SPEC = BlueprintSpec(
    construct=HitlWorkflow,
    config=HitlBlueprint,
    construct_id="Hitl",
    title="human approval workflow",
    summary="approval workflow: Step Functions task tokens, IAM-authorized API, Object Lock decision records",
    docs="blueprint-hitl.md",
    to_agents=Attach.EVERY_AGENT,
    catalog=not_offered("Ships a Lambda function (a code asset) and needs the account's access-log bucket."),
)
