"""What live updates keep in Upstash Redis: who is connected to which feed, each feed's recent events,
and the tickets already used.

A feed is an office's (`office:{tenant_id}`) or the super admins' (`admin`). Keys:
- `live:conns:{feed}`: the set of the feed's connection ids; `live:conn:{id}`: the feed and user of one
  connection; `live:user:{user_id}`: the connections a user has open (to close them at sign-out).
  Each expires with API Gateway's longest connection (2 h), so a `$disconnect` that never came costs
  nothing for long.
- `live:seq:{feed}`: the feed's event counter (never expires: ids only grow);
  `live:events:{feed}`: a sorted set of the feed's latest events, scored by id.
- `live:used:{nonce}`: a ticket that connected, until it would have expired anyway.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, cast

from mla_core.adapters.upstash import RedisAdapter

CONNECTION_TTL_S = 2 * 3600 + 60  # API Gateway closes a connection at 2 h
# A connection is registered by its `$connect`, and API Gateway answers 410 Gone to posts for it until that
# `$connect` has returned (29 s at most, its integration timeout): a Gone that soon is not believed.
CONNECTING_S = 30.0

# INCR the counter and add the event under its new id in one step, so ids and order agree; keep the
# latest ARGV[2] events and let the whole set lapse ARGV[3] seconds after the feed's last event.
_APPEND = """
local id = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], id, id .. ' ' .. ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[2]) + 1))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
return id
"""


@dataclass(frozen=True)
class Connection:
    connection_id: str
    feed: str
    user_id: str
    opened_at: float = field(default_factory=time.time)  # when its `$connect` registered it (epoch s)


@dataclass(frozen=True)
class StoredEvents:
    """The events after some id, oldest first (each its id and its JSON without the id), and the
    feed's newest id (0 when it has none)."""

    events: list[tuple[int, str]]
    oldest: int | None
    newest: int


class LiveStore(RedisAdapter):
    # Connections --------------------------------------------------------------------------------

    def add_connection(self, connection: Connection) -> None:
        def add() -> None:
            tx = self._redis.multi()
            tx.set(
                f"live:conn:{connection.connection_id}",
                json.dumps({"feed": connection.feed, "user_id": connection.user_id, "opened_at": connection.opened_at}),
                ex=CONNECTION_TTL_S,
            )
            for key in (f"live:conns:{connection.feed}", f"live:user:{connection.user_id}"):
                tx.sadd(key, connection.connection_id)
                tx.expire(key, CONNECTION_TTL_S)
            tx.exec()

        self._run("add connection", add)

    def connection(self, connection_id: str) -> Connection | None:
        raw = self._run("read connection", lambda: self._redis.get(f"live:conn:{connection_id}"))
        if not raw:
            return None
        fields = json.loads(raw)
        return Connection(connection_id, str(fields["feed"]), str(fields["user_id"]), float(fields.get("opened_at", 0)))

    def remove_connection(self, connection: Connection) -> None:
        def remove() -> None:
            tx = self._redis.multi()
            tx.delete(f"live:conn:{connection.connection_id}")
            tx.srem(f"live:conns:{connection.feed}", connection.connection_id)
            tx.srem(f"live:user:{connection.user_id}", connection.connection_id)
            tx.exec()

        self._run("remove connection", remove)

    def forget(self, feed: str, connection_id: str) -> None:
        """Drop a connection API Gateway says is gone (its `$disconnect` may never come), unless it is
        still connecting (`CONNECTING_S`)."""
        connection = self.connection(connection_id)
        if connection is None:
            self._run("forget connection", lambda: self._redis.srem(f"live:conns:{feed}", connection_id))
        elif time.time() - connection.opened_at >= CONNECTING_S:
            self.remove_connection(connection)

    def feed_connections(self, feed: str) -> list[str]:
        return sorted(self._run("read feed connections", lambda: self._redis.smembers(f"live:conns:{feed}")))

    def user_connections(self, user_id: str) -> list[str]:
        return sorted(self._run("read user connections", lambda: self._redis.smembers(f"live:user:{user_id}")))

    # Events -------------------------------------------------------------------------------------

    def append(self, feed: str, event_json: str, *, keep: int, keep_s: int) -> int:
        """Store the event (JSON without its id) as the feed's next; its id."""
        keys = [f"live:seq:{feed}", f"live:events:{feed}"]
        return int(
            self._run("append event", lambda: self._redis.eval(_APPEND, keys, [event_json, str(keep), str(keep_s)]))
        )

    def newest(self, feed: str) -> int:
        return int(self._run("read newest event", lambda: self._redis.get(f"live:seq:{feed}")) or 0)

    def events_after(self, feed: str, after: int, *, limit: int) -> StoredEvents:
        def read() -> StoredEvents:
            pipe = self._redis.pipeline()
            pipe.zrange(f"live:events:{feed}", f"({after}", "+inf", sortby="BYSCORE", offset=0, count=limit)
            pipe.zrange(f"live:events:{feed}", 0, 0, withscores=True)
            pipe.get(f"live:seq:{feed}")
            members, first, newest = cast("tuple[list[str], list[list[Any]], str | None]", tuple(pipe.exec()))
            events = [(int(id_), body) for id_, _, body in (str(m).partition(" ") for m in members)]
            oldest = int(first[0][1]) if first else None
            return StoredEvents(events, oldest, int(newest or 0))

        return self._run("read events", read)

    # Tickets ------------------------------------------------------------------------------------

    def use_ticket(self, nonce: str, *, ttl_s: int) -> bool:
        """Mark the ticket used; False when it already was."""
        return bool(self._run("use ticket", lambda: self._redis.set(f"live:used:{nonce}", 1, nx=True, ex=ttl_s)))
