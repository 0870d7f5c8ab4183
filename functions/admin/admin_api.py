"""Admin API (super admins only): create, inspect, retry and delete MLA tenants.

Lambda entry: `admin_api.handler` (API Gateway HTTP API → Mangum → FastAPI).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from mangum import Mangum

from mla_core.core.errors import AuthenticationError
from mla_core.core.observability import function_logger
from mla_core.http.deps import ServicesDep, SuperAdminDep, bearer_token
from mla_core.http.envelope import Envelope, LazyApp, Page, create_app, ok
from mla_core.privacy import retention
from mla_core.provisioning import operations
from mla_core.tenants.registry import Tenant, TenantStatus
from mla_core.tenants.request import TenantRequest

logger = function_logger("admin")

PANEL_SIGN_IN = "/admin/panel/login"


async def docs_reader(request: Request) -> None:
    """The admin API's docs and schema are for super admins: signed in to the panel (its session
    cookie), or with an `Authorization: Bearer` access token; either is checked as the panel checks
    its pages (the role and the user's row as our records have them now)."""
    from starlette.concurrency import run_in_threadpool

    from admin_panel import page_principal, super_admin  # only a docs request pays for the pages' imports
    from mla_core.web.sessions import SESSION_COOKIE, LoginRequired

    if (authorization := request.headers.get("authorization", "")).strip():
        token = await bearer_token(authorization)
        # The token stands in for the session cookie, and nothing else of the browser's is used.
        headers = [(k, v) for k, v in request.scope["headers"] if k not in (b"cookie", b"authorization")]
        cookie = f"{SESSION_COOKIE}={token}".encode("latin-1")
        request = Request({**request.scope, "headers": [*headers, (b"cookie", cookie)]})
    try:
        await super_admin(request, await run_in_threadpool(page_principal, request))
    except LoginRequired as exc:
        raise AuthenticationError("sign in as a super admin to read the admin API's docs") from exc


app = create_app(
    title="MLA Voice AI — Admin API",
    description="Super-admin operations on MLA tenants. Every response uses the success/error envelope.",
    docs_prefix="/admin",
    docs_access=docs_reader,
    docs_sign_in=PANEL_SIGN_IN,
)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)]
TenantId = Annotated[str, Path(pattern=r"^[a-z0-9]{10}$", description="the tenant's 10-character id")]

# Tenants ------------------------------------------------------------------------------------------

tenants = APIRouter(prefix="/admin/tenants", tags=["tenants"])


@tenants.post(
    "",
    status_code=202,
    response_model=Envelope[Tenant],
    responses={201: {"model": Envelope[Tenant], "description": "Provisioned while waiting (`wait=true`)"}},
    summary="Create a tenant (provisioned by Step Functions)",
)
def create_tenant(
    body: TenantRequest,
    caller: SuperAdminDep,
    svc: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    wait: Annotated[bool, Query(description="wait up to ~25 s for provisioning to finish")] = False,
) -> JSONResponse:
    accepted = operations.request_tenant(svc, body, idempotency_key=idempotency_key, actor=caller.user_id)
    headers = {"Idempotent-Replayed": "true"} if accepted.replayed else None
    if not wait:
        return ok(accepted.body, accepted.status_code, headers)
    tenant = operations.wait_until_settled(svc, accepted.body["tenant_id"], svc.settings.provisioning_wait_seconds)
    return ok(tenant, 201 if tenant.status == "active" else 202, headers)


@tenants.get("", response_model=Envelope[Page[Tenant]], summary="List tenants, newest first (keyset pagination)")
def list_tenants(
    _: SuperAdminDep,
    svc: ServicesDep,
    status: TenantStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=100, description="id, MLA, constituency, state or admin email")] = None,
) -> JSONResponse:
    page, next_cursor = operations.list_tenants(svc, status=status, limit=limit, cursor=cursor, q=q)
    return ok({"items": page, "next_cursor": next_cursor})


@tenants.get("/{tenant_id}", response_model=Envelope[Tenant], summary="One tenant with its provisioning steps")
def get_tenant(tenant_id: TenantId, _: SuperAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(operations.get_tenant(svc, tenant_id))


@tenants.post("/{tenant_id}/retry", status_code=202, response_model=Envelope[Tenant], summary="Resume a failed tenant")
def retry_tenant(tenant_id: TenantId, _: SuperAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(operations.retry_tenant(svc, tenant_id), 202)


@tenants.delete(
    "/{tenant_id}",
    status_code=202,
    response_model=Envelope[Tenant],
    summary="Deprovision (complaint data is archived)",
)
def delete_tenant(tenant_id: TenantId, _: SuperAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(operations.delete_tenant(svc, tenant_id), 202)


@tenants.get(
    "/{tenant_id}/retention",
    response_model=Envelope[retention.TenantRetention],
    summary="The office's retention: effective days, its own, the last run, its archive's drop date",
)
def get_retention(tenant_id: TenantId, _: SuperAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(retention.tenant_retention(svc, tenant_id))


@tenants.put(
    "/{tenant_id}/retention",
    response_model=Envelope[retention.TenantRetention],
    summary="Set the office's own retention days (a field left out is the default; 422 outside its bounds)",
)
def put_retention(
    tenant_id: TenantId,
    overrides: Annotated[dict[str, int], Body(examples=[{"transcripts_after_close": 730}])],
    _: SuperAdminDep,
    svc: ServicesDep,
) -> JSONResponse:
    return ok(retention.set_tenant_retention(svc, tenant_id, overrides))


app.include_router(tenants)
app.mount("/admin/panel", LazyApp("admin_panel:panel"))  # after the API routes
_asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _asgi(event, context)
