"""Duplicates an office cannot get wrong (issue 15, item 2), through the JSON API and the pages without
JavaScript: the original named as the list writes it, checked before it is marked (another office's
reference is not found here), each side linking the other, and an office admin's undoing of a wrong one."""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_dashboard_complaints import log
from test_team import invite_staff

from support import Api, Pages, tenant_body


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token, tenant_body(languages=["ta", "en"]))


@pytest.fixture(scope="module")
def other_office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token, tenant_body(languages=["hi", "en"], state="Bihar"))


def detail(api: Api, token: str, reference: int) -> dict[str, Any]:
    response = api.request("GET", f"/api/complaints/{reference}", token)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def mark(api: Api, token: str, reference: int, original: str, **more: Any) -> Any:
    version = detail(api, token, reference)["version"]
    body = {"version": version, "status": "duplicate", "duplicate_of": original, **more}
    return api.request("PATCH", f"/api/complaints/{reference}", token, json=body)


def test_the_check_names_the_original_as_the_list_writes_it(api: Api, office: dict[str, Any]) -> None:
    original, _ = log(office["tenant_id"], "check-original", description="Street light out near the temple")
    copy, _ = log(office["tenant_id"], "check-copy")

    for written in (f"#{original}", str(original), f" #{original} "):
        checked = api.request(
            "GET", f"/api/complaints/{copy}/duplicate-check", office["token"], params={"duplicate_of": written}
        )
        assert checked.status_code == 200, checked.text
        summary = checked.json()["data"]
        assert (summary["reference"], summary["status"], summary["category"]) == (original, "new", "water")
        assert summary["description"] == "Street light out near the temple"
    assert detail(api, office["token"], copy)["status"] == "new"  # a check changes nothing


def foreign(api: Api, office: dict[str, Any], other_office: dict[str, Any], key: str) -> int:
    """A reference the other office has and this one does not (each office counts its own)."""
    for n in range(50):
        theirs, _ = log(other_office["tenant_id"], f"{key}-{n}")
        if api.request("GET", f"/api/complaints/{theirs}", office["token"]).status_code == 404:
            return theirs
    raise AssertionError("the other office's references never passed this one's")


def test_a_reference_the_office_does_not_have_is_not_found_whatever_another_office_has(
    api: Api, office: dict[str, Any], other_office: dict[str, Any]
) -> None:
    ours, _ = log(office["tenant_id"], "ours")
    theirs = foreign(api, office, other_office, "theirs")

    for named in (f"#{theirs}", str(detail(api, other_office["token"], theirs)["id"]), "99999999"):
        checked = api.request(
            "GET", f"/api/complaints/{ours}/duplicate-check", office["token"], params={"duplicate_of": named}
        )
        marked = mark(api, office["token"], ours, named)
        for answer in (checked, marked):
            assert answer.status_code == 404, answer.text
            error = answer.json()["error"]
            assert error["code"] == "not_found"
            assert error["details"][0] == {
                "field": "duplicate_of",
                "reason": "no_such_complaint",
                "message": "This office has no complaint with this reference: check the number, e.g. #1002.",
            }
    hindi = api.request(
        "GET", f"/api/complaints/{ours}/duplicate-check", office["token"],
        params={"duplicate_of": "#99999999"}, headers={"Accept-Language": "hi"},
    )  # fmt: skip
    assert hindi.json()["error"]["message"].startswith("इस कार्यालय में इस संदर्भ की कोई शिकायत नहीं है")
    assert detail(api, office["token"], ours)["status"] == "new"


