"""The ticket a signed-in page connects with: signed by us, good for one minute and one connection.

The browser never holds a Supabase token (the session lives in HttpOnly cookies), so the page asks the
dashboard for a ticket (cookie session and CSRF) and opens the WebSocket with it in the query string.
A ticket names the feed its user may read (their office's, or the admin feed for a super admin) and
who they are; `$connect` checks the signature and the time, and lets each ticket connect only once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, ValidationError

from mla_core.core.errors import AuthenticationError
from mla_core.core.principal import Caller
from mla_core.live.events import ADMIN_FEED, office_feed

if TYPE_CHECKING:
    from mla_core.adapters import Services
    from mla_core.core.settings import Settings

TICKET_TTL_S = 60


class TicketClaims(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    feed: str
    user_id: str
    exp: int
    nonce: str


class LiveTicket(BaseModel):
    """What the page connects with: the WebSocket URL with the ticket in it, and how long it is good."""

    url: str
    expires_in: int
    feed: str


def feed_of(who: Caller) -> str:
    return office_feed(who.tenant_id) if who.tenant_id else ADMIN_FEED


def mint(settings: Settings, who: Caller, *, now: float | None = None) -> LiveTicket:
    claims = TicketClaims(
        feed=feed_of(who),
        user_id=who.user_id,
        exp=int(now or time.time()) + TICKET_TTL_S,
        nonce=secrets.token_urlsafe(12),
    )
    body = _b64(claims.model_dump_json().encode())
    ticket = f"{body}.{_b64(_signature(settings, body))}"
    url = f"{settings.live_updates_url}?{urlencode({'ticket': ticket})}"
    return LiveTicket(url=url, expires_in=TICKET_TTL_S, feed=claims.feed)


def redeem(services: Services, ticket: str, *, now: float | None = None) -> TicketClaims:
    """The claims of a ticket that is ours, within its minute and not used before; marks it used."""
    body, _, signature = ticket.partition(".")
    try:
        expected = _signature(services.settings, body)
        if not hmac.compare_digest(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)), expected):
            raise AuthenticationError("the live-updates ticket is not ours")
        claims = TicketClaims.model_validate_json(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, ValidationError) as exc:
        raise AuthenticationError("the live-updates ticket is not ours") from exc
    remaining = claims.exp - int(now or time.time())
    if remaining <= 0:
        raise AuthenticationError("the live-updates ticket has expired")
    if not services.live.use_ticket(claims.nonce, ttl_s=remaining + 1):
        raise AuthenticationError("the live-updates ticket was used before")
    return claims


def _signature(settings: Settings, body: str) -> bytes:
    return hmac.new(settings.ticket_key, body.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
