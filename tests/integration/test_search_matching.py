"""The complaint search finds a word by its start and its usual spellings in Tamil, Hindi and English
(issue 15, item 6), on the API and the page alike, with one length limit; filters that do not parse
list, count and export nothing (item 7). Real Postgres, through the local stack."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg import sql

from mla_core.adapters import get_services
from mla_core.complaints import search, store
from mla_core.complaints.models import QUERY_LIMIT, ComplaintFilters
from mla_core.db.migrate import load_migrations, migrate_tenant
from support import Api, Pages, tenant_body

SAID = {
    "pension": ("ஓய்வூதியம் மூன்று மாதமாக வரவில்லை", "ta"),
    "pothole": ("Pothole near the school gate", "en"),
    "potholes": ("Potholes all along the main road", "en"),
    "handpump_anusvara": ("हैंडपंप खराब है", "hi"),
    "handpump_half_nasal": ("हैंडपम्प से पानी नहीं आता", "hi"),
    "road_nukta": ("सड़क पर पानी भरा है", "hi"),
    "anganwadi_chandrabindu": ("आँगनवाड़ी बंद है", "hi"),
    "water": ("குடிநீர் வரவில்லை", "ta"),
}


def office(api: Api, admin_token: str) -> dict[str, Any]:
    body = tenant_body(languages=["ta", "hi", "en"])
    tenant = api.create_tenant(admin_token, body)
    invite = api.invite_token_for(body["admin_email"])
    session = api.http.post("/auth/register", json={"token": invite, "password": "office password 1"}).json()["data"]
    return {**tenant, "token": session["access_token"]}


@pytest.fixture(scope="module")
def a(api: Api, admin_token: str) -> dict[str, Any]:
    found = office(api, admin_token)
    found["refs"] = {}
    for name, (description, language) in SAID.items():
        body = {"category": "water", "description": description, "location": "Ward 7", "language": language}
        created = api.request("POST", "/api/complaints", found["token"], json=body)
        assert created.status_code == 201, created.text
        found["refs"][name] = created.json()["data"]["reference"]
    return found


@pytest.fixture(scope="module")
def b(api: Api, admin_token: str) -> dict[str, Any]:
    return office(api, admin_token)


def found(api: Api, office: dict[str, Any], q: str) -> set[str]:
    """The names (SAID's keys) of the office's complaints that a search for `q` lists."""
    response = api.request("GET", "/api/complaints", office["token"], params={"q": q, "limit": 200})
    assert response.status_code == 200, response.text
    by_reference = {ref: name for name, ref in office.get("refs", {}).items()}
    return {by_reference.get(c["reference"], str(c["reference"])) for c in response.json()["data"]["items"]}


@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("ஓய்வூதிய", {"pension"}),  # a Tamil word's start
        ("ஓய்வூதியம்", {"pension"}),
        ("pothole", {"pothole", "potholes"}),  # an English word finds its plural
        ("potholes", {"pothole", "potholes"}),  # and its plural the word
        ("POTHOLE", {"pothole", "potholes"}),
        ("pot", {"pothole", "potholes"}),
        ("हैंडपम्प", {"handpump_anusvara", "handpump_half_nasal"}),  # half nasal or anusvara, either way
        ("हैंडपंप", {"handpump_anusvara", "handpump_half_nasal"}),
        ("सडक", {"road_nukta"}),  # without the nukta
        ("आंगनवाडी", {"anganwadi_chandrabindu"}),  # anusvara for chandrabindu
        ("குடிநீர் வரவில்லை", {"water"}),  # every word must match
        ("pothole school", {"pothole"}),
    ],
)
def test_a_search_finds_a_word_by_its_start_and_its_usual_spellings(
    api: Api, a: dict[str, Any], q: str, names: set[str]
) -> None:
    assert found(api, a, q) == names


def test_a_reference_finds_that_complaint_only_and_punctuation_finds_nothing(api: Api, a: dict[str, Any]) -> None:
    reference = a["refs"]["pension"]
    assert found(api, a, str(reference)) == {"pension"}
    assert found(api, a, str(reference)[:-1]) == set()  # a number is not a prefix of others
    assert found(api, a, "!!! ...") == set()


def test_another_office_finds_none_of_these_words(api: Api, a: dict[str, Any], b: dict[str, Any]) -> None:
    for q in ("ஓய்வூதிய", "pothole", "हैंडपम्प"):
        assert found(api, b, q) == set()


async def test_a_rare_word_behind_many_newer_complaints_is_found_and_paged(
    a: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first query reads only the newest SEARCH_WINDOW rows; the word is older than those.
    monkeypatch.setattr(store, "SEARCH_WINDOW", 2)
    services, tenant_id = get_services(), a["tenant_id"]
    items, cursor = await search.list_complaints(services, tenant_id, ComplaintFilters(q="pothole", limit=1))
    assert [c["reference"] for c in items] == [a["refs"]["potholes"]] and cursor is not None
    items, cursor = await search.list_complaints(
        services, tenant_id, ComplaintFilters(q="pothole", limit=1, cursor=cursor)
    )
    assert [c["reference"] for c in items] == [a["refs"]["pothole"]] and cursor is None
    oldest, _ = await search.list_complaints(services, tenant_id, ComplaintFilters(q="ஓய்வூதிய", sort="oldest"))
    assert [c["reference"] for c in oldest] == [a["refs"]["pension"]]


@pytest.fixture
def schema_before_search() -> Iterator[str]:
    """A tenant schema migrated up to the migration before the search's, dropped afterwards."""
    tenant_id = f"s{uuid.uuid4().hex[:9]}"
    db = get_services().db
    migrate_tenant(db, f"tenant_{tenant_id}", [m for m in load_migrations("tenant") if m.version < "0007"])
    yield tenant_id
    with db.transaction() as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(f"tenant_{tenant_id}")))


