"""Mem0's filters as SQL over caller memories: `{"user_id": "+9198…", "created_at": {"gte": "2026-01-01"},
"OR": [{"slot": "ward"}, {"metadata.source": "walk_in"}]}`.

Fields (nothing else is a column a filter may name): `user_id` (the phone, typed as people write it),
`person`, `agent_id`, `run_id`, `kind`, `slot`, `memory` (the text), `created_at`, `updated_at`,
`expires_at`, `complaint_id`, and `metadata.<key>`. Operators, as Mem0's: `eq` (a bare value), `ne`,
`in`, `nin`, `gt`, `gte`, `lt`, `lte`, `contains`, `icontains`, and `"*"` for any value; `AND` / `OR`
(lists) and `NOT` combine them. Values are bound as literals, never written into the SQL.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from psycopg import sql
from pydantic import TypeAdapter, ValidationError

from mla_core.core.errors import InvalidInputError
from mla_core.core.fields import indian_number

_TEXT = {
    "person": "person",
    "agent_id": "agent_id",
    "run_id": "run_id",
    "kind": "kind",
    "slot": "slot",
    "memory": "memory",
}
_TIMES = {"created_at", "updated_at", "expires_at"}
_METADATA_KEY = re.compile(r"metadata\.([A-Za-z0-9_]{1,40})")
# `ne` and `nin` match a memory without the field (no slot, no such metadata key), as Mem0's do.
_COMPARE = {"eq": "=", "ne": "IS DISTINCT FROM", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_OPERATORS = {*_COMPARE, "in", "nin", "contains", "icontains"}
_DEPTH = 4
_TIME = TypeAdapter(datetime)
ENTITY_FIELDS = ("user_id", "agent_id", "run_id")


def _refused(reason: str) -> InvalidInputError:
    return InvalidInputError(
        f"filters: {reason}", details=[{"field": "filters", "reason": "invalid_filter", "ctx": {"problem": reason}}]
    )


def names_an_entity(filters: dict[str, Any]) -> bool:
    """Whether the filters' top level (or an AND in it) names a caller, an agent or a call."""
    if any(field in filters for field in ENTITY_FIELDS):
        return True
    return any(isinstance(part, dict) and names_an_entity(part) for part in filters.get("AND") or [])


def where(filters: dict[str, Any], alias: str = "m") -> sql.Composable:
    """The SQL condition `filters` mean over table alias `alias` (TRUE for no filters)."""
    return _all(filters, alias, 0)


def _all(filters: Any, alias: str, depth: int) -> sql.Composable:
    if not isinstance(filters, dict):
        raise _refused("must be an object")
    if depth > _DEPTH:
        raise _refused(f"nested more than {_DEPTH} deep")
    parts: list[sql.Composable] = []
    for key, value in filters.items():
        if key in ("AND", "OR"):
            if not isinstance(value, list) or not value:
                raise _refused(f"{key} takes a list of filters")
            joined = sql.SQL(f" {key} ").join(_all(part, alias, depth + 1) for part in value)
            parts.append(sql.SQL("({})").format(joined))
        elif key == "NOT":
            inner = value if isinstance(value, list) else [value]
            parts.append(sql.SQL("NOT ({})").format(sql.SQL(" AND ").join(_all(p, alias, depth + 1) for p in inner)))
        else:
            parts.append(_field(key, value, alias))
    return sql.SQL(" AND ").join(parts) if parts else sql.SQL("TRUE")


def _field(key: str, condition: Any, alias: str) -> sql.Composable:
    column, read = _column(key, alias)
    if not isinstance(condition, dict):
        condition = {"eq": condition}
    if not condition:
        raise _refused(f"{key}: no operator")
    parts = []
    for operator, value in condition.items():
        if operator not in _OPERATORS:
            raise _refused(f"{key}: unknown operator {operator!r} (use {', '.join(sorted(_OPERATORS))})")
        parts.append(_compare(key, column, read, operator, value))
    return sql.SQL(" AND ").join(parts)


def _column(key: str, alias: str) -> tuple[sql.Composable, Any]:
    if key == "user_id":
        return sql.Identifier(alias, "caller_phone"), _phone
    if key in _TEXT:
        return sql.Identifier(alias, _TEXT[key]), _text
    if key in _TIMES:
        return sql.Identifier(alias, key), _time
    if key == "complaint_id":
        return sql.Identifier(alias, "complaint_ids"), _text
    if found := _METADATA_KEY.fullmatch(key):
        return sql.SQL("({} ->> {})").format(sql.Identifier(alias, "metadata"), sql.Literal(found.group(1))), _text
    raise _refused(f"unknown field {key!r}")


def _compare(key: str, column: sql.Composable, read: Any, operator: str, value: Any) -> sql.Composable:
    if value == "*":
        return sql.SQL("{} IS NOT NULL").format(column) if operator == "eq" else sql.SQL("{} IS NULL").format(column)
    if key == "complaint_id":
        if operator not in ("eq", "in"):
            raise _refused("complaint_id takes eq or in")
        ids = value if isinstance(value, list) else [value]
        return sql.SQL("{} && {}::uuid[]").format(column, sql.Literal([_uuid(v) for v in ids]))
    if operator in ("in", "nin"):
        if not isinstance(value, list) or not value or len(value) > 100:
            raise _refused(f"{key}: {operator} takes a list of 1 to 100 values")
        test = sql.SQL("{} = ANY({})") if operator == "in" else sql.SQL("COALESCE({} <> ALL({}), TRUE)")
        return test.format(column, sql.Literal([read(key, v) for v in value]))
    if operator in ("contains", "icontains"):
        if not isinstance(value, str) or not value or len(value) > 200:
            raise _refused(f"{key}: {operator} takes text")
        like = "LIKE" if operator == "contains" else "ILIKE"
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return sql.SQL("{}::text {} {}").format(column, sql.SQL(like), sql.Literal(f"%{escaped}%"))
    return sql.SQL("{} {} {}").format(column, sql.SQL(_COMPARE[operator]), sql.Literal(read(key, value)))


def _phone(key: str, value: Any) -> str:
    try:
        return indian_number(str(value))
    except ValueError as exc:
        raise _refused(f"{key}: not an Indian phone number") from exc


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str | int | float | bool) or len(str(value)) > 500:
        raise _refused(f"{key}: takes text")
    return str(value)


def _time(key: str, value: Any) -> datetime:
    try:
        moment = _TIME.validate_python(value)
    except ValidationError as exc:
        raise _refused(f"{key}: not a date and time (ISO 8601)") from exc
    return moment


def _uuid(value: Any) -> str:
    import uuid

    try:
        return str(uuid.UUID(str(value)))
    except ValueError as exc:
        raise _refused("complaint_id: not a complaint id") from exc
