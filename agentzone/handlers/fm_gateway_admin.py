"""CloudFormation custom resource ``Custom::LiteLLMTeam``: one tenant's team and deployments on the FM gateway.

Properties (built by ``agentzone.constructs.fm_gateway_tenant.TenantGatewayAccess``):

* ``TeamId``: the team id (the tenant slug);
* ``Team``: JSON of the ``/team/new`` body (``agentzone.fm_gateway.team_payload``);
* ``Deployments``: JSON list of ``/model/new`` bodies, each with a stable
  ``model_info.id`` (``agentzone.fm_gateway.deployment_request``).

Create / Update: upsert the deployments (``/model/update``, or ``/model/new``
when the id is unknown), then the team (``/team/info`` -> ``/team/update`` or
``/team/new``), then delete the deployments an update dropped. Delete: block
the team (``/team/block``) and delete its deployments; the team itself is never
deleted, so its keys stay revoked and its spend history stays queryable.

Environment:

* ``GATEWAY_URL``: ``https://<domain_name>`` of the internal ALB (plain
  ``http`` is refused except to a loopback address, which tests use);
* ``MASTER_KEY_SECRET_ARN``: Secrets Manager secret holding the LiteLLM master
  key, either as the whole secret string or as the JSON field named by
  ``MASTER_KEY_SECRET_FIELD`` (default ``master_key``);
* ``GATEWAY_CA_BUNDLE`` (optional): PEM file to verify the gateway's
  certificate with (an ACM private CA); the system CA bundle otherwise;
* ``GATEWAY_RETRY_SECONDS`` (optional, default 600): how long to keep retrying
  5xx answers and connection errors, e.g. while the first deployment's tasks
  start; always cut short to leave time to answer CloudFormation.

Only the standard library and boto3: the function runs in the gateway VPC.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

import boto3

try:
    from .platform_resources import ResourceError, respond
except ImportError:  # in Lambda the handlers folder is the code root, not a package
    from platform_resources import ResourceError, respond  # type: ignore[no-redef]

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

RESOURCE_TYPE = "Custom::LiteLLMTeam"
DEFAULT_SECRET_FIELD = "master_key"
DEFAULT_RETRY_SECONDS = 600.0
RESPONSE_MARGIN_SECONDS = 45.0  # left for the response to CloudFormation after the last attempt
REQUEST_TIMEOUT_SECONDS = 30.0
RETRY_STATUSES = frozenset({429, 502, 503, 504})  # the ALB without healthy targets, or LiteLLM shedding load
MAX_SERVER_ERROR_ATTEMPTS = 3  # a LiteLLM 500 is usually a real error: retry it only a little
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _physical_id(team_id: str) -> str:
    return f"litellm-team-{team_id}"


class Gateway:
    """The LiteLLM admin API, authenticated with the master key, retrying transient failures until ``deadline``."""

    def __init__(
        self,
        url: str,
        master_key: str,
        *,
        deadline: float,
        cafile: str | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != "https" and not (parsed.scheme == "http" and parsed.hostname in LOOPBACK_HOSTS):
            raise ResourceError(
                f"GATEWAY_URL must be an https:// URL (got {url!r}); the master key never travels in clear text"
            )
        self.base = url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {master_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self._context = ssl.create_default_context(cafile=cafile) if parsed.scheme == "https" else None
        self.deadline = deadline
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep

    def call(self, method: str, path: str, body: dict | None = None, query: dict | None = None) -> tuple[int, object]:
        """``(status, parsed body)`` of the first answer that is not transient."""
        url = self.base + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        attempt, server_errors, delay = 0, 0, 1.0
        while True:
            attempt += 1
            request = urllib.request.Request(url, data=data, method=method, headers=self._headers)
            try:
                with urllib.request.urlopen(
                    request, timeout=REQUEST_TIMEOUT_SECONDS, context=self._context
                ) as response:
                    status, payload = response.status, _parse(response.read())
                LOG.info("%s %s -> %s", method, path, status)
                return status, payload
            except urllib.error.HTTPError as error:
                status, payload = error.code, _parse(error.read())
                LOG.info("%s %s -> %s", method, path, status)
                server_errors += status == 500
                if status not in RETRY_STATUSES and not (status == 500 and server_errors < MAX_SERVER_ERROR_ATTEMPTS):
                    return status, payload
                problem = f"HTTP {status}: {_excerpt(payload)}"
            except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as error:
                reason = getattr(error, "reason", error)
                LOG.info("%s %s -> %s", method, path, reason)
                problem = f"{type(error).__name__}: {reason}"
            if self._clock() + delay > self.deadline:
                raise ResourceError(
                    f"{method} {path} on the FM gateway still failing after {attempt} attempts: {problem}"
                )
            self._sleep(delay)
            delay = min(delay * 2, 30.0)

    def require(self, method: str, path: str, body: dict | None = None, query: dict | None = None) -> object:
        status, payload = self.call(method, path, body, query)
        if not 200 <= status < 300:
            raise _failure(method, path, status, payload)
        return payload


def _parse(raw: bytes) -> object:
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _excerpt(payload: object) -> str:
    text = payload if isinstance(payload, str) else json.dumps(payload, sort_keys=True)
    return text[:500]


def _failure(method: str, path: str, status: int, payload: object) -> ResourceError:
    return ResourceError(f"{method} {path} on the FM gateway answered HTTP {status}: {_excerpt(payload)}")


def _not_found(status: int, payload: object) -> bool:
    """LiteLLM answers 404, or 400 in older releases, with "... not found ..." in the detail."""
    return status == 404 or (status == 400 and "not found" in _excerpt(payload).lower())


# ------------------------------------------------------------------ operations


def upsert_team(gateway: Gateway, team_id: str, team: dict) -> str:
    body = {**team, "team_id": team_id}
    status, payload = gateway.call("GET", "/team/info", query={"team_id": team_id})
    if 200 <= status < 300:
        gateway.require("POST", "/team/update", body)
        return "updated"
    if _not_found(status, payload):
        status, payload = gateway.call("POST", "/team/new", body)
        if 200 <= status < 300:
            return "created"
        if "already exists" not in _excerpt(payload).lower():  # else an earlier attempt got through after all
            raise _failure("POST", "/team/new", status, payload)
        gateway.require("POST", "/team/update", body)
        return "updated"
    raise _failure("GET", "/team/info", status, payload)


def block_team(gateway: Gateway, team_id: str) -> bool:
    status, payload = gateway.call("GET", "/team/info", query={"team_id": team_id})
    if _not_found(status, payload):
        return False
    if not 200 <= status < 300:
        raise _failure("GET", "/team/info", status, payload)
    gateway.require("POST", "/team/block", {"team_id": team_id})
    return True


def upsert_deployment(gateway: Gateway, deployment: dict) -> str:
    """``/model/update`` finds the deployment by ``model_info.id`` in the database; unknown -> ``/model/new``."""
    status, payload = gateway.call("POST", "/model/update", deployment)
    if 200 <= status < 300:
        return "updated"
    if not _not_found(status, payload):
        raise _failure("POST", "/model/update", status, payload)
    status, payload = gateway.call("POST", "/model/new", deployment)
    if 200 <= status < 300:
        return "created"
    # The id may exist after all (a retried request that got through, or another task's view of the
    # database): one more update settles it, or reports the original error.
    if 200 <= gateway.call("POST", "/model/update", deployment)[0] < 300:
        return "updated"
    raise _failure("POST", "/model/new", status, payload)


def delete_deployment(gateway: Gateway, model_id: str) -> bool:
    status, payload = gateway.call("POST", "/model/delete", {"id": model_id})
    if 200 <= status < 300:
        return True
    if _not_found(status, payload):
        return False
    raise _failure("POST", "/model/delete", status, payload)


# ------------------------------------------------------------------ the resource


def _json_property(props: dict, name: str, kind: type):
    value = props.get(name)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise ResourceError(f"property {name} is not valid JSON: {error}") from None
    if not isinstance(value, kind):
        raise ResourceError(f"property {name} must be a JSON {kind.__name__}")
    return value


def _resource(props: dict) -> tuple[str, dict, list[dict]]:
    team_id = props.get("TeamId")
    if not isinstance(team_id, str) or not team_id:
        raise ResourceError("property TeamId is required")
    team = _json_property(props, "Team", dict)
    if team.get("team_id", team_id) != team_id:
        raise ResourceError(f"Team.team_id {team.get('team_id')!r} differs from TeamId {team_id!r}")
    deployments = _json_property(props, "Deployments", list)
    for deployment in deployments:
        if not isinstance(deployment, dict) or not (deployment.get("model_info") or {}).get("id"):
            raise ResourceError("every deployment needs model_info.id, the key it is upserted and deleted by")
    return team_id, team, deployments


def master_key() -> str:
    arn = os.environ.get("MASTER_KEY_SECRET_ARN")
    if not arn:
        raise ResourceError("environment variable MASTER_KEY_SECRET_ARN is not set")
    value = boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    field = os.environ.get("MASTER_KEY_SECRET_FIELD", DEFAULT_SECRET_FIELD)
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        if not isinstance(parsed.get(field), str):
            raise ResourceError(f"the master key secret is JSON without a string field {field!r}")
        value = parsed[field]
    return value


def _deadline(context) -> float:
    budget = float(os.environ.get("GATEWAY_RETRY_SECONDS", DEFAULT_RETRY_SECONDS))
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is not None:
        budget = min(budget, remaining() / 1000 - RESPONSE_MARGIN_SECONDS)
    return time.monotonic() + max(budget, 0.0)


def gateway_from_environment(context=None) -> Gateway:
    url = os.environ.get("GATEWAY_URL")
    if not url:
        raise ResourceError("environment variable GATEWAY_URL is not set")
    return Gateway(url, master_key(), deadline=_deadline(context), cafile=os.environ.get("GATEWAY_CA_BUNDLE") or None)


def apply(event: dict, gateway_factory: Callable[[], Gateway]) -> tuple[str, dict]:
    request = event["RequestType"]
    props = {k: v for k, v in event["ResourceProperties"].items() if k != "ServiceToken"}
    try:
        team_id, team, deployments = _resource(props)
    except ResourceError:
        if request == "Delete":  # a resource whose properties never validated created nothing
            LOG.warning("deleting a resource with invalid properties: nothing to do")
            return event.get("PhysicalResourceId") or event["LogicalResourceId"], {}
        raise
    ids = [d["model_info"]["id"] for d in deployments]
    gateway = gateway_factory()
    if request == "Delete":
        blocked = block_team(gateway, team_id)
        for model_id in ids:
            delete_deployment(gateway, model_id)
        LOG.info("team %s %s; deployments %s deleted", team_id, "blocked" if blocked else "absent", ids)
        return _physical_id(team_id), {"TeamId": team_id, "DeploymentIds": ",".join(ids)}
    for deployment in deployments:
        upsert_deployment(gateway, deployment)
    upsert_team(gateway, team_id, team)
    if request == "Update":
        try:
            old_team_id, _, old_deployments = _resource(event.get("OldResourceProperties") or {})
        except ResourceError:
            old_team_id, old_deployments = None, []
        # A new TeamId is a replacement: CloudFormation deletes the old resource (and its deployments) itself.
        if old_team_id == team_id:
            for model_id in [d["model_info"]["id"] for d in old_deployments]:
                if model_id not in ids:
                    delete_deployment(gateway, model_id)
    return _physical_id(team_id), {"TeamId": team_id, "DeploymentIds": ",".join(ids)}


def handler(event: dict, context=None) -> dict:
    physical_id = event.get("PhysicalResourceId") or event["LogicalResourceId"]
    try:
        if event["ResourceType"] != RESOURCE_TYPE:
            raise ResourceError(f"unknown resource type {event['ResourceType']}; this function serves {RESOURCE_TYPE}")
        physical_id, data = apply(event, lambda: gateway_from_environment(context))
        return respond(event, "SUCCESS", physical_id, data)
    except Exception as error:  # every failure must reach CloudFormation, or the stack hangs until its timeout
        LOG.exception("custom resource failed")
        return respond(event, "FAILED", physical_id, {}, f"{type(error).__name__}: {error}")
