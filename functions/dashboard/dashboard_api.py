"""Dashboard API: sign-in for every user (admins, MLA offices, staff), and an office's complaints,
stats, team, agents and constituents' personal-data requests (a router each).

Lambda entry: `dashboard_api.handler`. Also owns `/docs` and `/openapi.json` on the HTTP API.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse
from mangum import Mangum
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypedDict

from meeting_routes import router as meetings_router
from mla_core.agents import manage
from mla_core.complaints import casework, export, search
from mla_core.complaints import stats as complaint_stats
from mla_core.complaints.models import (
    ComplaintDetail,
    ComplaintFilters,
    ComplaintLink,
    ComplaintPatch,
    ComplaintReference,
    ComplaintRow,
    ManualComplaint,
    Stats,
    UndoDuplicate,
)
from mla_core.core.fields import PhoneNumber
from mla_core.core.observability import function_logger
from mla_core.http.deps import ClientDep, IfMatchDep, MlaAdminDep, OfficeUserDep, ServicesDep, SignedInDep, TokenDep
from mla_core.http.envelope import Envelope, LazyApp, Page, create_app, csv_download, json_download, ok
from mla_core.identity import accounts, team
from mla_core.live import events as live_events
from mla_core.memory import jobs as memory_jobs
from mla_core.memory import memories
from mla_core.memory.models import (
    CallerRef,
    Deleted,
    ErasureRequest,
    ErasureRequestList,
    HistoryEntry,
    Job,
    Memory,
    MemoryAdd,
    MemoryList,
    MemoryPage,
    MemoryResult,
    MemorySearch,
    MemoryUpdate,
    Person,
    Results,
    SearchResults,
    Slot,
)
from mla_core.privacy import requests as privacy
from mla_core.privacy.models import ErasurePreview, ErasureResult, PersonSummary
from mla_core.web.i18n import translator

logger = function_logger("dashboard")

app = create_app(
    title="MLA Voice AI — Dashboard API",
    description="Sign-in (Supabase Auth) and the MLA office's dashboard. Every response uses the envelope. "
    "The admin API's docs are at /admin/docs.",
)


# Sign-in (everyone) -------------------------------------------------------------------------------

auth_router = APIRouter(prefix="/auth", tags=["auth"])


@auth_router.post(
    "/login",
    response_model=Envelope[accounts.SessionView],
    summary="Sign in with email and password",
    description="A wrong password, an unknown email and a disabled login get the same 401. After 10 failures"
    " within 15 minutes for the account or from the address, 429 with `Retry-After`, until the window ends.",
)
def login(body: accounts.LoginRequest, svc: ServicesDep, client: ClientDep) -> JSONResponse:
    return ok(accounts.login(svc, body, client=client))


@auth_router.post(
    "/register",
    status_code=201,
    response_model=Envelope[accounts.SessionView],
    summary="Accept an invitation and set a password",
    description="The invitation works once, for 7 days. Wrong tokens are limited per address (429).",
)
def register(body: accounts.RegisterRequest, svc: ServicesDep, client: ClientDep) -> JSONResponse:
    return ok(accounts.register(svc, body, client=client), 201)


@auth_router.get(
    "/invitations",
    response_model=Envelope[accounts.InvitationView],
    summary="Whom an invitation is for (it stays unused)",
    description="The token goes in the query, as in the invitation link: the access log records paths only."
    " A link that no longer opens is 400 with the reason `invitation_used` (accepted already: sign in),"
    " `invitation_expired` (ask for a new one) or `invalid_invitation` (unknown, or replaced by a newer one).",
)
def invitation(token: Annotated[str, Query(max_length=200)], svc: ServicesDep, client: ClientDep) -> JSONResponse:
    return ok(accounts.invitation(svc, token, client=client))


@auth_router.post(
    "/invitations/renewal",
    status_code=202,
    response_model=Envelope[accounts.RenewalAsked],
    summary="Ask the office for a new invitation, with an expired invitation's link",
    description="The office's admins are emailed (at most once a day per person) and send it again from"
    " their Team page. A used link is 400 `invitation_used`; an unknown one 400 `invalid_invitation`.",
)
def ask_for_invitation(body: accounts.RenewalRequest, svc: ServicesDep, client: ClientDep) -> JSONResponse:
    return ok(accounts.ask_for_invitation(svc, body, client=client), 202)


@auth_router.post(
    "/refresh", response_model=Envelope[accounts.SessionView], summary="Exchange a refresh token for a new session"
)
def refresh(body: accounts.RefreshRequest, svc: ServicesDep, client: ClientDep) -> JSONResponse:
    return ok(accounts.refresh(svc, body, client=client))


@auth_router.post(
    "/recover",
    status_code=202,
    response_model=Envelope[accounts.RecoverySent],
    summary="Email a password-reset link (the same answer whether or not the email has a login)",
)
def recover(body: accounts.RecoverRequest, svc: ServicesDep, client: ClientDep) -> JSONResponse:
    return ok(accounts.recover(svc, body, client=client), 202)


@auth_router.post(
    "/reset",
    response_model=Envelope[accounts.SessionView],
    summary="Set a new password with the link from a reset email, and sign in",
    description="The link works once, for an hour, and clears the account's failed sign-ins.",
)
def reset(body: accounts.ResetRequest, svc: ServicesDep, client: ClientDep) -> JSONResponse:
    return ok(accounts.reset(svc, body, client=client))


@auth_router.post(
    "/logout",
    response_model=Envelope[accounts.SignedOut],
    summary="End this session: its access and refresh tokens stop working",
)
def logout(who: SignedInDep, token: TokenDep, svc: ServicesDep) -> JSONResponse:
    return ok(accounts.logout(svc, who, token))


@auth_router.get("/profile", response_model=Envelope[accounts.Profile], summary="The signed-in user and their tenant")
def profile(caller: SignedInDep, svc: ServicesDep) -> JSONResponse:
    return ok(accounts.profile(svc, caller))


# Complaints (MLA admins and staff of the caller's own tenant) ------------------------------------

complaints_router = APIRouter(prefix="/api/complaints", tags=["complaints"])

ComplaintRef = Annotated[str, Path(max_length=40, description="the complaint's id or its reference number")]


@complaints_router.get(
    "",
    response_model=Envelope[Page[ComplaintRow]],
    summary="The office's complaints: filters, full-text search, keyset pages",
    description="`q` finds every word by its start and its usual spellings (Tamil, Hindi, English: `potholes`"
    " finds `pothole`, `हैंडपम्प` finds `हैंडपंप`), a number only as itself (a reference); at most 200 characters."
    " A filter that does not parse is 422 `validation_error`, each detail naming its `field`: never the whole list.",
)
async def list_complaints(
    who: OfficeUserDep, svc: ServicesDep, filters: Annotated[ComplaintFilters, Query()]
) -> JSONResponse:
    items, next_cursor = await search.list_complaints(svc, who.tenant_id, filters)
    return ok({"items": items, "next_cursor": next_cursor})


class ExportQuery(ComplaintFilters):
    """The list's filters and the language of the file's words."""

    lang: export.ExportLanguage = Field(default="en", description="the language of the words (status, category…)")


@complaints_router.get(
    "/export.csv",
    summary="The filtered list as CSV (streamed), for Excel and LibreOffice",
    description="A filter that does not parse is 422 `validation_error` (JSON, no file): never the whole office.",
)
def export_complaints(
    who: OfficeUserDep, svc: ServicesDep, query: Annotated[ExportQuery, Query()]
) -> StreamingResponse:
    rows = export.export_rows(svc, who.tenant_id, query, query.lang, translator(query.lang))
    return csv_download(rows, "complaints.csv")


@complaints_router.post(
    "", status_code=201, response_model=Envelope[ComplaintDetail], summary="Log a walk-in or phone complaint by hand"
)
def create_complaint(
    body: ManualComplaint,
    who: OfficeUserDep,
    svc: ServicesDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> JSONResponse:
    return ok(casework.create_manual(svc, who, body, idempotency_key=idempotency_key), 201)


@complaints_router.get(
    "/{complaint}",
    response_model=Envelope[ComplaintDetail],
    summary="A complaint with its timeline, call and notifications",
)
def get_complaint(complaint: ComplaintRef, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(casework.get_complaint(svc, who.tenant_id, complaint))


@complaints_router.patch(
    "/{complaint}",
    response_model=Envelope[ComplaintDetail],
    summary="Change status, assignee, priority, category or SLA",
)
def update_complaint(
    complaint: ComplaintRef,
    body: ComplaintPatch,
    who: OfficeUserDep,
    svc: ServicesDep,
    if_match: IfMatchDep,
) -> JSONResponse:
    return ok(casework.update_complaint(svc, who, complaint, body, if_match=if_match))


@complaints_router.get(
    "/{complaint}/duplicate-check",
    response_model=Envelope[ComplaintLink],
    summary="The original a complaint would be marked a duplicate of, checked before the PATCH",
    description="`duplicate_of` as people write it (`#1002`, `1002`) or an id. The same rules as the PATCH"
    " that marks it: 404 `not_found` with the detail reason `no_such_complaint` (another office's reference"
    " too), 422 `self`, 409 `is_duplicate`, each about the field `duplicate_of`.",
)
def check_duplicate(
    complaint: ComplaintRef,
    duplicate_of: Annotated[ComplaintReference, Query()],
    who: OfficeUserDep,
    svc: ServicesDep,
) -> JSONResponse:
    return ok(casework.check_duplicate(svc, who.tenant_id, complaint, duplicate_of))


@complaints_router.post(
    "/{complaint}/undo-duplicate",
    response_model=Envelope[ComplaintDetail],
    summary="Undo a wrong duplicate (MLA admins): back to the status it had, the original loses its supporter",
    description="The note says why and goes on the timeline. 409 `conflict` with the detail reason"
    " `not_duplicate` for a complaint that is not a duplicate, or `stale` for an older version; 403 for staff.",
)
def undo_duplicate(
    complaint: ComplaintRef, body: UndoDuplicate, who: MlaAdminDep, svc: ServicesDep, if_match: IfMatchDep
) -> JSONResponse:
    return ok(casework.undo_duplicate(svc, who, complaint, body, if_match=if_match))


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


@complaints_router.post(
    "/{complaint}/notes",
    status_code=201,
    response_model=Envelope[ComplaintDetail],
    summary="An internal note on the timeline",
)
def add_note(complaint: ComplaintRef, body: NoteBody, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(casework.add_note(svc, who, complaint, body.text), 201)


# Stats (MLA admins and staff) --------------------------------------------------------------------

stats_router = APIRouter(prefix="/api/stats", tags=["stats"])


@stats_router.get(
    "",
    response_model=Envelope[Stats],
    summary="Counts by status, category and day; overdue; median time to resolve",
)
def stats(who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(complaint_stats.summary(svc, who.tenant_id))


# Team (MLA admins) ------------------------------------------------------------------------------

users_router = APIRouter(prefix="/api/users", tags=["users"])


@users_router.get("", response_model=Envelope[list[team.Member]], summary="The office's team")
def list_users(who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(team.members(svc, who))


@users_router.post(
    "/invite",
    status_code=201,
    response_model=Envelope[team.Member],
    summary="Invite staff or an admin (email with a sign-up link)",
    description="An `Idempotency-Key` makes a retry of the same invitation answer with the member it added,"
    " without a second email.",
)
def invite_user(
    body: team.Invite,
    who: MlaAdminDep,
    svc: ServicesDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> JSONResponse:
    return ok(team.invite(svc, who, body, idempotency_key=idempotency_key), 201)


@users_router.post(
    "/{user_id}/resend",
    response_model=Envelope[team.Member],
    summary="Email an invited member a new invitation link (the one before stops working)",
)
def resend_invitation(user_id: Annotated[str, Path(max_length=40)], who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(team.resend(svc, who, user_id))


@users_router.patch(
    "/{user_id}", response_model=Envelope[team.Member], summary="Change a member's role, or disable / enable them"
)
def change_user(
    user_id: Annotated[str, Path(max_length=40)], body: team.MemberChange, who: MlaAdminDep, svc: ServicesDep
) -> JSONResponse:
    return ok(team.change(svc, who, user_id, body))


# Agents (MLA admins) ----------------------------------------------------------------------------

agents_router = APIRouter(prefix="/api/agents", tags=["agents"])

AgentId = Annotated[str, Path(max_length=40)]


class AgentDeleted(TypedDict):
    agent_id: str
    deleted: Literal[True]


@agents_router.get("", response_model=Envelope[list[manage.AgentView]], summary="The office's voice agents")
def list_agents(who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(manage.list_agents(svc, who))


@agents_router.post(
    "", status_code=201, response_model=Envelope[manage.AgentView], summary="Add an agent for numbers of its own"
)
def create_agent(body: manage.AgentCreate, who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(manage.create_agent(svc, who, body), 201)


@agents_router.get("/{agent_id}", response_model=Envelope[manage.AgentView], summary="One agent's settings")
def get_agent(agent_id: AgentId, who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(manage.get_agent(svc, who, agent_id))


@agents_router.put(
    "/{agent_id}",
    response_model=Envelope[manage.AgentView],
    summary="Change greeting, languages, voices, categories or phone numbers",
    description="The change is saved first; the SIP dispatch rule and the agents' cache follow it. When they"
    " cannot be updated at once, the answer is still 200, with `routes_pending_since` set until they are.",
)
def update_agent(agent_id: AgentId, body: manage.AgentUpdate, who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(manage.update_agent(svc, who, agent_id, body))


@agents_router.put(
    "/{agent_id}/status", response_model=Envelope[manage.AgentView], summary="Take calls (active) or not (paused)"
)
def set_agent_status(agent_id: AgentId, body: manage.AgentStatus, who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(manage.set_status(svc, who, agent_id, body))


@agents_router.delete(
    "/{agent_id}",
    response_model=Envelope[AgentDeleted],
    summary="Remove an added agent and free its numbers (the main agent: 409)",
)
def delete_agent(agent_id: AgentId, who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    manage.delete_agent(svc, who, agent_id)
    return ok(AgentDeleted(agent_id=agent_id, deleted=True))


# Personal data (MLA admins): a constituent's DPDP requests, the number in the body only --------------

privacy_router = APIRouter(prefix="/api/privacy", tags=["privacy"])


class PersonBody(BaseModel):
    """A constituent's number, as typed (`98765 43210`, `+91…`): in the body, since access logs record paths."""

    model_config = ConfigDict(extra="forbid")
    phone: Annotated[str, StringConstraints(max_length=40)]


