"""LiveKit webhooks: each signed event is applied to the tenant's call record, or for a meeting's room
(`mla-<tenant>-meet-<id>`) to the meeting: its participants, recording and end (`calls.webhook_events`,
which hands meeting rooms to `meetings.room_events`).

Lambda entry: `webhooks_api.handler`. LiveKit signs every event: the JWT in `Authorization` carries the
base64 SHA-256 of the body, so the body is checked as the raw bytes that arrived
(`mla_core.adapters.livekit_webhooks`). Answers:
200 when the event was applied, was a duplicate, or is not ours; 400 for a signed body that is not
a usable event (LiveKit does not retry a 4xx); 401 for anything not signed with our key; 503 when
the database is down, so that LiveKit retries.

The LiveKit SDK and protobuf load on the first event, not at cold start.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from mangum import Mangum

from mla_core.adapters import Services, get_services, livekit_webhooks
from mla_core.calls import webhook_events
from mla_core.core.observability import function_logger
from mla_core.core.settings import Settings
from mla_core.http.envelope import Envelope, create_app, ok

logger = function_logger("webhooks")

app = create_app(
    title="MLA Voice AI — LiveKit webhooks",
    description="Receives LiveKit webhook events, signed with the project's API secret.",
    docs_prefix="/webhooks",
    signed_bodies=True,  # checked as it arrived; the event's text is cleaned once the signature holds
)


async def raw_body(request: Request) -> bytes:
    return await request.body()


async def webhook_services() -> Services:
    return get_services()


RawBodyDep = Annotated[bytes, Depends(raw_body)]
AuthorizationDep = Annotated[str | None, Header(include_in_schema=False)]
WebhookServicesDep = Annotated[Services, Depends(webhook_services)]


# Async route and dependencies on purpose: under Mangum a sync route or dependency starts a worker
# thread on every invocation (an empty sync route measured 1.9 ms per invocation, an async one
# 0.15 ms; an event's own work is about 1 ms). Lambda serves one event per container at a time, so
# the blocking database call holds up no one; in the local gateway it holds the loop about 1 ms.
@app.post(
    "/webhooks/livekit",
    response_model=Envelope[webhook_events.Receipt],
    summary="Receive a signed LiveKit webhook event",
)
async def livekit_webhook(
    body: RawBodyDep, svc: WebhookServicesDep, authorization: AuthorizationDep = None
) -> JSONResponse:
    event = verified_event(svc.settings, body, authorization or "")
    return ok(webhook_events.receipt(event, await webhook_events.apply(svc, event)))


def verified_event(settings: Settings, body: bytes, authorization: str) -> webhook_events.CallEvent:
    """The event LiveKit signed, checked on the raw body; 401 if the signature fails, 400 if malformed."""
    fields = livekit_webhooks.receive(
        body, authorization, api_key=settings.livekit_api_key, api_secret=settings.livekit_secret
    )
    return webhook_events.parse_event(fields)


_asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _asgi(event, context)
