"""The agent config: what one of a tenant's voice agents needs to answer a call.

An office has a main agent (`<tenant>-main`, made by provisioning) and may add others, each with
its own numbers. Redis holds the hot copy, read on every call (its keys: `mla_core.adapters.upstash`);
`platform.agent_configs` holds the durable copy, from which Redis is rebuilt. `schema_version`
versions the shape; `version` counts edits of one agent's config.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from mla_core.core.fields import Language
from mla_core.core.names import main_agent_id
from mla_core.core.sms_text import sms_text

# What a configurable text may hold: the SMS variable rule is `mla_core.core.sms_text`'s.
CATEGORY_CODE_LIMIT = 40
CATEGORIES_LIMIT = 30
AGENT_NAME_LIMIT = 60
GREETING_LIMIT = 500
VOICE_LIMIT = 100


CategoryCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=CATEGORY_CODE_LIMIT, pattern=r"^[A-Za-z][A-Za-z0-9_]*$"
    ),
]
CategoryName = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(sms_text)]
AgentName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=AGENT_NAME_LIMIT)]
Greeting = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=GREETING_LIMIT)]
# A TTS voice: Cartesia's are UUIDs, Sarvam's speaker names.
VoiceId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=VOICE_LIMIT, pattern=r"^[A-Za-z0-9_.:-]+$")
]


class SttSettings(BaseModel):
    provider: Literal["deepgram", "sarvam"] = "deepgram"
    model: str = "nova-3"
    language: str


class TtsSettings(BaseModel):
    provider: Literal["cartesia", "sarvam"] = "cartesia"
    model: str = "sonic-3"
    voice: str
    language: str


class LlmSettings(BaseModel):
    provider: Literal["openai"] = "openai"
    model: str = "gpt-4.1-mini"
    temperature: float = 0.3


class LanguageProfile(BaseModel):
    """Everything language-specific: what the agent says first and which voice stack it uses."""

    greeting: str
    stt: SttSettings
    tts: TtsSettings


class Category(BaseModel):
    """A category as stored (bounds are checked where one is set: `CategorySetting`)."""

    code: str
    names: dict[str, str]
    sla_days: int = Field(ge=1, le=90)


class CategorySetting(BaseModel):
    """A category as an office sets it: a short code, a name per language that an SMS may carry."""

    model_config = ConfigDict(extra="forbid")

    code: CategoryCode
    names: Annotated[dict[Language, CategoryName], Field(min_length=1)]
    sla_days: int = Field(ge=1, le=90)

    def stored(self) -> Category:
        return Category(code=self.code, names=self.names, sla_days=self.sla_days)


def _distinct_codes(categories: list[CategorySetting]) -> list[CategorySetting]:
    codes = [category.code for category in categories]
    if len(set(codes)) != len(codes):
        raise ValueError("each category needs its own code")
    return categories


CategorySettings = Annotated[
    list[CategorySetting], Field(min_length=1, max_length=CATEGORIES_LIMIT), AfterValidator(_distinct_codes)
]


class SmsSettings(BaseModel):
    sender_id: str
    dlt_entity_id: str = ""
    # Status changes the constituent hears about by SMS (each has its `complaint_<status>` DLT template
    # in `mla_core.complaints.sms.TEMPLATES`; a config stored with the old `templates` key loads as is).
    notify_on: list[str] = ["assigned", "resolved", "transferred"]


class AgentConfig(BaseModel):
    schema_version: Literal[1] = 1
    version: int = 1
    tenant_id: str
    agent_id: str
    name: str = "Main line"
    status: Literal["active", "paused"] = "active"
    mla_name: str
    constituency: str
    # The two names in each language's own script (e.g. {"ta": "மயிலாப்பூர்"}), said in that
    # language's greeting and messages instead of the English letters; a language left out keeps them.
    # Stored as given; an edit checks each with `core.sms_text.LocalName` (the SMS may carry them too).
    mla_name_local: dict[str, str] = {}
    constituency_local: dict[str, str] = {}
    state: str
    phone_numbers: list[str]
    languages: list[str]
    profiles: dict[str, LanguageProfile]
    llm: LlmSettings = LlmSettings()
    categories: list[Category]
    sms: SmsSettings
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def greeting_language(self) -> str:
        return self.languages[0]

    @property
    def is_main(self) -> bool:
        return self.agent_id == main_agent_id(self.tenant_id)

    def mla_name_in(self, language: str) -> str:
        """The MLA's name as said in `language`: its local-script spelling when the office gave one."""
        return self.mla_name_local.get(language) or self.mla_name

    def constituency_in(self, language: str) -> str:
        return self.constituency_local.get(language) or self.constituency


