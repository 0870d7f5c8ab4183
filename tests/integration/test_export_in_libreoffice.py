"""The CSV export as an office opens it: converted by LibreOffice's headless converter (Debian's
`libreoffice-calc-nogui`, installed by `make office`) to a workbook whose cells are read back.

The file starts with a UTF-8 byte order mark, which is how Excel knows it is UTF-8 (Tamil and Hindi
intact). LibreOffice's import dialog preselects UTF-8 for such a file, but its headless converter takes
the system's character set instead, so the conversion names UTF-8 as the dialog would
(`--infilter=CSV:44,34,UTF8`: comma, double quote, UTF-8; the rest LibreOffice's defaults). Read back:
the BOM consumed (not a stray character in the first heading), text that starts like a formula stays
text, a phone number stays text with every digit, a time is a date and time to the minute."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from mla_core.adapters import get_services
from mla_core.agents.routing import load_agent_config
from mla_core.complaints import intake
from mla_core.complaints.intake import ComplaintDraft
from support import Api, tenant_body

SOFFICE = shutil.which("soffice")
pytestmark = [
    pytest.mark.office,
    pytest.mark.skipif(
        SOFFICE is None, reason="needs LibreOffice: run `make office` as root (Debian's libreoffice-calc-nogui)"
    ),
]

HYPERLINK = '=HYPERLINK("http://example.invalid/x","Click me")'
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def workbook_cells(xlsx: Path) -> list[dict[str, tuple[str, Any]]]:
    """The first sheet's rows: column letter → (kind, value); kind is `s` (text), `n` (number) or `f` (formula)."""
    with zipfile.ZipFile(xlsx) as book:
        shared = []
        if "xl/sharedStrings.xml" in book.namelist():
            strings = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))  # noqa: S314 (our own converter's)
            for item in strings.findall("m:si", NS):
                shared.append("".join(t.text or "" for t in item.iter(f"{{{NS['m']}}}t")))
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))  # noqa: S314 (our own converter's)
    rows = []
    for line in sheet.iterfind(".//m:sheetData/m:row", NS):
        cells: dict[str, tuple[str, Any]] = {}
        for cell in line.iterfind("m:c", NS):
            column = re.sub(r"\d", "", cell.get("r", ""))
            value = cell.find("m:v", NS)
            if cell.find("m:f", NS) is not None:
                cells[column] = ("f", cell.find("m:f", NS).text)  # type: ignore[union-attr]
            elif cell.get("t") == "s" and value is not None:
                cells[column] = ("s", shared[int(value.text or 0)])
            elif cell.get("t") == "inlineStr":
                cells[column] = ("s", "".join(t.text or "" for t in cell.iter(f"{{{NS['m']}}}t")))
            elif value is not None:
                cells[column] = ("n", float(value.text or 0))
        rows.append(cells)
    return rows


def by_header(rows: list[dict[str, tuple[str, Any]]]) -> list[dict[str, tuple[str, Any]]]:
    header = {column: value for column, (_, value) in rows[0].items()}
    return [{header[column]: cell for column, cell in row.items()} for row in rows[1:]]


