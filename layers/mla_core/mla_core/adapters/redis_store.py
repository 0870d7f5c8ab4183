"""Upstash Redis over its REST protocol: the agent's hot copy of each tenant's config.

The same client works against Upstash and against the local Upstash-compatible proxy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import httpx
from upstash_redis import Redis
from upstash_redis.errors import UpstashError

from mla_core.agent_config import AgentConfig, config_key, phone_key
from mla_core.errors import TransientError, VendorError

T = TypeVar("T")


class AgentConfigStore:
    def __init__(self, url: str, token: str, *, retries: int = 1) -> None:
        self._redis = Redis(url=url, token=token, rest_retries=retries, rest_retry_interval=0.2, allow_telemetry=False)

    def _run(self, operation: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except UpstashError as exc:
            raise VendorError(f"Redis {operation}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise TransientError(f"Redis {operation}: {exc!r}") from exc

    def put(self, config: AgentConfig, *, stale_numbers: Sequence[str] = ()) -> None:
        """Write the config and its number mappings in one MULTI/EXEC, dropping numbers it no longer has."""

        def write() -> None:
            tx = self._redis.multi()
            tx.set(config_key(config.tenant_id), config.model_dump_json())
            for number in config.phone_numbers:
                tx.set(phone_key(number), config.tenant_id)
            for number in stale_numbers:
                if number not in config.phone_numbers:
                    tx.delete(phone_key(number))
            tx.exec()

        self._run("put config", write)

    def get(self, tenant_id: str) -> AgentConfig | None:
        raw = self._run("get config", lambda: self._redis.get(config_key(tenant_id)))
        return AgentConfig.model_validate_json(raw) if raw else None

    def tenant_for_number(self, e164: str) -> str | None:
        return self._run("get phone", lambda: self._redis.get(phone_key(e164)))

    def delete(self, tenant_id: str, phone_numbers: list[str]) -> None:
        """Remove the tenant's keys; number keys now pointing at another tenant are left alone."""

        def remove() -> None:
            self._redis.delete(config_key(tenant_id))
            for number in phone_numbers:
                if self._redis.get(phone_key(number)) == tenant_id:
                    self._redis.delete(phone_key(number))

        self._run("delete config", remove)
