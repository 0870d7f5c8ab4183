"""A Supabase Auth (GoTrue) stand-in that the real `supabase` / `supabase_auth` clients accept.

No GoTrue server can run on these machines (the Supabase CLI needs Docker), so this app serves the
part of `/auth/v1` our code and tests use, shaped after `supabase/auth` `internal/api` and checked
against what `supabase_auth` 2.34 sends and parses:

- Admin (service-role bearer): `POST/GET /admin/users`, `GET/PUT/DELETE /admin/users/{id}`,
  `POST /admin/generate_link`, `POST /invite`.
- Users: `POST /token?grant_type=password|refresh_token`, `POST /verify` (and the `GET /verify`
  that an emailed link opens, which redirects with the session in the URL fragment),
  `GET/PUT /user`, `POST /logout`, `POST /recover`.
- Open: `GET /.well-known/jwks.json`, `GET /health`.

Faithful where it matters to callers:

- Access tokens are ES256 JWTs with a `kid`, signed by a P-256 key made once and kept in the state
  file, published at the JWKS endpoint, with Supabase's claims (`iss`, `sub`, `aud`, `exp`, `iat`,
  `email`, `phone`, `app_metadata`, `user_metadata`, `role`, `aal`, `amr`, `session_id`,
  `is_anonymous`). A token whose session was logged out is refused (`session_not_found`).
- Refresh tokens rotate. Reusing a spent one is refused with `refresh_token_already_used` and, as
  GoTrue does with rotation on, ends the whole session. GoTrue's 10 s reuse grace is not modelled.
- One-time tokens: `hashed_token` is `sha224(email + otp)` as in GoTrue, so `verify` works with the
  hash or with the email and the six-digit OTP; one token per user and purpose (a new link voids
  the previous one), single use, valid for an hour.
- Errors have GoTrue's shape: `{"code": "<error_code>", "message": ...}` when the request carries
  `X-Supabase-Api-Version: 2024-01-01` (the client always sends it; the header is echoed), the
  legacy `{"code": <status>, "error_code": ..., "msg": ...}` otherwise.
- Like Supabase's API gateway, every route except health, JWKS and `/verify` wants an `apikey`
  header holding the anon or service-role key (401 `{"message": "Invalid API key"}` otherwise).
- A password change ends the user's other sessions (all of them when an admin changes it) and
  voids pending links, as GoTrue's `User.UpdatePassword` does.

Not modelled: phone and OAuth sign-in, MFA, email change, soft delete (both deletes remove the
user), rate limits. `GET /_standin/outbox` lists the emails GoTrue would have sent (invite,
recovery) with their links, so a test can follow them. Faults (see `serve`) are keyed by
"VERB path-template", e.g. `POST /auth/v1/admin/users` or `PUT /auth/v1/admin/users/{id}`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from local_stack.serve import Faults, control_routes, read_state, write_state

__all__ = ["create_app"]

log = logging.getLogger(__name__)

STATE_VERSION = 1
ACCESS_TOKEN_TTL_SECONDS = 3600
ONE_TIME_TOKEN_TTL = timedelta(hours=1)
MIN_PASSWORD_LENGTH = 6
AUDIENCE = "authenticated"
API_VERSION_HEADER = "X-Supabase-Api-Version"
_API_VERSION_2024 = "2024-01-01"
_API_VERSION = re.compile(r"^2\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
_ADMIN_PAGE_SIZE = 50
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
# Go's time.ParseDuration units, which GoTrue accepts in `ban_duration`.
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
# Verification types and the one-time token each consumes (GoTrue keeps a confirmation token and a
# recovery token per user; `email` accepts either).
_TOKEN_KINDS: dict[str, set[str]] = {
    "signup": {"confirmation"},
    "invite": {"confirmation"},
    "magiclink": {"recovery"},
    "recovery": {"recovery"},
    "email": {"confirmation", "recovery"},
}
_OTP_EXPIRED = "Email link is invalid or has expired"

TokenKind = Literal["confirmation", "recovery"]


class AuthError(Exception):
    """A GoTrue `HTTPError`: HTTP status, machine-readable `error_code`, human message."""

    def __init__(self, status: int, error_code: str, message: str, **extra: Any) -> None:
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.extra = extra

    def response(self, request: Request) -> JSONResponse:
        version = request.headers.get(API_VERSION_HEADER, "")
        if _API_VERSION.match(version) and version >= _API_VERSION_2024:
            body = {"code": self.error_code, "message": self.message, **self.extra}
            headers = {API_VERSION_HEADER: _API_VERSION_2024}
            return JSONResponse(body, status_code=self.status, headers=headers)
        body = {"code": self.status, "error_code": self.error_code, "msg": self.message, **self.extra}
        return JSONResponse(body, status_code=self.status)


class GatewayError(Exception):
    """A refusal by Supabase's API gateway (Kong), which answers before GoTrue sees the request."""

    def response(self) -> JSONResponse:
        return JSONResponse({"message": str(self)}, status_code=401)


