"""Pages as responses: Jinja2 templates in the reader's language and India's time zone, redirects
after a form, and the security headers (a strict Content-Security-Policy: nothing loads from
another origin; only the configured LiveKit server and the live-updates WebSocket are reached besides
ours) on every one."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from mla_core.agents.config import category_name
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


def _websocket_origin(url: str) -> list[str]:
    """The WebSocket origin `url` names, exactly (`wss://host`, or `ws://127.0.0.1:port` locally)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return [f"{parts.scheme}://{host}"] if parts.scheme in ("ws", "wss") and _HOST.fullmatch(host) else []


def content_security_policy(*, livekit_url: str, live_updates_url: str = "") -> str:
    """The pages' policy: everything from this origin; the browser's test call may also reach the
    configured LiveKit server (its signalling WebSocket and HTTPS), and the pages' live updates their
    WebSocket API (`live_updates_url`), and nothing else."""
    livekit = _secure_forms(livekit_url)
    connect = " ".join(["'self'", *livekit, *_websocket_origin(live_updates_url)])
    media = " ".join(["'self'", *livekit[:1]])
    return (
        f"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; media-src {media};"
        f" connect-src {connect}; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )


def page_policy() -> str:
    """This deployment's policy, from the settings as they are (made once per pair of URLs)."""
    settings = get_settings()
    return _policy_for(settings.livekit_url, settings.live_updates_url)


@lru_cache(maxsize=4)
def _policy_for(livekit_url: str, live_updates_url: str) -> str:
    return content_security_policy(livekit_url=livekit_url, live_updates_url=live_updates_url)


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    # Imported on first render, so a cold start that serves only the JSON API does not pay for Jinja2.
    from fastapi.templating import Jinja2Templates

    jinja = Jinja2Templates(directory=TEMPLATES_DIR)
    jinja.env.auto_reload = False  # deployed templates never change: no stat() of each file per render
    jinja.env.filters["ist"] = ist
    jinja.env.globals["category_name"] = category_name
    jinja.env.globals["grouped"] = grouped
    jinja.env.globals["isolate"] = isolate
    # The macros every page uses, as `ui.<macro>`: loaded once here, not imported by each render.
    jinja.env.globals["ui"] = jinja.env.get_template("_macros.html").module
    return jinja


def isolate(text: str) -> Markup:
    """What a person typed, inside a sentence of ours: escaped, in its own `<bdi>` (so a name in
    another script or a right-to-left override stays within itself)."""
    return Markup("<bdi>{}</bdi>").format(text)


def ist(moment: datetime, pattern: str) -> str:
    """A time as people in the office read it: India Standard Time (the database keeps UTC)."""
    return moment.astimezone(IST).strftime(pattern)


def plural_form(lang: str, n: float) -> str:
    """CLDR's plural category of `n` ("one" or "other"): Hindi counts 0 and 1 as one, English and
    Tamil only 1; a fraction (1.5 hours) is other in all three."""
    whole = float(n).is_integer()
    if lang == "hi":
        return "one" if whole and n in (0, 1) else "other"
    return "one" if whole and n == 1 else "other"


def grouped(n: float) -> str:
    """A number as written in India: lakh and crore groups (1,23,456), a fraction to one place."""
    whole, _, fraction = f"{n:.1f}".partition(".") if not float(n).is_integer() else (f"{int(n)}", "", "")
    sign, digits = ("-", whole[1:]) if whole.startswith("-") else ("", whole)
    head, tail = digits[:-3], digits[-3:]
    groups = [head[max(0, i - 2) : i] for i in range(len(head), 0, -2)][::-1]
    return sign + ",".join([*groups, tail]) + (f".{fraction}" if fraction else "")


def counter(lang: str) -> Any:
    """`counted("n_complaints", 3)` → "3 complaints": the key's `_one` or `_other` words in `lang`."""
    t = translator(lang)

    def counted(key: str, n: float) -> str:
        return t(f"{key}_{plural_form(lang, n)}").format(n=grouped(n))

    return counted


def day_month(day: str, lang: str) -> str:
    """A day (yyyy-mm-dd) as "3 Dec", the month in `lang`."""
    _, month, date = day.split("-")
    return f"{int(date)} {translator(lang)(f'month_{int(month)}')}"


def dated(lang: str) -> Any:
    """`when(moment)` → "3 Dec 2026, 14:05" in India's time, the month in `lang` (`year=False`,
    `time=False` leave those out)."""
    t = translator(lang)

    def when(moment: datetime, *, year: bool = True, time: bool = True) -> str:
        local = moment.astimezone(IST)
        text = f"{local.day} {t(f'month_{local.month}')}" + (f" {local.year}" if year else "")
        return text + (f", {local:%H:%M}" if time else "")

    return when


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
    values = {
        "t": translator(lang),
        "counted": counter(lang),
        "when": dated(lang),
        "lang": lang,
        "languages": LANGUAGES,
        "csrf": csrf_token(request),
        # Live updates apply the events after this (static/live.js): what came before is in the page.
        "rendered_at": getattr(request.state, "began_ms", None) or int(time.time() * 1000),
    }
    response = templates().TemplateResponse(request, template, {**values, **(context or {})}, status_code=status_code)
    return finish(request, response)


def redirect(request: Request, location: str) -> Response:
    """A redirect after a form post (303), or for htmx a client-side one."""
    if request.headers.get("HX-Request"):
        return finish(request, Response(status_code=204, headers={"HX-Redirect": location}))
    return finish(request, RedirectResponse(location, status_code=303))
