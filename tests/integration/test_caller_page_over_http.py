"""The caller's page (`/app/complaints/{reference}/caller`, issue 18) as a browser without JavaScript
uses it, over the local stack: what is remembered, by whom and on which call; corrections and
deletions refused next to their field when the input is bad, once when a form is sent twice, and never
for another office or another caller; no number in any address."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mla_core.adapters import get_services
from mla_core.agents.routing import load_agent_config
from mla_core.calls.records import record_call
from mla_core.complaints import intake
from mla_core.complaints.intake import ComplaintDraft
from support import Api, Pages, tenant_body, unique_number


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    office = api.office_admin(admin_token, tenant_body(languages=["ta", "en"]))
    email = f"staff.{office['tenant_id']}@memory-page.example.in"
    invited = api.request("POST", "/api/users/invite", office["token"], json={"email": email, "full_name": "Kavitha"})
    assert invited.status_code == 201, invited.text
    staff = api.http.post("/auth/register", json={"token": api.invite_token_for(email), "password": "staff password 1"})
    session = staff.json()["data"]
    return {**office, "staff_token": session["access_token"], "staff_id": session["user"]["id"]}


@pytest.fixture(scope="module")
def other_office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token, tenant_body())


def remember(api: Api, token: str, phone: str, text: str, **more: Any) -> str:
    response = api.request(
        "POST", "/api/mem0/memories", token, json={"infer": False, "user_id": phone, "text": text, **more}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["results"][0]["id"])


def history(api: Api, token: str, memory_id: str) -> list[dict[str, Any]]:
    response = api.request("GET", f"/api/mem0/memories/{memory_id}/history", token)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def walk_in(api: Api, token: str, phone: str | None) -> int:
    body = {"category": "water", "description": "No water since Monday", "location": "Ward 5", "language": "ta"}
    created = api.request(
        "POST", "/api/complaints", token, json={**body, **({"caller_number": phone} if phone else {})}
    )
    assert created.status_code == 201, created.text
    return int(created.json()["data"]["reference"])


def phoned(tenant_id: str, phone: str) -> tuple[int, str]:
    """A complaint the agent took on a call from `phone`: its reference and the call's room."""
    services = get_services()
    config = load_agent_config(services, tenant_id)
    assert config is not None
    room, started = f"mla-{tenant_id}-call_{uuid.uuid4().hex[:8]}", datetime.now(UTC) - timedelta(minutes=5)
    draft = ComplaintDraft(category="water", description="குடிநீர் வரவில்லை", location="Ward 12")
    logged = intake.log_complaint(
        services, config, draft, idempotency_key=room, caller_number=phone, callback_number=None, language="ta",
        room_name=room,
    )  # fmt: skip
    record_call(
        services, tenant_id, room, caller_number=phone, dialed_number=config.phone_numbers[0], language="ta",
        started_at=started, ended_at=started + timedelta(seconds=60), outcome="complaint_logged",
        transcript=[{"type": "message", "role": "caller", "text": "குடிநீர்"}], latency={}, notice_played_at=started,
    )  # fmt: skip
    return int(logged.reference), room


def browser(api: Api, token: str, lang: str = "en") -> Pages:
    return Pages(api.http, mla_session=token, mla_lang=lang)


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def post(pages: Pages, path: str, page_path: str, **form: str) -> httpx.Response:
    return pages.send("POST", path, data={"csrf": csrf_of(pages.send("GET", page_path)), **form})


