"""A Supabase Auth (GoTrue) stand-in that the real `supabase` / `supabase_auth` clients accept.

No GoTrue server can run on these machines (the Supabase CLI needs Docker), so this app serves the
part of `/auth/v1` the product calls (`mla_core.adapters.supabase_auth` and `tokens`), shaped after
`supabase/auth` `internal/api` and checked against what `supabase_auth` 2.34 sends and parses:

- Admin (service-role bearer): `POST /admin/users` (a user with a password, confirmed or not, with
  the `id` the caller chose or a random one), `GET /admin/users?page&per_page` (newest first),
  `GET /admin/users/{id}`, `PUT /admin/users/{id}` (password, metadata, `ban_duration`),
  `DELETE /admin/users/{id}`, `POST /admin/generate_link` of type `invite`.
- Users: `POST /token?grant_type=password|refresh_token`, `POST /verify` of type `invite` with the
  `token_hash`, `POST /logout?scope=local`.
- Since the product keeps its invitations in its own records (`mla_core.identity.invitations`), it
  no longer calls `generate_link` or `/verify`; they stay, modelled as GoTrue has them.
- A password sign-in refuses an unknown email and a banned user before it hashes the password, as
  GoTrue does (the product evens out the time: `bench.signin`).
- Open: `GET /.well-known/jwks.json`, `GET /health`.

Faithful where the product depends on it:

- Access tokens are ES256 JWTs with a `kid`, signed by a P-256 key made once and kept in the state
  file, published at the JWKS endpoint, with Supabase's claims (`iss`, `sub`, `aud`, `exp`, `iat`,
  `email`, `phone`, `app_metadata`, `user_metadata`, `role`, `aal`, `amr`, `session_id`,
  `is_anonymous`).
- Refresh tokens rotate. Reusing a spent one is refused with `refresh_token_already_used` and, as
  GoTrue does with rotation on, ends the whole session. Logging out ends the token's session; a
  later logout with that token is `session_not_found`.
- Invite tokens: `hashed_token` is `sha224(email + otp)` as in GoTrue; one per user (a new link
  voids the previous one), single use, valid for an hour; inviting a confirmed address is
  `email_exists`, verifying confirms the user.
- A password set by an admin ends every session of the user and voids a pending invite, as
  GoTrue's `User.UpdatePassword` does. A banned user cannot sign in, refresh or log out
  (`user_banned`); an unconfirmed one cannot sign in (`email_not_confirmed`); a password shorter
  than six characters is `weak_password`; a second user with the same address `email_exists`.
- Errors have GoTrue's current shape, `{"code": "<error_code>", "message": ...}` with the
  `X-Supabase-Api-Version: 2024-01-01` header the client reads to parse them.
- Like Supabase's API gateway, every route except health, JWKS and `/verify` wants an `apikey`
  header holding the anon or service-role key (401 `{"message": "Invalid API key"}` otherwise).
- State (users, sessions, tokens, the signing key) persists in one file when `state_path` is
  given. Faults (see `serve`) are keyed by "VERB path-template", e.g. `POST /auth/v1/admin/users`
  or `PUT /auth/v1/admin/users/{id}`.

What it does not model (a call the product might one day make would not show these here):

- Email: nothing is ever sent (no invite, confirmation or recovery mail, no SMTP errors or email
  rate limits). The invite link's `action_link` is not served (no `GET /verify`): the product
  builds its own link around `hashed_token`.
- Sign-up, password recovery, magic links, email and phone OTP, phone and OAuth/SSO sign-in,
  anonymous users, MFA (`aal2`), email change, the user's own `GET/PUT /user`, `POST /invite`:
  not served (404 or 405).
- Fields and forms the product does not send are refused with 400 `validation_failed` and a
  message saying so: other link types, admin user fields other than those above, `ban_duration`
  other than `none` or whole hours, logout scopes other than `local`, soft delete.
- Rate limits, CAPTCHA, GoTrue's 10 s refresh-token reuse grace, leaked-password checks and the
  project's password policy beyond the six-character minimum, hooks, audit log, the legacy error
  shape (`{"code": <status>, "error_code": ..., "msg": ...}`), the user's `identities`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from local_stack.serve import Faults, control_routes, read_state, write_state

__all__ = ["create_app"]

log = logging.getLogger(__name__)

STATE_VERSION = 1
ACCESS_TOKEN_TTL_SECONDS = 3600
INVITE_TOKEN_TTL = timedelta(hours=1)
MIN_PASSWORD_LENGTH = 6
AUDIENCE = "authenticated"
API_VERSION_HEADER = "X-Supabase-Api-Version"
_API_VERSION_2024 = "2024-01-01"
_ADMIN_PAGE_SIZE = 50
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_WHOLE_HOURS = re.compile(r"(\d+)h")
_OTP_EXPIRED = "Email link is invalid or has expired"


class AuthError(Exception):
    """A GoTrue `HTTPError`: HTTP status, machine-readable `error_code`, human message."""

    def __init__(self, status: int, error_code: str, message: str, **extra: Any) -> None:
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.extra = extra

    def response(self) -> JSONResponse:
        body = {"code": self.error_code, "message": self.message, **self.extra}
        return JSONResponse(body, status_code=self.status, headers={API_VERSION_HEADER: _API_VERSION_2024})


def _not_modelled(what: str) -> AuthError:
    return AuthError(400, "validation_failed", f"{what} is not modelled by the Supabase Auth stand-in")


class GatewayError(Exception):
    """A refusal by Supabase's API gateway (Kong), which answers before GoTrue sees the request."""

    def response(self) -> JSONResponse:
        return JSONResponse({"message": str(self)}, status_code=401)


