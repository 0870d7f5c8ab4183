"""A stand-in that speaks OpenAI's HTTP API for what the product asks of it (caller memory's
`POST /v1/embeddings` and `POST /v1/chat/completions` with a JSON answer), so `make dev` and the tests
run the product's own `openai` SDK calls with no network.

- Embeddings come from WordLlama (`wordllama`, a dev dependency: its 256-dimension weights ship in the
  wheel and load with downloads disabled). Fine for plumbing and English; it barely tells Hindi or Tamil
  sentences apart (related 0.83 vs unrelated 0.69 in Hindi), so search quality is judged only against
  the real `text-embedding-3-small`.
- Chat completions are scripted: a test queues the JSON to answer (`POST /local/chat-replies`, each
  `{"match": "<words of the conversation>", "answer": {...}}`, or a bare answer for any conversation);
  with none queued, a small rule reads a caller's ward and name from the conversation (English, Hindi,
  Tamil), so a call in `make dev` is remembered, and another writes a meeting's summary (each citizen's
  line naming a ward, water, a road, power or a drain a grievance), so a simulated darbar has minutes. `GET /local/chat-requests` lists what was asked.
- Requests need `Authorization: Bearer <key>` with the stack's key, as OpenAI's do (401 otherwise).
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mla_core.core.fields import ascii_digits

DIMENSIONS = 256

_WARD = re.compile(r"(?:ward|वार्ड|வார்டு)\s*(?:no\.?|number|नंबर|எண்)?\s*([0-9०-९௦-௯]+)", re.IGNORECASE)
_NAME = re.compile(r"(?:my name is|i am|मेरा नाम|என் பெயர்)\s+([^\s,.।]+(?:\s+[^\s,.।]+)?)", re.IGNORECASE)


class _Model:
    """WordLlama, loaded once on first use (about a second), shared by the server's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: Any = None

    def embed(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            if self._model is None:
                import wordllama
                from wordllama import WordLlama

                self._model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
            vectors = self._model.embed(texts, norm=True)
        return [[float(x) for x in vector[:DIMENSIONS]] for vector in vectors]


def _rule_based_memories(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """What a caller said of their ward and name, as extraction decisions (ADD; the store supersedes)."""
    said = " ".join(str(message.get("content", "")) for message in messages if message.get("role") == "user")
    conversation = said.split("CONVERSATION:", 1)[-1]
    found: list[dict[str, Any]] = []
    if ward := _WARD.search(conversation):
        found.append({"event": "ADD", "slot": "ward", "text": f"Ward {ascii_digits(ward.group(1))}"})
    if name := _NAME.search(conversation):
        found.append({"event": "ADD", "slot": "name", "text": name.group(1).strip()})
    return {"memory": found}


_MINUTE_KEY = re.compile(r'"(\w\w)": "minutes in ')
_LINE = re.compile(r"^\[(\d+)\] ([^(]+) \((\w\w)\): (.+)$")
_GRIEVANCE = re.compile(
    r"ward|water|road|drain|power|light|वार्ड|पानी|सड़क|बिजली|नाली|வார்டு|தண்ணீர்|குடிநீர்|சாலை|மின்|வடிகால்", re.I
)
_CATEGORY = {"water": r"water|पानी|தண்ணீர்|குடிநீர்", "roads": r"road|सड़क|சாலை", "electricity": r"power|light|बिजली|மின்",
             "sanitation": r"drain|नाली|வடிகால்"}  # fmt: skip


def _rule_based_summary(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A meeting part's summary (or the parts' merge) by rule, for `make dev`; None for another prompt."""
    system = " ".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
    said = " ".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
    languages = _MINUTE_KEY.findall(system) or ["en"]
    if said.startswith("MEETING MINUTES BY PART:"):
        return {"minutes": {code: " ".join(re.findall(rf"\({code}\) (.+)", said)) for code in languages}}
    if not said.startswith("MEETING TRANSCRIPT:"):
        return None
    lines = [m for line in said.splitlines() if (m := _LINE.match(line.strip()))]
    speakers = sorted({m.group(2).strip() for m in lines})
    grievances = [
        {"text": m.group(4), "segment_ids": [int(m.group(1))], "place": (w.group(0) if (w := _WARD.search(m.group(4))) else None),
         "category": next((c for c, words in _CATEGORY.items() if re.search(words, m.group(4), re.I)), None)}
        for m in lines if _GRIEVANCE.search(m.group(4))
    ]  # fmt: skip
    summary = (
        f"{len(lines)} statements by {len(speakers)} speakers ({', '.join(speakers)}); {len(grievances)} grievances."
    )
    return {"minutes": {code: summary for code in languages}, "grievances": grievances, "actions": [], "decisions": []}


def _scripted(replies: list[dict[str, Any]], messages: list[dict[str, Any]]) -> Any:
    """The first queued reply meant for this conversation (`{"match": text, "answer": ...}` when the text
    is in it; a bare reply for any), taken off the queue; else the rule-based one. A test matches on its
    own words, so an extraction another test's call left running cannot take its reply."""
    said = " ".join(str(message.get("content", "")) for message in messages)
    for i, reply in enumerate(replies):
        if "match" not in reply:
            return replies.pop(i)
        if reply["match"] in said:
            return replies.pop(i)["answer"]
    return _rule_based_summary(messages) or _rule_based_memories(messages)


def create_app(api_key: str) -> Starlette:
    model = _Model()
    replies: list[dict[str, Any]] = []
    asked: list[dict[str, Any]] = []

    def authorised(request: Request) -> JSONResponse | None:
        if request.headers.get("authorization") != f"Bearer {api_key}":
            error = {
                "message": "Incorrect API key provided",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
            return JSONResponse({"error": error}, status_code=401)
        return None

    async def embeddings(request: Request) -> JSONResponse:
        if refused := authorised(request):
            return refused
        body = await request.json()
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        if body.get("dimensions", DIMENSIONS) != DIMENSIONS:
            error = {"message": f"this stand-in embeds in {DIMENSIONS} dimensions", "type": "invalid_request_error"}
            return JSONResponse({"error": error}, status_code=400)
        from starlette.concurrency import run_in_threadpool

        vectors = await run_in_threadpool(model.embed, [str(text) for text in texts])
        data = [{"object": "embedding", "index": i, "embedding": vector} for i, vector in enumerate(vectors)]
        usage = {"prompt_tokens": sum(len(str(t).split()) for t in texts), "total_tokens": 0}
        return JSONResponse({"object": "list", "data": data, "model": body.get("model", ""), "usage": usage})

    async def chat_completions(request: Request) -> JSONResponse:
        if refused := authorised(request):
            return refused
        body = await request.json()
        asked.append(body)
        answer = _scripted(replies, body.get("messages", []))
        content = json.dumps(answer, ensure_ascii=False)
        prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
        return JSONResponse(
            {
                "id": f"chatcmpl-local-{len(asked)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", ""),
                "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
                ],
                "usage": {
                    "prompt_tokens": prompt_chars // 4,
                    "completion_tokens": len(content) // 4,
                    "total_tokens": (prompt_chars + len(content)) // 4,
                },
            }
        )

    async def queue_replies(request: Request) -> JSONResponse:
        replies.extend(await request.json())
        return JSONResponse({"queued": len(replies)})

    async def chat_requests(request: Request) -> JSONResponse:
        return JSONResponse(asked)

    async def clear(request: Request) -> JSONResponse:
        replies.clear()
        asked.clear()
        return JSONResponse({})

    return Starlette(
        routes=[
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/local/chat-replies", queue_replies, methods=["POST"]),
            Route("/local/chat-requests", chat_requests, methods=["GET"]),
            Route("/local/reset", clear, methods=["POST"]),
        ]
    )
