"""Sign-in backed by Supabase Auth, and who may call the admin API."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from support import Api, tenant_body


def standin_key(stack: Any) -> tuple[Any, str]:
    """The Supabase Auth stand-in's own signing key, to mint tokens that differ in one claim only."""
    from cryptography.hazmat.primitives import serialization

    state = json.loads((stack.root / "supabase-auth.json").read_text())
    return serialization.load_pem_private_key(state["signing_key_pem"].encode(), None), state["signing_kid"]


def claims(stack: Any, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": f"{stack.env['SUPABASE_URL']}/auth/v1",
        "sub": "3f0f2c58-9a53-4c1f-9a6e-1c2d3e4f5a6b",
        "aud": "authenticated",
        "exp": now + 600,
        "iat": now,
        "email": "someone@example.in",
        "role": "authenticated",
        "app_metadata": {"role": "super_admin"},
    }
    return {**base, **overrides}


@pytest.fixture(scope="module")
def mla_admin(api: Api, admin_token: str) -> dict[str, Any]:
    """An MLA admin who accepted the invitation from the welcome email."""
    body = tenant_body()
    tenant = api.create_tenant(admin_token, body)
    token = api.invite_token_for(body["admin_email"])
    response = api.http.post(
        "/auth/register", json={"token": token, "password": "correct horse battery", "full_name": "Meena"}
    )
    assert response.status_code == 201, response.text
    return {"tenant": tenant, "email": body["admin_email"], "session": response.json()["data"], "invite": token}


def test_an_invited_admin_registers_signs_in_and_reads_their_profile(api: Api, mla_admin: dict[str, Any]) -> None:
    session = mla_admin["session"]
    assert session["user"]["role"] == "mla_admin"
    assert session["user"]["tenant_id"] == mla_admin["tenant"]["tenant_id"]
    assert session["expires_in"] > 0 and session["refresh_token"]

    login = api.login(mla_admin["email"], "correct horse battery")
    profile = api.request("GET", "/auth/profile", login["access_token"])

    assert profile.status_code == 200
    data = profile.json()["data"]
    assert data["email"] == mla_admin["email"]
    assert data["full_name"] == "Meena"
    assert data["tenant"]["constituency"] == "Mylapore"


def test_an_invitation_works_only_once(api: Api, mla_admin: dict[str, Any]) -> None:
    response = api.http.post("/auth/register", json={"token": mla_admin["invite"], "password": "another password"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_invitation"


def test_registration_without_a_valid_invitation_is_refused(api: Api) -> None:
    response = api.http.post("/auth/register", json={"token": "made-up-token-123", "password": "whatever123"})
    assert response.status_code == 400
    assert [(d["field"], d["reason"]) for d in response.json()["error"]["details"]] == [("token", "invalid_invitation")]
    assert response.json()["error"]["details"][0]["message"].startswith("This invitation is invalid")


def test_a_short_password_is_a_validation_error(api: Api) -> None:
    response = api.http.post("/auth/register", json={"token": "made-up-token-123", "password": "short"})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "password"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(api: Api, stack: Any) -> None:
    response = api.http.post("/auth/login", json={"email": stack.env["SUPERADMIN_EMAIL"], "password": "wrong"})
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "invalid email or password"


def test_refresh_rotates_and_logout_revokes(api: Api, mla_admin: dict[str, Any]) -> None:
    login = api.login(mla_admin["email"], "correct horse battery")
    refreshed = api.http.post("/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert refreshed.status_code == 200
    new = refreshed.json()["data"]
    assert new["refresh_token"] != login["refresh_token"]

    out = api.request("POST", "/auth/logout", new["access_token"])
    assert out.status_code == 200
    again = api.http.post("/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert again.status_code == 401


def test_admin_routes_need_a_token(api: Api) -> None:
    response = api.http.get("/admin/tenants")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_admin_routes_refuse_an_mla_admin(api: Api, mla_admin: dict[str, Any]) -> None:
    token = api.login(mla_admin["email"], "correct horse battery")["access_token"]
    for method, path in [
        ("GET", "/admin/tenants"),
        ("POST", "/admin/tenants"),
        ("DELETE", "/admin/tenants/abcde12345"),
    ]:
        response = api.request(method, path, token, json=tenant_body() if method == "POST" else None)
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["code"] == "forbidden"


def test_a_token_the_standin_signed_is_accepted(api: Api, stack: Any) -> None:
    """A token minted with the stand-in's key for the super admin (their own id, a session of theirs)."""
    key, kid = standin_key(stack)
    user_id = api.login(stack.env["SUPERADMIN_EMAIL"], stack.env["SUPERADMIN_PASSWORD"])["user"]["id"]
    token = jwt.encode(claims(stack, sub=user_id, session_id=str(uuid.uuid4())), key, "ES256", {"kid": kid})
    assert api.request("GET", "/admin/tenants", token).status_code == 200


@pytest.mark.parametrize("path", ["/admin/tenants", "/api/complaints", "/auth/profile"])
def test_a_valid_token_for_someone_we_do_not_know_or_without_a_session_is_refused(
    path: str, api: Api, stack: Any
) -> None:
    """Signed by the project's key, but naming no login of ours, or no session that could be signed out."""
    key, kid = standin_key(stack)
    user_id = api.login(stack.env["SUPERADMIN_EMAIL"], stack.env["SUPERADMIN_PASSWORD"])["user"]["id"]
    unknown = jwt.encode(claims(stack, session_id=str(uuid.uuid4())), key, "ES256", {"kid": kid})
    sessionless = jwt.encode(claims(stack, sub=user_id), key, "ES256", {"kid": kid})
    assert api.request("GET", path, unknown).status_code == 403
    assert api.request("GET", path, sessionless).status_code == 401


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "wrong_audience",
        "wrong_issuer",
        "foreign_key",
        "alg_none",
        "hs256_without_secret",
        "no_role",
        "no_tenant",
        "garbage",
    ],
)
@pytest.mark.parametrize("path", ["/admin/tenants", "/api/complaints", "/api/users", "/auth/profile"])
def test_forged_expired_and_malformed_tokens_are_refused(case: str, path: str, api: Api, stack: Any) -> None:
    key, kid = standin_key(stack)
    now = int(time.time())
    tokens = {
        "expired": lambda: jwt.encode(claims(stack, exp=now - 120, iat=now - 4000), key, "ES256", {"kid": kid}),
        "wrong_audience": lambda: jwt.encode(claims(stack, aud="anon"), key, "ES256", {"kid": kid}),
        "wrong_issuer": lambda: jwt.encode(
            claims(stack, iss="https://evil.example/auth/v1"), key, "ES256", {"kid": kid}
        ),
        "foreign_key": lambda: jwt.encode(
            claims(stack), ec.generate_private_key(ec.SECP256R1()), "ES256", {"kid": kid}
        ),
        "alg_none": lambda: jwt.encode(claims(stack), None, algorithm="none"),
        "hs256_without_secret": lambda: jwt.encode(claims(stack), "guessable-secret-guessable-secret", "HS256"),
        "no_role": lambda: jwt.encode(claims(stack, app_metadata={}), key, "ES256", {"kid": kid}),
        "no_tenant": lambda: jwt.encode(claims(stack, app_metadata={"role": "staff"}), key, "ES256", {"kid": kid}),
        "garbage": lambda: "not.a.jwt",
    }
    response = api.request("GET", path, tokens[case]())
    assert response.status_code == 401, response.text
    assert response.json()["success"] is False
