"""Signing in, accepting an invitation, and who a signed-in user is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, EmailStr, StringConstraints
from typing_extensions import TypedDict

from mla_core.adapters import Services
from mla_core.core.errors import AppError, AuthenticationError, PermissionDeniedError
from mla_core.core.principal import Caller, OfficeUser, Principal, Role, principal_from_claims
from mla_core.tenants.registry import TenantStatus

if TYPE_CHECKING:
    from mla_core.adapters.supabase_auth import AuthSession

# At least 10 characters, as the set-password page says (Supabase Auth alone would take 6).
Password = Annotated[str, StringConstraints(min_length=10, max_length=72)]


class InvitationError(AppError):
    status_code = 400
    code = "invalid_invitation"


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    password: Annotated[str, StringConstraints(min_length=1, max_length=72)]


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=200)]
    password: Password
    full_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)] | None = None


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class UserView(BaseModel):
    id: str
    email: str
    role: Role
    tenant_id: str | None
    full_name: str | None = None


class SessionView(BaseModel):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    user: UserView


def _principal(session: AuthSession) -> Principal:
    claims = {"sub": session.user_id, "email": session.email, "app_metadata": session.app_metadata}
    try:
        return principal_from_claims(claims)
    except AuthenticationError as exc:
        raise PermissionDeniedError("this account has no access to MLA Voice AI") from exc


def _session_view(session: AuthSession) -> SessionView:
    who = _principal(session)
    return SessionView(
        access_token=session.access_token,
        refresh_token=session.refresh_token,
        expires_in=session.expires_in,
        user=UserView(
            id=who.user_id,
            email=who.email,
            role=who.role,
            tenant_id=who.tenant_id,
            full_name=session.user_metadata.get("full_name"),
        ),
    )


def login(services: Services, request: LoginRequest) -> SessionView:
    return _session_view(services.auth.sign_in(str(request.email), request.password))


def refresh(services: Services, request: RefreshRequest) -> SessionView:
    return _session_view(services.auth.refresh(request.refresh_token))


def register(services: Services, request: RegisterRequest) -> SessionView:
    """Accept an invitation: the token proves the email, then the user sets a password."""
    try:
        invited = services.auth.accept_invite(request.token)
    except AuthenticationError as exc:
        raise InvitationError(
            "the invitation is invalid, expired or already used",
            details=[{"field": "token", "reason": "invalid_invitation"}],
        ) from exc
    who = _principal(invited)
    attributes: dict[str, Any] = {"password": request.password}
    if request.full_name:
        attributes["user_metadata"] = {**invited.user_metadata, "full_name": request.full_name}
    services.auth.update_user(who.user_id, attributes)
    if request.full_name:
        with services.db.transaction() as conn:
            conn.execute(
                "UPDATE platform.users SET full_name = %s, updated_at = now() WHERE user_id = %s",
                (request.full_name, who.user_id),
            )
    services.auth.sign_out(invited.access_token)
    return _session_view(services.auth.sign_in(who.email, request.password))


class SignedOut(TypedDict):
    signed_out: Literal[True]


def logout(services: Services, who: Caller, access_token: str) -> SignedOut:
    """End the caller's session: recorded here first, so that its access token is refused from the next
    request on (`signed_in`), then its refresh tokens revoked in Supabase Auth."""
    with services.db.transaction() as conn:
        conn.execute(
            "INSERT INTO platform.revoked_sessions (session_id, user_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (who.session_id, who.user_id),
        )
        conn.execute("DELETE FROM platform.revoked_sessions WHERE revoked_at < now() - interval '1 day'")
    services.auth.sign_out(access_token)
    return {"signed_out": True}


class Office(TypedDict):
    """The office a user belongs to, as their profile shows it."""

    tenant_id: str
    mla_name: str
    constituency: str
    state: str
    languages: list[str]
    status: TenantStatus


class Profile(UserView):
    tenant: Office | None = None
    disabled: bool = False


def profile(services: Services, who: Caller) -> Profile:
    with services.db.transaction() as conn:
        user = conn.execute("SELECT full_name FROM platform.users WHERE user_id = %s", (who.user_id,)).fetchone()
        tenant = None
        if who.tenant_id:
            tenant = conn.execute(
                "SELECT tenant_id, mla_name, constituency, state, languages, status"
                " FROM platform.tenants WHERE tenant_id = %s",
                (who.tenant_id,),
            ).fetchone()
    return Profile(
        id=who.user_id,
        email=who.email,
        role=who.role,
        tenant_id=who.tenant_id,
        full_name=user["full_name"] if user else None,
        tenant=cast("Office | None", tenant),
    )


_STANDING = """
SELECT u.role, u.disabled, u.tenant_id, t.status AS tenant_status,
       EXISTS (SELECT 1 FROM platform.revoked_sessions r WHERE r.session_id = %(session)s) AS signed_out
  FROM platform.users u LEFT JOIN platform.tenants t ON t.tenant_id = u.tenant_id
 WHERE u.user_id = %(user)s
"""


async def signed_in(services: Services, caller: Principal) -> Caller:
    """The caller of a verified token as our records have them now, in one query on the event loop: the
    role from `platform.users`, refused when the session was signed out, the login disabled or removed,
    or the office is not active. So a sign-out, a disabled login, a demotion or a deprovisioned office
    holds from the next request on, not when the token expires. A super admin comes back as a
    `Principal`, an office's member as an `OfficeUser`."""
    if not caller.session_id:
        raise AuthenticationError("token carries no session")
    async with services.db.read() as conn:
        cursor = await conn.execute(_STANDING, {"session": caller.session_id, "user": caller.user_id})
        row = await cursor.fetchone()
    if row is not None and row["signed_out"]:
        raise AuthenticationError("this session has been signed out; sign in again")
    if row is None or row["disabled"]:
        raise PermissionDeniedError("this login or its office is not active")
    if row["role"] == "super_admin":
        return Principal(caller.user_id, caller.email, "super_admin", None, caller.session_id)
    if row["tenant_id"] != caller.tenant_id or row["tenant_status"] != "active":
        raise PermissionDeniedError("this login or its office is not active")
    return OfficeUser(caller.user_id, caller.email, row["role"], row["tenant_id"], caller.session_id)


def as_office_user(who: Caller) -> OfficeUser:
    """A signed-in caller who is a member of an office; a super admin's login does not reach office data."""
    if not isinstance(who, OfficeUser):
        raise PermissionDeniedError("this action needs the role mla_admin or staff")
    return who


def as_super_admin(who: Caller) -> Principal:
    if isinstance(who, OfficeUser) or who.role != "super_admin":
        raise PermissionDeniedError("this action needs the role super_admin")
    return who
