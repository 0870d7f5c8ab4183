"""Pages as responses: Jinja2 templates in the reader's language and India's time zone, redirects
after a form, and the security headers (a strict Content-Security-Policy: nothing loads from
another origin) on every one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from mla_core.web.i18n import LANGUAGES, translator
from mla_core.web.sessions import csrf_token, earned_cookies

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).parent / "templates"
IST = timezone(timedelta(hours=5, minutes=30), "IST")
LANG_COOKIE = "mla_lang"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; media-src 'self' https:;"
    " connect-src 'self' wss: https:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    # Imported on first render, so a cold start that serves only the JSON API does not pay for Jinja2.
    from fastapi.templating import Jinja2Templates

    jinja = Jinja2Templates(directory=TEMPLATES_DIR)
    jinja.env.auto_reload = False  # deployed templates never change: no stat() of each file per render
    jinja.env.filters["ist"] = ist
    # The macros every page uses, as `ui.<macro>`: loaded once here, not imported by each render.
    jinja.env.globals["ui"] = jinja.env.get_template("_macros.html").module
    return jinja


def ist(moment: datetime, pattern: str) -> str:
    """A time as people in the office read it: India Standard Time (the database keeps UTC)."""
    return moment.astimezone(IST).strftime(pattern)


def language(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LANGUAGES else "en"


def finish(request: Request, response: Response) -> Response:
    """The cookies the request earned and the security headers."""
    earned_cookies(request, response)
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
    return finish(request, response)


def redirect(request: Request, location: str) -> Response:
    """A redirect after a form post (303), or for htmx a client-side one."""
    if request.headers.get("HX-Request"):
        return finish(request, Response(status_code=204, headers={"HX-Redirect": location}))
    return finish(request, RedirectResponse(location, status_code=303))