async def test_the_migration_indexes_the_complaints_stored_before_it(schema_before_search: str) -> None:
    tenant_id, db = schema_before_search, get_services().db
    with db.transaction() as conn:
        conn.execute(
            sql.SQL(
                "INSERT INTO {}.complaints (reference, idempotency_key, category, description, location, language,"
                " sla_due_at) VALUES (1001, 'before-1', 'water', 'हैंडपंप खराब है', 'Ward 1', 'hi', now()),"
                " (1002, 'before-2', 'roads', 'Potholes near the temple', 'Ward 2', 'en', now())"
            ).format(sql.Identifier(f"tenant_{tenant_id}"))
        )
    assert migrate_tenant(db, f"tenant_{tenant_id}") == [m.version for m in load_migrations("tenant")][6:]
    for q, reference in (("हैंडपम्प", 1001), ("pothole", 1002)):
        items, _ = await search.list_complaints(get_services(), tenant_id, ComplaintFilters(q=q))
        assert [c["reference"] for c in items] == [reference]


def test_the_page_and_the_api_take_the_same_longest_search(api: Api, a: dict[str, Any]) -> None:
    longest, longer = "அ" * QUERY_LIMIT, "அ" * (QUERY_LIMIT + 1)
    assert api.request("GET", "/api/complaints", a["token"], params={"q": longest}).status_code == 200
    refused = api.request("GET", "/api/complaints", a["token"], params={"q": longer}, headers={"Accept-Language": "ta"})
    assert refused.status_code == 422
    detail = refused.json()["error"]["details"][0]
    assert detail["field"] == "q" and detail["message"] == f"தேடல் அதிகபட்சம் {QUERY_LIMIT} எழுத்துகள் இருக்கலாம்."

    page = Pages(api.http, mla_session=a["token"], mla_lang="hi")
    form = page.send("GET", "/app/complaints", params={"q": longest})
    assert form.status_code == 200 and f'maxlength="{QUERY_LIMIT}"' in form.text
    assert 'data-testid="filters-not-understood"' not in form.text
    too_long = page.send("GET", "/app/complaints", params={"q": longer})
    assert f'id="q-error">खोज में अधिकतम {QUERY_LIMIT} अक्षर हो सकते हैं।' in too_long.text
    assert 'aria-describedby="q-error"' in too_long.text


def rows_listed(html: str) -> int:
    return html.count('<td><a href="/app/complaints/')


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "sleeping"}, "status"),
        ({"assigned_to": "not-a-person"}, "assigned_to"),
        ({"created_from": "2026-13-45"}, "created_from"),
        ({"sla": "someday"}, "sla"),
        ({"sort": "loudest"}, "sort"),
        ({"statuss": "new"}, "statuss"),  # a misspelt filter is not "no filter"
    ],
)
def test_a_filter_the_page_does_not_understand_lists_counts_and_exports_nothing(
    api: Api, a: dict[str, Any], params: dict[str, str], field: str
) -> None:
    page = Pages(api.http, mla_session=a["token"], mla_lang="ta")
    listed = page.send("GET", "/app/complaints", params={**params, "category": "water"})
    assert listed.status_code == 200
    assert rows_listed(listed.text) == 0
    assert "ஒரு வடிகட்டி புரியவில்லை, அதனால் புகார்கள் எதுவும் காட்டப்படவில்லை" in listed.text
    assert f'id="{field}-error"' in listed.text
    assert "export.csv" not in listed.text and "/complaints/count" not in listed.text
    assert 'value="water" selected' in listed.text  # what was understood stays chosen

    counted = page.send("GET", "/app/complaints/count", params=params)
    assert counted.status_code == 200 and '<span id="count" data-testid="count">0 ' in counted.text

    exported = page.send("GET", "/app/complaints/export.csv", params=params)
    assert exported.status_code == 400 and not exported.headers["content-type"].startswith("text/csv")
    assert "CSV உருவாக்கப்படவில்லை: ஒரு வடிகட்டி புரியவில்லை." in exported.text

    for path in ("/api/complaints", "/api/complaints/export.csv"):
        refused = api.request("GET", path, a["token"], params=params, headers={"Accept-Language": "hi"})
        assert refused.status_code == 422 and not refused.headers["content-type"].startswith("text/csv")
        error = refused.json()["error"]
        assert error["code"] == "validation_error" and error["details"][0]["field"].split(".")[0] == field


def test_filters_that_parse_still_list_count_and_export(api: Api, a: dict[str, Any]) -> None:
    page = Pages(api.http, mla_session=a["token"])
    listed = page.send("GET", "/app/complaints", params={"q": "pothole", "status": "new"})
    assert rows_listed(listed.text) == 2 and "export.csv?q=pothole" in listed.text
    exported = page.send("GET", "/app/complaints/export.csv", params={"q": "pothole", "status": "new"})
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert len(rows) == 3  # the headings and the two complaints
