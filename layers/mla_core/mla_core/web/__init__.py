"""Server-rendered pages, shared by the admin panel and the MLA dashboard.

Jinja2 templates, our own stylesheet and htmx (vendored from its npm package into `static/vendor`),
all served from our own origin. A session is the Supabase Auth access and refresh tokens in
`HttpOnly; Secure; SameSite=Lax` cookies; every form and htmx request carries a CSRF token that
must match the browser's CSRF cookie. Pages call the same domain functions as the JSON API, with
the same tenant scoping, and speak English, Hindi or Tamil (`i18n`).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from mla_core.adapters import Services
from mla_core.core.errors import AppError, AuthenticationError, PermissionDeniedError
from mla_core.core.principal import Caller, Principal
from mla_core.identity import accounts
from mla_core.web.i18n import LANGUAGES, translator

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent
IST = timezone(timedelta(hours=5, minutes=30), "IST")
STATIC_DIR = HERE / "static"
SESSION_COOKIE, REFRESH_COOKIE, CSRF_COOKIE, LANG_COOKIE = "mla_session", "mla_refresh", "mla_csrf", "mla_lang"
REFRESH_MAX_AGE_S = 30 * 24 * 3600
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; media-src 'self' https:;"
    " connect-src 'self' wss: https:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


class LoginRequired(Exception):
    """The page needs a signed-in user; the handler redirects to the sign-in page."""

    def __init__(self, login_path: str, next_path: str) -> None:
        self.location = f"{login_path}?next={quote(next_path)}"


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    # Imported on first render, so a cold start that serves only the JSON API does not pay for Jinja2.
    from fastapi.templating import Jinja2Templates

    jinja = Jinja2Templates(directory=HERE / "templates")
    jinja.env.auto_reload = False  # deployed templates never change: no stat() of each file per render
    jinja.env.filters["ist"] = ist
    return jinja


def ist(moment: datetime, pattern: str) -> str:
    """A time as people in the office read it: India Standard Time (the database keeps UTC)."""
    return moment.astimezone(IST).strftime(pattern)


def language(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LANGUAGES else "en"


def csrf_token(request: Request) -> str:
    """The browser's CSRF token (its cookie), made on first use."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = request.state.new_csrf = secrets.token_urlsafe(24)
    return str(token)


