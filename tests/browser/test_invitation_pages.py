"""Invitations, the password rule, the team and signing out, in Chromium (issue 15, items 4, 5, 11):
what a link is for, or why it no longer opens, said before anyone types, in English, Hindi and Tamil;
a forgotten password reset from the sign-in page; a disable asked first; an expired invitation sent
again; and Back after signing out shows no complaint."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from test_pages import office

from mla_core.identity.accounts import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH
from mla_core.web.i18n import WORDS
from support import Api, Inspector, unique_number

LANGS = {"en": 0, "hi": 1, "ta": 2}


def words(key: str, lang: str) -> str:
    return WORDS[key][LANGS[lang]]


def in_language(page: Any, lang: str) -> None:
    page.context.add_cookies([{"name": "mla_lang", "value": lang, "url": page.url}])


def invite(api: Api, token: str, **body: Any) -> tuple[dict[str, Any], str]:
    email = f"pages{unique_number()[3:]}@example.in"
    response = api.request("POST", "/api/users/invite", token, json={"email": email, **body})
    assert response.status_code == 201, response.text
    return response.json()["data"], api.invite_token_for(email)


def test_an_expired_invitation_says_so_in_each_language_and_asks_the_office_for_a_new_one(
    new_page: Any, api: Api, admin_token: str, stack: Any
) -> None:
    tenant, _, token = office(api, admin_token, new_page)
    member, link = invite(api, token)
    Inspector(stack.env).sql(
        "UPDATE platform.sign_in_links SET expires_at = now() - interval '1 day' WHERE user_id = %s", member["id"]
    )
    page = new_page(width=390)
    page.goto(f"/app/register?token={link}")

    for lang in ("ta", "hi", "en"):
        in_language(page, lang)
        page.reload()
        expired = page.get_by_test_id("invitation-expired")
        expect(expired).to_contain_text(words("invitation_expired_page", lang).split("{date}")[0].strip())
        expect(page.locator("#password")).to_have_count(0)  # no form to type into
        expect(page.get_by_role("link", name=words("sign_in", lang))).to_be_visible()
        expect(page.get_by_role("button", name=words("ask_new_invitation", lang))).to_be_visible()

    page.get_by_role("button", name="Ask for a new invitation").click()
    expect(page.get_by_test_id("renewal-asked")).to_have_text(words("renewal_asked", "en"))
    expect(page.get_by_role("button", name="Ask for a new invitation")).to_have_count(0)
    asked = [
        m for m in api.outbox() if m["to"] == tenant["admin_email"] and "asks for a new invitation" in m["subject"]
    ]
    assert len(asked) == 1 and member["email"] in asked[0]["subject"]


def test_a_valid_invitation_names_the_email_and_office_and_states_the_password_rule(
    new_page: Any, api: Api, admin_token: str
) -> None:
    tenant, _, token = office(api, admin_token, new_page)
    member, link = invite(api, token)
    page = new_page()
    page.goto(f"/app/register?token={link}")
    in_language(page, "hi")
    page.reload()

    invitation = page.get_by_test_id("invitation-for")
    expect(invitation).to_contain_text(member["email"])
    expect(invitation).to_contain_text(tenant["mla_name"])
    expect(invitation).to_contain_text(tenant["constituency"])
    rule = words("password_rule", "hi").format(min=PASSWORD_MIN_LENGTH, max=PASSWORD_MAX_LENGTH)
    expect(page.get_by_text(rule)).to_be_visible()
    expect(page.locator("#password")).to_have_attribute("minlength", str(PASSWORD_MIN_LENGTH))


def test_a_used_invitation_leads_to_sign_in_and_a_forgotten_password_is_reset_from_there(
    new_page: Any, api: Api, admin_token: str
) -> None:
    _, _, token = office(api, admin_token, new_page)
    member, link = invite(api, token)
    assert api.http.post("/auth/register", json={"token": link, "password": "my first password"}).status_code == 201
    page = new_page()
    page.goto(f"/app/register?token={link}")
    in_language(page, "ta")
    page.reload()

    expect(page.get_by_test_id("invitation-used")).to_have_text(words("invitation_used_page", "ta"))
    expect(page.locator("#password")).to_have_count(0)
    page.get_by_role("link", name=words("sign_in", "ta"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/app/login"))
    page.get_by_role("link", name=words("forgot_password", "ta")).click()
    page.fill("#email", member["email"])
    page.get_by_role("button", name=words("send_link", "ta")).click()
    expect(page.get_by_test_id("recover-sent")).to_be_visible()

    [reset] = [m for m in api.outbox() if m["to"] == member["email"] and "/app/reset?token=" in m["body"]][:1]
    page.goto(re.search(r'href="[^"]*(/app/reset\?token=[^"]+)"', reset["body"]).group(1))  # type: ignore[union-attr]
    rule = words("password_rule", "ta").format(min=PASSWORD_MIN_LENGTH, max=PASSWORD_MAX_LENGTH)
    expect(page.get_by_text(rule)).to_be_visible()
    page.fill("#password", "my second password")
    page.get_by_role("button", name=words("save", "ta")).click()
    expect(page).to_have_url(re.compile(r"/app/complaints$"))
    assert api.login(member["email"], "my second password")["access_token"]


def test_the_team_page_resends_an_expired_invitation_and_asks_before_disabling(
    new_page: Any, api: Api, admin_token: str, stack: Any
) -> None:
    _, page, token = office(api, admin_token, new_page)
    member, _ = invite(api, token, full_name="Meena S")
    Inspector(stack.env).sql(
        "UPDATE platform.sign_in_links SET expires_at = now() - interval '1 day' WHERE user_id = %s", member["id"]
    )
    page.goto("/app/team")
    row = page.locator("table.list tbody tr", has_text=member["email"])
    expect(row.get_by_test_id("invited")).to_have_text("Link expired")
    expect(row.get_by_test_id("invitation-dates")).to_contain_text("link expired")

    row.get_by_role("button", name="Send the invitation again").click()
    expect(page.get_by_test_id("team-notice")).to_contain_text(f"A new invitation was sent to {member['email']}")
    expect(row.get_by_test_id("invited")).to_have_text("Invited")
    expect(row.get_by_test_id("invitation-dates")).to_contain_text("link works until")

    in_language(page, "hi")
    page.reload()
    row.get_by_role("button", name=words("disable", "hi")).click()
    expect(page.get_by_role("heading")).to_have_text(words("disable_title", "hi").format(name="Meena S"))
    page.get_by_role("link", name=words("keep_enabled", "hi")).click()
    expect(row.get_by_test_id("member-status")).not_to_contain_text(words("member_disabled", "hi"))

    row.get_by_role("button", name=words("disable", "hi")).click()
    page.get_by_role("button", name=words("disable_person", "hi").format(name="Meena S")).click()
    expect(page).to_have_url(re.compile(r"/app/team\?disabled="))
    expect(row.get_by_test_id("member-status")).to_contain_text(words("member_disabled", "hi"))


def test_back_after_signing_out_does_not_show_the_complaint(new_page: Any, api: Api, admin_token: str) -> None:
    _, page, token = office(api, admin_token, new_page)
    body = {
        "category": "water",
        "description": "No water for three days",
        "location": "Ward 4",
        "caller_number": unique_number(),
        "caller_name": "Lakshmi Narayanan",
    }
    created = api.request("POST", "/api/complaints", token, json=body)
    assert created.status_code == 201, created.text
    page.goto(f"/app/complaints/{created.json()['data']['reference']}")
    expect(page.get_by_text("Lakshmi Narayanan").first).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/app/login"))
    page.go_back()

    expect(page).to_have_url(re.compile(r"/app/login\?next="))
    expect(page.get_by_text("Lakshmi Narayanan")).to_have_count(0)
    assert "Lakshmi Narayanan" not in page.content()
