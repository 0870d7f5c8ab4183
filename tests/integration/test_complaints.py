"""Complaints at the domain level: durable before the reference is given, once per tool call,
confirmed by SMS in the caller's language, and scoped to the caller and the tenant."""

from __future__ import annotations

import time
from typing import Any

import pytest
from psycopg import sql

from local_stack import aws
from mla_core.adapters import Services, get_services
from mla_core.agents.config import AgentConfig
from mla_core.agents.routing import load_agent_config
from mla_core.complaints import intake
from mla_core.complaints.intake import ComplaintDraft
from mla_core.core.errors import InvalidInputError
from support import Api, tenant_body, unique_number


@pytest.fixture(scope="module")
def tenant(api: Api, admin_token: str) -> dict[str, Any]:
    return api.create_tenant(admin_token, tenant_body(languages=["ta", "hi", "en"]))


@pytest.fixture
def services(stack: Any) -> Services:
    return get_services()


def complaint_rows(stack: Any, tenant_id: str, **where: Any) -> list[dict[str, Any]]:
    import psycopg
    from psycopg.rows import dict_row

    clauses = (
        sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in where) if where else sql.SQL("true")
    )
    query = sql.SQL("SELECT * FROM {}.complaints WHERE {}").format(sql.Identifier(f"tenant_{tenant_id}"), clauses)
    with psycopg.connect(stack.env["DATABASE_URL"], row_factory=dict_row) as conn:
        return conn.execute(query, tuple(where.values())).fetchall()


def sms_to(number: str) -> list[dict[str, Any]]:
    return [m for m in aws.sent_sms() if m["to"] == number]


def water(**overrides: Any) -> ComplaintDraft:
    base = {"category": "water", "description": "No drinking water for three days", "location": "Ward 12, Nehru Street"}
    return ComplaintDraft(**{**base, **overrides})


def test_a_complaint_is_stored_with_every_field_and_confirmed_by_sms_in_the_callers_language(
    tenant: dict[str, Any], services: Services, stack: Any
) -> None:
    config = load_agent_config(services, tenant["tenant_id"])
    assert config is not None
    caller = unique_number()

    logged = intake.log_complaint(
        services, config, water(caller_name="Murugan", landmark="near the temple tank"),
        idempotency_key="room-1:abc", caller_number=caller, language="ta", room_name="mla-x-call_1",
    )  # fmt: skip

    assert logged.queued is False and logged.reference > 1000
    [row] = complaint_rows(stack, tenant["tenant_id"], reference=logged.reference)
    assert row["category"] == "water" and row["status"] == "new" and row["channel"] == "phone"
    assert (row["caller_name"], row["landmark"], row["caller_number"]) == ("Murugan", "near the temple tank", caller)
    assert row["language"] == "ta" and row["room_name"] == "mla-x-call_1"
    assert 6 <= (row["sla_due_at"] - row["created_at"]).days <= 7
    [sms] = sms_to(caller)
    assert str(logged.reference) in sms["body"] and "குடிநீர்" in sms["body"]
    assert sms["attributes"]["AWS.MM.SMS.EntityId"] == "1101000000000000001"
    assert sms["attributes"]["AWS.MM.SMS.TemplateId"] == "1107000000000000001"
    assert sms["attributes"]["AWS.SNS.SMS.SMSType"] == "Transactional"


def test_the_same_tool_call_twice_makes_one_complaint(tenant: dict[str, Any], services: Services, stack: Any) -> None:
    config = load_agent_config(services, tenant["tenant_id"])
    assert config is not None
    caller = unique_number()
    args = {"idempotency_key": "room-2:same", "caller_number": caller, "language": "hi", "room_name": "r2"}

    first = intake.log_complaint(services, config, water(), **args)
    second = intake.log_complaint(services, config, water(), **args)

    assert first.reference == second.reference
    assert len(complaint_rows(stack, tenant["tenant_id"], caller_number=caller)) == 1
    assert len(sms_to(caller)) == 1


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        ({"description": ""}, "description"),
        ({"description": "?!"}, "description"),
        ({"location": "x" * 301}, "location"),
        ({"category": "alien invasion"}, "category"),
    ],
)
def test_bad_arguments_are_refused_with_a_sentence_and_store_nothing(
    draft: dict[str, Any], field: str, tenant: dict[str, Any], services: Services, stack: Any
) -> None:
    config = load_agent_config(services, tenant["tenant_id"])
    assert config is not None
    caller = unique_number()
    with pytest.raises(InvalidInputError) as refused:
        intake.log_complaint(
            services, config, water(**draft), idempotency_key=f"bad-{field}", caller_number=caller,
            language="en", room_name="r3",
        )  # fmt: skip
    assert refused.value.details[0]["field"] == field
    assert refused.value.message and refused.value.message[0].isalpha()
    assert complaint_rows(stack, tenant["tenant_id"], caller_number=caller) == []


