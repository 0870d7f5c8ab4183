"""Who is calling: the principal every edge and feature receives, made from a verified token's claims.

The role and tenant come from `app_metadata`, which only Supabase's service role can write, so they
are trusted. The token itself is verified in `mla_core.adapters.tokens`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from mla_core.core.errors import AuthenticationError, PermissionDeniedError

Role = Literal["super_admin", "mla_admin", "staff"]
OfficeRole = Literal["mla_admin", "staff"]
ROLES: tuple[Role, ...] = get_args(Role)


@dataclass(frozen=True)
class Principal:
    user_id: str
    email: str
    role: Role
    tenant_id: str | None
    session_id: str | None = None
    issued_at: int | None = None  # the token's `iat`: a password reset ends the sessions issued before it

    def require_role(self, *roles: Role) -> Principal:
        if self.role not in roles:
            raise PermissionDeniedError(f"this action needs the role {' or '.join(roles)}")
        return self


@dataclass(frozen=True)
class OfficeUser:
    """A signed-in member of an active office, with the role `platform.users` gives them now: what
    every office route hands to the features (`mla_core.http.deps.OfficeUserDep`)."""

    user_id: str
    email: str
    role: OfficeRole
    tenant_id: str
    session_id: str | None = None

    def require_role(self, *roles: OfficeRole) -> OfficeUser:
        if self.role not in roles:
            raise PermissionDeniedError(f"this action needs the role {' or '.join(roles)}")
        return self


Caller = Principal | OfficeUser  # anyone signed in: a page's chrome and the profile take either


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    meta = claims.get("app_metadata") or {}
    role = meta.get("role")
    if role not in ROLES:
        raise AuthenticationError("token carries no platform role")
    tenant_id = meta.get("tenant_id")
    if role != "super_admin" and not tenant_id:
        raise AuthenticationError("token carries no tenant")
    return Principal(
        user_id=str(claims["sub"]),
        email=str(claims.get("email") or ""),
        role=role,
        tenant_id=tenant_id if role != "super_admin" else None,
        session_id=claims.get("session_id"),
        issued_at=claims["iat"] if isinstance(claims.get("iat"), int) else None,
    )
