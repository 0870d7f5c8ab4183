"""FastAPI dependencies shared by the apps: services, the caller, their role.

The ones that only compute are `async def`: FastAPI runs a plain `def` dependency in a worker
thread, and a request paid a dozen such hops (about 2 ms) before this. Token verification may
fetch the JWKS over HTTP, so it stays in a thread; the tenant check reads the registry on the
event loop (`Database.read`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Header, Request

from mla_core.adapters import Services, get_services
from mla_core.core.errors import AuthenticationError, PermissionDeniedError
from mla_core.core.principal import Principal


async def services() -> Services:
    return get_services()


ServicesDep = Annotated[Services, Depends(services)]


async def bearer_token(authorization: Annotated[str | None, Header(include_in_schema=False)] = None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("an Authorization: Bearer <access token> header is required")
    return token.strip()


def principal(request: Request, token: Annotated[str, Depends(bearer_token)], svc: ServicesDep) -> Principal:
    caller = svc.token_verifier.verify(token)
    request.state.principal = caller
    return caller


PrincipalDep = Annotated[Principal, Depends(principal)]
TokenDep = Annotated[str, Depends(bearer_token)]


async def super_admin(caller: PrincipalDep) -> Principal:
    return caller.require_role("super_admin")


SuperAdminDep = Annotated[Principal, Depends(super_admin)]


async def tenant_user(caller: PrincipalDep, svc: ServicesDep) -> Principal:
    """An MLA office user of an active tenant. A super admin's token does not reach tenant data.

    The role is read back from `platform.users`, so a demotion or a disabled login takes effect
    at once rather than when the token expires.
    """
    caller.require_role("mla_admin", "staff")
    async with svc.db.read() as conn:
        cursor = await conn.execute(
            "SELECT t.status, u.role, u.disabled FROM platform.tenants t"
            " JOIN platform.users u ON u.user_id = %s AND u.tenant_id = t.tenant_id WHERE t.tenant_id = %s",
            (caller.user_id, caller.tenant_id),
        )
        row = await cursor.fetchone()
    if row is None or row["status"] != "active" or row["disabled"]:
        raise PermissionDeniedError("this login or its office is not active")
    return replace(caller, role=row["role"])


TenantUserDep = Annotated[Principal, Depends(tenant_user)]


async def mla_admin(caller: TenantUserDep) -> Principal:
    return caller.require_role("mla_admin")


MlaAdminDep = Annotated[Principal, Depends(mla_admin)]
