"""A constituent's personal data (DPDP): found, exported and erased by their office's MLA admin.

One office, one person (a fresh number N): a call from N logs a complaint with its SMS, a second
complaint, a hidden caller's complaint with N as the callback number, a staff note and another
person's complaint mentioning N as people write it. After the erasure nothing in the office's schema,
the platform's or Redis holds N, and the office's statistics are what they were.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from local_stack import aws
from mla_core.adapters import get_services
from mla_core.agents.routing import load_agent_config
from mla_core.calls.records import CallRecord, ingest_queued_call_record, record_call
from mla_core.complaints import casework, intake
from mla_core.complaints.intake import ComplaintDraft, QueuedComplaint
from mla_core.complaints.models import ComplaintPatch
from mla_core.complaints.stats import summary
from mla_core.core.principal import OfficeUser
from mla_core.core.privacy import subject_digest
from mla_core.privacy import confirmation, requests
from mla_core.privacy.discovery import personal_data
from mla_core.privacy.models import ConfirmationInvalidError, OpenComplaintsError, PreviewStaleError
from privacy_support import search_everywhere, spaced
from support import Api, tenant_body, unique_number


def admin_of(office: dict[str, Any]) -> OfficeUser:
    return OfficeUser(
        user_id=office["user_id"], email="admin@office.example", role="mla_admin", tenant_id=office["tenant_id"]
    )


def sql_rows(stack: Any, query: str, *params: Any, tenant_id: str = "") -> list[dict[str, Any]]:
    """Rows of `query`, whose `{schema}` is the office `tenant_id`'s."""
    composed = sql.SQL(query).format(schema=sql.Identifier(f"tenant_{tenant_id}"))  # type: ignore[arg-type]
    with psycopg.connect(stack.env["DATABASE_URL"], row_factory=dict_row, autocommit=True) as conn:
        cursor = conn.execute(composed, params)
        return cursor.fetchall() if cursor.description else []


def a_call(tenant_id: str, caller: str | None, said: str, *, hidden_digits: str = "") -> str:
    """A finished call from `caller` (None: a hidden caller) in LiveKit's SIP room shape; its room name."""
    room = f"mla-{tenant_id}-call_{caller or '**' + hidden_digits}_{uuid.uuid4().hex[:12]}"
    now = datetime.now(UTC)
    record_call(
        get_services(),
        tenant_id,
        room,
        caller_number=caller,
        dialed_number=None,
        language="ta",
        started_at=now - timedelta(minutes=3),
        ended_at=now,
        outcome="complaint_logged",
        transcript=[
            {"role": "assistant", "text": "வணக்கம், this call is recorded"},
            {"role": "user", "text": said},
            {
                "type": "tool_call",
                "name": "log_complaint",
                "arguments": {"caller_name": "Murugan", "location": "Ward 12"},
            },
        ],
        latency={"first_reply_ms": 640},
        notice_played_at=now - timedelta(minutes=3),
    )
    return room


def log(
    office: dict[str, Any],
    key: str,
    *,
    caller: str | None,
    callback: str | None = None,
    room: str | None = None,
    **draft: Any,
) -> int:
    services = get_services()
    config = load_agent_config(services, office["tenant_id"])
    assert config is not None
    base = {"category": "water", "description": "குடிநீர் வரவில்லை மூன்று நாட்களாக", "location": "Ward 12"}
    return intake.log_complaint(
        services,
        config,
        ComplaintDraft(**{**base, **draft}),
        idempotency_key=key,
        caller_number=caller,
        callback_number=callback,
        language="ta",
        room_name=room,
    ).reference


def close(office: dict[str, Any], reference: int) -> None:
    services, who = get_services(), admin_of(office)
    for status in ("acknowledged", "in_progress", "resolved", "closed"):
        version = casework.get_complaint(services, who.tenant_id, str(reference))["version"]
        casework.update_complaint(services, who, str(reference), ComplaintPatch(status=status), if_match=version)


