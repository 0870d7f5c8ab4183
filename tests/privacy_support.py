"""Where a phone number is still held: every text and JSON column of an office's schema and of the
platform's, and every Redis key and value, searched for the number as people write it (any script's
digits, spaced or not, with or without +91 or 0)."""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from mla_core.core.fields import ascii_digits
from mla_core.core.privacy import mentions_pattern
from mla_core.db.personal_data import INDIC_DIGITS, THEIR_ASCII

COLUMNS = """SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c
  JOIN information_schema.tables t USING (table_schema, table_name)
 WHERE c.table_schema = ANY(%s) AND t.table_type = 'BASE TABLE'
   AND (c.data_type IN ('text', 'character varying', 'json', 'jsonb', 'tsvector') OR c.udt_name IN ('_text', '_varchar'))
 ORDER BY 1, 2, c.ordinal_position"""


def text_columns(conn: psycopg.Connection[Any], *schemas: str) -> list[dict[str, str]]:
    return conn.execute(COLUMNS, (list(schemas),)).fetchall()


def search_everywhere(stack: Any, tenant_id: str, e164: str) -> list[str]:
    """`schema.table.column` of every column holding the number, and `redis:<key>` of every Redis key."""
    pattern, found = mentions_pattern(e164), []
    with psycopg.connect(stack.env["DATABASE_URL"], row_factory=dict_row, autocommit=True) as conn:
        for col in text_columns(conn, f"tenant_{tenant_id}", "platform"):
            query = sql.SQL("SELECT count(*) AS n FROM {} WHERE translate({}::text, %s, %s) ~ %s").format(
                sql.Identifier(col["table_schema"], col["table_name"]), sql.Identifier(col["column_name"])
            )
            if conn.execute(query, (INDIC_DIGITS, THEIR_ASCII, pattern)).fetchone()["n"]:  # type: ignore[index]
                found.append(f"{col['table_schema']}.{col['table_name']}.{col['column_name']}")
    return found + _in_redis(stack, pattern)


def _in_redis(stack: Any, pattern: str) -> list[str]:
    from upstash_redis import Redis

    redis = Redis(stack.env["UPSTASH_REDIS_REST_URL"], stack.env["UPSTASH_REDIS_REST_TOKEN"], rest_retries=0)
    cursor, keys = 0, []
    while True:
        cursor, batch = redis.scan(cursor, count=1000)
        keys += batch
        if cursor == 0:
            break
    read = {
        "string": redis.get,
        "hash": redis.hgetall,
        "list": lambda k: redis.lrange(k, 0, -1),
        "set": redis.smembers,
        "zset": lambda k: redis.zrange(k, 0, -1),
    }
    found = []
    for key in keys:
        value = read.get(redis.type(key), lambda k: "")(key)
        if re.search(pattern, ascii_digits(f"{key} {value}")):
            found.append(f"redis:{key}")
    return found


def spaced(e164: str) -> str:
    """`+919876543210` as people write it in a note: `98765 43210`."""
    national = e164[3:]
    return f"{national[:5]} {national[5:]}"
