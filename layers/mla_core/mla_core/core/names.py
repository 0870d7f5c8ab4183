"""The names derived from a tenant's id: its schema, its rooms, its main agent, its SIP rule.

Everything else finds a tenant's things by these names (the webhook edge reads the tenant back out of
a room's name), so each is written here once.
"""

from __future__ import annotations

import hashlib
import re

TENANT_ID = re.compile(r"^[a-z0-9]{10}$")  # ten lowercase letters and digits: safe in every name below


def schema_name(tenant_id: str) -> str:
    return f"tenant_{tenant_id}"


def archived_schema_name(tenant_id: str) -> str:
    """Where a deprovisioned tenant's complaint data is kept."""
    return f"archived_tenant_{tenant_id}"


def room_name(tenant_id: str) -> str:
    return f"mla-{tenant_id}"


def call_room_prefix(tenant_id: str) -> str:
    """Prefix of the room LiveKit creates for each call: `mla-{id}-call_<caller>_<random>` (stored and logged
    as `stored_room_name` makes it)."""
    return f"mla-{tenant_id}-call"


_SIP_CALL_ROOM = re.compile(r"^mla-[a-z0-9]{10}-call_")


def stored_room_name(room: str) -> str:
    """A call's room name as we store and log it, without the caller's number in it.

    LiveKit names the room of a SIP call `mla-{id}-call_<caller's number>_<random>`; kept, its name would
    put the number in every table and log line that names the call. What follows the prefix becomes 20
    hex digits of the SHA-256 of the whole name: the same for the agent and the webhooks, who both see
    LiveKit's name, and not reversible (the random part has ~70 bits). Any other name (a test call's, a
    simulated call's, one already stored) is returned as it is. Postgres has its twin,
    `platform.stored_room_name` (control migration 0007), for rows stored before.
    """
    if not _SIP_CALL_ROOM.match(room):
        return room
    return f"{room[:19]}-{hashlib.sha256(room.encode()).hexdigest()[:20]}"


def test_call_room(tenant_id: str, suffix: str) -> str:
    """The room of a test call from the dashboard: `mla-{id}-test-<random>`."""
    return f"mla-{tenant_id}-test-{suffix}"


def meeting_room_name(tenant_id: str, meeting_id: str) -> str:
    """The room of one of the office's meetings: `mla-{id}-meet-{meeting id}`."""
    return f"mla-{tenant_id}-meet-{meeting_id}"


_MEETING_ROOM = re.compile(r"^mla-(?P<tenant_id>[a-z0-9]{10})-meet-(?P<meeting_id>[0-9a-f-]{36})$")


def meeting_of_room(room: str) -> tuple[str, str] | None:
    """(tenant id, meeting id) of a meeting's room, None for any other room."""
    match = _MEETING_ROOM.match(room)
    return (match["tenant_id"], match["meeting_id"]) if match else None


def main_agent_id(tenant_id: str) -> str:
    """The agent provisioning makes, which answers the numbers the office was created with."""
    return f"{tenant_id}-main"


def dispatch_rule_name(tenant_id: str) -> str:
    """The office's one LiveKit SIP dispatch rule, covering all its agents' numbers."""
    return f"tenant-{tenant_id}"
