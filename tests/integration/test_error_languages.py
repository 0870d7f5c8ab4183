"""Every error a person can cause reads as a sentence in their language (issue 14, item 3): the JSON
API keeps its stable `code` and `reason` and writes `message` in the language `Accept-Language` asks
for (English by default); the pages write it next to the field in the page's language."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mla_core.core.messages import CODES, REASONS
from support import Api, unique_number

HINDI_EMAIL = REASONS["invalid_email"][1]
TAMIL_TAKEN = REASONS["email.already_taken"][2]
HINDI_LAST_ADMIN = REASONS["last_admin"][1]


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token)


def ask(api: Api, office: dict[str, Any], method: str, path: str, lang: str | None, **kwargs: Any) -> httpx.Response:
    headers = {"Accept-Language": lang} if lang else {}
    return api.request(method, path, office["token"], headers=headers, **kwargs)


def test_a_validation_error_is_explained_in_hindi_when_the_client_asks_for_hindi(
    api: Api, office: dict[str, Any]
) -> None:
    answer = ask(api, office, "POST", "/api/users/invite", "hi-IN,hi;q=0.9,en;q=0.8", json={"email": "not-an-email"})

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "validation_error" and error["message"] == CODES["validation_error"][1]
    detail = error["details"][0]
    assert detail["field"] == "email" and detail["type"] == "value_error"
    assert detail["message"] == HINDI_EMAIL


def test_an_email_that_has_a_login_is_explained_in_tamil_and_keeps_its_codes(api: Api, office: dict[str, Any]) -> None:
    answer = ask(api, office, "POST", "/api/users/invite", "ta", json={"email": office["admin_email"]})

    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "conflict" and error["details"][0]["reason"] == "already_taken"
    assert error["message"] == TAMIL_TAKEN and error["details"][0]["message"] == TAMIL_TAKEN


def test_the_last_admin_refusal_follows_the_clients_preferred_language_by_q_value(
    api: Api, office: dict[str, Any]
) -> None:
    path = f"/api/users/{office['user_id']}"
    answer = ask(api, office, "PATCH", path, "en;q=0.3, ta;q=0.5, hi", json={"role": "staff"})

    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["details"][0]["reason"] == "last_admin" and error["message"] == HINDI_LAST_ADMIN


def test_errors_are_in_english_when_the_client_names_no_language_we_speak(api: Api, office: dict[str, Any]) -> None:
    for lang in (None, "fr-FR, de;q=0.8"):
        answer = ask(api, office, "POST", "/api/users/invite", lang, json={"email": "not-an-email"})
        detail = answer.json()["error"]["details"][0]
        assert detail["message"] == REASONS["invalid_email"][0]
        assert answer.json()["error"]["message"] == "the request is not valid"


def test_the_hindi_team_page_says_in_hindi_that_an_email_is_not_valid(stack: Any, office: dict[str, Any]) -> None:
    cookies = f"mla_session={office['token']}; mla_lang=hi; mla_csrf=c"
    with httpx.Client(base_url=stack.env["API_URL"], headers={"Cookie": cookies}) as browser:
        page = browser.post("/app/team/invite", data={"csrf": "c", "email": "not-an-email", "full_name": "Kavitha"})

    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert HINDI_EMAIL in page.text
    assert "valid email address" not in page.text and "value_error" not in page.text


def test_the_tamil_team_page_says_in_tamil_that_the_email_already_has_a_login(
    stack: Any, office: dict[str, Any]
) -> None:
    cookies = f"mla_session={office['token']}; mla_lang=ta; mla_csrf=c"
    with httpx.Client(base_url=stack.env["API_URL"], headers={"Cookie": cookies}) as browser:
        page = browser.post("/app/team/invite", data={"csrf": "c", "email": office["admin_email"]})

    assert TAMIL_TAKEN in page.text and "already_taken" not in page.text


def test_the_hindi_recovery_page_says_in_hindi_that_an_email_is_not_valid(stack: Any) -> None:
    with httpx.Client(base_url=stack.env["API_URL"], headers={"Cookie": "mla_lang=hi; mla_csrf=c"}) as browser:
        page = browser.post("/app/recover", data={"csrf": "c", "email": f"nobody{unique_number()[3:]}"})

    assert page.status_code == 422 and HINDI_EMAIL in page.text


def test_the_hindi_admin_panel_explains_each_refused_field_of_a_new_tenant_in_hindi(api: Api, stack: Any) -> None:
    session = api.login(stack.env["SUPERADMIN_EMAIL"], stack.env["SUPERADMIN_PASSWORD"])
    cookies = f"mla_session={session['access_token']}; mla_lang=hi; mla_csrf=c"
    form = {"csrf": "c", "mla_name": "K. Selvi", "constituency": "Mylapore", "state": "Tamil Nadu"}
    with httpx.Client(base_url=stack.env["API_URL"], headers={"Cookie": cookies}) as browser:
        page = browser.post("/admin/panel/new", data={**form, "phone_numbers": unique_number(), "admin_email": "x"})

    assert page.status_code == 422
    assert HINDI_EMAIL in page.text and REASONS["languages.missing"][1] in page.text
    assert "List should" not in page.text and "valid email address" not in page.text


def test_a_control_character_refused_at_the_edge_is_explained_in_the_clients_language(
    api: Api, office: dict[str, Any]
) -> None:
    answer = ask(api, office, "GET", "/api/complaints?q=road%07works", "hi")

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["details"][0]["type"] == "control_character" and error["details"][0]["field"] == "q"
    assert error["message"] == error["details"][0]["message"]
    assert error["message"].isascii() is False and "U+0007" not in error["message"]
