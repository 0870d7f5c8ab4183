"""An MLA office's team: inviting staff and admins, changing roles, disabling logins.

Supabase Auth holds the credentials and the role (in `app_metadata`, which only the service role
writes); `platform.users` is our index of who belongs to which office.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, cast

from pydantic import BaseModel, ConfigDict, EmailStr, StringConstraints
from typing_extensions import TypedDict

from mla_core import mail
from mla_core.adapters import Services
from mla_core.core.errors import ConflictError, NotFoundError
from mla_core.core.principal import OfficeRole, OfficeUser
from mla_core.db import Conn
from mla_core.identity import invitations
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
    created_at: datetime
    updated_at: datetime


_MEMBER = (
    "SELECT user_id::text AS id, email, role, full_name, disabled, login_created_at IS NULL AS invited,"
    " created_at, updated_at FROM platform.users WHERE tenant_id = %s"
)


def members(services: Services, who: OfficeUser) -> list[Member]:
    with services.db.transaction() as conn:
        return cast("list[Member]", conn.execute(_MEMBER + " ORDER BY created_at", (who.tenant_id,)).fetchall())


def _member(conn: Conn, tenant_id: str, user_id: str, *, lock: bool = False) -> Member:
    try:
        uuid.UUID(user_id)
    except ValueError:
        raise NotFoundError("user not found") from None
    row = conn.execute(_MEMBER + " AND user_id = %s" + (" FOR UPDATE" if lock else ""), (tenant_id, user_id)).fetchone()
    if row is None:
        raise NotFoundError("user not found")
    return cast("Member", row)


def invite(services: Services, who: OfficeUser, request: Invite) -> Member:
    """Add the member (invited: no login yet) and email them the invitation link, accepted by
    /auth/register, in one transaction: when the email cannot be sent, nothing is left behind."""
    email, user_id = str(request.email), str(uuid.uuid4())
    with services.db.transaction() as conn:
        if registry.login_for_email(conn, email):
            raise _taken(email)
        added = conn.execute(
            "INSERT INTO platform.users (user_id, tenant_id, email, role, full_name, login_created_at)"
            " VALUES (%s, %s, %s, %s, %s, NULL) ON CONFLICT DO NOTHING RETURNING user_id",
            (user_id, who.tenant_id, email, request.role, request.full_name),
        ).fetchone()
        if added is None:  # another invitation of the same address got there first
            raise _taken(email)
        member = _member(conn, who.tenant_id, user_id)
        _send_invitation(services, conn, who, member)
    return member


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
    return member


_INVITATION = mail.Section(
    paragraphs=(
        "{inviter} invited you to work on constituents' complaints for {mla_name} ({constituency}) as {role}.",
    ),
    action="Set your password and sign in here (the link works once, for 7 days):",
)


def _send_invitation(services: Services, conn: Conn, who: OfficeUser, member: Member) -> None:
    """A new invitation link for `member` (voiding any before it), emailed to them."""
    tenant = conn.execute(
        "SELECT mla_name, constituency FROM platform.tenants WHERE tenant_id = %s", (who.tenant_id,)
    ).fetchone()
    assert tenant is not None  # the caller's own office
    token = invitations.issue(conn, member["id"], "invite")
    values: dict[str, Any] = {**tenant, "inviter": who.email, "role": member["role"].replace("_", " ")}
    subject = f"You are invited to the grievance dashboard of {tenant['constituency']}"
    link = invitations.invitation_link(services.settings.dashboard_url, token)
    mail.send(services, member["email"], mail.compose(subject, [_INVITATION.filled(**values)], link))


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
        return _member(conn, who.tenant_id, user_id)
