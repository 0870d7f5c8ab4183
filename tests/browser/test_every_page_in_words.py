"""Every page, in English, Hindi and Tamil, for each role that sees it, reads in its own language: no
code or pattern anywhere, and in Hindi and Tamil no English word left over (issue 14's last check), in
Chromium. What a person typed (in
`<bdi>` or `dir=auto`), an email address, a link, and the few names written in Latin letters in
every language (SMS, CSV, MLA, LiveKit...) are not leftovers; anything else in Latin letters is.

Each page is also saved as build/screenshots/every-page-<lang>-<page>.png for the session note."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from browser_support import screenshot
from playwright.sync_api import expect
from test_pages import office, sign_in, simulated_call

from mla_core.adapters import get_services
from mla_core.memory import memories
from support import Api

# Latin words a Hindi or Tamil reader meets as they are: names of things, not of our codes.
ALLOWED = {
    "AI", "API", "CSV", "DLT", "DPDP", "Excel", "English", "ID", "JSON", "LibreOffice", "LiveKit",
    "MLA", "OTP", "PDS", "SIP", "SMS", "STD", "UTF", "Voice", "IST", "PIN", "URL", "Act",
}  # fmt: skip

# The visible text of the page, and the words people read that are not text nodes (a button's
# value, a field's placeholder, a title or label for assistive technology), leaving out what a
# person typed (in an isolate) and the language chooser's own names.
READ_TEXT = """() => {
  const own = el => el.closest("bdi, [dir=auto], textarea, script, style, code, kbd, pre, [translate=no], [lang=en]");
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const holder = n.parentElement;
    if (!holder || own(holder) || !n.data.trim()) continue;
    const style = getComputedStyle(holder);
    if (style.display === "none" || style.visibility === "hidden") continue;
    texts.push(n.data.trim());
  }
  for (const el of document.querySelectorAll("[placeholder], [title], [aria-label], [alt], input[type=submit]")) {
    if (own(el)) continue;
    for (const attr of ["placeholder", "title", "aria-label", "alt"]) if (el.getAttribute(attr)) texts.push(el.getAttribute(attr));
    if (el.type === "submit" && el.value) texts.push(el.value);
  }
  return texts;
}"""

_NOT_WORDS = re.compile(r"[\w.+-]+@[\w.-]+|https?://\S+|/[\w/.-]+|#\d+|\+91[\d ]+")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z_']*")


# In English every word is Latin: there a leftover is a code (`in_progress`, `walk_in`) or a pattern.
_CODE_OR_PATTERN = re.compile(r"\b[a-z]+_[a-z_]+\b|\^\\?\+|\\d|\[0-9\]|\{\d+,?\d*\}")


def leftovers(page: Any, lang: str) -> list[str]:
    found = []
    for text in page.evaluate(READ_TEXT):
        words = _NOT_WORDS.sub(" ", text)
        if lang == "en":
            found += [f"{code!r} in {text[:80]!r}" for code in _CODE_OR_PATTERN.findall(words)]
            continue
        for word in _LATIN_WORD.findall(words):
            if word not in ALLOWED and len(word) > 1:
                found.append(f"{word!r} in {text[:80]!r}")
    return sorted(set(found))


def in_language(page: Any, lang: str) -> None:
    """The language cookie for the whole site: a cookie set for `page.url` alone would take that page's
    folder as its path (`/app/team/` after the disable page) and leave the other pages in English."""
    origin = re.match(r"https?://[^/]+", page.url)
    assert origin, page.url
    page.context.add_cookies([{"name": "mla_lang", "value": lang, "url": origin.group(0) + "/"}])


def read(page: Any, lang: str, name: str, path: str | None = None) -> list[str]:
    if path is not None:
        page.goto(path)
    expect(page.locator("body")).to_be_visible()
    screenshot(page, f"every-page-{lang}-{name}")
    # A page in another language (or not one of ours) would read as nothing: <html lang=en> is left out as English.
    if (shown := page.locator("html").get_attribute("lang")) != lang:
        return [f"{name}: shown in {shown!r}, not in {lang!r} ({page.url})"]
    return [f"{name}: {found}" for found in leftovers(page, lang)]


def test_every_page_reads_in_the_interface_language_for_each_role(
    new_page: Any, api: Api, admin_token: str, stack: Any, tmp_path: Path
) -> None:
    # One office, walked in each language in turn (its setup, a simulated call, costs more than a walk).
    tenant, admin, token = office(api, admin_token, new_page)
    simulated_call(stack, tmp_path, tenant["phone_numbers"][0], "+919840012345")
    [called] = api.request("GET", "/api/complaints", token).json()["data"]["items"]
    reference = called["reference"]
    staff_email = f"staff-{tenant['tenant_id']}@example.in"
    invited = api.request("POST", "/api/users/invite", token, json={"email": staff_email, "full_name": "Staff One"})
    assert invited.status_code in (200, 201), invited.text
    walk_in = {"category": "water", "description": "No water", "location": "Ward 5", "language": "ta"}
    copy = api.request("POST", "/api/complaints", token, json=walk_in).json()["data"]["reference"]
    acknowledged = api.request("PATCH", f"/api/complaints/{copy}", token, json={"version": 1, "status": "acknowledged"})
    assert acknowledged.status_code == 200, acknowledged.text
    marked = api.request(
        "PATCH",
        f"/api/complaints/{copy}",
        token,
        json={"version": 2, "status": "duplicate", "duplicate_of": str(reference)},
    )
    assert marked.status_code == 200, marked.text
    remembered = ({"text": "Lakshmi", "slot": "name"}, {"text": "Ward 12", "slot": "ward"},
                  {"text": "Ward 13", "slot": "ward"}, {"text": "ta", "slot": "language"},
                  {"text": "Murugan", "slot": "name", "person": "Murugan"}, {"text": "Runs a tea shop"})  # fmt: skip
    for memory in remembered:
        added = api.request(
            "POST", "/api/mem0/memories", token, json={"infer": False, "user_id": "+919840012345", **memory}
        )
        assert added.status_code == 200, added.text
    # A caller's "forget me" on a call, so the privacy page shows its section of requests.
    memories.record_erasure_request(get_services(), tenant["tenant_id"], "+919840012345", call_id=None)
    staff, visitor, root = new_page(width=360, height=780), new_page(), new_page()
    for page in (staff, visitor):
        page.goto("/login")
    sign_in(root, "/admin/panel/tenants", stack.env["SUPERADMIN_EMAIL"], stack.env["SUPERADMIN_PASSWORD"])

    found: list[str] = []
    for lang in LANGS:  # the invitation's page, while its link still opens
        in_language(staff, lang)
        staff.goto(f"/register?token={api.invite_token_for(staff_email)}")
        found += read(staff, lang, "invitation")
    accept_invitation_in(staff, api, staff_email)

    for lang in LANGS:
        for page in (admin, staff, visitor, root):
            in_language(page, lang)
        found += walk(admin, lang, office_pages(reference, copy))
        admin.goto("/app/privacy")
        admin.get_by_test_id("find").locator("input[name=phone]").fill("+919840012345")
        admin.get_by_test_id("find").locator("[type=submit]").click()
        found += read(admin, lang, "privacy-person")
        admin.goto("/app/privacy")
        request = admin.get_by_test_id("erasure-request").first
        request.get_by_test_id("dismiss").locator("summary").click()
        found += read(admin, lang, "privacy-dismiss-asked")
        admin.goto("/app/complaints/new")
        admin.locator("form[action$='/complaints/new'] [type=submit]").click()
        found += read(admin, lang, "walk-in-refused")
        admin.goto("/app/agents")
        admin.locator("form:has(input[name=status][value=paused]) button").first.click()
        found += read(admin, lang, "pause-confirm")
        admin.goto(f"/app/complaints/{reference}/caller")
        fact = admin.get_by_test_id("facts").get_by_test_id("memory").first
        fact.get_by_test_id("correct").locator("summary").click()
        fact.locator("textarea").fill("   ")  # past the browser's own check: refused by the page
        fact.get_by_test_id("correct").locator("[type=submit]").click()
        found += read(admin, lang, "memory-refused")
        admin.get_by_test_id("facts").locator("form[action$='/delete'] button").first.click()
        found += read(admin, lang, "memory-delete-confirm")
        admin.goto("/app/team")
        admin.locator("tr", has_text=staff_email).locator("button.danger").click()
        found += read(admin, lang, "disable-confirm")

        found += walk(
            staff,
            lang,
            {
                "staff-complaints": "/app/complaints",
                "staff-complaint": f"/app/complaints/{reference}",
                "staff-caller": f"/app/complaints/{reference}/caller",
            },
        )
        found += walk(
            visitor,
            lang,
            {"sign-in": "/app/login", "recover": "/app/recover", "bad-invitation": "/app/register?token=nope"},
        )
        tenant_page = f"/admin/panel/tenants/{tenant['tenant_id']}"
        admin_pages = {"admin-tenants": "/admin/panel/tenants", "admin-new-tenant": "/admin/panel/tenants/new"}
        found += walk(root, lang, {**admin_pages, "admin-tenant": tenant_page})

    assert not found, "\n".join(found)


LANGS = ("en", "hi", "ta")


def office_pages(reference: int, copy: int) -> dict[str, str]:
    return {
        "overview": "/app/overview",
        "complaints": "/app/complaints",
        "complaint": f"/app/complaints/{reference}",
        "walk-in": "/app/complaints/new",
        "team": "/app/team",
        "agents": "/app/agents",
        "privacy": "/app/privacy",
        "profile": "/app/profile",
        "duplicate": f"/app/complaints/{copy}",
        "caller": f"/app/complaints/{reference}/caller",
        "caller-without-number": f"/app/complaints/{copy}/caller",
        "bad-filter": "/app/complaints?status=bogus&created_from=yesterday",
        "not-found": "/app/complaints/999999",
    }


def walk(page: Any, lang: str, pages: dict[str, str]) -> list[str]:
    return [found for name, path in pages.items() for found in read(page, lang, name, path)]


def accept_invitation_in(page: Any, api: Api, email: str) -> None:
    """The invitation accepted through its page, in whichever language it is shown."""
    page.goto(f"/register?token={api.invite_token_for(email)}")
    page.fill("#full_name", "Staff One")
    page.fill("#password", "a long office password")
    page.locator("main form [type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/app/complaints$"))
