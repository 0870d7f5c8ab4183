"""The super admin panel (`/admin/panel`): tenants listed and searched, created from a form whose
provisioning steps update live, inspected, retried, and deprovisioned behind a typed confirmation.

Server-rendered pages on the same domain functions as the admin API.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from mla_core.adapters import get_services
from mla_core.core.errors import AppError
from mla_core.core.languages import STATES_AND_UTS, SUPPORTED_LANGUAGES
from mla_core.core.principal import Principal
from mla_core.provisioning import operations
from mla_core.tenants.request import TenantRequest
from mla_core.web import Site, check_csrf, create_site_app, field_errors, redirect

site = Site(
    prefix="/admin/panel",
    area="admin_panel",
    nav=(("tenants", "/admin/panel/tenants"), ("new_tenant", "/admin/panel/new")),
    roles=("super_admin",),
    home="/admin/panel/tenants",
)
panel = create_site_app(site, get_services)
Csrf = [Depends(check_csrf)]
SETTLED = ("active", "failed", "deleted")


def super_admin(request: Request) -> Principal:
    return site.signed_in(request, get_services())


Admin = Annotated[Principal, Depends(super_admin)]


@panel.get("/")
def home(request: Request) -> Response:
    return redirect(request, site.home)


@panel.get("/tenants")
def tenants(request: Request, who: Admin, q: str = "", status: str = "", cursor: str | None = None) -> Response:
    page, next_cursor = operations.list_tenants(
        get_services(), status=status or None, limit=25, cursor=cursor, q=q.strip()[:100] or None
    )
    statuses = ("provisioning", "active", "failed", "deleting", "deleted")
    context = {"tenants": page, "next_cursor": next_cursor, "q": q, "status": status, "statuses": statuses}
    return site.page(request, "admin/tenants.html", context, who=who)


def _form(
    request: Request, who: Principal, values: Mapping[str, object], errors: dict[str, str], status: int
) -> Response:
    context = {"values": values, "errors": errors, "states": STATES_AND_UTS, "all_languages": SUPPORTED_LANGUAGES}
    return site.page(request, "admin/tenant_new.html", context, who=who, status_code=status)


@panel.get("/new")
def new_tenant(request: Request, who: Admin) -> Response:
    return _form(request, who, {"languages": ["ta"], "idempotency_key": str(uuid.uuid4())}, {}, 200)


@panel.post("/new", dependencies=Csrf)
def create_tenant(
    request: Request, who: Admin,
    mla_name: Annotated[str, Form()] = "", constituency: Annotated[str, Form()] = "", state: Annotated[str, Form()] = "",
    languages: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    phone_numbers: Annotated[str, Form()] = "", admin_email: Annotated[str, Form()] = "",
    admin_name: Annotated[str, Form()] = "", greeting: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    values = {
        "mla_name": mla_name, "constituency": constituency, "state": state, "languages": languages,
        "phone_numbers": [n for n in phone_numbers.replace(",", "\n").split() if n],
        "admin_email": admin_email, "admin_name": admin_name or None, "greeting": greeting or None,
    }  # fmt: skip
    shown = {**values, "phone_numbers": phone_numbers, "idempotency_key": idempotency_key}
    try:
        body = TenantRequest.model_validate(values)
        accepted = operations.request_tenant(
            get_services(), body, idempotency_key=idempotency_key[:200] or None, actor=who.user_id
        )
    except (ValidationError, AppError) as exc:
        errors = {key.split(".")[0]: reason for key, reason in field_errors(exc).items()}
        return _form(request, who, shown, errors, 422 if isinstance(exc, ValidationError) else 409)
    return redirect(request, f"{site.prefix}/tenants/{accepted.body['tenant_id']}")


@panel.get("/tenants/{tenant_id}")
def tenant(request: Request, who: Admin, tenant_id: str) -> Response:
    found = operations.get_tenant(get_services(), tenant_id[:10])
    return site.page(request, "admin/tenant.html", {"tenant": found, "settled": SETTLED}, who=who)


@panel.get("/tenants/{tenant_id}/steps")
def steps(request: Request, who: Admin, tenant_id: str) -> Response:
    """The live part of the tenant page, polled by htmx until the tenant settles; then the whole
    page reloads, since provisioning has filled in the rest (rule id, admin user)."""
    found = operations.get_tenant(get_services(), tenant_id[:10])
    response = site.page(request, "admin/_progress.html", {"tenant": found, "settled": SETTLED}, who=who)
    if found.status in SETTLED:
        response.headers["HX-Refresh"] = "true"
    return response


@panel.post("/tenants/{tenant_id}/retry", dependencies=Csrf)
def retry(request: Request, who: Admin, tenant_id: str) -> Response:
    operations.retry_tenant(get_services(), tenant_id[:10])
    return redirect(request, f"{site.prefix}/tenants/{tenant_id}")


@panel.post("/tenants/{tenant_id}/deprovision", dependencies=Csrf)
def deprovision(request: Request, who: Admin, tenant_id: str, confirm: Annotated[str, Form()] = "") -> Response:
    found = operations.get_tenant(get_services(), tenant_id[:10])
    if confirm.strip() != found.tenant_id:
        context = {"tenant": found, "settled": SETTLED, "confirm_error": f"type {found.tenant_id} to confirm"}
        return site.page(request, "admin/tenant.html", context, who=who, status_code=422)
    operations.delete_tenant(get_services(), found.tenant_id)
    return redirect(request, f"{site.prefix}/tenants/{found.tenant_id}")