def statistics(stack: Any, tenant_id: str) -> tuple[Any, ...]:
    grouped = sql_rows(
        stack,
        "SELECT status, category, count(*) AS n FROM {schema}.complaints GROUP BY 1, 2 ORDER BY 1, 2",
        tenant_id=tenant_id,
    )
    return summary(get_services(), tenant_id), grouped


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token, tenant_body(languages=["ta", "en"]))


@pytest.fixture(scope="module")
def person(stack: Any, office: dict[str, Any]) -> dict[str, Any]:
    """N's records in the office, their complaints closed; and another person's, which mention N."""
    n, tenant_id = unique_number(), office["tenant_id"]
    room = a_call(tenant_id, n, f"my number is {' '.join(n[3:])}")
    sql_rows(
        stack,
        "UPDATE {schema}.calls SET recording_url = 'recordings/' || id || '.ogg' WHERE room_name = %s",
        room,
        tenant_id=tenant_id,
    )
    sql_rows(
        stack,
        "INSERT INTO platform.webhook_events (id, event, room_name, tenant_id) VALUES (%s, 'room_started', %s, %s)",
        f"EV_{uuid.uuid4().hex[:12]}",
        room,
        tenant_id,
    )
    first = log(
        office,
        f"{room}:log_complaint:1a2b",
        caller=n,
        room=room,
        caller_name="Murugan",
        landmark="near the Kali temple",
        description=f"No water for three days. Call me on {spaced(n)}",
    )
    a_call(tenant_id, n, "what is the status of my complaint?")
    second = log(office, f"manual-{n}", caller=n, category="roads", description="Pothole on the main road")
    hidden_room = a_call(tenant_id, None, f"send the SMS to {n[3:]}", hidden_digits=n[-4:])
    hidden = log(office, f"{hidden_room}:log_complaint:3c4d", caller=None, callback=n, room=hidden_room)
    other_number = unique_number()
    other = log(
        office,
        f"other-{other_number}",
        caller=other_number,
        description=f"My neighbour ({spaced(n)}) has no water either",
    )
    casework.add_note(get_services(), admin_of(office), str(other), f"Neighbour on 0{n[3:]} called as well")
    return {"number": n, "references": [first, second, hidden], "other": other, "room": room}


def test_an_erasure_is_refused_while_a_complaint_is_open(
    stack: Any, office: dict[str, Any], person: dict[str, Any]
) -> None:
    services, who, n = get_services(), admin_of(office), person["number"]
    before = search_everywhere(stack, office["tenant_id"], n)
    preview = requests.preview(services, who, n)
    assert sorted(preview.open_complaints) == sorted(person["references"]) and not preview.erasable

    with pytest.raises(OpenComplaintsError) as refused:
        requests.erase(services, who, n, preview.confirmation)

    assert sorted(int(d["reason"]) for d in refused.value.details) == sorted(person["references"])
    assert search_everywhere(stack, office["tenant_id"], n) == before
    for reference in person["references"]:
        close(office, reference)
    assert requests.summary(services, who, spaced(n)).erasable


def test_export_holds_every_kind_of_record_and_is_recorded_by_digest(
    stack: Any, office: dict[str, Any], person: dict[str, Any]
) -> None:
    services, n = get_services(), person["number"]
    doc = requests.export(services, admin_of(office), f"0{n[3:]}")

    assert doc["phone"] == n
    sections = doc["sections"]
    held = {"complaints", "notes_mentioning", "complaints_mentioning", "calls"}
    assert held <= set(sections) and not any(sections[k] for k in set(sections) - held)  # nothing remembered of N
    assert {h.name for h in personal_data()} == {"complaints", "calls", "caller_memory", "meetings"}
    assert all(sections[k] for k in held), {name: len(rows) for name, rows in sections.items()}
    assert sorted(c["reference"] for c in sections["complaints"]) == sorted(person["references"])
    first = next(c for c in sections["complaints"] if c["reference"] == person["references"][0])
    assert first["caller_name"] == "Murugan" and first["timeline"] and first["notifications"]
    assert any(sms["recipient"] == n for sms in first["notifications"])
    assert [note["reference"] for note in sections["notes_mentioning"]] == [person["other"]]
    assert [c["reference"] for c in sections["complaints_mentioning"]] == [person["other"]]
    assert len(sections["calls"]) == 3 and all(call["transcript"] for call in sections["calls"])

    digest = subject_digest(services.settings.privacy_key, office["tenant_id"], n)
    records = sql_rows(
        stack,
        "SELECT *, to_jsonb(r)::text AS whole FROM platform.privacy_requests r WHERE tenant_id = %s AND kind = 'export'",
        office["tenant_id"],
    )
    assert [r["subject_digest"] for r in records] == [digest]
    assert n[3:] not in records[0]["whole"] and records[0]["counts"]["complaints"] == 3


