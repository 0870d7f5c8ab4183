"""A two-hour hearing's summary (issue 20): our code's time outside the LLM, and the number and size of the
LLM calls it makes, on the local stack.

A janata darbar of `--minutes` (120) with a segment every `--every` seconds (5: 1,440 segments, Tamil, Hindi
and English lines of a citizen's length) is stored through `meetings.record_segments`, then summarised by
`summary_jobs.run` (the queue's job: read the meeting and its transcript, cut it in parts, a call per part
and a merge, write the minutes and items in one transaction) with the model swapped for an answer given at
once, so what is timed is ours alone. Beside it in each round, the baseline: the same transcript read with
plain SQL and written out as the prompts' text (what any summary must at least do). The calls' sizes are
what the prompts hold (characters and our token estimate); the stand-in's usage figures are not OpenAI's.
Run: `.venv/bin/python -m bench.meeting_summary [--minutes 120] [--every 5] [--rounds 5]`.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg

from bench.agent_stack import create_tenants, local_stack

LINES = [
    ("ta", "எங்கள் தெருவில் மூன்று நாட்களாகக் குடிநீர் வரவில்லை, வார்டு 12 காமராஜர் தெருவுக்கு லாரி அனுப்புங்கள்."),
    ("hi", "हमारी गली में स्ट्रीट लाइट एक महीने से खराब है, रात में बहुत अंधेरा रहता है और डर लगता है।"),
    ("en", "The drain near the government school overflows every time it rains and the children cannot walk."),
]


class InstantModel:
    """The model answered at once: a part's minutes and one grievance per line-kind it saw."""

    def __init__(self) -> None:
        self.calls: list[int] = []  # characters each call's messages held

    def chat_json(self, messages: list[dict[str, str]], *, model: str | None = None) -> Any:
        from mla_core.adapters.openai_api import ChatAnswer

        text = "".join(m["content"] for m in messages)
        self.calls.append(len(text))
        ids = [int(line[1 : line.index("]")]) for line in text.splitlines() if line.startswith("[")]
        answer: dict[str, Any] = {"minutes": {"ta": "கூட்டம்", "en": "The meeting."}}
        if ids:
            answer["grievances"] = [{"text": "No water in Ward 12", "segment_ids": ids[:3], "category": "water"}]
        return ChatAnswer(content=answer, model=model or "", prompt_tokens=0, completion_tokens=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--minutes", type=int, default=120)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with local_stack() as env:
        from mla_core.adapters import get_services
        from mla_core.core.principal import OfficeUser
        from mla_core.meetings import meetings, store, summary, summary_jobs
        from mla_core.meetings.models import MeetingCreate, NewSegment

        [tenant] = create_tenants(env, 1, ["ta", "hi", "en"])
        tenant_id = str(tenant["tenant_id"])
        services = get_services()
        who = OfficeUser(user_id=str(uuid.uuid4()), email="bench@example.in", role="mla_admin", tenant_id=tenant_id)
        body = MeetingCreate(kind="janata_darbar", title="Bench darbar", scheduled_at=datetime.now(UTC), record=False)
        meeting = meetings.start(services, who, meetings.schedule(services, who, body).id)
        count = args.minutes * 60 // args.every
        said = [
            NewSegment(participant_identity=f"citizen:{i % 40}", language=LINES[i % 3][0], text=f"{LINES[i % 3][1]} ({i})",
                       start_ms=i * args.every * 1000, end_ms=i * args.every * 1000 + 4000, segment_key=f"b{i}")
            for i in range(count)
        ]  # fmt: skip
        for start in range(0, count, 500):
            meetings.record_segments(services, tenant_id, meeting.id, said[start : start + 500])
        meetings.end(services, who, meeting.id)
        model = InstantModel()
        services.__dict__["openai"] = model  # the cached adapter, swapped for this run
        schema = f"tenant_{tenant_id}"

        def ours() -> float:
            with services.db.transaction() as conn:
                store.claim_summary(conn, tenant_id, meeting.id, again=True)
            model.calls.clear()
            started = time.perf_counter()
            summary_jobs.run(services, summary_jobs.SummaryMessage(tenant_id=tenant_id, meeting_id=meeting.id))
            return (time.perf_counter() - started) * 1000

        def baseline() -> float:
            started = time.perf_counter()
            with psycopg.connect(env["DATABASE_URL"]) as conn:
                rows = conn.execute(
                    psycopg.sql.SQL(
                        "SELECT id, participant_identity, language, text FROM {} WHERE meeting_id = %s ORDER BY start_ms, id"
                    ).format(psycopg.sql.Identifier(schema, "meeting_segments")),
                    (meeting.id,),
                ).fetchall()
            "\n".join(f"[{r[0]}] {r[1]} ({r[2]}): {r[3]}" for r in rows)
            return (time.perf_counter() - started) * 1000

        ours()  # warm-up
        runs: dict[str, list[float]] = {"ours": [], "baseline": []}
        for _ in range(args.rounds):
            runs["ours"].append(ours())
            runs["baseline"].append(baseline())
        parts = summary.parts(
            store_segments(services, tenant_id, meeting.id), services.settings.meeting_summary_part_tokens
        )
        written = summary_jobs.get(services, tenant_id, meeting.id)
        ours_ms, base_ms = statistics.median(runs["ours"]), statistics.median(runs["baseline"])
        print(
            f"meeting summary: a {args.minutes}-minute hearing, {count} segments (ta/hi/en), part budget "
            f"{services.settings.meeting_summary_part_tokens} estimated tokens; the model answers at once"
        )
        print(
            f"  our time outside the LLM (summary_jobs.run: read, cut, prompts, read answers, write): median "
            f"{ours_ms:.1f} ms over {args.rounds} rounds (min {min(runs['ours']):.1f}, max {max(runs['ours']):.1f})"
        )
        print(
            f"  baseline (the transcript read with plain SQL and written as lines): median {base_ms:.1f} ms;"
            f" ratio {ours_ms / base_ms:.1f}x"
        )
        tokens = [sum(summary.estimated_tokens(line.text) for line in part) for part in parts]
        print(
            f"  LLM calls: {len(model.calls)} ({len(parts)} parts + {len(model.calls) - len(parts)} merge);"
            f" prompt characters per call: {', '.join(str(c) for c in model.calls)}"
        )
        print(f"  estimated transcript tokens per part: {', '.join(str(t) for t in tokens)} (total {sum(tokens)})")
        print(f"  stored: status {written.status}, {len(written.grievances)} grievance items, {written.parts} parts")  # fmt: skip


def store_segments(services: Any, tenant_id: str, meeting_id: uuid.UUID) -> list[Any]:
    from mla_core.meetings import store

    with services.db.transaction() as conn:
        return store.segments(conn, tenant_id, meeting_id)


if __name__ == "__main__":
    main()
