"""The admin panel and the MLA dashboard as people use them: in Chromium, through the pages only."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from browser_support import screenshot
from playwright.sync_api import expect

from support import Api, tenant_body, unique_number

ROOT = Path(__file__).resolve().parents[2]


def sign_in(page: Any, path: str, email: str, password: str) -> None:
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(path.split("?")[0])))


def accept_invitation(page: Any, api: Api, email: str, name: str) -> None:
    page.goto(f"/register?token={api.invite_token_for(email)}")
    expect(page.get_by_test_id("invitation-for")).to_contain_text(f"Invitation for {email} to the office of")
    page.fill("#full_name", name)
    page.fill("#password", "a long office password")
    page.get_by_role("button", name="Accept your invitation").click()
    expect(page).to_have_url(re.compile(r"/app/complaints$"))


def office(api: Api, admin_token: str, new_page: Any, **body: Any) -> tuple[dict[str, Any], Any, str]:
    """A live tenant and its MLA admin, signed in through the invitation page."""
    request = tenant_body(languages=["ta", "en"], **body)
    tenant = api.create_tenant(admin_token, request)
    page = new_page()
    accept_invitation(page, api, request["admin_email"], "Office Admin")
    token = api.login(request["admin_email"], "a long office password")["access_token"]
    return tenant, page, token


def simulated_call(stack: Any, tmp_path: Path, to: str, caller: str, *, exits: int = 0) -> str:
    """A call through the real agent (the simulator), its output; `exits`: the simulator's status."""
    env_file = tmp_path / "stack.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in stack.env.items()))
    script = ["--script", "agent_pool/scripts/tamil_complaint.json", "--env", str(env_file)]
    command = [sys.executable, "-m", "agent_pool.simulate", "--to", to, "--from", caller, *script]
    call = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert call.returncode == exits, call.stdout + call.stderr
    return call.stdout


def test_the_super_admin_creates_a_tenant_and_watches_it_become_active(new_page: Any, stack: Any) -> None:
    page = new_page()
    sign_in(page, "/admin/panel/tenants", stack.env["SUPERADMIN_EMAIL"], stack.env["SUPERADMIN_PASSWORD"])
    page.get_by_role("link", name="New tenant").first.click()
    constituency = f"Mylapore {unique_number()[-4:]}"
    page.fill("#mla_name", "K. Selvi")
    page.fill("#constituency", constituency)
    page.select_option("#state", "Tamil Nadu")
    page.check("input[name=languages][value=en]")
    page.fill("#phone_numbers", "044-4000")
    page.fill("#admin_email", f"office-{constituency[-4:]}@selvi.example.in")
    page.get_by_role("button", name="Create").click()

    expect(page.locator("#phone_numbers-error")).to_contain_text("044 2345 6789")  # an example, nothing created
    page.fill("#phone_numbers", unique_number())
    page.get_by_role("button", name="Create").click()

    expect(page).to_have_url(re.compile(r"/admin/panel/tenants/[a-z0-9]{10}$"))
    expect(page.get_by_test_id("tenant-status")).to_have_attribute("data-status", "active", timeout=30_000)
    expect(page.locator("#progress .badge.succeeded")).to_have_count(7)
    expect(page.get_by_test_id("sip-rule")).to_have_text(re.compile(r"^SDR_"))  # the page caught up
    screenshot(page, "admin-tenant")
    page.goto(f"/admin/panel/tenants?q={constituency.split()[1]}")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    screenshot(page, "admin-tenants")


