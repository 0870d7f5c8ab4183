"""The office's voice agents, as its MLA admins manage them: name, greeting, languages, voices,
categories, numbers, and whether each takes calls.

Provisioning makes the office's main agent (`<tenant>-main`), which answers the numbers the office
was created with; an admin may add agents for other numbers (a helpline, a second language) and
remove them again. The main agent can be paused but not removed. Each number is answered by one
agent. A change is saved in Postgres, the source of truth, with the number claims and a pending
marker in one transaction; after the commit the office's SIP dispatch rule and Redis (what the
agent reads on every call) follow it (`mla_core.agents.sync`). When LiveKit or Redis fails then,
the change stays saved and shows as pending (`AgentView.routes_pending_since`) until the
reconciler brings them up to date. Changes to one office's agents are serialised on its tenant row.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Annotated, Literal

from psycopg.types.json import Jsonb
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from mla_core.adapters import Services
from mla_core.agents import sync
from mla_core.agents.config import (
    DEFAULT_VOICES,
    AgentConfig,
    AgentName,
    CategorySettings,
    Greeting,
    LanguageProfile,
    SttSettings,
    TtsSettings,
    VoiceId,
    default_greeting,
    paused_message,
    with_recording_notice,
)
from mla_core.core.errors import ConflictError, NotFoundError
from mla_core.core.fields import Language, PhoneNumber, distinct
from mla_core.core.principal import OfficeUser
from mla_core.core.sms_text import LocalNameEdit
from mla_core.db import Conn
from mla_core.tenants import registry

MAX_AGENTS = 10  # per office

PhoneNumbers = Annotated[list[PhoneNumber], Field(min_length=1, max_length=10), AfterValidator(distinct)]


class AgentSettings(BaseModel):
    """What an MLA admin may set; fields left out stay as they are (or, for a new agent, as the
    office's main agent has them). Every text is bounded (`mla_core.agents.config`); a category's
    names are held to what an SMS may carry."""

    model_config = ConfigDict(extra="forbid")

    name: AgentName | None = None
    languages: Annotated[list[Language], Field(min_length=1, max_length=3), AfterValidator(distinct)] | None = None
    greetings: dict[Language, Greeting] | None = None
    voices: dict[Language, VoiceId] | None = None
    categories: CategorySettings | None = None
    phone_numbers: PhoneNumbers | None = None
    # The MLA's and the constituency's names in a language's own script, said in its greeting (and
    # its SMS); a language left out says the English spelling.
    mla_name_local: dict[Language, LocalNameEdit] | None = None
    constituency_local: dict[Language, LocalNameEdit] | None = None


class AgentCreate(AgentSettings):
    name: AgentName
    phone_numbers: PhoneNumbers = Field(description="numbers this agent answers, not answered by another agent")


class AgentUpdate(AgentSettings):
    version: int = Field(ge=1, description="the agent's version you read; a stale one is refused")


class AgentStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["active", "paused"]
    version: int = Field(ge=1, description="the agent's version you read")


class CategoryView(TypedDict):
    code: str
    names: dict[str, str]  # by language
    sla_days: int


class LlmView(TypedDict):
    provider: Literal["openai"]
    model: str
    temperature: float


class AgentView(TypedDict):
    """An agent as its office's admins see it."""

    agent_id: str
    name: str
    main: bool  # the office's main agent: it can be paused, not removed
    status: Literal["active", "paused"]
    version: int
    languages: list[str]
    greetings: dict[str, str]  # by language
    voices: dict[str, str]  # by language
    categories: list[CategoryView]
    phone_numbers: list[str]
    mla_name: str  # in English letters, as the office was registered
    constituency: str
    mla_name_local: dict[str, str]  # by language, in its script
    constituency_local: dict[str, str]
    llm: LlmView
    updated_at: datetime
    # Since when a saved change of the office's agents is not yet live on its phone line (LiveKit's
    # dispatch rule or Redis not updated yet; the reconciler retries); None when it is.
    routes_pending_since: datetime | None


def _view(config: AgentConfig, pending_since: datetime | None) -> AgentView:
    return {
        "agent_id": config.agent_id,
        "name": config.name,
        "main": config.is_main,
        "status": config.status,
        "version": config.version,
        "languages": config.languages,
        "greetings": {lang: p.greeting for lang, p in config.profiles.items()},
        "voices": {lang: p.tts.voice for lang, p in config.profiles.items()},
        "categories": [{"code": c.code, "names": c.names, "sla_days": c.sla_days} for c in config.categories],
        "phone_numbers": config.phone_numbers,
        "mla_name": config.mla_name,
        "constituency": config.constituency,
        "mla_name_local": config.mla_name_local,
        "constituency_local": config.constituency_local,
        "llm": {"provider": config.llm.provider, "model": config.llm.model, "temperature": config.llm.temperature},
        "updated_at": config.updated_at,
        "routes_pending_since": pending_since,
    }


def _find(agents: list[AgentConfig], agent_id: str) -> AgentConfig:
    found = next((agent for agent in agents if agent.agent_id == agent_id), None)
    if found is None:
        raise NotFoundError("agent not found")
    return found


def _since(conn: Conn, tenant_id: str) -> datetime | None:
    marker = sync.pending(conn, tenant_id)
    return marker.since if marker else None


def list_agents(services: Services, who: OfficeUser) -> list[AgentView]:
    with services.db.transaction() as conn:
        since = _since(conn, who.tenant_id)
        return [_view(agent, since) for agent in sync.office_agents(conn, who.tenant_id)]


def get_agent(services: Services, who: OfficeUser, agent_id: str) -> AgentView:
    with services.db.transaction() as conn:
        return _view(_find(sync.office_agents(conn, who.tenant_id), agent_id), _since(conn, who.tenant_id))


def _names(edited: dict[Language, str] | None, stored: dict[str, str]) -> dict[str, str]:
    """The local-script names after an edit: a language sent with a blank name goes back to the
    English spelling; one not sent keeps what it had."""
    if edited is None:
        return stored
    return {lang: name for lang, name in (stored | edited).items() if name}


def _apply(config: AgentConfig, settings: AgentSettings) -> AgentConfig:
    languages = settings.languages or config.languages
    profiles: dict[str, LanguageProfile] = {}
    for language in languages:
        profile = config.profiles.get(language) or LanguageProfile(
            greeting=default_greeting(language, mla_name=config.mla_name, constituency=config.constituency),
            stt=SttSettings(language=language),
            tts=TtsSettings(voice=DEFAULT_VOICES[language], language=language),
        )
        if settings.greetings and language in settings.greetings:
            profile = profile.model_copy(
                update={"greeting": with_recording_notice(settings.greetings[language], language)}
            )
        if settings.voices and language in settings.voices:
            profile = profile.model_copy(
                update={"tts": profile.tts.model_copy(update={"voice": settings.voices[language]})}
            )
        profiles[language] = profile
    return config.model_copy(
        update={
            "name": settings.name or config.name,
            "languages": languages,
            "profiles": profiles,
            "categories": [c.stored() for c in settings.categories] if settings.categories else config.categories,
            "phone_numbers": settings.phone_numbers or config.phone_numbers,
            "mla_name_local": _names(settings.mla_name_local, config.mla_name_local),
            "constituency_local": _names(settings.constituency_local, config.constituency_local),
            "version": config.version + 1,
            "updated_at": datetime.now(UTC),
        }
    )


def _office(conn: Conn, who: OfficeUser) -> list[AgentConfig]:
    """The caller's office's agents, with its tenant row locked: one change at a time per office."""
    registry.lock_row(conn, who.tenant_id)
    return sync.office_agents(conn, who.tenant_id)


def office_numbers(agents: list[AgentConfig]) -> list[str]:
    """The numbers an office answers: its agents' in order (the main agent's first), each agent's in its order."""
    return [number for agent in agents for number in agent.phone_numbers]


def plan_numbers(office: list[AgentConfig], agent: AgentConfig, *, taken_elsewhere: Collection[str]) -> list[str]:
    """The office's numbers once `agent` is saved (a new agent's come last), or the conflict that
    stops it: the agent's name or numbers are its own, not another agent's of the office, and no
    number is one that another office has (`taken_elsewhere`)."""
    others = [other for other in office if other.agent_id != agent.agent_id]
    if any(other.name.casefold() == agent.name.casefold() for other in others):
        raise ConflictError(
            f"this office already has an agent named {agent.name!r}",
            details=[{"field": "name", "reason": "already_taken", "value": agent.name}],
        )
    answered_by = {number: other for other in others for number in other.phone_numbers}
    for position, number in enumerate(agent.phone_numbers):
        if number in answered_by:
            raise ConflictError(
                f"{number} is answered by this office's agent {answered_by[number].name!r}; remove it there first",
                details=[
                    {
                        "field": f"phone_numbers.{position}",
                        "reason": "answered_by_another_agent",
                        "value": number,
                        "agent_id": answered_by[number].agent_id,
                    }
                ],
            )
        if number in taken_elsewhere:
            raise registry.number_taken(number, position)
    if len(others) == len(office):  # a new agent: its numbers come after the office's
        return office_numbers([*office, agent])
    return office_numbers([agent if other.agent_id == agent.agent_id else other for other in office])


def _taken_elsewhere(conn: Conn, agent: AgentConfig) -> set[str]:
    """Which of the agent's numbers another office has."""
    rows = conn.execute(
        "SELECT e164 FROM platform.tenant_phone_numbers WHERE e164 = ANY(%s) AND tenant_id <> %s",
        (agent.phone_numbers, agent.tenant_id),
    )
    return {row["e164"] for row in rows}


def _renumber(
    conn: Conn, office: list[AgentConfig], numbers: list[str], removed_agents: Sequence[str] = ()
) -> datetime:
    """In the caller's transaction: the office answers `numbers` (in this order) from now on, and its
    routes are marked to follow (the numbers it let go of, and `removed_agents`, are what LiveKit
    and Redis may still hold). Returns since when the office's routes are pending."""
    tenant_id, before = office[0].tenant_id, office_numbers(office)
    if numbers != before:
        registry.release_numbers(conn, tenant_id)
        registry.claim_numbers(conn, tenant_id, numbers)
    released = [number for number in before if number not in numbers]
    return sync.mark_pending(conn, tenant_id, released_numbers=released, removed_agents=removed_agents)


def _store(conn: Conn, config: AgentConfig) -> None:
    conn.execute(
        "INSERT INTO platform.agent_configs (agent_id, tenant_id, version, config) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (agent_id) DO UPDATE SET config = excluded.config, version = excluded.version,"
        " updated_at = now()",
        (config.agent_id, config.tenant_id, config.version, Jsonb(config.model_dump(mode="json"))),
    )


def _save(
    services: Services, who: OfficeUser, agent_id: str, expected: int, change: Callable[[AgentConfig], AgentConfig]
) -> AgentView:
    """Apply `change` to one agent with the number claims in one transaction; LiveKit and Redis follow."""
    with services.db.transaction() as conn:
        office = _office(conn, who)
        current = _find(office, agent_id)
        if current.version != expected:
            raise ConflictError(
                "someone else changed this agent first; reload it and try again",
                details=[{"field": "version", "reason": "stale", "current_version": current.version}],
            )
        updated = change(current)
        numbers = plan_numbers(office, updated, taken_elsewhere=_taken_elsewhere(conn, updated))
        _store(conn, updated)
        since = _renumber(conn, office, numbers)
    return _view(updated, sync.follow(services, who.tenant_id, since))


def create_agent(services: Services, who: OfficeUser, body: AgentCreate) -> AgentView:
    """A new agent for numbers of its own, starting from the main agent's settings."""
    with services.db.transaction() as conn:
        office = _office(conn, who)
        if len(office) >= MAX_AGENTS:
            raise ConflictError(
                f"an office can have at most {MAX_AGENTS} agents", details=[{"field": "agent", "reason": "limit"}]
            )
        main = office[0]
        start = main.model_copy(
            update={"agent_id": f"{main.tenant_id}-{secrets.token_hex(3)}", "status": "active", "version": 0}
        )
        agent = _apply(start, body)
        numbers = plan_numbers(office, agent, taken_elsewhere=_taken_elsewhere(conn, agent))
        _store(conn, agent)
        since = _renumber(conn, office, numbers)
    return _view(agent, sync.follow(services, who.tenant_id, since))


def delete_agent(services: Services, who: OfficeUser, agent_id: str) -> None:
    """Remove an added agent; its numbers go back (the office no longer answers them)."""
    with services.db.transaction() as conn:
        office = _office(conn, who)
        agent = _find(office, agent_id)
        if agent.is_main:
            raise ConflictError(
                "the office's main agent cannot be removed: pause it, or change its numbers",
                details=[{"field": "agent_id", "reason": "main_agent"}],
            )
        conn.execute("DELETE FROM platform.agent_configs WHERE agent_id = %s", (agent_id,))
        since = _renumber(conn, office, office_numbers([a for a in office if a is not agent]), [agent_id])
    sync.follow(services, who.tenant_id, since)


def update_agent(services: Services, who: OfficeUser, agent_id: str, update: AgentUpdate) -> AgentView:
    return _save(services, who, agent_id, update.version, lambda current: _apply(current, update))


def set_status(services: Services, who: OfficeUser, agent_id: str, status: AgentStatus) -> AgentView:
    def paused_or_resumed(current: AgentConfig) -> AgentConfig:
        return current.model_copy(update={"status": status.status, "version": current.version + 1})

    return _save(services, who, agent_id, status.version, paused_or_resumed)


class PausePreview(TypedDict):
    """What pausing an agent does, said before it is paused."""

    agent: AgentView
    message: str  # what its callers hear before the call ends
    language: str  # the message's language: the agent's greeting language


def pause_preview(services: Services, who: OfficeUser, agent_id: str) -> PausePreview:
    with services.db.transaction() as conn:
        agent = _find(sync.office_agents(conn, who.tenant_id), agent_id)
        since = _since(conn, who.tenant_id)
    message, language = paused_message(agent)
    return {"agent": _view(agent, since), "message": message, "language": language}
