"""Dashboard API: sign-in for every user (admins, MLA offices, staff); tenant routes come later.

Lambda entry: `app.handler`. Also owns `/docs` and `/openapi.json` on the HTTP API.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Header, Path, Query
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse
from mangum import Mangum
from pydantic import BaseModel, ConfigDict, StringConstraints

from mla_core.agents import manage
from mla_core.complaints import casework
from mla_core.core.observability import function_logger
from mla_core.http.deps import MlaAdminDep, OfficeUserDep, PrincipalDep, ServicesDep, TokenDep
from mla_core.http.envelope import LazyApp, create_app, csv_download, ok
from mla_core.identity import accounts, team

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


# Complaints (MLA admins and staff of the caller's own tenant) ------------------------------------

ComplaintRef = Annotated[str, Path(max_length=40, description="the complaint's id or its reference number")]


@app.get("/api/complaints", summary="The office's complaints: filters, full-text search, keyset pages")
async def list_complaints(
    who: OfficeUserDep, svc: ServicesDep, filters: Annotated[casework.ComplaintFilters, Query()]
) -> JSONResponse:
    items, next_cursor = await casework.list_complaints(svc, who.tenant_id, filters)
    return ok({"items": items, "next_cursor": next_cursor})


@app.get("/api/complaints/export.csv", summary="The filtered list as CSV (streamed)")
def export_complaints(
    who: OfficeUserDep, svc: ServicesDep, filters: Annotated[casework.ComplaintFilters, Query()]
) -> StreamingResponse:
    return csv_download(casework.export_rows(svc, who.tenant_id, filters), "complaints.csv")


@app.post("/api/complaints", status_code=201, summary="Log a walk-in or phone complaint by hand")
def create_complaint(
    body: casework.ManualComplaint, who: OfficeUserDep, svc: ServicesDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> JSONResponse:  # fmt: skip
    return ok(casework.create_manual(svc, who, body, idempotency_key=idempotency_key), 201)


@app.get("/api/complaints/{complaint}", summary="A complaint with its timeline, call and notifications")
def get_complaint(complaint: ComplaintRef, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(casework.get_complaint(svc, who.tenant_id, complaint))


@app.patch("/api/complaints/{complaint}", summary="Change status, assignee, priority, category or SLA")
def update_complaint(
    complaint: ComplaintRef, body: casework.ComplaintPatch, who: OfficeUserDep, svc: ServicesDep,
    if_match: Annotated[str | None, Header(alias="If-Match", max_length=20)] = None,
) -> JSONResponse:  # fmt: skip
    version = int(if_match.strip('"W/')) if if_match and if_match.strip('"W/').isdigit() else None
    return ok(casework.update_complaint(svc, who, complaint, body, if_match=version))


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


@app.post("/api/complaints/{complaint}/notes", status_code=201, summary="An internal note on the timeline")
def add_note(complaint: ComplaintRef, body: NoteBody, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(casework.add_note(svc, who, complaint, body.text), 201)


@app.get("/api/stats", summary="Counts by status, category and day; overdue; median time to resolve")
def stats(who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(casework.stats(svc, who.tenant_id))


# Team (MLA admins) ------------------------------------------------------------------------------


@app.get("/api/users", summary="The office's team")
def list_users(who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(team.members(svc, who))


@app.post("/api/users/invite", status_code=201, summary="Invite staff or an admin (email with a sign-up link)")
def invite_user(body: team.Invite, who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(team.invite(svc, who, body), 201)


@app.patch("/api/users/{user_id}", summary="Change a member's role, or disable / enable them")
def change_user(
    user_id: Annotated[str, Path(max_length=40)], body: team.MemberChange, who: MlaAdminDep, svc: ServicesDep
) -> JSONResponse:
    return ok(team.change(svc, who, user_id, body))


# Agents (MLA admins) ----------------------------------------------------------------------------

AgentId = Annotated[str, Path(max_length=40)]


@app.get("/api/agents", summary="The office's voice agents")
def list_agents(who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(manage.list_agents(svc, who))


@app.post("/api/agents", status_code=201, summary="Add an agent for numbers of its own")
def create_agent(body: manage.AgentCreate, who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(manage.create_agent(svc, who, body), 201)


@app.get("/api/agents/{agent_id}", summary="One agent's settings")
def get_agent(agent_id: AgentId, who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(manage.get_agent(svc, who, agent_id))


@app.put("/api/agents/{agent_id}", summary="Change greeting, languages, voices, categories or phone numbers")
def update_agent(agent_id: AgentId, body: manage.AgentUpdate, who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(manage.update_agent(svc, who, agent_id, body))


@app.put("/api/agents/{agent_id}/status", summary="Take calls (active) or not (paused)")
def set_agent_status(agent_id: AgentId, body: manage.AgentStatus, who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(manage.set_status(svc, who, agent_id, body))


@app.delete("/api/agents/{agent_id}", summary="Remove an added agent and free its numbers (the main agent: 409)")
def delete_agent(agent_id: AgentId, who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    manage.delete_agent(svc, who, agent_id)
    return ok({"agent_id": agent_id, "deleted": True})


@app.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse("/app/complaints", status_code=303)


@app.get("/register", include_in_schema=False)
def invitation_link(token: Annotated[str, Query(max_length=200)] = "") -> RedirectResponse:
    """Where invitation emails link to: the page that accepts the invitation."""
    return RedirectResponse(f"/app/register?{urlencode({'token': token})}", status_code=303)


app.mount("/app", LazyApp("functions.dashboard.pages:pages"))  # after the API routes
_asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _asgi(event, context)