def test_a_stale_or_foreign_confirmation_is_refused(office: dict[str, Any], person: dict[str, Any]) -> None:
    services, who, n = get_services(), admin_of(office), person["number"]
    preview = requests.preview(services, who, n)
    someone_else = requests.preview(services, who, unique_number())
    with pytest.raises(ConfirmationInvalidError):
        requests.erase(services, who, n, someone_else.confirmation)
    with pytest.raises(ConfirmationInvalidError):
        requests.erase(services, who, n, preview.confirmation[:-2] + "00")
    with pytest.raises(ConfirmationInvalidError):
        requests.erase(services, who, n, "not a token")

    key, digest = services.settings.privacy_key, subject_digest(services.settings.privacy_key, who.tenant_id, n)
    confirmed = confirmation.Confirmed(who.tenant_id, digest, who.user_id, preview.counts)
    token, _ = confirmation.issue(key, confirmed, now=datetime.now(UTC) - timedelta(minutes=11))
    with pytest.raises(PreviewStaleError, match="expired"):
        requests.erase(services, who, n, token)

    a_call(who.tenant_id, n, "hello again")  # the person's records changed after the preview
    with pytest.raises(PreviewStaleError, match="changed"):
        requests.erase(services, who, n, preview.confirmation)


def test_another_offices_erasure_of_the_same_number_touches_nothing_here(
    stack: Any, api: Api, admin_token: str, office: dict[str, Any], person: dict[str, Any]
) -> None:
    elsewhere = api.office_admin(admin_token, tenant_body(languages=["hi", "en"], state="Bihar"))
    n, services = person["number"], get_services()
    a_call(elsewhere["tenant_id"], n, "नमस्ते")
    here_before = search_everywhere(stack, office["tenant_id"], n)
    rows_before = sql_rows(stack, "SELECT * FROM {schema}.complaints ORDER BY reference", tenant_id=office["tenant_id"])

    preview = requests.preview(services, admin_of(elsewhere), n)
    result = requests.erase(services, admin_of(elsewhere), n, preview.confirmation)

    assert result.counts["calls"] == 1 and result.counts["complaints"] == 0
    assert search_everywhere(stack, office["tenant_id"], n) == here_before
    assert (
        sql_rows(stack, "SELECT * FROM {schema}.complaints ORDER BY reference", tenant_id=office["tenant_id"])
        == rows_before
    )
    assert not [found for found in search_everywhere(stack, elsewhere["tenant_id"], n) if "tenant_" in found]


