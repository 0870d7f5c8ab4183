"""Upstash Redis over its REST protocol: the agent's hot copy of each tenant's config, and the
complaint reference counters.

The same client works against Upstash and against the local Upstash-compatible proxy. Keys:
- `agent:config:{tenant_id}`: the main agent's config; `agent:config:{tenant_id}:{agent_id}` another's.
- `agent:phone:{e164}`: the tenant a number belongs to.
- `agent:routes:{tenant_id}`: a hash from each of the office's numbers to the agent answering it.
- `complaint:ref:{tenant_id}`: the reference counter; `complaint:idem:{tenant_id}:{key}` a pinned one.
- `signin:failures:*`: the sign-in limits' counters (`mla_core.adapters.ratelimit`).
A config is stored as the JSON its feature wrote (`mla_core.agents.config.AgentConfig`) and handed back
as that text: what it means is the feature's business, where it lives is this module's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import httpx
from upstash_redis import Redis
from upstash_redis.errors import UpstashError

from mla_core.core.errors import TransientError, VendorError
from mla_core.core.names import main_agent_id

T = TypeVar("T")

logger = logging.getLogger(__name__)

CONFIG_KEY = "agent:config:{tenant_id}"
PHONE_KEY = "agent:phone:{e164}"
ROUTES_KEY = "agent:routes:{tenant_id}"


def config_key(tenant_id: str, agent_id: str | None = None) -> str:
    key = CONFIG_KEY.format(tenant_id=tenant_id)
    return key if agent_id in (None, main_agent_id(tenant_id)) else f"{key}:{agent_id}"


def routes_key(tenant_id: str) -> str:
    return ROUTES_KEY.format(tenant_id=tenant_id)


def phone_key(e164: str) -> str:
    return PHONE_KEY.format(e164=e164)


class CachedConfig(Protocol):
    """What the cache needs of an agent's config: whose it is, the numbers it answers, its JSON."""

    @property
    def tenant_id(self) -> str: ...
    @property
    def agent_id(self) -> str: ...
    @property
    def phone_numbers(self) -> list[str]: ...
    def model_dump_json(self) -> str: ...


@dataclass(frozen=True)
class RedisTimeouts:
    """How long a caller waits on Upstash: per attempt (`connect_s`, `read_s`), how many more
    attempts (`retries`, `retry_interval_s` apart), and for how long after a failure every call
    fails at once (`unreachable_backoff_s`) so that a call or a request goes on to Postgres
    without waiting out the timeouts again."""

    connect_s: float = 1.0
    read_s: float = 2.0
    retries: int = 1
    retry_interval_s: float = 0.2
    unreachable_backoff_s: float = 2.0


# When each Upstash URL last failed (shared by the adapters of a process); gone once it answers.
# Within the back-off every call fails at once; after it, one attempt without retries probes it.
_failed_at: dict[str, float] = {}


def _raise_server_errors(response: httpx.Response) -> None:
    """An Upstash error body with a 5xx status is an outage, not Redis refusing a command: raised
    here as an HTTP error, it is retried and then answered as a `TransientError`."""
    if response.status_code >= 500:
        response.raise_for_status()


class _RedisAdapter:
    def __init__(self, url: str, token: str, timeouts: RedisTimeouts | None = None) -> None:
        t = timeouts or RedisTimeouts()
        self._url, self._retries, self._backoff_s = url, t.retries, t.unreachable_backoff_s
        self._redis = Redis(
            url=url, token=token, rest_retries=t.retries, rest_retry_interval=t.retry_interval_s, allow_telemetry=False
        )
        # upstash-redis's own client waits for ever (`timeout=None`) and takes an error body of any
        # status for Redis's answer; every request it makes (pipelines too) goes through this one.
        self._redis._http._client.close()
        self._redis._http._client = httpx.Client(
            timeout=httpx.Timeout(t.read_s, connect=t.connect_s), event_hooks={"response": [_raise_server_errors]}
        )

    def _run(self, operation: str, fn: Callable[[], T]) -> T:
        failed_at = _failed_at.get(self._url)
        if failed_at is not None and time.monotonic() < failed_at + self._backoff_s:
            raise TransientError(f"Redis {operation}: unavailable (it failed moments ago)")
        self._redis._http._retries = self._retries if failed_at is None else 0
        try:
            result = fn()
        except UpstashError as exc:
            raise VendorError(f"Redis {operation}: Redis refused the command") from _logged(operation, exc)
        except (httpx.HTTPError, AttributeError) as exc:
            # upstash-redis raises AttributeError when a batch's answer is an error body.
            _failed_at[self._url] = time.monotonic()
            raise TransientError(f"Redis {operation}: unavailable") from _logged(operation, exc)
        _failed_at.pop(self._url, None)
        return result


class RedisAdapter(_RedisAdapter):
    """The base of an adapter in another module that keeps its data in the same Upstash Redis (the
    sign-in limits, `mla_core.adapters.ratelimit`): the client (`_redis`), its timeouts, and `_run`,
    which answers an outage as a `TransientError`."""


def _logged(operation: str, exc: Exception) -> Exception:
    """The vendor's own words (which name hosts and URLs) go to the log, never into our message."""
    logger.warning("redis call failed", extra={"operation": operation, "error": repr(exc)})
    return exc


