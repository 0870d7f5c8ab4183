"""The names derived from a tenant's id: its schema, its rooms, its main agent, its SIP rule.

Everything else finds a tenant's things by these names (the webhook edge reads the tenant back out of
a room's name), so each is written here once.
"""

from __future__ import annotations

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
    """Prefix of the room LiveKit creates for each call: `mla-{id}-call_<caller>_<random>`."""
    return f"mla-{tenant_id}-call"


def test_call_room(tenant_id: str, suffix: str) -> str:
    """The room of a test call from the dashboard: `mla-{id}-test-<random>`."""
    return f"mla-{tenant_id}-test-{suffix}"


def main_agent_id(tenant_id: str) -> str:
    """The agent provisioning makes, which answers the numbers the office was created with."""
    return f"{tenant_id}-main"


def dispatch_rule_name(tenant_id: str) -> str:
    """The office's one LiveKit SIP dispatch rule, covering all its agents' numbers."""
    return f"tenant-{tenant_id}"
