"""Signing in, accepting an invitation, resetting a password by email, and who a signed-in user is.

Sign-in, invitations and resets are limited per account and per client address (`limits`); a refused
sign-in says the same ("invalid email or password", 401) for a wrong password, an unknown email and a
disabled login, no sooner than `signin_failure_floor_s` after it began. Invitations and reset links are
our own records (`invitations`); Supabase Auth makes the login when an invitation is accepted.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal, cast

from pydantic import BaseModel, ConfigDict, EmailStr, StringConstraints
from typing_extensions import TypedDict

from mla_core import mail
from mla_core.adapters import Services
from mla_core.core.errors import AppError, AuthenticationError, ConflictError, PermissionDeniedError
from mla_core.core.principal import Caller, OfficeUser, Principal, Role, principal_from_claims
from mla_core.db import Conn
from mla_core.identity import invitations, limits
from mla_core.live import connections
from mla_core.tenants.registry import TenantStatus

if TYPE_CHECKING:
    from mla_core.adapters.supabase_auth import AuthSession

logger = logging.getLogger(__name__)

# The password rule, written here only: the API's models below, the pages' password fields and the
# sentence that states it (`web.i18n` "password_rule") read these. Supabase Auth alone would take 6;
# 72 is as much as its bcrypt hash reads.
PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH = 10, 72
Password = Annotated[str, StringConstraints(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)]
# The token of a link we emailed (43 characters; an older or hand-copied one may differ).
LinkToken = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=200)]


class InvitationError(AppError):
    status_code = 400
    code = "invalid_invitation"


class ResetLinkError(AppError):
    status_code = 400
    code = "invalid_reset_link"


def _invalid_invitation() -> InvitationError:
    return InvitationError(
        "the invitation is invalid, expired or already used",
        details=[{"field": "token", "reason": "invalid_invitation"}],
    )


class SpentInvitationError(InvitationError):
    """An invitation we issued that no longer opens: accepted already (`used`: sign in) or past its
    time (`expired`: ask the office for a new one)."""

    def __init__(self, link: invitations.Link) -> None:
        self.state, self.expires_at = link.state, link.expires_at
        english = {
            "used": "this invitation has already been accepted: sign in with its email",
            "expired": "this invitation has expired: ask the office for a new one",
        }
        reason = f"invitation_{link.state}"
        super().__init__(english.get(link.state, ""), details=[{"field": "token", "reason": reason}])


def _refusal(conn: Conn, token: str) -> InvitationError:
    """Why the invitation `token` does not open: spent (and how), or not one we know."""
    link = invitations.look_up(conn, token, "invite")
    return SpentInvitationError(link) if link is not None and link.state != "open" else _invalid_invitation()


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    password: Annotated[str, StringConstraints(min_length=1, max_length=72)]


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: LinkToken
    password: Password
    full_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)] | None = None


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class RenewalRequest(BaseModel):
    """An expired invitation's link, which asks its office for a new one."""

    model_config = ConfigDict(extra="forbid")
    token: LinkToken


class RecoverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr


class ResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: LinkToken
    password: Password


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


class InvitationView(BaseModel):
    """Whom an invitation is for, as the invitation page shows it before it is accepted."""

    email: str
    role: Role
    full_name: str | None
    mla_name: str | None
    constituency: str | None
    expires_at: datetime


class RecoverySent(TypedDict):
    """The same answer whether or not the email has a login."""

    sent: Literal[True]


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


def login(services: Services, request: LoginRequest, *, client: str) -> SessionView:
    """Sign in from the client address `client`; a failure counts for the account and the address."""
    email = str(request.email)
    with (
        limits.no_sooner_than(services.settings.signin_failure_floor_s),
        limits.counted(services, [limits.account(email), limits.address(client)]),
    ):
        return _session_view(services.auth.sign_in(email, request.password))


def refresh(services: Services, request: RefreshRequest, *, client: str) -> SessionView:
    """A new session for a refresh token; a refused token counts as a guess from `client`."""
    with limits.counted(services, [limits.links(client)]):
        return _session_view(services.auth.refresh(request.refresh_token))


def invitation(services: Services, token: str, *, client: str) -> InvitationView:
    """Whom the invitation `token` is for, without using it; an unknown token counts as a guess."""
    with limits.counted(services, [limits.links(client)], failures=(InvitationError,)):
        with services.db.transaction() as conn:
            link = invitations.find(conn, token[:200], "invite")
            if link is None:
                raise _refusal(conn, token[:200])
        return InvitationView(
            email=link.email,
            role=cast("Role", link.role),
            full_name=link.full_name,
            mla_name=link.mla_name,
            constituency=link.constituency,
            expires_at=link.expires_at,
        )


