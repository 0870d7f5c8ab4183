"""The links we email, kept in our own records (`platform.sign_in_links`): an invitation to an office
(a new office's welcome, a teammate's invitation) and a password reset.

A link carries `secrets.token_urlsafe(32)` (256 random bits); only its sha256 is stored. It works
once (`use` marks it in the caller's transaction, the one that accepts it), until it expires (an
invitation after 7 days, a reset after an hour), and a new link of the same purpose deletes the
person's unused ones, so a resent invitation voids the one before. Reading a link (`find`) does not
use it: the invitation page says whom it is for. Guessing is limited per client address by the
callers (`mla_core.identity.limits`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from mla_core.db import Conn

Purpose = Literal["invite", "reset"]
# What a link we issued is now: it opens (`find`), it was accepted, or its time ran out.
LinkState = Literal["open", "used", "expired"]
LIFETIME: dict[Purpose, timedelta] = {"invite": timedelta(days=7), "reset": timedelta(hours=1)}
# The office's state in which its links still work (an office's admin is invited while it is provisioned).
_OPEN_OFFICE = ("provisioning", "active")


def invitation_link(dashboard_url: str, token: str) -> str:
    """The dashboard page that shows the invitation and lets the person set a password."""
    return f"{dashboard_url.rstrip('/')}/register?{urlencode({'token': token})}"


def reset_link(dashboard_url: str, token: str, role: str) -> str:
    """The reset page of the site the person signs in to (the admin panel for a super admin)."""
    site = "/admin/panel" if role == "super_admin" else "/app"
    return f"{dashboard_url.rstrip('/')}{site}/reset?{urlencode({'token': token})}"


@dataclass(frozen=True)
class Link:
    """Whom an unused, unexpired link is for, as our records have them now."""

    purpose: Purpose
    user_id: str
    email: str
    role: str
    full_name: str | None
    tenant_id: str | None
    mla_name: str | None
    constituency: str | None
    has_login: bool
    expires_at: datetime
    state: LinkState = "open"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def issue(conn: Conn, user_id: str, purpose: Purpose) -> str:
    """A new link for the member `user_id` (their unused links of this purpose are deleted); returns its token."""
    token = secrets.token_urlsafe(32)
    conn.execute(
        "DELETE FROM platform.sign_in_links WHERE user_id = %s AND purpose = %s AND used_at IS NULL", (user_id, purpose)
    )
    conn.execute(
        "INSERT INTO platform.sign_in_links (token_hash, purpose, user_id, tenant_id, email, expires_at)"
        " SELECT %s, %s, user_id, tenant_id, email, now() + %s FROM platform.users WHERE user_id = %s",
        (_digest(token), purpose, LIFETIME[purpose], user_id),
    )
    return token


_ANY_LINK = """
SELECT l.purpose, u.user_id::text AS user_id, u.email, u.role, u.full_name, u.tenant_id, u.disabled,
       u.login_created_at IS NOT NULL AS has_login, l.expires_at, t.mla_name, t.constituency, t.status,
       CASE WHEN l.used_at IS NOT NULL THEN 'used' WHEN l.expires_at <= now() THEN 'expired' ELSE 'open' END
         AS state
  FROM platform.sign_in_links l
  JOIN platform.users u ON u.user_id = l.user_id
  LEFT JOIN platform.tenants t ON t.tenant_id = u.tenant_id
 WHERE l.token_hash = %s AND l.purpose = %s
"""
_LINK = _ANY_LINK + " AND l.used_at IS NULL AND l.expires_at > now()"


def find(conn: Conn, token: str, purpose: Purpose, *, lock: bool = False) -> Link | None:
    """The link `token` opens, when it is unused and unexpired and its person may still sign in (not
    disabled, their office provisioning or active); None otherwise. `lock` holds it until the
    transaction ends, so that two acceptances of one link cannot both go through."""
    row = conn.execute(_LINK + (" FOR UPDATE OF l" if lock else ""), (_digest(token), purpose)).fetchone()
    return _link(row)


def look_up(conn: Conn, token: str, purpose: Purpose) -> Link | None:
    """The link `token` is, used or expired too (its `state` says which), so that a page can say why it
    no longer opens before anyone types; None for a token we never issued, one a newer link of the same
    purpose replaced, or one whose person may no longer sign in (as `find`)."""
    return _link(conn.execute(_ANY_LINK, (_digest(token), purpose)).fetchone())


def _link(row: Any) -> Link | None:
    if row is None or row["disabled"] or (row["tenant_id"] is not None and row["status"] not in _OPEN_OFFICE):
        return None
    return Link(
        purpose=row["purpose"],
        user_id=row["user_id"],
        email=row["email"],
        role=row["role"],
        full_name=row["full_name"],
        tenant_id=row["tenant_id"],
        mla_name=row["mla_name"],
        constituency=row["constituency"],
        has_login=row["has_login"],
        expires_at=row["expires_at"],
        state=row["state"],
    )


def use(conn: Conn, token: str) -> None:
    """Mark the link used, in the transaction that accepts it."""
    conn.execute("UPDATE platform.sign_in_links SET used_at = now() WHERE token_hash = %s", (_digest(token),))
