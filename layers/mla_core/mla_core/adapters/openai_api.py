"""OpenAI's API, for caller memory: embeddings (`text-embedding-3-small` at 256 dimensions, the width of
the `vector(256)` column) and JSON-answering chat completions (caller memory's extraction after a call,
a meeting's summary after it ends).

Reached through the `openai` SDK at a base URL: api.openai.com in production, the local stack's
stand-in (`local_stack.openai_standin`) in `make dev` and the tests. The SDK is imported on first use,
so a function that never embeds does not pay its import at cold start.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from mla_core.core.errors import TransientError, VendorError

if TYPE_CHECKING:
    from openai import OpenAI

EMBEDDING_DIMENSIONS = 256


class OpenAIApi:
    def __init__(
        self, api_key: str, base_url: str, *, timeout_s: float, embedding_model: str, extraction_model: str
    ) -> None:
        self._api_key = api_key
        self._base_url = base_url or None
        self._timeout_s = timeout_s
        self.embedding_model = embedding_model
        self.extraction_model = extraction_model

    @cached_property
    def _client(self) -> OpenAI:
        from openai import OpenAI

        return OpenAI(api_key=self._api_key, base_url=self._base_url, timeout=self._timeout_s, max_retries=2)

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One vector of `EMBEDDING_DIMENSIONS` floats per text, in order."""
        if not texts:
            return []
        with _vendor_errors("embeddings"):
            answer = self._client.embeddings.create(
                model=self.embedding_model, input=texts, dimensions=EMBEDDING_DIMENSIONS
            )
        vectors = [item.embedding for item in sorted(answer.data, key=lambda item: item.index)]
        if len(vectors) != len(texts) or any(len(v) != EMBEDDING_DIMENSIONS for v in vectors):
            raise VendorError("the embeddings service answered vectors of another shape")
        return vectors

    def complete_json(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        """The extraction model's answer to `messages`, asked for as a JSON object, parsed."""
        return self.chat_json(messages).content

    def chat_json(self, messages: list[dict[str, str]], *, model: str | None = None) -> ChatAnswer:
        """`model`'s answer to `messages` (the extraction model by default), asked for as a JSON object,
        parsed, with the tokens it took."""
        with _vendor_errors("chat completion"):
            answer = self._client.chat.completions.create(
                model=model or self.extraction_model,
                messages=cast(Any, messages),
                response_format={"type": "json_object"},
                temperature=0,
            )
        content = answer.choices[0].message.content or ""
        try:
            parsed = json.loads(content)
        except ValueError as exc:
            raise VendorError("the model did not answer JSON") from exc
        if not isinstance(parsed, dict):
            raise VendorError("the model did not answer a JSON object")
        usage = answer.usage
        return ChatAnswer(
            content=parsed,
            model=answer.model or model or self.extraction_model,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )


@dataclass(frozen=True)
class ChatAnswer:
    content: dict[str, Any]
    model: str
    prompt_tokens: int
    completion_tokens: int


@contextmanager
def _vendor_errors(what: str) -> Iterator[None]:
    """OpenAI's failures as ours: a timeout, a refused connection, 429 and 5xx are transient; the rest
    (a wrong key, a refused request) are not worth a retry."""
    import openai

    try:
        yield
    except (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError) as exc:
        raise TransientError(f"OpenAI {what} unavailable ({type(exc).__name__})") from exc
    except openai.APIError as exc:
        raise VendorError(f"OpenAI {what} refused ({type(exc).__name__})") from exc
