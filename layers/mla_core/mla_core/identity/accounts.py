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


def logout(services: Services, access_token: str) -> SignedOut:
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
        user = conn.execute(
            "SELECT full_name, disabled FROM platform.users WHERE user_id = %s", (who.user_id,)
        ).fetchone()
        tenant = None
        if who.tenant_id:
            tenant = conn.execute(
                "SELECT tenant_id, mla_name, constituency, state, languages, status"
                " FROM platform.tenants WHERE tenant_id = %s",
                (who.tenant_id,),
            ).fetchone()
    if user and user["disabled"]:
        raise PermissionDeniedError("this login is disabled")
    return Profile(
        id=who.user_id,
        email=who.email,
        role=who.role,
        tenant_id=who.tenant_id,
        full_name=user["full_name"] if user else None,
        tenant=cast("Office | None", tenant),
    )


async def office_user(services: Services, caller: Principal) -> OfficeUser:
    """The caller as a member of an active office. A super admin's token does not reach office data.

    The role is read back from `platform.users` (on the event loop), so a demotion or a disabled login
    takes effect at once rather than when the token expires.
    """
    caller.require_role("mla_admin", "staff")
    async with services.db.read() as conn:
        cursor = await conn.execute(
            "SELECT t.status, u.role, u.disabled FROM platform.tenants t"
            " JOIN platform.users u ON u.user_id = %s AND u.tenant_id = t.tenant_id WHERE t.tenant_id = %s",
            (caller.user_id, caller.tenant_id),
        )
        row = await cursor.fetchone()
    if row is None or row["status"] != "active" or row["disabled"] or caller.tenant_id is None:
        raise PermissionDeniedError("this login or its office is not active")
    return OfficeUser(caller.user_id, caller.email, row["role"], caller.tenant_id, caller.session_id)