# What is stored. Timestamps are aware UTC datetimes; the file is versioned (fields an older file
# holds and this one no longer models are ignored on load).


class _User(BaseModel):
    id: str
    email: str
    password_hash: str | None = None
    app_metadata: dict[str, Any]
    user_metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    email_confirmed_at: datetime | None = None
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


class _InviteToken(BaseModel):
    user_id: str
    created_at: datetime


class _State(BaseModel):
    version: int = STATE_VERSION
    signing_kid: str
    signing_key_pem: str
    users: dict[str, _User] = Field(default_factory=dict)
    sessions: dict[str, _Session] = Field(default_factory=dict)
    refresh_tokens: dict[str, _RefreshToken] = Field(default_factory=dict)
    one_time_tokens: dict[str, _InviteToken] = Field(default_factory=dict)


# Request bodies as the clients send them. Extra fields are ignored where the client adds its own
# (GoTrue ignores unknown fields); the admin user bodies are exactly what the product passes, so a
# field it starts sending that is not modelled here is refused instead of silently dropped.


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _AdminCreateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    email: str | None = None
    password: str | None = None
    email_confirm: bool = False
    app_metadata: dict[str, Any] | None = None
    user_metadata: dict[str, Any] | None = None


class _AdminUpdateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str | None = None
    app_metadata: dict[str, Any] | None = None
    user_metadata: dict[str, Any] | None = None
    ban_duration: str | None = None


class _AdminDeleteParams(_Body):
    should_soft_delete: bool = False


class _GenerateLinkParams(_Body):
    type: str
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


BodyT = TypeVar("BodyT", bound=BaseModel)
Handler = Callable[[Request], Awaitable[Response]]


def create_app(*, url: str, service_role_key: str, anon_key: str, state_path: Path | None) -> Starlette:
    """The Supabase Auth stand-in as an ASGI app, serving `/auth/v1`.

    `url` is the project URL the stand-in answers on (`https://<ref>.supabase.co` in real life):
    tokens carry `iss = {url}/auth/v1`, invite links point at it, and it is where they send the user
    when no `redirect_to` is given (GoTrue's SITE_URL). `state_path` (optional) persists users,
    sessions, tokens and the signing key across restarts.
    """
    standin = _AuthStandIn(url, service_role_key, anon_key, state_path)
    return Starlette(routes=[*control_routes(standin.faults), Mount("/auth/v1", routes=standin.routes())])


