"""An MLA office's team: inviting staff and admins, changing roles, disabling logins.

Supabase Auth holds the credentials and the role (in `app_metadata`, which only the service role
writes); `platform.users` is our index of who belongs to which office.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Annotated, cast

from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, EmailStr, StringConstraints
from typing_extensions import TypedDict

from mla_core import mail
from mla_core.adapters import Services
from mla_core.core.errors import ConflictError, NotFoundError
from mla_core.core.principal import OfficeRole, OfficeUser
from mla_core.db import Conn
from mla_core.identity import invitations
from mla_core.live import connections
from mla_core.tenants import registry


class Invite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    role: OfficeRole = "staff"
    full_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)] | None = None


class MemberChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: OfficeRole | None = None
    disabled: bool | None = None


class Member(TypedDict):
    """A member of the office's team (a row of `platform.users`)."""

    id: str
    email: str
    role: OfficeRole
    full_name: str | None
    disabled: bool
    invited: bool  # invited, not yet accepted: no login yet
    # For an invited member, when their invitation link was last sent and when it stops working (it
    # may have already: the team page then says so, and the link can be sent again).
    invited_at: datetime | None
    invitation_expires_at: datetime | None
    invitation_expired: bool  # invited, and the last link sent no longer works (or none is left)
    created_at: datetime
    updated_at: datetime


_MEMBER = (
    "SELECT u.user_id::text AS id, u.email, u.role, u.full_name, u.disabled, u.login_created_at IS NULL AS invited,"
    " l.created_at AS invited_at, l.expires_at AS invitation_expires_at,"
    " u.login_created_at IS NULL AND coalesce(l.expires_at <= now(), true) AS invitation_expired,"
    " u.created_at, u.updated_at"
    " FROM platform.users u LEFT JOIN LATERAL ("
    "   SELECT created_at, expires_at FROM platform.sign_in_links"
    "    WHERE user_id = u.user_id AND purpose = 'invite' AND used_at IS NULL AND u.login_created_at IS NULL"
    "    ORDER BY created_at DESC LIMIT 1) l ON true"
    " WHERE u.tenant_id = %s"
)


def members(services: Services, who: OfficeUser) -> list[Member]:
    with services.db.transaction() as conn:
        return cast("list[Member]", conn.execute(_MEMBER + " ORDER BY u.created_at", (who.tenant_id,)).fetchall())


def member(services: Services, who: OfficeUser, user_id: str) -> Member:
    """One member of the caller's office (another office's id is not found)."""
    with services.db.transaction() as conn:
        return _member(conn, who.tenant_id, user_id)


def _member(conn: Conn, tenant_id: str, user_id: str, *, lock: bool = False) -> Member:
    try:
        uuid.UUID(user_id)
    except ValueError:
        raise NotFoundError("user not found") from None
    row = conn.execute(
        _MEMBER + " AND u.user_id = %s" + (" FOR UPDATE OF u" if lock else ""), (tenant_id, user_id)
    ).fetchone()
    if row is None:
        raise NotFoundError("user not found")
    return cast("Member", row)


def invite(services: Services, who: OfficeUser, request: Invite, *, idempotency_key: str | None = None) -> Member:
    """Add the member (invited: no login yet) and email them the invitation link, accepted by
    /auth/register, in one transaction: when the email cannot be sent, nothing is left behind.
    The same `idempotency_key` from the same admin for the same email (a form sent twice, a retry)
    answers with the member the first one added, and sends no second email."""
    email, user_id = str(request.email), str(uuid.uuid4())
    scope, email_hash = f"team-invite:{who.tenant_id}:{who.user_id}", hashlib.sha256(email.lower().encode()).hexdigest()
    with services.db.transaction() as conn:
        if idempotency_key:
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{scope}\n{idempotency_key}",))
            first = conn.execute(
                "SELECT response->>'user_id' AS user_id FROM platform.idempotency_keys"
                " WHERE scope = %s AND key = %s AND request_hash = %s",
                (scope, idempotency_key, email_hash),
            ).fetchone()
            if first is not None:
                return _member(conn, who.tenant_id, first["user_id"])
        if registry.login_for_email(conn, email):
            raise _taken(email)
        added = conn.execute(
            "INSERT INTO platform.users (user_id, tenant_id, email, role, full_name, login_created_at)"
            " VALUES (%s, %s, %s, %s, %s, NULL) ON CONFLICT DO NOTHING RETURNING user_id",
            (user_id, who.tenant_id, email, request.role, request.full_name),
        ).fetchone()
        if added is None:  # another invitation of the same address got there first
            raise _taken(email)
        if idempotency_key:
            conn.execute(
                "INSERT INTO platform.idempotency_keys (scope, key, request_hash, status_code, response)"
                " VALUES (%s, %s, %s, 201, %s) ON CONFLICT DO NOTHING",
                (scope, idempotency_key, email_hash, Jsonb({"user_id": user_id})),
            )
        _send_invitation(services, conn, who, _member(conn, who.tenant_id, user_id))
        return _member(conn, who.tenant_id, user_id)


