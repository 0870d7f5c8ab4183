"""The agent config: what one of a tenant's voice agents needs to answer a call.

An office has a main agent (`<tenant>-main`, made by provisioning) and may add others, each with
its own numbers. Redis holds the hot copy, read on every call (its keys: `mla_core.adapters.upstash`);
`platform.agent_configs` holds the durable copy, from which Redis is rebuilt. `schema_version`
versions the shape; `version` counts edits of one agent's config.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from mla_core.core.names import main_agent_id


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
    code: str
    names: dict[str, str]
    sla_days: int = Field(ge=1, le=90)


class SmsTemplate(BaseModel):
    """A DLT-registered template: the body must match the registered text exactly."""

    dlt_template_id: str
    bodies: dict[str, str]


class SmsSettings(BaseModel):
    sender_id: str
    dlt_entity_id: str = ""
    templates: dict[str, SmsTemplate]
    # Status changes the constituent hears about by SMS (each needs a `complaint_<status>` template).
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


# Cartesia sonic-3 voices; replace per tenant through the agent API.
DEFAULT_VOICES = {
    "ta": "25d2c432-139c-4035-bfd6-9baaabcdd006",
    "hi": "c1abd502-9231-4558-a054-10ac950c356d",
    "en": "f786b574-daa5-4673-aa0c-cbe3e8534c02",
}

RECORDING_NOTICE = {
    "ta": "உங்கள் புகாரைப் பதிவு செய்ய இந்த அழைப்பு பதிவு செய்யப்படுகிறது.",
    "hi": "आपकी शिकायत दर्ज करने के लिए यह कॉल रिकॉर्ड की जा रही है।",
    "en": "This call is recorded to register your complaint.",
}

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

DEFAULT_SMS_TEMPLATES = {
    "complaint_registered": SmsTemplate(
        dlt_template_id="",
        bodies={
            "en": "Your complaint {#var#} is registered with the office of {#var#}. Ref: {#var#}",
            "ta": "உங்கள் புகார் {#var#} {#var#} அலுவலகத்தில் பதிவு செய்யப்பட்டது. எண்: {#var#}",
            "hi": "आपकी शिकायत {#var#} {#var#} कार्यालय में दर्ज की गई है। संदर्भ: {#var#}",
        },
    ),
    "complaint_assigned": SmsTemplate(
        dlt_template_id="",
        bodies={
            "en": "Your complaint {#var#} ({#var#}) is assigned to an officer of {#var#}.",
            "ta": "உங்கள் புகார் {#var#} ({#var#}) {#var#} அலுவலக அதிகாரியிடம் ஒப்படைக்கப்பட்டது.",
            "hi": "आपकी शिकायत {#var#} ({#var#}) {#var#} कार्यालय के अधिकारी को सौंपी गई है।",
        },
    ),
    "complaint_resolved": SmsTemplate(
        dlt_template_id="",
        bodies={
            "en": "Your complaint {#var#} ({#var#}) is resolved by the office of {#var#}.",
            "ta": "உங்கள் புகார் {#var#} ({#var#}) {#var#} அலுவலகத்தால் தீர்க்கப்பட்டது.",
            "hi": "आपकी शिकायत {#var#} ({#var#}) का {#var#} कार्यालय द्वारा समाधान किया गया है।",
        },
    ),
    "complaint_transferred": SmsTemplate(
        dlt_template_id="",
        bodies={
            "en": "Your complaint {#var#} ({#var#}) is forwarded by {#var#} to the responsible department.",
            "ta": "உங்கள் புகார் {#var#} ({#var#}) {#var#} அலுவலகத்தால் உரிய துறைக்கு அனுப்பப்பட்டது.",
            "hi": "आपकी शिकायत {#var#} ({#var#}) {#var#} कार्यालय द्वारा संबंधित विभाग को भेजी गई है।",
        },
    ),
}


def default_greeting(language: str, *, mla_name: str, constituency: str) -> str:
    return DEFAULT_GREETINGS[language].format(
        mla_name=mla_name, constituency=constituency, notice=RECORDING_NOTICE[language]
    )


def with_recording_notice(greeting: str, language: str) -> str:
    """A custom greeting still carries the DPDP recording notice."""
    notice = RECORDING_NOTICE[language]
    return greeting if notice in greeting else f"{greeting.rstrip()} {notice}"


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
    dlt_template_ids: dict[str, str] | None = None,
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
        state=state,
        phone_numbers=phone_numbers,
        languages=languages,
        profiles=profiles,
        categories=DEFAULT_CATEGORIES,
        sms=SmsSettings(
            sender_id=sender_id,
            dlt_entity_id=dlt_entity_id,
            templates={
                purpose: template.model_copy(
                    update={"dlt_template_id": (dlt_template_ids or {}).get(purpose, template.dlt_template_id)}
                )
                for purpose, template in DEFAULT_SMS_TEMPLATES.items()
            },
        ),
    )