def test_an_office_works_a_call_from_invitation_to_resolution(
    new_page: Any, api: Api, admin_token: str, stack: Any, tmp_path: Path
) -> None:
    tenant, admin, _ = office(api, admin_token, new_page)
    caller = unique_number()
    spoken = simulated_call(stack, tmp_path, tenant["phone_numbers"][0], caller)

    admin.reload()
    row = admin.locator("table.list tbody tr").first
    expect(row).to_contain_text("குடிநீர் வரவில்லை")  # the Tamil the caller spoke
    reference = row.locator("a").first.inner_text().lstrip("#")
    assert reference in spoken
    screenshot(admin, "dashboard-complaints")

    admin.get_by_role("link", name="Team").click()
    staff_email = f"staff-{tenant['tenant_id']}@example.in"
    admin.fill("#invite_email", staff_email)
    admin.fill("#invite_name", "Staff One")
    admin.get_by_role("button", name="Invite").click()
    expect(admin.locator("table.list")).to_contain_text(staff_email)
    staff = new_page(width=360, height=780)  # a phone
    accept_invitation(staff, api, staff_email, "Staff One")
    first = staff.locator("table.complaints tbody tr td").first
    assert staff.evaluate("cell => getComputedStyle(cell, '::before').content", first.element_handle()).startswith(
        '"Ref.'
    )
    screenshot(staff, "dashboard-complaints-phone")

    admin.goto(f"/app/complaints/{reference}")
    expect(admin.get_by_test_id("transcript")).to_contain_text("நேரு தெரு")
    admin.select_option("#assigned_to", label="Staff One")
    admin.get_by_role("button", name="Assign").click()
    expect(admin.get_by_test_id("assignee")).to_have_text("Staff One")
    expect(admin.get_by_test_id("status")).to_have_text("Assigned")

    staff.goto(f"/app/complaints/{reference}")
    for status, shown in (("in_progress", "In progress"), ("resolved", "Resolved")):
        staff.select_option("#status", status)
        staff.get_by_role("button", name="Change status").click()
        expect(staff.get_by_test_id("status")).to_have_text(shown)
    screenshot(staff, "dashboard-complaint-phone")
    admin.goto(f"/app/complaints/{reference}")
    screenshot(admin, "dashboard-complaint")

    sms = [m for m in api.outbox() if m.get("phone_number") == caller or m.get("to") == caller]
    assert len(sms) == 3, sms  # registered, assigned, resolved


def test_filters_and_search_narrow_the_list_and_the_overview_draws_its_charts(
    new_page: Any, api: Api, admin_token: str
) -> None:
    _, page, token = office(api, admin_token, new_page)
    for category, description in (
        ("water", "குடிநீர் குழாய் உடைந்தது"),
        ("roads", "सड़क पर गड्ढा है"),
        ("electricity", "Streetlight pole fell down"),
    ):
        body = {"category": category, "description": description, "location": "Ward 5", "language": "ta"}
        assert api.request("POST", "/api/complaints", token, json=body).status_code == 201

    page.goto("/app/complaints")
    expect(page.locator("table.list tbody tr")).to_have_count(3)
    expect(page.get_by_test_id("count")).to_contain_text("3")
    page.select_option("#category", "roads")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("table.list")).to_contain_text("सड़क पर गड्ढा है")
    page.goto("/app/complaints")
    page.fill("#q", "குடிநீர்")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    csv = page.request.get("/app/complaints/export.csv?q=குடிநீர்")
    assert csv.ok and "குடிநீர் குழாய் உடைந்தது" in csv.text() and csv.text().count("\n") == 2

    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_test_id("total")).to_have_text("3")
    expect(page.locator("svg.chart")).to_have_count(4)
    assert page.locator("svg.chart rect").count() >= 3
    screenshot(page, "dashboard-overview")

    page.get_by_role("link", name="தமிழ்").click()
    expect(page.get_by_role("link", name="புகார்கள்")).to_be_visible()  # the interface in Tamil


def test_another_office_gets_404_and_a_form_without_the_csrf_token_fails(
    new_page: Any, api: Api, admin_token: str
) -> None:
    _, page_a, token_a = office(api, admin_token, new_page)
    body = {"category": "water", "description": "No water since Monday", "location": "Ward 9"}
    reference = api.request("POST", "/api/complaints", token_a, json=body).json()["data"]["reference"]
    _, page_b, _ = office(api, admin_token, new_page)

    assert page_b.goto(f"/app/complaints/{reference}").status == 404
    expect(page_b.locator("main")).not_to_contain_text("No water since Monday")
    forged = page_a.request.post(f"/app/complaints/{reference}/change", form={"action": "note", "note": "forged"})
    assert forged.status == 403
    outside = httpx.post(
        f"{page_a.url.split('/app')[0]}/app/complaints/{reference}/change",
        data={"action": "note", "note": "x"},
        cookies={c["name"]: c["value"] for c in page_a.context.cookies() if c["name"] != "mla_csrf"},
    )
    assert outside.status_code == 403
    assert page_a.goto(f"/app/complaints/{reference}").ok
    expect(page_a.locator(".timeline")).not_to_contain_text("forged")


