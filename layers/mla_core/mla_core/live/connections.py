"""What the live-updates WebSocket API's routes do: `$connect` with a ticket, `$disconnect`, and the
page's messages on `$default` (a ping that keeps the connection from idling out at 10 minutes); and
closing the connections of a user who signed out or was disabled, or of an office that is going."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from mla_core.adapters.live import Connection
from mla_core.core.errors import AppError
from mla_core.live import tickets
from mla_core.live.events import office_feed

if TYPE_CHECKING:
    from mla_core.adapters import Services

logger = logging.getLogger(__name__)

PONG = json.dumps({"type": "pong"}).encode()


def connect(services: Services, connection_id: str, ticket: str) -> Connection:
    """Register the connection under the ticket's feed (`AuthenticationError` for a bad ticket)."""
    claims = tickets.redeem(services, ticket)
    connection = Connection(connection_id, claims.feed, claims.user_id)
    services.live.add_connection(connection)
    logger.info("live connection opened", extra={"feed": claims.feed, "connection_id": connection_id})
    return connection


def disconnect(services: Services, connection_id: str) -> None:
    connection = services.live.connection(connection_id)
    if connection is not None:
        services.live.remove_connection(connection)
    logger.info("live connection closed", extra={"connection_id": connection_id})


def message(services: Services, connection_id: str, body: str) -> None:
    """A ping gets a pong (the page's keep-alive); anything else is ignored: pages only listen."""
    try:
        action = json.loads(body).get("action") if body else None
    except (ValueError, AttributeError):
        action = None
    if action == "ping":
        services.connections.post(connection_id, PONG)


def close_user(services: Services, user_id: str) -> int:
    """Close every connection `user_id` has open (signed out, disabled); how many it closed. Never
    raises: a connection left open hears nothing its user may not (its pages' requests are refused)."""
    return _close(services, lambda: services.live.user_connections(user_id))


def close_office(services: Services, tenant_id: str) -> int:
    """Close every connection of the office's feed (the office is being deprovisioned)."""
    return _close(services, lambda: services.live.feed_connections(office_feed(tenant_id)))


def _close(services: Services, listed: Callable[[], list[str]]) -> int:
    if not services.connections.configured:
        return 0
    try:
        connection_ids = listed()
    except AppError as exc:
        logger.warning("live connections not closed", extra={"error": exc.message})
        return 0
    closed = 0
    for connection_id in connection_ids:
        try:
            services.connections.close(connection_id)
            closed += 1
        except AppError as exc:
            logger.warning("live connection not closed", extra={"connection_id": connection_id, "error": exc.message})
        with contextlib.suppress(AppError):  # its $disconnect then finds nothing left to do
            services.live.forget("", connection_id)
    return closed
