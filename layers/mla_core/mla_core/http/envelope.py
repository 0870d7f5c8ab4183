"""The HTTP edge shared by every FastAPI app: one envelope, errors mapped in one place.

Success: `{"success": true, "data": ...}`. Failure: `{"success": false, "error": {"code",
"message", "details": [{"field", "reason", "message"}]}}`, validation errors included. `code` and each
detail's `reason` are stable, for programs; each `message` is a sentence for a person, in the language
the request's `Accept-Language` asks for (English, Hindi or Tamil; English by default), from the one
catalogue of error sentences (`mla_core.core.messages`).

A route declares `response_model=Envelope[...]` so the OpenAPI says what its `data` is, and returns
`ok(...)`: a Response, so FastAPI neither validates nor serializes the value again on the way out.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

import orjson
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mla_core.core import messages
from mla_core.core.errors import AppError, redact
from mla_core.http.api_docs import Access, add_docs
from mla_core.http.caching import NoStore
from mla_core.http.clean_input import CleanInput, scope_language

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Envelope(BaseModel, Generic[T]):
    """A success: what `ok(data)` sends."""

    success: Literal[True] = True
    data: T


class Page(BaseModel, Generic[T]):
    """One keyset page: `next_cursor` fetches the next one; None on the last page."""

    items: list[T]
    next_cursor: str | None


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] = []


class ErrorEnvelope(BaseModel):
    success: Literal[False] = False
    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope} for status in (400, 401, 403, 404, 409, 422, 429, 500, 503)
}


def _json_default(value: Any) -> Any:
    """What orjson does not write natively: decimals and models."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return jsonable_encoder(value)


class EnvelopeResponse(JSONResponse):
    """JSON through orjson, which writes our rows' datetimes and UUIDs natively. FastAPI's
    `jsonable_encoder` walks every value in Python first, and even the standard library's C encoder
    calling back for each timestamp cost half the time of the query on a page of complaints."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_json_default, option=orjson.OPT_NON_STR_KEYS)


def ok(data: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return EnvelopeResponse({"success": True, "data": data}, status_code=status_code, headers=headers)


def csv_download(lines: Iterator[str], filename: str) -> StreamingResponse:
    """Lines of CSV streamed as a file download (the body is never held whole in memory)."""
    return StreamingResponse(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def json_download(document: Any, filename: str) -> JSONResponse:
    """A JSON document as a file download (a personal-data export), kept by no cache on the way."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    return EnvelopeResponse(document, headers=headers)


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"success": False, "error": {"code": code, "message": message, "details": details or []}}
    return JSONResponse(body, status_code=status_code, headers=headers)


_HTTP_CODES = messages.STATUS_CODES


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[-1] if loc else "")


def _validation_details(exc: RequestValidationError, lang: str = "en") -> list[dict[str, Any]]:
    details = []
    for err in exc.errors():
        reason = err.get("msg", "invalid").removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            reason = "unknown field"
        field = _field(tuple(err.get("loc", ())))
        message = messages.pydantic_sentence(err, field, lang)
        details.append({"field": field, "reason": reason, "type": err.get("type"), "message": message})
    return details


def _with_messages(details: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Our errors' details, each with its sentence in `lang` where the catalogue has one."""
    out = []
    for detail in details:
        found = messages.detail_sentence(detail, lang) if detail.get("field") else None
        out.append({**detail, "message": found} if found is not None else detail)
    return out


def answer_language(request: Request) -> str:
    """The language the client asks its errors in (`Accept-Language`; English by default)."""
    return messages.negotiate(request.headers.get("accept-language"))


# 401 says how to authenticate; 503 (a dependency down for a moment) says when to try again.
_ERROR_HEADERS = {401: {"WWW-Authenticate": "Bearer"}, 503: {"Retry-After": "5"}}


def app_error_response(exc: AppError, lang: str = "en") -> JSONResponse:
    """One of our errors in the envelope, wherever it was raised (a route, the input edge), its
    message in `lang`; a failure on our side says no internal host or URL."""
    headers = {**_ERROR_HEADERS.get(exc.status_code, {}), **exc.headers}
    message = redact(exc.message) if exc.status_code >= 500 else exc.message
    message = messages.error_sentence(exc.code, message, exc.details, lang)
    return error_response(exc.status_code, exc.code, message, _with_messages(exc.details, lang), headers)


class AnswerUnexpected:
    """ASGI middleware, the last resort: an unexpected error (in a route or a dependency, a token
    check included) is logged and answered 500 `internal_error` in the envelope, and ends here.

    Starlette's own last resort answers and then raises the error on to the server, and uvicorn then
    closes the connection: the next request on it was reset, and a client that retried re-sent its
    POST (one team invitation left two logins in Supabase Auth). A mounted app (the pages) has
    answered by the time its error arrives here; that error is logged and ends here too. An error
    after a response began but before it ended (a streamed CSV) is raised on, so that the server cuts
    the response off and no client takes it for whole."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        progress = {"started": False, "ended": False}

        async def tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                progress["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                progress["ended"] = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            logger.exception("unhandled error", extra={"path": scope.get("path")})
            if progress["started"] and not progress["ended"]:
                raise
            if not progress["started"]:
                message = messages.error_sentence(
                    "internal_error", "something went wrong on our side", [], scope_language(scope)
                )
                await error_response(500, "internal_error", message)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_middleware(AnswerUnexpected)

    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> JSONResponse:
        if exc.status_code >= 500:
            logger.warning("request failed", extra={"path": request.url.path, "code": exc.code, "error": exc.message})
        return app_error_response(exc, answer_language(request))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = answer_language(request)
        details = _validation_details(exc, lang)
        message = messages.error_sentence("validation_error", "the request is not valid", [], lang)
        return error_response(422, "validation_error", message, details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = messages.error_sentence(code, str(exc.detail), [], answer_language(request))
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


class LazyApp:
    """An ASGI app imported on its first request, so the pages (templates, forms, static files)
    stay out of a cold start that serves only the JSON API. `target` is `module:attribute`."""

    def __init__(self, target: str) -> None:
        self._target = target
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            module, _, name = self._target.partition(":")
            self._app = getattr(importlib.import_module(module), name)
        await self._app(scope, receive, send)


def create_app(
    *,
    title: str,
    description: str,
    docs_prefix: str = "",
    signed_bodies: bool = False,
    docs_access: Access | None = None,
    docs_sign_in: str | None = None,
) -> FastAPI:
    """An API app with the envelope, its errors and the input edge (`http.clean_input`);
    `signed_bodies`: its routes check a signature on the body as sent, which the edge then leaves alone.
    Its docs are at `<docs_prefix>/docs`, from our own origin (`http.api_docs`): for everyone, or for
    the callers `docs_access` lets through (a browser it refuses is sent to `docs_sign_in`)."""
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        docs_url=None,
        openapi_url=None,
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    add_docs(app, prefix=docs_prefix, access=docs_access, sign_in=docs_sign_in)
    app.add_middleware(CleanInput, refusal=app_error_response, routes=app.routes, signed_bodies=signed_bodies)
    app.add_middleware(NoStore)  # answers about people stay out of caches (`http.caching`)
    install_error_handlers(app)
    return app