async def check_csrf(request: Request) -> None:
    """Every state-changing request carries the token from the page (form field or htmx header)."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get("X-CSRF-Token") or str((await request.form()).get("csrf", ""))
    if not cookie or not secrets.compare_digest(cookie, sent):
        raise PermissionDeniedError("this form has expired or did not come from our page; reload it and try again")


def _finish(request: Request, response: Response) -> Response:
    """Cookies the request earned (a new CSRF token, a renewed session) and the security headers."""
    if new := getattr(request.state, "new_csrf", None):
        response.set_cookie(CSRF_COOKIE, new, httponly=True, secure=True, samesite="strict")
    if renewed := getattr(request.state, "renewed", None):
        start_session(response, renewed)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def render(
    request: Request, template: str, context: Mapping[str, Any] | None = None, status_code: int = 200
) -> Response:
    lang = language(request)
    values = {"t": translator(lang), "lang": lang, "languages": LANGUAGES, "csrf": csrf_token(request)}
    response = templates().TemplateResponse(request, template, {**values, **(context or {})}, status_code=status_code)
    return _finish(request, response)


def redirect(request: Request, location: str) -> Response:
    """A redirect after a form post (303), or for htmx a client-side one."""
    if request.headers.get("HX-Request"):
        return _finish(request, Response(status_code=204, headers={"HX-Redirect": location}))
    return _finish(request, RedirectResponse(location, status_code=303))


def start_session(response: Response, session: accounts.SessionView) -> None:
    response.set_cookie(
        SESSION_COOKIE, session.access_token, max_age=session.expires_in, httponly=True, secure=True, samesite="lax"
    )
    response.set_cookie(
        REFRESH_COOKIE, session.refresh_token, max_age=REFRESH_MAX_AGE_S, httponly=True, secure=True, samesite="lax"
    )


def end_session(response: Response) -> None:
    for name in (SESSION_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(name, httponly=True, secure=True, samesite="lax")


def signed_in(request: Request, services: Services, login_path: str) -> Principal:
    """The user behind the session cookie; an expired access token is renewed from the refresh one."""
    token = request.cookies.get(SESSION_COOKIE)
    try:
        if token:
            return services.token_verifier.verify(token)
    except AuthenticationError:
        pass
    refresh_token = request.cookies.get(REFRESH_COOKIE)
    if refresh_token:
        try:
            session = accounts.refresh(services, accounts.RefreshRequest(refresh_token=refresh_token))
        except (AppError, ValidationError):
            session = None
        if session is not None:
            request.state.renewed = session
            return services.token_verifier.verify(session.access_token)
    raise LoginRequired(login_path, request.url.path + (f"?{request.url.query}" if request.url.query else ""))


def field_errors(exc: ValidationError | AppError) -> dict[str, str]:
    """Errors by field name, to show next to each field of a form."""
    if isinstance(exc, ValidationError):
        return {
            ".".join(str(p) for p in error["loc"]) or "form": error["msg"].removeprefix("Value error, ")
            for error in exc.errors()
        }
    errors = {str(d.get("field")): str(d.get("reason", exc.message)) for d in exc.details if d.get("field")}
    return errors or {"form": exc.message}


@dataclass(frozen=True)
class Site:
    """One set of pages (the admin panel, the MLA dashboard) under `prefix`, with its static files
    at `<prefix>/static`, its navigation, and who may sign in to it."""

    prefix: str
    area: str
    nav: tuple[tuple[str, str], ...]
    roles: tuple[str, ...]
    home: str

    def page(
        self, request: Request, template: str, context: Mapping[str, Any] | None = None, *,
        who: Caller | None = None, status_code: int = 200,
    ) -> Response:  # fmt: skip
        chrome = {"static": f"{self.prefix}/static", "home": self.home, "nav": self.nav, "area": self.area,
                  "who": who, "logout": f"{self.prefix}/logout", "lang_base": self.prefix, "prefix": self.prefix}  # fmt: skip
        return render(request, template, {**chrome, **(context or {})}, status_code=status_code)

    def signed_in(self, request: Request, services: Services) -> Principal:
        who = signed_in(request, services, f"{self.prefix}/login")
        if who.role not in self.roles:
            raise PermissionDeniedError("this login cannot use these pages")
        return who


def create_site_app(site: Site, services: Callable[[], Services]) -> FastAPI:
    """The pages' own app (mounted at `site.prefix`): static files, sign-in, sign-out, language,
    and errors answered as pages. The caller adds its pages to it."""
    from starlette.staticfiles import StaticFiles

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return redirect(request, exc.location)

    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        return site.page(request, "error.html", {"status": exc.status_code, "message": exc.message},
                         status_code=exc.status_code)  # fmt: skip

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> Response:
        return site.page(request, "error.html", {"status": 404, "message": "not found"}, status_code=404)

    @app.get("/login")
    def login_page(request: Request, next: str = "") -> Response:
        return site.page(request, "login.html", {"action": f"{site.prefix}/login", "next": _local(next, site)})

    @app.post("/login", dependencies=[Depends(check_csrf)])
    def login(request: Request, email: Annotated[str, Form()], password: Annotated[str, Form()],
              next: Annotated[str, Form()] = "") -> Response:  # fmt: skip
        context = {"action": f"{site.prefix}/login", "next": _local(next, site), "email": email}
        try:
            session = accounts.login(services(), accounts.LoginRequest(email=email, password=password))
        except (AppError, ValidationError):
            return site.page(request, "login.html", {**context, "error": "wrong email or password"}, status_code=401)
        if session.user.role not in site.roles:
            return site.page(request, "login.html", {**context, "error": "this login cannot use these pages"},
                             status_code=403)  # fmt: skip
        response = redirect(request, _local(next, site))
        start_session(response, session)
        return response

    @app.post("/logout", dependencies=[Depends(check_csrf)])
    def logout(request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            with contextlib.suppress(AppError):  # an expired session is signed out all the same
                accounts.logout(services(), token)
        response = redirect(request, f"{site.prefix}/login")
        end_session(response)
        return response

    @app.get("/lang/{code}")
    def choose_language(request: Request, code: str, next: str = "") -> Response:
        response = redirect(request, _local(next, site))
        if code in LANGUAGES:
            response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, secure=True, samesite="lax")
        return response

    return app


def _local(path: str, site: Site) -> str:
    """Only our own pages are redirect targets (no open redirect through `next`)."""
    return path if path.startswith(site.prefix + "/") and not path.startswith("//") else site.home
