"""The live-updates WebSocket API: `$connect` (with a page's ticket), `$disconnect` and `$default`.

Lambda entry: `live_updates.handler`, for all three routes (`mla_core.live.connections`). `$connect`
answers 401 for a forged, expired or reused ticket, which makes API Gateway refuse the upgrade, and 503
when Redis cannot register the connection (the page says it is not live and tries again later).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mla_core.adapters import get_services
from mla_core.core.errors import AppError, AuthenticationError
from mla_core.core.observability import function_logger
from mla_core.live import connections

logger = function_logger("live-updates")


class RequestContext(BaseModel):
    model_config = ConfigDict(extra="ignore")

    route_key: Literal["$connect", "$disconnect", "$default"] = Field(alias="routeKey")
    connection_id: str = Field(alias="connectionId", min_length=1, max_length=128)


class WebSocketEvent(BaseModel):
    """What API Gateway sends for each route (the fields we read)."""

    model_config = ConfigDict(extra="ignore")

    request_context: RequestContext = Field(alias="requestContext")
    query: dict[str, str] | None = Field(default=None, alias="queryStringParameters")
    body: str | None = None


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = WebSocketEvent.model_validate(event)
    route, connection_id = request.request_context.route_key, request.request_context.connection_id
    try:
        if route == "$connect":
            connections.connect(get_services(), connection_id, (request.query or {}).get("ticket", ""))
        elif route == "$disconnect":
            connections.disconnect(get_services(), connection_id)
        else:
            connections.message(get_services(), connection_id, request.body or "")
    except AuthenticationError as exc:
        logger.info("live connection refused", extra={"reason": exc.message})
        return {"statusCode": 401, "body": exc.message}
    except AppError as exc:
        logger.warning("live route failed", extra={"route": route, "error": exc.message})
        return {"statusCode": 503 if route == "$connect" else 500, "body": "live updates are unavailable"}
    return {"statusCode": 200}
