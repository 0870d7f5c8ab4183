"""An erasure's confirmation token: what the preview showed (the office, the person's digest, who asked,
the counts) and until when, signed with the privacy key. The erasure recounts and refuses a token whose
counts no longer hold, so an admin never erases more than they were shown."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mla_core.privacy.models import ConfirmationInvalidError, PreviewStaleError

VALID_FOR = timedelta(minutes=10)


@dataclass(frozen=True)
class Confirmed:
    tenant_id: str
    digest: str
    actor_id: str
    counts: dict[str, int]


def _signature(key: bytes, payload: bytes) -> str:
    return hmac.new(key, b"erase|" + payload, hashlib.sha256).hexdigest()


def issue(key: bytes, confirmed: Confirmed, *, now: datetime) -> tuple[str, datetime]:
    """A token for `confirmed`, and when it expires."""
    expires_at = now + VALID_FOR
    body = [confirmed.tenant_id, confirmed.digest, confirmed.actor_id, confirmed.counts, int(expires_at.timestamp())]
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return f"{base64.urlsafe_b64encode(payload).decode()}.{_signature(key, payload)}", expires_at


def check(key: bytes, token: str, expected: Confirmed, *, now: datetime) -> None:
    """Raise `ConfirmationInvalidError` for a token not ours or not for this request, `PreviewStaleError`
    when it expired or the counts it confirmed are no longer true."""
    encoded, _, signature = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded.encode())
        tenant_id, digest, actor_id, counts, expires = json.loads(payload)
    except (ValueError, TypeError) as exc:
        raise ConfirmationInvalidError("the confirmation is not valid: preview the erasure again") from exc
    if not hmac.compare_digest(signature, _signature(key, payload)) or (tenant_id, digest, actor_id) != (
        expected.tenant_id,
        expected.digest,
        expected.actor_id,
    ):
        raise ConfirmationInvalidError("the confirmation is not valid: preview the erasure again")
    if datetime.fromtimestamp(expires, UTC) <= now:
        raise PreviewStaleError("the preview has expired: preview the erasure again")
    if counts != expected.counts:
        raise PreviewStaleError("the person's records changed since the preview: preview the erasure again")