def test_the_page_shows_each_persons_profile_and_the_facts_with_who_changed_them_and_on_which_call(
    api: Api, office: dict[str, Any], stack: Any
) -> None:
    phone = unique_number()
    reference, room = phoned(office["tenant_id"], phone)
    remember(api, office["token"], phone, "Ward 12", slot="ward", run_id=room)
    remember(api, office["staff_token"], phone, "Ward 13", slot="ward")
    remember(api, office["token"], phone, "ta", slot="language")
    remember(api, office["token"], phone, "Murugan", slot="name", person="Murugan")
    remember(api, office["token"], phone, "Sells flowers at the market", run_id="another-call")
    root = stack.env["OPENAI_BASE_URL"].removesuffix("/v1")
    httpx.post(
        f"{root}/local/chat-replies",
        json=[{"match": "I have a ration card", "answer": {"memory": [{"event": "ADD", "text": "Has a ration card"}]}}],
    )
    queued = api.request("POST", "/api/mem0/memories", office["token"],
                         json={"user_id": phone, "messages": [{"role": "user", "content": "I have a ration card"}]})  # fmt: skip
    assert queued.status_code == 202, queued.text
    deadline = time.monotonic() + 30
    while (
        api.request("GET", f"/api/mem0/events/{queued.json()['data']['event_id']}", office["token"]).json()["data"][
            "status"
        ]
        == "PENDING"
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)

    complaint = browser(api, office["staff_token"]).send("GET", f"/app/complaints/{reference}")
    assert f'href="/app/complaints/{reference}/caller"' in complaint.text
    assert "What the office remembers about this caller" in complaint.text
    page = browser(api, office["staff_token"], "hi").send("GET", f"/app/complaints/{reference}/caller")
    assert page.status_code == 200, page.text
    text = page.text
    assert "वार्ड" in text and "<bdi>Ward 13</bdi>" in text and "पसंद की भाषा" in text
    assert "<span>तमिल</span>" in text  # the language slot's code in words
    assert "इस नंबर वाले <bdi>Murugan</bdi> के बारे में" in text  # a second person on the phone
    assert "<bdi>Sells flowers at the market</bdi>" in text and "<bdi>Has a ration card</bdi>" in text
    assert "<bdi>Ward 12</bdi> → <bdi>Ward 13</bdi>" in text  # the history, old to new
    assert '<bdi data-testid="actor">Kavitha</bdi>' in text  # the staff member, by name
    assert "AI एजेंट, कॉल के बाद" in text  # the extraction
    assert f'<a href="/app/complaints/{reference}">इस शिकायत की कॉल पर</a>' in text and "किसी दूसरी कॉल पर" in text
    assert "user:" not in text and "job:" not in text and room not in text
    assert f"+91 {phone[3:8]} {phone[8:]}" in text


def test_a_correction_is_saved_once_and_a_deletion_asked_first_each_on_the_history_by_name(
    api: Api, office: dict[str, Any]
) -> None:
    phone = unique_number()
    reference = walk_in(api, office["token"], phone)
    ward = remember(api, office["token"], phone, "Ward 12", slot="ward")
    fact = remember(api, office["token"], phone, "Works as a mason")
    pages, here = browser(api, office["staff_token"], "ta"), f"/app/complaints/{reference}/caller"

    form = {"text": "Ward 14", "was": "Ward 12"}
    saved = post(pages, f"{here}/{ward}", here, **form)
    assert saved.status_code == 303 and saved.headers["location"] == f"{here}?saved=1"
    again = post(pages, f"{here}/{ward}", here, **form)  # Back, and the same form sent again
    assert again.status_code == 303
    assert [(h["event"], h["new_memory"]) for h in history(api, office["token"], ward)] == [
        ("ADD", "Ward 12"), ("UPDATE", "Ward 14")
    ]  # fmt: skip
    assert "சேமிக்கப்பட்டது." in pages.send("GET", saved.headers["location"]).text

    asked = post(pages, f"{here}/{fact}/delete", here)
    assert asked.status_code == 200 and "இதை அலுவலகத்தின் நினைவிலிருந்து நீக்கவா?" in asked.text
    assert [h["event"] for h in history(api, office["token"], fact)] == ["ADD"]  # only asked
    deleted = pages.send("POST", f"{here}/{fact}/delete", data={"csrf": csrf_of(asked), "confirm": "delete"})
    assert deleted.status_code == 303 and deleted.headers["location"] == f"{here}?deleted={fact}"
    twice = pages.send("POST", f"{here}/{fact}/delete", data={"csrf": csrf_of(asked), "confirm": "delete"})
    assert twice.status_code == 303
    entries = history(api, office["token"], fact)
    assert [h["event"] for h in entries] == ["ADD", "DELETE"]
    assert entries[-1]["actor"] == f"user:{office['staff_id']}"
    after = pages.send("GET", deleted.headers["location"]).text
    assert "நீக்கப்பட்டது. AI முகவருக்கு இனி இது தெரியாது" in after and "<bdi>Works as a mason</bdi>" in after
    assert '<bdi data-testid="actor">Kavitha</bdi>' in after
    assert [m["memory"] for m in api.request("POST", "/api/mem0/memories/list", office["token"],
                                             json={"filters": {"user_id": phone}}).json()["data"]["items"]] == ["Ward 14"]  # fmt: skip


