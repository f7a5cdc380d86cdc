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
