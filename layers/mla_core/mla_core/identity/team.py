"""An MLA office's team: inviting staff and admins, changing roles, disabling logins.

Supabase Auth holds the credentials and the role (in `app_metadata`, which only the service role
writes); `platform.users` is our index of who belongs to which office.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Annotated, Any, cast

from pydantic import BaseModel, ConfigDict, EmailStr, StringConstraints
from typing_extensions import TypedDict

from mla_core.adapters import Services
from mla_core.core.errors import ConflictError, NotFoundError
from mla_core.core.principal import OfficeRole, OfficeUser
from mla_core.db import Conn
from mla_core.identity.invitations import invitation_link
from mla_core.tenants import registry

logger = logging.getLogger(__name__)


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
    created_at: datetime
    updated_at: datetime


_MEMBER = (
    "SELECT user_id::text AS id, email, role, full_name, disabled, created_at, updated_at FROM platform.users"
    " WHERE tenant_id = %s"
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
    """Create the login (no password yet) and email the invitation link, accepted by /auth/register.
    When what follows the login fails (the member's row, the email), the login is removed again."""
    email = str(request.email)
    with services.db.transaction() as conn:
        taken = registry.login_for_email(conn, email)
        tenant = conn.execute(
            "SELECT mla_name, constituency FROM platform.tenants WHERE tenant_id = %s", (who.tenant_id,)
        ).fetchone()
    if taken:
        raise _taken(email)
    assert tenant is not None
    invitation = services.auth.invite(
        email,
        app_metadata={"tenant_id": who.tenant_id, "role": request.role},
        user_metadata={"full_name": request.full_name} if request.full_name else {},
        redirect_to=services.settings.dashboard_url,
    )
    try:
        _add_member(services, who, request, invitation.user_id)
        _send_invitation(services, who, request, tenant, invitation.token)
    except ConflictError:
        raise
    except Exception:
        _withdraw(services, invitation.user_id)
        raise
    with services.db.transaction() as conn:
        return _member(conn, who.tenant_id, invitation.user_id)


def _add_member(services: Services, who: OfficeUser, request: Invite, user_id: str) -> None:
    email = str(request.email)
    with services.db.transaction() as conn:
        added = conn.execute(
            "INSERT INTO platform.users (user_id, tenant_id, email, role, full_name) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING RETURNING user_id",
            (user_id, who.tenant_id, email, request.role, request.full_name),
        ).fetchone()
    if added is None:  # another invitation of the same address got there first: the login is theirs
        raise _taken(email)


def _send_invitation(services: Services, who: OfficeUser, request: Invite, tenant: dict[str, Any], token: str) -> None:
    link = invitation_link(services.settings.dashboard_url, token)
    subject = f"You are invited to the grievance dashboard of {tenant['constituency']}"
    text = (
        f"{who.email} invited you to work on constituents' complaints for {tenant['mla_name']} "
        f"({tenant['constituency']}) as {request.role.replace('_', ' ')}.\n\n"
        f"Set your password and sign in here (the link works once):\n{link}"
    )
    services.mailer.send(str(request.email), subject, text, f"<p>{text.replace(chr(10), '<br>')}</p>")


def _taken(email: str) -> ConflictError:
    return ConflictError(
        f"{email} already has a login", details=[{"field": "email", "reason": "already_taken", "value": email}]
    )


def _withdraw(services: Services, user_id: str) -> None:
    """Undo an invitation that failed after its login was made (the member's row, if written, then the
    login), so that no login is left that no office knows of and the invitation can simply be sent again.
    The caller raises the invitation's own error; a failure here is logged beside it."""
    try:
        with services.db.transaction() as conn:
            conn.execute("DELETE FROM platform.users WHERE user_id = %s", (user_id,))
        services.auth.delete_user(user_id)
    except Exception:
        logger.exception("invitation not withdrawn: a login may remain", extra={"user_id": user_id})


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
        if role != member["role"]:
            services.auth.update_user(user_id, {"app_metadata": {"tenant_id": who.tenant_id, "role": role}})
        if disabled != member["disabled"]:
            services.auth.set_disabled(user_id, disabled)
        conn.execute(
            "UPDATE platform.users SET role = %s, disabled = %s, updated_at = now() WHERE user_id = %s",
            (role, disabled, user_id),
        )
        return _member(conn, who.tenant_id, user_id)