# What is stored. Timestamps are aware UTC datetimes; the file is versioned.


class _User(BaseModel):
    id: str
    email: str
    password_hash: str | None = None
    role: str = AUDIENCE
    app_metadata: dict[str, Any]
    user_metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    email_confirmed_at: datetime | None = None
    invited_at: datetime | None = None
    confirmation_sent_at: datetime | None = None
    recovery_sent_at: datetime | None = None
    last_sign_in_at: datetime | None = None
    banned_until: datetime | None = None

    def is_banned(self) -> bool:
        return self.banned_until is not None and self.banned_until > _now()


class _Session(BaseModel):
    id: str
    user_id: str
    created_at: datetime
    amr: list[dict[str, Any]]


class _RefreshToken(BaseModel):
    session_id: str
    revoked: bool = False


class _OneTimeToken(BaseModel):
    user_id: str
    kind: TokenKind
    created_at: datetime


class _SentMail(BaseModel):
    to: str
    type: str
    action_link: str
    hashed_token: str
    email_otp: str
    redirect_to: str
    sent_at: datetime


class _State(BaseModel):
    version: int = STATE_VERSION
    signing_kid: str
    signing_key_pem: str
    users: dict[str, _User] = Field(default_factory=dict)
    sessions: dict[str, _Session] = Field(default_factory=dict)
    refresh_tokens: dict[str, _RefreshToken] = Field(default_factory=dict)
    one_time_tokens: dict[str, _OneTimeToken] = Field(default_factory=dict)
    outbox: list[_SentMail] = Field(default_factory=list)


# Request bodies, as the clients send them (unknown fields are ignored, as GoTrue does).


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _AdminUserParams(_Body):
    email: str | None = None
    password: str | None = None
    email_confirm: bool | None = None
    user_metadata: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    app_metadata: dict[str, Any] | None = None
    ban_duration: str | None = None
    role: str | None = None
    id: str | None = None


class _GenerateLinkParams(_Body):
    type: str
    email: str
    password: str | None = None
    data: dict[str, Any] | None = None


class _InviteParams(_Body):
    email: str
    data: dict[str, Any] | None = None


class _PasswordGrantParams(_Body):
    email: str | None = None
    password: str | None = None


class _RefreshGrantParams(_Body):
    refresh_token: str | None = None


class _VerifyParams(_Body):
    type: str
    token_hash: str | None = None
    token: str | None = None
    email: str | None = None


class _UserUpdateParams(_Body):
    email: str | None = None
    password: str | None = None
    data: dict[str, Any] | None = None


class _RecoverParams(_Body):
    email: str


BodyT = TypeVar("BodyT", bound=_Body)
Handler = Callable[[Request], Awaitable[Response]]


def create_app(
    *,
    site_url: str,
    service_role_key: str,
    anon_key: str,
    state_path: Path | None,
    issuer_base: str | None = None,
) -> Starlette:
    """The Supabase Auth stand-in as an ASGI app, serving `/auth/v1`.

    `site_url` is GoTrue's SITE_URL: where email links send the user when no `redirect_to` is given.
    `issuer_base` is the project URL (`https://<ref>.supabase.co`): tokens carry
    `iss = {issuer_base or site_url}/auth/v1`, and email links point at it (at the URL the request
    came in on when it is not given). `state_path` (optional) persists users, sessions, tokens and
    the signing key across restarts.
    """
    standin = _AuthStandIn(site_url, service_role_key, anon_key, state_path, issuer_base)
    return Starlette(
        routes=[
            *control_routes(standin.faults),
            Route("/_standin/outbox", standin.outbox, methods=["GET"]),
            Mount("/auth/v1", routes=standin.routes()),
        ]
    )


