"""Callers who asked on a call to be forgotten, as the office's MLA admin acts on them: listed by the API
(`/api/privacy/erasure-requests`) and on the privacy page, each opening the person's view through the
find form (the number in the body), dismissed without erasing, or ended by the erasure of the number.
Staff are refused them; another office neither sees them nor dismisses them.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from mla_core.adapters import get_services
from mla_core.core.fields import written_number
from mla_core.memory import memories
from mla_core.memory.models import LIST_LIMIT, ErasureRequest
from mla_core.web.i18n import WORDS
from mla_core.web.rendering import IST, dated
from support import Api, Pages, tenant_body, unique_number

LIST = "/api/privacy/erasure-requests"
# The section's words, by key: shown in the reader's language, never in English in Hindi.
SECTION = (
    "pd_requests",
    "pd_requests_intro",
    "pd_req_asked",
    "pd_req_open",
    "pd_req_dismiss",
    "pd_req_dismiss_confirm",
)


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    """An office with its admin and a staffer signed in."""
    office = api.office_admin(admin_token, tenant_body(languages=["ta", "en"]))
    return {**office, "staff_token": api.staff_of(office)}


@pytest.fixture(scope="module")
def elsewhere(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token, tenant_body(languages=["hi", "en"], state="Bihar"))


def asked(office: dict[str, Any]) -> tuple[str, ErasureRequest]:
    """A fresh caller's "forget me" on a call of theirs, as the agent's tool records it."""
    n = unique_number()
    room = f"room-x-{n[-8:]}"
    return n, memories.record_erasure_request(get_services(), office["tenant_id"], n, call_id=room)


def listed(api: Api, token: str) -> dict[str, Any]:
    answer = api.request("GET", LIST, token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["success"] is True
    return answer.json()["data"]


def waiting(api: Api, token: str) -> list[str]:
    return [r["caller_phone"] for r in listed(api, token)["items"]]


def dismiss(api: Api, token: str, request_id: uuid.UUID | str) -> Any:
    return api.request("POST", f"{LIST}/{request_id}/handled", token)


def test_the_admin_sees_a_callers_request_in_the_api_newest_first(api: Api, office: dict[str, Any]) -> None:
    older, _ = asked(office)
    n, request = asked(office)
    data = listed(api, office["token"])
    assert data["more"] is False
    [item] = [r for r in data["items"] if r["caller_phone"] == n]
    assert item["id"] == str(request.id) and item["call_id"] == f"room-x-{n[-8:]}" and item["handled_at"] is None
    assert waiting(api, office["token"]).index(n) < waiting(api, office["token"]).index(older)


def test_the_admin_sees_it_on_the_privacy_page_and_opens_the_persons_view(api: Api, office: dict[str, Any]) -> None:
    n, request = asked(office)
    page = Pages(api.http, mla_session=office["token"])
    shown = page.send("GET", "/app/privacy")
    assert shown.status_code == 200, shown.text
    assert WORDS["pd_requests"][0] in shown.text and 'data-testid="no-requests"' not in shown.text
    # The number as people read it, and when they asked in India's time.
    assert "+91 " + written_number(n) in shown.text
    assert f"{request.created_at.astimezone(IST):%H:%M}" in shown.text
    assert dated("en")(request.created_at) in shown.text
    assert f'action="/app/privacy/erasure-requests/{request.id}/handled"' in shown.text
    assert f"/privacy/erasure-requests/{n}" not in shown.text and f"?phone={n}" not in shown.text

    person = page.post("/app/privacy/find", "/app/privacy", phone=n)  # as the row's button posts it
    assert person.status_code == 200, person.text
    assert WORDS["pd_erasure_requests"][0] in person.text  # what is held includes the request itself


def test_the_section_reads_in_hindi(api: Api, office: dict[str, Any]) -> None:
    _, request = asked(office)
    shown = Pages(api.http, mla_session=office["token"], mla_lang="hi").send("GET", "/app/privacy")
    assert shown.status_code == 200, shown.text
    for key in SECTION:
        english, hindi, _ = WORDS[key]
        assert hindi in shown.text, key
        assert english not in shown.text, key
    assert dated("hi")(request.created_at) in shown.text  # the month in Hindi


def test_no_requests_is_said_so(api: Api, admin_token: str) -> None:
    fresh = api.office_admin(admin_token, tenant_body())
    assert listed(api, fresh["token"]) == {"items": [], "more": False}
    shown = Pages(api.http, mla_session=fresh["token"]).send("GET", "/app/privacy")
    assert shown.status_code == 200 and 'data-testid="no-requests"' in shown.text
    assert 'data-testid="erasure-request"' not in shown.text


def test_staff_are_refused_the_requests(api: Api, office: dict[str, Any]) -> None:
    n, request = asked(office)
    staff = office["staff_token"]
    assert api.request("GET", LIST, staff).status_code == 403
    refused = dismiss(api, staff, request.id)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    page = Pages(api.http, mla_session=staff)
    assert page.send("GET", "/app/privacy").status_code == 403
    posted = page.post(f"/app/privacy/erasure-requests/{request.id}/handled", "/app/complaints")
    assert posted.status_code == 403
    assert n in waiting(api, office["token"])


def test_another_office_sees_nothing_and_cannot_dismiss_it(
    api: Api, office: dict[str, Any], elsewhere: dict[str, Any]
) -> None:
    n, request = asked(office)
    assert n not in waiting(api, elsewhere["token"])
    refused = dismiss(api, elsewhere["token"], request.id)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found", refused.text
    page = Pages(api.http, mla_session=elsewhere["token"])
    assert written_number(n) not in page.send("GET", "/app/privacy").text
    posted = page.post(f"/app/privacy/erasure-requests/{request.id}/handled", "/app/privacy")
    assert posted.status_code == 404
    assert n in waiting(api, office["token"])


def test_a_dismissed_request_leaves_the_list_and_stays_in_the_export(api: Api, office: dict[str, Any]) -> None:
    n, request = asked(office)
    page = Pages(api.http, mla_session=office["token"], mla_lang="ta")
    dismissed = page.post(f"/app/privacy/erasure-requests/{request.id}/handled", "/app/privacy")
    assert dismissed.status_code == 303 and dismissed.headers["location"] == "/app/privacy?dismissed=1"
    after = page.send("GET", dismissed.headers["location"])
    assert after.status_code == 200 and WORDS["pd_req_dismissed"][2] in after.text
    assert written_number(n) not in after.text
    assert n not in waiting(api, office["token"])

    again = dismiss(api, office["token"], request.id)  # a second dismissal keeps the first time
    assert again.status_code == 200, again.text
    handled_at = again.json()["data"]["handled_at"]
    assert handled_at and again.json()["data"]["id"] == str(request.id)
    assert dismiss(api, office["token"], request.id).json()["data"]["handled_at"] == handled_at

    export = api.request("POST", "/api/privacy/export", office["token"], json={"phone": n}).json()
    [kept] = export["sections"]["erasure_requests"]
    assert kept["id"] == str(request.id) and kept["handled_at"]


def test_dismissing_through_the_api_and_an_id_of_nothing(api: Api, office: dict[str, Any]) -> None:
    n, request = asked(office)
    answer = dismiss(api, office["token"], request.id)
    assert answer.status_code == 200 and answer.json()["success"] is True
    assert answer.json()["data"]["caller_phone"] == n and answer.json()["data"]["handled_at"]
    assert n not in waiting(api, office["token"])
    assert dismiss(api, office["token"], uuid.uuid4()).status_code == 404
    assert dismiss(api, office["token"], "not-an-id").status_code == 422


def test_an_erasure_of_the_number_ends_its_request(api: Api, office: dict[str, Any]) -> None:
    n, request = asked(office)
    token = office["token"]
    preview = api.request("POST", "/api/privacy/erasures/preview", token, json={"phone": n}).json()["data"]
    assert preview["erasable"] and preview["counts"]["erasure_requests"] == 1
    erased = api.request(
        "POST", "/api/privacy/erasures", token, json={"phone": n, "confirmation": preview["confirmation"]}
    )
    assert erased.status_code == 201, erased.text
    assert n not in waiting(api, token)
    assert dismiss(api, token, request.id).status_code == 404  # nothing of it is left to dismiss
    assert written_number(n) not in Pages(api.http, mla_session=token).send("GET", "/app/privacy").text


def test_only_the_newest_requests_are_listed_and_more_says_so(api: Api, admin_token: str) -> None:
    busy = api.office_admin(admin_token, tenant_body())
    numbers = [asked(busy)[0] for _ in range(LIST_LIMIT + 1)]
    data = listed(api, busy["token"])
    assert data["more"] is True and len(data["items"]) == LIST_LIMIT
    assert numbers[0] not in [r["caller_phone"] for r in data["items"]]  # the oldest waits for the next view
    shown = Pages(api.http, mla_session=busy["token"]).send("GET", "/app/privacy")
    assert WORDS["pd_requests_more"][0].format(n=LIST_LIMIT) in shown.text
