"""Test data for the unit tests: an office's agent config, and complaint rows as the store returns them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from mla_core.agents.config import AgentConfig, build_default_config
from mla_core.complaints.models import ComplaintRow

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def office_config(**overrides: Any) -> AgentConfig:
    """The main agent a Tamil and English office in Mylapore starts with; `overrides` go to
    `build_default_config`."""
    values: dict[str, Any] = {
        "tenant_id": "abcde12345",
        "mla_name": "K. Selvi",
        "constituency": "Mylapore",
        "state": "Tamil Nadu",
        "languages": ["ta", "en"],
        "phone_numbers": ["+914440001234"],
        "greeting": None,
        "sender_id": "MLAOFC",
    }
    return build_default_config(**(values | overrides))


def complaint(**overrides: Any) -> ComplaintRow:
    """A new phone complaint (version 3, so a stale version is easy to send), with `overrides`."""
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "reference": 1001,
        "status": "new",
        "priority": "normal",
        "category": "water",
        "description": "No water for three days",
        "location": "Ward 12",
        "landmark": None,
        "caller_name": None,
        "caller_number": "+919876543210",
        "callback_number": None,
        "language": "ta",
        "channel": "phone",
        "assigned_to": None,
        "sla_due_at": None,
        "supporter_count": 1,
        "duplicate_of": None,
        "transferred_to": None,
        "version": 3,
        "created_at": NOW,
        "updated_at": NOW,
        "acknowledged_at": None,
        "resolved_at": None,
        "closed_at": None,
        "overdue": None,
    }
    return cast("ComplaintRow", row | overrides)