class _AuthStandIn:
    def __init__(
        self,
        site_url: str,
        service_role_key: str,
        anon_key: str,
        state_path: Path | None,
        issuer_base: str | None,
    ) -> None:
        self._site_url = site_url.rstrip("/")
        self._service_role_key = service_role_key
        self._api_keys = {service_role_key, anon_key}
        self._state_path = state_path
        self._external_url = issuer_base.rstrip("/") if issuer_base else None
        self._issuer = f"{(issuer_base or site_url).rstrip('/')}/auth/v1"
        self.faults = Faults()
        document = read_state(state_path)
        if document is None:
            self.state = _new_state()
            self._save()
        else:
            if document.get("version") != STATE_VERSION:
                raise ValueError(f"unsupported Supabase Auth stand-in state version {document.get('version')!r}")
            self.state = _State.model_validate(document)
        private_key = serialization.load_pem_private_key(self.state.signing_key_pem.encode(), password=None)
        if not isinstance(private_key, ec.EllipticCurvePrivateKey):
            raise ValueError("the stored signing key is not an EC key")
        self._private_key = private_key
        self._public_key = private_key.public_key()

    def routes(self) -> list[BaseRoute]:
        return [
            self._route("GET", "/health", self.health, gateway_open=True),
            self._route("GET", "/.well-known/jwks.json", self.jwks, gateway_open=True),
            self._route("POST", "/admin/users", self.admin_create_user),
            self._route("GET", "/admin/users", self.admin_list_users),
            self._route("GET", "/admin/users/{id}", self.admin_get_user),
            self._route("PUT", "/admin/users/{id}", self.admin_update_user),
            self._route("DELETE", "/admin/users/{id}", self.admin_delete_user),
            self._route("POST", "/admin/generate_link", self.admin_generate_link),
            self._route("POST", "/invite", self.invite),
            self._route("POST", "/recover", self.recover),
            self._route("POST", "/token", self.token),
            self._route("POST", "/verify", self.verify, gateway_open=True),
            self._route("GET", "/verify", self.verify_link, gateway_open=True),
            self._route("GET", "/user", self.get_user),
            self._route("PUT", "/user", self.update_user),
            self._route("POST", "/logout", self.logout),
        ]

    def _route(self, verb: str, path: str, handler: Handler, *, gateway_open: bool = False) -> Route:
        """Wrap a handler with what happens before GoTrue runs it: faults, the gateway, error shapes."""
        fault_key = f"{verb} /auth/v1{path}"

        async def endpoint(request: Request) -> Response:
            try:
                fault = self.faults.take(fault_key)
                if fault is not None:
                    log.info("supabase_auth_standin.fault_injected", extra={"method": fault_key})
                    code = "unexpected_failure" if fault.status >= 500 else "validation_failed"
                    raise AuthError(fault.status, code, fault.message or "injected fault")
                if not gateway_open:
                    self._check_api_key(request)
                return await handler(request)
            except AuthError as exc:
                log.info(
                    "supabase_auth_standin.error",
                    extra={"method": fault_key, "status": exc.status, "error_code": exc.error_code},
                )
                return exc.response(request)
            except GatewayError as exc:
                return exc.response()

        return Route(path, endpoint, methods=[verb])

    # Open endpoints

    async def health(self, _: Request) -> Response:
        return JSONResponse(
            {
                "version": "stand-in",
                "name": "GoTrue",
                "description": "GoTrue is a user registration and authentication API",
            }
        )

    async def jwks(self, _: Request) -> Response:
        key = ECAlgorithm.to_jwk(self._public_key, as_dict=True)
        key.update(kid=self.state.signing_kid, alg="ES256", use="sig", key_ops=["verify"], ext=True)
        return JSONResponse({"keys": [key]})

    async def outbox(self, _: Request) -> Response:
        return JSONResponse([mail.model_dump(mode="json") for mail in self.state.outbox])

    # Admin endpoints

    async def admin_create_user(self, request: Request) -> Response:
        self._require_admin(request)
        params = await _parse(request, _AdminUserParams)
        if not params.email:
            raise AuthError(400, "validation_failed", "Unable to validate email address: invalid format")
        user = self._new_user(params.email, user_id=params.id)
        if params.password is not None:
            _check_password_strength(params.password)
            user.password_hash = _hash_password(params.password)
        user.user_metadata = _merged({}, params.user_metadata or params.data)
        user.app_metadata = _merged(user.app_metadata, params.app_metadata)
        if params.email_confirm:
            user.email_confirmed_at = _now()
        if params.role:
            user.role = params.role
        if params.ban_duration:
            user.banned_until = _ban_until(params.ban_duration)
        self.state.users[user.id] = user
        self._save()
        return JSONResponse(_user_json(user))

    async def admin_list_users(self, request: Request) -> Response:
        self._require_admin(request)
        try:
            page = int(request.query_params.get("page") or 1)
            per_page = int(request.query_params.get("per_page") or _ADMIN_PAGE_SIZE)
        except ValueError as exc:
            raise AuthError(400, "validation_failed", "Bad Pagination Parameters") from exc
        if page < 1 or per_page < 1:
            raise AuthError(400, "validation_failed", "Bad Pagination Parameters")
        needle = request.query_params.get("filter", "").lower()
        # GoTrue sorts by created_at, newest first.
        users = sorted(
            (u for u in self.state.users.values() if needle in u.email),
            key=lambda u: u.created_at,
            reverse=True,
        )
        total = len(users)
        last_page = max(1, math.ceil(total / per_page))
        links = []
        if page < last_page:
            links.append(f'</admin/users?page={page + 1}&per_page={per_page}>; rel="next"')
        links.append(f'</admin/users?page={last_page}&per_page={per_page}>; rel="last"')
        selected = users[(page - 1) * per_page : page * per_page]
        return JSONResponse(
            {"users": [_user_json(u) for u in selected], "aud": AUDIENCE},
            headers={"X-Total-Count": str(total), "Link": ", ".join(links)},
        )

    async def admin_get_user(self, request: Request) -> Response:
        self._require_admin(request)
        return JSONResponse(_user_json(self._user(request.path_params["id"])))

    async def admin_update_user(self, request: Request) -> Response:
        self._require_admin(request)
        user = self._user(request.path_params["id"])
        params = await _parse(request, _AdminUserParams)
        if params.email is not None and _normalize_email(params.email) != user.email:
            self._ensure_email_free(params.email)
            user.email = _normalize_email(params.email)
        if params.password is not None:
            _check_password_strength(params.password)
            self._set_password(user, params.password, keep_session=None)
        if params.email_confirm and user.email_confirmed_at is None:
            user.email_confirmed_at = _now()
        user.user_metadata = _merged(user.user_metadata, params.user_metadata or params.data)
        user.app_metadata = _merged(user.app_metadata, params.app_metadata)
        if params.role:
            user.role = params.role
        if params.ban_duration is not None:
            user.banned_until = None if params.ban_duration == "none" else _ban_until(params.ban_duration)
        user.updated_at = _now()
        self._save()
        return JSONResponse(_user_json(user))

    async def admin_delete_user(self, request: Request) -> Response:
        self._require_admin(request)
        user = self._user(request.path_params["id"])
        self._end_sessions(user.id)
        self._void_one_time_tokens(user.id)
        del self.state.users[user.id]
        self._save()
        return JSONResponse({})

    async def admin_generate_link(self, request: Request) -> Response:
        self._require_admin(request)
        params = await _parse(request, _GenerateLinkParams)
        redirect_to = request.query_params.get("redirect_to") or self._site_url
        if params.type in ("invite", "signup"):
            user = self._user_to_invite(params.email, params.data)
            if params.type == "signup":
                if not params.password:
                    raise AuthError(422, "validation_failed", "Password is required for signup links")
                _check_password_strength(params.password)
                user.password_hash = _hash_password(params.password)
            else:
                user.invited_at = _now()
            user.confirmation_sent_at = _now()
            kind: TokenKind = "confirmation"
        elif params.type in ("recovery", "magiclink"):
            existing = self._user_by_email(params.email)
            if existing is None:
                raise AuthError(404, "user_not_found", "User with this email not found")
            user = existing
            user.recovery_sent_at = _now()
            kind = "recovery"
        else:
            raise AuthError(400, "validation_failed", f"Invalid email action link type requested: {params.type}")
        link = self._one_time_link(request, user, kind, params.type, redirect_to)
        self._save()
        return JSONResponse({**_user_json(user), **link})

    async def invite(self, request: Request) -> Response:
        self._require_admin(request)
        params = await _parse(request, _InviteParams)
        redirect_to = request.query_params.get("redirect_to") or self._site_url
        user = self._user_to_invite(params.email, params.data)
        user.invited_at = user.confirmation_sent_at = _now()
        self._send_mail(request, user, "confirmation", "invite", redirect_to)
        self._save()
        return JSONResponse(_user_json(user))

    # User endpoints

    async def recover(self, request: Request) -> Response:
        params = await _parse(request, _RecoverParams)
        user = self._user_by_email(params.email)
        # Same answer whether or not the address exists, so the endpoint cannot enumerate users.
        if user is not None:
            user.recovery_sent_at = _now()
            redirect_to = request.query_params.get("redirect_to") or self._site_url
            self._send_mail(request, user, "recovery", "recovery", redirect_to)
            self._save()
        return JSONResponse({})

    async def token(self, request: Request) -> Response:
        grant_type = request.query_params.get("grant_type")
        if grant_type == "password":
            body = self._password_grant(await _parse(request, _PasswordGrantParams))
        elif grant_type == "refresh_token":
            body = self._refresh_grant(await _parse(request, _RefreshGrantParams))
        else:
            raise AuthError(400, "validation_failed", "unsupported_grant_type")
        self._save()
        return JSONResponse(body)

    async def verify(self, request: Request) -> Response:
        params = await _parse(request, _VerifyParams)
        if params.token_hash:
            token_hash = params.token_hash
        elif params.email and params.token:
            token_hash = _token_hash(_normalize_email(params.email), params.token)
        else:
            raise AuthError(400, "validation_failed", "Verify requires either a token or a token hash")
        user = self._consume_one_time_token(token_hash, params.type)
        body = self._issue_session(user, "otp")
        self._save()
        return JSONResponse(body)

    async def verify_link(self, request: Request) -> Response:
        """The emailed link: verify, then send the browser to `redirect_to` with the session in the fragment."""
        verification_type = request.query_params.get("type", "")
        redirect_to = request.query_params.get("redirect_to") or self._site_url
        try:
            user = self._consume_one_time_token(request.query_params.get("token", ""), verification_type)
        except AuthError as exc:
            fragment = {"error": "access_denied", "error_code": exc.error_code, "error_description": exc.message}
            return RedirectResponse(f"{redirect_to}#{urlencode(fragment)}", status_code=303)
        session = self._issue_session(user, verification_type)
        self._save()
        fragment = {
            "access_token": session["access_token"],
            "expires_at": session["expires_at"],
            "expires_in": session["expires_in"],
            "refresh_token": session["refresh_token"],
            "token_type": "bearer",
            "type": verification_type,
        }
        return RedirectResponse(f"{redirect_to}#{urlencode(fragment)}", status_code=303)

    async def get_user(self, request: Request) -> Response:
        user, _ = self._require_user(request)
        return JSONResponse(_user_json(user))

    async def update_user(self, request: Request) -> Response:
        user, session = self._require_user(request)
        params = await _parse(request, _UserUpdateParams)
        if params.email is not None and _normalize_email(params.email) != user.email:
            raise AuthError(400, "validation_failed", "Email change is not supported by the stand-in")
        if params.password is not None:
            _check_password_strength(params.password)
            if user.password_hash and _password_matches(params.password, user.password_hash):
                raise AuthError(422, "same_password", "New password should be different from the old password.")
            self._set_password(user, params.password, keep_session=session.id)
        user.user_metadata = _merged(user.user_metadata, params.data)
        user.updated_at = _now()
        self._save()
        return JSONResponse(_user_json(user))

    async def logout(self, request: Request) -> Response:
        user, session = self._require_user(request)
        scope = request.query_params.get("scope", "global")
        if scope == "local":
            self._end_session(session.id)
        elif scope == "others":
            self._end_sessions(user.id, keep=session.id)
        elif scope == "global":
            self._end_sessions(user.id)
        else:
            raise AuthError(400, "validation_failed", "Unsupported logout scope")
        self._save()
        return Response(status_code=204)

    # Grants and sessions

    def _password_grant(self, params: _PasswordGrantParams) -> dict[str, Any]:
        if not params.email:
            raise AuthError(400, "validation_failed", "missing email or phone")
        user = self._user_by_email(params.email)
        if user is None or user.password_hash is None:
            raise AuthError(400, "invalid_credentials", "Invalid login credentials")
        if user.is_banned():
            raise AuthError(400, "user_banned", "User is banned")
        if not _password_matches(params.password or "", user.password_hash):
            raise AuthError(400, "invalid_credentials", "Invalid login credentials")
        if user.email_confirmed_at is None:
            raise AuthError(400, "email_not_confirmed", "Email not confirmed")
        return self._issue_session(user, "password")

    def _refresh_grant(self, params: _RefreshGrantParams) -> dict[str, Any]:
        if not params.refresh_token:
            raise AuthError(400, "validation_failed", "refresh_token required")
        record = self.state.refresh_tokens.get(params.refresh_token)
        session = self.state.sessions.get(record.session_id) if record else None
        user = self.state.users.get(session.user_id) if session else None
        if record is None or session is None or user is None:
            raise AuthError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
        if record.revoked:
            # Reuse of a spent token looks like theft: the whole token family goes.
            self._end_session(session.id)
            self._save()
            raise AuthError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
        if user.is_banned():
            raise AuthError(400, "user_banned", "User is banned")
        record.revoked = True
        return self._session_response(user, session, self._new_refresh_token(session.id))

    def _issue_session(self, user: _User, method: str) -> dict[str, Any]:
        now = _now()
        session = _Session(
            id=str(uuid.uuid4()),
            user_id=user.id,
            created_at=now,
            amr=[{"method": method, "timestamp": int(now.timestamp())}],
        )
        self.state.sessions[session.id] = session
        user.last_sign_in_at = now
        return self._session_response(user, session, self._new_refresh_token(session.id))

    def _new_refresh_token(self, session_id: str) -> str:
        token = secrets.token_urlsafe(16)
        self.state.refresh_tokens[token] = _RefreshToken(session_id=session_id)
        return token

    def _session_response(self, user: _User, session: _Session, refresh_token: str) -> dict[str, Any]:
        issued_at = int(time.time())
        expires_at = issued_at + ACCESS_TOKEN_TTL_SECONDS
        claims = {
            "iss": self._issuer,
            "sub": user.id,
            "aud": AUDIENCE,
            "exp": expires_at,
            "iat": issued_at,
            "email": user.email,
            "phone": "",
            "app_metadata": user.app_metadata,
            "user_metadata": user.user_metadata,
            "role": user.role,
            "aal": "aal1",
            "amr": session.amr,
            "session_id": session.id,
            "is_anonymous": False,
        }
        access_token = jwt.encode(claims, self._private_key, algorithm="ES256", headers={"kid": self.state.signing_kid})
        return {
            "access_token": access_token,
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_TTL_SECONDS,
            "expires_at": expires_at,
            "refresh_token": refresh_token,
            "user": _user_json(user),
        }

    def _end_session(self, session_id: str) -> None:
        self.state.sessions.pop(session_id, None)
        for token in [t for t, r in self.state.refresh_tokens.items() if r.session_id == session_id]:
            del self.state.refresh_tokens[token]

    def _end_sessions(self, user_id: str, *, keep: str | None = None) -> None:
        for session_id in [s.id for s in self.state.sessions.values() if s.user_id == user_id]:
            if session_id != keep:
                self._end_session(session_id)

    def _set_password(self, user: _User, password: str, *, keep_session: str | None) -> None:
        """GoTrue's `UpdatePassword`: new hash, pending links void, other sessions (or all) ended."""
        user.password_hash = _hash_password(password)
        self._void_one_time_tokens(user.id)
        self._end_sessions(user.id, keep=keep_session)

    # One-time tokens and mail

    def _one_time_link(
        self, request: Request, user: _User, kind: TokenKind, verification_type: str, redirect_to: str
    ) -> dict[str, str]:
        """Issue the user's `kind` token (voiding the previous one) and describe it like GoTrue."""
        self._void_one_time_tokens(user.id, kind)
        otp = f"{secrets.randbelow(10**6):06d}"
        token_hash = _token_hash(user.email, otp)
        self.state.one_time_tokens[token_hash] = _OneTimeToken(user_id=user.id, kind=kind, created_at=_now())
        external = self._external_url or str(request.base_url).rstrip("/")
        query = f"token={token_hash}&type={verification_type}&redirect_to={quote(redirect_to, safe='')}"
        return {
            "action_link": f"{external}/auth/v1/verify?{query}",
            "email_otp": otp,
            "hashed_token": token_hash,
            "redirect_to": redirect_to,
            "verification_type": verification_type,
        }

    def _send_mail(
        self, request: Request, user: _User, kind: TokenKind, verification_type: str, redirect_to: str
    ) -> None:
        link = self._one_time_link(request, user, kind, verification_type, redirect_to)
        self.state.outbox.append(
            _SentMail(
                to=user.email,
                type=verification_type,
                action_link=link["action_link"],
                hashed_token=link["hashed_token"],
                email_otp=link["email_otp"],
                redirect_to=redirect_to,
                sent_at=_now(),
            )
        )
        log.info("supabase_auth_standin.mail_sent", extra={"type": verification_type, "user_id": user.id})

    def _consume_one_time_token(self, token_hash: str, verification_type: str) -> _User:
        kinds = _TOKEN_KINDS.get(verification_type)
        if kinds is None:
            raise AuthError(400, "validation_failed", f"Unsupported verification type: {verification_type}")
        token = self.state.one_time_tokens.get(token_hash)
        if token is None or token.kind not in kinds:
            raise AuthError(403, "otp_expired", _OTP_EXPIRED)
        del self.state.one_time_tokens[token_hash]
        user = self.state.users.get(token.user_id)
        if user is None or _now() - token.created_at > ONE_TIME_TOKEN_TTL:
            self._save()
            raise AuthError(403, "otp_expired", _OTP_EXPIRED)
        if user.is_banned():
            self._save()
            raise AuthError(403, "user_banned", "User is banned")
        if user.email_confirmed_at is None:
            user.email_confirmed_at = _now()
        return user

    def _void_one_time_tokens(self, user_id: str, kind: TokenKind | None = None) -> None:
        for token_hash, token in list(self.state.one_time_tokens.items()):
            if token.user_id == user_id and kind in (None, token.kind):
                del self.state.one_time_tokens[token_hash]

    # Users and credentials

    def _new_user(self, email: str, *, user_id: str | None = None) -> _User:
        self._ensure_email_free(email)
        now = _now()
        return _User(
            id=user_id or str(uuid.uuid4()),
            email=_normalize_email(email),
            app_metadata={"provider": "email", "providers": ["email"]},
            created_at=now,
            updated_at=now,
        )

    def _user_to_invite(self, email: str, data: dict[str, Any] | None) -> _User:
        """An unconfirmed user for this address: the existing one, or a new one."""
        user = self._user_by_email(email)
        if user is not None and user.email_confirmed_at is not None:
            raise AuthError(422, "email_exists", "A user with this email address has already been registered")
        if user is None:
            user = self._new_user(email)
            self.state.users[user.id] = user
        user.user_metadata = _merged(user.user_metadata, data)
        return user

    def _ensure_email_free(self, email: str) -> None:
        if "@" not in email:
            raise AuthError(400, "validation_failed", "Unable to validate email address: invalid format")
        if self._user_by_email(email) is not None:
            raise AuthError(422, "email_exists", "A user with this email address has already been registered")

    def _user_by_email(self, email: str) -> _User | None:
        wanted = _normalize_email(email)
        return next((u for u in self.state.users.values() if u.email == wanted), None)

    def _user(self, user_id: str) -> _User:
        user = self.state.users.get(user_id)
        if user is None:
            raise AuthError(404, "user_not_found", "User not found")
        return user

    def _check_api_key(self, request: Request) -> None:
        api_key = request.headers.get("apikey")
        if not api_key:
            raise GatewayError("No API key found in request")
        if api_key not in self._api_keys:
            raise GatewayError("Invalid API key")

    def _require_admin(self, request: Request) -> None:
        token = _bearer(request)
        if token is None:
            raise AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token")
        if not hmac.compare_digest(token, self._service_role_key):
            raise AuthError(403, "not_admin", "User not allowed")

    def _require_user(self, request: Request) -> tuple[_User, _Session]:
        token = _bearer(request)
        if token is None:
            raise AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token")
        try:
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=["ES256"],
                audience=AUDIENCE,
                issuer=self._issuer,
                options={"require": ["exp", "sub", "session_id"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(403, "bad_jwt", f"invalid JWT: unable to parse or verify signature, {exc}") from exc
        user = self.state.users.get(claims["sub"])
        if user is None:
            raise AuthError(403, "user_not_found", "User from sub claim in JWT does not exist")
        session = self.state.sessions.get(claims["session_id"])
        if session is None:
            raise AuthError(403, "session_not_found", "Session from session_id claim in JWT does not exist")
        if user.is_banned():
            raise AuthError(403, "user_banned", "User is banned")
        return user, session

    def _save(self) -> None:
        write_state(self._state_path, self.state.model_dump(mode="json"))


def _new_state() -> _State:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return _State(signing_kid=str(uuid.uuid4()), signing_key_pem=pem.decode())


async def _parse(request: Request, model: type[BodyT]) -> BodyT:
    body = await request.body()
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            raise AuthError(400, "bad_json", "Could not parse request body as JSON") from exc
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise AuthError(400, "validation_failed", problems) from exc


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _user_json(user: _User) -> dict[str, Any]:
    """A user as GoTrue serialises `models.User` (timestamps that are unset are left out)."""
    confirmed = user.email_confirmed_at
    body: dict[str, Any] = {
        "id": user.id,
        "aud": AUDIENCE,
        "role": user.role,
        "email": user.email,
        "phone": "",
        "app_metadata": user.app_metadata,
        "user_metadata": user.user_metadata,
        "identities": [
            {
                "identity_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"identity:email:{user.id}")),
                "id": user.id,
                "user_id": user.id,
                "identity_data": {
                    "email": user.email,
                    "email_verified": confirmed is not None,
                    "phone_verified": False,
                    "sub": user.id,
                },
                "provider": "email",
                "created_at": _iso(user.created_at),
                "updated_at": _iso(user.updated_at),
                "email": user.email,
            }
        ],
        "created_at": _iso(user.created_at),
        "updated_at": _iso(user.updated_at),
        "is_anonymous": False,
    }
    optional = {
        "email_confirmed_at": confirmed,
        "confirmed_at": confirmed,
        "invited_at": user.invited_at,
        "confirmation_sent_at": user.confirmation_sent_at,
        "recovery_sent_at": user.recovery_sent_at,
        "last_sign_in_at": user.last_sign_in_at,
        "banned_until": user.banned_until,
    }
    body.update({name: _iso(value) for name, value in optional.items() if value is not None})
    return body


def _merged(current: dict[str, Any], changes: dict[str, Any] | None) -> dict[str, Any]:
    """GoTrue's metadata update: top-level keys are replaced, a null value removes the key."""
    merged = dict(current)
    for key, value in (changes or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _ban_until(duration: str) -> datetime:
    """`ban_duration` is a Go duration (`"876000h"`, `"1h30m"`); the user is banned until now + it."""
    seconds = 0.0
    position = 0
    for match in _DURATION_PART.finditer(duration):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if position == 0 or position != len(duration):
        raise AuthError(400, "validation_failed", f"invalid format for ban duration: {duration!r}")
    return _now() + timedelta(seconds=seconds)


def _check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(
            422,
            "weak_password",
            f"Password should be at least {MIN_PASSWORD_LENGTH} characters.",
            weak_password={"reasons": ["length"]},
        )


def _hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def _password_matches(password: str, stored: str) -> bool:
    _, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), dklen=32, **_SCRYPT)
    return hmac.compare_digest(candidate, base64.b64decode(digest))


def _token_hash(email: str, otp: str) -> str:
    """GoTrue's `crypto.GenerateTokenHash`: hex sha224 of the address followed by the OTP."""
    return hashlib.sha224((email + otp).encode()).hexdigest()


def _normalize_email(email: str) -> str:
    return email.strip().lower()


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
