"""Every feature's personal data, found the way Django's admin finds `admin.py`: each package of
`mla_core` with a `personal_data` module registers its hook there (`mla_core.db.personal_data.register`)
when imported. A feature added later (caller memory, meetings, MCP audit records) plugs in with no change
here; `tests/integration/test_personal_data_map.py` fails until every table's text columns are declared.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib import resources

from mla_core.db.personal_data import PersonalData, hooks

_REGISTRY = "db"  # mla_core.db.personal_data is the registry itself


@cache
def _import_all() -> tuple[str, ...]:
    root = resources.files("mla_core")
    found = sorted(
        entry.name
        for entry in root.iterdir()
        if entry.is_dir() and entry.name != _REGISTRY and (entry / "personal_data.py").is_file()
    )
    for name in found:
        importlib.import_module(f"mla_core.{name}.personal_data")
    return tuple(found)


def personal_data() -> list[PersonalData]:
    """Every registered hook, in the order of their packages' names."""
    _import_all()
    return sorted(hooks(), key=lambda hook: hook.name)
