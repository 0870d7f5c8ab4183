"""The Supabase Auth stand-in, driven through the real `supabase` / `supabase_auth` clients over HTTP."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from supabase import Client, ClientOptions, create_client
from supabase_auth import SyncGoTrueAdminAPI
from supabase_auth.errors import AuthApiError, AuthRetryableError, AuthWeakPasswordError

from local_stack.serve import ServedApp, serve_in_thread
from local_stack.supabase_auth_standin import create_app

SERVICE_KEY = "service-role-key-for-tests"
ANON_KEY = "anon-key-for-tests"
PASSWORD = "correct horse battery"
WELCOME = "http://dashboard.test/welcome"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(state_path: Path, port: int) -> ServedApp:
    app = create_app(
        url=f"http://127.0.0.1:{port}", service_role_key=SERVICE_KEY, anon_key=ANON_KEY, state_path=state_path
    )
    return serve_in_thread(app, port=port)


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "supabase-auth.json"


@pytest.fixture
def auth(state_path: Path) -> Iterator[ServedApp]:
    # The issuer names the URL the stand-in answers on, so the port is chosen first.
    with serve(state_path, free_port()) as served:
        yield served


@pytest.fixture
def admin(auth: ServedApp) -> SyncGoTrueAdminAPI:
    return create_client(auth.url, SERVICE_KEY).auth.admin


@pytest.fixture
def client(auth: ServedApp) -> Callable[[], Client]:
    """A fresh end-user client each call, as one browser or device would hold."""
    return lambda: create_client(auth.url, ANON_KEY, ClientOptions(auto_refresh_token=False))


@pytest.fixture
def alice(admin: SyncGoTrueAdminAPI) -> str:
    """A confirmed user with a password; returns the user id."""
    created = admin.create_user({"email": "alice@example.in", "password": PASSWORD, "email_confirm": True})
    return created.user.id


def sign_in(client: Callable[[], Client], password: str = PASSWORD) -> Any:
    session = client().auth.sign_in_with_password({"email": "alice@example.in", "password": password}).session
    assert session is not None
    return session


def unverified_claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def wire(auth: ServedApp, method: str, path: str, *, key: str | None = SERVICE_KEY, **kwargs: Any) -> httpx.Response:
    headers = {"apikey": ANON_KEY, **({"Authorization": f"Bearer {key}"} if key else {}), **kwargs.pop("headers", {})}
    return httpx.request(method, f"{auth.url}/auth/v1{path}", headers=headers, **kwargs)


# Admin API


def test_an_admin_creates_a_user_with_metadata_and_lists_it(admin: SyncGoTrueAdminAPI) -> None:
    created = admin.create_user(
        {
            "email": "Office@Example.in",
            "password": PASSWORD,
            "email_confirm": True,
            "app_metadata": {"tenant": "t1", "role": "mla_admin"},
            "user_metadata": {"name": "Selvi"},
        }
    ).user

    assert admin.list_users() == [created]
    assert created.email == "office@example.in"
    assert created.app_metadata == {"provider": "email", "providers": ["email"], "tenant": "t1", "role": "mla_admin"}
    assert created.user_metadata == {"name": "Selvi"}
    assert created.email_confirmed_at is not None


def test_an_admin_creates_a_user_with_the_id_it_chose(admin: SyncGoTrueAdminAPI) -> None:
    chosen = "5b1e7c6a-2f4d-4e8a-9c3b-1a2b3c4d5e6f"

    created = admin.create_user({"id": chosen, "email": "chosen@example.in", "password": PASSWORD}).user

    assert created.id == chosen
    assert admin.get_user_by_id(chosen).user == created
    with pytest.raises(AuthApiError) as again:
        admin.create_user({"id": chosen, "email": "other@example.in", "password": PASSWORD})
    assert again.value.status == 422


def test_a_second_user_with_the_same_email_is_refused(admin: SyncGoTrueAdminAPI, alice: str) -> None:
    with pytest.raises(AuthApiError) as refused:
        admin.create_user({"email": "ALICE@example.in", "password": PASSWORD})

    assert (refused.value.status, refused.value.code) == (422, "email_exists")


def test_a_password_shorter_than_six_characters_is_weak(admin: SyncGoTrueAdminAPI) -> None:
    with pytest.raises(AuthWeakPasswordError) as weak:
        admin.create_user({"email": "short@example.in", "password": "12345"})

    assert (weak.value.status, weak.value.reasons) == (422, ["length"])


def test_users_are_listed_page_by_page_newest_first(auth: ServedApp, admin: SyncGoTrueAdminAPI) -> None:
    for n in range(3):
        admin.create_user({"email": f"user{n}@example.in"})
        time.sleep(0.002)  # distinct created_at, so the order is defined

    first = admin.list_users(page=1, per_page=2)
    second = admin.list_users(page=2, per_page=2)
    bad = wire(auth, "GET", "/admin/users", params={"page": 0})

    assert [u.email for u in first] == ["user2@example.in", "user1@example.in"]
    assert [u.email for u in second] == ["user0@example.in"]
    assert (bad.status_code, bad.json()["message"]) == (400, "Bad Pagination Parameters")


def test_an_admin_update_merges_metadata_and_a_new_password_ends_every_session(
    admin: SyncGoTrueAdminAPI, client: Callable[[], Client], alice: str
) -> None:
    admin.update_user_by_id(alice, {"app_metadata": {"tenant": "t1", "role": "staff"}, "user_metadata": {"a": 1}})
    before = sign_in(client)

    updated = admin.update_user_by_id(
        alice, {"app_metadata": {"role": None, "scope": "x"}, "user_metadata": {"b": 2}, "password": "new password"}
    ).user

    assert updated.app_metadata == {"provider": "email", "providers": ["email"], "tenant": "t1", "scope": "x"}
    assert updated.user_metadata == {"a": 1, "b": 2}
    with pytest.raises(AuthApiError) as ended:
        client().auth.refresh_session(before.refresh_token)
    assert (ended.value.status, ended.value.code) == (400, "refresh_token_not_found")
    with pytest.raises(AuthApiError):
        sign_in(client)
    assert sign_in(client, "new password").user.id == alice


def test_a_banned_user_cannot_sign_in_until_unbanned(
    admin: SyncGoTrueAdminAPI, client: Callable[[], Client], alice: str
) -> None:
    banned = admin.update_user_by_id(alice, {"ban_duration": "876000h"}).user
    with pytest.raises(AuthApiError) as refused:
        sign_in(client)
    unbanned = admin.update_user_by_id(alice, {"ban_duration": "none"}).user

    assert banned.banned_until is not None
    banned_for = datetime.fromisoformat(banned.banned_until) - datetime.now(UTC)
    assert abs(banned_for - timedelta(hours=876000)) < timedelta(minutes=1)
    assert (refused.value.status, refused.value.code, refused.value.message) == (400, "user_banned", "User is banned")
    assert unbanned.banned_until is None
    assert sign_in(client)


def test_deleting_a_user_removes_them_and_their_sessions(
    admin: SyncGoTrueAdminAPI, client: Callable[[], Client], alice: str
) -> None:
    session = sign_in(client)

    admin.delete_user(alice)

    assert admin.list_users() == []
    with pytest.raises(AuthApiError) as gone:
        client().auth.refresh_session(session.refresh_token)
    assert gone.value.code == "refresh_token_not_found"
    with pytest.raises(AuthApiError) as missing:
        admin.delete_user(alice)
    assert (missing.value.status, missing.value.code) == (404, "user_not_found")


def test_admin_endpoints_want_the_service_role_key_behind_a_valid_api_key(auth: ServedApp) -> None:
    as_anon = wire(auth, "GET", "/admin/users", key=ANON_KEY)
    without_bearer = wire(auth, "GET", "/admin/users", key=None)
    without_api_key = httpx.get(f"{auth.url}/auth/v1/admin/users", headers={"Authorization": f"Bearer {SERVICE_KEY}"})
    wrong_api_key = wire(auth, "GET", "/admin/users", headers={"apikey": "nope"})
    anon_admin = create_client(auth.url, ANON_KEY).auth.admin

    assert (as_anon.status_code, as_anon.json()["code"]) == (403, "not_admin")
    assert (without_bearer.status_code, without_bearer.json()["code"]) == (401, "no_authorization")
    assert (without_api_key.status_code, without_api_key.json()) == (401, {"message": "No API key found in request"})
    assert (wrong_api_key.status_code, wrong_api_key.json()) == (401, {"message": "Invalid API key"})
    with pytest.raises(AuthApiError) as refused:
        anon_admin.list_users()
    assert (refused.value.status, refused.value.code, refused.value.message) == (403, "not_admin", "User not allowed")


def test_what_the_product_does_not_send_is_refused_as_not_modelled(
    admin: SyncGoTrueAdminAPI, client: Callable[[], Client], alice: str
) -> None:
    session = sign_in(client)
    calls: dict[str, Callable[[], object]] = {
        "email change": lambda: admin.update_user_by_id(alice, {"email": "new@example.in"}),
        "go duration": lambda: admin.update_user_by_id(alice, {"ban_duration": "1h30m"}),
        "recovery link": lambda: admin.generate_link({"type": "recovery", "email": "alice@example.in"}),
        "email otp": lambda: client().auth.verify_otp({"type": "email", "email": "alice@example.in", "token": "1"}),
        "global logout": lambda: admin.sign_out(session.access_token),
        "soft delete": lambda: admin.delete_user(alice, should_soft_delete=True),
    }
    for name, call in calls.items():
        with pytest.raises(AuthApiError) as refused:
            call()
        assert (refused.value.status, refused.value.code) == (400, "validation_failed"), name
        assert "not modelled" in refused.value.message, name


# Sign-in and tokens


def test_password_sign_in_issues_an_es256_token_with_supabase_claims(
    auth: ServedApp, client: Callable[[], Client], admin: SyncGoTrueAdminAPI, alice: str
) -> None:
    admin.update_user_by_id(alice, {"app_metadata": {"tenant": "t1"}, "user_metadata": {"name": "Alice"}})
    user_client = client()
    session = user_client.auth.sign_in_with_password({"email": "alice@example.in", "password": PASSWORD}).session
    assert session is not None

    signing_key = jwt.PyJWKClient(f"{auth.url}/auth/v1/.well-known/jwks.json").get_signing_key_from_jwt(
        session.access_token
    )
    claims = jwt.decode(
        session.access_token,
        signing_key.key,
        algorithms=["ES256"],
        audience="authenticated",
        issuer=f"{auth.url}/auth/v1",
    )
    header = jwt.get_unverified_header(session.access_token)

    assert header["alg"] == "ES256" and header["kid"] == signing_key.key_id
    assert claims["sub"] == alice
    assert claims["exp"] == claims["iat"] + 3600 == session.expires_at
    assert (claims["email"], claims["phone"], claims["role"], claims["aal"]) == (
        "alice@example.in",
        "",
        "authenticated",
        "aal1",
    )
    assert claims["app_metadata"] == {"provider": "email", "providers": ["email"], "tenant": "t1"}
    assert claims["user_metadata"] == {"name": "Alice"}
    assert [entry["method"] for entry in claims["amr"]] == ["password"]
    assert claims["is_anonymous"] is False
    assert claims["session_id"]
    assert (session.token_type, session.expires_in) == ("bearer", 3600)
    assert user_client.auth.get_claims() is not None  # the client verifies the signature against the JWKS


def test_a_wrong_password_or_unknown_email_is_invalid_credentials(client: Callable[[], Client], alice: str) -> None:
    for email, password in [("alice@example.in", "wrong password"), ("nobody@example.in", PASSWORD)]:
        with pytest.raises(AuthApiError) as refused:
            client().auth.sign_in_with_password({"email": email, "password": password})
        assert (refused.value.status, refused.value.code, refused.value.message) == (
            400,
            "invalid_credentials",
            "Invalid login credentials",
        )


def test_an_unconfirmed_email_cannot_sign_in(admin: SyncGoTrueAdminAPI, client: Callable[[], Client]) -> None:
    admin.create_user({"email": "pending@example.in", "password": PASSWORD})

    with pytest.raises(AuthApiError) as refused:
        client().auth.sign_in_with_password({"email": "pending@example.in", "password": PASSWORD})

    assert (refused.value.status, refused.value.code) == (400, "email_not_confirmed")


def test_refresh_tokens_rotate_and_reusing_a_spent_one_ends_the_session(
    client: Callable[[], Client], alice: str
) -> None:
    first = sign_in(client)

    second = client().auth.refresh_session(first.refresh_token).session
    assert second is not None
    with pytest.raises(AuthApiError) as reused:
        client().auth.refresh_session(first.refresh_token)
    with pytest.raises(AuthApiError) as family_revoked:
        client().auth.refresh_session(second.refresh_token)

    assert second.refresh_token != first.refresh_token
    assert unverified_claims(second.access_token)["session_id"] == unverified_claims(first.access_token)["session_id"]
    assert (reused.value.status, reused.value.code) == (400, "refresh_token_already_used")
    assert (family_revoked.value.status, family_revoked.value.code) == (400, "refresh_token_not_found")


def test_a_local_logout_ends_only_that_session(
    admin: SyncGoTrueAdminAPI, client: Callable[[], Client], alice: str
) -> None:
    session = sign_in(client)
    other_device = sign_in(client)

    admin.sign_out(session.access_token, "local")

    with pytest.raises(AuthApiError) as refresh:
        client().auth.refresh_session(session.refresh_token)
    with pytest.raises(AuthApiError) as again:
        admin.sign_out(session.access_token, "local")
    assert refresh.value.code == "refresh_token_not_found"
    assert (again.value.status, again.value.code) == (403, "session_not_found")
    assert client().auth.refresh_session(other_device.refresh_token).session is not None


# Invitations


def test_an_invite_link_verifies_once_into_a_session_for_a_new_confirmed_user(
    admin: SyncGoTrueAdminAPI, client: Callable[[], Client], auth: ServedApp
) -> None:
    link = admin.generate_link(
        {
            "type": "invite",
            "email": "new.admin@example.in",
            "options": {"data": {"name": "New"}, "redirect_to": WELCOME},
        }
    )
    verified = client().auth.verify_otp({"type": "invite", "token_hash": link.properties.hashed_token})
    with pytest.raises(AuthApiError) as reused:
        client().auth.verify_otp({"type": "invite", "token_hash": link.properties.hashed_token})
    admin.update_user_by_id(link.user.id, {"password": PASSWORD})
    signed_in = client().auth.sign_in_with_password({"email": "new.admin@example.in", "password": PASSWORD})

    assert link.user.email == "new.admin@example.in"
    assert link.user.email_confirmed_at is None
    assert link.user.user_metadata == {"name": "New"}
    assert (link.properties.verification_type, link.properties.redirect_to) == ("invite", WELCOME)
    assert link.properties.action_link.startswith(f"{auth.url}/auth/v1/verify?token={link.properties.hashed_token}")
    assert verified.session is not None and verified.user is not None
    assert verified.user.id == link.user.id and verified.user.email_confirmed_at is not None
    assert [entry["method"] for entry in unverified_claims(verified.session.access_token)["amr"]] == ["otp"]
    assert (reused.value.status, reused.value.code, reused.value.message) == (
        403,
        "otp_expired",
        "Email link is invalid or has expired",
    )
    assert signed_in.user is not None and signed_in.user.id == link.user.id


def test_inviting_an_already_confirmed_user_is_refused(admin: SyncGoTrueAdminAPI, alice: str) -> None:
    with pytest.raises(AuthApiError) as refused:
        admin.generate_link({"type": "invite", "email": "alice@example.in"})

    assert (refused.value.status, refused.value.code) == (422, "email_exists")


def test_inviting_again_voids_the_previous_link(admin: SyncGoTrueAdminAPI, client: Callable[[], Client]) -> None:
    old = admin.generate_link({"type": "invite", "email": "staff@example.in"})
    new = admin.generate_link({"type": "invite", "email": "staff@example.in"})

    with pytest.raises(AuthApiError) as voided:
        client().auth.verify_otp({"type": "invite", "token_hash": old.properties.hashed_token})

    assert new.user.id == old.user.id
    assert voided.value.code == "otp_expired"
    assert client().auth.verify_otp({"type": "invite", "token_hash": new.properties.hashed_token}).session


# Persistence, faults, wire shapes


def test_users_sessions_and_the_signing_key_survive_a_restart(state_path: Path) -> None:
    port = free_port()
    with serve(state_path, port) as first:
        create_client(first.url, SERVICE_KEY).auth.admin.create_user(
            {"email": "alice@example.in", "password": PASSWORD, "email_confirm": True}
        )
        session = (
            create_client(first.url, ANON_KEY)
            .auth.sign_in_with_password({"email": "alice@example.in", "password": PASSWORD})
            .session
        )
        jwks_before = httpx.get(f"{first.url}/auth/v1/.well-known/jwks.json").json()
    assert session is not None

    with serve(state_path, port) as second:
        jwks_after = httpx.get(f"{second.url}/auth/v1/.well-known/jwks.json").json()
        refreshed = create_client(second.url, ANON_KEY).auth.refresh_session(session.refresh_token).session
        create_client(second.url, SERVICE_KEY).auth.admin.sign_out(session.access_token, "local")

    assert jwks_after == jwks_before
    assert refreshed is not None and refreshed.user.email == "alice@example.in"


def test_an_injected_fault_fails_the_next_call_without_changing_state(
    auth: ServedApp, admin: SyncGoTrueAdminAPI
) -> None:
    httpx.post(f"{auth.url}/_standin/faults", json={"method": "POST /auth/v1/admin/users", "status": 500})
    httpx.post(f"{auth.url}/_standin/faults", json={"method": "GET /auth/v1/admin/users", "status": 503})

    with pytest.raises(AuthApiError) as failed:
        admin.create_user({"email": "x@example.in"})
    with pytest.raises(AuthRetryableError) as unavailable:
        admin.list_users()
    created = admin.create_user({"email": "x@example.in"}).user

    assert (failed.value.status, failed.value.code) == (500, "unexpected_failure")
    assert unavailable.value.status == 503
    assert admin.list_users() == [created]


def test_errors_have_gotrue_shape_and_the_api_version_header(auth: ServedApp) -> None:
    refused = wire(auth, "POST", "/token?grant_type=password", key=ANON_KEY, json={"email": "a@b.in"})

    assert refused.json() == {"code": "invalid_credentials", "message": "Invalid login credentials"}
    assert refused.headers["X-Supabase-Api-Version"] == "2024-01-01"


def test_health_and_jwks_answer_without_an_api_key(auth: ServedApp) -> None:
    health = httpx.get(f"{auth.url}/auth/v1/health")
    jwks = httpx.get(f"{auth.url}/auth/v1/.well-known/jwks.json")

    assert health.status_code == 200
    (key,) = jwks.json()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    assert "d" not in key  # the public half only
