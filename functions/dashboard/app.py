"""Dashboard API: sign-in for every user (admins, MLA offices, staff); tenant routes come later.

Lambda entry: `app.handler`. Also owns `/docs` and `/openapi.json` on the HTTP API.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from mangum import Mangum

from mla_core import accounts
from mla_core.api import create_app, ok
from mla_core.deps import PrincipalDep, ServicesDep, TokenDep
from mla_core.observability import function_logger

logger = function_logger("dashboard")

app = create_app(
    title="MLA Voice AI — Dashboard API",
    description="Sign-in (Supabase Auth) and the MLA office's dashboard. Every response uses the envelope. "
    "The admin API's docs are at /admin/docs.",
)


@app.post("/auth/login", summary="Sign in with email and password")
def login(body: accounts.LoginRequest, svc: ServicesDep) -> JSONResponse:
    return ok(accounts.login(svc, body).model_dump())


@app.post("/auth/register", summary="Accept an invitation and set a password")
def register(body: accounts.RegisterRequest, svc: ServicesDep) -> JSONResponse:
    return ok(accounts.register(svc, body).model_dump(), 201)


@app.post("/auth/refresh", summary="Exchange a refresh token for a new session")
def refresh(body: accounts.RefreshRequest, svc: ServicesDep) -> JSONResponse:
    return ok(accounts.refresh(svc, body).model_dump())


@app.post("/auth/logout", summary="Revoke this session's refresh tokens")
def logout(_: PrincipalDep, token: TokenDep, svc: ServicesDep) -> JSONResponse:
    accounts.logout(svc, token)
    return ok({"signed_out": True})


@app.get("/auth/profile", summary="The signed-in user and their tenant")
def profile(caller: PrincipalDep, svc: ServicesDep) -> JSONResponse:
    return ok(accounts.profile(svc, caller).model_dump(mode="json"))


_asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _asgi(event, context)
