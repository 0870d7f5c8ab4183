"""LiveKit webhooks: verified on the raw body, acknowledged. Ingestion into call records is issue 4.

Lambda entry: `app.handler`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from mangum import Mangum

from mla_core.api import create_app, error_response, ok
from mla_core.observability import function_logger
from mla_core.services import get_services

logger = function_logger("webhooks")

app = create_app(
    title="MLA Voice AI — LiveKit webhooks",
    description="Receives LiveKit webhook events, signed with the project's API secret.",
    docs_prefix="/webhooks",
)


@app.post("/webhooks/livekit", summary="Receive a signed LiveKit webhook event")
async def livekit_webhook(request: Request) -> JSONResponse:
    from livekit import api

    settings = get_services().settings
    receiver = api.WebhookReceiver(api.TokenVerifier(settings.livekit_api_key, settings.livekit_secret))
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        event = receiver.receive(body, request.headers.get("Authorization", ""))
    except Exception:
        return error_response(401, "unauthenticated", "webhook signature is missing or invalid")
    logger.info("livekit webhook", extra={"event": event.event, "event_id": event.id, "room": event.room.name})
    return ok({"received": True})


_asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _asgi(event, context)
