"""SMS to constituents: DLT-registered templates in the caller's language, through SNS.

A failed SMS never loses or blocks the complaint: the notification row records the failure and
`retry_failed` sends it again later (the notification-retry function runs it on a schedule).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from psycopg import sql

from mla_core.adapters import Services
from mla_core.agents.config import DEFAULT_SMS_TEMPLATES, AgentConfig, SmsTemplate
from mla_core.agents.routing import active_agent_configs
from mla_core.core.errors import AppError
from mla_core.core.names import schema_name
from mla_core.core.privacy import mask_phone

if TYPE_CHECKING:
    from mla_core.complaints.intake import Complaint

logger = logging.getLogger(__name__)

PURPOSE = "complaint_registered"
MAX_ATTEMPTS = 5
DLT_VARIABLE_LIMIT = 30  # operators cap each {#var#} at 30–40 characters; 30 fits them all


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


def confirmation_text(config: AgentConfig, complaint: Complaint) -> tuple[str, str, str]:
    """(language, body, DLT template id) of the confirmation, in the caller's language if we have it."""
    template = config.sms.templates[PURPOSE]
    language, category = _language_and_category(config, template, complaint.language, complaint.category)
    body = render(template.bodies[language], [category, config.constituency, str(complaint.reference)])
    return language, body, template.dlt_template_id


def _table(tenant_id: str) -> sql.Composed:
    return sql.SQL("{}.notifications").format(sql.Identifier(schema_name(tenant_id)))


def _record_and_send(
    services: Services, config: AgentConfig, *, reference: int, to: str, purpose: str, language: str, body: str,
    template_id: str,
) -> None:  # fmt: skip
    """The notification row first (so a failure is visible and retried), then the SMS."""
    with services.db.transaction() as conn:
        row = conn.execute(
            sql.SQL(
                "INSERT INTO {} (complaint_id, channel, recipient, purpose, language, template_id, body, provider)"
                " SELECT id, 'sms', %s, %s, %s, %s, %s, 'sns' FROM {} WHERE reference = %s RETURNING id"
            ).format(_table(config.tenant_id), sql.Identifier(schema_name(config.tenant_id), "complaints")),
            (to, purpose, language, template_id, body, reference),
        ).fetchone()
    if row is not None:
        _send(services, config, row["id"], to, body, template_id)


def confirm_complaint(services: Services, config: AgentConfig, complaint: Complaint) -> None:
    """The confirmation with the reference number; a failure is recorded on the row, never raised."""
    if not complaint.caller_number:
        return
    language, body, template_id = confirmation_text(config, complaint)
    _record_and_send(
        services, config, reference=complaint.reference, to=complaint.caller_number, purpose=PURPOSE,
        language=language, body=body, template_id=template_id,
    )  # fmt: skip


def notify_status(services: Services, config: AgentConfig, complaint: dict[str, Any], status: str) -> None:
    """The constituent's SMS for a status change, when the tenant sends one for `status`."""
    number, purpose = complaint.get("caller_number"), f"complaint_{status}"
    template = config.sms.templates.get(purpose) or DEFAULT_SMS_TEMPLATES.get(purpose)
    if status not in config.sms.notify_on or not isinstance(number, str) or not number or template is None:
        return
    language, category = _language_and_category(config, template, complaint.get("language"), complaint["category"])
    body = render(template.bodies[language], [str(complaint["reference"]), category, config.constituency])
    _record_and_send(
        services, config, reference=complaint["reference"], to=number, purpose=purpose, language=language,
        body=body, template_id=template.dlt_template_id,
    )  # fmt: skip


def _send(
    services: Services, config: AgentConfig, notification_id: object, to: str, body: str, template_id: str
) -> bool:
    try:
        message_id = services.sms.send(to, body, entity_id=config.sms.dlt_entity_id, template_id=template_id)
    except AppError as exc:
        with services.db.transaction() as conn:
            conn.execute(
                sql.SQL(
                    "UPDATE {} SET status = 'failed', attempts = attempts + 1, last_error = %s WHERE id = %s"
                ).format(_table(config.tenant_id)),
                (exc.message, notification_id),
            )
        logger.warning("sms failed", extra={"tenant_id": config.tenant_id, "to": mask_phone(to), "error": exc.message})
        return False
    with services.db.transaction() as conn:
        conn.execute(
            sql.SQL(
                "UPDATE {} SET status = 'sent', attempts = attempts + 1, provider_message_id = %s, sent_at = now(),"
                " last_error = NULL WHERE id = %s"
            ).format(_table(config.tenant_id)),
            (message_id, notification_id),
        )
    return True


def retry_failed(services: Services, config: AgentConfig) -> int:
    """Send again the tenant's SMS that failed (up to MAX_ATTEMPTS each); returns how many went out."""
    with services.db.transaction() as conn:
        rows = conn.execute(
            sql.SQL(
                "SELECT id, recipient, body, template_id FROM {} WHERE channel = 'sms' AND status = 'failed'"
                " AND attempts < %s ORDER BY created_at LIMIT 100"
            ).format(_table(config.tenant_id)),
            (MAX_ATTEMPTS,),
        ).fetchall()
    return sum(_send(services, config, r["id"], r["recipient"], r["body"], r["template_id"] or "") for r in rows)


def retry_all_failed(services: Services) -> dict[str, int]:
    """Every active tenant's failed SMS, sent again (bounded attempts per message): what the
    notification-retry function runs on a schedule, and `cli retry-sms`."""
    configs = active_agent_configs(services)
    sent = sum(retry_failed(services, config) for config in configs)
    return {"tenants": len(configs), "sms_sent": sent}