def test_a_category_may_be_named_in_the_callers_language(
    tenant: dict[str, Any], services: Services, stack: Any
) -> None:
    config = load_agent_config(services, tenant["tenant_id"])
    assert config is not None
    logged = intake.log_complaint(
        services, config, water(category="बिजली"), idempotency_key="hi-cat", caller_number=unique_number(),
        language="hi", room_name="r4",
    )  # fmt: skip
    [row] = complaint_rows(stack, tenant["tenant_id"], reference=logged.reference)
    assert row["category"] == "electricity"


def test_status_is_told_only_to_the_caller_who_logged_it_and_only_in_that_tenant(
    api: Api, admin_token: str, tenant: dict[str, Any], services: Services
) -> None:
    config = load_agent_config(services, tenant["tenant_id"])
    assert config is not None
    caller = unique_number()
    logged = intake.log_complaint(
        services, config, water(), idempotency_key="status-1", caller_number=caller, language="en", room_name="r5"
    )
    other_tenant = api.create_tenant(admin_token)

    mine = intake.complaint_status(services, tenant["tenant_id"], logged.reference, caller)
    assert mine is not None and mine.status == "new" and mine.category == "water"
    assert intake.complaint_status(services, tenant["tenant_id"], logged.reference, unique_number()) is None
    assert intake.complaint_status(services, other_tenant["tenant_id"], logged.reference, caller) is None
    assert [c.reference for c in intake.open_complaints(services, tenant["tenant_id"], caller)] == [logged.reference]
    assert intake.open_complaints(services, other_tenant["tenant_id"], caller) == []


def test_with_postgres_down_the_caller_still_gets_a_reference_and_the_complaint_arrives_once(
    tenant: dict[str, Any], stack: Any, postgres_down: None
) -> None:
    services = get_services()
    config = AgentConfig.model_validate_json(services.agent_configs.get(tenant["tenant_id"]) or "")  # Redis answers
    assert config is not None
    caller = unique_number()
    args = {"idempotency_key": "outage-1", "caller_number": caller, "language": "hi", "room_name": "r6"}

    logged = intake.log_complaint(services, config, water(), **args)
    again = intake.log_complaint(services, config, water(), **args)  # the LLM repeats itself

    assert logged.queued is True and again.reference == logged.reference
    assert sms_to(caller) == []  # not before the complaint is committed

    stack.restart_postgres()
    deadline = time.monotonic() + 30
    while not complaint_rows(stack, tenant["tenant_id"], caller_number=caller) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # let any duplicate delivery (the second queued copy) land too

    [row] = complaint_rows(stack, tenant["tenant_id"], caller_number=caller)
    assert row["reference"] == logged.reference
    [sms] = sms_to(caller)
    assert str(logged.reference) in sms["body"]


def test_a_flushed_reference_counter_never_reuses_a_stored_reference(
    tenant: dict[str, Any], services: Services, stack: Any
) -> None:
    from upstash_redis import Redis

    config = load_agent_config(services, tenant["tenant_id"])
    assert config is not None
    first = intake.log_complaint(
        services,
        config,
        water(),
        idempotency_key="flush-1",
        caller_number=unique_number(),
        language="en",
        room_name="r7",
    )
    Redis(stack.env["UPSTASH_REDIS_REST_URL"], stack.env["UPSTASH_REDIS_REST_TOKEN"]).delete(
        f"complaint:ref:{tenant['tenant_id']}"
    )

    second = intake.log_complaint(
        services,
        config,
        water(),
        idempotency_key="flush-2",
        caller_number=unique_number(),
        language="en",
        room_name="r7",
    )

    assert second.reference > first.reference
    refs = [r["reference"] for r in complaint_rows(stack, tenant["tenant_id"])]
    assert len(refs) == len(set(refs))
