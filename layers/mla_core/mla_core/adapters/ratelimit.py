"""Failures counted per key in fixed windows, in the same Upstash Redis, with `upstash-ratelimit`.

A key (an account, a client address) may fail `limit` times within a window of `window_s` seconds;
after that it is blocked until the window ends, and the lock lifts by itself. Only failures count:
`blocked_for` reads the counters without adding to them, `failed` adds one to each key.

Keys: `signin:failures:{key}:{window number}` (the library's fixed-window layout), each expiring with
its window. An outage is a `TransientError`, as for every Redis call (`mla_core.adapters.upstash`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from upstash_ratelimit import FixedWindow, Ratelimit
from upstash_ratelimit.utils import now_ms

from mla_core.adapters.upstash import RedisAdapter

PREFIX = "signin:failures"


class FailureCounter(RedisAdapter):
    def _limiter(self, limit: int, window_s: int) -> Ratelimit:
        return Ratelimit(self._redis, FixedWindow(max_requests=limit, window=window_s, unit="s"), prefix=PREFIX)

    def blocked_for(self, keys: Sequence[str], *, limit: int, window_s: int) -> int:
        """Seconds until the first of `keys` that used up its failures may try again; 0 when none has."""
        limiter = self._limiter(limit, window_s)

        def read() -> int:
            if all(limiter.get_remaining(key) > 0 for key in keys):
                return 0
            return max(1, math.ceil(limiter.get_reset(keys[0]) - time.time()))

        return self._run("read sign-in failures", read)

    def failed(self, keys: Sequence[str], *, limit: int, window_s: int) -> bool:
        """Count one failure for each of `keys`; True while every key is still within its limit."""
        limiter = self._limiter(limit, window_s)
        return self._run("count a sign-in failure", lambda: all([limiter.limit(key).allowed for key in keys]))

    def clear(self, key: str, *, window_s: int) -> None:
        """Forget `key`'s failures in the current window (a password reset by email clears its account)."""
        window = now_ms() // (window_s * 1000)
        self._run("clear sign-in failures", lambda: self._redis.delete(f"{PREFIX}:{key}:{window}"))
