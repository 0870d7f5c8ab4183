"""The super admin panel (`/admin/panel`): tenants listed and searched, created from a form whose
provisioning steps update live, inspected, retried, and deprovisioned behind a typed confirmation.

Server-rendered pages on the same domain functions as the admin API.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, get_args

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from starlette.datastructures import FormData

from mla_core.adapters import get_services
from mla_core.core.errors import AppError
from mla_core.core.languages import NATIVE_NAMES, STATES_AND_UTS
from mla_core.core.principal import Principal
from mla_core.core.retention import WEBHOOK_EVENT_DAYS
from mla_core.identity import accounts
from mla_core.privacy import retention
from mla_core.provisioning import operations
from mla_core.tenants.registry import TenantStatus
from mla_core.tenants.request import TenantRequest
from mla_core.web.forms import OnceKey, PostedForm, field_errors, parse_form, split_numbers
from mla_core.web.rendering import redirect
from mla_core.web.sessions import check_csrf
from mla_core.web.site import Site, create_site_app

site = Site(
    prefix="/admin/panel",
    area="admin_panel",
    nav=(("tenants", "/admin/panel/tenants"), ("new_tenant", "/admin/panel/new")),
    roles=("super_admin",),
    home="/admin/panel/tenants",
)
panel = create_site_app(site, get_services)
Csrf = [Depends(check_csrf)]
STATUSES = get_args(TenantStatus)  # the list's filter
SETTLED = ("active", "failed", "deleted")  # provisioning or deprovisioning has ended


def page_principal(request: Request) -> Principal:
    """The user behind the session cookie (a thread: renewing a session calls Supabase Auth)."""
    return site.signed_in(request, get_services())


async def super_admin(request: Request, caller: Annotated[Principal, Depends(page_principal)]) -> Principal:
    """A super admin whose login `platform.users` still holds enabled, in a session not signed out."""
    return accounts.as_super_admin(await site.member(request, get_services(), caller))


Admin = Annotated[Principal, Depends(super_admin)]


@panel.get("/")
def home(request: Request) -> Response:
    return redirect(request, site.home)


@panel.get("/tenants")
def tenants(request: Request, who: Admin, q: str = "", status: str = "", cursor: str | None = None) -> Response:
    page, next_cursor = operations.list_tenants(
        get_services(), status=status or None, limit=25, cursor=cursor, q=q.strip()[:100] or None
    )
    context = {"tenants": page, "next_cursor": next_cursor, "q": q, "status": status, "statuses": STATUSES}
    return site.page(request, "admin/tenants.html", context, who=who)


class TenantForm(TenantRequest):
    """The new-tenant form: the numbers in one box, as people write them (`web.forms.split_numbers`)."""

    @field_validator("phone_numbers", mode="before")
    @classmethod
    def _one_box(cls, value: object) -> object:
        return split_numbers(value)

    # The names in a language's letters come in a box each (`mla_name_local_ta`, `constituency_local_hi`):
    # gathered by language; the form's other fields (its key, the greeting language) are not the request's.
    model_config = ConfigDict(extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _name_boxes(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        known = {key: value for key, value in data.items() if key in cls.model_fields}
        for field in ("mla_name_local", "constituency_local"):
            boxes = {key.removeprefix(f"{field}_"): v for key, v in data.items() if key.startswith(f"{field}_")}
            if boxes:
                known[field] = boxes
        return known


# Each state or union territory by its words (`web.i18n.WORDS`: `st_tamil_nadu`), in the list's order.
STATE_WORDS = {name: "st_" + "_".join(name.casefold().split()) for name in STATES_AND_UTS}


def _form(request: Request, who: Principal, values: FormData, errors: dict[str, str], status: int) -> Response:
    context = {"values": values, "errors": errors, "states": STATE_WORDS, "all_languages": NATIVE_NAMES}
    return site.page(request, "admin/tenant_new.html", context, who=who, status_code=status)


@panel.get("/new")
def new_tenant(request: Request, who: Admin) -> Response:
    blank = FormData([("languages", "ta"), ("idempotency_key", str(uuid.uuid4()))])
    return _form(request, who, blank, {}, 200)


@panel.post("/new", dependencies=Csrf)
def create_tenant(request: Request, who: Admin, form: PostedForm) -> Response:
    # The languages in order (issue 14, item 1): the greeting language first, the other ticked ones after.
    first, ticked = form.get("greeting_language"), form.getlist("languages")
    if isinstance(first, str) and first:
        ordered = [first] + [code for code in ticked if code != first]
        form = FormData(
            [
                *((k, v) for k, v in form.multi_items() if k not in ("languages", "greeting_language")),
                *(("languages", code) for code in ordered),
            ]
        )
    key = parse_form(form, OnceKey).idempotency_key  # the form's one-time key: sent again, it shows the first
    if key and (made := operations.tenant_requested_under(get_services(), who.user_id, key)):
        return redirect(request, f"{site.prefix}/tenants/{made}")
    try:
        body = parse_form(form, TenantForm)
        accepted = operations.request_tenant(get_services(), body, idempotency_key=key, actor=who.user_id)
    except (ValidationError, AppError) as exc:
        errors = {field.split(".")[0]: reason for field, reason in field_errors(exc).items()}
        return _form(request, who, form, errors, 422 if isinstance(exc, ValidationError) else 409)
    return redirect(request, f"{site.prefix}/tenants/{accepted.body['tenant_id']}")


@panel.get("/tenants/{tenant_id}")
def tenant(request: Request, who: Admin, tenant_id: str) -> Response:
    found = operations.get_tenant(get_services(), tenant_id[:10])
    context = {"tenant": found, "settled": SETTLED, **_retention(found.tenant_id)}
    return site.page(request, "admin/tenant.html", context, who=who)


def _retention(tenant_id: str) -> dict[str, object]:
    """The office's effective retention days (its own marked), its last run, and its archive's drop date."""
    kept = retention.tenant_retention(get_services(), tenant_id)
    days = [(f"ret_{name}", days, name in kept.overrides) for name, days in kept.policy.model_dump().items()]
    drop_at = kept.archive_drop_at
    due = drop_at is not None and datetime.now(UTC).date() >= drop_at - timedelta(days=retention.ARCHIVE_NOTICE_DAYS)
    return {"retention": kept, "retention_days": days, "archive_export_due": due, "webhook_days": WEBHOOK_EVENT_DAYS}


@panel.get("/tenants/{tenant_id}/steps")
def steps(request: Request, who: Admin, tenant_id: str) -> Response:
    """The live part of the tenant page, re-read on each move of its provisioning (live updates; every
    30 s besides, in case the page is not live) until the tenant settles; then the whole page reloads,
    since provisioning has filled in the rest (rule id, admin user)."""
    found = operations.get_tenant(get_services(), tenant_id[:10])
    response = site.page(request, "admin/_progress.html", {"tenant": found, "settled": SETTLED}, who=who)
    if found.status in SETTLED:
        response.headers["HX-Refresh"] = "true"
    return response


@panel.post("/tenants/{tenant_id}/retry", dependencies=Csrf)
def retry(request: Request, who: Admin, tenant_id: str) -> Response:
    operations.retry_tenant(get_services(), tenant_id[:10])
    return redirect(request, f"{site.prefix}/tenants/{tenant_id}")


class Confirmation(BaseModel):
    """What the super admin typed to confirm a deprovision: the tenant's id."""

    confirm: str = ""


@panel.post("/tenants/{tenant_id}/deprovision", dependencies=Csrf)
def deprovision(request: Request, who: Admin, tenant_id: str, form: PostedForm) -> Response:
    found = operations.get_tenant(get_services(), tenant_id[:10])
    if parse_form(form, Confirmation).confirm.strip() != found.tenant_id:
        context = {
            "tenant": found,
            "settled": SETTLED,
            "confirm_error": f"type {found.tenant_id} to confirm",
            **_retention(found.tenant_id),
        }
        return site.page(request, "admin/tenant.html", context, who=who, status_code=422)
    operations.delete_tenant(get_services(), found.tenant_id)
    return redirect(request, f"{site.prefix}/tenants/{found.tenant_id}")