def test_a_stale_edit_says_someone_else_changed_it_first(new_page: Any, api: Api, admin_token: str) -> None:
    _, page, token = office(api, admin_token, new_page)
    body = {"category": "water", "description": "Pipe burst near the school", "location": "Ward 3"}
    reference = api.request("POST", "/api/complaints", token, json=body).json()["data"]["reference"]
    page.goto(f"/app/complaints/{reference}")
    other = api.request("GET", f"/api/complaints/{reference}", token).json()["data"]
    api.request(
        "PATCH", f"/api/complaints/{reference}", token, json={"version": other["version"], "status": "acknowledged"}
    )

    page.select_option("#status", "transferred")
    page.fill("#transferred_to", "Chennai Metro Water")
    page.fill("#status_note", "Their main line")
    page.get_by_role("button", name="Change status").click()

    expect(page.get_by_test_id("notice")).to_contain_text("Someone else changed this complaint first")
    expect(page.get_by_test_id("status")).to_have_text("Acknowledged")


def test_the_pages_load_light_and_from_our_origin_only(new_page: Any, api: Api, admin_token: str) -> None:
    _, page, _ = office(api, admin_token, new_page)
    weights: list[int] = []
    page.on("response", lambda response: weights.append(len(response.body())))
    origin = page.url.split("/app")[0]
    page.requested.clear()
    page.goto("/app/complaints")
    page.wait_for_load_state("networkidle")
    assert all(url.startswith(origin) for url in page.requested), page.requested
    assert sum(weights) <= 300_000, sum(weights)


def test_an_admin_makes_a_member_an_admin_and_disables_them(new_page: Any, api: Api, admin_token: str) -> None:
    tenant, page, _ = office(api, admin_token, new_page)
    page.goto("/app/team")
    email = f"member-{tenant['tenant_id']}@example.in"
    page.fill("#invite_email", email)
    page.get_by_role("button", name="Invite").click()
    row = page.locator("table.list tbody tr", has_text=email)
    expect(row).to_contain_text("Staff")
    expect(row.get_by_test_id("invited")).to_have_text("Invited")
    first = api.invite_token_for(email)
    row.get_by_role("button", name="Send the invitation again").click()
    expect(page).to_have_url(re.compile(r"/app/team\?resent="))
    assert api.invite_token_for(email) != first
    row.get_by_role("button", name="Make Office admin").click()
    expect(row.locator("td").nth(2)).to_have_text("Office admin")
    row.get_by_role("button", name="Disable").click()
    page.get_by_role("button", name=f"Disable {email}").click()  # asked first, naming the person
    expect(row.locator(".badge.failed")).to_have_text("Disabled")


def test_a_forgotten_password_is_reset_from_the_link_in_an_email(new_page: Any, api: Api, admin_token: str) -> None:
    tenant, _, _ = office(api, admin_token, new_page)
    page = new_page()
    page.goto("/app/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.fill("#email", tenant["admin_email"])
    page.get_by_role("button", name="Send me a reset link").click()
    expect(page.get_by_test_id("recover-sent")).to_be_visible()

    page.goto(f"/app/reset?token={api.invite_token_for(tenant['admin_email'])}")
    page.fill("#password", "a new office password")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(r"/app/complaints$"))
    assert api.login(tenant["admin_email"], "a new office password")["access_token"]


