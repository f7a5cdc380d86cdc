"""The landing zone model: which SCPs apply to an account."""

from __future__ import annotations

from agentzone.permissions.model import LandingZoneModel


def test_scp_chain_follows_the_ous_each_account_is_placed_in(assembly):
    model = LandingZoneModel(assembly)
    chain = [(node, [p.name for p in policies]) for node, policies in model.scp_chain("666666666666")]
    assert chain[0][0] == "r-a1b2" and chain[-1][0] == "666666666666"
    names = " ".join(n for _, policies in chain for n in policies)
    assert "agentzone-baseline-protection" in names and "agentzone-tenant-fraud" in names
    assert "agentzone-tenant-claims" not in names
    assert model.scp_chain("100000000000") == []  # the management account: SCPs never apply


def test_ram_and_portfolio_shares_count_as_the_shared_resources_policies(assembly):
    """Without them every cross-account read of a shared parameter, and every import of a shared portfolio, would
    be a dead grant: nothing else lets the other account in."""
    policies = LandingZoneModel(assembly).resource_policies
    sink = "arn:aws:ssm:eu-west-1:100000000032:parameter/agentzone/prod/observability/sink-arn"
    (statement,) = policies[sink].document["Statement"]
    assert statement["Action"] == ["ssm:GetParameter", "ssm:GetParameters"]
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
    portfolios = {arn: p for arn, p in policies.items() if ":portfolio/" in arn}
    assert len(portfolios) == 6  # one per tenant environment, each shared with that environment's account only
    claims_dev = next(p for arn, p in portfolios.items() if "agentzone-claims-dev-services" in arn)
    (share,) = claims_dev.document["Statement"]
    assert "servicecatalog:AcceptPortfolioShare" in share["Action"]
    assert share["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"}
