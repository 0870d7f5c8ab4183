"""Caller memory under a constituent's rights and the office's retention: an export holds what is
remembered of a number with its history and jobs, an erasure leaves the number nowhere in caller memory
(another caller's memory that mentions it keeps its words without it), and retention removes memories
`caller_memory` days after they last changed, or once their own expiry passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_personal_data import admin_of, sql_rows

from mla_core.adapters import get_services
from mla_core.core.retention import RetentionPolicy
from mla_core.memory import memories
from mla_core.memory.models import MemoryAdd
from mla_core.memory.personal_data import caller_memory
from mla_core.privacy import requests
from privacy_support import search_everywhere, spaced
from support import Api, tenant_body, unique_number


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token, tenant_body(languages=["ta", "en"]))


def remember(office: dict[str, Any], phone: str, text: str, **more: Any) -> None:
    memories.add(get_services(), admin_of(office), MemoryAdd(user_id=phone, text=text, infer=False, **more))


def test_an_export_holds_the_memories_and_an_erasure_leaves_the_number_nowhere(
    stack: Any, office: dict[str, Any]
) -> None:
    services, who, n, tenant_id = get_services(), admin_of(office), unique_number(), office["tenant_id"]
    remember(office, n, "Ward 12", slot="ward")
    remember(office, n, "Ward 13", slot="ward")
    remember(office, n, "Runs a tea shop")
    neighbour = unique_number()
    remember(office, neighbour, f"Their son's number is {spaced(n)}")
    memories.add(
        services, who, MemoryAdd(user_id=n, messages=[{"role": "user", "content": "I live in ward 13"}], infer=True)
    )

    document = requests.export(services, who, n)
    section = document["sections"]
    assert sorted(m["memory"] for m in section["caller_memories"]) == ["Runs a tea shop", "Ward 13"]
    assert [h["event"] for h in section["caller_memory_history"]].count("UPDATE") == 1
    assert all("embedding" not in m for m in section["caller_memories"])
    assert len(section["memory_jobs"]) == 1

    preview = requests.preview(services, who, n)
    result = requests.erase(services, who, n, preview.confirmation)
    assert result.counts["caller_memories"] == 2 and result.counts["memories_mentioning"] == 1
    assert [f for f in search_everywhere(stack, tenant_id, n) if "memor" in f] == []
    [kept] = sql_rows(
        stack, "SELECT memory FROM {schema}.caller_memories WHERE caller_phone = %s", neighbour, tenant_id=tenant_id
    )
    assert kept["memory"] == "Their son's number is [number erased]"


def test_retention_removes_memories_past_the_offices_days_and_past_their_own_expiry(
    stack: Any, office: dict[str, Any]
) -> None:
    n, tenant_id = unique_number(), office["tenant_id"]
    remember(office, n, "Ward 7", slot="ward")
    remember(office, n, "Sells vegetables")
    remember(office, n, "Visiting until Pongal", expiration_date=datetime.now(UTC) + timedelta(days=10))
    sql_rows(
        stack,
        "UPDATE {schema}.caller_memories SET updated_at = now() - interval '400 days'"
        " WHERE caller_phone = %s AND memory = 'Sells vegetables'",
        n,
        tenant_id=tenant_id,
    )
    policy = RetentionPolicy()
    with get_services().db.transaction() as conn:
        done = caller_memory.expire(conn, f"tenant_{tenant_id}", policy, datetime.now(UTC))
        later = caller_memory.expire(conn, f"tenant_{tenant_id}", policy, datetime.now(UTC) + timedelta(days=11))
    assert done.counts["caller_memories"] >= 1 and later.counts["caller_memories"] >= 1
    left = sql_rows(
        stack, "SELECT memory FROM {schema}.caller_memories WHERE caller_phone = %s", n, tenant_id=tenant_id
    )
    assert [r["memory"] for r in left] == ["Ward 7"]
    # The agent never reads an expired memory, even before retention runs.
    remember(office, n, "Gone already", expiration_date=datetime.now(UTC) - timedelta(seconds=1))
    assert memories.for_call(get_services(), tenant_id, n).facts == []