def register(services: Services, request: RegisterRequest, *, client: str) -> SessionView:
    """Accept an invitation: its link proves the email; the Supabase Auth login is made now, with the
    password the person chose, and the link is used in the same transaction (it works once)."""
    with (
        limits.counted(services, [limits.links(client)], failures=(InvitationError,)),
        services.db.transaction() as conn,
    ):
        link = invitations.find(conn, request.token, "invite", lock=True)
        if link is None:
            raise _refusal(conn, request.token)
        full_name = request.full_name or link.full_name
        _make_login(services, link, request.password, full_name)
        invitations.use(conn, request.token)
        conn.execute(
            "UPDATE platform.users SET full_name = %s, login_created_at = coalesce(login_created_at, now()),"
            " updated_at = now() WHERE user_id = %s",
            (full_name, link.user_id),
        )
    return _session_view(services.auth.sign_in(link.email, request.password))


class RenewalAsked(TypedDict):
    """The same answer whether or not the office's admins were emailed just now (one a day is)."""

    asked: Literal[True]


_ADMINS = """
SELECT u.email FROM platform.users u
 WHERE u.tenant_id = %s AND u.role = 'mla_admin' AND NOT u.disabled AND u.login_created_at IS NOT NULL
"""
_OFFICE_LANGUAGE = "SELECT languages[1] AS language FROM platform.tenants WHERE tenant_id = %s"


def ask_for_invitation(services: Services, request: RenewalRequest, *, client: str) -> RenewalAsked:
    """The person an expired invitation was for asks their office for a new one: the office's admins
    are emailed (English and the office's first language) with the Team page, where they send it
    again. Only an expired link of ours asks; an unknown one counts as a guess from `client`."""
    with (
        limits.counted(services, [limits.links(client)], failures=(InvitationError,)),
        services.db.transaction() as conn,
    ):
        link = invitations.look_up(conn, request.token, "invite")
        if link is not None and link.state == "used":
            raise SpentInvitationError(link)
        if link is None or link.state != "expired" or link.tenant_id is None:
            raise _invalid_invitation()
        admins = [row["email"] for row in conn.execute(_ADMINS, (link.tenant_id,)).fetchall()]
        office = conn.execute(_OFFICE_LANGUAGE, (link.tenant_id,)).fetchone()
    if admins and limits.once(services, limits.renewal(link.user_id), window_s=24 * 3600):
        email = renewal_request(link, services.settings.dashboard_url, office["language"] if office else "en")
        for admin in admins:
            mail.send(services, admin, email)
    return {"asked": True}


_RENEWAL: dict[str, mail.Section] = {
    "en": mail.Section(
        paragraphs=(
            "{email} was invited to the grievance dashboard of {mla_name} ({constituency}), but the "
            "invitation expired before it was accepted. They ask for a new one.",
        ),
        action="Send it again from the Team page:",
        button="Open the Team page",
    ),
    "hi": mail.Section(
        paragraphs=(
            "{email} को {mla_name} ({constituency}) के शिकायत डैशबोर्ड में आमंत्रित किया गया था, लेकिन "
            "निमंत्रण स्वीकार होने से पहले समाप्त हो गया। वे नया निमंत्रण मांग रहे हैं।",
        ),
        action="टीम पेज से इसे फिर से भेजें:",
        button="टीम पेज खोलें",
    ),
    "ta": mail.Section(
        paragraphs=(
            "{email} {mla_name} ({constituency}) அவர்களின் புகார் டாஷ்போர்டுக்கு அழைக்கப்பட்டார், ஆனால் "
            "அழைப்பு ஏற்கப்படும் முன்பே காலாவதியானது. அவர் புதிய அழைப்பைக் கேட்கிறார்.",
        ),
        action="குழு பக்கத்திலிருந்து மீண்டும் அனுப்பவும்:",
        button="குழு பக்கத்தைத் திற",
    ),
}
_RENEWAL_SUBJECTS = {
    "en": "{email} asks for a new invitation",
    "hi": "{email} नया निमंत्रण मांग रहे हैं",
    "ta": "{email} புதிய அழைப்பைக் கேட்கிறார்",
}


def renewal_request(link: invitations.Link, dashboard_url: str, language: str) -> mail.Email:
    """The email that tells an office's admins an invited person asks for a new invitation."""
    languages = mail.languages_for(language, _RENEWAL)
    values = {"email": link.email, "mla_name": link.mla_name, "constituency": link.constituency}
    subject = " / ".join(_RENEWAL_SUBJECTS[lang].format(**values) for lang in languages)
    team_page = f"{dashboard_url.rstrip('/')}/app/team"
    return mail.compose(subject, [_RENEWAL[lang].filled(**values) for lang in languages], team_page)


