"""Invitations and the team as the office meets them (issue 15, items 4, 5 and 11): a used or expired
link says so (and how to go on) before anyone types, an expired one asks the office for a new one,
one password rule stated by the API and both password pages, the team's invitations with their
dates, a disable that is asked first, the invitation email in two languages with a button, and no
answer about people kept by a cache."""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_invitations import invite

from mla_core.identity.accounts import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH
from support import Api, Inspector, Pages


@pytest.fixture(scope="module")
def inspect(stack: Any) -> Inspector:
    return Inspector(stack.env)


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token)


def expire(inspect: Inspector, member: dict[str, Any]) -> None:
    inspect.sql(
        "UPDATE platform.sign_in_links SET expires_at = now() - interval '1 day' WHERE user_id = %s", member["id"]
    )


def reason(response: Any) -> str:
    return str(response.json()["error"]["details"][0]["reason"])


def signed_in_pages(api: Api, office: dict[str, Any]) -> Pages:
    pages = Pages(api.http)
    assert pages.sign_in(office["admin_email"], "office password 1").status_code == 303
    return pages


def emails_to(api: Api, address: str) -> list[dict[str, Any]]:
    return [m for m in api.outbox() if m["channel"] == "email" and m["to"] == address]


def test_a_used_or_expired_invitation_says_which_in_the_readers_language(
    api: Api, office: dict[str, Any], inspect: Inspector
) -> None:
    _, used = invite(api, office)
    assert api.http.post("/auth/register", json={"token": used, "password": "my own password"}).status_code == 201
    expired_member, expired = invite(api, office)
    expire(inspect, expired_member)

    again = api.http.get("/auth/invitations", params={"token": used})
    late = api.http.get("/auth/invitations", params={"token": expired}, headers={"Accept-Language": "ta"})
    accept_late = api.http.post("/auth/register", json={"token": expired, "password": "my own password"})
    unknown = api.http.get("/auth/invitations", params={"token": "never-issued-token"})

    assert again.status_code == 400 and reason(again) == "invitation_used"
    assert again.json()["error"]["details"][0]["message"].startswith(
        "This invitation has already been accepted: sign in"
    )
    assert late.status_code == 400 and reason(late) == "invitation_expired"
    assert late.json()["error"]["message"] == "இந்த அழைப்பு காலாவதியானது: அலுவலகத்திடம் புதிய அழைப்பைக் கேட்கவும்."
    assert accept_late.status_code == 400 and reason(accept_late) == "invitation_expired"
    assert unknown.status_code == 400 and reason(unknown) == "invalid_invitation"


def test_the_invitation_page_says_so_before_anyone_types(api: Api, office: dict[str, Any], inspect: Inspector) -> None:
    member, token = invite(api, office)
    valid = api.http.get(f"/app/register?token={token}")
    expire(inspect, member)
    expired = api.http.get(f"/app/register?token={token}")

    assert valid.status_code == 200 and 'name="password"' in valid.text
    assert f"Invitation for {member['email']} to the office of {office['mla_name']}" in re.sub(
        "<[^>]+>", "", valid.text
    )
    assert 'data-testid="invitation-until"' in valid.text
    assert expired.status_code == 400 and 'name="password"' not in expired.text
    assert "This invitation expired on" in expired.text and "Ask for a new invitation" in expired.text
    assert 'action="/app/register/renewal"' in expired.text and 'href="/app/login"' in expired.text


def test_an_expired_invitation_asks_the_offices_admins_once_a_day(
    api: Api, office: dict[str, Any], inspect: Inspector
) -> None:
    member, token = invite(api, office)
    expire(inspect, member)
    before = len(emails_to(api, office["admin_email"]))

    first = api.http.post("/auth/invitations/renewal", json={"token": token})
    second = api.http.post("/auth/invitations/renewal", json={"token": token})

    assert first.status_code == second.status_code == 202 and first.json()["data"] == {"asked": True}
    asked = emails_to(api, office["admin_email"])
    assert len(asked) == before + 1  # the second request the same day reaches nobody
    assert asked[0]["subject"].startswith(f"{member['email']} asks for a new invitation / ")
    assert "/app/team" in asked[0]["body"] and "புதிய அழைப்பைக் கேட்கிறார்" in asked[0]["body"]
    assert api.http.post("/auth/invitations/renewal", json={"token": "never-issued-token"}).status_code == 400


def test_asking_again_with_an_accepted_invitation_says_sign_in(api: Api, office: dict[str, Any]) -> None:
    _, token = invite(api, office)
    assert api.http.post("/auth/register", json={"token": token, "password": "my own password"}).status_code == 201

    refused = api.http.post("/auth/invitations/renewal", json={"token": token})

    assert refused.status_code == 400 and reason(refused) == "invitation_used"


