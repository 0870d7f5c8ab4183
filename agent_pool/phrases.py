"""What the agent says without the LLM, in each language it speaks.

Fixed sentences are spoken with `session.say`: they cost no LLM round trip, cannot be
hallucinated, and the DPDP notice and the apology must be exactly what was approved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from mla_core.agents.config import PAUSED_MESSAGES, AgentConfig

LANGUAGE_NAMES = {"ta": "Tamil", "hi": "Hindi", "en": "English"}

# What a caller (or the LLM relaying them) may call each language.
_LANGUAGE_ALIASES = {
    "ta": ("ta", "ta-in", "tamil", "tamizh", "thamizh", "தமிழ்"),
    "hi": ("hi", "hi-in", "hindi", "हिंदी", "हिन्दी"),
    "en": ("en", "en-in", "english", "angrezi", "अंग्रेज़ी", "अंग्रेजी", "ஆங்கிலம்"),
}
_BY_ALIAS = {alias.casefold(): code for code, aliases in _LANGUAGE_ALIASES.items() for alias in aliases}

# A number nobody owns: we know no tenant's language, so the call's region picks the first language
# (`mla_core.core.regions`) and English comes second.
_REJECTION = {
    "ta": "மன்னிக்கவும், இந்த எண் இப்போது சேவையில் இல்லை. தயவுசெய்து பின்னர் அழைக்கவும்.",
    "hi": "क्षमा करें, यह नंबर अभी सेवा में नहीं है। कृपया बाद में कॉल करें।",
    "en": "Sorry, this number is not in service right now. Please call again later.",
}

# A paused office: said in its first language, with its own voice (the office chose to pause); the
# agents page shows the same words before a pause (`mla_core.agents.config.PAUSED_MESSAGES`).
PAUSED = PAUSED_MESSAGES

# Neither Redis nor Postgres answered, so we cannot tell whose number this is: the same languages.
_TEMPORARY_FAILURE = {
    "ta": "மன்னிக்கவும், இப்போது தொழில்நுட்பக் கோளாறு உள்ளது. தயவுசெய்து சில நிமிடங்கள் கழித்து மீண்டும் அழைக்கவும்.",
    "hi": "क्षमा करें, अभी तकनीकी समस्या है। कृपया कुछ मिनट बाद फिर से कॉल करें।",
    "en": "Sorry, we have a technical problem right now. Please call again in a few minutes.",
}


def rejection(languages: Iterable[str]) -> str:
    """The apology to a number nobody owns, in `languages` in order (`core.regions.apology_languages`)."""
    return " ".join(_in(_REJECTION, language) for language in languages)


def temporary_failure(languages: Iterable[str]) -> str:
    """The apology when whose number it is cannot be told (the stores are down), in `languages` in order."""
    return " ".join(_in(_TEMPORARY_FAILURE, language) for language in languages)


# The sentences as said when the call tells us nothing (the platform's default, Hindi, first).
REJECTION = " ".join((_REJECTION["hi"], _REJECTION["en"]))
TEMPORARY_FAILURE = " ".join((_TEMPORARY_FAILURE["hi"], _TEMPORARY_FAILURE["en"]))

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


# A hidden caller's callback number, read back by the tool itself (digits the LLM cannot garble).
_CALLBACK_READ_BACK = {
    "en": "I heard the number {digits}. Is that right?",
    "hi": "आपने नंबर {digits} बताया। क्या यह सही है?",
    "ta": "நீங்கள் சொன்ன எண் {digits}. இது சரியா?",
}

_ONE_CALLBACK_NUMBER = {
    "en": "Sorry, on this call the SMS can only go to the number you confirmed, ending in {digits}.",
    "hi": "क्षमा करें, इस कॉल में SMS सिर्फ़ आपके पुष्टि किए गए नंबर पर जा सकता है, जिसके आखिरी अंक {digits} हैं।",
    "ta": "மன்னிக்கவும், இந்த அழைப்பில் நீங்கள் உறுதிசெய்த, {digits} என்று முடியும் எண்ணுக்கு மட்டுமே SMS அனுப்ப முடியும்.",
}

_COMPLAINT_LIMIT = {
    "en": "Sorry, I can register up to {n} complaints in one call. Please call again for any other problem.",
    "hi": "क्षमा करें, एक कॉल में {n} शिकायतें ही दर्ज हो सकती हैं। दूसरी शिकायत के लिए कृपया फिर से कॉल करें।",
    "ta": "மன்னிக்கவும், ஒரு அழைப்பில் {n} புகார்கள் வரை மட்டுமே பதிவு செய்ய முடியும். மற்ற புகாருக்கு தயவுசெய்து மீண்டும் அழைக்கவும்.",
}

_NO_MORE_SMS = {
    "en": "No SMS will be sent for this complaint, so please note its number down.",
    "hi": "इस शिकायत का SMS नहीं भेजा जाएगा, कृपया इसकी संख्या लिख लीजिए।",
    "ta": "இந்த புகாருக்கு SMS அனுப்பப்படாது, தயவுசெய்து அதன் எண்ணைக் குறித்துக்கொள்ளுங்கள்.",
}

_STATUS_LIMIT = {
    "en": "Sorry, I can check up to {n} complaints in one call. Please call again for the others.",
    "hi": "क्षमा करें, एक कॉल में {n} शिकायतों की ही स्थिति बताई जा सकती है। बाकी के लिए कृपया फिर से कॉल करें।",
    "ta": "மன்னிக்கவும், ஒரு அழைப்பில் {n} புகார்களின் நிலையை மட்டுமே பார்க்க முடியும். மற்றவைக்கு தயவுசெய்து மீண்டும் அழைக்கவும்.",
}

# A complaint no caller's number owns, asked about by its reference: its status, not "your" complaint.
_REFERENCE_STATUS_LINE = {
    "en": "Complaint {reference} is {status}.",
    "hi": "शिकायत संख्या {reference} {status} है।",
    "ta": "புகார் எண் {reference} {status}.",
}


# "Forget me" (caller memory): what the office remembered is gone at once, the rest is the office's to erase.
_FORGOTTEN = {
    "en": "What the office remembered about you has been deleted, and your request to delete the rest of your details has been passed to the office.",
    "hi": "कार्यालय को आपके बारे में जो याद था, वह मिटा दिया गया है, और आपकी बाकी जानकारी मिटाने का अनुरोध कार्यालय को भेज दिया गया है।",
    "ta": "அலுவலகம் உங்களைப் பற்றி நினைவில் வைத்திருந்தவை நீக்கப்பட்டன, மீதமுள்ள உங்கள் விவரங்களை நீக்கும் கோரிக்கை அலுவலகத்திற்கு அனுப்பப்பட்டது.",
}

# A hidden number: nothing on this call says whose details are whose, so nothing is deleted or recorded.
_FORGET_HIDDEN = {
    "en": "Your number is hidden on this call, so your details cannot be found from it. Please contact the office directly to have your details deleted.",
    "hi": "इस कॉल पर आपका नंबर छिपा है, इसलिए आपकी जानकारी पहचानी नहीं जा सकती। अपनी जानकारी मिटवाने के लिए कृपया सीधे कार्यालय से संपर्क करें।",
    "ta": "இந்த அழைப்பில் உங்கள் எண் மறைக்கப்பட்டுள்ளது, அதனால் உங்கள் விவரங்களைக் கண்டறிய முடியாது. உங்கள் விவரங்களை நீக்க, தயவுசெய்து அலுவலகத்தை நேரடியாகத் தொடர்புகொள்ளுங்கள்.",
}


class ComplaintSummary(Protocol):
    """What a sentence about a complaint needs (`mla_core.complaints.intake.ComplaintView` has it)."""

    @property
    def reference(self) -> int: ...
    @property
    def category(self) -> str: ...
    @property
    def status(self) -> str: ...


class ComplaintStatusSummary(Protocol):
    """What a sentence about a complaint's status alone needs (`intake.ComplaintStatus` has it)."""

    @property
    def reference(self) -> int: ...
    @property
    def status(self) -> str: ...


