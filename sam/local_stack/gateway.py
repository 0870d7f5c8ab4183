"""The local API Gateway: one port, the routes of the HTTP API sent to each function's app.

The apps are served as ASGI directly (Mangum is exercised by the tests with API Gateway events).
`/health` and `/local/outbox` exist only here.

What it does not model of the HTTP API in front of Lambda: the template's CORS configuration,
throttling, the 30 s integration timeout and the 6 MB Lambda payload limit, access logs, custom
domains, and the event translation itself (headers, cookies and base64 bodies through Mangum).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.encoders import jsonable_encoder
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

Health = Callable[[], Awaitable[dict[str, bool]]]
Outbox = Callable[[], list[dict[str, Any]]]


def local_routes(health: Health, outbox: Outbox) -> Starlette:
    async def health_route(request: Request) -> JSONResponse:
        services = await health()
        healthy = all(services.values())
        body = {"success": healthy, "data": {"services": services}}
        if not healthy:
            down = sorted(name for name, up in services.items() if not up)
            body["error"] = {"code": "service_unavailable", "message": f"down: {', '.join(down)}", "details": []}
        return JSONResponse(body, status_code=200 if healthy else 503)

    async def outbox_route(request: Request) -> JSONResponse:
        return JSONResponse({"success": True, "data": jsonable_encoder(outbox())})

    return Starlette(routes=[Route("/health", health_route), Route("/local/outbox", outbox_route)])


class Gateway:
    """Routes by path prefix, as the HTTP API's routes in template.yaml do."""

    def __init__(self, routes: list[tuple[str, ASGIApp]], default: ASGIApp) -> None:
        self._routes = routes
        self._default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _ignore_lifespan(receive, send)
            return
        path = scope.get("path", "")
        for prefix, app in self._routes:
            if path == prefix or path.startswith(prefix + "/"):
                await app(scope, receive, send)
                return
        await self._default(scope, receive, send)


async def _ignore_lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