@pytest.mark.parametrize(
    ("lang", "typed", "sentence"),
    [
        ("hi", "   ", "पाठ भरें।"),
        ("ta", "x" * 501, "உரை அதிகபட்சம் 500 எழுத்துகள் இருக்கலாம்."),
        ("en", "x" * 501, "The text can have at most 500 characters."),
    ],
)
def test_bad_input_is_refused_next_to_its_box_in_the_pages_language_and_changes_nothing(
    api: Api, office: dict[str, Any], lang: str, typed: str, sentence: str
) -> None:
    phone = unique_number()
    reference = walk_in(api, office["token"], phone)
    memory = remember(api, office["token"], phone, "Lives near the temple")
    pages, here = browser(api, office["staff_token"], lang), f"/app/complaints/{reference}/caller"

    refused = post(pages, f"{here}/{memory}", here, text=typed, was="Lives near the temple")

    assert refused.status_code == 422
    assert f'<p class="error" id="text-{memory}-error">{sentence}</p>' in refused.text
    assert f'aria-describedby="text-{memory}-hint text-{memory}-error"' in refused.text
    assert '<details data-testid="correct" open>' in refused.text
    assert [h["event"] for h in history(api, office["token"], memory)] == ["ADD"]


def test_a_form_someone_else_overtook_is_refused_and_says_so(api: Api, office: dict[str, Any]) -> None:
    phone = unique_number()
    reference = walk_in(api, office["token"], phone)
    memory = remember(api, office["token"], phone, "Booth 45", slot="booth")
    remember(api, office["token"], phone, "Booth 46", slot="booth")  # the admin changed it meanwhile
    pages, here = browser(api, office["staff_token"]), f"/app/complaints/{reference}/caller"

    stale = post(pages, f"{here}/{memory}", here, text="Booth 47", was="Booth 45")

    assert stale.status_code == 409
    assert "Someone else changed this first. Here it is as it is now; make your change again." in stale.text
    assert '<input type="hidden" name="was" value="Booth 46">' in stale.text  # a second try works
    assert [h["new_memory"] for h in history(api, office["token"], memory)] == ["Booth 45", "Booth 46"]


def test_another_office_and_another_caller_get_the_not_found_page_and_change_nothing(
    api: Api, office: dict[str, Any], other_office: dict[str, Any]
) -> None:
    phone, neighbour = unique_number(), unique_number()
    reference = walk_in(api, office["token"], phone)
    ours = remember(api, office["token"], phone, "Kannan", slot="name")
    theirs = remember(api, office["token"], neighbour, "Selvi", slot="name")
    stranger = browser(api, other_office["token"])
    unknown = stranger.send("GET", "/app/complaints/99999999/caller")
    assert unknown.status_code == 404

    page = stranger.send("GET", f"/app/complaints/{reference}/caller")
    main = re.compile(r"<main.*</main>", re.S)
    assert page.status_code == 404 and main.findall(page.text) == main.findall(unknown.text)
    assert "Kannan" not in page.text
    own_page = (
        f"/app/complaints/{walk_in(api, other_office['token'], phone)}/caller"  # their own complaint, same number
    )
    assert "Kannan" not in stranger.send("GET", own_page).text
    for path, form in (
        (f"/app/complaints/{reference}/caller/{ours}", {"text": "changed", "was": "Kannan"}),
        (f"/app/complaints/{reference}/caller/{ours}/delete", {"confirm": "delete"}),
        (f"{own_page.removesuffix('/caller')}/caller/{ours}", {"text": "changed", "was": "Kannan"}),
        (f"{own_page.removesuffix('/caller')}/caller/{ours}/delete", {"confirm": "delete"}),
    ):
        assert post(stranger, path, own_page, **form).status_code == 404, path
    # Our own staff, through this complaint, cannot reach another caller's memory either.
    staff, here = browser(api, office["staff_token"]), f"/app/complaints/{reference}/caller"
    assert post(staff, f"{here}/{theirs}", here, text="changed", was="Selvi").status_code == 404
    assert post(staff, f"{here}/{theirs}/delete", here, confirm="delete").status_code == 404
    assert [h["event"] for h in history(api, office["token"], ours)] == ["ADD"]
    assert [h["event"] for h in history(api, office["token"], theirs)] == ["ADD"]


def test_a_complaint_without_a_caller_number_has_nothing_to_remember(api: Api, office: dict[str, Any]) -> None:
    reference = walk_in(api, office["token"], None)
    pages = browser(api, office["staff_token"], "ta")
    complaint = pages.send("GET", f"/app/complaints/{reference}")
    assert "caller-memory-link" not in complaint.text
    page = pages.send("GET", f"/app/complaints/{reference}/caller")
    assert page.status_code == 200
    assert "இந்தப் புகாரில் அழைப்பாளர் எண் இல்லை; எனவே நினைவில் வைக்க எதுவும் இல்லை." in page.text
    nothing = pages.send("GET", f"/app/complaints/{walk_in(api, office['token'], unique_number())}/caller")
    assert "இந்த அழைப்பாளரைப் பற்றி இன்னும் எதுவும் நினைவில் இல்லை." in nothing.text
