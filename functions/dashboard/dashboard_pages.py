"""The MLA dashboard (`/app`): the office's complaints (list, filters, detail, actions, manual entry,
CSV) and what the office remembers about a complaint's caller, its meetings (list, calendar, schedule,
the live page, the transcript), an overview in charts, the team, the agents' settings and a
constituent's personal data (find, export, erase), for a phone or a desktop.

Server-rendered pages on the same domain functions as `/api`, scoped the same way: the tenant and
role come from the signed-in user, re-read from `platform.users` on every page.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, NamedTuple
from urllib.parse import urlencode

import phonenumbers
from fastapi import Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.datastructures import FormData

from mla_core.adapters import get_services
from mla_core.agents import browser_calls, manage
from mla_core.agents.config import DEFAULT_VOICES, category_name
from mla_core.agents.routing import load_agent_config
from mla_core.calls import missed, now
from mla_core.complaints import casework, export, intake, lifecycle, search, stats
from mla_core.complaints.models import LIMITS, ComplaintFilters, ComplaintPatch, ManualComplaint, UndoDuplicate
from mla_core.core.errors import AppError, ConflictError, InvalidInputError, RateLimitedError
from mla_core.core.principal import OfficeUser, Principal
from mla_core.core.retention import WEBHOOK_EVENT_DAYS, RetentionPolicy
from mla_core.http.envelope import csv_download, json_download, ok
from mla_core.identity import accounts, team
from mla_core.meetings import meetings, transcript
from mla_core.meetings.models import AGENDA_LIMIT, KINDS, STATUSES, TITLE_LIMIT, Kind, ParticipantAction
from mla_core.memory import memories
from mla_core.memory.models import LIST_LIMIT, MEMORY_LIMIT
from mla_core.privacy import requests as privacy
from mla_core.privacy.models import ConfirmationInvalidError, OpenComplaintsError, PreviewStaleError
from mla_core.privacy.retention import tenant_retention
from mla_core.web import caller_memory, charts
from mla_core.web import meetings as meeting_views
from mla_core.web.forms import NumbersBox, OnceKey, PostedForm, field_errors, parse_form
from mla_core.web.i18n import LANGUAGES, WORDS, translator
from mla_core.web.rendering import day_month, language, redirect
from mla_core.web.sessions import check_csrf, client_address, start_session
from mla_core.web.site import Site, create_site_app, locked_page

site = Site(
    prefix="/app",
    area="",
    nav=(
        ("complaints", "/app/complaints"),
        ("meetings", "/app/meetings"),
        ("overview", "/app/overview"),
        ("team", "/app/team"),
        ("agents", "/app/agents"),
        ("privacy", "/app/privacy"),
        ("profile", "/app/profile"),
    ),
    roles=("mla_admin", "staff"),
    home="/app/complaints",
    admins_only=("team", "agents", "privacy"),
    static=(Path(__file__).parent / "static",),  # the test call's script and the LiveKit client
)
pages = create_site_app(site, get_services)
Csrf = [Depends(check_csrf)]


def page_principal(request: Request) -> Principal:
    """The user behind the session cookie (a thread: renewing a session calls Supabase Auth)."""
    return site.signed_in(request, get_services())


async def office_user(request: Request, caller: Annotated[Principal, Depends(page_principal)]) -> OfficeUser:
    """The signed-in user of an active office, with the role as `platform.users` has it now."""
    return accounts.as_office_user(await site.member(request, get_services(), caller))


def office_admin(who: Annotated[OfficeUser, Depends(office_user)]) -> OfficeUser:
    return who.require_role("mla_admin")


User = Annotated[OfficeUser, Depends(office_user)]
Admin = Annotated[OfficeUser, Depends(office_admin)]


@pages.get("/")
def home(request: Request) -> Response:
    return redirect(request, site.home)


# Invitations and profile ---------------------------------------------------------------------


def _refused(exc: ValidationError | AppError) -> tuple[dict[str, str], int]:
    """A refused form's errors by field and its status; another office's id stays a 404 page."""
    if isinstance(exc, AppError):
        if exc.status_code == 404:
            raise exc
        return field_errors(exc), exc.status_code
    return field_errors(exc), 422


def _register(request: Request, values: Any, *, refused: AppError | None = None, **form: Any) -> Response:
    """The invitation page: whom the invitation is for (read without using it, counted as a guess when
    it is not valid), then the password form; an accepted or expired one says so before anyone types,
    with the way on (sign in, or ask for a new invitation); `refused` is why a posted form was not accepted."""
    t = translator(language(request))
    context: dict[str, Any] = {
        "values": values,
        "errors": form.get("errors", {}),
        "invitation": None,
        "spent": None,
        "asked": form.get("asked", False),
        "password_min": accounts.PASSWORD_MIN_LENGTH,
        "password_max": accounts.PASSWORD_MAX_LENGTH,
    }
    status = form.get("status", 200)
    try:
        if refused is not None:
            raise refused
        token = str(values.get("token") or "")
        context["invitation"] = accounts.invitation(get_services(), token, client=client_address(request))
    except RateLimitedError as exc:
        return locked_page(site, request, "dashboard/register.html", context, exc)
    except accounts.SpentInvitationError as exc:
        context["spent"], status = exc, 400
    except accounts.InvitationError:
        context["error"], status = t("invitation_invalid"), 400
    return site.page(request, "dashboard/register.html", context, status_code=status)


@pages.get("/register")
def register_page(request: Request, token: str = "", asked: str = "") -> Response:
    return _register(request, {"token": token[:200]}, asked=asked == "1")


@pages.post("/register", dependencies=Csrf)
def register(request: Request, form: PostedForm) -> Response:
    try:
        body = parse_form(form, accounts.RegisterRequest)
        session = accounts.register(get_services(), body, client=client_address(request))
    except ValidationError as exc:
        return _register(request, form, errors=field_errors(exc), status=422)
    except (accounts.InvitationError, RateLimitedError) as exc:
        return _register(request, form, refused=exc)
    response = redirect(request, site.home)
    start_session(response, session)
    return response


@pages.post("/register/renewal", dependencies=Csrf)
def ask_for_invitation(request: Request, form: PostedForm) -> Response:
    """An expired invitation's "ask for a new invitation": the office's admins are emailed."""
    try:
        body = parse_form(form, accounts.RenewalRequest)
        accounts.ask_for_invitation(get_services(), body, client=client_address(request))
    except ValidationError:
        return _register(request, form, refused=accounts.InvitationError("the link is not an invitation's"))
    except (accounts.InvitationError, RateLimitedError) as exc:
        return _register(request, form, refused=exc)
    return redirect(request, f"{site.prefix}/register?{urlencode({'token': body.token, 'asked': '1'})}")


@pages.get("/profile")
def profile(request: Request, who: User) -> Response:
    me = accounts.profile(get_services(), who)
    return site.page(request, "dashboard/profile.html", {"me": me}, who=who)


# Complaints -----------------------------------------------------------------------------------

LIST_COLUMNS = ("reference", "status", "category", "description", "location", "assignee", "created")


class ListFilters(NamedTuple):
    """The list's filters as the query string gives them: `understood` (None when one of them does
    not parse: then nothing is listed, counted or exported, never the whole office), the errors by
    filter, and what the form shows (the filters that parsed, the search as typed)."""

    understood: ComplaintFilters | None
    errors: dict[str, str]
    shown: ComplaintFilters
    typed_q: str


def _filters(request: Request) -> ListFilters:
    """The list's filters from the query string (blank fields left out)."""
    params: dict[str, Any] = {
        k: v for k, v in request.query_params.items() if v.strip() and k not in ("status", "lang")
    }
    statuses = [s for s in request.query_params.getlist("status") if s]
    if statuses:
        params["status"] = statuses
    for day in ("created_from", "created_to"):
        if day in params and len(params[day]) == 10:  # a date input's yyyy-mm-dd: the whole day, IST
            params[day] += "T00:00:00+05:30" if day == "created_from" else "T23:59:59+05:30"
    typed_q = request.query_params.get("q", "")
    try:
        filters = ComplaintFilters.model_validate(params)
        return ListFilters(filters, {}, filters, filters.q or "")
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for field, sentence in field_errors(exc).items():
            errors.setdefault(field.split(".")[0], sentence)  # `status.0`: the status filter
    try:
        shown = ComplaintFilters.model_validate({k: v for k, v in params.items() if k not in errors})
    except ValidationError:
        shown = ComplaintFilters()
    return ListFilters(None, errors, shown, typed_q)


