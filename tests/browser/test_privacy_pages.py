"""A constituent's personal data as an MLA admin handles it in Chromium: found, downloaded, erased."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from test_pages import office

from support import Api, unique_number


def test_an_admin_finds_downloads_and_erases_a_constituents_data(
    new_page: Any, api: Api, admin_token: str, tmp_path: Path
) -> None:
    _, page, token = office(api, admin_token, new_page)
    n = unique_number()
    body = {"category": "water", "description": "Tap dry", "location": "Ward 2", "caller_number": n}
    reference = api.request("POST", "/api/complaints", token, json=body).json()["data"]["reference"]

    page.get_by_role("link", name="Personal data").click()
    expect(page.get_by_test_id("retention")).to_contain_text("365")
    page.fill("#phone", f"{n[3:8]} {n[8:]}")
    page.get_by_role("button", name="Find their data").click()
    expect(page.get_by_test_id("open-complaints").get_by_role("link", name=f"#{reference}")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("button", name="Export (JSON)").click()
    assert re.fullmatch(r"personal-data-\d{4}-\d{2}-\d{2}\.json", download.value.suggested_filename)
    saved = tmp_path / "export.json"
    download.value.save_as(saved)
    assert json.loads(saved.read_text())["sections"]["complaints"][0]["reference"] == reference

    for status in ("acknowledged", "in_progress", "resolved", "closed"):
        version = api.request("GET", f"/api/complaints/{reference}", token).json()["data"]["version"]
        api.request("PATCH", f"/api/complaints/{reference}", token, json={"version": version, "status": status})
    page.get_by_role("button", name="Erase").click()
    expect(page.get_by_test_id("effects")).to_contain_text("1 complaint(s) keep their category")
    page.fill("#last4", "0000" if n[-4:] != "0000" else "1111")
    page.get_by_role("button", name="Erase for good").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    page.fill("#last4", n[-4:])
    page.get_by_role("button", name="Erase for good").click()
    expect(page.get_by_test_id("erased")).to_contain_text("recorded (without the number)")

    detail = api.request("GET", f"/api/complaints/{reference}", token).json()["data"]
    assert detail["description"] == "[erased]" and detail["status"] == "closed"
