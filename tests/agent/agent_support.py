"""Helpers for the agent tests: look at the tenant's tables and the SMS outbox directly."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

import psycopg
from livekit.agents import llm
from psycopg import sql
from psycopg.rows import dict_row

from agent_pool.call import CallRun
from agent_pool.phrases import spoken_digits
from agent_pool.testing import CallTool, DeferredStep, Say, ScriptedLLM
from local_stack import aws
from mla_core.complaints.intake import LoggedComplaint

# `phone_call(tenant, caller_number, steps, *, dialed_number=None, job_metadata="")` (see conftest).
CallFactory = Callable[..., contextlib.AbstractAsyncContextManager[tuple[CallRun, ScriptedLLM]]]


def rows(stack: Any, query: sql.Composable, *params: Any) -> list[dict[str, Any]]:
    with psycopg.connect(stack.env["DATABASE_URL"], row_factory=dict_row) as conn:
        return conn.execute(query, params).fetchall()


def tenant_table(tenant: dict[str, Any], table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(f"tenant_{tenant['tenant_id']}"), sql.Identifier(table))


def sms_to(number: str) -> list[dict[str, Any]]:
    return [dict(m) for m in aws.sent_sms() if m["to"] == number]


_REFERENCE = re.compile(r"Reference number (\d+)")


def last_reference(chat_ctx: llm.ChatContext) -> int:
    """The reference the last successful log_complaint returned to the LLM."""
    for item in reversed(chat_ctx.items):
        if item.type == "function_call_output" and not item.is_error and (match := _REFERENCE.search(item.output)):
            return int(match.group(1))
    raise AssertionError("no reference in the conversation")


def say_reference(template: str) -> DeferredStep:
    """An LLM reply that reads out the reference the tool returned, digit by digit, like the real LLM is told to."""
    return lambda chat_ctx: Say(template.format(reference=spoken_digits(last_reference(chat_ctx))))


def tool_outputs(run: CallRun) -> list[llm.FunctionCallOutput]:
    return [item for item in run.session.history.items if item.type == "function_call_output"]


def agent_lines(run: CallRun) -> list[str]:
    return [
        item.text_content or ""
        for item in run.session.history.items
        if item.type == "message" and item.role == "assistant"
    ]


async def complaint_logged_by(
    phone_call: CallFactory, tenant: dict[str, Any], caller_number: str, complaint: dict[str, Any]
) -> LoggedComplaint:
    """A call from `caller_number` that logs `complaint` at the caller's first word; what it logged."""
    async with phone_call(tenant, caller_number, [CallTool("log_complaint", complaint), Say("சரி.")]) as (run, _):
        await run.session.run(user_input="ஆமாம்")
        assert run.call is not None
        [logged] = run.call.logged
    return logged


def complaints_of(stack: Any, tenant: dict[str, Any], caller_number: str) -> list[dict[str, Any]]:
    return rows(
        stack,
        sql.SQL("SELECT * FROM {} WHERE caller_number = %s").format(tenant_table(tenant, "complaints")),
        caller_number,
    )


def complaints_for_callback(stack: Any, tenant: dict[str, Any], callback_number: str) -> list[dict[str, Any]]:
    """The complaints hidden callers logged with `callback_number` for their SMS."""
    return rows(
        stack,
        sql.SQL("SELECT * FROM {} WHERE callback_number = %s").format(tenant_table(tenant, "complaints")),
        callback_number,
    )


def call_record(stack: Any, tenant: dict[str, Any], room_name: str) -> dict[str, Any]:
    [row] = rows(
        stack, sql.SQL("SELECT * FROM {} WHERE room_name = %s").format(tenant_table(tenant, "calls")), room_name
    )
    return row
