"""cdk-nag is a synth gate: the sample passes it, and a violation fails synth."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from agentzone.composition import create_app
from agentzone.config.model import NagSettings
from agentzone.nag import MIN_REASON, acknowledge, add_rule_packs

AWS_SOLUTIONS_ONLY = NagSettings(aws_solutions=True, nist_800_53_r5=False, hipaa_security=False, pci_dss_321=False)
NO_PACKS = NagSettings(aws_solutions=False, nist_800_53_r5=False, hipaa_security=False, pci_dss_321=False)


def test_sample_passes_every_pack_with_specific_acknowledgements(sample_assembly):
    # The session fixture synthesized with the packs on: reaching here means no unacknowledged error.
    from agentzone.report import VALIDATOR_PACK, acknowledgements

    acks = [a for name in sample_assembly.templates for a in acknowledgements(sample_assembly.outdir, name)]
    assert acks
    # aws-cdk-lib's schema validator: only where its bundled schema lags (the registry's encryption,
    # and the flow log acknowledgement aws-cdk-lib makes itself).
    validator = {(a.path.split("/", 2)[-1], a.finding) for a in acks if a.pack == VALIDATOR_PACK}
    flow_logs = {
        (f"{vpc}/FlowLog", finding)
        for vpc in ("FmGateway/Vpc", "RuntimeIntake/Network/Vpc", "RuntimeInvestigator/Network/Vpc")
        for finding in ("F3002", "F3003")
    }
    assert validator <= {("AgentRegistry/Registry", "F3002"), *flow_logs}, validator
    for ack in acks:
        if ack.pack == VALIDATOR_PACK:
            continue
        assert ack.finding.startswith(("AwsSolutions-", "NIST.800.53.R5-", "HIPAA.Security-", "PCI.DSS.321-")), (
            ack.finding
        )
        assert len(ack.reason) >= MIN_REASON, (ack.path, ack.finding)
        assert ack.path.count("/") != 1, f"{ack.finding} acknowledged on a whole stack: {ack.path}"
    wildcard_acks = [a.finding for a in acks if "IAM5" in a.finding]
    assert all("[" in rule for rule in wildcard_acks), "IAM5 acknowledgements must name the exact finding"


def test_unacknowledged_finding_fails_synth(tmp_path):
    app = create_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Bad", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    s3.Bucket(stack, "Plain")  # no access logs, no TLS-only policy
    add_rule_packs(app, AWS_SOLUTIONS_ONLY)
    with pytest.raises(RuntimeError, match="ValidationFailed") as info:
        app.synth()
    report = str(info.value)
    assert "AwsSolutions-S1" in report or "AwsSolutions-S10" in report or "(AwsSolutions)" in report


def test_acknowledgement_silences_exactly_that_finding(tmp_path):
    app = create_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Acked", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    bucket = s3.Bucket(
        stack,
        "Logs",
        enforce_ssl=True,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
    )
    acknowledge(bucket, "AwsSolutions-S1", "Test bucket standing in for a server access log destination.")
    add_rule_packs(app, AWS_SOLUTIONS_ONLY)
    app.synth()  # passes: the only finding is acknowledged


def test_nag_can_be_switched_off_in_config(tmp_path):
    app = create_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Off", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    s3.Bucket(stack, "Plain")
    assert add_rule_packs(app, NO_PACKS) == []
    app.synth()


@pytest.mark.parametrize(
    "finding,reason,error",
    [
        ("AwsSolutions-IAM5[Resource::*]", "ok", "needs a specific reason"),
        ("IAM5", "a perfectly long and specific reason for this finding", "is not of the form"),
        (
            "AwsSolutions::AwsSolutions-IAM5",
            "a perfectly long and specific reason for this finding",
            "is not of the form",
        ),
    ],
)
def test_acknowledge_rejects_vague_acknowledgements(finding, reason, error):
    stack = cdk.Stack()
    with pytest.raises(ValueError, match=error):
        acknowledge(stack, finding, reason)


def test_sample_runs_all_four_packs_and_reports_acknowledgements_per_pack(sample_assembly):
    from agentzone.config import load_landing_zone
    from agentzone.report import acknowledgement_report, summarize

    from .conftest import SAMPLE_CONFIG

    nag = load_landing_zone(SAMPLE_CONFIG).organization.nag
    assert nag.aws_solutions and nag.nist_800_53_r5 and nag.hipaa_security and nag.pci_dss_321
    stacks = summarize(sample_assembly.outdir)
    report = acknowledgement_report(stacks)
    assert set(report) == {"AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321", "CloudFormation-Validate"}
    claims = {a["finding"] for a in report["AwsSolutions"]["AgentZone-claims-dev"]}
    assert claims == {
        "AwsSolutions-S1",
        "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",  # memory, tool gateway and eval build roles: one key each
        "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "AwsSolutions-IAM5[Resource::<BedrockInvocationLoggingBucket4FF87A40.Arn>/*]",
        "AwsSolutions-IAM5[Resource::arn:aws:s3:::agentzone-logs-100000000012-eu-west-1/*]",
        # Replication encrypts with the archive key: KMS authorizes key ARNs, never aliases, so the grant names the
        # logging account's keys, bounded to the one aliased alias/agentzone/log-archive (kms:ResourceAliases).
        "AwsSolutions-IAM5[Resource::arn:aws:kms:eu-west-1:100000000012:key/*]",
        "AwsSolutions-IAM5[Resource::*]",  # Bedrock's logging setting has no resource type; runtime X-Ray, ECR token
        # Blueprints: agent runtimes' log groups and workload identity, the knowledge base's document
        # prefix, and the tool gateway's own workload identity (suffix assigned by AgentCore).
        "AwsSolutions-IAM5[Resource::arn:aws:logs:eu-west-1:111111111111:log-group:*]",
        "AwsSolutions-IAM5[Resource::arn:aws:logs:eu-west-1:111111111111:log-group:/aws/bedrock-agentcore/runtimes/*]",
        "AwsSolutions-IAM5[Resource::arn:aws:logs:eu-west-1:111111111111:log-group:/aws/bedrock-agentcore/runtimes/*:log-stream:*]",
        "AwsSolutions-IAM5[Resource::arn:aws:bedrock-agentcore:eu-west-1:111111111111:workload-identity-directory/default/workload-identity/*]",
        "AwsSolutions-IAM5[Resource::arn:aws:bedrock-agentcore:eu-west-1:111111111111:workload-identity-directory/default/workload-identity/agentzone-claims-tools-*]",
        "AwsSolutions-IAM5[Resource::<AgentDataBucket5BCCB2B2.Arn>/policy-documents/*]",
        # HITL: IAM-signed approval API (no Cognito), API Gateway's logging role, per-request decision records.
        "AwsSolutions-APIG3",
        "AwsSolutions-COG4",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
        "AwsSolutions-IAM5[Resource::<HitlRecordsBucket97BEC858.Arn>/decisions/*]",
        # Evaluation pipeline: run- and team-chosen object keys, CodeBuild's own report groups and logs,
        # the gate function's versions, the Step Functions CodeBuild sync rule.
        "AwsSolutions-IAM5[Resource::<EvalPipelineDatasetsBucket8F8B30D1.Arn>/datasets/*]",
        "AwsSolutions-IAM5[Resource::<EvalPipelineDatasetsBucket8F8B30D1.Arn>/harness/*]",
        "AwsSolutions-IAM5[Resource::<EvalPipelineGateFunctionCF40FC14.Arn>:*]",
        "AwsSolutions-IAM5[Resource::<EvalPipelineResultsBucket310F062E.Arn>/bedrock/*]",
        "AwsSolutions-IAM5[Resource::<EvalPipelineResultsBucket310F062E.Arn>/canary/*]",
        "AwsSolutions-IAM5[Resource::<EvalPipelineResultsBucket310F062E.Arn>/runs/*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/StepFunctionsGetEventsForCodeBuildRule]",
        "AwsSolutions-IAM5[Resource::arn:aws:codebuild:eu-west-1:111111111111:report-group/<EvalPipelineRunnerDF26A5D2>-*]",
        "AwsSolutions-IAM5[Resource::arn:aws:logs:eu-west-1:111111111111:log-group:/aws/codebuild/<EvalPipelineRunnerDF26A5D2>:*]",
        # Safety controls: budget action and playbooks act on tag-matched roles and on runtimes AgentCore names.
        "AwsSolutions-IAM5[Resource::arn:aws:iam::111111111111:role/*]",
        "AwsSolutions-IAM5[Resource::arn:aws:bedrock-agentcore:eu-west-1:111111111111:runtime/*]",
        "AwsSolutions-IAM5[Resource::arn:aws:bedrock-agentcore:eu-west-1:111111111111:runtime/*/*]",
        # Service Catalog launch role: the provisioned products' stacks (SC-<account>-pp-<id>) and the roles
        # CloudFormation names after them, guardrail and memory ids the services assign, Service Catalog's
        # template buckets.
        "AwsSolutions-IAM5[Resource::arn:aws:cloudformation:eu-west-1:111111111111:stack/SC-111111111111-pp-*/*]",
        "AwsSolutions-IAM5[Resource::arn:aws:iam::111111111111:role/SC-111111111111-pp-*]",
        "AwsSolutions-IAM5[Resource::arn:aws:bedrock:eu-west-1:111111111111:guardrail/*]",
        "AwsSolutions-IAM5[Resource::arn:aws:bedrock-agentcore:eu-west-1:111111111111:memory/*]",
        "AwsSolutions-IAM5[Resource::arn:aws:s3:::*/*]",
        # Importing the portfolio: its id is read at deploy time, so any portfolio of the sharing account.
        "AwsSolutions-IAM5[Resource::arn:aws:catalog:eu-west-1:100000000011:portfolio/*]",
        # The delivery role (tenant pipeline checks): the evaluation store's indexes, the tenant's runtimes and
        # endpoints.
        "AwsSolutions-IAM5[Resource::arn:aws:dynamodb:eu-west-1:111111111111:table/agentzone-claims-evaluations-dev/index/*]",
        "AwsSolutions-IAM5[Resource::arn:aws:bedrock-agentcore:eu-west-1:111111111111:runtime/claims_*]",
        "AwsSolutions-IAM5[Resource::arn:aws:bedrock-agentcore:eu-west-1:111111111111:runtime/claims_*/runtime-endpoint/*]",
    }
    replication = [
        a
        for a in report["NIST.800.53.R5"]["AgentZone-Logging-prod"]
        if a["finding"].endswith("S3BucketReplicationEnabled")
    ]
    assert {a["path"] for a in replication} == {
        "/AgentZone-Logging-prod/AccessLogs/Bucket",
        "/AgentZone-Logging-prod/LogArchive/Bucket",
    }


@pytest.mark.parametrize(
    "switch,finding",
    [("nist_800_53_r5", "NIST.800.53.R5"), ("hipaa_security", "HIPAA.Security"), ("pci_dss_321", "PCI.DSS.321")],
)
def test_each_compliance_pack_fails_synth_on_its_own(tmp_path, switch, finding):
    app = create_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "NoReplication", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    s3.Bucket(stack, "Data", enforce_ssl=True, versioned=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL)
    only = {k: k == switch for k in ("aws_solutions", "nist_800_53_r5", "hipaa_security", "pci_dss_321")}
    assert add_rule_packs(app, NagSettings(**only)) == [finding]
    with pytest.raises(RuntimeError, match="ValidationFailed") as info:
        app.synth()
    assert f"({finding})" in str(info.value)
