"""Pages as responses: Jinja2 templates in the reader's language and India's time zone, redirects
after a form, and the security headers (a strict Content-Security-Policy: nothing loads from
another origin, and only the configured LiveKit server is reached besides ours) on every one."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from mla_core.core.settings import get_settings
from mla_core.web.i18n import LANGUAGES, translator
from mla_core.web.sessions import csrf_token, earned_cookies

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).parent / "templates"
IST = timezone(timedelta(hours=5, minutes=30), "IST")
LANG_COOKIE = "mla_lang"
_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?")  # what may stand in a policy as a host (no ; or space)


def _secure_forms(url: str) -> list[str]:
    """The https and wss forms of the host `url` names (none for a URL without a plain host)."""
    host = urlsplit(url).netloc.rpartition("@")[2]
    return [f"https://{host}", f"wss://{host}"] if _HOST.fullmatch(host) else []


def content_security_policy(*, livekit_url: str, live_updates_url: str = "") -> str:
    """The pages' policy: everything from this origin; the browser's test call may also reach the
    configured LiveKit server (its signalling WebSocket and HTTPS), and nothing else. The live-updates
    WebSocket, once there is one, is the other host allowed to connect (`live_updates_url`)."""
    livekit = _secure_forms(livekit_url)
    connect = " ".join(["'self'", *livekit, *_secure_forms(live_updates_url)])
    media = " ".join(["'self'", *livekit[:1]])
    return (
        f"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; media-src {media};"
        f" connect-src {connect}; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )


def page_policy() -> str:
    """This deployment's policy, from the settings as they are (made once per LiveKit URL)."""
    return _policy_for(get_settings().livekit_url)


@lru_cache(maxsize=4)
def _policy_for(livekit_url: str) -> str:
    return content_security_policy(livekit_url=livekit_url)


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
    response.headers["Content-Security-Policy"] = page_policy()
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
