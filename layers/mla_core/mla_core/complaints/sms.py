"""SMS to constituents: DLT-registered templates in the caller's language, through SNS.

Which SMS a complaint gets, in which language and with which words, is decided by plain functions
(`confirmation`, `status_update`). Each `{#var#}` carries only what a DLT template's variable may:
the reference's digits, and a category or constituency name of at most `DLT_VARIABLE_LIMIT`
letters, digits and spaces of our scripts (the rule of `mla_core.agents.config.sms_text_problem`),
checked here, when the SMS is built, whatever config it comes from. A failed SMS never loses or blocks the complaint: the
notification row records the failure and `retry_failed` sends it again later (the
notification-retry function runs it on a schedule).
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass

from mla_core.adapters import Services
from mla_core.agents.config import (
    DEFAULT_CATEGORIES,
    DEFAULT_SMS_TEMPLATES,
    DLT_VARIABLE_LIMIT,
    MAX_DIGITS_IN_SMS_TEXT,
    SMS_TEXT_PUNCTUATION,
    AgentConfig,
    SmsTemplate,
    in_our_scripts,
    sms_text_problem,
)
from mla_core.agents.routing import active_agent_configs
from mla_core.complaints import store
from mla_core.complaints.models import Complaint, ComplaintRow
from mla_core.core.errors import AppError
from mla_core.core.privacy import mask_phone

logger = logging.getLogger(__name__)

PURPOSE = "complaint_registered"
MAX_ATTEMPTS = 5

# A category whose name an SMS may not carry is named as the default list names its code, or "other".
_DEFAULT_NAMES = {category.code: category.names for category in DEFAULT_CATEGORIES}
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Sms:
    """One SMS about a complaint, as its notification row records it."""

    reference: int
    to: str
    purpose: str
    language: str
    body: str
    template_id: str


def render(template: str, values: list[str]) -> str:
    """Fill a DLT template's `{#var#}` slots in order, each cut to the operators' limit."""
    body = template
    for value in values:
        body = body.replace("{#var#}", value[:DLT_VARIABLE_LIMIT].rstrip(), 1)
    return body


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


def reference_digits(reference: int) -> str:
    return str(int(reference))


def _language(template: SmsTemplate, language: str | None) -> str:
    """The caller's language if the template has it, else English."""
    return language if language in template.bodies else "en"


def confirmation(config: AgentConfig, complaint: Complaint) -> Sms | None:
    """The confirmation with the reference number, in the caller's language if we have it, to the
    caller's number or the callback number a hidden caller gave (None when there is neither, or
    the call's SMS were used up: `Complaint.sms_confirmation`)."""
    to = complaint.caller_number or complaint.callback_number
    if not to or not complaint.sms_confirmation:
        return None
    template = config.sms.templates[PURPOSE]
    language = _language(template, complaint.language)
    values = [
        category_name(config, complaint.category, language),
        plain_text(config.constituency),
        reference_digits(complaint.reference),
    ]
    return Sms(
        reference=complaint.reference,
        to=to,
        purpose=PURPOSE,
        language=language,
        body=render(template.bodies[language], values),
        template_id=template.dlt_template_id,
    )


def status_update(config: AgentConfig, complaint: ComplaintRow, status: str) -> Sms | None:
    """The SMS for a move to `status`, when the office sends one for it and the constituent's number
    (the caller's, or the callback number a hidden caller gave) is known."""
    number, purpose = complaint["caller_number"] or complaint.get("callback_number"), f"complaint_{status}"
    template = config.sms.templates.get(purpose) or DEFAULT_SMS_TEMPLATES.get(purpose)
    if status not in config.sms.notify_on or not number or template is None:
        return None
    language = _language(template, complaint["language"])
    values = [
        reference_digits(complaint["reference"]),
        category_name(config, complaint["category"], language),
        plain_text(config.constituency),
    ]
    return Sms(
        reference=complaint["reference"],
        to=number,
        purpose=purpose,
        language=language,
        body=render(template.bodies[language], values),
        template_id=template.dlt_template_id,
    )


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
    _record_and_send(services, config, confirmation(config, complaint))


def notify_status(services: Services, config: AgentConfig, complaint: ComplaintRow, status: str) -> None:
    """Send the constituent's SMS for a status change, when the tenant sends one for `status`."""
    _record_and_send(services, config, status_update(config, complaint, status))


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
