"""Typed errors shared by every edge.

The API maps them to status codes in one place (`mla_core.http.envelope`). In Step Functions the exception
class name is the error name that `Retry` and `Catch` match, so the names below are part of the
state machine's contract: `TransientError` is retried, everything else goes to compensation.
"""

from __future__ import annotations

import re
from typing import Any

# What must never reach a client: a URL, an IP address or a host:port (the vendors' own messages
# name the endpoints they failed to reach).
_INTERNAL = re.compile(
    r"[a-z][a-z0-9+.-]*://\S+"
    r"|\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b"
    r"|\[[0-9a-f:]+\](?::\d+)?"
    r"|\b[a-z0-9.-]*[a-z][a-z0-9.-]*:\d{2,5}\b",
    re.IGNORECASE,
)


def redact(message: str) -> str:
    """`message` with every URL, IP address and host:port in it replaced by `<internal>`: the last
    guard of an error's message on its way out (the adapters already leave the vendors' words out)."""
    return _INTERNAL.sub("<internal>", message)


class AppError(Exception):
    """Base of every error we raise on purpose."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    @property
    def headers(self) -> dict[str, str]:
        """Headers the answer carries besides the envelope (a 429's `Retry-After`)."""
        return {}


class InvalidInputError(AppError):
    """Input that breaks a rule (our own; pydantic's `ValidationError` is a different class)."""

    status_code = 422
    code = "validation_error"


class NotFoundError(AppError):
    status_code = 404
    code = "not_found"


class ConflictError(AppError):
    status_code = 409
    code = "conflict"


class AuthenticationError(AppError):
    status_code = 401
    code = "unauthenticated"


class PermissionDeniedError(AppError):
    status_code = 403
    code = "forbidden"


class RateLimitedError(AppError):
    """Too many failures (sign-in, guessed links) from one account or address: try again later."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, details=details)
        self.retry_after_s = max(1, retry_after_s)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class TransientError(AppError):
    """A vendor is briefly unavailable (network, 5xx, throttling): worth retrying."""

    status_code = 503
    code = "service_unavailable"


class VendorError(AppError):
    """A vendor refused the request for a reason a retry will not fix."""

    status_code = 502
    code = "vendor_error"


class ConfigurationError(AppError):
    """The platform is missing a setting it needs (an operator's fix, not a retry's)."""

    status_code = 500
    code = "configuration_error"
