"""How the worker process runs: capacity, draining and turn-taking, read once from `AGENT_*` variables.

The platform's settings (`mla_core.core.settings`) hold what every component shares (database, Redis,
LiveKit credentials, the agent name); these are the knobs only the agent pool has.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mla_core.core.languages import LanguageCode


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENT_", extra="ignore", case_sensitive=False)

    # LiveKit advises 10+ minutes: a phone complaint call rarely runs longer, so a rollout that
    # sends SIGTERM lets every call in progress finish.
    drain_timeout: int = Field(default=900, ge=0)
    # Above this CPU load the worker tells LiveKit it is full (LiveKit's guidance: 0.7-0.75).
    load_threshold: float = Field(default=0.7, gt=0, le=1)
    # Warm processes waiting for a call; None keeps LiveKit's default (one per CPU).
    num_idle_processes: int | None = Field(default=None, ge=0)
    job_memory_warn_mb: float = 500
    # LiveKit runs each call in its own process (isolation; ~170 MB of its own per call, see
    # bench/agent_memory.py). "thread" packs calls into one process when memory is the limit.
    job_executor: Literal["process", "thread"] = "process"
    health_port: int = 8081
    # The first language of the apology to a number no office owns when the call's numbers say
    # nothing of its region (`mla_core.core.regions`); English always follows.
    apology_language: LanguageCode = "hi"
    # The most the greeting waits for the caller's memory (`mla_core.memory`): the read takes a few ms
    # (bench/caller_memory.py); a database this slow answers the call without it rather than in silence.
    memory_load_timeout: float = Field(default=1.0, gt=0)

    # Turn-taking for phone callers (see agent_pool.voice.turn_handling).
    endpointing_min_delay: float = Field(default=0.6, ge=0)
    endpointing_max_delay: float = Field(default=3.0, gt=0)
    # Three, so a two-word backchannel ("haan ji", "சரி சரி") does not stop the agent; a real sentence
    # stops it at its third word (docs/voice-testing.md).
    interruption_min_words: int = Field(default=3, ge=0)
    interruption_min_duration: float = Field(default=0.6, ge=0)
    false_interruption_timeout: float = Field(default=1.5, gt=0)


@lru_cache(maxsize=1)
def get_worker_settings() -> WorkerSettings:
    return WorkerSettings()


class NotetakerSettings(BaseSettings):
    """The note-taker worker's knobs (`NOTETAKER_*`): its own pods, sized by participants, not calls."""

    model_config = SettingsConfigDict(env_prefix="NOTETAKER_", extra="ignore", case_sensitive=False)

    # A janata darbar runs for hours: a rollout lets a meeting in progress run this long before the
    # worker stops (its segments are stored as they come, so a stop loses at most the last second).
    drain_timeout: int = Field(default=4 * 3600, ge=0)
    load_threshold: float = Field(default=0.7, gt=0, le=1)
    num_idle_processes: int | None = Field(default=None, ge=0)
    # One process per meeting; it grows with its participants (an STT stream and a session each).
    job_memory_warn_mb: float = 1000
    job_executor: Literal["process", "thread"] = "process"
    health_port: int = 8081
    # Final segments wait this long to be stored together (a burst of speakers, one transaction); the
    # live page shows them this much later at most.
    batch_wait: float = Field(default=0.25, ge=0)
    batch_size: int = Field(default=100, ge=1, le=1000)
    # A failed write is retried (its segments keep their keys: a retry stores each once) every this many
    # seconds; on shutdown the last ones are retried for at most `flush_timeout`.
    retry_wait: float = Field(default=1.0, gt=0)
    flush_timeout: float = Field(default=30.0, ge=0)


@lru_cache(maxsize=1)
def get_notetaker_settings() -> NotetakerSettings:
    return NotetakerSettings()