class ErasureBody(PersonBody):
    confirmation: Annotated[str, StringConstraints(max_length=2000)]


@privacy_router.post(
    "/search",
    response_model=Envelope[PersonSummary],
    summary="What the office holds about a number, counted, and its open complaints",
)
def privacy_search(body: PersonBody, who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(privacy.summary(svc, who, body.phone))


@privacy_router.post(
    "/export",
    summary="Everything the office holds about a number, as a JSON download (recorded)",
    responses={200: {"content": {"application/json": {}}, "description": "the export document"}},
)
def privacy_export(body: PersonBody, who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    document = privacy.export(svc, who, body.phone)
    return json_download(document, f"personal-data-{document['generated_at'][:10]}.json")


@privacy_router.post(
    "/erasures/preview",
    response_model=Envelope[ErasurePreview],
    summary="What erasing a number will do, with the confirmation `POST /erasures` takes (valid 10 minutes)",
)
def privacy_preview(body: PersonBody, who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(privacy.preview(svc, who, body.phone))


@privacy_router.post(
    "/erasures",
    status_code=201,
    response_model=Envelope[ErasureResult],
    summary="Erase a number's personal data in the office, as previewed",
    description="409 `open_complaints` (their references in `details`) while a complaint of theirs is open;"
    " 409 `preview_stale` when the preview expired or what it counted changed; 400 `confirmation_invalid` for"
    " a confirmation not from a preview of this number by this admin.",
)
def privacy_erase(body: ErasureBody, who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(privacy.erase(svc, who, body.phone, body.confirmation), 201)


@privacy_router.get(
    "/erasure-requests",
    response_model=Envelope[ErasureRequestList],
    summary="Callers who asked on a call to be forgotten, still to act on (newest first)",
    description="Each names the number the call came from (`caller_phone`): the agent deleted its memories at"
    " once; the rest of its data is the office's to export and erase (`POST /search`, `/export`, `/erasures`),"
    " and the erasure removes its requests. The newest 100; `more` when older ones wait too.",
)
def list_erasure_requests(who: MlaAdminDep, svc: ServicesDep) -> JSONResponse:
    return ok(memories.open_erasure_requests(svc, who))


@privacy_router.post(
    "/erasure-requests/{request_id}/handled",
    response_model=Envelope[ErasureRequest],
    summary="Dismiss a request without erasing: it leaves the list and stays in the number's export",
    description="Sets `handled_at` (a request dismissed again keeps its first time). 404 for an id that is not"
    " this office's.",
)
def mark_erasure_request_handled(
    request_id: Annotated[uuid.UUID, Path(description="an erasure request's id")], who: MlaAdminDep, svc: ServicesDep
) -> JSONResponse:
    return ok(memories.mark_erasure_request_handled(svc, who, request_id))


# Live updates (MLA admins and staff) ---------------------------------------------------------------

events_router = APIRouter(prefix="/api/events", tags=["live updates"])


@events_router.get(
    "",
    response_model=Envelope[live_events.CatchUp],
    summary="The office's live-update events after an id (what a reconnecting page missed)",
    description="Events are kept for 24 hours, the latest 1,000 of an office. `complete: false` means some"
    " after `after` are no longer kept (or more than 200 were missed): reload the view instead of applying"
    " them. 503 when live updates are unavailable.",
)
def list_events(who: OfficeUserDep, svc: ServicesDep, after: Annotated[int, Query(ge=0, le=2**62)] = 0) -> JSONResponse:
    return ok(live_events.catch_up(svc, live_events.office_feed(who.tenant_id), after))


# Caller memory (MLA admins and staff): Mem0's API over the office's own memories ------------------

mem0_router = APIRouter(prefix="/api/mem0", tags=["caller memory (Mem0)"])
MemoryId = Annotated[uuid.UUID, Path(description="a memory's id")]
UserId = Annotated[
    PhoneNumber, Query(description="the caller's phone, as typed; POST /memories/list keeps it out of access logs")
]


@mem0_router.post(
    "/memories",
    response_model=Envelope[Results] | Envelope[Job],
    summary="Remember something about a caller (Mem0's add)",
    description="`infer: false` stores `text` (or one message) as given and answers `{results: [{id, memory,"
    " event}]}` (ADD; a `slot` already holding another value: UPDATE; the same again: NONE). `infer: true`"
    " (the default) queues an extraction from `messages` and answers 202 with the job (`event_id`), read back"
    " at `GET /api/mem0/events/{event_id}`. 503 when the embeddings service or the queue is unavailable"
    " (nothing is stored).",
)
def add_memory(body: MemoryAdd, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    added = memories.add(svc, who, body)
    return ok(added, 202 if isinstance(added, Job) else 200)


@mem0_router.get(
    "/memories",
    response_model=Envelope[MemoryPage],
    summary="A caller's memories, newest first (Mem0's get_all)",
    description="The same as `POST /memories/list` with the filters in the query; prefer the POST, since a"
    " phone number in a query string reaches access logs.",
)
def list_memories(
    who: OfficeUserDep,
    svc: ServicesDep,
    user_id: UserId,
    person: Annotated[Person | None, Query()] = None,
    slot: Annotated[Slot | None, Query()] = None,
    kind: Annotated[Literal["fact", "profile"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> JSONResponse:
    given = {"user_id": user_id, "person": person, "slot": slot, "kind": kind}
    body = MemoryList(filters={k: v for k, v in given.items() if v is not None}, limit=limit, cursor=cursor)
    return ok(memories.list_memories(svc, who.tenant_id, body))


@mem0_router.post(
    "/memories/list",
    response_model=Envelope[MemoryPage],
    summary="Memories matching Mem0's filters, newest first (get_all, the phone in the body)",
    description="Filters: `user_id`, `person`, `agent_id`, `run_id`, `kind`, `slot`, `memory`, `created_at`,"
    " `updated_at`, `expires_at`, `complaint_id`, `metadata.<key>`; operators `eq`, `ne`, `in`, `nin`, `gt`,"
    " `gte`, `lt`, `lte`, `contains`, `icontains`, `*`; `AND`, `OR`, `NOT`. 400 naming what is not understood.",
)
def list_memories_post(body: MemoryList, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(memories.list_memories(svc, who.tenant_id, body))


@mem0_router.post(
    "/memories/search",
    response_model=Envelope[SearchResults],
    summary="The memories nearest in meaning to a query (Mem0's search)",
    description="`filters` must name a caller (`user_id`), an agent or a call, as Mem0's do; results carry a"
    " `score` (1 − cosine distance), best first, at most `top_k`, none below `threshold`.",
)
def search_memories(body: MemorySearch, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(SearchResults(results=memories.search(svc, who.tenant_id, body)))


@mem0_router.post(
    "/memories/delete",
    response_model=Envelope[Deleted],
    summary="Delete every memory of a caller, or of one person on their phone (the phone in the body)",
)
def delete_callers_memories_post(body: CallerRef, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(memories.delete_all(svc, who, body.user_id, body.person))


@mem0_router.delete(
    "/memories",
    response_model=Envelope[Deleted],
    summary="Delete every memory of a caller (Mem0's delete_all); each deletion is on its history",
)
def delete_callers_memories(
    who: OfficeUserDep, svc: ServicesDep, user_id: UserId, person: Annotated[Person | None, Query()] = None
) -> JSONResponse:
    return ok(memories.delete_all(svc, who, user_id, person))


@mem0_router.get("/memories/{memory_id}", response_model=Envelope[Memory], summary="One memory (Mem0's get)")
def get_memory(memory_id: MemoryId, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(memories.get(svc, who.tenant_id, memory_id))


@mem0_router.put(
    "/memories/{memory_id}",
    response_model=Envelope[MemoryResult],
    summary="Correct a memory: its text, metadata or expiry (Mem0's update)",
    description="409 `conflict` when the caller already has a fact with the new text.",
)
def update_memory(memory_id: MemoryId, body: MemoryUpdate, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(memories.update(svc, who, memory_id, body))


@mem0_router.delete(
    "/memories/{memory_id}", response_model=Envelope[MemoryResult], summary="Forget one memory (Mem0's delete)"
)
def delete_memory(memory_id: MemoryId, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(memories.delete(svc, who, memory_id))


@mem0_router.get(
    "/memories/{memory_id}/history",
    response_model=Envelope[list[HistoryEntry]],
    summary="Every ADD, UPDATE and DELETE of a memory, with who made it and the call (Mem0's history)",
)
def memory_history(memory_id: MemoryId, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(memories.history(svc, who.tenant_id, memory_id))


@mem0_router.get(
    "/events/{event_id}",
    response_model=Envelope[Job],
    summary="An extraction's outcome (Mem0's event): PENDING, then SUCCEEDED with its results or FAILED",
)
def memory_event(event_id: Annotated[uuid.UUID, Path()], who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(memory_jobs.get(svc, who.tenant_id, event_id))


for router in (
    auth_router, complaints_router, stats_router, users_router, agents_router, privacy_router, events_router,
    mem0_router, meetings_router,
):  # fmt: skip
    app.include_router(router)


@app.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse("/app/complaints", status_code=303)


@app.get("/register", include_in_schema=False)
def invitation_link(token: Annotated[str, Query(max_length=200)] = "") -> RedirectResponse:
    """Where invitation emails link to: the page that accepts the invitation."""
    return RedirectResponse(f"/app/register?{urlencode({'token': token})}", status_code=303)


app.mount("/app", LazyApp("dashboard_pages:pages"))  # after the API routes
_asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _asgi(event, context)
