"""A site: one set of pages (the admin panel, the MLA dashboard) mounted at its prefix, with its
static files, its navigation, who may sign in to it, and the pages every site has (sign-in, a
password reset by email, sign-out, language, errors)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from os import PathLike
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from mla_core.adapters import Services
from mla_core.core import messages
from mla_core.core.errors import (
    AppError,
    AuthenticationError,
    InvalidInputError,
    PermissionDeniedError,
    RateLimitedError,
)
from mla_core.core.principal import Caller, Principal
from mla_core.core.text import REFUSED_INPUT
from mla_core.identity import accounts
from mla_core.live import events, tickets
from mla_core.web.forms import PostedForm, field_errors, parse_form, set_page_language
from mla_core.web.i18n import LANGUAGES, translator
from mla_core.web.rendering import LANG_COOKIE, finish, language, redirect, render
from mla_core.web.sessions import (
    SESSION_COOKIE,
    LoginRequired,
    check_csrf,
    client_address,
    end_session,
    here,
    signed_in,
    start_session,
)

_NO_STORE = {"Cache-Control": "no-store"}
STATIC_DIR = Path(__file__).parent / "static"  # what every site serves: the stylesheet, htmx
# The reset page states the password rule as the invitation page does (`identity.accounts`).
_PASSWORD_RULE = {"password_min": accounts.PASSWORD_MIN_LENGTH, "password_max": accounts.PASSWORD_MAX_LENGTH}


@dataclass(frozen=True)
class Site:
    """One set of pages under `prefix`, with its static files at `<prefix>/static` (its own
    directories in `static`, looked in first, then the shared ones), its navigation, and who may
    sign in to it."""

    prefix: str
    area: str
    nav: tuple[tuple[str, str], ...]
    roles: tuple[str, ...]
    home: str
    static: tuple[Path, ...] = ()
    admins_only: tuple[str, ...] = ()  # the navigation's entries an office's staff do not see

    def page(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        who: Caller | None = None,
        status_code: int = 200,
    ) -> Response:
        chrome = {
            "static": f"{self.prefix}/static",
            "home": self.home,
            "nav": [(key, href) for key, href in self.nav if key not in self.admins_only or _is_admin(who)],
            "area": self.area,
            "who": who,
            "logout": f"{self.prefix}/logout",
            "lang_base": self.prefix,
            "prefix": self.prefix,
        }
        return render(request, template, {**chrome, **(context or {})}, status_code=status_code)

    def signed_in(self, request: Request, services: Services) -> Principal:
        """The user the session cookie names (a thread: renewing a session calls Supabase Auth)."""
        who = signed_in(request, services, f"{self.prefix}/login")
        if who.role not in self.roles:
            raise PermissionDeniedError("this login cannot use these pages")
        return who

    async def member(self, request: Request, services: Services, caller: Principal) -> Caller:
        """The signed-in user as our records have them now (`accounts.signed_in`); a signed-out session
        goes back to the sign-in page."""
        try:
            who = await accounts.signed_in(services, caller)
        except AuthenticationError:
            raise LoginRequired(f"{self.prefix}/login", here(request)) from None
        if who.role not in self.roles:
            raise PermissionDeniedError("this login cannot use these pages")
        return who


def _is_admin(who: Caller | None) -> bool:
    return who is not None and who.role == "mla_admin"


class StaticDirectories(StaticFiles):
    """Static files from several directories: the first that has the file serves it."""

    def __init__(self, directories: Sequence[Path]) -> None:
        self._directories = list(directories)
        super().__init__(directory=self._directories[0])

    def get_directories(
        self, directory: str | PathLike[str] | None = None, packages: list[str | tuple[str, str]] | None = None
    ) -> list[str | PathLike[str]]:
        return list(self._directories)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Our files are small and always sent whole: a range is never answered, nor refused outside
        # the error page (Starlette answers a bad one in plain text).
        headers = [(name, value) for name, value in scope["headers"] if name not in (b"range", b"if-range")]
        await super().__call__({**scope, "headers": headers}, receive, send)


class NextPage(BaseModel):
    """Where the sign-in form goes once signed in."""

    next: str = ""


def create_site_app(site: Site, services: Callable[[], Services]) -> FastAPI:
    """The pages' own app (mounted at `site.prefix`): static files, sign-in, sign-out, language,
    and errors answered as pages. The caller adds its pages to it."""
    app = FastAPI(
        docs_url=None, redoc_url=None, openapi_url=None, dependencies=[Depends(page_language), Depends(refused_input)]
    )
    app.mount("/static", StaticDirectories([*site.static, STATIC_DIR]), name="static")

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return redirect(request, exc.location)

    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        written = isinstance(exc, WrittenRefusal)
        message = (
            exc.message if written else messages.error_sentence(exc.code, exc.message, exc.details, language(request))
        )
        context = {"status": exc.status_code, "message": message}
        return site.page(request, "error.html", context, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        message = translator(language(request))("unexpected_error")
        return site.page(request, "error.html", {"status": 500, "message": message}, status_code=500)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """What routing and Starlette refuse themselves (no such page or file, a method a page does not
        take, a form too large to read), as the error page with the same status and headers."""
        code = messages.STATUS_CODES.get(exc.status_code, "")
        english = "not found" if exc.status_code == 404 else str(exc.detail)
        message = messages.error_sentence(code, english, [], language(request))
        page = site.page(
            request, "error.html", {"status": exc.status_code, "message": message}, status_code=exc.status_code
        )
        page.headers.update(exc.headers or {})
        return page

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        english = HTTPStatus.UNPROCESSABLE_ENTITY.phrase
        context = {
            "status": 422,
            "message": messages.error_sentence("validation_error", english, [], language(request)),
        }
        return site.page(request, "error.html", context, status_code=422)

    @app.get("/login")
    def login_page(request: Request, next: str = "", reset: str = "") -> Response:
        context = {"action": f"{site.prefix}/login", "next": _local(next, site), "reset_done": bool(reset)}
        return site.page(request, "login.html", context)

    @app.post("/login", dependencies=[Depends(check_csrf)])
    def login(request: Request, form: PostedForm) -> Response:
        """The same answer for a wrong password, an unknown email and a disabled login; 429 once the
        account or the address used up its failures (`identity.limits`)."""
        t = translator(language(request))
        after = _local(parse_form(form, NextPage).next, site)
        context = {"action": f"{site.prefix}/login", "next": after, "email": form.get("email", "")}
        try:
            request_ = parse_form(form, accounts.LoginRequest)
            session = accounts.login(services(), request_, client=client_address(request))
        except RateLimitedError as exc:
            return locked_page(site, request, "login.html", context, exc)
        except (AuthenticationError, ValidationError):
            return site.page(request, "login.html", {**context, "error": t("signin_failed")}, status_code=401)
        if session.user.role not in site.roles:
            context["error"] = "this login cannot use these pages"
            return site.page(request, "login.html", context, status_code=403)
        response = redirect(request, after)
        start_session(response, session)
        return response

    @app.get("/recover")
    def recover_page(request: Request) -> Response:
        return site.page(request, "recover.html", {"email": "", "sent": False})

    @app.post("/recover", dependencies=[Depends(check_csrf)])
    def recover(request: Request, form: PostedForm) -> Response:
        """A reset link by email; the page says the same whether or not the email has a login."""
        try:
            accounts.recover(services(), parse_form(form, accounts.RecoverRequest), client=client_address(request))
        except ValidationError as exc:
            context = {"email": form.get("email", ""), "sent": False, "errors": field_errors(exc)}
            return site.page(request, "recover.html", context, status_code=422)
        return site.page(request, "recover.html", {"email": form.get("email", ""), "sent": True})

    @app.get("/reset")
    def reset_page(request: Request, token: str = "") -> Response:
        return site.page(request, "reset.html", {"token": token[:200], "errors": {}, **_PASSWORD_RULE})

    @app.post("/reset", dependencies=[Depends(check_csrf)])
    def reset(request: Request, form: PostedForm) -> Response:
        """A new password with the reset link (guessed links are limited like sign-in), then signed in."""
        context: dict[str, Any] = {"token": str(form.get("token", ""))[:200], "errors": {}, **_PASSWORD_RULE}
        try:
            session = accounts.reset(
                services(), parse_form(form, accounts.ResetRequest), client=client_address(request)
            )
        except RateLimitedError as exc:
            return locked_page(site, request, "reset.html", context, exc)
        except accounts.ResetLinkError:
            context["error"] = translator(language(request))("reset_invalid")
            return site.page(request, "reset.html", context, status_code=400)
        except ValidationError as exc:
            return site.page(request, "reset.html", {**context, "errors": field_errors(exc)}, status_code=422)
        if session.user.role not in site.roles:  # a link opened on the other site: sign in there
            return redirect(request, f"{site.prefix}/login?reset=1")
        response = redirect(request, site.home)
        start_session(response, session)
        return response

    @app.post("/logout", dependencies=[Depends(check_csrf)])
    def logout(request: Request) -> Response:
        """End the session (an expired access token is renewed first, to know which session it was)."""
        with contextlib.suppress(LoginRequired, AppError):  # no session left: signed out all the same
            who = signed_in(request, services(), f"{site.prefix}/login")
            renewed = getattr(request.state, "renewed", None)
            accounts.logout(services(), who, renewed.access_token if renewed else request.cookies[SESSION_COOKIE])
        response = redirect(request, f"{site.prefix}/login")
        end_session(response)
        return response

    @app.post("/live/ticket", dependencies=[Depends(check_csrf)])
    async def live_ticket(request: Request) -> Response:
        """A one-minute ticket for this page's live-updates WebSocket (`mla_core.live.tickets`), and the
        feed's newest event id; 503 when live updates are off or Redis is down: the page says it is
        not live and keeps working."""
        svc = services()
        who = await site.member(request, svc, await asyncio.to_thread(site.signed_in, request, svc))
        try:
            ticket = tickets.mint(svc.settings, who) if svc.connections.configured else None
            newest = await asyncio.to_thread(events.newest, svc, ticket.feed) if ticket else 0
        except AppError:
            ticket = None
        if ticket is None:
            return finish(request, JSONResponse({"live": False}, status_code=503, headers=_NO_STORE))
        body = {"live": True, "url": ticket.url, "expires_in": ticket.expires_in, "newest": newest}
        return finish(request, JSONResponse(body, headers=_NO_STORE))

    @app.get("/live/events")
    async def live_events(request: Request, after: Annotated[int, Query(ge=0, le=2**62)] = 0) -> Response:
        """What this page missed since event `after` (`complete: false`: reload the view instead)."""
        svc = services()
        who = await site.member(request, svc, await asyncio.to_thread(site.signed_in, request, svc))
        try:
            missed = await asyncio.to_thread(events.catch_up, svc, tickets.feed_of(who), after)
        except AppError:
            return finish(request, JSONResponse({"live": False}, status_code=503, headers=_NO_STORE))
        return finish(request, Response(missed.model_dump_json(), media_type="application/json", headers=_NO_STORE))

    @app.get("/lang/{code}")
    def choose_language(request: Request, code: str, next: str = "") -> Response:
        response = redirect(request, _local(next, site))
        if code in LANGUAGES:
            response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, secure=True, samesite="lax")
        return response

    return app


def locked_page(
    site: Site, request: Request, template: str, context: dict[str, Any], exc: RateLimitedError
) -> Response:
    """A form refused for too many failures: the page again, saying when to try, with `Retry-After`."""
    minutes = max(1, math.ceil(exc.retry_after_s / 60))
    context = {**context, "error": translator(language(request))("signin_locked").format(minutes=minutes)}
    response = site.page(request, template, context, status_code=429)
    response.headers.update(exc.headers)
    return response


class WrittenRefusal(InvalidInputError):
    """A refusal whose message a page wrote in the reader's language itself."""


async def page_language(request: Request) -> None:
    """The page's language, for the errors its forms show (`web.forms.field_errors`); and when the
    request began, before the page reads anything (what its live updates apply from: `render`)."""
    request.state.began_ms = int(time.time() * 1000)
    set_page_language(language(request))


async def refused_input(request: Request) -> None:
    """A request whose input the edge refused (`mla_core.http.clean_input`: a control character in a
    field), answered as a page in the reader's language before any page runs."""
    refused = getattr(request.state, REFUSED_INPUT, None)
    if isinstance(refused, AppError):
        field = refused.details[0]["field"] if refused.details else "form"
        raise WrittenRefusal(translator(language(request))("refused_input").format(field=field))


def _local(path: str, site: Site) -> str:
    """Only our own pages are redirect targets (no open redirect through `next`)."""
    return path if path.startswith(site.prefix + "/") and not path.startswith("//") else site.home
