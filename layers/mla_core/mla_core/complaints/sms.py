"""SMS to constituents: DLT-registered templates in the caller's language, through SNS.

Which SMS a complaint gets, in which language and with which words, is decided by plain functions
(`confirmation`, `status_update`). A failed SMS never loses or blocks the complaint: the
notification row records the failure and `retry_failed` sends it again later (the
notification-retry function runs it on a schedule).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from mla_core.adapters import Services
from mla_core.agents.config import DEFAULT_SMS_TEMPLATES, AgentConfig, SmsTemplate
from mla_core.agents.routing import active_agent_configs
from mla_core.complaints import store
from mla_core.complaints.models import Complaint, ComplaintRow
from mla_core.core.errors import AppError
from mla_core.core.privacy import mask_phone

logger = logging.getLogger(__name__)

PURPOSE = "complaint_registered"
MAX_ATTEMPTS = 5
DLT_VARIABLE_LIMIT = 30  # operators cap each {#var#} at 30–40 characters; 30 fits them all


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
        body = body.replace("{#var#}", value[:DLT_VARIABLE_LIMIT], 1)
    return body


def _language_and_category(
    config: AgentConfig, template: SmsTemplate, language: str | None, category: str
) -> tuple[str, str]:
    """The caller's language if the template has it (else English), and the category's name in it."""
    language = language if language in template.bodies else "en"
    found = next((c for c in config.categories if c.code == category), None)
    return language, found.names.get(language, found.code) if found else category


def confirmation(config: AgentConfig, complaint: Complaint) -> Sms | None:
    """The confirmation with the reference number, in the caller's language if we have it (None
    when the caller's number is unknown)."""
    if not complaint.caller_number:
        return None
    template = config.sms.templates[PURPOSE]
    language, category = _language_and_category(config, template, complaint.language, complaint.category)
    return Sms(
        reference=complaint.reference,
        to=complaint.caller_number,
        purpose=PURPOSE,
        language=language,
        body=render(template.bodies[language], [category, config.constituency, str(complaint.reference)]),
        template_id=template.dlt_template_id,
    )


def status_update(config: AgentConfig, complaint: ComplaintRow, status: str) -> Sms | None:
    """The SMS for a move to `status`, when the office sends one for it and the caller's number is known."""
    number, purpose = complaint["caller_number"], f"complaint_{status}"
    template = config.sms.templates.get(purpose) or DEFAULT_SMS_TEMPLATES.get(purpose)
    if status not in config.sms.notify_on or not number or template is None:
        return None
    language, category = _language_and_category(config, template, complaint["language"], complaint["category"])
    return Sms(
        reference=complaint["reference"],
        to=number,
        purpose=purpose,
        language=language,
        body=render(template.bodies[language], [str(complaint["reference"]), category, config.constituency]),
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
