"""An office's feed of events: published by whatever changes what the office sees, posted to the
feed's open connections, and kept for pages that reconnect."""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from mla_core.core.errors import AppError

if TYPE_CHECKING:
    from mla_core.adapters import Services

logger = logging.getLogger(__name__)

ADMIN_FEED = "admin"  # the super admins' feed: tenants' provisioning progress
EventType = Literal[
    "complaint.created",  # reference
    "complaint.updated",  # reference
    "call.started",  # call_id (the call's room, as the office's call list names it)
    "call.ended",  # call_id
    "sla.breached",  # reference
    "meeting.updated",  # meeting_id: scheduled, changed, started, ended, a participant muted…
    "meeting.segment",  # meeting_id, segment_id (the newest stored): the live transcript
    "tenant.changed",  # tenant_id (the admin feed)
]
CATCH_UP_LIMIT = 200  # more missed than this and the page reloads its view instead
FAN_OUT_THREADS = 16


def office_feed(tenant_id: str) -> str:
    return f"office:{tenant_id}"


class Event(BaseModel):
    """What is pushed and kept (version 1): which thing changed, never what it says."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    v: Literal[1] = 1
    id: int = 0
    type: EventType
    at: datetime
    reference: int | None = None  # a complaint's, as the office's pages name it
    call_id: str | None = None
    tenant_id: str | None = None
    meeting_id: str | None = None
    segment_id: int | None = None


class CatchUp(BaseModel):
    """The events after the page's last, oldest first. `complete` is False when some are no longer
    kept (or too many were missed): the page reloads its view instead of applying them."""

    events: list[Event]
    complete: bool
    newest: int


def publish(services: Services, feed: str, type: EventType, **ids: str | int) -> Event | None:
    """Keep the event in the feed and post it to the feed's connections; None when live updates are
    not set up here or Redis is unavailable (logged: the work that published it goes on). Where
    `services.publish_in_background` (the agent worker), it is queued and published by a thread."""
    if not services.connections.configured:
        return None
    if services.publish_in_background:
        _background(services).publish(feed, type, **ids)
        return None
    return _publish_now(services, feed, type, **ids)


def office_changed(services: Services, tenant_id: str, type: EventType, **ids: str | int) -> Event | None:
    """`publish` to the office's feed."""
    return publish(services, office_feed(tenant_id), type, **ids)


def _publish_now(services: Services, feed: str, type: EventType, **ids: str | int) -> Event | None:
    s = services.settings
    event = Event.model_validate({"type": type, "at": datetime.now(UTC), **ids})
    try:
        stored = event.model_dump_json(exclude={"id"})
        event = event.model_copy(
            update={"id": services.live.append(feed, stored, keep=s.live_events_kept, keep_s=s.live_events_kept_s)}
        )
        sent, gone = deliver(services, feed, event.model_dump_json().encode())
    except AppError as exc:
        logger.warning("live update not published", extra={"feed": feed, "type": type, "error": exc.message})
        return None
    except Exception:  # never the work's failure: what published it is done and committed
        logger.exception("live update failed", extra={"feed": feed, "type": type})
        return None
    logger.info(
        "live update published", extra={"feed": feed, "type": type, "event_id": event.id, "sent": sent, "gone": gone}
    )
    return event


def deliver(services: Services, feed: str, data: bytes) -> tuple[int, int]:
    """Post `data` to each of the feed's connections (in parallel: API Gateway answers each post in
    some milliseconds), forgetting those API Gateway says are gone. (sent, gone). A connection whose
    `$connect` is still running is Gone to API Gateway and kept; its page catches up once it is open."""
    connections = services.live.feed_connections(feed)

    def post(connection_id: str) -> bool | None:
        try:
            if services.connections.post(connection_id, data):
                return True
            services.live.forget(feed, connection_id)
            return False
        except AppError as exc:  # one connection's failure is not the others'
            logger.warning("live update not posted", extra={"feed": feed, "error": exc.message})
            return None

    if len(connections) <= 1:
        results = [post(c) for c in connections]
    else:
        with ThreadPoolExecutor(min(FAN_OUT_THREADS, len(connections))) as pool:
            results = list(pool.map(post, connections))
    return results.count(True), results.count(False)


def newest(services: Services, feed: str) -> int:
    """The id of the feed's latest event (0 before its first): where a page that just loaded starts."""
    return services.live.newest(feed)


def catch_up(services: Services, feed: str, after: int, *, limit: int = CATCH_UP_LIMIT) -> CatchUp:
    """The feed's events after id `after` (what a reconnecting page missed)."""
    stored = services.live.events_after(feed, after, limit=limit + 1)
    events = [Event.model_validate_json(body).model_copy(update={"id": id_}) for id_, body in stored.events]
    lapsed = after < stored.newest and (stored.oldest is None or stored.oldest > after + 1)
    complete = not lapsed and after <= stored.newest and len(events) <= limit
    return CatchUp(events=events[:limit], complete=complete, newest=stored.newest)


class BackgroundPublisher:
    """`publish` off the caller's path (the agent worker: a call never waits on it). At most `size`
    events wait; more are dropped and logged (the office's page catches up when it reloads)."""

    def __init__(self, services: Services, size: int = 100) -> None:
        self._services = services
        self._queue: queue.Queue[tuple[str, EventType, dict[str, str | int]]] = queue.Queue(maxsize=size)
        threading.Thread(target=self._run, name="live-updates", daemon=True).start()

    def publish(self, feed: str, type: EventType, **ids: str | int) -> None:
        try:
            self._queue.put_nowait((feed, type, ids))
        except queue.Full:
            logger.warning("live update dropped: the queue is full", extra={"feed": feed, "type": type})

    def drain(self, timeout_s: float = 5.0) -> bool:
        """Wait (at most `timeout_s`) until everything queued has been published; True if it was."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue.unfinished_tasks

    def _run(self) -> None:
        while True:
            feed, type, ids = self._queue.get()
            try:
                _publish_now(self._services, feed, type, **ids)  # never raises
            finally:
                self._queue.task_done()


_publishers: dict[int, BackgroundPublisher] = {}
_publishers_lock = threading.Lock()


def _background(services: Services) -> BackgroundPublisher:
    with _publishers_lock:
        if id(services) not in _publishers:
            _publishers[id(services)] = BackgroundPublisher(services)
        return _publishers[id(services)]


def drain(services: Services, timeout_s: float = 5.0) -> bool:
    """Wait until the events queued in the background are published (a job process's end)."""
    publisher = _publishers.get(id(services))
    return publisher.drain(timeout_s) if publisher else True
