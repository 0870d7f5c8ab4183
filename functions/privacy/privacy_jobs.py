"""The daily retention job (EventBridge, `rate(1 day)`): every office's retention applied as of now
(`mla_core.privacy.retention`); its CLI twin is `python -m mla_core.cli retention`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mla_core.adapters import get_services
from mla_core.core.observability import function_logger
from mla_core.privacy import retention

logger = function_logger("privacy")


@logger.inject_lambda_context(clear_state=True)
def apply_retention(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Remove personal data past each office's retention, retry erasures' leftovers, drop expired archives."""
    return retention.apply_retention(get_services(), now=datetime.now(UTC)).summary()
