"""What a browser or a proxy may keep of our answers: nothing, unless an answer says otherwise.

The pages and the API's JSON carry constituents' names, numbers and complaints. Every answer that
does not set its own `Cache-Control` (the static files, the list's column-name stylesheet, which set
theirs or are public) gets `Cache-Control: no-store`, so that Back after signing out asks the server
again (and is sent to the sign-in page) instead of showing the last complaint from the browser's
cache, and a shared computer's disk keeps no copy. `Pragma: no-cache` is for HTTP/1.0 caches and is
not needed. Installed once, by `http.envelope.create_app`, on the API apps, in which the pages'
apps (the dashboard at `/app`, the admin panel at `/admin/panel`) are mounted: it covers both.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_STORE = (b"cache-control", b"no-store")


class NoStore:
    """ASGI middleware: `Cache-Control: no-store` on every answer without its own, except the static
    files (a path with a `/static/` part: the stylesheet, scripts and pictures, the same for everyone)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "/static/" in scope.get("path", ""):
            await self.app(scope, receive, send)
            return

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == NO_STORE[0] for name, _ in headers):
                    message = {**message, "headers": [*headers, NO_STORE]}
            await send(message)

        await self.app(scope, receive, with_header)
