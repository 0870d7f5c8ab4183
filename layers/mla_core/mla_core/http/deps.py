"""FastAPI dependencies shared by the apps: services, the caller, their role.

The ones that only compute are `async def`: FastAPI runs a plain `def` dependency in a worker
thread, and a request paid a dozen such hops (about 2 ms) before this. Token verification may
fetch the JWKS over HTTP, so it stays in a thread; reading the caller back (their row, their
session, their office) is one query on the event loop (`Database.read`), for every role.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from mla_core.adapters import Services, get_services
from mla_core.core import messages
from mla_core.core.errors import AuthenticationError
from mla_core.core.languages import LanguageCode
from mla_core.core.principal import Caller, OfficeUser, Principal
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
    """The caller a valid token names (not yet read back: `signed_in`)."""
    caller = svc.token_verifier.verify(token)
    request.state.principal = caller
    return caller


TokenDep = Annotated[str, Depends(bearer_token)]


async def client_address(request: Request) -> str:
    """The address API Gateway saw (`requestContext.http.sourceIp`, the request's client under Mangum;
    locally the peer). Never `X-Forwarded-For`, which the client writes itself."""
    return request.client.host if request.client else ""


ClientDep = Annotated[str, Depends(client_address)]


async def reader_language(
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> LanguageCode:
    """The language the client reads (`Accept-Language`, q-values respected; English by default):
    the one its errors' messages are in (`http.envelope`), for a route that answers in words too."""
    return messages.negotiate(accept_language)


LanguageDep = Annotated[LanguageCode, Depends(reader_language)]


async def signed_in(caller: Annotated[Principal, Depends(principal)], svc: ServicesDep) -> Caller:
    """Anyone signed in, as `platform.users` has them now (one query: a signed-out session, a disabled
    login or an office that is not active is refused here)."""
    return await accounts.signed_in(svc, caller)


SignedInDep = Annotated[Caller, Depends(signed_in)]


async def super_admin(caller: SignedInDep) -> Principal:
    return accounts.as_super_admin(caller)


SuperAdminDep = Annotated[Principal, Depends(super_admin)]


async def office_user(caller: SignedInDep) -> OfficeUser:
    """An MLA office user of an active tenant, as `platform.users` has them now."""
    return accounts.as_office_user(caller)


OfficeUserDep = Annotated[OfficeUser, Depends(office_user)]


async def mla_admin(caller: OfficeUserDep) -> OfficeUser:
    return caller.require_role("mla_admin")


MlaAdminDep = Annotated[OfficeUser, Depends(mla_admin)]


async def if_match(
    header: Annotated[
        str | None, Header(alias="If-Match", max_length=20, description="the version last read (its ETag)")
    ] = None,
) -> int | None:
    """The version an `If-Match` header names (`"3"`, `W/"3"`, `3`); None when absent or not a version."""
    tag = (header or "").strip('"W/')
    return int(tag) if tag.isascii() and tag.isdigit() else None  # a header's "²" passes isdigit()


IfMatchDep = Annotated[int | None, Depends(if_match)]
