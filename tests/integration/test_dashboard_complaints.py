"""The MLA office's complaint API: scoped to the caller's tenant, lifecycle enforced, no lost updates."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from local_stack import aws
from mla_core.adapters import get_services
from mla_core.agents.routing import load_agent_config
from mla_core.calls.records import record_call
from mla_core.complaints import casework, intake, search
from mla_core.complaints.intake import ComplaintDraft
from mla_core.complaints.models import ComplaintDetail, ComplaintFilters, DayCount, ListPage, Stats
from mla_core.complaints.stats import overdue_trend, summary
from mla_core.core.principal import OfficeUser
from support import Api, tenant_body, unique_number


def office(api: Api, admin_token: str, **overrides: Any) -> dict[str, Any]:
    """A provisioned tenant whose MLA admin accepted the invitation; with their token and user id."""
    body = tenant_body(**overrides)
    tenant = api.create_tenant(admin_token, body)
    invite = api.invite_token_for(body["admin_email"])
    session = api.http.post("/auth/register", json={"token": invite, "password": "office password 1"}).json()["data"]
    return {**tenant, "token": session["access_token"], "user_id": session["user"]["id"]}


def log(tenant_id: str, key: str, **draft: Any) -> tuple[int, str]:
    services = get_services()
    config = load_agent_config(services, tenant_id)
    assert config is not None
    caller = draft.pop("caller_number", unique_number())
    language = draft.pop("language", "ta")
    base = {"category": "water", "description": "குடிநீர் வரவில்லை மூன்று நாட்களாக", "location": "Ward 12"}
    logged = intake.log_complaint(
        services, config, ComplaintDraft(**{**base, **draft}), idempotency_key=key, caller_number=caller,
        language=language, room_name=None,
    )  # fmt: skip
    return logged.reference, caller


@pytest.fixture(scope="module")
def a(api: Api, admin_token: str) -> dict[str, Any]:
    return office(api, admin_token, languages=["ta", "en"])


@pytest.fixture(scope="module")
def b(api: Api, admin_token: str) -> dict[str, Any]:
    return office(api, admin_token, languages=["hi", "en"], state="Bihar")


@pytest.fixture(scope="module")
def a_complaints(a: dict[str, Any]) -> list[int]:
    refs = [log(a["tenant_id"], f"a-{i}")[0] for i in range(3)]
    refs.append(log(a["tenant_id"], "a-road", category="roads", description="Pothole on the main road")[0])
    refs.append(log(a["tenant_id"], "a-hi", language="hi", category="electricity", description="बिजली नहीं है")[0])
    return refs


def get(api: Api, token: str, path: str, **params: Any) -> Any:
    response = api.request("GET", path, token, params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_the_list_is_newest_first_and_pages_by_keyset(api: Api, a: dict[str, Any], a_complaints: list[int]) -> None:
    seen, cursor = [], None
    while True:
        page = get(api, a["token"], "/api/complaints", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [c["reference"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(a_complaints, reverse=True)
    oldest = get(api, a["token"], "/api/complaints", sort="oldest", limit=200)["items"]
    assert [c["reference"] for c in oldest] == sorted(a_complaints)


def test_filters_and_text_search_in_tamil_and_hindi(api: Api, a: dict[str, Any], a_complaints: list[int]) -> None:
    def refs(**params: Any) -> set[int]:
        return {c["reference"] for c in get(api, a["token"], "/api/complaints", limit=200, **params)["items"]}

    assert refs(category="roads") == {a_complaints[3]}
    assert refs(language="hi") == {a_complaints[4]}
    assert refs(q="குடிநீர்") == set(a_complaints[:3])
    assert refs(q="बिजली") == {a_complaints[4]}
    assert refs(q=str(a_complaints[1])) == {a_complaints[1]}
    assert refs(status=["new"]) >= set(a_complaints)
    assert refs(sla="overdue") == set()
    assert api.request("GET", "/api/complaints", a["token"], params={"cursor": "nonsense"}).status_code == 422
    assert api.request("GET", "/api/complaints", a["token"], params={"status": "sleeping"}).status_code == 422


def test_a_complaint_is_found_by_reference_or_id_with_its_timeline(
    api: Api, a: dict[str, Any], a_complaints: list[int]
) -> None:
    by_reference = get(api, a["token"], f"/api/complaints/{a_complaints[0]}")
    by_id = get(api, a["token"], f"/api/complaints/{by_reference['id']}")
    assert by_id["reference"] == a_complaints[0]
    assert [e["event_type"] for e in by_id["timeline"]] == ["created"]
    assert by_id["notifications"][0]["purpose"] == "complaint_registered"


def test_another_tenant_cannot_see_or_touch_a_complaint(
    api: Api, a: dict[str, Any], b: dict[str, Any], a_complaints: list[int]
) -> None:
    ref = a_complaints[0]
    complaint_id = get(api, a["token"], f"/api/complaints/{ref}")["id"]
    for target in (str(ref), complaint_id):
        assert api.request("GET", f"/api/complaints/{target}", b["token"]).status_code == 404
        patch = api.request(
            "PATCH", f"/api/complaints/{target}", b["token"], json={"version": 1, "status": "acknowledged"}
        )
        assert patch.status_code == 404
        note = api.request("POST", f"/api/complaints/{target}/notes", b["token"], json={"text": "hello"})
        assert note.status_code == 404
    assert get(api, b["token"], "/api/complaints")["items"] == []
    export = api.request("GET", "/api/complaints/export.csv", b["token"])
    assert export.status_code == 200 and len(export.text.strip().splitlines()) == 1
    assert get(api, b["token"], "/api/stats")["total"] == 0


def test_a_super_admin_token_does_not_reach_tenant_data(api: Api, admin_token: str) -> None:
    assert api.request("GET", "/api/complaints", admin_token).status_code == 403
    assert api.http.get("/api/complaints").status_code == 401


def test_the_lifecycle_is_enforced_and_each_change_is_an_event(api: Api, a: dict[str, Any]) -> None:
    ref, caller = log(a["tenant_id"], "life-1")
    path = f"/api/complaints/{ref}"

    def patch(version: int, **body: Any) -> Any:
        return api.request("PATCH", path, a["token"], json={"version": version, **body})

    wrong = patch(1, status="resolved")
    assert wrong.status_code == 409
    assert wrong.json()["error"]["details"][0]["allowed"] == ["acknowledged", "assigned", "duplicate", "transferred"]

    version = 1
    for status, extra in [("acknowledged", {}), ("assigned", {"assigned_to": a["user_id"]}), ("in_progress", {}),
                          ("resolved", {}), ("closed", {}), ("reopened", {}), ("resolved", {})]:  # fmt: skip
        response = patch(version, status=status, **extra)
        assert response.status_code == 200, (status, response.text)
        version = response.json()["data"]["version"]
        assert response.json()["data"]["status"] == status

    detail = get(api, a["token"], path)
    changes = [(e["from_status"], e["to_status"]) for e in detail["timeline"] if e["event_type"] == "status_changed"]
    assert changes[0] == ("new", "acknowledged") and changes[-1] == ("reopened", "resolved")
    assert any(e["event_type"] == "assigned" and e["actor_id"] == a["user_id"] for e in detail["timeline"])
    bodies = [m["body"] for m in aws.sent_sms() if m["to"] == caller]
    assert any("ஒப்படைக்கப்பட்டது" in body for body in bodies)  # assigned, in Tamil
    assert sum("தீர்க்கப்பட்டது" in body for body in bodies) == 2  # resolved twice


def test_a_stale_write_is_refused_not_silently_applied(api: Api, a: dict[str, Any]) -> None:
    ref, _ = log(a["tenant_id"], "stale-1")
    first = api.request(
        "PATCH", f"/api/complaints/{ref}", a["token"], json={"priority": "high"}, headers={"If-Match": "1"}
    )
    assert first.status_code == 200 and first.json()["data"]["version"] == 2

    stale = api.request("PATCH", f"/api/complaints/{ref}", a["token"], json={"version": 1, "priority": "low"})

    assert stale.status_code == 409
    assert stale.json()["error"]["details"][0]["current_version"] == 2
    assert get(api, a["token"], f"/api/complaints/{ref}")["priority"] == "high"
    missing = api.request("PATCH", f"/api/complaints/{ref}", a["token"], json={"priority": "low"})
    assert missing.status_code == 422


def test_duplicate_needs_the_original_and_raises_its_supporters(api: Api, a: dict[str, Any]) -> None:
    original, _ = log(a["tenant_id"], "dup-original")
    copy, _ = log(a["tenant_id"], "dup-copy")
    path = f"/api/complaints/{copy}"
    assert api.request("PATCH", path, a["token"], json={"version": 1, "status": "duplicate"}).status_code == 422

    response = api.request(
        "PATCH", path, a["token"], json={"version": 1, "status": "duplicate", "duplicate_of": str(original)}
    )

    assert response.status_code == 200
    assert get(api, a["token"], f"/api/complaints/{original}")["supporter_count"] == 2
    again = api.request("PATCH", path, a["token"], json={"version": 2, "status": "reopened"})
    assert again.status_code == 409


def test_a_transfer_needs_the_authority_and_a_note(api: Api, a: dict[str, Any]) -> None:
    ref, caller = log(a["tenant_id"], "transfer-1", language="en")
    path = f"/api/complaints/{ref}"
    refused = api.request(
        "PATCH", path, a["token"], json={"version": 1, "status": "transferred", "transferred_to": "TNEB"}
    )
    assert refused.status_code == 422
    assert [d["field"] for d in refused.json()["error"]["details"]] == ["note"]

    done = api.request(
        "PATCH", path, a["token"],
        json={"version": 1, "status": "transferred", "transferred_to": "TNEB Mylapore", "note": "Transformer fault"},
    )  # fmt: skip

    assert done.status_code == 200 and done.json()["data"]["transferred_to"] == "TNEB Mylapore"
    [told] = [m["body"] for m in aws.sent_sms() if m["to"] == caller and "for action" in m["body"]]
    assert f"your complaint {ref} " in told and "sent for action to: TNEB Mylapore." in told  # the office's words


def test_staff_log_a_walk_in_complaint_with_the_same_rules(api: Api, a: dict[str, Any]) -> None:
    caller = unique_number()
    body = {"category": "streetlights", "description": "Three lights out on 4th cross", "location": "Ward 3",
            "caller_number": caller, "language": "en"}  # fmt: skip
    created = api.request("POST", "/api/complaints", a["token"], json=body, headers={"Idempotency-Key": "walkin-1"})
    again = api.request("POST", "/api/complaints", a["token"], json=body, headers={"Idempotency-Key": "walkin-1"})

    assert created.status_code == 201 and created.json()["data"]["channel"] == "walk_in"
    assert again.json()["data"]["reference"] == created.json()["data"]["reference"]
    assert [m for m in aws.sent_sms() if m["to"] == caller]
    bad = api.request("POST", "/api/complaints", a["token"], json={**body, "category": "aliens"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "category"


def test_notes_export_and_stats(api: Api, a: dict[str, Any], a_complaints: list[int]) -> None:
    note = api.request("POST", f"/api/complaints/{a_complaints[2]}/notes", a["token"], json={"text": "Called the AE"})
    assert note.status_code == 201
    assert note.json()["data"]["timeline"][-1]["note"] == "Called the AE"

    export = api.request("GET", "/api/complaints/export.csv", a["token"], params={"category": "roads"})
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))  # a BOM, for Excel
    assert export.headers["content-type"].startswith("text/csv")
    assert [int(r["Reference"]) for r in rows] == [a_complaints[3]]
    assert (rows[0]["Category"], rows[0]["Status"], rows[0]["Overdue"]) == ("Roads", "New", "No")

    stats = get(api, a["token"], "/api/stats")
    assert stats["total"] >= 5 and stats["by_category"]["roads"] == 1
    assert sum(stats["by_status"].values()) == stats["total"]
    assert stats["by_day"][-1]["count"] >= 5


async def test_what_the_office_reads_is_what_its_types_declare(a: dict[str, Any], a_complaints: list[int]) -> None:
    """Strictly: datetimes are datetimes, ids UUIDs, nullable fields None, so the types can be the
    JSON routes' response models."""
    services, tenant_id = get_services(), a["tenant_id"]
    config = load_agent_config(services, tenant_id)
    assert config is not None
    room, started = f"mla-{tenant_id}-call_types", datetime.now(UTC)
    draft = ComplaintDraft(category="roads", description="A pothole by the bus stop", location="Ward 4")
    logged = intake.log_complaint(
        services, config, draft, idempotency_key="types-1", caller_number=unique_number(), language="en", room_name=room
    )
    said = [{"role": "user", "text": "pothole"}]
    record_call(
        services,
        tenant_id,
        room,
        caller_number=None,
        dialed_number="+914440001234",
        language="en",
        started_at=started,
        ended_at=started,
        outcome="complaint_logged",
        transcript=said,
        latency={},
        notice_played_at=started,
    )
    casework.add_note(
        services, OfficeUser(a["user_id"], "a@example.in", "mla_admin", tenant_id), str(logged.reference), "Seen"
    )

    detail = casework.get_complaint(services, tenant_id, str(logged.reference))
    TypeAdapter(ComplaintDetail).validate_python(detail, strict=True)
    assert detail["call"] is not None and [e["event_type"] for e in detail["timeline"]] == ["created", "note"]
    TypeAdapter(ListPage).validate_python(await search.list_page(services, tenant_id, ComplaintFilters()), strict=True)
    TypeAdapter(Stats).validate_python(summary(services, tenant_id), strict=True)
    TypeAdapter(list[DayCount]).validate_python(overdue_trend(services, tenant_id), strict=True)


def test_a_walk_in_complaints_created_event_names_the_staffer_who_typed_it(api: Api, a: dict[str, Any]) -> None:
    body = {"category": "water", "description": "No water since Monday", "location": "Ward 5", "language": "ta"}
    created = api.request("POST", "/api/complaints", a["token"], json={**body, "channel": "walk_in"})
    assert created.status_code == 201, created.text

    [first, *_] = created.json()["data"]["timeline"]
    assert first["event_type"] == "created" and first["actor_type"] == "user"
    assert first["actor_id"] == a["user_id"] and first["actor_name"]