# Cartesia sonic-3 voices; replace per tenant through the agent API.
DEFAULT_VOICES = {
    "ta": "25d2c432-139c-4035-bfd6-9baaabcdd006",
    "hi": "c1abd502-9231-4558-a054-10ac950c356d",
    "en": "f786b574-daa5-4673-aa0c-cbe3e8534c02",
}

# The DPDP notice every call opens with: that the call is recorded, and (caller memory, issue 18) that the
# office remembers the caller's details for their next call.
_RECORDED = {
    "ta": "உங்கள் புகாரைப் பதிவு செய்ய இந்த அழைப்பு பதிவு செய்யப்படுகிறது.",
    "hi": "आपकी शिकायत दर्ज करने के लिए यह कॉल रिकॉर्ड की जा रही है।",
    "en": "This call is recorded to register your complaint.",
}
_REMEMBERED = {
    "ta": "அடுத்த அழைப்புக்காக அலுவலகம் உங்கள் விவரங்களை நினைவில் வைத்திருக்கும்.",
    "hi": "अगली कॉल के लिए कार्यालय आपकी जानकारी याद रखता है।",
    "en": "The office remembers your details for your next call.",
}
RECORDING_NOTICE = {language: f"{_RECORDED[language]} {_REMEMBERED[language]}" for language in _RECORDED}

DEFAULT_GREETINGS = {
    "ta": "வணக்கம்! இது {constituency} சட்டமன்ற உறுப்பினர் {mla_name} அவர்களின் அலுவலகம். {notice} உங்கள் புகார் என்ன?",
    "hi": "नमस्ते! यह {constituency} के विधायक {mla_name} का कार्यालय है। {notice} बताइए, आपकी शिकायत क्या है?",
    "en": "Hello! This is the office of {mla_name}, MLA for {constituency}. {notice} How can we help you today?",
}

# An Indian default list; SLA days stay within CPGRAMS' 21-day ceiling.
DEFAULT_CATEGORIES = [
    Category(code="water", names={"en": "Water supply", "ta": "குடிநீர்", "hi": "पानी"}, sla_days=7),
    Category(code="electricity", names={"en": "Electricity", "ta": "மின்சாரம்", "hi": "बिजली"}, sla_days=7),
    Category(code="roads", names={"en": "Roads", "ta": "சாலை", "hi": "सड़क"}, sla_days=21),
    Category(code="drainage", names={"en": "Drainage", "ta": "வடிகால்", "hi": "नाली"}, sla_days=14),
    Category(code="sanitation", names={"en": "Sanitation", "ta": "சுகாதாரம்", "hi": "सफ़ाई"}, sla_days=7),
    Category(code="streetlights", names={"en": "Streetlights", "ta": "தெருவிளக்கு", "hi": "स्ट्रीट लाइट"},
             sla_days=7),
    Category(code="health", names={"en": "Health", "ta": "சுகாதார சேவை", "hi": "स्वास्थ्य"}, sla_days=14),
    Category(code="education", names={"en": "Education", "ta": "கல்வி", "hi": "शिक्षा"}, sla_days=21),
    Category(code="ration_pds", names={"en": "Ration / PDS", "ta": "ரேஷன்", "hi": "राशन"}, sla_days=14),
    Category(code="pensions_welfare", names={"en": "Pensions / welfare", "ta": "ஓய்வூதியம் / நலத்திட்டம்",
             "hi": "पेंशन / कल्याण"}, sla_days=21),
    Category(code="police", names={"en": "Police", "ta": "காவல்துறை", "hi": "पुलिस"}, sla_days=7),
    Category(code="other", names={"en": "Other", "ta": "மற்றவை", "hi": "अन्य"}, sla_days=21),
]  # fmt: skip

_DEFAULT_NAMES = {category.code: category.names for category in DEFAULT_CATEGORIES}


def category_name(code: str, names: Mapping[str, str] | None, lang: str) -> str:
    """A category in words: the office's name for it in `lang` (else in English), else the default
    list's, else its code made readable (`street_dogs` → "Street dogs")."""
    for known in (names or {}, _DEFAULT_NAMES.get(code, {})):
        if known.get(lang) or known.get("en"):
            return known.get(lang) or known["en"]
    return code.replace("_", " ").strip().capitalize() or code


