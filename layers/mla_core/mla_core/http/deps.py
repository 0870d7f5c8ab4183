"""FastAPI dependencies shared by the apps: services, the caller, their role.

The ones that only compute are `async def`: FastAPI runs a plain `def` dependency in a worker
thread, and a request paid a dozen such hops (about 2 ms) before this. Token verification may
fetch the JWKS over HTTP, so it stays in a thread; the tenant check reads the registry on the
event loop (`Database.read`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from mla_core.adapters import Services, get_services
from mla_core.core.errors import AuthenticationError
from mla_core.core.principal import OfficeUser, Principal
from mla_core.identity import accounts


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


async def office_user(caller: PrincipalDep, svc: ServicesDep) -> OfficeUser:
    """An MLA office user of an active tenant, as `platform.users` has them now."""
    return await accounts.office_user(svc, caller)


OfficeUserDep = Annotated[OfficeUser, Depends(office_user)]


async def mla_admin(caller: OfficeUserDep) -> OfficeUser:
    return caller.require_role("mla_admin")


MlaAdminDep = Annotated[OfficeUser, Depends(mla_admin)]
