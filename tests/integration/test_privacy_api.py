"""A constituent's personal data at the edges: the dashboard API (`/api/privacy`), the pages
(`/app/privacy`) and the super admin's CLI. The number only ever travels in a body, and a refused
number is never written back. What an erasure reaches is `test_personal_data.py`'s; here, that each
edge asks for it, as the office's MLA admin only, and answers what the domain says.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from test_personal_data import a_call, close, log

from mla_core import cli
from privacy_support import search_everywhere, spaced
from support import Api, Pages, tenant_body, unique_number

ROUTES = ["/api/privacy/search", "/api/privacy/export", "/api/privacy/erasures/preview", "/api/privacy/erasures"]


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    """An office with its admin and a staffer signed in."""
    office = api.office_admin(admin_token, tenant_body(languages=["ta", "en"]))
    return {**office, "staff_token": api.staff_of(office)}


def a_person(office: dict[str, Any]) -> dict[str, Any]:
    """A fresh number with a call and the complaint it logged (still open)."""
    n = unique_number()
    room = a_call(office["tenant_id"], n, "no water in Ward 12")
    reference = log(office, f"{room}:log_complaint:9a8b", caller=n, room=room, caller_name="Murugan")
    return {"number": n, "reference": reference}


def post(api: Api, path: str, token: str, **body: Any) -> Any:
    return api.request("POST", path, token, json=body)


def test_only_the_offices_mla_admin_may_ask(api: Api, admin_token: str, office: dict[str, Any]) -> None:
    n = unique_number()
    for path in ROUTES:
        body = {"phone": n, "confirmation": "x"} if path.endswith("/erasures") else {"phone": n}
        for token in (office["staff_token"], admin_token):
            refused = post(api, path, token, **body)
            assert refused.status_code == 403, (path, refused.text)
            assert n not in refused.text and n[3:] not in refused.text
    staff_page = api.http.get("/app/privacy", headers={"cookie": f"mla_session={office['staff_token']}"})
    assert staff_page.status_code == 403
    complaints = api.http.get("/app/complaints", headers={"cookie": f"mla_session={office['staff_token']}"})
    assert complaints.status_code == 200
    admins = api.http.get("/app/complaints", headers={"cookie": f"mla_session={office['token']}"})
    for admins_only in ('href="/app/privacy"', 'href="/app/team"', 'href="/app/agents"'):
        assert admins_only not in complaints.text and admins_only in admins.text  # staff see no page they cannot use


def test_another_office_finds_nothing_of_this_offices_people(
    api: Api, admin_token: str, office: dict[str, Any]
) -> None:
    person = a_person(office)
    here = post(api, "/api/privacy/search", office["token"], phone=person["number"]).json()["data"]
    assert here["counts"]["complaints"] == 1 and here["open_complaints"] == [person["reference"]]

    elsewhere = api.office_admin(admin_token, tenant_body(languages=["hi", "en"], state="Bihar"))
    there = post(api, "/api/privacy/search", elsewhere["token"], phone=person["number"])
    assert there.status_code == 200, there.text
    assert not any(there.json()["data"]["counts"].values()) and there.json()["data"]["open_complaints"] == []


def test_a_number_is_found_exported_previewed_and_erased_through_the_api(
    api: Api, stack: Any, office: dict[str, Any]
) -> None:
    person, token = a_person(office), office["token"]
    n, tenant_id = person["number"], office["tenant_id"]
    found = post(api, "/api/privacy/search", token, phone=spaced(n))
    assert found.status_code == 200, found.text
    summary = found.json()["data"]
    assert (summary["counts"]["complaints"], summary["counts"]["calls"]) == (1, 1)
    assert summary["open_complaints"] == [person["reference"]] and summary["erasable"] is False

    download = post(api, "/api/privacy/export", token, phone=f"0{n[3:]}")
    assert download.status_code == 200, download.text
    assert download.headers["content-type"].startswith("application/json")
    assert re.fullmatch(
        r'attachment; filename="personal-data-\d{4}-\d{2}-\d{2}\.json"', download.headers["content-disposition"]
    )
    assert download.headers["cache-control"] == "no-store"
    document = download.json()
    assert document["phone"] == n and document["schema_version"] == 1
    assert [c["reference"] for c in document["sections"]["complaints"]] == [person["reference"]]

    preview = post(api, "/api/privacy/erasures/preview", token, phone=n).json()["data"]
    assert preview["effects"] and not preview["erasable"]
    refused = post(api, "/api/privacy/erasures", token, phone=n, confirmation=preview["confirmation"])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "open_complaints"
    assert [d["reason"] for d in refused.json()["error"]["details"]] == [str(person["reference"])]

    close(office, person["reference"])
    a_call(tenant_id, n, "is my complaint closed?")  # the person's records changed after the preview
    stale = post(api, "/api/privacy/erasures", token, phone=n, confirmation=preview["confirmation"])
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "preview_stale", stale.text
    forged = post(api, "/api/privacy/erasures", token, phone=n, confirmation="not a token")
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "confirmation_invalid"

    preview = post(api, "/api/privacy/erasures/preview", token, phone=n).json()["data"]
    erased = post(api, "/api/privacy/erasures", token, phone=n, confirmation=preview["confirmation"])
    assert erased.status_code == 201, erased.text
    assert erased.json()["data"]["counts"]["calls"] == 2 and erased.json()["data"]["request_id"]
    assert search_everywhere(stack, tenant_id, n) == []


# Numbers no Indian phone has (4242: too short; 50123 47777: no mobile series nor STD code starts so).
@pytest.mark.parametrize("typed", ["4242", "+14155550100", "5012347777", "7" * 41])
def test_a_refused_number_is_never_repeated(api: Api, office: dict[str, Any], typed: str) -> None:
    for path in ROUTES:
        body = {"phone": typed, "confirmation": "x"} if path.endswith("/erasures") else {"phone": typed}
        refused = post(api, path, office["token"], **body)
        assert refused.status_code == 422, (path, refused.text)
        assert typed not in refused.text and typed[-5:] not in refused.text
    page = Pages(api.http, mla_session=office["token"], mla_lang="ta")
    answer = page.post("/app/privacy/find", "/app/privacy", phone=typed)
    assert answer.status_code == 422 and "இந்திய மொபைல் எண்ணை" in answer.text
    assert typed[-5:] not in answer.text


def test_an_admin_finds_exports_and_erases_a_number_through_the_pages(
    api: Api, stack: Any, office: dict[str, Any]
) -> None:
    person = a_person(office)
    n = person["number"]
    page = Pages(api.http, mla_session=office["token"])
    form = page.send("GET", "/app/privacy")
    assert form.status_code == 200 and 'data-testid="retention"' in form.text and "<td>365</td>" in form.text

    found = page.post("/app/privacy/find", "/app/privacy", phone=spaced(n))
    assert found.status_code == 200, found.text
    assert f'href="/app/complaints/{person["reference"]}"' in found.text

    download = page.post("/app/privacy/export", "/app/privacy", phone=n)
    assert download.status_code == 200 and download.headers["content-disposition"].startswith("attachment;")
    assert download.json()["phone"] == n

    close(office, person["reference"])
    confirm = page.post("/app/privacy/erase/confirm", "/app/privacy", phone=n)
    assert confirm.status_code == 200 and 'data-testid="effects"' in confirm.text and "1 complaint(s)" in confirm.text
    token = re.search(r'name="confirmation" value="([^"]+)"', confirm.text)
    assert token, confirm.text

    page.cookies["mla_lang"] = "hi"
    wrong = page.post(
        "/app/privacy/erase", "/app/privacy", phone=n, confirmation=token.group(1), last4=str(int(n[-4:]) ^ 1).zfill(4)
    )
    assert wrong.status_code == 400 and "आखिरी 4 अंक इस नंबर से मेल नहीं खाते" in wrong.text
    assert "1 शिकायत(ें) अपनी श्रेणी" in wrong.text  # what will happen, in the reader's language too
    assert search_everywhere(stack, office["tenant_id"], n)  # nothing was erased

    erased = page.post("/app/privacy/erase", "/app/privacy", phone=n, confirmation=token.group(1), last4=n[-4:])
    assert erased.status_code == 200 and 'data-testid="erased"' in erased.text, erased.text
    assert search_everywhere(stack, office["tenant_id"], n) == []


def test_a_super_admin_exports_and_erases_at_the_cli(
    stack: Any, office: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    person = a_person(office)
    close(office, person["reference"])
    n = person["number"]
    who, by = ["--tenant", office["tenant_id"], "--phone", n], ["--by", stack.env["SUPERADMIN_EMAIL"]]

    assert cli.main(["export", *who, *by]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["phone"] == n and document["sections"]["complaints"][0]["reference"] == person["reference"]

    assert cli.main(["erase", *who, *by]) == cli.PREVIEWED
    preview = json.loads(capsys.readouterr().out)
    assert preview["erasable"] and preview["effects"] and "confirmation" not in preview
    assert cli.main(["erase", *who, *by, "--confirm", "0000" if n[-4:] != "0000" else "1111"]) == 1
    assert "last 4 digits" in capsys.readouterr().err
    assert cli.main(["erase", *who, "--by", "admin@office.example"]) == 1  # not a super admin
    assert search_everywhere(stack, office["tenant_id"], n)

    assert cli.main(["erase", *who, *by, "--confirm", n[-4:]]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["complaints"] == 1
    assert search_everywhere(stack, office["tenant_id"], n) == []
