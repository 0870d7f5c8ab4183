"""The production voice stack: the only module that constructs vendor plugins.

Deepgram nova-3 (or Sarvam) hears, OpenAI thinks, Cartesia sonic-3 (or Sarvam) speaks, Silero
(loaded once per process) detects speech. LiveKit registers a plugin when it is imported, which
must happen on the main thread before any job starts: the worker imports this module at load.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from livekit.agents import llm, stt, tts, vad
from livekit.plugins import cartesia, deepgram, openai, sarvam, silero

from mla_core.agents.config import AgentConfig, LanguageProfile, LlmSettings
from mla_core.core.languages import sarvam_code

# Cartesia returns word timestamps for a few European languages only; asking for them in Hindi or
# Tamil just logs a warning per utterance.
_CARTESIA_TIMESTAMP_LANGUAGES = {"en", "de", "es", "fr"}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


class PluginVoiceStack:
    """LiveKit plugins configured from the tenant's language profiles (see `agent_pool.voice.VoiceStack`)."""

    def stt(self, profile: LanguageProfile, config: AgentConfig) -> stt.STT:
        settings = profile.stt
        if settings.provider == "sarvam":
            model = settings.model if settings.model.startswith(("saaras", "saarika")) else "saaras:v3"
            return sarvam.STT(language=sarvam_code(settings.language), model=model)
        # Callers say the constituency's and the MLA's names; boosting them helps nova-3 spell them.
        keyterms = [term for term in (config.constituency, config.mla_name) if term]
        return deepgram.STT(model=settings.model, language=settings.language, numerals=True, keyterm=keyterms)

    def tts(self, profile: LanguageProfile) -> tts.TTS:
        settings = profile.tts
        if settings.provider == "sarvam":
            model = settings.model if settings.model.startswith("bulbul") else "bulbul:v3"
            speaker = None if _UUID.match(settings.voice) else settings.voice  # a Cartesia voice id: use the default
            return sarvam.TTS(target_language_code=sarvam_code(settings.language), model=model, speaker=speaker)
        return cartesia.TTS(
            model=settings.model,
            voice=settings.voice,
            language=settings.language,
            word_timestamps=settings.language in _CARTESIA_TIMESTAMP_LANGUAGES,
        )


# Deepgram nova-3's `multi` model hears Hindi and English in one stream, and not Tamil (a Tamil meeting is
# heard as Tamil: nova-3 monolingual `ta`).
_DEEPGRAM_MULTI = {"hi", "en"}


class PluginMeetingVoice:
    """The note-taker's plugins (see `agent_pool.voice.MeetingVoice`): Deepgram nova-3 streaming for each
    participant, diarized on a hall microphone; the office's voices for the announcements."""

    def __init__(self) -> None:
        self._voices = PluginVoiceStack()

    def stt(self, identity: str, profile: LanguageProfile, languages: Sequence[str], *, diarize: bool) -> stt.STT:
        settings = profile.stt
        if settings.provider == "sarvam" and not diarize:
            model = settings.model if settings.model.startswith(("saaras", "saarika")) else "saaras:v3"
            return sarvam.STT(language=sarvam_code(settings.language), model=model)
        # Diarization needs Deepgram's live socket (the plugin ignores it when not streaming).
        spoken = set(languages)
        language = "multi" if len(spoken) > 1 and spoken <= _DEEPGRAM_MULTI else settings.language
        model = settings.model if settings.provider == "deepgram" else "nova-3"
        return deepgram.STT(model=model, language=language, enable_diarization=diarize, smart_format=True)

    def tts(self, profile: LanguageProfile) -> tts.TTS:
        return self._voices.tts(profile)


def build_llm(settings: LlmSettings) -> llm.LLM:
    """The tenant's LLM. One tool call at a time: logging a complaint and hanging up must not race."""
    return openai.LLM(
        model=settings.model, temperature=settings.temperature, parallel_tool_calls=False, max_completion_tokens=400
    )


def load_vad() -> vad.VAD:
    """Silero VAD from the model file shipped in the plugin's wheel (no download)."""
    return silero.VAD.load(min_silence_duration=0.45, activation_threshold=0.55)