def test_agent_settings_save_a_greeting_and_pause_the_agent(new_page: Any, api: Api, admin_token: str) -> None:
    _, page, token = office(api, admin_token, new_page)
    page.get_by_role("link", name="Agent settings").click()
    expect(page.get_by_role("button", name="Test call in the browser")).to_have_count(0)  # no real LiveKit here
    page.fill("textarea[name=greeting_ta]", "வணக்கம்! செல்வி அவர்களின் அலுவலகம்.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("textarea[name=greeting_ta]")).to_contain_text("வணக்கம்! செல்வி அவர்களின் அலுவலகம்.")
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Pause the line").click()  # asked first (issue 15, item 9)
    expect(page.locator(".badge.paused")).to_have_count(1)
    [agent] = api.request("GET", "/api/agents", token).json()["data"]
    assert agent["status"] == "paused" and agent["greetings"]["ta"].startswith("வணக்கம்! செல்வி")
    screenshot(page, "dashboard-agents")


def test_a_walk_in_complaint_is_typed_in_and_the_list_pages_through(new_page: Any, api: Api, admin_token: str) -> None:
    _, page, _ = office(api, admin_token, new_page)
    page.goto("/app/complaints/new")
    page.select_option("#category", "roads")
    page.fill("#location", "Ward 7")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#description:invalid")).to_have_count(1)  # the browser asks for a description first
    expect(page).to_have_url(re.compile(r"/app/complaints/new\?form="))
    page.fill("#description", "Pit")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#description-error")).to_contain_text("at least 5")  # the server's rule, by its field
    expect(page.locator("#location")).to_have_value("Ward 7")  # what was typed stays
    page.fill("#description", "सड़क पर गड्ढा है")
    page.fill("#caller_number", "+919876500001")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/app/complaints/1001$"))
    expect(page.get_by_test_id("status")).to_have_text("New")
    for _ in range(2):
        page.goto("/app/complaints/new")
        page.select_option("#category", "roads")
        page.fill("#location", "Ward 8")
        page.fill("#description", "Garbage not collected")
        page.get_by_role("button", name="Save").click()

    page.goto("/app/complaints?limit=2")
    expect(page.locator("table.list tbody tr")).to_have_count(2)
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("table.list")).to_contain_text("#1001")
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)

    page.get_by_role("link", name="हिन्दी").click()
    expect(page.get_by_role("link", name="शिकायतें")).to_be_visible()
    page.get_by_role("button", name="साइन आउट").click()
    expect(page).to_have_url(re.compile(r"/app/login"))
    page.goto("/app/complaints")
    expect(page).to_have_url(re.compile(r"/app/login\?next="))  # the session is gone


def test_a_failed_tenant_is_retried_and_deprovisioned_only_when_its_id_is_typed(
    new_page: Any, api: Api, admin_token: str, stack: Any
) -> None:
    stack.moto.runner.inject_fault("mla-voice-local-CreateRoomFunction", error_type="InjectedFault", message="boom")
    tenant = api.create_tenant(admin_token, wait=False)
    api.wait_for(admin_token, tenant["tenant_id"], "failed")
    stack.moto.runner.clear_faults()
    page = new_page()
    sign_in(
        page,
        f"/admin/panel/tenants/{tenant['tenant_id']}",
        stack.env["SUPERADMIN_EMAIL"],
        stack.env["SUPERADMIN_PASSWORD"],
    )
    expect(page.get_by_test_id("tenant-status")).to_have_attribute("data-status", "failed")
    expect(page.locator("#progress")).to_contain_text("boom")

    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_test_id("tenant-status")).to_have_attribute("data-status", "active", timeout=30_000)

    page.reload()
    page.fill("#confirm", "not-the-id")
    page.get_by_role("button", name="Deprovision").click()
    expect(page.locator("form .error")).to_contain_text(tenant["tenant_id"])
    assert api.tenant(admin_token, tenant["tenant_id"])["status"] == "active"
    page.fill("#confirm", tenant["tenant_id"])
    page.get_by_role("button", name="Deprovision").click()
    expect(page.get_by_test_id("tenant-status")).to_have_attribute("data-status", "deleted", timeout=30_000)


def test_the_keyboard_alone_signs_in_and_reaches_a_complaint(new_page: Any, api: Api, admin_token: str) -> None:
    _, _, token = office(api, admin_token, new_page)
    email = api.request("GET", "/auth/profile", token).json()["data"]["email"]
    body = {"category": "water", "description": "Tap dry since Monday", "location": "Ward 2"}
    reference = api.request("POST", "/api/complaints", token, json=body).json()["data"]["reference"]
    page = new_page(width=360, height=780)
    page.goto("/app/login")

    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")  # the first stop skips the header
    page.focus("#email")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type("a long office password")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/app/complaints$"))
    link = page.get_by_role("link", name=f"#{reference}")
    link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/app/complaints/{reference}$"))
    page.focus("#note")
    page.keyboard.type("Called the ward engineer")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".timeline")).to_contain_text("Called the ward engineer")
