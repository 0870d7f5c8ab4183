"""Typed errors shared by every edge.

The API maps them to status codes in one place (`mla_core.http.envelope`). In Step Functions the exception
class name is the error name that `Retry` and `Catch` match, so the names below are part of the
state machine's contract: `TransientError` is retried, everything else goes to compensation.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base of every error we raise on purpose."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


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
