"""The office's voice agent, as its MLA admins manage it: greeting, languages, voices, categories,
numbers, and whether it takes calls.

Each office has one agent today, created by provisioning (`<tenant>-main`). A change is saved in
Postgres (the durable copy) and Redis (what the agent reads on every call) together, and a change
of numbers moves the office's SIP dispatch rule with it, all or nothing.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from mla_core import tenants
from mla_core.agent_config import (
    DEFAULT_VOICES,
    AgentConfig,
    Category,
    LanguageProfile,
    SttSettings,
    TtsSettings,
    default_greeting,
    with_recording_notice,
)
from mla_core.db import Conn
from mla_core.errors import ConflictError, NotFoundError
from mla_core.identity import Principal
from mla_core.provisioning.request import Language, PhoneNumber, distinct
from mla_core.services import Services

Greeting = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Voice = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class AgentUpdate(BaseModel):
    """What an MLA admin may change; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="the agent's version you read; a stale one is refused")
    languages: Annotated[list[Language], Field(min_length=1, max_length=3), AfterValidator(distinct)] | None = None
    greetings: dict[Language, Greeting] | None = None
    voices: dict[Language, Voice] | None = None
    categories: Annotated[list[Category], Field(min_length=1, max_length=30)] | None = None
    phone_numbers: Annotated[list[PhoneNumber], Field(min_length=1, max_length=10), AfterValidator(distinct)] | None = (
        None
    )


class AgentStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["active", "paused"]
    version: int = Field(ge=1, description="the agent's version you read")


def _view(config: AgentConfig) -> dict[str, Any]:
    return {
        "agent_id": config.agent_id,
        "status": config.status,
        "version": config.version,
        "languages": config.languages,
        "greetings": {lang: p.greeting for lang, p in config.profiles.items()},
        "voices": {lang: p.tts.voice for lang, p in config.profiles.items()},
        "categories": [c.model_dump() for c in config.categories],
        "phone_numbers": config.phone_numbers,
        "llm": config.llm.model_dump(),
        "updated_at": config.updated_at,
    }


def _load(conn: Conn, tenant_id: str, *, lock: bool = False) -> AgentConfig:
    query = sql.SQL("SELECT config FROM platform.agent_configs WHERE tenant_id = %s{}").format(
        sql.SQL(" FOR UPDATE" if lock else "")
    )
    row = conn.execute(query, (tenant_id,)).fetchone()
    if row is None:
        raise NotFoundError("agent not found")
    return AgentConfig.model_validate(row["config"])


def _current(services: Services, who: Principal) -> AgentConfig:
    assert who.tenant_id is not None
    with services.db.transaction() as conn:
        return _load(conn, who.tenant_id)


def list_agents(services: Services, who: Principal) -> list[dict[str, Any]]:
    return [_view(_current(services, who))]


def get_agent(services: Services, who: Principal, agent_id: str) -> dict[str, Any]:
    config = _current(services, who)
    if config.agent_id != agent_id:
        raise NotFoundError("agent not found")
    return _view(config)


def _apply(config: AgentConfig, update: AgentUpdate) -> AgentConfig:
    languages = update.languages or config.languages
    profiles: dict[str, LanguageProfile] = {}
    for language in languages:
        profile = config.profiles.get(language) or LanguageProfile(
            greeting=default_greeting(language, mla_name=config.mla_name, constituency=config.constituency),
            stt=SttSettings(language=language),
            tts=TtsSettings(voice=DEFAULT_VOICES[language], language=language),
        )
        if update.greetings and language in update.greetings:
            profile = profile.model_copy(
                update={"greeting": with_recording_notice(update.greetings[language], language)}
            )
        if update.voices and language in update.voices:
            profile = profile.model_copy(
                update={"tts": profile.tts.model_copy(update={"voice": update.voices[language]})}
            )
        profiles[language] = profile
    return config.model_copy(
        update={
            "languages": languages,
            "profiles": profiles,
            "categories": update.categories or config.categories,
            "phone_numbers": update.phone_numbers or config.phone_numbers,
            "version": config.version + 1,
        }
    )


def _save(services: Services, who: Principal, agent_id: str, expected: int, change: Any) -> dict[str, Any]:
    """Apply `change` to the config in one transaction with the number claims, the SIP rule and Redis."""
    from mla_core.provisioning.steps import dispatch_rule_spec

    assert who.tenant_id is not None
    with services.db.transaction() as conn:
        current = _load(conn, who.tenant_id, lock=True)
        if current.agent_id != agent_id:
            raise NotFoundError("agent not found")
        if current.version != expected:
            raise ConflictError(
                "someone else changed this agent first; reload it and try again",
                details=[{"field": "version", "reason": "stale", "current_version": current.version}],
            )
        updated: AgentConfig = change(current)
        removed = [n for n in current.phone_numbers if n not in updated.phone_numbers]
        if updated.phone_numbers != current.phone_numbers:
            tenants.release_numbers(conn, who.tenant_id)
            tenants.claim_numbers(conn, who.tenant_id, updated.phone_numbers)
            tenant = tenants.get_tenant(conn, who.tenant_id, with_steps=False)
            asyncio.run(services.livekit.ensure_dispatch_rule(dispatch_rule_spec(services, tenant)))
        conn.execute(
            "UPDATE platform.agent_configs SET config = %s, version = %s, updated_at = now() WHERE tenant_id = %s",
            (Jsonb(updated.model_dump(mode="json")), updated.version, who.tenant_id),
        )
        services.agent_configs.put(updated, stale_numbers=removed)
    return _view(updated)


def one_agent_per_office() -> ConflictError:
    return ConflictError(
        "an office has one agent for now: change its numbers, languages and greeting, or pause it",
        details=[{"field": "agent", "reason": "single_agent"}],
    )


def update_agent(services: Services, who: Principal, agent_id: str, update: AgentUpdate) -> dict[str, Any]:
    return _save(services, who, agent_id, update.version, lambda current: _apply(current, update))


def set_status(services: Services, who: Principal, agent_id: str, status: AgentStatus) -> dict[str, Any]:
    return _save(
        services, who, agent_id, status.version,
        lambda current: current.model_copy(update={"status": status.status, "version": current.version + 1}),
    )  # fmt: skip
