"""SMS to constituents: DLT-registered templates in the caller's language, through SNS.

Every SMS is one of `TEMPLATES`: a text per message and language with named slots
(`{constituency}`, `{reference}`, ...), registered with TRAI DLT as that text with `{#var#}` in each
slot (`Template.dlt_text`; `registration_list` lists them), under its own template id
(`Settings.sms_template_ids`: one per message and language). `render` fills the slots and nothing
else, so a body matches its registered template (`Template.pattern`, what the operators check).

Which SMS a complaint gets, in which language and with which words, is decided by plain functions
(`confirmation`, `status_update`). Each slot carries only what a DLT variable may: the reference's
digits, or a name of at most `DLT_VARIABLE_LIMIT` letters, digits and spaces of our scripts (the rule
of `mla_core.core.sms_text.sms_text_problem`), checked here, when the SMS is built, whatever config
it comes from. Names go where any script reads naturally: the office as a header ("MLA office,
Mylapore:"), a department after a colon; the constituency in Tamil or Hindi letters when the
agent config has it (`constituency_local`), else as the office writes it. A failed SMS never loses
or blocks the complaint: the notification row records the failure and `retry_failed` sends it
again later (the notification-retry function runs it on a schedule).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from mla_core.adapters import Services
from mla_core.agents.config import DEFAULT_CATEGORIES, AgentConfig
from mla_core.agents.routing import active_agent_configs
from mla_core.complaints import store
from mla_core.complaints.models import Complaint, ComplaintRow
from mla_core.core.errors import AppError
from mla_core.core.fields import written_number
from mla_core.core.privacy import mask_phone
from mla_core.core.sms_text import (
    DLT_VARIABLE_LIMIT,
    MAX_DIGITS_IN_SMS_TEXT,
    SMS_TEXT_PUNCTUATION,
    in_our_scripts,
    sms_text_problem,
)

logger = logging.getLogger(__name__)

PURPOSE = "complaint_registered"
MAX_ATTEMPTS = 5
DLT_VARIABLE = "{#var#}"
NO_IDS: Mapping[str, str] = MappingProxyType({})

# A category whose name an SMS may not carry is named as the default list names its code, or "other".
_DEFAULT_NAMES = {category.code: category.names for category in DEFAULT_CATEGORIES}
_SPACES = re.compile(r"\s+")
_SLOT = re.compile(r"\{([a-z_]+)\}")
# Each script's letters, to tell a local-script name in the language from one in another script.
_SCRIPTS = {"ta": (0x0B80, 0x0BFF), "hi": (0x0900, 0x097F)}


@dataclass(frozen=True)
class Template:
    """One DLT content template: a message in one language, its variable parts as named slots."""

    purpose: str
    language: str
    text: str

    @property
    def slots(self) -> tuple[str, ...]:
        return tuple(_SLOT.findall(self.text))

    @property
    def dlt_text(self) -> str:
        """The text to register with DLT: `{#var#}` in each slot."""
        return _SLOT.sub(DLT_VARIABLE, self.text)

    @property
    def pattern(self) -> re.Pattern[str]:
        """What the operators accept for this template: its fixed text exactly, each variable up to
        the limit."""
        fixed = (re.escape(part) for part in self.dlt_text.split(DLT_VARIABLE))
        return re.compile(f"(?s:.{{1,{DLT_VARIABLE_LIMIT}}})".join(fixed))

    def render(self, values: Mapping[str, str]) -> str:
        """The body: each slot filled with its value cut to the DLT limit (a `KeyError` for a
        missing one, never a slot left as it is)."""
        return _SLOT.sub(lambda slot: cut(values[slot.group(1)]), self.text)


_TA_ASK = "விவரம் அறிய, {office_number} எண்ணை அழைத்து புகார் எண்ணைச் சொல்லுங்கள்."
_HI_ASK = "जानकारी के लिए {office_number} पर कॉल करके शिकायत संख्या बताएं।"
_EN_ASK = "To ask about it, call {office_number} and say this reference."

_TEXTS: dict[str, dict[str, str]] = {
    "complaint_registered": {
        "en": "MLA office, {constituency}: your complaint about {category} is registered. Reference {reference}. "
        + _EN_ASK,
        "ta": "எம்எல்ஏ அலுவலகம், {constituency}: உங்கள் {category} புகார் பதிவு செய்யப்பட்டது. புகார் எண் {reference}. " + _TA_ASK,
        "hi": "विधायक कार्यालय, {constituency}: आपकी {category} संबंधी शिकायत दर्ज हो गई है। "
        "शिकायत संख्या {reference}। " + _HI_ASK,
    },
    "complaint_assigned": {
        "en": "MLA office, {constituency}: your complaint {reference} ({category}) is now with an officer. " + _EN_ASK,
        "ta": "எம்எல்ஏ அலுவலகம், {constituency}: உங்கள் {category} புகார் (எண் {reference}) "
        "ஒரு அலுவலரிடம் ஒப்படைக்கப்பட்டது. " + _TA_ASK,
        "hi": "विधायक कार्यालय, {constituency}: आपकी {category} संबंधी शिकायत (संख्या {reference}) "
        "एक अधिकारी को सौंपी गई है। " + _HI_ASK,
    },
    "complaint_resolved": {
        "en": "MLA office, {constituency}: your complaint {reference} ({category}) is resolved. "
        "If it is not, call {office_number} and say this reference.",
        "ta": "எம்எல்ஏ அலுவலகம், {constituency}: உங்கள் {category} புகார் (எண் {reference}) தீர்க்கப்பட்டது. "
        "தீரவில்லை என்றால், {office_number} எண்ணை அழைத்து புகார் எண்ணைச் சொல்லுங்கள்.",
        "hi": "विधायक कार्यालय, {constituency}: आपकी {category} संबंधी शिकायत (संख्या {reference}) का समाधान हो गया है। "
        "समस्या बनी है तो {office_number} पर कॉल करके शिकायत संख्या बताएं।",
    },
    "complaint_transferred": {
        "en": "MLA office, {constituency}: your complaint {reference} ({category}) is sent for action to: "
        "{department}. " + _EN_ASK,
        "ta": "எம்எல்ஏ அலுவலகம், {constituency}: உங்கள் {category} புகார் (எண் {reference}) "
        "நடவடிக்கைக்காக அனுப்பப்பட்டது: {department}. " + _TA_ASK,
        "hi": "विधायक कार्यालय, {constituency}: आपकी {category} संबंधी शिकायत (संख्या {reference}) "
        "कार्रवाई के लिए भेजी गई है: {department}। " + _HI_ASK,
    },
}
#: Every SMS we send, by (purpose, language): what is registered with DLT.
TEMPLATES: dict[tuple[str, str], Template] = {
    (purpose, language): Template(purpose, language, text)
    for purpose, texts in _TEXTS.items()
    for language, text in texts.items()
}
# What an SMS says to call when the agent has no number of its own.
_THE_OFFICE = {"en": "the MLA office", "ta": "எம்எல்ஏ அலுவலக", "hi": "विधायक कार्यालय"}
# A transfer stored without the authority's name (none is accepted now) names it in general words.
_SOME_DEPARTMENT = {"en": "the department concerned", "ta": "உரிய துறை", "hi": "संबंधित विभाग"}


@dataclass(frozen=True)
class Sms:
    """One SMS about a complaint, as its notification row records it."""

    reference: int
    to: str
    purpose: str
    language: str
    body: str
    template_id: str


def cut(value: str) -> str:
    """`value` within the DLT variable limit: at a word's end when one is near, else at the limit."""
    value = value.strip()
    if len(value) <= DLT_VARIABLE_LIMIT:
        return value
    head = value[: DLT_VARIABLE_LIMIT + 1]
    at_space = head.rfind(" ")
    return (head[:at_space] if at_space >= DLT_VARIABLE_LIMIT // 2 else head[:DLT_VARIABLE_LIMIT]).rstrip()


def template_id(ids: Mapping[str, str], purpose: str, language: str) -> str:
    """The DLT id of the template for `purpose` in `language` (`Settings.sms_template_ids`; a
    `<purpose>.*` key stands for every language without its own), "" when none is set."""
    return ids.get(f"{purpose}.{language}") or ids.get(f"{purpose}.*", "")


def registration_list() -> list[tuple[str, str, str]]:
    """(purpose, language, DLT text) for each template: what to register, one template id each."""
    return [(t.purpose, t.language, t.dlt_text) for t in TEMPLATES.values()]


def plain_text(value: str) -> str:
    """`value` as a text variable may carry it: any character but a letter or digit of our scripts
    and the harmless punctuation becomes a space (a link's dots and colons, a symbol, an emoji),
    digits go when there are more than a ward number's, and spaces are collapsed."""
    kept = "".join(ch if in_our_scripts(ch) or ch in SMS_TEXT_PUNCTUATION else " " for ch in value)
    if sum(ch.isdigit() for ch in kept) > MAX_DIGITS_IN_SMS_TEXT:
        kept = "".join(" " if ch.isdigit() else ch for ch in kept)
    return _SPACES.sub(" ", kept).strip()


def category_name(config: AgentConfig, code: str, language: str) -> str:
    """The category's name in `language` (its code without one) when an SMS may carry it as it is;
    else the default list's name for the code, or for "other": never a configured text that breaks
    the rule, however old the config."""
    found = next((c for c in config.categories if c.code == code), None)
    name = (found.names.get(language) or found.code) if found else code
    if sms_text_problem(name, limit=len(name)) is None:
        return name
    names = _DEFAULT_NAMES.get(code) or _DEFAULT_NAMES["other"]
    return names.get(language) or names["en"]


def _in_script(value: str, language: str) -> bool:
    low, high = _SCRIPTS[language]
    return any(low <= ord(ch) <= high for ch in value)


def constituency_name(config: AgentConfig, language: str) -> str:
    """The constituency as an SMS in `language` names it: in Tamil or Hindi letters when the config
    has them (`constituency_local`: one name, or a name per language) and an SMS may carry them as
    they are (`sms_text_problem`), else as the office wrote it, in the words a variable may carry."""
    local = getattr(config, "constituency_local", None)
    candidate = local.get(language) if isinstance(local, Mapping) else local
    if language in _SCRIPTS and isinstance(candidate, str) and _in_script(candidate, language):
        name = candidate.strip()
        if sms_text_problem(name, limit=len(name)) is None:
            return name
    return plain_text(config.constituency) or config.tenant_id


def department_name(transferred_to: str | None, language: str) -> str:
    """The authority the office entered for a transfer, as a variable may carry it."""
    return plain_text(transferred_to or "") or _SOME_DEPARTMENT[language]


def reference_digits(reference: int) -> str:
    return str(int(reference))


def _template(purpose: str, language: str | None) -> Template:
    """The caller's language if the message has it, else English."""
    return TEMPLATES.get((purpose, language or "")) or TEMPLATES[(purpose, "en")]


def _sms(template: Template, reference: int, to: str, values: dict[str, str], ids: Mapping[str, str]) -> Sms:
    return Sms(
        reference=reference,
        to=to,
        purpose=template.purpose,
        language=template.language,
        body=template.render(values),
        template_id=template_id(ids, template.purpose, template.language),
    )


def office_number(config: AgentConfig, language: str) -> str:
    """The number a constituent calls to ask about a complaint, as people write it: the office's first
    (whether the complaint came by a call or was typed in at the office, the SMS names it); an agent
    without a number of its own names the office in words."""
    if config.phone_numbers:
        return written_number(config.phone_numbers[0])
    return _THE_OFFICE.get(language, _THE_OFFICE["en"])


def confirmation(config: AgentConfig, complaint: Complaint, ids: Mapping[str, str] = NO_IDS) -> Sms | None:
    """The confirmation with the reference number, in the caller's language if we have it, to the
    caller's number or the callback number a hidden caller gave (None when there is neither, or
    the call's SMS were used up: `Complaint.sms_confirmation`). `ids`: `Settings.sms_template_ids`."""
    to = complaint.caller_number or complaint.callback_number
    if not to or not complaint.sms_confirmation:
        return None
    template = _template(PURPOSE, complaint.language)
    values = {
        "constituency": constituency_name(config, template.language),
        "category": category_name(config, complaint.category, template.language),
        "reference": reference_digits(complaint.reference),
        "office_number": office_number(config, template.language),
    }
    return _sms(template, complaint.reference, to, values, ids)


def status_update(
    config: AgentConfig, complaint: ComplaintRow, status: str, ids: Mapping[str, str] = NO_IDS
) -> Sms | None:
    """The SMS for a move to `status`, when the office sends one for it and the constituent's number
    (the caller's, or the callback number a hidden caller gave) is known; a transfer names the
    authority the office entered. `ids`: `Settings.sms_template_ids`."""
    number, purpose = complaint["caller_number"] or complaint.get("callback_number"), f"complaint_{status}"
    if status not in config.sms.notify_on or not number or (purpose, "en") not in TEMPLATES:
        return None
    template = _template(purpose, complaint["language"])
    values = {
        "constituency": constituency_name(config, template.language),
        "category": category_name(config, complaint["category"], template.language),
        "reference": reference_digits(complaint["reference"]),
        "department": department_name(complaint.get("transferred_to"), template.language),
        "office_number": office_number(config, template.language),
    }
    return _sms(template, complaint["reference"], number, values, ids)


def _record_and_send(services: Services, config: AgentConfig, sms: Sms | None) -> None:
    """The notification row first (so a failure is visible and retried), then the SMS."""
    if sms is None:
        return
    with services.db.transaction() as conn:
        notification_id = store.record_sms(
            conn,
            config.tenant_id,
            sms.reference,
            to=sms.to,
            purpose=sms.purpose,
            language=sms.language,
            body=sms.body,
            template_id=sms.template_id,
        )
    if notification_id is not None:
        _send(services, config, notification_id, sms.to, sms.body, sms.template_id)


def confirm_complaint(services: Services, config: AgentConfig, complaint: Complaint) -> None:
    """Send the confirmation; a failure is recorded on the row, never raised."""
    _record_and_send(services, config, confirmation(config, complaint, services.settings.sms_template_ids))


def notify_status(services: Services, config: AgentConfig, complaint: ComplaintRow, status: str) -> None:
    """Send the constituent's SMS for a status change, when the tenant sends one for `status`."""
    ids = services.settings.sms_template_ids
    _record_and_send(services, config, status_update(config, complaint, status, ids))


def _send(
    services: Services, config: AgentConfig, notification_id: uuid.UUID, to: str, body: str, template_id: str
) -> bool:
    try:
        message_id = services.sms.send(to, body, entity_id=config.sms.dlt_entity_id, template_id=template_id)
    except AppError as exc:
        with services.db.transaction() as conn:
            store.mark_failed(conn, config.tenant_id, notification_id, exc.message)
        logger.warning("sms failed", extra={"tenant_id": config.tenant_id, "to": mask_phone(to), "error": exc.message})
        return False
    with services.db.transaction() as conn:
        store.mark_sent(conn, config.tenant_id, notification_id, message_id)
    return True


def retry_failed(services: Services, config: AgentConfig) -> int:
    """Send again the tenant's SMS that failed (up to MAX_ATTEMPTS each); returns how many went out."""
    with services.db.transaction() as conn:
        rows = store.failed_sms(conn, config.tenant_id, max_attempts=MAX_ATTEMPTS)
    return sum(_send(services, config, r["id"], r["recipient"], r["body"], r["template_id"] or "") for r in rows)


def retry_all_failed(services: Services) -> dict[str, int]:
    """Every active tenant's failed SMS, sent again (bounded attempts per message): what the
    notification-retry function runs on a schedule, and `cli retry-sms`."""
    configs = active_agent_configs(services)
    sent = sum(retry_failed(services, config) for config in configs)
    return {"tenants": len(configs), "sms_sent": sent}
