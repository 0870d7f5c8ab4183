"""Who the browser is: the Supabase Auth session in cookies, and the CSRF token every form carries.

A session is the access and refresh tokens in `HttpOnly; Secure; SameSite=Lax` cookies; an expired
access token is renewed from the refresh one. Every state-changing request sends the CSRF token
from the page (a form field or htmx's header), which must match the browser's `SameSite=Strict`
CSRF cookie.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError

from mla_core.adapters import Services
from mla_core.core.errors import AppError, AuthenticationError, PermissionDeniedError
from mla_core.core.principal import Principal
from mla_core.identity import accounts

SESSION_COOKIE, REFRESH_COOKIE, CSRF_COOKIE = "mla_session", "mla_refresh", "mla_csrf"
REFRESH_MAX_AGE_S = 30 * 24 * 3600


class LoginRequired(Exception):
    """The page needs a signed-in user; the handler redirects to the sign-in page."""

    def __init__(self, login_path: str, next_path: str) -> None:
        self.location = f"{login_path}?next={quote(next_path)}"


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
            renewal = accounts.RefreshRequest(refresh_token=refresh_token)
            session = accounts.refresh(services, renewal, client=client_address(request))
        except (AppError, ValidationError):
            session = None
        if session is not None:
            request.state.renewed = session
            return services.token_verifier.verify(session.access_token)
    raise LoginRequired(login_path, here(request))


def client_address(request: Request) -> str:
    """The address API Gateway saw (Mangum's request client; locally the peer), never `X-Forwarded-For`.
    The JSON API's twin is `mla_core.http.deps.client_address` (the two edges do not import each other)."""
    return request.client.host if request.client else ""


def here(request: Request) -> str:
    """This page's path and query: where the sign-in page comes back to."""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


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


def earned_cookies(request: Request, response: Response) -> None:
    """The cookies this request earned: a new CSRF token, a renewed session."""
    if new := getattr(request.state, "new_csrf", None):
        response.set_cookie(CSRF_COOKIE, new, httponly=True, secure=True, samesite="strict")
    if renewed := getattr(request.state, "renewed", None):
        start_session(response, renewed)