def _make_login(services: Services, link: invitations.Link, password: str, full_name: str | None) -> None:
    """The invited member's Supabase Auth login, with our `user_id`, their office and role. An earlier
    acceptance that made the login but did not commit left it there: it is brought up to date."""
    app_metadata = {"tenant_id": link.tenant_id, "role": link.role}
    user_metadata = {"full_name": full_name} if full_name else {}
    if not link.has_login:
        try:
            services.auth.create_user(
                link.email, password, app_metadata=app_metadata, user_metadata=user_metadata, user_id=link.user_id
            )
            return
        except ConflictError:
            if not services.auth.has_user(link.user_id):
                raise  # the address's login is someone else's
            logger.info("invited login already made: brought up to date", extra={"user_id": link.user_id})
    services.auth.update_user(
        link.user_id, {"password": password, "app_metadata": app_metadata, "user_metadata": user_metadata}
    )


def recover(services: Services, request: RecoverRequest, *, client: str) -> RecoverySent:
    """Email a password-reset link to `request.email` when it has a login that may sign in; the answer,
    and its timing, are the same when it has none. A lock from failed sign-ins does not stop it.
    Requests per address and per email are capped (past the cap nothing is sent, the answer is the same)."""
    email = str(request.email)
    with limits.no_sooner_than(services.settings.signin_failure_floor_s, always=True):
        if limits.spend(services, [limits.recovery(email), limits.recovery_from(client)]):
            _send_reset(services, email)
    return {"sent": True}


_RESETTABLE = """
SELECT u.user_id::text AS user_id, u.email, u.role FROM platform.users u
  LEFT JOIN platform.tenants t ON t.tenant_id = u.tenant_id
 WHERE lower(u.email) = lower(%s) AND NOT u.disabled AND u.login_created_at IS NOT NULL
   AND (u.tenant_id IS NULL OR t.status = 'active')
"""

_RESET_WORDS = mail.Section(
    paragraphs=(
        "Someone asked to reset the password of your MLA Voice AI login ({email}). If it was not you, "
        "ignore this email: your password stays as it is.",
    ),
    action="Choose a new password here (the link works once, for an hour):",
)


def _send_reset(services: Services, email: str) -> None:
    try:
        with services.db.transaction() as conn:
            row = conn.execute(_RESETTABLE, (email,)).fetchone()
            if row is None:
                return
            token = invitations.issue(conn, row["user_id"], "reset")
            link = invitations.reset_link(services.settings.dashboard_url, token, row["role"])
            words = _RESET_WORDS.filled(email=row["email"])
            mail.send(services, row["email"], mail.compose("Reset your MLA Voice AI password", [words], link))
    except AppError:
        # Answered as if sent: an error only an existing login can meet would tell who has one.
        logger.exception("password reset email not sent")


def reset(services: Services, request: ResetRequest, *, client: str) -> SessionView:
    """Set a new password with the link from a reset email (it works once), end the person's other
    sessions, clear the account's failed sign-ins, and sign in. A wrong or used link counts as a guess
    from `client`."""
    with (
        limits.counted(services, [limits.links(client)], failures=(ResetLinkError,)),
        services.db.transaction() as conn,
    ):
        link = _reset_link(conn, request.token)
        services.auth.update_user(link.user_id, {"password": request.password})
        invitations.use(conn, request.token)
        conn.execute(  # every session begun before the new password ends (`signed_in`)
            "UPDATE platform.users SET sessions_valid_after = date_trunc('second', now()) WHERE user_id = %s",
            (link.user_id,),
        )
    limits.clear_account(services, link.email)
    return _session_view(services.auth.sign_in(link.email, request.password))


def _reset_link(conn: Conn, token: str) -> invitations.Link:
    link = invitations.find(conn, token, "reset", lock=True)
    if link is None or not link.has_login:
        raise ResetLinkError(
            "the reset link is invalid, expired or already used; ask for a new one",
            details=[{"field": "token", "reason": "invalid_reset_link"}],
        )
    return link


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
    connections.close_user(services, who.user_id)  # the pages' live updates too
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
       extract(epoch FROM u.sessions_valid_after) AS valid_after,
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
    if row is not None and row["valid_after"] is not None and (caller.issued_at or 0) < row["valid_after"]:
        raise AuthenticationError("the password was changed since this session began; sign in again")
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
