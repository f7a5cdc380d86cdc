"""Values one account publishes and another reads at deploy time: RAM-shared SSM parameters, read by template
parameters, and the FM gateway reached from a tenant's agent VPC through PrivateLink."""

from __future__ import annotations

import json

from agentzone import naming
from agentzone.blueprints.runtime import FM_GATEWAY_URL_VARIABLE


def _arn_parts(arn: str) -> tuple[str, str, str]:
    _, _, _, region, account, resource = arn.split(":", 5)
    return account, region, resource.removeprefix("parameter")


def _after(manifest: dict, stack: str, seen: set[str] | None = None) -> set[str]:
    seen = set() if seen is None else seen
    for need in manifest[stack].get("dependencies", []):
        if need not in seen:
            seen.add(need)
            _after(manifest, need, seen)
    return seen


def test_every_shared_parameter_a_stack_reads_is_published_and_shared_by_a_stack_it_deploys_after(sample_assembly):
    manifest = json.loads((sample_assembly.outdir / "manifest.json").read_text())["artifacts"]
    published: dict[tuple[str, str, str], tuple[str, dict, list[dict]]] = {}
    for stack, template in sample_assembly.templates.items():
        account, region = sample_assembly.environments[stack].removeprefix("aws://").split("/")
        resources = template["Resources"]
        shares = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::RAM::ResourceShare"]
        for logical, r in resources.items():
            if r["Type"] == "AWS::SSM::Parameter":
                published[(account, region, r["Properties"]["Name"])] = (stack, {"logical": logical, **r}, shares)
    reads = [
        (stack, p["Default"])
        for stack, template in sample_assembly.templates.items()
        for p in template.get("Parameters", {}).values()
        if p["Type"].startswith("AWS::SSM::Parameter::Value") and p.get("Default", "").startswith("arn:")
    ]
    # From another region a template parameter cannot read it: a custom resource does, in the parameter's region.
    across = [
        (stack, r["Properties"]["ParameterArn"])
        for stack, template in sample_assembly.templates.items()
        for r in template["Resources"].values()
        if r["Type"] == "Custom::SharedParameter"
    ]
    assert sorted(across) == [
        (
            "AgentZone-fraud-prod",  # eu-central-1
            naming.shared_parameter_arn(
                naming.tenant_portfolio_parameter("fraud", "prod"), "100000000031", "eu-west-1"
            ),
        ),
        (
            "AgentZone-fraud-prod",
            naming.shared_parameter_arn(naming.identity_user_pool_parameter("prod"), "100000000033", "eu-west-1"),
        ),
    ]
    reads += across
    by_value: dict[str, int] = {}
    for _, arn in reads:
        kind = arn.split(":parameter/agentzone/", 1)[1].split("/", 1)[1]
        by_value[kind] = by_value.get(kind, 0) + 1
    assert by_value == {
        # claims' VPC agent in each environment and fraud's in dev and staging read the shared gateway's endpoint
        # service (fraud's prod agent calls fraud's own gateway, in its own stack)
        "fm-gateway/endpoint-service-name": 5,
        # every same-region account stack but the sink's own: SharedServices, Security and DataLake in each
        # environment, and the tenants' accounts but fraud's eu-central-1 prod
        "observability/sink-arn": 14,
        # each environment's shared tool gateway, and every tenant account's agents and gateways
        "identity/user-pool-id": 9,
        # every tenant account imports its self-service portfolio
        "catalog/claims/portfolio-id": 3,
        "catalog/fraud/portfolio-id": 3,
    }
    org = naming.organization_arn("100000000000", "o-a1b2c3d4e5")
    for consumer, arn in reads:
        assert (consumer, arn) and _arn_parts(arn) in published, f"{consumer} reads {arn}, which no stack publishes"
        producer, parameter, shares = published[_arn_parts(arn)]
        assert parameter["Properties"]["Tier"] == "Advanced", f"{arn}: only advanced parameters can be shared"
        sharing = [s for s in shares if parameter["logical"] in json.dumps(s["ResourceArns"])]
        assert sharing and all(s["AllowExternalPrincipals"] is False for s in sharing), f"{producer} shares {arn}"
        assert any(org in s["Principals"] for s in sharing), f"{arn} is not shared with the organization"
        assert producer in _after(manifest, consumer), f"{consumer} must deploy after {producer}"
        # RAM shares reach the organization only once the Bootstrap stack has switched it on.
        assert "AgentZone-Bootstrap" in _after(manifest, producer)


def test_a_vpc_agents_gateway_url_resolves_through_its_privatelink_endpoint(sample_assembly):
    template = sample_assembly.template("AgentZone-claims-prod")
    resources = template["Resources"]
    runtime = next(r["Properties"] for r in resources.values() if r["Type"] == "AWS::BedrockAgentCore::Runtime")
    url = runtime["EnvironmentVariables"][FM_GATEWAY_URL_VARIABLE]
    domain = url.removeprefix("https://")
    (zone_id, zone) = next(
        (k, r["Properties"]) for k, r in resources.items() if r["Type"] == "AWS::Route53::HostedZone"
    )
    assert zone["Name"] == f"{domain}." and len(zone["VPCs"]) == 1  # private: the agent's VPC only
    vpc = zone["VPCs"][0]["VPCId"]["Ref"]
    assert runtime["NetworkConfiguration"]["NetworkMode"] == "VPC"
    record = next(r["Properties"] for r in resources.values() if r["Type"] == "AWS::Route53::RecordSet")
    assert record["HostedZoneId"] == {"Ref": zone_id} and record["Name"] == f"{domain}."
    endpoint_id = record["AliasTarget"]["DNSName"]["Fn::Select"][1]["Fn::Split"][1]["Fn::Select"][1]["Fn::GetAtt"][0]
    endpoint = resources[endpoint_id]["Properties"]
    assert endpoint["VpcId"] == {"Ref": vpc} and endpoint["VpcEndpointType"] == "Interface"
    parameter = template["Parameters"][endpoint["ServiceName"]["Ref"]]
    assert parameter["Default"] == naming.shared_parameter_arn(
        naming.fm_gateway_endpoint_service_parameter("prod"), "100000000031", "eu-west-1"
    )
    # The fraud agent in eu-central-1 has no VPC endpoint to the eu-west-1 gateway: PrivateLink is regional.
    assert "Parameters" not in sample_assembly.template("AgentZone-fraud-prod") or not any(
        p.get("Default", "").startswith("arn:")
        for p in sample_assembly.template("AgentZone-fraud-prod")["Parameters"].values()
    )
