"""What the agent says without the LLM, in each language it speaks.

Fixed sentences are spoken with `session.say`: they cost no LLM round trip, cannot be
hallucinated, and the DPDP notice and the apology must be exactly what was approved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from mla_core.agents.config import AgentConfig

LANGUAGE_NAMES = {"ta": "Tamil", "hi": "Hindi", "en": "English"}

# What a caller (or the LLM relaying them) may call each language.
_LANGUAGE_ALIASES = {
    "ta": ("ta", "ta-in", "tamil", "tamizh", "thamizh", "தமிழ்"),
    "hi": ("hi", "hi-in", "hindi", "हिंदी", "हिन्दी"),
    "en": ("en", "en-in", "english", "angrezi", "अंग्रेज़ी", "अंग्रेजी", "ஆங்கிலம்"),
}
_BY_ALIAS = {alias.casefold(): code for code, aliases in _LANGUAGE_ALIASES.items() for alias in aliases}

# A number nobody owns: said in Hindi and English, since we know no tenant's language.
REJECTION = (
    "क्षमा करें, यह नंबर अभी सेवा में नहीं है। कृपया बाद में कॉल करें। "
    "Sorry, this number is not in service right now. Please call again later."
)

# A paused office: said in its first language, with its own voice (the office chose to pause).
PAUSED = {
    "ta": "வணக்கம். {constituency} அலுவலகம் இப்போது அழைப்புகளை ஏற்கவில்லை. தயவுசெய்து பின்னர் அழைக்கவும்.",
    "hi": "नमस्ते। {constituency} कार्यालय अभी कॉल नहीं ले रहा है। कृपया बाद में कॉल करें।",
    "en": "Hello. The {constituency} office is not taking calls right now. Please call again later.",
}

# Neither Redis nor Postgres answered, so we cannot tell whose number this is: the same two languages.
TEMPORARY_FAILURE = (
    "क्षमा करें, अभी तकनीकी समस्या है। कृपया कुछ मिनट बाद फिर से कॉल करें। "
    "Sorry, we have a technical problem right now. Please call again in a few minutes."
)

_STATUS = {
    "en": {
        "new": "registered", "acknowledged": "acknowledged", "assigned": "assigned to an officer",
        "in_progress": "in progress", "resolved": "resolved", "closed": "closed",
        "duplicate": "merged with an earlier complaint", "transferred": "transferred to the right department",
        "reopened": "reopened",
    },
    "hi": {
        "new": "दर्ज", "acknowledged": "स्वीकार की गई", "assigned": "अधिकारी को सौंपी गई",
        "in_progress": "प्रगति पर", "resolved": "हल हो गई", "closed": "बंद",
        "duplicate": "पुरानी शिकायत से जोड़ी गई", "transferred": "संबंधित विभाग को भेजी गई",
        "reopened": "फिर से खोली गई",
    },
    "ta": {
        "new": "பதிவு செய்யப்பட்டுள்ளது", "acknowledged": "ஏற்றுக்கொள்ளப்பட்டுள்ளது",
        "assigned": "அதிகாரியிடம் ஒப்படைக்கப்பட்டுள்ளது", "in_progress": "நடவடிக்கையில் உள்ளது",
        "resolved": "தீர்க்கப்பட்டது", "closed": "முடிக்கப்பட்டது",
        "duplicate": "முந்தைய புகாருடன் இணைக்கப்பட்டது", "transferred": "உரிய துறைக்கு அனுப்பப்பட்டது",
        "reopened": "மீண்டும் திறக்கப்பட்டது",
    },
}  # fmt: skip

_COMPLAINT_LINE = {
    "en": "Your complaint {reference} about {category} is {status}.",
    "hi": "{category} के बारे में आपकी शिकायत {reference} {status} है।",
    "ta": "{category} பற்றிய உங்கள் புகார் எண் {reference} {status}.",
}

_OPEN_COMPLAINTS_QUESTION = {
    "en": "Are you calling about this, or about something new?",
    "hi": "क्या आप इसी बारे में कॉल कर रहे हैं, या कोई नई शिकायत है?",
    "ta": "இதைப் பற்றி அழைக்கிறீர்களா, அல்லது புதிய புகாரா?",
}


class ComplaintSummary(Protocol):
    """What a sentence about a complaint needs (`mla_core.complaints.intake.ComplaintView` has it)."""

    @property
    def reference(self) -> int: ...
    @property
    def category(self) -> str: ...
    @property
    def status(self) -> str: ...


def language_code(name: str) -> str | None:
    """`"Tamil"`, `"தமிழ்"`, `"ta-IN"` → `"ta"`; None for a language we do not speak."""
    return _BY_ALIAS.get(" ".join(name.split()).casefold())


def spoken_digits(reference: int | str) -> str:
    """`4821` → `"4 8 2 1"`: a TTS reads single digits slowly instead of "four thousand…"."""
    return " ".join(str(reference))


def status_name(status: str, language: str) -> str:
    return _STATUS.get(language, _STATUS["en"]).get(status, status.replace("_", " "))


def category_name(config: AgentConfig, code: str, language: str) -> str:
    for category in config.categories:
        if category.code == code:
            return category.names.get(language) or category.names.get("en") or code
    return code


def complaint_line(config: AgentConfig, complaint: ComplaintSummary, language: str) -> str:
    template = _COMPLAINT_LINE.get(language, _COMPLAINT_LINE["en"])
    return template.format(
        reference=spoken_digits(complaint.reference),
        category=category_name(config, complaint.category, language),
        status=status_name(complaint.status, language),
    )


def open_complaints_summary(config: AgentConfig, complaints: Iterable[ComplaintSummary], language: str) -> str:
    """What a returning caller hears right after the greeting; empty when nothing is open."""
    lines = [complaint_line(config, complaint, language) for complaint in complaints]
    if not lines:
        return ""
    return " ".join([*lines, _OPEN_COMPLAINTS_QUESTION.get(language, _OPEN_COMPLAINTS_QUESTION["en"])])