@pages.get("/complaints")
async def complaints(request: Request, who: User) -> Response:
    filters, errors, shown, typed_q = _filters(request)
    page = await search.list_page(get_services(), who.tenant_id, filters)
    lang = language(request)
    t = translator(lang)
    context = {
        **page,
        "categories": {code: category_name(code, names, lang) for code, names in page["categories"].items()},
        "filters": shown,
        "typed_q": typed_q,
        "query_limit": search.QUERY_LIMIT,
        "errors": errors,
        "query": request.url.query,
        "columns": LIST_COLUMNS,
        "statuses": lifecycle.STATUSES,
        "status_names": {status: t(f"s_{status}") for status in lifecycle.STATUSES},
        "next_query": _with_cursor(request, page["next_cursor"]),
    }
    return site.page(request, "dashboard/complaints.html", context, who=who)


def _with_cursor(request: Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    return urlencode([*params, ("cursor", cursor)])


@pages.get("/labels/{lang}.css")
def list_labels(lang: str) -> Response:
    """The complaint list's column names for the phone layout (cards), in `lang`: a stylesheet, so the
    page does not repeat them on every row."""
    t = translator(lang if lang in LANGUAGES else "en")
    rules = "".join(
        f"table.complaints td:nth-of-type({n})::before{{content:{json.dumps(t(key) + ': ', ensure_ascii=False)}}}"
        for n, key in enumerate(LIST_COLUMNS, start=1)
    )
    css = f"@media (max-width: 640px) {{{rules}}}"
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=86400"})


@pages.get("/complaints/count")
def count(request: Request, who: User) -> Response:
    """How many complaints match (up to 10,000), loaded after the list so the list stays fast."""
    filters = _filters(request).understood
    found = search.count_complaints(get_services(), who.tenant_id, filters, cap=10_000) if filters else 0
    return site.page(request, "dashboard/_count.html", {"count": found, "capped": found >= 10_000}, who=who)


@pages.get("/calls/now")
def calls_now(request: Request, who: User) -> Response:
    """The "calls now" panel: the office's calls in progress (re-read on each call started or ended)."""
    calls = now.calls_in_progress(get_services(), who.tenant_id)
    context = {"calls": calls, "now": datetime.now(UTC)}
    return site.page(request, "dashboard/_calls_now.html", context, who=who)


@pages.get("/alerts/sla")
def sla_alert(request: Request, who: User, reference: Annotated[int, Query(ge=1, le=10**15)]) -> Response:
    """The banner for a complaint that just passed its due time (nothing for another office's)."""
    try:
        complaint = casework.get_complaint(get_services(), who.tenant_id, str(reference))
    except AppError:
        complaint = None
    names = search.choices(get_services(), who.tenant_id)["categories"] if complaint else {}
    category = (
        category_name(complaint["category"], names.get(complaint["category"]), language(request)) if complaint else ""
    )
    context = {"complaint": complaint, "category": category}
    return site.page(request, "dashboard/_sla_alert.html", context, who=who)


@pages.get("/complaints/export.csv")
def export_csv(request: Request, who: User) -> Response:
    """The list as CSV, its words in `?lang=` (the interface's language by default); refused (400)
    when a filter does not parse, rather than exporting more than was asked for."""
    filters, errors, _, _ = _filters(request)
    if filters is None:
        message = " ".join([translator(language(request))("export_refused_filters"), *errors.values()])
        return site.page(request, "error.html", {"status": 400, "message": message}, who=who, status_code=400)
    lang = export.export_language(request.query_params.get("lang") or language(request))
    rows = export.export_rows(get_services(), who.tenant_id, filters, lang, translator(lang))
    return csv_download(rows, "complaints.csv")


def _new_form(
    request: Request, who: OfficeUser, values: FormData, errors: dict[str, str], status: int, saved: int | None = None
) -> Response:
    config = load_agent_config(get_services(), who.tenant_id)
    context = {
        "values": values,
        "errors": errors,
        "categories": config.categories if config else [],
        "description_max": LIMITS["description"].high,
        "saved": saved,
    }
    return site.page(request, "dashboard/complaint_new.html", context, who=who, status_code=status)


@pages.get("/complaints/new")
def new_complaint(request: Request, who: User, form: str = "") -> Response:
    """A blank walk-in form under its one-time key, which the address keeps (`?form=`): Back after
    saving comes to this address again, which then says the form was saved instead of offering it."""
    if not form:
        return redirect(request, f"{site.prefix}/complaints/new?{urlencode({'form': uuid.uuid4()})}")
    saved = intake.saved_under(get_services(), who.tenant_id, intake.staff_key(who.user_id, form[:200]))
    blank = FormData({"language": "ta", "idempotency_key": form[:200]})
    return _new_form(request, who, blank, {}, 200, saved)


@pages.post("/complaints/new", dependencies=Csrf)
def create_complaint(request: Request, who: User, form: PostedForm) -> Response:
    """Saved once per form key: a second post of the same form lands on the first's complaint."""
    try:
        body, key = parse_form(form, ManualComplaint), parse_form(form, OnceKey).idempotency_key
        created = casework.create_manual(get_services(), who, body, idempotency_key=key)
    except (ValidationError, AppError) as exc:
        return _new_form(request, who, form, *_refused(exc))
    return redirect(request, f"{site.prefix}/complaints/{created['reference']}")


def _detail(
    request: Request,
    who: OfficeUser,
    reference: str,
    *,
    notice: str = "",
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: Any = None,
    confirm: dict[str, Any] | None = None,
) -> Response:
    """The complaint's page; `errors` by field and the posted `values` of a refused form, `confirm`
    the original a duplicate would be marked of (the step before confirming)."""
    complaint = casework.get_complaint(get_services(), who.tenant_id, reference[:40])
    choices = search.choices(get_services(), who.tenant_id)
    linked = [*([complaint["original"]] if complaint.get("original") else []), *complaint.get("duplicates", [])]
    context = {
        "c": complaint,
        "allowed": lifecycle.allowed(complaint["status"]),
        "notice": notice,
        "errors": errors or {},
        "values": values or {},
        "confirm": confirm,
        "is_admin": who.role == "mla_admin",
        "references": {str(link["id"]): link["reference"] for link in linked if link},
        "phone_text": phone_text,
        "people": choices["people"],
        "category_names": choices["categories"],
    }
    return site.page(request, "dashboard/complaint.html", context, who=who, status_code=status)


def phone_text(number: str) -> str:
    """A stored (E.164) number as people read it: `+91 98765 43210`, a landline `+91 44 2345 6789`; one
    that is not a valid number, as stored."""
    try:
        parsed = phonenumbers.parse(number, "IN")
    except phonenumbers.NumberParseException:
        return number
    if not phonenumbers.is_valid_number(parsed):
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@pages.get("/complaints/{reference}")
def complaint(request: Request, who: User, reference: str, undone: str = "") -> Response:
    return _detail(request, who, reference, notice="dup_undone" if undone else "")


class PageChange(ComplaintPatch):
    """A change as the complaint's page posts it: what staff typed is trimmed; a duplicate is marked
    once its original was shown (`confirm`)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    confirm: bool = False


# The page's fields that show their own error; any other goes in the notice above the forms.
_FIELDS_SHOWN = ("status", "duplicate_of", "transferred_to", "note", "assigned_to")


@pages.post("/complaints/{reference}/change", dependencies=Csrf)
def change(request: Request, who: User, reference: str, form: PostedForm) -> Response:
    """A status change, an assignment or a note: one form each, all through the same PATCH rules. A
    duplicate first shows the original it names (or why not, next to the field), then is confirmed."""
    services, reference = get_services(), reference[:40]
    try:
        patch = parse_form(form, PageChange)
        if form.get("action") == "note":
            casework.add_note(services, who, reference, _note(patch))
        elif patch.status == "duplicate" and not patch.confirm:
            original = casework.check_duplicate(services, who.tenant_id, reference, patch.duplicate_of)
            return _detail(request, who, reference, values=form, confirm={"original": original, "note": patch.note})
        else:
            casework.update_complaint(services, who, reference, patch, if_match=None)
        return redirect(request, f"{site.prefix}/complaints/{reference}")
    except ConflictError as exc:
        if any(d.get("reason") == "stale" for d in exc.details):
            return _detail(request, who, reference, notice="stale_edit", status=409)
        errors, status = _refused_here(exc)
    except (ValidationError, AppError) as exc:
        errors, status = _refused_here(exc)
    notice = " ".join(sentence for field, sentence in errors.items() if field not in _FIELDS_SHOWN)
    return _detail(request, who, reference, notice=notice, status=status, errors=errors, values=form)


def _refused_here(exc: ValidationError | AppError) -> tuple[dict[str, str], int]:
    """A refused change's errors by field: an original that is not found is the field's error; the
    complaint itself not found (another office's) stays the 404 page."""
    if isinstance(exc, AppError) and exc.status_code == 404 and not any(d.get("field") for d in exc.details):
        raise exc
    status = exc.status_code if isinstance(exc, AppError) else 422
    return field_errors(exc), 422 if status == 404 else status  # the form refused, the page is there


@pages.post("/complaints/{reference}/undo-duplicate", dependencies=Csrf)
def undo_duplicate(request: Request, who: Admin, reference: str, form: PostedForm) -> Response:
    """An office admin's undoing of a wrong duplicate, with a note saying why (on both timelines)."""
    services, reference = get_services(), reference[:40]
    try:
        casework.undo_duplicate(services, who, reference, parse_form(form, UndoDuplicate), if_match=None)
    except (ValidationError, AppError) as exc:
        if isinstance(exc, ConflictError) and any(d.get("reason") == "stale" for d in exc.details):
            return _detail(request, who, reference, notice="stale_edit", status=409)
        errors, status = _refused_here(exc)
        undo = {"undo_" + field: sentence for field, sentence in errors.items()}
        notice = " ".join(sentence for field, sentence in errors.items() if field != "note")
        return _detail(request, who, reference, notice=notice, status=status, errors=undo, values=form)
    return redirect(request, f"{site.prefix}/complaints/{reference}?undone=1")


def _note(patch: ComplaintPatch) -> str:
    """The note form's text, held to a PATCH's rule for a note (as the JSON API's notes are)."""
    if patch.note is None:
        raise InvalidInputError("a note needs its text", details=[{"field": "note", "reason": "Field required"}])
    return patch.note


# A complaint's caller: what the office remembers -----------------------------------------------
# The caller is the complaint's own number, so no number goes in a URL (access logs record them).


def _caller(
    request: Request,
    who: OfficeUser,
    reference: str,
    *,
    notice: str = "",
    deleted: uuid.UUID | None = None,
    errors: dict[str, str] | None = None,
    values: Any = None,
    status: int = 200,
) -> Response:
    """The caller's page; `errors` a refused correction's sentence by memory id, `values` its form."""
    page = caller_memory.caller_page(get_services(), who, reference[:40], deleted=deleted)
    context = {
        "page": page,
        "reference": page.reference,
        "notice": notice,
        "errors": errors or {},
        "values": values or {},
        "phone_text": phone_text,
        "text_max": MEMORY_LIMIT,
        "shown_max": LIST_LIMIT,
    }
    return site.page(request, "dashboard/caller.html", context, who=who, status_code=status)


@pages.get("/complaints/{reference}/caller")
def caller(request: Request, who: User, reference: str, saved: str = "", deleted: uuid.UUID | None = None) -> Response:
    """What the office remembers about the complaint's caller; `?saved=1` after a correction,
    `?deleted=<its id>` after a deletion (the item's history, the deletion last)."""
    return _caller(request, who, reference, notice="mem_saved" if saved else "", deleted=deleted)


@pages.post("/complaints/{reference}/caller/{memory_id}", dependencies=Csrf)
def correct_memory(request: Request, who: User, reference: str, memory_id: uuid.UUID, form: PostedForm) -> Response:
    """One item's text corrected; refused (empty, too long, changed by someone else since) next to its box."""
    reference = reference[:40]
    try:
        correction = parse_form(form, caller_memory.Correction)
        caller_memory.correct(get_services(), who, reference, memory_id, correction)
    except (ValidationError, AppError) as exc:
        errors, status = _refused(exc)
        sentence = errors.get("text") or " ".join(errors.values())
        return _caller(request, who, reference, errors={str(memory_id): sentence}, values=form, status=status)
    return redirect(request, f"{site.prefix}/complaints/{reference}/caller?saved=1")


@pages.post("/complaints/{reference}/caller/{memory_id}/delete", dependencies=Csrf)
def delete_memory(request: Request, who: User, reference: str, memory_id: uuid.UUID, form: PostedForm) -> Response:
    """One item deleted, asked first: a page shows it and what deleting does, and deletes when its
    button posts `confirm=delete`."""
    services, reference = get_services(), reference[:40]
    if form.get("confirm") != "delete":
        number, item = caller_memory.item(services, who, reference, memory_id)
        return site.page(request, "dashboard/memory_delete.html", {"item": item, "reference": number}, who=who)
    caller_memory.forget(services, who, reference, memory_id)
    return redirect(request, f"{site.prefix}/complaints/{reference}/caller?deleted={memory_id}")


# Meetings -------------------------------------------------------------------------------------
# Any office user schedules, edits and follows a meeting; its host (an MLA admin or who scheduled it)
# starts, runs and ends it (`mla_core.meetings`). What ends, removes or stops something is asked first.


@pages.get("/meetings")
def meetings_list(request: Request, who: User, deleted: str = "") -> Response:
    """Upcoming (from today, IST), past or all meetings, by status and kind, a page at a time."""
    listed = meeting_views.meeting_list(get_services(), who.tenant_id, request.query_params)
    context = {
        "listed": listed,
        "query": request.url.query,
        "whens": meeting_views.WHENS,
        "statuses": STATUSES,
        "kinds": KINDS,
        "notice": "mt_deleted" if deleted else "",
        "next_query": _with_cursor(request, listed.next_cursor),
    }
    return site.page(request, "dashboard/meetings.html", context, who=who)


@pages.get("/meetings/calendar")
def meetings_calendar(
    request: Request, who: User, view: meeting_views.View = "week", day: date | None = None, kind: Kind | None = None
) -> Response:
    """A week or a month of meetings, each on its day in IST."""
    shown = meeting_views.calendar(get_services(), who.tenant_id, view, day, kind)
    context = {"cal": shown, "kind": kind, "kinds": KINDS, "query": request.url.query}
    return site.page(request, "dashboard/meeting_calendar.html", context, who=who)


def _meeting_form(
    request: Request,
    who: OfficeUser,
    values: meeting_views.FormValues,
    errors: dict[str, str] | None = None,
    status: int = 200,
    meeting: Any = None,
) -> Response:
    """The schedule form, or a meeting's edit form (`meeting`: a live one's shows only its words)."""
    context = {
        "values": values,
        "errors": errors or {},
        "meeting": meeting,
        "kinds": KINDS,
        "title_max": TITLE_LIMIT,
        "agenda_max": AGENDA_LIMIT,
        "duration": (meeting_views.DURATION_MIN, meeting_views.DURATION_MAX),
    }
    return site.page(request, "dashboard/meeting_form.html", context, who=who, status_code=status)


def _form_refused(exc: ValidationError | AppError, request: Request) -> tuple[dict[str, str], int]:
    if isinstance(exc, ValidationError):
        return meeting_views.form_errors(exc, translator(language(request))), 422
    if exc.status_code == 404:
        raise exc
    return {"form": meeting_views.refusal(exc, translator(language(request)))}, exc.status_code


@pages.get("/meetings/new")
def new_meeting(request: Request, who: User, day: date | None = None) -> Response:
    return _meeting_form(request, who, meeting_views.blank_form(get_services(), who.tenant_id, day))


@pages.post("/meetings/new", dependencies=Csrf)
def schedule_meeting(request: Request, who: User, form: PostedForm) -> Response:
    try:
        body = parse_form(form, meeting_views.MeetingForm).create()
        meeting = meetings.schedule(get_services(), who, body)
    except (ValidationError, AppError) as exc:
        return _meeting_form(request, who, meeting_views.posted(form), *_form_refused(exc, request))
    return redirect(request, f"{site.prefix}/meetings/{meeting.id}")


def _meeting(
    request: Request, who: OfficeUser, meeting_id: uuid.UUID, *, notice: str = "", error: str = "", status: int = 200
) -> Response:
    page = meeting_views.meeting_page(get_services(), who, meeting_id)
    context = {"p": page, "m": page.meeting, "notice": notice, "error": error}
    return site.page(request, "dashboard/meeting.html", context, who=who, status_code=status)


def _meeting_refused(request: Request, who: OfficeUser, meeting_id: uuid.UUID, exc: AppError) -> Response:
    """The meeting's page saying why an action was refused (another office's meeting stays a 404)."""
    if exc.status_code == 404 and not any(d.get("reason") == "no_such_participant" for d in exc.details):
        raise exc
    error = meeting_views.refusal(exc, translator(language(request)))
    return _meeting(request, who, meeting_id, error=error, status=exc.status_code)


@pages.get("/meetings/{meeting_id}")
def meeting_page(request: Request, who: User, meeting_id: uuid.UUID, saved: str = "") -> Response:
    """The meeting's live page: its state and the host's controls, the participants, the transcript as
    it is stored (`live:meeting-<id>` reads what follows), joining in the browser."""
    return _meeting(request, who, meeting_id, notice="mt_saved" if saved else "")


@pages.get("/meetings/{meeting_id}/segments")
def meeting_segments(
    request: Request, who: User, meeting_id: uuid.UUID, after: Annotated[int, Query(ge=0, le=2**62)] = 0
) -> Response:
    """The transcript's segments stored after segment `after`, for the live page's list."""
    said = meetings.transcript(get_services(), who.tenant_id, meeting_id, after=after)
    return site.page(request, "dashboard/_segments.html", {"transcript": said}, who=who)


@pages.get("/meetings/{meeting_id}/edit")
def edit_meeting_page(request: Request, who: User, meeting_id: uuid.UUID) -> Response:
    meeting = meetings.get(get_services(), who.tenant_id, meeting_id)
    return _meeting_form(request, who, meeting_views.form_of(meeting), meeting=meeting)


@pages.post("/meetings/{meeting_id}/edit", dependencies=Csrf)
def edit_meeting(request: Request, who: User, meeting_id: uuid.UUID, form: PostedForm) -> Response:
    """Saved with the version it was shown at: a change made meanwhile is shown, not overwritten."""
    services = get_services()
    try:
        meeting_views.edit(services, who, meeting_id, form)
    except (ValidationError, AppError) as exc:
        errors, status = _form_refused(exc, request)
        current = meetings.get(services, who.tenant_id, meeting_id)
        stale = isinstance(exc, ConflictError) and any(d.get("reason") == "stale" for d in exc.details)
        values = meeting_views.form_of(current) if stale else meeting_views.posted(form)
        return _meeting_form(request, who, values, errors, status, meeting=current)
    return redirect(request, f"{site.prefix}/meetings/{meeting_id}?saved=1")


def _ask(
    request: Request, who: OfficeUser, meeting_id: uuid.UUID, what: str, participant: Any = None, action: str = ""
) -> Response:
    """The question before an action that ends, removes or stops something: what it does, and its button."""
    meeting = meetings.get(get_services(), who.tenant_id, meeting_id)
    context = {"meeting": meeting, "what": what, "participant": participant, "action": action or what}
    return site.page(request, "dashboard/meeting_confirm.html", context, who=who)


@pages.post("/meetings/{meeting_id}/start", dependencies=Csrf)
def start_meeting(request: Request, who: User, meeting_id: uuid.UUID) -> Response:
    try:
        meetings.start(get_services(), who, meeting_id)
    except AppError as exc:
        return _meeting_refused(request, who, meeting_id, exc)
    return redirect(request, f"{site.prefix}/meetings/{meeting_id}")


@pages.post("/meetings/{meeting_id}/end", dependencies=Csrf)
def end_meeting(request: Request, who: User, meeting_id: uuid.UUID, form: PostedForm) -> Response:
    if form.get("confirm") != "end":
        return _ask(request, who, meeting_id, "end")
    try:
        meetings.end(get_services(), who, meeting_id)
    except AppError as exc:
        return _meeting_refused(request, who, meeting_id, exc)
    return redirect(request, f"{site.prefix}/meetings/{meeting_id}")


@pages.post("/meetings/{meeting_id}/cancel", dependencies=Csrf)
def cancel_meeting(request: Request, who: User, meeting_id: uuid.UUID, form: PostedForm) -> Response:
    if form.get("confirm") != "cancel":
        return _ask(request, who, meeting_id, "cancel")
    try:
        meetings.cancel(get_services(), who, meeting_id)
    except AppError as exc:
        return _meeting_refused(request, who, meeting_id, exc)
    return redirect(request, f"{site.prefix}/meetings/{meeting_id}")


@pages.post("/meetings/{meeting_id}/delete", dependencies=Csrf)
def delete_meeting(request: Request, who: User, meeting_id: uuid.UUID, form: PostedForm) -> Response:
    """A meeting deleted, asked first (one that was held, with its transcript: an MLA admin's)."""
    if form.get("confirm") != "delete":
        return _ask(request, who, meeting_id, "delete")
    try:
        meetings.delete(get_services(), who, meeting_id)
    except AppError as exc:
        return _meeting_refused(request, who, meeting_id, exc)
    return redirect(request, f"{site.prefix}/meetings?deleted=1")


@pages.post("/meetings/{meeting_id}/recording/stop", dependencies=Csrf)
def stop_meeting_recording(request: Request, who: User, meeting_id: uuid.UUID, form: PostedForm) -> Response:
    """The host stops the recording and the transcript for the rest of the meeting, asked first."""
    if form.get("confirm") != "stop":
        return _ask(request, who, meeting_id, "stop", action="recording/stop")
    try:
        meetings.stop_recording(get_services(), who, meeting_id)
    except AppError as exc:
        return _meeting_refused(request, who, meeting_id, exc)
    return redirect(request, f"{site.prefix}/meetings/{meeting_id}")


@pages.post("/meetings/{meeting_id}/participants/{identity}", dependencies=Csrf)
def meeting_participant(
    request: Request, who: User, meeting_id: uuid.UUID, identity: str, form: PostedForm
) -> Response:
    """The host mutes, unmutes or removes a participant (a removal asked first)."""
    services, identity = get_services(), identity[:120]
    try:
        body = parse_form(form, ParticipantAction)
        if body.action == "remove" and form.get("confirm") != "remove":
            participant = meeting_views.participant(services, who, meeting_id, identity)
            return _ask(request, who, meeting_id, "remove", participant, f"participants/{identity}")
        meetings.act_on_participant(services, who, meeting_id, identity, body)
    except ValidationError:
        meetings.get(services, who.tenant_id, meeting_id)  # another office's meeting: 404
        return _meeting(request, who, meeting_id, error=translator(language(request))("choose_option"), status=422)
    except AppError as exc:
        return _meeting_refused(request, who, meeting_id, exc)
    return redirect(request, f"{site.prefix}/meetings/{meeting_id}")


@pages.post("/meetings/{meeting_id}/token", dependencies=Csrf)
def meeting_join_token(who: User, meeting_id: uuid.UUID) -> Response:
    """The LiveKit URL and token to join the live meeting in the browser (JSON, for `static/meetings.js`)."""
    return ok(meeting_views.join(get_services(), who, meeting_id))


@pages.get("/meetings/{meeting_id}/transcript")
def meeting_transcript(request: Request, who: User, meeting_id: uuid.UUID) -> Response:
    """The whole transcript, to read or print, with its files."""
    services = get_services()
    context = {
        "m": meetings.get(services, who.tenant_id, meeting_id),
        "transcript": meetings.transcript(services, who.tenant_id, meeting_id),
    }
    return site.page(request, "dashboard/meeting_transcript.html", context, who=who)


@pages.get("/meetings/{meeting_id}/transcript.txt")
def meeting_transcript_text(who: User, meeting_id: uuid.UUID) -> Response:
    said = meetings.transcript(get_services(), who.tenant_id, meeting_id)
    return _transcript_file(transcript.as_text(said), "text/plain", f"meeting-{meeting_id}.txt")


@pages.get("/meetings/{meeting_id}/transcript.vtt")
def meeting_transcript_vtt(who: User, meeting_id: uuid.UUID) -> Response:
    said = meetings.transcript(get_services(), who.tenant_id, meeting_id)
    return _transcript_file(transcript.as_vtt(said), "text/vtt", f"meeting-{meeting_id}.vtt")


def _transcript_file(text: str, media_type: str, filename: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    return Response(text, media_type=f"{media_type}; charset=utf-8", headers=headers)


# Overview -------------------------------------------------------------------------------------


@pages.get("/overview")
def overview(request: Request, who: User) -> Response:
    summary = stats.summary(get_services(), who.tenant_id)
    trend = stats.overdue_trend(get_services(), who.tenant_id)
    logged = {d["day"]: d["count"] for d in summary["by_day"]}
    lang = language(request)
    t = translator(lang)
    names = search.choices(get_services(), who.tenant_id)["categories"]
    by_category = sorted(summary["by_category"].items(), key=lambda kv: -kv[1])
    context = {
        "stats": summary,
        "per_day": charts.bars([(day_month(d["day"], lang), logged.get(d["day"], 0)) for d in trend]),  # zeros too
        "by_category": charts.rows([(category_name(code, names.get(code), lang), n) for code, n in by_category]),
        "by_status": charts.rows([(t(f"s_{s}"), summary["by_status"].get(s, 0)) for s in lifecycle.STATUSES]),
        "overdue": charts.bars([(day_month(d["day"], lang), d["count"]) for d in trend], tone="bad"),
    }
    return site.page(request, "dashboard/overview.html", context, who=who)


# Team (MLA admins) ----------------------------------------------------------------------------


def _team(
    request: Request, who: OfficeUser, errors: dict[str, str] | None = None, status: int = 200, notice: str = ""
) -> Response:
    members, once = team.members(get_services(), who), uuid.uuid4().hex  # a new key for each form shown
    context = {"members": members, "errors": errors or {}, "notice": notice, "idempotency_key": once}
    return site.page(request, "dashboard/team.html", context, who=who, status_code=status)


@pages.get("/team")
def team_page(request: Request, who: Admin, resent: str = "", disabled: str = "") -> Response:
    """The team; after a resend or a disable, a notice naming the member (`?resent=` / `?disabled=` their id)."""
    t, done = translator(language(request)), resent or disabled
    named = next((m for m in team.members(get_services(), who) if done and m["id"] == done[:40]), None)
    notice = (
        t("invitation_resent" if resent else "member_disabled_notice").format(email=named["email"]) if named else ""
    )
    return _team(request, who, notice=notice)


@pages.post("/team/invite", dependencies=Csrf)
def invite(request: Request, who: Admin, form: PostedForm) -> Response:
    try:
        key = parse_form(form, OnceKey).idempotency_key
        team.invite(get_services(), who, parse_form(form, team.Invite), idempotency_key=key)
    except (ValidationError, AppError) as exc:
        return _team(request, who, *_refused(exc))
    return redirect(request, f"{site.prefix}/team")


@pages.post("/team/{user_id}/resend", dependencies=Csrf)
def resend_invitation(request: Request, who: Admin, user_id: str) -> Response:
    """A new invitation email for an invited member, its link expired or not (the one before stops working)."""
    try:
        member = team.resend(get_services(), who, user_id[:40])
    except AppError as exc:
        return _team(request, who, *_refused(exc))
    return redirect(request, f"{site.prefix}/team?resent={member['id']}")


@pages.post("/team/{user_id}", dependencies=Csrf)
def change_member(request: Request, who: Admin, user_id: str, form: PostedForm) -> Response:
    """A member's new role, or disabled / enabled (`disabled` is `true` or `false`). A disable is asked
    first: a page names the person and what it does, and disables when its button posts `confirm=disable`."""
    services, user_id = get_services(), user_id[:40]
    try:
        change = parse_form(form, team.MemberChange)
        if change.disabled and form.get("confirm") != "disable":
            member = team.member(services, who, user_id)
            return site.page(request, "dashboard/team_disable.html", {"member": member}, who=who)
        team.change(services, who, user_id, change)
    except (ValidationError, AppError) as exc:
        return _team(request, who, *_refused(exc))
    return redirect(request, f"{site.prefix}/team" + (f"?disabled={user_id}" if change.disabled else ""))


# Agents (MLA admins) --------------------------------------------------------------------------


def greeting_first(greeting: str | None, ticked: list[str]) -> list[str]:
    """The languages in order: the greeting language, then the other ticked ones as posted."""
    return ([greeting] if greeting else []) + [code for code in ticked if code != greeting]


class AgentForm(BaseModel):
    """An agent's settings as its form posts them: a greeting and a voice box for each of its
    languages (`greeting_<code>`, `voice_<code>`), its numbers in one box. Its languages in order:
    `greeting_language` (the one callers are greeted in) first, then the other ticked ones in the
    order the page shows them (the agent's own order), so a save that changes nothing there keeps it.
    The MLA's and constituency's names in a language's script (`mla_name_local_<code>`,
    `constituency_local_<code>`) for each language in `local_names` (the boxes the form shows, filled
    with what is stored): a blank box goes back to the English spelling."""

    model_config = ConfigDict(extra="allow")

    version: str | None = None
    name: str | None = None
    greeting_language: str | None = None
    languages: list[str] = []
    phone_numbers: NumbersBox = []
    local_names: list[str] = []

    @model_validator(mode="after")
    def _greeting_first(self) -> AgentForm:
        self.languages = greeting_first(self.greeting_language, self.languages)
        return self

    def _by_language(self, box: str) -> dict[str, str]:
        boxes = self.model_extra or {}
        return {code: boxes[f"{box}_{code}"] for code in self.languages if f"{box}_{code}" in boxes}

    def _local(self, box: str) -> dict[str, str] | None:
        boxes = self.model_extra or {}
        return {code: str(boxes.get(f"{box}_{code}", "")) for code in self.local_names} or None

    def update(self) -> manage.AgentUpdate:
        settings = {
            "version": self.version,
            "name": self.name,
            "languages": self.languages or None,
            "greetings": self._by_language("greeting"),
            "voices": self._by_language("voice"),
            "phone_numbers": self.phone_numbers or None,
            "mla_name_local": self._local("mla_name_local"),
            "constituency_local": self._local("constituency_local"),
        }
        return manage.AgentUpdate.model_validate(settings)


class NewAgentForm(BaseModel):
    """The form that adds an agent: its name and its own numbers (the rest starts as the main agent's)."""

    name: str | None = None
    phone_numbers: NumbersBox = []

    def create(self) -> manage.AgentCreate:
        return manage.AgentCreate.model_validate({"name": self.name, "phone_numbers": self.phone_numbers})


def _agents(
    request: Request,
    who: OfficeUser,
    errors: dict[str, str] | None = None,
    status: int = 200,
    new_agent: FormData | None = None,
) -> Response:
    context = {
        "agents": manage.list_agents(get_services(), who),
        "errors": errors or {},
        "test_calls": browser_calls.available(get_services()),
        "standard_voices": DEFAULT_VOICES,
        "saved": not errors and request.query_params.get("saved") == "1",
        "missed": missed.missed_while_paused(get_services(), who.tenant_id),
        "new_agent": new_agent or FormData(),
    }
    return site.page(request, "dashboard/agents.html", context, who=who, status_code=status)


@pages.get("/agents")
def agents_page(request: Request, who: Admin) -> Response:
    return _agents(request, who)


@pages.post("/agents", dependencies=Csrf)
def add_agent(request: Request, who: Admin, form: PostedForm) -> Response:
    """A second (third...) agent, for numbers of its own."""
    try:
        manage.create_agent(get_services(), who, parse_form(form, NewAgentForm).create())
    except (ValidationError, AppError) as exc:
        return _agents(request, who, *_refused(exc), new_agent=form)
    return redirect(request, f"{site.prefix}/agents?saved=1")


@pages.post("/agents/{agent_id}/test-call", dependencies=Csrf)
def test_call(who: Admin, agent_id: str) -> Response:
    """The LiveKit URL and token for a test call with this agent (JSON, for `static/test_call.js`)."""
    return ok(browser_calls.start(get_services(), who, agent_id[:40]))


@pages.post("/agents/{agent_id}", dependencies=Csrf)
def update_agent(request: Request, who: Admin, agent_id: str, form: PostedForm) -> Response:
    """The settings form, or the pause / resume button (which posts a `status`). A pause is asked
    first: the page says what callers will hear, and pauses when its button posts `confirm=pause`."""
    services, agent_id = get_services(), agent_id[:40]
    try:
        if form.get("status") == "paused" and form.get("confirm") != "pause":
            preview = manage.pause_preview(services, who, agent_id)
            return site.page(request, "dashboard/agent_pause.html", {"p": preview}, who=who)
        if form.get("status"):
            manage.set_status(services, who, agent_id, parse_form(form, manage.AgentStatus))
        else:
            manage.update_agent(services, who, agent_id, parse_form(form, AgentForm).update())
    except (ValidationError, AppError) as exc:
        return _agents(request, who, *_refused(exc))
    return redirect(request, f"{site.prefix}/agents?saved=1")


# A constituent's personal data (MLA admins) ---------------------------------------------------
# The number travels in form bodies only (access logs record paths), and a refused number is never
# written back into the page.


class PersonForm(BaseModel):
    phone: str = Field(max_length=40)


class ErasureForm(PersonForm):
    confirmation: str = Field(max_length=2000)
    last4: str = Field("", max_length=10)


# What the domain's refusals say to the admin, in their language, by the error's code.
PRIVACY_REFUSALS = {
    "open_complaints": "pd_open_first",
    "preview_stale": "pd_stale",
    "confirmation_invalid": "pd_invalid",
}


def _kinds(request: Request, counts: dict[str, int]) -> list[tuple[str, int]]:
    """Counts by kind with the kind's name in the reader's language (a later hook's kind as it is named)."""
    t = translator(language(request))
    return [(t(f"pd_{kind}") if f"pd_{kind}" in WORDS else kind, n) for kind, n in counts.items()]


def _privacy(request: Request, who: OfficeUser, *, error: str = "", notice: str = "", status: int = 200) -> Response:
    """The number's form, the callers who asked on a call to be forgotten (each opens the same person's
    view), and what the office keeps for how long (its own days where its super admin set them)."""
    services = get_services()
    policy = tenant_retention(services, who.tenant_id).policy
    retention = [(f"ret_{name}", getattr(policy, name)) for name in RetentionPolicy.model_fields]
    context = {
        "retention": [*retention, ("ret_webhook_events", WEBHOOK_EVENT_DAYS)],
        "error": error,
        "notice": notice,
        "requests": memories.open_erasure_requests(services, who),
        "phone_text": phone_text,
        "shown_max": LIST_LIMIT,
    }
    return site.page(request, "dashboard/privacy.html", context, who=who, status_code=status)


def _bad_number(request: Request, who: OfficeUser) -> Response:
    """The form again, saying so, without the number that was typed."""
    return _privacy(request, who, error=translator(language(request))("pd_bad_number"), status=422)


def _person(request: Request, who: OfficeUser, phone: str, *, error: str = "", status: int = 200) -> Response:
    found = privacy.summary(get_services(), who, phone)
    context = {"phone": privacy.e164_of(phone), "found": found, "kinds": _kinds(request, found.counts), "error": error}
    return site.page(request, "dashboard/privacy_person.html", context, who=who, status_code=status)


def _effects(request: Request, counts: dict[str, int]) -> list[str]:
    """What an erasure of these records does, one sentence each, in the reader's language."""
    t = translator(language(request))
    sentences = []
    for (kind, n), (what, _) in zip(counts.items(), _kinds(request, counts), strict=True):
        if not n:
            continue
        if f"pd_effect_{kind}" in WORDS:
            sentences.append(t(f"pd_effect_{kind}").format(n=n))
        else:
            key = "pd_effect_mentioning" if kind.endswith("_mentioning") else "pd_effect_erased"
            sentences.append(t(key).format(what=what, n=n))
    return [*sentences, t("pd_effect_final")]


def _confirm(request: Request, who: OfficeUser, phone: str, *, error: str = "", status: int = 200) -> Response:
    preview = privacy.preview(get_services(), who, phone)
    context = {
        "phone": privacy.e164_of(phone),
        "preview": preview,
        "effects": _effects(request, preview.counts),
        "error": error,
    }
    return site.page(request, "dashboard/privacy_erase.html", context, who=who, status_code=status)


@pages.get("/privacy")
def privacy_page(request: Request, who: Admin, dismissed: str = "") -> Response:
    """`?dismissed=1` after a caller's request was dismissed."""
    return _privacy(request, who, notice="pd_req_dismissed" if dismissed else "")


@pages.post("/privacy/erasure-requests/{request_id}/handled", dependencies=Csrf)
def dismiss_erasure_request(request: Request, who: Admin, request_id: uuid.UUID) -> Response:
    """A caller's request dismissed without erasing (the page asks first, in the row); another office's id
    is the 404 page."""
    memories.mark_erasure_request_handled(get_services(), who, request_id)
    return redirect(request, f"{site.prefix}/privacy?dismissed=1")


@pages.post("/privacy/find", dependencies=Csrf)
def privacy_find(request: Request, who: Admin, form: PostedForm) -> Response:
    try:
        return _person(request, who, parse_form(form, PersonForm).phone)
    except (ValidationError, InvalidInputError):
        return _bad_number(request, who)


@pages.post("/privacy/export", dependencies=Csrf)
def privacy_export(request: Request, who: Admin, form: PostedForm) -> Response:
    try:
        document = privacy.export(get_services(), who, parse_form(form, PersonForm).phone)
    except (ValidationError, InvalidInputError):
        return _bad_number(request, who)
    return json_download(document, f"personal-data-{document['generated_at'][:10]}.json")


@pages.post("/privacy/erase/confirm", dependencies=Csrf)
def privacy_confirm(request: Request, who: Admin, form: PostedForm) -> Response:
    """Exactly what the erasure will do, and its form (the number's last 4 digits typed again)."""
    try:
        return _confirm(request, who, parse_form(form, PersonForm).phone)
    except (ValidationError, InvalidInputError):
        return _bad_number(request, who)


@pages.post("/privacy/erase", dependencies=Csrf)
def privacy_erase(request: Request, who: Admin, form: PostedForm) -> Response:
    try:
        body = parse_form(form, ErasureForm)
        typed_right = body.last4.strip() == privacy.e164_of(body.phone)[-4:]
    except (ValidationError, InvalidInputError):
        return _bad_number(request, who)
    t = translator(language(request))
    if not typed_right:
        return _confirm(request, who, body.phone, error=t("pd_last4_wrong"), status=400)
    try:
        result = privacy.erase(get_services(), who, body.phone, body.confirmation)
    except OpenComplaintsError as exc:
        return _person(request, who, body.phone, error=t(PRIVACY_REFUSALS[exc.code]), status=409)
    except (PreviewStaleError, ConfirmationInvalidError) as exc:
        return _confirm(request, who, body.phone, error=t(PRIVACY_REFUSALS[exc.code]), status=exc.status_code)
    context = {"result": result, "kinds": _kinds(request, result.counts)}
    return site.page(request, "dashboard/privacy_erased.html", context, who=who)
