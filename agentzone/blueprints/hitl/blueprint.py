"""The HITL construct: it validates its props and composes the records, the decision API and the workflow.

Every part creates its resources directly in this construct (no intermediate scope), so construct ids and
logical ids stay those of one flat construct.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ... import naming
from ...config.model import HitlBlueprint
from ...constructs.secure_bucket import AccessLogsBucket
from ..context import BlueprintContext
from .contract import ENV_CATEGORIES, ENV_STATE_MACHINE_ARN
from .decision_api import DecisionApiProps, decision_api, grant_invoke_decision_route
from .records import RecordsProps, grant_read_decisions, hitl_records
from .workflow import WorkflowProps, approval_topic, approval_workflow

_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DEFAULT_TIMEOUT = cdk.Duration.minutes(60)


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
    timeout: cdk.Duration = _DEFAULT_TIMEOUT
    escalation: tuple[str, ...] = ()
    escalation_timeout: cdk.Duration = _DEFAULT_TIMEOUT
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
        self._records = hitl_records(
            self, RecordsProps(props.encryption_key, props.record_retention_days, props.access_logs)
        )
        self.table = self._records.table
        self.records_bucket = self._records.bucket
        self._notify_topics(props)
        # Created before the state machine: the emails name its URL.
        api = decision_api(self, self._api_props(props))
        self.decision_function, self.decision_policy = api.function, api.policy
        self.api, self.decision_method = api.api, api.method
        self.state_machine = approval_workflow(self, self._workflow_props(props))
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

    def _notify_topics(self, props: HitlWorkflowProps) -> None:
        """Who is told: the approvers, and after the first timeout the escalation (when set)."""
        key = props.encryption_key
        self.approvers_topic = approval_topic(
            self,
            "ApproversTopic",
            encryption_key=key,
            display_name=f"{props.name} approval requests",
            emails=props.approvers,
        )
        self.escalation_topic = (
            approval_topic(
                self,
                "EscalationTopic",
                encryption_key=key,
                display_name=f"{props.name} escalated approval requests",
                emails=props.escalation,
            )
            if props.escalation
            else None
        )

    def _api_props(self, props: HitlWorkflowProps) -> DecisionApiProps:
        return DecisionApiProps(
            name=props.name,
            records=self._records,
            record_retention_days=props.record_retention_days,
            approver_principals=tuple(self._approver_principals),
            log_retention_days=props.log_retention_days,
            api_throttle_rate=props.api_throttle_rate,
            api_throttle_burst=props.api_throttle_burst,
        )

    def _workflow_props(self, props: HitlWorkflowProps) -> WorkflowProps:
        return WorkflowProps(
            name=props.name,
            state_machine_name=self.state_machine_name,
            records=self._records,
            categories=props.categories,
            timeout=props.timeout,
            escalation_timeout=props.escalation_timeout,
            approvers_topic=self.approvers_topic,
            decide_url=self.api.url_for_path("/requests/{request_id}/decision"),
            escalation_topic=self.escalation_topic,
            log_retention_days=props.log_retention_days,
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
        """Decide requests: execute-api:Invoke on POST /requests/*/decision only, and the function accepts the caller.

        ``grantee`` must be an IAM role or user (its ARN is what the decision function checks callers against).
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
        return grant_invoke_decision_route(self.api, grantee)

    def grant_read_decisions(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read requests (items, the status index) and the decision records; never the write side or task tokens."""
        return grant_read_decisions(self._records, grantee)

    def attach_to_agent(self, grantee: iam.IGrantable) -> dict[str, str]:
        """AgentAttachment: the agent may start approval requests and finds the workflow and its categories by env."""
        self.grant_start(grantee)
        return {ENV_STATE_MACHINE_ARN: self.state_machine_arn, ENV_CATEGORIES: ",".join(self.categories)}

    # ------------------------------------------------------------------ metrics

    def metric_executions_failed(self, **kwargs: Any) -> cloudwatch.Metric:
        """Requests that ended rejected, timed out or broken (Fail states count as failed executions)."""
        return self.state_machine.metric_failed(**kwargs)

    def metric_executions_timed_out(self, **kwargs: Any) -> cloudwatch.Metric:
        """Executions that hit the state machine's overall timeout (a broken wait, not a decision timeout)."""
        return self.state_machine.metric_timed_out(**kwargs)

    def metric_executions_started(self, **kwargs: Any) -> cloudwatch.Metric:
        return self.state_machine.metric_started(**kwargs)

    def metric_executions_succeeded(self, **kwargs: Any) -> cloudwatch.Metric:
        """Approved and auto-approved requests."""
        return self.state_machine.metric_succeeded(**kwargs)

    def metric_decision_errors(self, **kwargs: Any) -> cloudwatch.Metric:
        """Decision function errors (refusals are 4xx responses, not errors)."""
        return self.decision_function.metric_errors(**kwargs)

    def metric_api_client_errors(self, **kwargs: Any) -> cloudwatch.Metric:
        """Refused decisions and denied callers (API Gateway 4XXError of this API)."""
        return self.api.metric_client_error(**kwargs)
