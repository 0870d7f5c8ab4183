"""The API docs in Chromium (issue 12, item 10): Swagger UI draws the operations under the docs' own
CSP, with no violation reported and nothing loaded from another origin; the admin API's docs open
for a super admin signed in to the panel."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

VIOLATIONS = """window.violations = [];
document.addEventListener("securitypolicyviolation", e => window.violations.push(`${e.violatedDirective} ${e.blockedURI}`));"""


def open_docs(page: Any, path: str) -> None:
    page.add_init_script(VIOLATIONS)
    page.goto(path)
    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".opblock-summary").first.click()  # an operation opened: its parameters and example bodies
    expect(page.locator(".opblock-body").first).to_be_visible()
    page.locator(".models-control, .models h4").first.click()  # and the schemas
    page.wait_for_load_state("networkidle")


def test_the_dashboard_docs_draw_their_operations_from_our_origin_only(new_page: Any, base_url: str) -> None:
    page = new_page()
    open_docs(page, "/docs")
    assert page.locator(".opblock").count() >= 10
    assert page.evaluate("window.violations") == []
    assert all(url.startswith(base_url) for url in page.requested), page.requested


def test_a_super_admin_signed_in_to_the_panel_reads_the_admin_docs(new_page: Any, stack: Any, base_url: str) -> None:
    page = new_page()
    page.goto("/admin/docs")
    expect(page).to_have_url(re.compile(r"/admin/panel/login\?next="))
    page.fill("#email", stack.env["SUPERADMIN_EMAIL"])
    page.fill("#password", stack.env["SUPERADMIN_PASSWORD"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/admin/panel/"))
    open_docs(page, "/admin/docs")
    expect(page.get_by_text("/admin/tenants").first).to_be_visible()
    assert page.evaluate("window.violations") == []
    assert all(url.startswith(base_url) for url in page.requested), page.requested
