"""Every request's input held to `mla_core.core.text` before a route sees it: the path, the query
string, the headers and the body (JSON, or a urlencoded form). A refused character answers 422 in the
envelope naming the field as every validation error names it (`status`, `idempotency-key`,
`greetings.ta`, `full_name`; `path` for the path); text that is not NFC goes on normalised (the query
string or body rewritten).

Cheap on purpose: a request without a query string or body costs one scan of its path and headers,
and a JSON body in ASCII without a `\\u` escape can hold neither a refused character nor text to
normalise, so it is not parsed.

Left as sent: a body of a type no route reads into a model nor a page into a form (a multipart body
is refused: neither the API nor the pages take one), and every body of an app created with
`signed_bodies` (the LiveKit webhook, whose signature covers the bytes as they arrived; its route
checks the event once the signature holds).

Under a path mounted in the app (the pages), the mounted app answers, as a page in the reader's
language: the request goes on with an empty query string and body, and the refusal in
`request.state.refused_input` (`core.text.REFUSED_INPUT`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from urllib.parse import parse_qsl, quote, urlencode

from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mla_core.core import messages
from mla_core.core.errors import AppError, InvalidInputError
from mla_core.core.text import REFUSED_INPUT, clean, clean_json, refusal

# A header arrives as bytes: C0 controls and DEL are refused; above 0x7F is the sender's encoding.
_HEADER_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
# A query string or form of printable ASCII without escapes holds nothing to refuse or normalise.
_NEEDS_PARSING = re.compile(rb"[^\x20-\x7e]|%")

# The answer to a refused request: the error, and the language the client asks its errors in.
Refusal = Callable[[AppError, str], ASGIApp]


def scope_language(scope: Scope) -> str:
    """The language a request asks its errors in (`Accept-Language`; English without one), read from
    the ASGI scope: for an edge that answers before a route (and its `Request`) exists."""
    header = next((value for name, value in scope.get("headers", ()) if name == b"accept-language"), b"")
    return messages.negotiate(header.decode("latin-1"))


class CleanInput:
    """ASGI middleware: see the module docstring. `refusal` makes the answer to a refused request;
    `routes` are the app's, to tell the mounted paths."""

    def __init__(
        self, app: ASGIApp, *, refusal: Refusal, routes: Sequence[BaseRoute], signed_bodies: bool = False
    ) -> None:
        self.app = app
        self._refusal = refusal
        self._routes = routes
        self._signed_bodies = signed_bodies
        self._mounts: tuple[str, ...] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            scope, body_type = self._cleaned_head(scope)
            if body_type is not None:
                scope, receive = await _cleaned_body(scope, receive, body_type)
        except InvalidInputError as refused:
            if self._mounted(scope["path"]):
                state = {**scope.get("state", {}), REFUSED_INPUT: refused}
                await self.app({**scope, "query_string": b"", "state": state}, _replay(b"", receive), send)
            else:
                await self._refusal(refused, scope_language(scope))(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _cleaned_head(self, scope: Scope) -> tuple[Scope, str | None]:
        """The scope with its path and query string cleaned, and the kind of body to read (or None)."""
        headers = scope["headers"]
        if _HEADER_CONTROL.search(b"\t".join([value for _, value in headers])) is not None:  # one scan for all
            name, control = next((n, c) for n, v in headers if (c := _HEADER_CONTROL.search(v)) is not None)
            raise refusal(name.decode("latin-1"), chr(control.group()[0]))
        body_type = None
        if not self._signed_bodies:
            for name, value in headers:
                if name == b"content-type":
                    body_type = _body_type(value)
        path = clean(scope["path"], "path")
        query = scope.get("query_string", b"")
        cleaned_query = _cleaned_query(query) if query else query
        if path is not scope["path"]:
            scope = {**scope, "path": path, "raw_path": quote(path).encode("ascii")}
        if cleaned_query is not query:
            scope = {**scope, "query_string": cleaned_query}
        return scope, body_type

    def _mounted(self, path: str) -> bool:
        if self._mounts is None:  # the mounts are all made when the app is imported, before any request
            self._mounts = tuple(route.path for route in self._routes if isinstance(route, Mount))
        return any(path == mount or path.startswith(mount + "/") for mount in self._mounts)


def _body_type(content_type: bytes) -> str | None:
    """`json` and `form` for what FastAPI reads into a body model or a page into a form."""
    media = content_type.split(b";", 1)[0].strip().lower()
    if media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json")):
        return "json"
    if media == b"application/x-www-form-urlencoded":
        return "form"
    if media == b"multipart/form-data":
        return "multipart"
    return None


def _cleaned_query(query: bytes) -> bytes:
    """The query string, rewritten only when a value needed NFC. Parsed as Starlette parses it."""
    if _NEEDS_PARSING.search(query) is None:
        return query
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    cleaned = [(name := clean(key, "query"), clean(value, name)) for key, value in pairs]
    return query if cleaned == pairs else urlencode(cleaned).encode("ascii")


async def _cleaned_body(scope: Scope, receive: Receive, body_type: str) -> tuple[Scope, Receive]:
    body, disconnect = await _read(receive)
    if disconnect is not None:  # the client went away: nothing to check
        return scope, _replay(body, receive, disconnect)
    if body_type == "multipart":
        reason = "a multipart body is not accepted: send JSON, or a form as application/x-www-form-urlencoded"
        raise InvalidInputError(reason, details=[{"field": "body", "reason": reason, "type": "unsupported_media"}])
    cleaned = _cleaned_json(body) if body_type == "json" else _cleaned_form(body)
    if cleaned is None:
        return scope, _replay(body, receive)
    headers = [(name, value) for name, value in scope["headers"] if name != b"content-length"]
    headers.append((b"content-length", str(len(cleaned)).encode("ascii")))
    return {**scope, "headers": headers}, _replay(cleaned, receive)


def _cleaned_json(body: bytes) -> bytes | None:
    """The body rewritten when a string needed NFC, else None. Parsed as Starlette parses it (the
    standard library's `json`, which keeps a lone surrogate that orjson would refuse to parse)."""
    if body.isascii() and b"\\u" not in body:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:  # not JSON: FastAPI answers 422 itself
        return None
    cleaned = clean_json(parsed, "" if isinstance(parsed, dict | list) else "body")
    return None if cleaned == parsed else json.dumps(cleaned, ensure_ascii=False, separators=(",", ":")).encode()


def _cleaned_form(body: bytes) -> bytes | None:
    """The form rewritten when a value needed NFC, else None. Parsed as Starlette parses a form."""
    if _NEEDS_PARSING.search(body) is None:
        return None
    pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
    cleaned = [(name := clean(key, "form"), clean(value, name)) for key, value in pairs]
    return None if cleaned == pairs else urlencode(cleaned).encode("ascii")


async def _read(receive: Receive) -> tuple[bytes, Message | None]:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, receive: Receive, disconnect: Message | None = None) -> Receive:
    """A `receive` that gives the app `body` (or the disconnect that cut it short), then whatever the
    server sends next (a disconnect, which a streamed response listens for)."""
    first: list[Message] = [disconnect or {"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return first.pop() if first else await receive()

    return replayed