def test_each_side_links_the_other_and_an_admin_undoes_a_wrong_duplicate(api: Api, office: dict[str, Any]) -> None:
    original, _ = log(office["tenant_id"], "linked-original")
    copy, _ = log(office["tenant_id"], "linked-copy")
    api.request("PATCH", f"/api/complaints/{copy}", office["token"], json={"version": 1, "status": "acknowledged"})

    assert mark(api, office["token"], copy, f"#{original}").status_code == 200

    marked, first = detail(api, office["token"], copy), detail(api, office["token"], original)
    assert marked["original"]["reference"] == original and marked["duplicate_of"] == first["id"]
    assert [d["reference"] for d in first["duplicates"]] == [copy]
    assert first["supporter_count"] == 2
    staff = invite_staff(api, office)
    body = {"version": marked["version"], "note": "A different street"}
    refused = api.request("POST", f"/api/complaints/{copy}/undo-duplicate", staff["token"], json=body)
    assert refused.status_code == 403

    undone = api.request("POST", f"/api/complaints/{copy}/undo-duplicate", office["token"], json=body)

    assert undone.status_code == 200, undone.text
    freed = undone.json()["data"]
    assert (freed["status"], freed["duplicate_of"], freed["original"]) == ("acknowledged", None, None)
    last = freed["timeline"][-1]
    assert (last["event_type"], last["to_status"], last["note"]) == ("duplicate_undone", "acknowledged", body["note"])
    assert last["actor_name"] == "Selvi's office"
    again = detail(api, office["token"], original)
    assert again["supporter_count"] == 1 and again["duplicates"] == []
    assert again["timeline"][-1]["event_type"] == "duplicate_unlinked"
    stale = api.request("POST", f"/api/complaints/{copy}/undo-duplicate", office["token"], json=body)
    assert stale.status_code == 409 and stale.json()["error"]["details"][0]["reason"] == "stale"
    body["version"] = freed["version"]
    twice = api.request("POST", f"/api/complaints/{copy}/undo-duplicate", office["token"], json=body)
    assert twice.status_code == 409 and twice.json()["error"]["details"][0]["reason"] == "not_duplicate"


def test_the_page_checks_the_original_next_to_its_field_then_asks_to_confirm(
    api: Api, office: dict[str, Any], other_office: dict[str, Any]
) -> None:
    original, _ = log(office["tenant_id"], "page-original", description="Garbage not collected for a week")
    copy, _ = log(office["tenant_id"], "page-copy")
    theirs = foreign(api, office, other_office, "page-theirs")
    pages = Pages(api.http, mla_session=office["token"], mla_lang="ta")
    path = f"/app/complaints/{copy}"

    for named in (f"#{theirs}", "#abc"):
        refused = pages.post(f"{path}/change", path, version="1", status="duplicate", duplicate_of=named)
        assert refused.status_code == 422, refused.text
        error = re.search(r'<p class="error" id="duplicate_of-error">([^<]+)</p>', refused.text)
        assert error and error.group(1).startswith("இந்த அலுவலகத்தில் இந்தக் குறிப்பு எண் கொண்ட புகார் இல்லை")
        assert f'value="{named}"' in refused.text and "#" + str(copy) in refused.text  # the page, not "Not found"
    itself = pages.post(f"{path}/change", path, version="1", status="duplicate", duplicate_of=f"#{copy}")
    assert itself.status_code == 422 and 'id="duplicate_of-error"' in itself.text

    shown = pages.post(
        f"{path}/change", path, version="1", status="duplicate", duplicate_of=f"#{original}", note="same"
    )
    assert shown.status_code == 200 and 'data-testid="confirm-duplicate"' in shown.text
    assert "Garbage not collected for a week" in shown.text
    assert detail(api, office["token"], copy)["status"] == "new"  # nothing marked before the confirmation

    confirmed = pages.post(
        f"{path}/change", path, version="1", status="duplicate", duplicate_of=str(original), note="same", confirm="true"
    )
    assert confirmed.status_code == 303, confirmed.text
    assert detail(api, office["token"], copy)["status"] == "duplicate"
    page = pages.send("GET", path).text
    assert f'href="/app/complaints/{original}"' in page and 'data-testid="undo-duplicate"' in page
    assert f'href="/app/complaints/{copy}"' in pages.send("GET", f"/app/complaints/{original}").text

    blank = pages.post(f"{path}/undo-duplicate", path, version="3", action="undo", note=" ")
    assert blank.status_code == 422 and 'id="undo_note-error"' in blank.text
    version = str(detail(api, office["token"], copy)["version"])
    undone = pages.post(f"{path}/undo-duplicate", path, version=version, action="undo", note="Another ward")
    assert undone.status_code == 303 and undone.headers["location"].endswith("?undone=1")
    assert detail(api, office["token"], original)["supporter_count"] == 1


def test_staff_see_no_undo_and_are_refused_it(api: Api, office: dict[str, Any]) -> None:
    original, _ = log(office["tenant_id"], "staff-original")
    copy, _ = log(office["tenant_id"], "staff-copy")
    assert mark(api, office["token"], copy, str(original)).status_code == 200
    staff = invite_staff(api, office)
    pages = Pages(api.http, mla_session=staff["token"])
    path = f"/app/complaints/{copy}"

    assert 'data-testid="undo-duplicate"' not in pages.send("GET", path).text
    version = str(detail(api, office["token"], copy)["version"])
    assert pages.post(f"{path}/undo-duplicate", path, version=version, note="mine").status_code == 403
    assert detail(api, office["token"], copy)["status"] == "duplicate"