def resend(services: Services, who: OfficeUser, user_id: str) -> Member:
    """Email an invited member a new invitation link; the link sent before stops working."""
    with services.db.transaction() as conn:
        member = _member(conn, who.tenant_id, user_id, lock=True)
        if not member["invited"]:
            raise ConflictError(
                "this member has already accepted the invitation",
                details=[{"field": "user_id", "reason": "already_accepted"}],
            )
        if member["disabled"]:
            raise ConflictError(
                "this member is disabled: enable them first", details=[{"field": "user_id", "reason": "disabled"}]
            )
        _send_invitation(services, conn, who, member)
        return _member(conn, who.tenant_id, user_id)


_INVITATION: dict[str, mail.Section] = {
    "en": mail.Section(
        paragraphs=(
            "{inviter} invited you to work on constituents' complaints for {mla_name} ({constituency}) as {role}.",
        ),
        action="Or open this link (it works once, for 7 days):",
        button="Set your password and sign in",
    ),
    "hi": mail.Section(
        paragraphs=(
            "{inviter} ने आपको {mla_name} ({constituency}) के कार्यालय में नागरिकों की शिकायतों पर {role} के रूप में"
            " काम करने के लिए आमंत्रित किया है।",
        ),
        action="या यह लिंक खोलें (यह 7 दिनों तक, केवल एक बार काम करता है):",
        button="पासवर्ड बनाएं और साइन इन करें",
    ),
    "ta": mail.Section(
        paragraphs=(
            "{inviter} உங்களை {mla_name} ({constituency}) அலுவலகத்தில் பொதுமக்களின் புகார்களில் {role} ஆகப் பணியாற்ற அழைத்துள்ளார்.",
        ),
        action="அல்லது இந்த இணைப்பைத் திறக்கவும் (இது 7 நாட்களுக்கு, ஒருமுறை மட்டுமே செயல்படும்):",
        button="கடவுச்சொல்லை அமைத்து உள்நுழைக",
    ),
}
_ROLES: dict[str, dict[str, str]] = {
    "en": {"staff": "staff", "mla_admin": "an admin"},
    "hi": {"staff": "स्टाफ़", "mla_admin": "एडमिन"},
    "ta": {"staff": "பணியாளர்", "mla_admin": "நிர்வாகி"},
}
_SUBJECTS = {
    "en": "You are invited to the grievance dashboard of {constituency}",
    "hi": "{constituency} के शिकायत डैशबोर्ड का निमंत्रण",
    "ta": "{constituency} புகார் டாஷ்போர்டுக்கு அழைப்பு",
}


def invitation_email(
    *, inviter: str, role: str, mla_name: str, constituency: str, language: str, link: str
) -> mail.Email:
    """A teammate's invitation: English first, then the office's first language (as its welcome email)."""
    languages = mail.languages_for(language, _INVITATION)
    values = {"inviter": inviter, "mla_name": mla_name, "constituency": constituency}
    sections = [_INVITATION[lang].filled(**values, role=_ROLES[lang][role]) for lang in languages]
    subject = " / ".join(_SUBJECTS[lang].format(constituency=constituency) for lang in languages)
    return mail.compose(subject, sections, link)


def _send_invitation(services: Services, conn: Conn, who: OfficeUser, member: Member) -> None:
    """A new invitation link for `member` (voiding any before it), emailed to them."""
    tenant = conn.execute(
        "SELECT mla_name, constituency, languages[1] AS language FROM platform.tenants WHERE tenant_id = %s",
        (who.tenant_id,),
    ).fetchone()
    assert tenant is not None  # the caller's own office
    token = invitations.issue(conn, member["id"], "invite")
    link = invitations.invitation_link(services.settings.dashboard_url, token)
    email = invitation_email(inviter=who.email, role=member["role"], link=link, **tenant)
    mail.send(services, member["email"], email)


def _taken(email: str) -> ConflictError:
    return ConflictError(
        f"{email} already has a login", details=[{"field": "email", "reason": "already_taken", "value": email}]
    )


def change(services: Services, who: OfficeUser, user_id: str, request: MemberChange) -> Member:
    """Change a member's role or disable/enable them; the office always keeps an active admin."""
    with services.db.transaction() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 1))", (who.tenant_id,))
        member = _member(conn, who.tenant_id, user_id, lock=True)
        role = request.role or member["role"]
        disabled = member["disabled"] if request.disabled is None else request.disabled
        if member["role"] == "mla_admin" and not member["disabled"] and (role != "mla_admin" or disabled):
            admins = conn.execute(
                "SELECT count(*) AS n FROM platform.users WHERE tenant_id = %s AND role = 'mla_admin' AND NOT disabled",
                (who.tenant_id,),
            ).fetchone()
            if admins is not None and admins["n"] <= 1:
                raise ConflictError(
                    "the office must keep at least one active admin",
                    details=[{"field": "role" if request.role else "disabled", "reason": "last_admin"}],
                )
        # An invited member has no login yet: it is made with the row's role when they accept.
        if role != member["role"] and not member["invited"]:
            services.auth.update_user(user_id, {"app_metadata": {"tenant_id": who.tenant_id, "role": role}})
        if disabled != member["disabled"] and not member["invited"]:
            services.auth.set_disabled(user_id, disabled)
        conn.execute(
            "UPDATE platform.users SET role = %s, disabled = %s, updated_at = now() WHERE user_id = %s",
            (role, disabled, user_id),
        )
        changed = _member(conn, who.tenant_id, user_id)
    if disabled and not member["disabled"]:
        connections.close_user(services, user_id)  # their open pages stop hearing the office
    return changed