def _in(table: dict[str, str], language: str) -> str:
    return table.get(language, table["en"])


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


def callback_read_back(number: str, language: str) -> str:
    """`+919876543210` → "I heard the number 9 8 7 6 5 4 3 2 1 0. Is that right?" in `language`."""
    return _in(_CALLBACK_READ_BACK, language).format(digits=spoken_digits(number.removeprefix("+91")))


def one_callback_number(confirmed: str, language: str) -> str:
    return _in(_ONE_CALLBACK_NUMBER, language).format(digits=spoken_digits(confirmed[-4:]))


def complaint_limit(limit: int, language: str) -> str:
    return _in(_COMPLAINT_LIMIT, language).format(n=limit)


def no_more_sms(language: str) -> str:
    return _in(_NO_MORE_SMS, language)


def status_limit(limit: int, language: str) -> str:
    return _in(_STATUS_LIMIT, language).format(n=limit)


def reference_status_line(complaint: ComplaintStatusSummary, language: str) -> str:
    return _in(_REFERENCE_STATUS_LINE, language).format(
        reference=spoken_digits(complaint.reference), status=status_name(complaint.status, language)
    )


def forgotten(language: str) -> str:
    return _in(_FORGOTTEN, language)


def forget_hidden(language: str) -> str:
    return _in(_FORGET_HIDDEN, language)


