"""A tenant's use-case account stack (stacks/use_case.py): its memory blueprint and its budgets."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template

TENANTS = [f"AgentZone-{t}-{env}" for t in ("claims", "fraud") for env in ("dev", "staging", "prod")]


def test_memory_blueprint_follows_tenant_config(sample_assembly):
    template = Template.from_json(sample_assembly.template("AgentZone-fraud-dev"))
    key_id = next(iter(sample_assembly.resources("AgentZone-fraud-dev", "AWS::KMS::Key")))
    template.has_resource(
        "AWS::BedrockAgentCore::Memory",
        {
            "Properties": {
                "Name": "fraud_signals_dev",
                "EventExpiryDuration": 30,
                "EncryptionKeyArn": {"Fn::GetAtt": [key_id, "Arn"]},
                "MemoryStrategies": [
                    {"EpisodicMemoryStrategy": Match.any_value()},
                    {"SemanticMemoryStrategy": Match.any_value()},
                    {
                        "CustomMemoryStrategy": {
                            "Name": "risk_patterns",
                            "Namespaces": ["/fraud/patterns/{actorId}"],
                            "Configuration": {
                                "SemanticOverride": {
                                    "Extraction": {
                                        "AppendToPrompt": Match.string_like_regexp(
                                            "^Keep only facts about transaction patterns"
                                        ),
                                        "ModelId": "amazon.nova-pro-v1:0",
                                    }
                                }
                            },
                        }
                    },
                ],
            },
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_memory_service_role_is_scoped_to_its_key_and_account(sample_assembly):
    name = "AgentZone-claims-staging"
    template = Template.from_json(sample_assembly.template(name))
    key_id = next(iter(sample_assembly.resources(name, "AWS::KMS::Key")))
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Principal": {"Service": "bedrock-agentcore.amazonaws.com"},
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": "222222222222"},
                                "ArnLike": Match.any_value(),
                            },
                        }
                    )
                ]
            }
        },
    )
    policies = [p for k, p in sample_assembly.resources(name, "AWS::IAM::Policy").items() if "MemoryServiceRole" in k]
    assert len(policies) == 2  # claims and customers
    for policy in policies:
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_every_tenant_account_has_a_budget_that_notifies_the_owner(sample_assembly):
    # Two per account: the owner's alerts, and the safety controls' budget that carries the deny action.
    for name in TENANTS:
        budgets = sample_assembly.resources(name, "AWS::Budgets::Budget").values()
        assert sorted(b["Properties"]["Budget"]["BudgetName"] for b in budgets) == [
            f"agentzone-{name.split('-', 1)[1]}",
            f"agentzone-{name.split('-', 1)[1]}-safety",
        ], name
    (budget,) = [
        b
        for b in sample_assembly.resources("AgentZone-fraud-prod", "AWS::Budgets::Budget").values()
        if b["Properties"]["Budget"]["BudgetName"] == "agentzone-fraud-prod"
    ]
    fraud_prod = budget["Properties"]
    assert fraud_prod["Budget"]["BudgetName"] == "agentzone-fraud-prod"
    assert fraud_prod["Budget"]["BudgetLimit"] == {"Amount": 12000, "Unit": "USD"}
    assert "CostFilters" not in fraud_prod["Budget"]  # a member account's budget sees only its own spend
    thresholds = [n["Notification"]["Threshold"] for n in fraud_prod["NotificationsWithSubscribers"]]
    assert thresholds == [50, 80, 100]
    assert all(
        n["Subscribers"] == [{"Address": "fraud-ai@example.com", "SubscriptionType": "EMAIL"}]
        for n in fraud_prod["NotificationsWithSubscribers"]
    )


def test_each_tenant_account_checks_its_agents_keep_the_guardrail_and_their_vpc(sample_assembly):
    for stack, vpc_runtimes in (
        ("AgentZone-claims-prod", "claims_intake_prod"),
        ("AgentZone-fraud-dev", "fraud_investigator_dev"),
    ):
        resources = sample_assembly.template(stack)["Resources"]
        ((rule_id, _),) = [(k, r) for k, r in resources.items() if r["Type"] == "AWS::Config::ConfigRule"]
        (rule,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Config::ConfigRule"]
        tenant, env = stack.split("-")[1:3]
        assert rule["ConfigRuleName"] == f"agentzone-{tenant}-{env}-agent-configuration"
        assert rule["Source"]["Owner"] == "CUSTOM_LAMBDA"
        assert rule["Source"]["SourceDetails"] == [
            {
                "EventSource": "aws.config",
                "MessageType": "ScheduledNotification",
                "MaximumExecutionFrequency": "One_Hour",
            }
        ]
        function = rule["Source"]["SourceIdentifier"]["Fn::GetAtt"][0]
        variables = resources[function]["Properties"]["Environment"]["Variables"]
        (guardrail,) = [
            k for k, r in resources.items() if r["Type"] == "AWS::Bedrock::Guardrail" and k.startswith("Guardrail")
        ]
        assert variables == {
            "AGENTZONE_VPC_RUNTIMES": vpc_runtimes,  # the agents config gives a VPC, by runtime name
            "AGENTZONE_GUARDRAIL_ID": {"Fn::GetAtt": [guardrail, "GuardrailId"]},
        }
        ((policy_id, policy),) = [(k, r) for k, r in resources.items() if k.startswith("AgentConfigRulePolicy")]
        (role,) = [r for k, r in resources.items() if k.startswith("AgentConfigRuleRole")]
        assert role["Properties"]["ManagedPolicyArns"] == [{"Ref": policy_id}]  # no AWSConfigRulesExecutionRole
        (results,) = [r["Properties"] for k, r in resources.items() if k.startswith("AgentConfigRuleResultsPolicy")]
        assert results["PolicyDocument"]["Statement"] == [
            {
                "Action": "config:GetComplianceDetailsByConfigRule",
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [rule_id, "Arn"]},  # its own results only
            }
        ]
        assert results["Roles"] == [{"Ref": next(k for k in resources if k.startswith("AgentConfigRuleRole"))}]
        actions = sorted(
            a
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
            for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        )
        assert actions == [
            "bedrock-agentcore:GetAgentRuntime",
            "bedrock-agentcore:ListAgentRuntimes",
            "config:PutEvaluations",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
        ]
