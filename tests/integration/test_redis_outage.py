"""Redis is a cache, not a single point of failure: with the stack's redis-server really stopped (or
Upstash answering 5xx) the office's complaints are taken and changed, references come from Postgres
in a range Redis never reaches, and no error names an internal host or URL."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mla_core.adapters import Services, get_services
from mla_core.adapters.aws import AwsTimeouts, ComplaintQueue, SmsSender
from mla_core.adapters.upstash import AgentConfigStore, RedisTimeouts
from mla_core.agents.routing import load_agent_config, resolve_call_tenant
from mla_core.complaints import intake, store
from mla_core.complaints.intake import ComplaintDraft
from mla_core.complaints.store import REFERENCE_CEILING
from mla_core.core.errors import TransientError, redact
from mla_core.core.settings import get_settings
from mla_core.db.migrate import load_migrations
from support import Api, unique_number

# What an error message must never carry: a URL, an IP address, a host:port.
INTERNAL = re.compile(r"://|\b\d{1,3}(\.\d{1,3}){3}\b|localhost|:\d{2,5}\b")
WATER = {"category": "water", "description": "No drinking water for three days", "location": "Ward 12"}


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token)


@pytest.fixture
def services(stack: Any) -> Services:
    return get_services()


def log(services: Services, tenant_id: str, key: str) -> intake.LoggedComplaint:
    config = load_agent_config(services, tenant_id)
    assert config is not None
    return intake.log_complaint(
        services,
        config,
        ComplaintDraft(**WATER),
        idempotency_key=key,
        caller_number=unique_number(),
        language="en",
        room_name=None,
    )


def create(api: Api, office: dict[str, Any], key: str) -> httpx.Response:
    body = {**WATER, "caller_number": unique_number(), "channel": "walk_in"}
    return api.request("POST", "/api/complaints", office["token"], json=body, headers={"Idempotency-Key": key})


def test_with_redis_down_the_office_takes_and_changes_complaints(
    api: Api, office: dict[str, Any], redis_down: object
) -> None:
    created = create(api, office, "walk-in-during-outage")
    assert created.status_code == 201, created.text
    complaint = created.json()["data"]
    assert complaint["reference"] > REFERENCE_CEILING  # from Postgres
    again = create(api, office, "walk-in-during-outage")  # the same key: the same complaint
    assert again.status_code == 201 and again.json()["data"]["reference"] == complaint["reference"]

    changed = api.request(
        "PATCH",
        f"/api/complaints/{complaint['reference']}",
        office["token"],
        json={"status": "acknowledged", "priority": "high"},
        headers={"If-Match": str(complaint["version"])},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["data"]["status"], changed.json()["data"]["priority"]) == ("acknowledged", "high")


def test_references_taken_during_an_outage_never_meet_those_redis_issues_before_or_after(
    office: dict[str, Any], services: Services, request: pytest.FixtureRequest
) -> None:
    tenant_id = office["tenant_id"]
    before = [log(services, tenant_id, f"before-{i}").reference for i in range(3)]
    redis_back = request.getfixturevalue("redis_down")
    during = [log(services, tenant_id, f"during-{i}").reference for i in range(3)]
    assert log(services, tenant_id, "during-0").reference == during[0]  # a retried tool call
    redis_back()  # with the counter it had
    after = [log(services, tenant_id, f"after-{i}").reference for i in range(3)]

    assert max(before) < REFERENCE_CEILING < min(during) and max(after) < REFERENCE_CEILING
    assert len(set(before + during + after)) == 9 and after[0] > max(before)
    with services.db.transaction() as conn:
        # A restored or flushed Redis is raised above Redis's own references, never into Postgres's.
        assert store.highest_reference(conn, tenant_id) == max(after)


def test_a_call_is_resolved_from_postgres_and_redis_is_refilled_when_it_returns(
    office: dict[str, Any], services: Services, request: pytest.FixtureRequest, stack: Any
) -> None:
    tenant_id, number = office["tenant_id"], office["phone_numbers"][0]
    redis_back = request.getfixturevalue("redis_down")
    during = resolve_call_tenant(services, job_metadata="", dialed_number=number)
    assert during is not None and during.tenant_id == tenant_id
    redis_back()
    services.agent_configs.delete(tenant_id, [number])  # what the outage would have left stale
    assert resolve_call_tenant(services, job_metadata="", dialed_number=number) is not None
    assert services.agent_configs.tenant_for_number(number) == tenant_id  # written back from Postgres


def test_an_upstash_5xx_is_an_outage_and_takes_the_postgres_fallback(office: dict[str, Any], stack: Any) -> None:
    # No fail-fast window after the failure, so that the tests after this one find Redis at once.
    services = Services(get_settings().model_copy(update={"upstash_unreachable_backoff_s": 0}))
    url = stack.env["UPSTASH_REDIS_REST_URL"]
    # Every attempt of the client (its retries too) answered 503 with an error body.
    httpx.post(f"{url}/_standin/faults", json={"method": "*", "status": 503, "times": 10, "message": "ERR down"})
    try:
        config = load_agent_config(services, office["tenant_id"])
        assert config is not None and config.tenant_id == office["tenant_id"]
        logged = log(services, office["tenant_id"], "during-a-5xx")
        assert logged.reference > REFERENCE_CEILING and not logged.queued
    finally:
        httpx.delete(f"{url}/_standin/faults")
        services.agent_configs.tenant_for_number("+910000000000")  # Redis answers: no fail-fast left behind


def test_a_redis_error_names_no_host_or_url_and_fails_fast_afterwards() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    store_ = AgentConfigStore(f"http://127.0.0.1:{port}", "token", RedisTimeouts(retries=0, unreachable_backoff_s=60))
    with pytest.raises(TransientError) as refused:
        store_.tenant_for_number("+919800000001")
    with pytest.raises(TransientError) as skipped:  # within the fail-fast window: no wait at all
        store_.tenant_for_number("+919800000001")
    for message in (refused.value.message, skipped.value.message):
        assert not INTERNAL.search(message), message
    assert "moments ago" in skipped.value.message


def test_the_migration_starts_postgres_references_where_redis_stops() -> None:
    [migration] = [m for m in load_migrations("tenant") if "fallback_references" in m.name]
    assert f"START WITH {REFERENCE_CEILING + 1}" in migration.sql


def test_redact_keeps_hosts_urls_and_addresses_out_and_leaves_other_words() -> None:
    leaky = 'Error 111 connecting to 127.0.0.1:40123; "http://proxy.internal:8003/pipeline"; db.x.supabase.co:5432'
    assert not INTERNAL.search(redact(leaky))
    assert redact("StartExecution: ThrottlingException at 10:30") == "StartExecution: ThrottlingException at 10:30"


# AWS endpoint down ---------------------------------------------------------------------------


@pytest.fixture
def silent_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[socket.socket]]:
    """An AWS endpoint that accepts connections and never answers; the connections it took."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{listener.getsockname()[1]}")
    yield accepted
    listener.close()
    for conn in accepted:
        conn.close()


def test_an_aws_endpoint_that_never_answers_gives_a_clear_error_after_a_bounded_number_of_attempts(
    silent_endpoint: list[socket.socket],
) -> None:
    timeouts = AwsTimeouts(connect_s=0.2, read_s=0.2, max_attempts=2)  # a client of its own (cached by these)
    with pytest.raises(TransientError) as failed:
        SmsSender("ap-south-1", "MLAOFC", timeouts).send("+919800000001", "hello", entity_id="", template_id="")
    assert failed.value.message.startswith("SNS Publish: AWS unavailable")
    assert not INTERNAL.search(failed.value.message), failed.value.message
    assert len(silent_endpoint) == 2  # max_attempts, then it gave up


def test_an_aws_endpoint_that_refuses_connections_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    queue = ComplaintQueue("ap-south-1", "https://sqs.ap-south-1.amazonaws.com/0/q", AwsTimeouts(0.3, 0.3, 1))
    with pytest.raises(TransientError) as failed:
        queue.send("{}", key="k")
    assert failed.value.message == "SQS SendMessage: AWS unavailable (EndpointConnectionError)"
