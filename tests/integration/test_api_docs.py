"""The APIs' docs (issue 12, item 10): Swagger UI from our own origin under a CSP of its own, and the
admin API's docs and schema for super admins only (the panel's session or a bearer token)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mla_core.http.api_docs import DOCS_CSP
from support import Api, Pages

# Each API's docs page and schema; the admin API's are behind sign-in, the others public.
PUBLIC_DOCS = [("/docs", "/openapi.json"), ("/webhooks/docs", "/webhooks/openapi.json")]
ADMIN_DOCS = ("/admin/docs", "/admin/openapi.json")


def loaded_by(page: str) -> list[str]:
    """Every URL the page loads or links to."""
    return re.findall(r'(?:src|href|data-openapi)="([^"]*)"', page)


def check_docs_page(api: Api, response: Any, openapi: str) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-security-policy"] == DOCS_CSP
    assert "<script>" not in response.text  # no inline script: the CSP allows none
    urls = loaded_by(response.text)
    assert openapi in urls and len(urls) == 5
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url  # nothing from another origin
        if url != openapi:
            asset = api.http.get(url)
            assert asset.status_code == 200, url
            assert asset.headers["x-content-type-options"] == "nosniff"
            assert asset.headers["content-type"].split(";")[0] in {"text/javascript", "text/css", "image/png"}


@pytest.mark.parametrize(("docs", "openapi"), PUBLIC_DOCS)
def test_public_docs_load_swagger_ui_from_our_own_origin(docs: str, openapi: str, api: Api) -> None:
    check_docs_page(api, api.http.get(docs), openapi)
    assert api.http.get(openapi).json()["openapi"].startswith("3.1")  # what Swagger UI 5 renders


def test_the_admin_docs_send_a_browser_without_a_session_to_the_panels_sign_in(api: Api) -> None:
    response = api.http.get(ADMIN_DOCS[0], follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/panel/login?next=/admin/docs"


def test_the_admin_schema_without_a_session_is_a_401_in_the_envelope(api: Api) -> None:
    response = api.http.get(ADMIN_DOCS[1])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_a_super_admin_reads_the_admin_docs_with_a_bearer_token(api: Api, admin_token: str) -> None:
    check_docs_page(api, api.request("GET", ADMIN_DOCS[0], admin_token), ADMIN_DOCS[1])
    schema = api.request("GET", ADMIN_DOCS[1], admin_token)
    assert schema.status_code == 200
    assert "/admin/tenants" in schema.json()["paths"]


def test_a_super_admin_signed_in_to_the_panel_reads_the_admin_docs(api: Api, stack: Any) -> None:
    browser = Pages(api.http)
    signed_in = browser.sign_in(stack.env["SUPERADMIN_EMAIL"], stack.env["SUPERADMIN_PASSWORD"], site="/admin/panel")
    assert signed_in.status_code == 303, signed_in.text
    check_docs_page(api, browser.send("GET", ADMIN_DOCS[0]), ADMIN_DOCS[1])
    assert "/admin/tenants" in browser.send("GET", ADMIN_DOCS[1]).json()["paths"]


def test_an_office_login_may_not_read_the_admin_docs(api: Api, admin_token: str) -> None:
    office = api.office_admin(admin_token)
    for path in ADMIN_DOCS:
        response = api.request("GET", path, office["token"])
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    "path", ["/docs/assets/index.html", "/docs/assets/swagger-initializer.js", "/docs/assets/..%2f..%2fapi_docs.py"]
)
def test_only_the_files_the_docs_load_are_served(path: str, api: Api) -> None:
    response = api.http.get(path)
    assert response.status_code == 404
    assert response.json()["success"] is False