def converted(csv_bytes: bytes, tmp_path: Path) -> list[dict[str, tuple[str, Any]]]:
    source = tmp_path / "complaints.csv"
    source.write_bytes(csv_bytes)
    profile = (tmp_path / "profile").as_uri()  # its own profile: no clash with another soffice
    subprocess.run(
        [SOFFICE or "soffice", f"-env:UserInstallation={profile}", "--headless", "--infilter=CSV:44,34,UTF8",
         "--convert-to", "xlsx",
         "--outdir", str(tmp_path), str(source)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return by_header(workbook_cells(tmp_path / "complaints.xlsx"))


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    """A Tamil-first office with a Tamil, a Hindi and a formula complaint, one assigned, one a duplicate."""
    body = tenant_body(languages=["ta", "en"])
    tenant = api.create_tenant(admin_token, body)
    invite = api.invite_token_for(body["admin_email"])
    session = api.http.post("/auth/register", json={"token": invite, "password": "office password 1"}).json()["data"]
    token, user = session["access_token"], session["user"]
    services = get_services()
    config = load_agent_config(services, tenant["tenant_id"])
    assert config is not None

    def log(key: str, number: str, language: str, **draft: Any) -> int:
        logged = intake.log_complaint(
            services, config, ComplaintDraft(location="Ward 12", **draft), idempotency_key=key,
            caller_number=number, language=language, room_name=None,
        )  # fmt: skip
        return logged.reference

    tamil = log("lo-ta", "+919876543210", "ta", category="water", description="குடிநீர் வரவில்லை மூன்று நாட்களாக")
    hindi = log("lo-hi", "+919812300045", "hi", category="electricity", description="बिजली नहीं है")
    formula = log("lo-f", "+919800000007", "en", category="roads", description=HYPERLINK)
    for ref, patch in [(hindi, {"status": "assigned", "assigned_to": user["id"]}),
                       (formula, {"status": "duplicate", "duplicate_of": str(tamil)})]:  # fmt: skip
        answer = api.request("PATCH", f"/api/complaints/{ref}", token, json={"version": 1, **patch})
        assert answer.status_code == 200, answer.text
    name = user.get("full_name") or user["email"]
    return {"token": token, "tamil": tamil, "hindi": hindi, "formula": formula, "assignee": name}


def test_the_tamil_export_opens_in_libreoffice_with_words_text_and_times(
    api: Api, office: dict[str, Any], tmp_path: Path
) -> None:
    answer = api.request("GET", "/api/complaints/export.csv", office["token"], params={"lang": "ta", "sort": "oldest"})
    assert answer.status_code == 200 and answer.content.startswith(b"\xef\xbb\xbf")
    rows = converted(answer.content, tmp_path)
    assert len(rows) == 3
    tamil, hindi, formula = rows

    assert tamil["குறிப்பு எண்"] == ("n", float(office["tamil"]))  # the first heading, without the BOM
    assert tamil["விவரம்"] == ("s", "குடிநீர் வரவில்லை மூன்று நாட்களாக")  # the BOM: UTF-8, not mojibake
    assert hindi["விவரம்"] == ("s", "बिजली नहीं है")
    assert tamil["நிலை"] == ("s", "புதியது") and hindi["நிலை"] == ("s", "ஒதுக்கப்பட்டது")
    assert hindi["ஒதுக்கப்பட்டவர்"] == ("s", office["assignee"])
    assert tamil["மொழி"] == ("s", "தமிழ்") and hindi["மொழி"] == ("s", "இந்தி")
    assert tamil["காலக்கெடு கடந்தது"] == ("s", "இல்லை")

    # The formula a caller had stored is text, as written; the duplicate names its original's reference.
    assert formula["விவரம்"][0] == "s" and formula["விவரம்"][1].endswith(HYPERLINK)
    assert formula["மூலப் புகார் (குறிப்பு)"] == ("n", float(office["tamil"]))
    assert not [c for row in rows for c in row.values() if c[0] == "f"]

    # A phone number: text, grouped, every digit kept (neither a formula nor 9.19877E+11).
    kind, number = tamil["அழைப்பாளர் எண்"]
    assert kind == "s" and number.endswith("+91 98765 43210")

    # A time is a date and time to the minute (a spreadsheet serial: days since 1899-12-30).
    kind, logged = tamil["பதிவு நேரம்"]
    assert kind == "n" and round(logged * 24 * 60, 6) == round(logged * 24 * 60)


def test_the_english_export_has_english_words(api: Api, office: dict[str, Any], tmp_path: Path) -> None:
    answer = api.request("GET", "/api/complaints/export.csv", office["token"], params={"sort": "oldest"})
    rows = converted(answer.content, tmp_path)
    assert [r["Status"][1] for r in rows] == ["New", "Assigned", "Duplicate"]
    assert rows[0]["Language"] == ("s", "Tamil") and rows[0]["Overdue"] == ("s", "No")