def test_after_an_erasure_the_number_is_nowhere_and_the_statistics_are_unchanged(
    stack: Any, api: Api, office: dict[str, Any], person: dict[str, Any]
) -> None:
    services, who, n, tenant_id = get_services(), admin_of(office), person["number"], office["tenant_id"]
    found = search_everywhere(stack, tenant_id, n)
    for column in (
        "complaints.caller_number",
        "complaints.callback_number",
        "complaints.description",
        "complaint_events.note",
        "notifications.recipient",
        "calls.transcript",
        "calls.room_name",
    ):
        assert f"tenant_{tenant_id}.{column}" in found, found
    assert "platform.webhook_events.room_name" in found
    assert any(key.startswith(f"redis:complaint:idem:{tenant_id}:") for key in found), found
    stats = statistics(stack, tenant_id)

    preview = requests.preview(services, who, n)
    assert preview.erasable and preview.effects
    result = requests.erase(services, who, n, preview.confirmation)

    assert search_everywhere(stack, tenant_id, n) == []
    assert statistics(stack, tenant_id) == stats
    assert result.counts["complaints"] == 3 and result.counts["calls"] >= 3
    assert list(result.pending) == ["objects"] and len(result.pending["objects"]) == 1  # no recordings bucket yet
    erased = sql_rows(
        stack,
        "SELECT category, location, status, description, erased_at FROM {schema}.complaints WHERE reference = ANY(%s)",
        person["references"],
        tenant_id=tenant_id,
    )
    assert {(r["status"], r["description"]) for r in erased} == {("closed", "[erased]")}
    assert all(r["erased_at"] and r["location"] == "Ward 12" for r in erased)
    note = sql_rows(
        stack,
        "SELECT note FROM {schema}.complaint_events e JOIN {schema}.complaints c"
        " ON c.id = e.complaint_id WHERE c.reference = %s AND e.event_type = 'note'",
        person["other"],
        tenant_id=tenant_id,
    )
    assert note == [{"note": "Neighbour on [number erased] called as well"}]
    record = sql_rows(stack, "SELECT * FROM platform.privacy_requests WHERE id = %s", result.request_id)[0]
    assert record["kind"] == "erase" and record["actor_id"] == who.user_id and record["completed_at"] is None
    assert record["subject_digest"] == subject_digest(services.settings.privacy_key, tenant_id, n)
    for reference in person["references"]:  # staff still open the complaint, its timeline and its SMS
        detail = api.request("GET", f"/api/complaints/{reference}", office["token"])
        assert detail.status_code == 200, detail.text
        assert detail.json()["data"]["timeline"][-1]["event_type"] == "personal_data_erased"
        page = api.http.get(f"/app/complaints/{reference}", headers={"cookie": f"mla_session={office['token']}"})
        assert page.status_code == 200 and "[erased]" in page.text
    # Erasing again finds nothing left to erase.
    again = requests.preview(services, who, n)
    assert not any(again.counts.values())


def test_a_complaint_and_a_call_queued_before_an_erasure_arrive_anonymised(stack: Any, office: dict[str, Any]) -> None:
    services, who, r, tenant_id = get_services(), admin_of(office), unique_number(), office["tenant_id"]
    made = datetime.now(UTC) - timedelta(minutes=5)  # while Postgres was down, before the erasure
    room = f"mla-{tenant_id}-call_{r}_{uuid.uuid4().hex[:12]}"
    queued = QueuedComplaint(
        tenant_id=tenant_id,
        reference=8_500_001,
        idempotency_key=f"{room}:log_complaint:5e6f",
        category="water",
        description=f"No water; call {spaced(r)}",
        location=f"Ward 3, ask for {r}",
        caller_name="Meena",
        caller_number=r,
        language="ta",
        room_name=room,
        sla_due_at=made + timedelta(days=3),
        created_at=made,
    )
    record = CallRecord(
        tenant_id=tenant_id,
        room_name=room,
        caller_number=r,
        language="ta",
        outcome="complaint_logged",
        started_at=made,
        ended_at=made + timedelta(minutes=2),
        transcript=[{"role": "user", "text": r}],
    )
    requests.erase(services, who, r, requests.preview(services, who, r).confirmation)

    assert intake.ingest_queued(services, queued)
    assert ingest_queued_call_record(services, record)

    assert search_everywhere(stack, tenant_id, r) == []
    assert not [m for m in aws.sent_sms() if m["to"] == r]
    stored = sql_rows(
        stack,
        "SELECT description, location, status FROM {schema}.complaints WHERE reference = 8500001",
        tenant_id=tenant_id,
    )
    assert stored == [{"description": "[erased]", "location": "Ward 3, ask for [number erased]", "status": "new"}]
    # A call made after the erasure is new data, kept as any other.
    later = record.model_copy(update={"room_name": room + "x", "started_at": datetime.now(UTC) + timedelta(seconds=1)})
    assert ingest_queued_call_record(services, later)
    kept = {f"tenant_{tenant_id}.calls.{column}" for column in ("caller_number", "transcript", "room_name")}
    assert set(search_everywhere(stack, tenant_id, r)) == kept
