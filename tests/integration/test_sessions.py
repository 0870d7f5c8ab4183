"""Sessions end when they should: a sign-out, a disabled login or a deprovisioned office holds from the
next request on, on every route and page, for office users and super admins alike (issue 12, items 1–2).

Each request reads the caller back from `platform.users` with their session (`accounts.signed_in`), so
none of this waits for the access token to expire.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from support import Api, tenant_body

OFFICE_ROUTES = [("GET", "/api/complaints"), ("GET", "/api/stats"), ("GET", "/api/users"), ("GET", "/auth/profile")]
OFFICE_PAGES = ["/app/complaints", "/app/overview", "/app/team", "/app/profile"]
ADMIN_ROUTES = [("GET", "/admin/tenants"), ("POST", "/admin/tenants"), ("GET", "/auth/profile")]
ADMIN_PAGES = ["/admin/panel/tenants", "/admin/panel/new"]


def page(api: Api, path: str, access_token: str) -> Any:
    return api.http.get(path, headers={"cookie": f"mla_session={access_token}"}, follow_redirects=False)


def refused_everywhere(api: Api, token: str, routes: list[tuple[str, str]], pages: list[str], status: int) -> None:
    for method, path in routes:
        body = tenant_body() if method == "POST" else None
        response = api.request(method, path, token, json=body)
        assert response.status_code == status, (method, path, response.text)
        assert response.json()["success"] is False
    for path in pages:
        response = page(api, path, token)
        if status == 401:  # a session that ended goes back to the sign-in page
            assert response.status_code == 303, (path, response.text)
            assert "/login?next=" in response.headers["location"]
        else:
            assert response.status_code == status, (path, response.text)


def works_everywhere(api: Api, token: str, routes: list[tuple[str, str]], pages: list[str]) -> None:
    for method, path in routes:
        if method == "GET":
            assert api.request(method, path, token).status_code == 200, path
    for path in pages:
        assert page(api, path, token).status_code == 200, path


@pytest.fixture
def office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token)


def test_an_api_sign_out_ends_the_access_token_at_once_on_every_route_and_page(
    api: Api, office: dict[str, Any]
) -> None:
    session = api.login(office["admin_email"], "office password 1")
    works_everywhere(api, session["access_token"], OFFICE_ROUTES, OFFICE_PAGES)

    assert api.request("POST", "/auth/logout", session["access_token"]).status_code == 200

    refused_everywhere(api, session["access_token"], OFFICE_ROUTES, OFFICE_PAGES, 401)
    assert api.request("POST", "/auth/logout", session["access_token"]).status_code == 401
    assert api.http.post("/auth/refresh", json={"refresh_token": session["refresh_token"]}).status_code == 401
    # Another session of the same person goes on: a sign-out ends one session, not every device.
    assert api.request("GET", "/api/complaints", office["token"]).status_code == 200


def test_signing_out_of_the_pages_ends_the_cookie_session_for_the_api_too(api: Api, office: dict[str, Any]) -> None:
    session = api.login(office["admin_email"], "office password 1")
    cookies = f"mla_session={session['access_token']}; mla_refresh={session['refresh_token']}; mla_csrf=c"
    out = api.http.post("/app/logout", headers={"cookie": cookies}, data={"csrf": "c"}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"].endswith("/app/login")

    refused_everywhere(api, session["access_token"], OFFICE_ROUTES, OFFICE_PAGES, 401)
    # The refresh cookie cannot bring the session back.
    again = api.http.get("/app/complaints", headers={"cookie": cookies}, follow_redirects=False)
    assert again.status_code == 303 and "/app/login" in again.headers["location"]


def test_a_disabled_member_is_refused_on_the_next_request_and_enabled_again(api: Api, office: dict[str, Any]) -> None:
    api.request("POST", "/api/users/invite", office["token"], json={"email": (email := f"s{office['tenant_id']}@x.in")})
    staff = api.http.post(
        "/auth/register", json={"token": api.invite_token_for(email), "password": "staff password 1"}
    ).json()["data"]
    token = staff["access_token"]
    staff_routes = [("GET", "/api/complaints"), ("GET", "/auth/profile")]
    works_everywhere(api, token, staff_routes, ["/app/complaints"])

    api.request("PATCH", f"/api/users/{staff['user']['id']}", office["token"], json={"disabled": True})
    refused_everywhere(api, token, staff_routes, ["/app/complaints"], 403)

    api.request("PATCH", f"/api/users/{staff['user']['id']}", office["token"], json={"disabled": False})
    works_everywhere(api, token, staff_routes, ["/app/complaints"])


def test_a_deprovisioned_office_is_refused_on_the_next_request(
    api: Api, admin_token: str, office: dict[str, Any]
) -> None:
    works_everywhere(api, office["token"], OFFICE_ROUTES, OFFICE_PAGES)
    assert api.request("DELETE", f"/admin/tenants/{office['tenant_id']}", admin_token).status_code == 202
    refused_everywhere(api, office["token"], OFFICE_ROUTES[:3], OFFICE_PAGES, 403)


def minted(stack: Any, office: dict[str, Any], *, issued_ago_s: int) -> str:
    """An access token of the office's admin as Supabase Auth would issue it `issued_ago_s` seconds ago
    (signed with the stand-in's key), for a session of its own."""
    import json
    import time
    import uuid

    import jwt
    from cryptography.hazmat.primitives import serialization

    state = json.loads((stack.root / "supabase-auth.json").read_text())
    key = serialization.load_pem_private_key(state["signing_key_pem"].encode(), None)
    now = int(time.time())
    claims = {
        "iss": f"{stack.env['SUPABASE_URL']}/auth/v1",
        "sub": office["user_id"],
        "aud": "authenticated",
        "iat": now - issued_ago_s,
        "exp": now + 600,
        "email": office["admin_email"],
        "session_id": str(uuid.uuid4()),
        "app_metadata": {"role": "mla_admin", "tenant_id": office["tenant_id"]},
    }
    return jwt.encode(claims, key, "ES256", {"kid": state["signing_kid"]})


def test_a_password_reset_ends_every_session_begun_before_it(api: Api, stack: Any, office: dict[str, Any]) -> None:
    """Someone who resets a password because it leaked expects the other devices signed out."""
    import re

    earlier = minted(stack, office, issued_ago_s=60)  # a session of theirs from a minute ago, on another device
    works_everywhere(api, earlier, OFFICE_ROUTES, OFFICE_PAGES)
    assert api.http.post("/auth/recover", json={"email": office["admin_email"]}).status_code == 202
    [body] = [m["body"] for m in api.outbox() if m["to"] == office["admin_email"] and "/reset?token=" in m["body"]]
    token = httpx.QueryParams(re.search(r"token=([A-Za-z0-9_\-%.]+)", body).group(0))["token"]  # type: ignore[union-attr]
    reset = api.http.post("/auth/reset", json={"token": token, "password": "a brand new password"})
    assert reset.status_code == 200, reset.text

    refused_everywhere(api, earlier, OFFICE_ROUTES, OFFICE_PAGES, 401)
    works_everywhere(api, reset.json()["data"]["access_token"], OFFICE_ROUTES, OFFICE_PAGES)
    works_everywhere(api, api.login(office["admin_email"], "a brand new password")["access_token"], OFFICE_ROUTES, [])


@pytest.fixture
def second_admin(stack: Any) -> dict[str, str]:
    """A second super admin, made as an operator makes one (the CLI's function)."""
    from mla_core import cli
    from mla_core.adapters import get_services

    email = f"ops{tenant_body()['admin_email']}"
    cli.create_superadmin(get_services(), email, "second admin password")
    return {"email": email, "password": "second admin password"}


def test_a_disabled_super_admin_cannot_go_on_with_their_token(api: Api, second_admin: dict[str, str]) -> None:
    """The audit's finding: a banned super admin's existing token still created a tenant."""
    from mla_core import cli
    from mla_core.adapters import get_services

    token = api.login(second_admin["email"], second_admin["password"])["access_token"]
    works_everywhere(api, token, ADMIN_ROUTES, ADMIN_PAGES)

    cli.set_superadmin_disabled(get_services(), second_admin["email"], True)
    refused_everywhere(api, token, ADMIN_ROUTES, ADMIN_PAGES, 403)

    cli.set_superadmin_disabled(get_services(), second_admin["email"], False)
    works_everywhere(api, token, ADMIN_ROUTES, ADMIN_PAGES)


def test_a_super_admins_sign_out_ends_their_token_on_the_api_and_the_panel(
    api: Api, second_admin: dict[str, str]
) -> None:
    session = api.login(second_admin["email"], second_admin["password"])
    cookies = f"mla_session={session['access_token']}; mla_refresh={session['refresh_token']}; mla_csrf=c"
    out = api.http.post("/admin/panel/logout", headers={"cookie": cookies}, data={"csrf": "c"}, follow_redirects=False)
    assert out.status_code == 303
    refused_everywhere(api, session["access_token"], ADMIN_ROUTES, ADMIN_PAGES, 401)


def test_a_super_admin_demoted_in_our_records_loses_the_admin_routes(
    api: Api, second_admin: dict[str, str], stack: Any
) -> None:
    """The role is ours (`platform.users`), not the token's: a row no longer a super admin's is refused."""
    from support import Inspector

    token = api.login(second_admin["email"], second_admin["password"])["access_token"]
    Inspector(stack.env).sql("DELETE FROM platform.users WHERE lower(email) = lower(%s)", second_admin["email"])
    refused_everywhere(api, token, ADMIN_ROUTES, ADMIN_PAGES, 403)
