"""The kill switch reader agents use: cached for its TTL, configured from the environment, failing closed (moto)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from agentzone.safety.killswitch import ENV_CACHE_SECONDS, ENV_PARAMETER, KillSwitch

REGION = "eu-west-1"
PARAMETER = "/agentzone/claims/dev/kill-switch"


class CountingSsm:
    def __init__(self, client):
        self.client, self.calls = client, 0

    def get_parameter(self, **kwargs):
        self.calls += 1
        return self.client.get_parameter(**kwargs)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@mock_aws
def test_kill_switch_reader_caches_for_the_ttl():
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=PARAMETER, Value="off", Type="String")
    counting, clock = CountingSsm(ssm), Clock()
    switch = KillSwitch(PARAMETER, cache_seconds=30, client=counting, clock=clock)
    assert switch.is_on() is False and counting.calls == 1
    ssm.put_parameter(Name=PARAMETER, Value="on", Type="String", Overwrite=True)
    clock.now += 29.9
    assert switch.is_on() is False and counting.calls == 1  # within the TTL: no SSM call, the old value
    clock.now += 0.1
    assert switch.is_on() is True and counting.calls == 2  # TTL over: read again, sees "on"
    clock.now += 10
    assert switch.state() == "on" and counting.calls == 2


def test_kill_switch_reader_takes_its_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv(ENV_PARAMETER, PARAMETER)
    monkeypatch.setenv(ENV_CACHE_SECONDS, "7")
    switch = KillSwitch(client=object())
    assert (switch.parameter_name, switch.cache_seconds) == (PARAMETER, 7.0)
    monkeypatch.delenv(ENV_PARAMETER)
    with pytest.raises(ValueError, match=ENV_PARAMETER):
        KillSwitch()


@mock_aws
def test_kill_switch_reader_fails_closed():
    ssm = boto3.client("ssm", region_name=REGION)
    clock = Clock()
    assert KillSwitch(PARAMETER, cache_seconds=5, client=ssm, clock=clock).is_on()  # missing parameter: no value yet
    ssm.put_parameter(Name=PARAMETER, Value="maybe", Type="String")
    assert KillSwitch(PARAMETER, cache_seconds=5, client=ssm, clock=clock).is_on()  # unknown value
    ssm.put_parameter(Name=PARAMETER, Value="off", Type="String", Overwrite=True)
    switch = KillSwitch(PARAMETER, cache_seconds=5, client=ssm, clock=clock)
    assert not switch.is_on()
    ssm.delete_parameter(Name=PARAMETER)  # SSM unreadable later: keep the last known value
    clock.now += 6
    assert not switch.is_on()
