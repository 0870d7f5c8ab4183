"""The shape of a call's voice stack, free of vendor SDKs: which profile a language uses, how turns
are taken, and the interface the agent builds its ears and voice through.

The production implementation lives in `agent_pool.plugins`; text mode (the simulator, tests,
benchmarks) has no voice stack at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from livekit.agents import stt, tts
from livekit.agents.voice.turn import TurnHandlingOptions

from agent_pool.settings import WorkerSettings
from agent_pool.turn_end import UnfinishedSentence
from mla_core.agents.config import (
    DEFAULT_VOICES,
    AgentConfig,
    LanguageProfile,
    SttSettings,
    TtsSettings,
    default_greeting,
)


class VoiceStack(Protocol):
    """Builds the per-language ears and voice of a call."""

    def stt(self, profile: LanguageProfile, config: AgentConfig) -> stt.STT: ...

    def tts(self, profile: LanguageProfile) -> tts.TTS: ...


class MeetingVoice(Protocol):
    """Builds the note-taker's ears (one STT per participant) and its voice (the announcements)."""

    def stt(self, identity: str, profile: LanguageProfile, languages: Sequence[str], *, diarize: bool) -> stt.STT:
        """The STT that hears participant `identity` of a meeting held in `languages` (`profile` is the
        office's for the first of them); `diarize` for a hall microphone, where several people speak."""
        ...

    def tts(self, profile: LanguageProfile) -> tts.TTS: ...


def language_profile(config: AgentConfig, language: str) -> LanguageProfile:
    """The tenant's profile for `language`, or the platform default for a language the tenant did
    not list (a caller may still switch to Tamil, Hindi or English)."""
    profile = config.profiles.get(language)
    if profile is not None:
        return profile
    return LanguageProfile(
        greeting=default_greeting(
            language, mla_name=config.mla_name_in(language), constituency=config.constituency_in(language)
        ),
        stt=SttSettings(language=language),
        tts=TtsSettings(voice=DEFAULT_VOICES[language], language=language),
    )


def turn_handling(settings: WorkerSettings, *, text_mode: bool = False) -> TurnHandlingOptions:
    """Turn-taking for phone callers.

    - VAD hears when the caller stopped; the turn ends `endpointing_min_delay` later, unless the
      words so far stop where a sentence cannot end ("the pipe near …"): then it waits up to
      `endpointing_max_delay`, so an elderly caller can think mid-sentence (`agent_pool.turn_end`;
      LiveKit's turn-detector model covers Hindi, not Tamil).
    - An interruption needs `interruption_min_words` words from the STT, so a filler or a two-word
      backchannel ("haan", "haan ji", "சரி சரி", "ok ok") said while the agent talks does not cut it
      off, and a false interruption (noise, a cough) resumes the agent's sentence.
    - Text mode has no audio to find turns in: each `run()` is one turn.
    """
    if text_mode:
        return {"turn_detection": "manual", "preemptive_generation": {"enabled": False}}
    return {
        "turn_detection": UnfinishedSentence(),
        "endpointing": {"min_delay": settings.endpointing_min_delay, "max_delay": settings.endpointing_max_delay},
        "interruption": {
            "enabled": True,
            "mode": "vad",
            "min_words": settings.interruption_min_words,
            "min_duration": settings.interruption_min_duration,
            "false_interruption_timeout": settings.false_interruption_timeout,
            "resume_false_interruption": True,
        },
        "preemptive_generation": {"enabled": True},
    }
