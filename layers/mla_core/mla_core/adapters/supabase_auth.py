"""Supabase Auth (GoTrue) through the `supabase_auth` client that `supabase` is built on.

One admin client (service role) for user management, and a fresh anonymous client per call for
the user-facing flows, so that one user's session never leaks into another's request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

from supabase_auth import SyncGoTrueClient
from supabase_auth.errors import AuthApiError, AuthError, AuthRetryableError, AuthWeakPasswordError

from mla_core.core.errors import AuthenticationError, ConflictError, InvalidInputError, TransientError, VendorError

if TYPE_CHECKING:
    from supabase_auth.types import AdminUserAttributes

T = TypeVar("T")

BANNED_FOR_EVER = "876000h"  # 100 years: Supabase's way of disabling a login


@dataclass(frozen=True)
class AuthSession:
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: str
    email: str
    app_metadata: dict[str, Any]
    user_metadata: dict[str, Any]


def _translate(operation: str, exc: Exception) -> Exception:
    if isinstance(exc, AuthRetryableError) or (isinstance(exc, AuthApiError) and exc.status >= 500):
        return TransientError(f"Supabase Auth {operation}: unavailable ({type(exc).__name__})")
    if isinstance(exc, AuthWeakPasswordError):
        return InvalidInputError("password is too weak", details=[{"field": "password", "reason": "weak_password"}])
    if isinstance(exc, AuthApiError) and exc.code == "email_exists":
        return ConflictError("this email already has a login", details=[{"field": "email", "reason": "already_taken"}])
    return VendorError(f"Supabase Auth {operation}: {getattr(exc, 'code', None) or exc}")


class SupabaseAuth:
    def __init__(self, url: str, anon_key: str, service_role_key: str) -> None:
        self._auth_url = f"{url.rstrip('/')}/auth/v1"
        self._anon_key = anon_key
        self._admin = self._client(service_role_key).admin

    def _client(self, key: str) -> SyncGoTrueClient:
        return SyncGoTrueClient(
            url=self._auth_url,
            headers={"apikey": key, "Authorization": f"Bearer {key}"},
            auto_refresh_token=False,
            persist_session=False,
        )

    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except AuthError as exc:
            raise _translate(operation, exc) from exc

    # Administration (service role) ------------------------------------------------------------

    def create_user(
        self,
        email: str,
        password: str,
        *,
        app_metadata: dict[str, Any],
        user_metadata: dict[str, Any],
        user_id: str | None = None,
    ) -> str:
        """Create a confirmed user with a password (with the id `user_id` when given: GoTrue's admin API
        takes the `id` of the user it creates); returns the user id. An address that already has a
        login is a `ConflictError`."""
        attributes: AdminUserAttributes = {
            "email": email,
            "password": password,
            "email_confirm": True,
            "app_metadata": app_metadata,
            "user_metadata": user_metadata,
        }
        if user_id is not None:
            attributes["id"] = user_id
        response = self._call("create user", lambda: self._admin.create_user(attributes))
        return response.user.id

    def has_user(self, user_id: str) -> bool:
        """Whether a user with this id exists."""
        try:
            self._admin.get_user_by_id(user_id)
        except AuthApiError as exc:
            if exc.status == 404:
                return False
            raise _translate("get user", exc) from exc
        except AuthError as exc:
            raise _translate("get user", exc) from exc
        return True

    def find_user_by_email(self, email: str) -> str | None:
        page = 1
        while True:
            users = self._call("list users", partial(self._admin.list_users, page=page, per_page=1000))
            for user in users:
                if (user.email or "").lower() == email.lower():
                    return user.id
            if len(users) < 1000:
                return None
            page += 1

    def update_user(self, user_id: str, attributes: dict[str, Any]) -> None:
        self._call(
            "update user", lambda: self._admin.update_user_by_id(user_id, cast("AdminUserAttributes", attributes))
        )

    def set_disabled(self, user_id: str, disabled: bool) -> None:
        self.update_user(user_id, {"ban_duration": BANNED_FOR_EVER if disabled else "none"})

    def delete_user(self, user_id: str) -> None:
        try:
            self._admin.delete_user(user_id)
        except AuthApiError as exc:
            if exc.status != 404:
                raise _translate("delete user", exc) from exc
        except AuthError as exc:
            raise _translate("delete user", exc) from exc

    # User-facing flows -------------------------------------------------------------------------

    def _session(self, operation: str, fn: Callable[[SyncGoTrueClient], Any]) -> AuthSession:
        client = self._client(self._anon_key)
        try:
            response = fn(client)
        except AuthApiError as exc:
            if exc.status < 500:
                raise AuthenticationError(_user_message(operation, exc)) from exc
            raise _translate(operation, exc) from exc
        except AuthError as exc:
            raise _translate(operation, exc) from exc
        session = response.session
        if session is None:
            raise AuthenticationError(f"{operation} did not produce a session")
        return AuthSession(
            access_token=session.access_token,
            refresh_token=session.refresh_token,
            expires_in=session.expires_in,
            user_id=session.user.id,
            email=session.user.email or "",
            app_metadata=dict(session.user.app_metadata or {}),
            user_metadata=dict(session.user.user_metadata or {}),
        )

    def sign_in(self, email: str, password: str) -> AuthSession:
        return self._session("sign in", lambda c: c.sign_in_with_password({"email": email, "password": password}))

    def refresh(self, refresh_token: str) -> AuthSession:
        return self._session("refresh", lambda c: c.refresh_session(refresh_token))

    def sign_out(self, access_token: str) -> None:
        """Revoke the session's refresh tokens (the access token lives until it expires)."""
        try:
            self._admin.sign_out(access_token, "local")
        except AuthApiError as exc:
            if exc.status >= 500:
                raise _translate("sign out", exc) from exc
        except AuthError as exc:
            raise _translate("sign out", exc) from exc


def _user_message(operation: str, exc: AuthApiError) -> str:
    """What a refused sign-in says: the same for a wrong password, an unknown email and a disabled or
    unconfirmed login (GoTrue tells them apart: `invalid_credentials`, `user_banned`, ...)."""
    messages = {"sign in": "invalid email or password", "refresh": "refresh token is invalid or expired"}
    return messages.get(operation, str(exc))