# Meetings (the AI note-taker, `agent_pool.meeting`): what it says when it joins and to anyone who joins
# later, in each of the meeting's languages (DPDP: everyone hears that they are recorded), and when the
# host stops the recording. The note-taker says nothing else.
_MEETING_RECORDED = {
    "ta": "இந்தக் கூட்டம் பதிவு செய்யப்படுகிறது. அலுவலகத்தின் பதிவுக்காக, ஒவ்வொருவரும் பேசுவதை ஒரு AI குறிப்பெடுப்பாளர் எழுத்தில் பதிவு செய்கிறது.",
    "hi": "यह बैठक रिकॉर्ड की जा रही है। कार्यालय के रिकॉर्ड के लिए एक AI नोट-टेकर हर व्यक्ति की बात लिख रहा है।",
    "en": "This meeting is being recorded. For the office's records, an AI note-taker is writing down what each person says.",
}
_MEETING_TRANSCRIBED = {
    "ta": "அலுவலகத்தின் பதிவுக்காக, இந்தக் கூட்டத்தில் ஒவ்வொருவரும் பேசுவதை ஒரு AI குறிப்பெடுப்பாளர் எழுத்தில் பதிவு செய்கிறது.",
    "hi": "कार्यालय के रिकॉर्ड के लिए एक AI नोट-टेकर इस बैठक में हर व्यक्ति की बात लिख रहा है।",
    "en": "For the office's records, an AI note-taker is writing down what each person says in this meeting.",
}
_MEETING_RECORDING_STOPPED = {
    "ta": "பதிவும் எழுத்துப் பதிவும் இப்போது நிறுத்தப்பட்டன.",
    "hi": "रिकॉर्डिंग और लिखित रिकॉर्ड अब बंद कर दिए गए हैं।",
    "en": "The recording and the transcript have now stopped.",
}


def meeting_announcement(language: str, *, recorded: bool) -> str:
    """That the meeting is transcribed (and its audio `recorded`), as the note-taker says it in `language`."""
    return _in(_MEETING_RECORDED if recorded else _MEETING_TRANSCRIBED, language)


def meeting_recording_stopped(language: str) -> str:
    return _in(_MEETING_RECORDING_STOPPED, language)
