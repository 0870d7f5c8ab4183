"""Caller memory's offline parts with no network: the OpenAI stand-in's embeddings (WordLlama's weights from
its wheel, downloads disabled) and the rules that hold an extraction model's answer to the caller's own
memories."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime

from mla_core.memory import extraction
from mla_core.memory.models import Memory
from mla_core.memory.store import content_hash

NO_NETWORK = """
import socket
real_connect = socket.socket.connect

def loopback_only(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise OSError(f"network blocked in this test: {host}")
    return real_connect(self, address)

socket.socket.connect = loopback_only
socket.getaddrinfo = lambda *a, **k: (_ for _ in ()).throw(OSError("DNS blocked in this test"))
"""


def test_the_standins_embeddings_load_and_embed_with_no_network() -> None:
    script = NO_NETWORK + textwrap.dedent(
        """
        from local_stack.openai_standin import DIMENSIONS, _Model
        vectors = _Model().embed(["I live in Ward 12", "मैं वार्ड 12 में रहता हूँ", "நான் வார்டு 12 இல் வசிக்கிறேன்"])
        assert len(vectors) == 3 and all(len(v) == DIMENSIONS for v in vectors)
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def _memory(text: str, slot: str | None = None) -> Memory:
    now = datetime.now(UTC)
    return Memory(
        id=uuid.uuid4(), memory=text, user_id="+919840012345", person="", kind="profile" if slot else "fact",
        slot=slot, agent_id=None, run_id=None, complaint_ids=[], metadata={}, hash=content_hash(text),
        expires_at=None, created_by="agent:a", created_at=now, updated_at=now,
    )  # fmt: skip


def test_a_decision_about_a_memory_that_is_not_the_callers_is_refused_and_reported() -> None:
    ward, fact = _memory("Ward 12", "ward"), _memory("Runs a tea shop")
    answer = {"memory": [
        {"event": "UPDATE", "id": str(ward.id), "slot": "ward", "text": "Ward 13"},
        {"event": "DELETE", "id": str(uuid.uuid4())},
        {"event": "UPDATE", "id": str(uuid.uuid4()), "slot": "name", "text": "Selvi"},
        {"event": "NONE", "id": str(fact.id)},
        {"event": "ADD", "text": ""},
    ]}  # fmt: skip
    decisions, refused = extraction.parse(answer, [ward, fact])
    assert [(d.event, d.slot, d.text) for d in decisions] == [
        ("UPDATE", "ward", "Ward 13"), ("ADD", "name", "Selvi"), ("NONE", None, "")
    ]  # fmt: skip
    assert refused == ["DELETE of a memory that is not this caller's", "ADD without text"]


def test_an_answer_that_does_not_fit_the_schema_costs_its_decisions_not_the_job() -> None:
    assert extraction.parse({"memory": [{"event": "MERGE"}]}, [])[0] == []
    assert extraction.parse({"memory": "ward 12"}, [])[1][0].startswith("the model's answer does not fit")


def test_the_prompt_shows_kept_memories_as_data_and_the_newest_of_a_long_conversation() -> None:
    turns = [{"role": "user", "content": f"line {n}"} for n in range(5000)]
    messages = extraction.prompt([_memory("Ward 12", "ward")], turns)
    assert messages[0]["role"] == "system" and "ADD" in messages[0]["content"]
    assert '"slot": "ward"' in messages[1]["content"] and "line 4999" in messages[1]["content"]
    assert "line 0\n" not in messages[1]["content"] and len(messages[1]["content"]) < extraction.TRANSCRIPT_LIMIT + 500


def test_a_repeat_is_the_same_hash_whatever_its_case_and_spacing() -> None:
    assert content_hash("Runs a  tea shop") == content_hash("runs a tea shop ") != content_hash("runs a shop")