def test_one_password_rule_for_the_api_and_both_pages(api: Api, office: dict[str, Any]) -> None:
    _, token = invite(api, office)
    short = "x" * (PASSWORD_MIN_LENGTH - 1)

    refused = api.http.post(
        "/auth/register", json={"token": token, "password": short}, headers={"Accept-Language": "hi"}
    )
    invitation_page = api.http.get(f"/app/register?token={token}")
    reset_page = api.http.get("/app/reset?token=anything")

    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["message"] == f"पासवर्ड में कम से कम {PASSWORD_MIN_LENGTH} अक्षर होने चाहिए।"
    rule = f"At least {PASSWORD_MIN_LENGTH} characters (at most {PASSWORD_MAX_LENGTH})."
    for page in (invitation_page, reset_page):
        assert rule in page.text
        assert f'minlength="{PASSWORD_MIN_LENGTH}"' in page.text and f'maxlength="{PASSWORD_MAX_LENGTH}"' in page.text
    english = api.http.post("/auth/register", json={"token": token, "password": short})
    assert (
        english.json()["error"]["details"][0]["message"]
        == f"A password needs at least {PASSWORD_MIN_LENGTH} characters."
    )


def test_the_team_shows_when_an_invitation_was_sent_and_when_its_link_expires(
    api: Api, office: dict[str, Any], inspect: Inspector
) -> None:
    member, _ = invite(api, office)
    assert member["invited_at"] and member["invitation_expires_at"] and member["invitation_expired"] is False
    expire(inspect, member)
    pages = signed_in_pages(api, office)

    listed = {m["id"]: m for m in api.request("GET", "/api/users", office["token"]).json()["data"]}
    page = pages.send("GET", "/app/team").text
    resent = pages.post(f"/app/team/{member['id']}/resend", form_page="/app/team")
    after = pages.send("GET", resent.headers["location"])

    assert listed[member["id"]]["invitation_expired"] is True
    assert listed[office["user_id"]]["invited"] is False and listed[office["user_id"]]["invited_at"] is None
    row = page[page.index(member["email"]) :].split("</tr>")[0]
    assert "Link expired" in row and "link expired" in row and f'action="/app/team/{member["id"]}/resend"' in row
    assert resent.status_code == 303
    assert f"A new invitation was sent to {member['email']}" in after.text
    row = after.text[after.text.index(member["email"], after.text.index("<table")) :].split("</tr>")[0]
    assert ">Invited<" in row and "link works until" in row


def test_disabling_a_member_from_the_page_is_asked_first(api: Api, office: dict[str, Any]) -> None:
    member, token = invite(api, office, full_name="Kavitha R")
    assert api.http.post("/auth/register", json={"token": token, "password": "my own password"}).status_code == 201
    pages = signed_in_pages(api, office)

    asked = pages.post(f"/app/team/{member['id']}", form_page="/app/team", disabled="true")
    still = {m["id"]: m for m in api.request("GET", "/api/users", office["token"]).json()["data"]}[member["id"]]
    done = pages.post(f"/app/team/{member['id']}", form_page="/app/team", disabled="true", confirm="disable")

    assert asked.status_code == 200 and "Disable Kavitha R?" in asked.text and member["email"] in asked.text
    assert 'name="confirm" value="disable"' in asked.text and still["disabled"] is False
    assert done.status_code == 303
    assert f"{member['email']} is disabled." in pages.send("GET", done.headers["location"]).text
    gone = api.http.post("/auth/login", json={"email": member["email"], "password": "my own password"})
    assert gone.status_code == 401


def test_the_invitation_email_is_in_english_and_the_offices_language_with_a_button(
    api: Api, office: dict[str, Any]
) -> None:
    member, token = invite(api, office, role="mla_admin")

    [email] = emails_to(api, member["email"])[:1]

    assert email["subject"].startswith("You are invited to the grievance dashboard of ")
    assert "புகார் டாஷ்போர்டுக்கு அழைப்பு" in email["subject"]
    assert "as an admin." in email["body"] and "நிர்வாகி ஆகப்" in email["body"]
    buttons = re.findall(r'<a href="([^"]+)" style="display: inline-block[^"]*">([^<]+)</a>', email["body"])
    assert [words for _, words in buttons] == ["Set your password and sign in", "கடவுச்சொல்லை அமைத்து உள்நுழைக"]
    assert all(f"token={token}" in href for href, _ in buttons)
    plain = re.findall(r'<a href="([^"]+)">\1</a>', email["body"])
    assert len(plain) == 2 and all(f"token={token}" in link for link in plain)


def test_answers_about_people_are_kept_by_no_cache(api: Api, office: dict[str, Any]) -> None:
    pages = signed_in_pages(api, office)

    answers = {
        "api list": api.request("GET", "/api/complaints", office["token"]),
        "api profile": api.request("GET", "/auth/profile", office["token"]),
        "complaints page": pages.send("GET", "/app/complaints"),
        "team page": pages.send("GET", "/app/team"),
        "profile page": pages.send("GET", "/app/profile"),
        "sign-in page": api.http.get("/app/login"),
    }

    for name, answer in answers.items():
        assert answer.status_code == 200, name
        assert answer.headers.get("cache-control") == "no-store", name
    stylesheet = api.http.get("/app/labels/ta.css")
    assert stylesheet.headers["cache-control"].startswith("public")
    static = api.http.get(re.search(r'href="(/app/static/[^"]+\.css)"', answers["team page"].text).group(1))  # type: ignore[union-attr]
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")
