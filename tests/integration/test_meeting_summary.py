"""From hearing to action (issue 20): a held darbar's summary with a scripted model, its items reviewed, a
grievance made a complaint with its SMS in Tamil (once, however often asked), an action given to a staff
member; a long transcript summarised in parts and merged; another office reaches none of it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from local_stack import aws
from mla_core.adapters import get_services
from mla_core.meetings import meetings, store, summary_jobs
from mla_core.meetings.models import NewSegment
from support import Api, tenant_body, unique_number

SOON = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    office = api.office_admin(admin_token, tenant_body(languages=["ta", "en"]))
    return {**office, "staff_token": api.staff_of(office)}


def held(
    api: Api, office: dict[str, Any], said: list[tuple[str, str, str]], phone: str | None = None
) -> dict[str, Any]:
    """A darbar started, its citizens' words stored (`(name, language, text)`), ended: the meeting and the
    identities by name."""
    body = {"kind": "janata_darbar", "title": "Janata darbar, Ward 12", "scheduled_at": SOON}
    meeting = api.request("POST", "/api/meetings", office["token"], json=body).json()["data"]
    path = f"/api/meetings/{meeting['id']}"
    assert api.request("POST", f"{path}/start", office["token"]).status_code == 200
    identities: dict[str, str] = {}
    for name in dict.fromkeys(n for n, _, _ in said):
        token = {"role": "citizen", "name": name, **({"phone": phone} if phone and not identities else {})}
        identities[name] = api.request("POST", f"{path}/token", office["token"], json=token).json()["data"]["identity"]
    segments = [
        NewSegment(participant_identity=identities[name], language=language, text=text, start_ms=i * 5000,
                   end_ms=i * 5000 + 4000, segment_key=f"s{i}")
        for i, (name, language, text) in enumerate(said)
    ]  # fmt: skip
    meetings.record_segments(get_services(), office["tenant_id"], uuid.UUID(meeting["id"]), segments)
    assert api.request("POST", f"{path}/end", office["token"]).status_code == 200
    return {**meeting, "identities": identities}


def script(stack: Any, *replies: dict[str, Any]) -> None:
    root = stack.env["OPENAI_BASE_URL"].removesuffix("/v1")
    assert httpx.post(f"{root}/local/chat-replies", json=list(replies)).status_code == 200


def summarise(office: dict[str, Any], meeting: dict[str, Any]) -> None:
    """The job as the queue runs it."""
    services, meeting_id = get_services(), uuid.UUID(meeting["id"])
    with services.db.transaction() as conn:
        store.claim_summary(conn, office["tenant_id"], meeting_id, again=True)
    summary_jobs.run(services, summary_jobs.SummaryMessage(tenant_id=office["tenant_id"], meeting_id=meeting_id))


def segment_ids(api: Api, office: dict[str, Any], meeting: dict[str, Any]) -> list[int]:
    transcript = api.request("GET", f"/api/meetings/{meeting['id']}/transcript", office["token"]).json()["data"]
    return [s["id"] for s in transcript["segments"]]


def test_a_darbar_becomes_minutes_a_complaint_with_its_sms_and_a_task(
    api: Api, office: dict[str, Any], stack: Any
) -> None:
    phone = unique_number()
    meeting = held(api, office, [
        ("Murugan", "ta", "வார்டு 12 இல் மூன்று நாளாக குடிநீர் வரவில்லை"),
        ("Murugan", "ta", "தயவுசெய்து டேங்கர் அனுப்புங்கள்"),
        ("Sunita", "hi", "सड़क पर बहुत गड्ढे हैं"),
    ], phone=phone)  # fmt: skip
    first, second, third = segment_ids(api, office, meeting)
    script(stack, {"match": "தயவுசெய்து டேங்கர் அனுப்புங்கள்", "answer": {
        "minutes": {"ta": "குடிநீர் மற்றும் சாலை குறைகள்", "en": "Water and road grievances were raised."},
        "grievances": [
            {"text": "No drinking water in Ward 12 for three days", "segment_ids": [first, second],
             "place": "Ward 12", "category": "water"},
            {"text": "Potholes on the road", "segment_ids": [third], "category": "roads"},
        ],
        "actions": [{"text": "Send a water tanker to Ward 12", "owner": "the AE", "due": "2026-12-10",
                     "segment_ids": [second]}],
        "decisions": [{"text": "Review water supply weekly", "segment_ids": [first]}],
    }})  # fmt: skip
    summarise(office, meeting)

    path = f"/api/meetings/{meeting['id']}"
    written = api.request("GET", f"{path}/summary", office["staff_token"]).json()["data"]
    assert written["status"] == "succeeded" and set(written["minutes"]) == {"ta", "en"}
    assert written["parts"] == 1 and written["llm_calls"] == 1 and written["cost_usd"] > 0
    water, roads = written["grievances"]
    assert roads["category"] == "roads" and roads["segment_ids"] == [third]
    assert water["speaker_name"] == "Murugan" and water["segment_ids"] == [first, second]
    assert water["phone"] is None and water["status"] == "proposed"
    [tanker] = written["actions"]
    [weekly] = written["decisions"]
    assert tanker["suggested_owner"] == "the AE" and weekly["text"] == "Review water supply weekly"

    made = api.request("POST", f"{path}/items/{water['id']}/complaint", office["staff_token"])
    assert made.status_code == 200, made.text
    linked = made.json()["data"]
    assert linked["status"] == "accepted" and linked["complaint_reference"] and linked["complaint_status"] == "new"
    again = api.request("POST", f"{path}/items/{water['id']}/complaint", office["staff_token"]).json()["data"]
    assert again["complaint_id"] == linked["complaint_id"]  # never two complaints
    complaint = api.request("GET", f"/api/complaints/{linked['complaint_reference']}", office["token"]).json()["data"]
    assert complaint["channel"] == "meeting" and complaint["caller_number"] == phone
    assert complaint["language"] == "ta" and complaint["caller_name"] == "Murugan"
    [sms] = [m for m in aws.sent_sms() if m["to"] == phone]
    assert str(linked["complaint_reference"]) in sms["body"] and "குடிநீர்" in sms["body"]
    refused = api.request("PATCH", f"{path}/items/{water['id']}", office["token"], json={"status": "dropped"})
    assert refused.status_code == 409

    staff = api.request("GET", "/api/users", office["token"]).json()["data"]
    staff_id = next(u["id"] for u in staff if u["role"] == "staff")
    assigned = api.request(
        "PATCH", f"{path}/items/{tanker['id']}", office["token"],
        json={"owner_user_id": staff_id, "due_date": "2026-12-10", "status": "accepted"},
    )  # fmt: skip
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["data"]["owner_user_id"] == staff_id
    done = api.request("PATCH", f"{path}/items/{tanker['id']}", office["staff_token"], json={"status": "done"})
    assert done.json()["data"]["status"] == "done"


def test_review_refuses_what_an_item_cannot_be(api: Api, office: dict[str, Any], stack: Any) -> None:
    meeting = held(api, office, [("Ravi", "en", "The street light on 4th Cross is broken")])
    [only] = segment_ids(api, office, meeting)
    script(stack, {"match": "street light on 4th Cross", "answer": {
        "minutes": {"ta": "தெருவிளக்கு", "en": "Street light"},
        "grievances": [{"text": "Broken street light", "segment_ids": [only]}],
        "decisions": [{"text": "Fix lights", "segment_ids": [only]}],
    }})  # fmt: skip
    summarise(office, meeting)
    path = f"/api/meetings/{meeting['id']}"
    written = api.request("GET", f"{path}/summary", office["token"]).json()["data"]
    [light], [fix] = written["grievances"], written["decisions"]
    for item, body, status in [
        (fix, {"owner_user_id": office["user_id"]}, 422),  # only an action has an owner
        (light, {"status": "done"}, 409),  # proposed → done is no move
        (fix, {"status": "wedding"}, 422),
    ]:
        response = api.request("PATCH", f"{path}/items/{item['id']}", office["token"], json=body)
        assert response.status_code == status, (body, response.text)
    no_category = api.request("POST", f"{path}/items/{light['id']}/complaint", office["token"])
    assert no_category.status_code == 422  # the model named no category: staff must
    assert api.request("POST", f"{path}/items/{fix['id']}/complaint", office["token"]).status_code == 422
    made = api.request(
        "POST", f"{path}/items/{light['id']}/complaint", office["token"], json={"category": "electricity"}
    )
    assert made.status_code == 200, made.text


def test_a_long_hearing_is_summarised_in_parts_and_merged(
    api: Api, office: dict[str, Any], stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    said = [("Lakshmi", "ta", f"பகுதி {i}: குடிநீர் குழாய் உடைந்துவிட்டது, பல நாட்களாக சரி செய்யவில்லை") for i in range(40)]
    meeting = held(api, office, said)
    services = get_services()
    monkeypatch.setattr(services.settings, "meeting_summary_part_tokens", 400)
    ids = segment_ids(api, office, meeting)
    parts = [{"minutes": {"ta": f"பகுதி {n}", "en": f"part {n}"}, "grievances": []} for n in range(1, 20)]
    script(stack, *({"match": f"part {n} of", "answer": answer} for n, answer in enumerate(parts, start=1)),
           {"match": "MEETING MINUTES BY PART", "answer": {"minutes": {"ta": "முழு", "en": "Whole meeting"}}})  # fmt: skip
    summarise(office, meeting)
    written = api.request("GET", f"/api/meetings/{meeting['id']}/summary", office["token"]).json()["data"]
    assert written["status"] == "succeeded" and written["parts"] > 1 and len(ids) == 40
    assert written["llm_calls"] == written["parts"] + 1 and written["minutes"]["en"] == "Whole meeting"
    requests = httpx.get(f"{stack.env['OPENAI_BASE_URL'].removesuffix('/v1')}/local/chat-requests").json()
    sizes = [sum(len(m["content"]) for m in r["messages"]) for r in requests if "MEETING" in str(r["messages"])]
    assert max(sizes) < 400 * 2 * 2 + 4_000  # no call holds the whole transcript


def test_another_office_reaches_no_summary_or_item(
    api: Api, office: dict[str, Any], admin_token: str, stack: Any
) -> None:
    meeting = held(api, office, [("Ravi", "en", "Drain overflowing near the market")])
    [only] = segment_ids(api, office, meeting)
    script(stack, {"match": "Drain overflowing near the market", "answer": {
        "minutes": {"ta": "வடிகால்", "en": "Drain"}, "grievances": [{"text": "Drain", "segment_ids": [only]}]}})  # fmt: skip
    summarise(office, meeting)
    [item] = api.request("GET", f"/api/meetings/{meeting['id']}/summary", office["token"]).json()["data"]["grievances"]
    other = api.office_admin(admin_token, tenant_body())
    path = f"/api/meetings/{meeting['id']}"
    for method, suffix, body in [
        ("GET", "/summary", None), ("POST", "/summary", None), ("PATCH", f"/items/{item['id']}", {"status": "dropped"}),
        ("POST", f"/items/{item['id']}/complaint", {"category": "water"}),
    ]:  # fmt: skip
        response = api.request(method, path + suffix, other["token"], json=body)
        assert response.status_code == 404, (suffix, response.text)
    assert (
        api.request("GET", f"{path}/summary", office["token"]).json()["data"]["grievances"][0]["status"] == "proposed"
    )