# What a caller hears while the office's agent is paused (then the call ends): said in the agent's
# greeting language, with its voice; the agents page shows it before a pause.
PAUSED_MESSAGES = {
    "ta": "வணக்கம். {constituency} அலுவலகம் இப்போது அழைப்புகளை ஏற்கவில்லை. தயவுசெய்து பின்னர் அழைக்கவும்.",
    "hi": "नमस्ते। {constituency} कार्यालय अभी कॉल नहीं ले रहा है। कृपया बाद में कॉल करें।",
    "en": "Hello. The {constituency} office is not taking calls right now. Please call again later.",
}


def paused_message(config: AgentConfig) -> tuple[str, str]:
    """What callers of a paused agent hear, and its language (the greeting language)."""
    language = config.greeting_language
    return PAUSED_MESSAGES[language].format(constituency=config.constituency_in(language)), language


def default_greeting(language: str, *, mla_name: str, constituency: str) -> str:
    return DEFAULT_GREETINGS[language].format(
        mla_name=mla_name, constituency=constituency, notice=RECORDING_NOTICE[language]
    )


# The end of a sentence, in the scripts we write (the danda for Hindi).
_SENTENCE_END = re.compile(r"(?<=[.!?।])\s+")


def split_closing_question(greeting: str) -> tuple[str, str]:
    """`"Hello! <notice> How can we help?"` -> `("Hello! <notice>", "How can we help?")`: the greeting
    before its closing question, and the question (empty when the greeting does not end with one)."""
    sentences = _SENTENCE_END.split(" ".join(greeting.split()))
    if sentences and sentences[-1].endswith(("?", "？")):
        return " ".join(sentences[:-1]), sentences[-1]
    return " ".join(sentences), ""


def with_recording_notice(greeting: str, language: str) -> str:
    """A greeting carrying the DPDP recording notice before its closing question (the caller answers
    the question, so nothing may follow it): added when missing, moved when it follows the question
    (as `with_recording_notice` used to add it), else kept where the office wrote it. A greeting stored
    before the notice said that details are remembered gets the whole notice where its first sentence is."""
    notice = RECORDING_NOTICE[language]
    text = " ".join(greeting.split())
    if notice not in text and _RECORDED[language] in text:
        greeting = text = text.replace(_RECORDED[language], notice, 1)
    if notice not in text:
        before = text
    elif text.endswith(notice):
        before = text.removesuffix(notice).rstrip()
        if not split_closing_question(before)[1]:
            return greeting
    else:
        return greeting
    body, question = split_closing_question(before)
    return " ".join(part for part in (body, notice, question) if part)


def spoken_greeting(config: AgentConfig, language: str, greeting: str) -> str:
    """`greeting` as said in `language`: the MLA's and constituency's names in its script when the
    office entered them (a greeting written with the English letters gets them replaced), and the
    recording notice before the closing question."""
    text = greeting
    for english, local in (
        (config.mla_name, config.mla_name_in(language)),
        (config.constituency, config.constituency_in(language)),
    ):
        if english and local != english:
            text = text.replace(english, local)
    return with_recording_notice(text, language)


def without_memory_notice(greeting: str, language: str) -> str:
    """The greeting for a caller whose number is hidden: nothing is remembered of them (memory is keyed
    by the caller's own number), so the notice's sentence saying so is left out."""
    sentence = _REMEMBERED.get(language)
    return " ".join(greeting.replace(sentence, "").split()) if sentence else greeting


def build_default_config(
    *,
    tenant_id: str,
    mla_name: str,
    constituency: str,
    state: str,
    languages: list[str],
    phone_numbers: list[str],
    greeting: str | None,
    sender_id: str,
    dlt_entity_id: str = "",
    mla_name_local: dict[str, str] | None = None,
    constituency_local: dict[str, str] | None = None,
) -> AgentConfig:
    """A new tenant's first agent config: the defaults, in the tenant's languages."""
    profiles = {}
    for position, language in enumerate(languages):
        text = default_greeting(language, mla_name=mla_name, constituency=constituency)
        if greeting and position == 0:
            text = with_recording_notice(greeting, language)
        profiles[language] = LanguageProfile(
            greeting=text,
            stt=SttSettings(language=language),
            tts=TtsSettings(voice=DEFAULT_VOICES[language], language=language),
        )
    return AgentConfig(
        tenant_id=tenant_id,
        agent_id=main_agent_id(tenant_id),
        mla_name=mla_name,
        constituency=constituency,
        mla_name_local=mla_name_local or {},
        constituency_local=constituency_local or {},
        state=state,
        phone_numbers=phone_numbers,
        languages=languages,
        profiles=profiles,
        categories=DEFAULT_CATEGORIES,
        sms=SmsSettings(sender_id=sender_id, dlt_entity_id=dlt_entity_id),
    )