class AgentConfigStore(_RedisAdapter):
    def put(self, config: CachedConfig, *, stale_numbers: Sequence[str] = ()) -> None:
        """Write the config and its number mappings in one MULTI/EXEC, dropping numbers it no longer has."""
        routes = routes_key(config.tenant_id)

        def write() -> None:
            tx = self._redis.multi()
            tx.set(config_key(config.tenant_id, config.agent_id), config.model_dump_json())
            for number in config.phone_numbers:
                tx.set(phone_key(number), config.tenant_id)
            if config.phone_numbers:
                tx.hset(routes, values=dict.fromkeys(config.phone_numbers, config.agent_id))
            for number in stale_numbers:
                if number not in config.phone_numbers:
                    tx.delete(phone_key(number))
                    tx.hdel(routes, number)
            tx.exec()

        self._run("put config", write)

    def get(self, tenant_id: str, agent_id: str | None = None) -> str | None:
        """An agent's config as stored (the office's main agent's when `agent_id` is not given)."""
        raw = self._run("get config", lambda: self._redis.get(config_key(tenant_id, agent_id)))
        return raw or None

    def for_number(self, tenant_id: str, e164: str) -> str | None:
        """The config of the agent answering `e164`: one round trip when that is the main agent.
        None when Redis does not know the number (a miss: Postgres does)."""

        def read() -> str | None:
            pipe = self._redis.pipeline()
            pipe.hget(routes_key(tenant_id), e164)
            pipe.get(config_key(tenant_id))
            agent_id, main = pipe.exec()
            if agent_id is None or agent_id == main_agent_id(tenant_id):
                return str(main) if agent_id and main else None
            return self._redis.get(config_key(tenant_id, str(agent_id)))

        return self._run("get config for number", read) or None

    def tenant_for_number(self, e164: str) -> str | None:
        return self._run("get phone", lambda: self._redis.get(phone_key(e164)))

    def delete(self, tenant_id: str, phone_numbers: Sequence[str], agent_ids: Sequence[str] = ()) -> None:
        """Forget the tenant: its agents' configs, its routes, and its numbers (number keys now
        pointing at another tenant are left alone)."""
        self._run("delete config", lambda: self._forget(tenant_id, [None, *agent_ids], phone_numbers, routes=True))

    def delete_agent(self, config: CachedConfig) -> None:
        """Forget one of the office's agents and the numbers it answered."""
        self._run(
            "delete agent",
            lambda: self._forget(config.tenant_id, [config.agent_id], config.phone_numbers, routes=False),
        )

    def _forget(self, tenant_id: str, agent_ids: list[str | None], numbers: Sequence[str], *, routes: bool) -> None:
        self._redis.delete(*{config_key(tenant_id, agent_id) for agent_id in agent_ids})
        if routes:
            self._redis.delete(routes_key(tenant_id))
        elif numbers:
            self._redis.hdel(routes_key(tenant_id), *numbers)
        for number in numbers:
            if self._redis.get(phone_key(number)) == tenant_id:
                self._redis.delete(phone_key(number))


REFERENCE_FLOOR = 1000  # the first reference is 1001: four digits, easy to say
IDEMPOTENCY_TTL_S = 7 * 24 * 3600


class ComplaintReferences(_RedisAdapter):
    """Reference numbers per tenant from one Redis counter: short, unique, and available when
    Postgres is not. Each idempotency key is pinned to the reference it got, for a week. (While
    Redis is unavailable Postgres issues references, in a range of its own: `complaints.store`.)"""

    @staticmethod
    def _counter(tenant_id: str) -> str:
        return f"complaint:ref:{tenant_id}"

    @staticmethod
    def pinned_key(tenant_id: str, key: str) -> str:
        """The Redis key that pins idempotency key `key`'s reference (an erasure deletes it)."""
        return f"complaint:idem:{tenant_id}:{key}"

    def forget(self, keys: Sequence[str]) -> None:
        """DEL `keys` (an erasure's, after its transaction commits); a missing key is no error."""
        if keys:
            self._run("forget keys", lambda: self._redis.delete(*keys))

    def reference_for(self, tenant_id: str, idempotency_key: str) -> int:
        """The reference pinned to `idempotency_key`, allocating one the first time."""

        def allocate() -> int:
            pinned = self._redis.get(self.pinned_key(tenant_id, idempotency_key))
            if pinned is not None:
                return int(pinned)
            tx = self._redis.multi()
            tx.set(self._counter(tenant_id), REFERENCE_FLOOR, nx=True)
            tx.incr(self._counter(tenant_id))
            candidate = int(str(tx.exec()[1]))
            if self._redis.set(self.pinned_key(tenant_id, idempotency_key), candidate, nx=True, ex=IDEMPOTENCY_TTL_S):
                return candidate
            # Another attempt with the same key won the race; its reference is the one.
            return int(str(self._redis.get(self.pinned_key(tenant_id, idempotency_key))))

        return self._run("allocate reference", allocate)

    def repin(self, tenant_id: str, idempotency_key: str) -> int:
        """A fresh reference for `idempotency_key` (its pinned one collided with a stored complaint)."""

        def again() -> int:
            reference = int(self._redis.incr(self._counter(tenant_id)))
            self._redis.set(self.pinned_key(tenant_id, idempotency_key), reference, ex=IDEMPOTENCY_TTL_S)
            return reference

        return self._run("repin reference", again)

    def raise_floor(self, tenant_id: str, at_least: int) -> None:
        """Make sure the next reference is above `at_least` (after a restore or a flushed Redis)."""

        def raise_() -> None:
            current = self._redis.get(self._counter(tenant_id))
            if current is None or int(current) < at_least:
                self._redis.set(self._counter(tenant_id), max(at_least, REFERENCE_FLOOR))

        self._run("raise reference floor", raise_)
