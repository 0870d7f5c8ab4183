"""Create forms sent twice make one record (issue 15, item 3), and numbers as people write them reach
the API and the forms as E.164 (item 1): through the local stack over HTTP, as a browser without
JavaScript sends them."""

from __future__ import annotations

import re
import uuid
from typing import Any

from support import Api, Pages, tenant_body, unique_number


def _spaced(e164: str) -> str:
    """`+919012345678` as people write it: `+91 90123 45678`."""
    national = e164.removeprefix("+91")
    return f"+91 {national[:5]} {national[5:]}"


def _panel(api: Api, stack: Any) -> Pages:
    browser = Pages(api.http)
    signed_in = browser.sign_in(stack.env["SUPERADMIN_EMAIL"], stack.env["SUPERADMIN_PASSWORD"], site="/admin/panel")
    assert signed_in.status_code == 303, signed_in.text
    return browser


def _tenant_form(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {
        **{k: v for k, v in body.items() if k not in ("languages", "phone_numbers")},
        "languages": body["languages"],
        "greeting_language": body["languages"][0],
        "phone_numbers": ", ".join(body["phone_numbers"]),
        "idempotency_key": key,
    }


def test_the_new_tenant_form_sent_again_shows_the_first_tenant_and_makes_no_second(api: Api, stack: Any) -> None:
    browser = _panel(api, stack)
    number = unique_number()
    body = tenant_body(phone_numbers=[_spaced(number)])
    form = _tenant_form(body, str(uuid.uuid4()))

    first = browser.send("POST", "/admin/panel/new", data={"csrf": browser.csrf("/admin/panel/new"), **form})
    assert first.status_code == 303, first.text
    made = re.fullmatch(r"/admin/panel/tenants/([a-z0-9]{10})", first.headers["location"])
    assert made, first.headers["location"]

    # Back, a changed word, Create again: the same form's key goes to the first tenant.
    again = browser.send(
        "POST",
        "/admin/panel/new",
        data={"csrf": browser.csrf("/admin/panel/new"), **form, "constituency": "Mylapore East"},
    )
    assert again.status_code == 303 and again.headers["location"] == first.headers["location"]
    tenant = api.request("GET", f"/admin/tenants/{made.group(1)}", _admin_token(api, stack)).json()["data"]
    assert tenant["phone_numbers"] == [number]  # stored as E.164
    assert tenant["constituency"] == "Mylapore"


def test_numbers_written_the_usual_ways_are_accepted_by_the_admin_api_as_e164(api: Api, stack: Any) -> None:
    token = _admin_token(api, stack)
    mobile, landline = unique_number(), "+91442" + unique_number()[-7:]
    typed = [_spaced(mobile), "0" + landline[3:5] + "-" + landline[5:9] + " " + landline[9:]]
    response = api.request("POST", "/admin/tenants", token, json=tenant_body(phone_numbers=typed))
    assert response.status_code == 202, response.text
    assert response.json()["data"]["phone_numbers"] == [mobile, landline]


def test_a_number_that_is_not_indian_is_refused_with_a_sentence_in_the_readers_language(api: Api, stack: Any) -> None:
    token = _admin_token(api, stack)
    body = tenant_body(phone_numbers=["+1 415 555 2671"])
    response = api.request("POST", "/admin/tenants", token, json=body, headers={"Accept-Language": "ta"})
    assert response.status_code == 422
    [detail] = response.json()["error"]["details"]
    assert detail["field"] == "phone_numbers.0"
    assert "இந்திய தொலைபேசி எண்ணை" in detail["message"] and "044 2345 6789" in detail["message"]
    assert "pattern" not in response.text and "^" not in response.text


def _admin_token(api: Api, stack: Any) -> str:
    return str(api.login(stack.env["SUPERADMIN_EMAIL"], stack.env["SUPERADMIN_PASSWORD"])["access_token"])
