"""What EventBridge's `rate(...)` schedules do, for local mode: invoke a function with a scheduled
event every so often (`make dev` only; the tests call the scheduled functions when they choose)."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from local_stack.background import Background

log = logging.getLogger("local_stack.schedules")

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int:
    """`rate(5 minutes)` → 300; cron expressions are not run locally."""
    match = _RATE.match(expression)
    if match is None:
        raise ValueError(f"local mode runs only rate(...) schedules, not {expression!r}")
    return int(match.group(1)) * _SECONDS[match.group(2).rstrip("s")]


class Schedule(Background):
    def __init__(self, lambda_: Any, *, function_name: str, every_seconds: float, region: str) -> None:
        super().__init__(f"schedule-{function_name}")
        self._lambda, self._function, self._every, self._region = lambda_, function_name, every_seconds, region

    def _run(self) -> None:
        while not self._stopping.wait(self._every):
            event = {
                "version": "0",
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": self._region,
                "detail": {},
            }
            try:
                self._lambda.invoke(FunctionName=self._function, Payload=json.dumps(event).encode())
            except Exception:  # the next tick tries again, as EventBridge would
                log.exception("scheduled invocation failed", extra={"function": self._function})