class _AuthStandIn:
    def __init__(self, url: str, service_role_key: str, anon_key: str, state_path: Path | None) -> None:
        self._url = url.rstrip("/")
        self._issuer = f"{self._url}/auth/v1"
        self._service_role_key = service_role_key
        self._api_keys = {service_role_key, anon_key}
        self._state_path = state_path
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
            self._route("POST", "/token", self.token),
            self._route("POST", "/verify", self.verify, gateway_open=True),
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
                return exc.response()
            except GatewayError as exc:
                return exc.response()

        return Route(path, endpoint, methods=[verb])

    # Open endpoints

    async def health(self, _: Request) -> Response:
        return JSONResponse({"version": "stand-in", "name": "GoTrue"})

    async def jwks(self, _: Request) -> Response:
        key = ECAlgorithm.to_jwk(self._public_key, as_dict=True)
        key.update(kid=self.state.signing_kid, alg="ES256", use="sig", key_ops=["verify"], ext=True)
        return JSONResponse({"keys": [key]})

    # Admin endpoints

    async def admin_create_user(self, request: Request) -> Response:
        self._require_admin(request)
        params = await _parse(request, _AdminCreateParams)
        if not params.email:
            raise AuthError(400, "validation_failed", "Unable to validate email address: invalid format")
        user = self._new_user(params.email, params.id)
        if params.password is not None:
            _check_password_strength(params.password)
            user.password_hash = _hash_password(params.password)
        user.user_metadata = _merged({}, params.user_metadata)
        user.app_metadata = _merged(user.app_metadata, params.app_metadata)
        if params.email_confirm:
            user.email_confirmed_at = _now()
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
        # GoTrue sorts by created_at, newest first.
        users = sorted(self.state.users.values(), key=lambda u: u.created_at, reverse=True)
        selected = users[(page - 1) * per_page : page * per_page]
        return JSONResponse({"users": [_user_json(u) for u in selected], "aud": AUDIENCE})

    async def admin_get_user(self, request: Request) -> Response:
        self._require_admin(request)
        return JSONResponse(_user_json(self._user(request.path_params["id"])))

    async def admin_update_user(self, request: Request) -> Response:
        self._require_admin(request)
        user = self._user(request.path_params["id"])
        params = await _parse(request, _AdminUpdateParams)
        if params.password is not None:
            _check_password_strength(params.password)
            self._set_password(user, params.password)
        user.user_metadata = _merged(user.user_metadata, params.user_metadata)
        user.app_metadata = _merged(user.app_metadata, params.app_metadata)
        if params.ban_duration is not None:
            user.banned_until = None if params.ban_duration == "none" else _ban_until(params.ban_duration)
        user.updated_at = _now()
        self._save()
        return JSONResponse(_user_json(user))

    async def admin_delete_user(self, request: Request) -> Response:
        self._require_admin(request)
        user = self._user(request.path_params["id"])
        if (await _parse(request, _AdminDeleteParams)).should_soft_delete:
            raise _not_modelled("Soft delete")
        self._end_sessions(user.id)
        self._void_invite(user.id)
        del self.state.users[user.id]
        self._save()
        return JSONResponse({})

    async def admin_generate_link(self, request: Request) -> Response:
        self._require_admin(request)
        params = await _parse(request, _GenerateLinkParams)
        if params.type != "invite":
            raise _not_modelled(f"A {params.type!r} link")
        redirect_to = request.query_params.get("redirect_to") or self._url
        user = self._user_to_invite(params.email, params.data)
        link = self._invite_link(user, redirect_to)
        self._save()
        return JSONResponse({**_user_json(user), **link})

    # User endpoints

    async def token(self, request: Request) -> Response:
        grant_type = request.query_params.get("grant_type")
        if grant_type == "password":
            body = self._password_grant(await _parse(request, _PasswordGrantParams))
        elif grant_type == "refresh_token":
            body = self._refresh_grant(await _parse(request, _RefreshGrantParams))
        else:
            raise _not_modelled(f"Grant type {grant_type!r}")
        self._save()
        return JSONResponse(body)

    async def verify(self, request: Request) -> Response:
        params = await _parse(request, _VerifyParams)
        if params.type != "invite":
            raise _not_modelled(f"Verification of type {params.type!r}")
        if not params.token_hash:
            raise _not_modelled("Verification without a token hash")
        user = self._consume_invite(params.token_hash)
        body = self._issue_session(user, "otp")
        self._save()
        return JSONResponse(body)

    async def logout(self, request: Request) -> Response:
        _, session = self._require_user(request)
        scope = request.query_params.get("scope", "global")
        if scope != "local":
            raise _not_modelled(f"Logout scope {scope!r}")
        self._end_session(session.id)
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
            "role": AUDIENCE,
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

    def _end_sessions(self, user_id: str) -> None:
        for session_id in [s.id for s in self.state.sessions.values() if s.user_id == user_id]:
            self._end_session(session_id)

    def _set_password(self, user: _User, password: str) -> None:
        """GoTrue's `UpdatePassword` by an admin: new hash, pending invite void, every session ended."""
        user.password_hash = _hash_password(password)
        self._void_invite(user.id)
        self._end_sessions(user.id)

    # Invite tokens

    def _invite_link(self, user: _User, redirect_to: str) -> dict[str, str]:
        """Issue the user's invite token (voiding the previous one) and describe it like GoTrue."""
        self._void_invite(user.id)
        otp = f"{secrets.randbelow(10**6):06d}"
        token_hash = _token_hash(user.email, otp)
        self.state.one_time_tokens[token_hash] = _InviteToken(user_id=user.id, created_at=_now())
        return {
            "action_link": f"{self._issuer}/verify?token={token_hash}&type=invite",
            "email_otp": otp,
            "hashed_token": token_hash,
            "redirect_to": redirect_to,
            "verification_type": "invite",
        }

    def _consume_invite(self, token_hash: str) -> _User:
        token = self.state.one_time_tokens.pop(token_hash, None)
        if token is None:
            raise AuthError(403, "otp_expired", _OTP_EXPIRED)
        user = self.state.users.get(token.user_id)
        if user is None or _now() - token.created_at > INVITE_TOKEN_TTL:
            self._save()
            raise AuthError(403, "otp_expired", _OTP_EXPIRED)
        if user.is_banned():
            self._save()
            raise AuthError(403, "user_banned", "User is banned")
        if user.email_confirmed_at is None:
            user.email_confirmed_at = _now()
        return user

    def _void_invite(self, user_id: str) -> None:
        for token_hash, token in list(self.state.one_time_tokens.items()):
            if token.user_id == user_id:
                del self.state.one_time_tokens[token_hash]

    # Users and credentials

    def _new_user(self, email: str, user_id: str | None = None) -> _User:
        """A new user, with the id the admin chose (GoTrue's `AdminUserParams.Id`) or a random one."""
        self._ensure_email_free(email)
        if user_id is not None:
            try:
                user_id = str(uuid.UUID(user_id))
            except ValueError as exc:
                raise AuthError(400, "validation_failed", "id must be a UUID") from exc
            if user_id in self.state.users:
                raise AuthError(422, "user_already_exists", "User already registered")
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
        unmodelled = [str(e["loc"][0]) for e in exc.errors() if e["type"] == "extra_forbidden"]
        if unmodelled:
            raise _not_modelled(f"The field {', '.join(unmodelled)}") from exc
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise AuthError(400, "validation_failed", problems) from exc


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _user_json(user: _User) -> dict[str, Any]:
    """A user as GoTrue serialises `models.User` (timestamps that are unset are left out)."""
    body: dict[str, Any] = {
        "id": user.id,
        "aud": AUDIENCE,
        "role": AUDIENCE,
        "email": user.email,
        "phone": "",
        "app_metadata": user.app_metadata,
        "user_metadata": user.user_metadata,
        "created_at": _iso(user.created_at),
        "updated_at": _iso(user.updated_at),
        "is_anonymous": False,
    }
    if user.email_confirmed_at is not None:
        body["email_confirmed_at"] = body["confirmed_at"] = _iso(user.email_confirmed_at)
    if user.banned_until is not None:
        body["banned_until"] = _iso(user.banned_until)
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
    """`ban_duration` in whole hours (`"876000h"`); GoTrue takes any Go duration."""
    match = _WHOLE_HOURS.fullmatch(duration)
    if match is None:
        raise _not_modelled(f"The ban duration {duration!r} (only 'none' and whole hours are)")
    return _now() + timedelta(hours=int(match.group(1)))


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
