"""Complaints and call records that waited in SQS while Postgres was down, stored exactly once;
failed SMS retried; complaints past their SLA raised to the offices' pages.

Lambda entries: `complaint_ingest.handler` (SQS event source, partial batch responses),
`complaint_ingest.retry_notifications` (every five minutes) and `complaint_ingest.watch_sla`
(every minute).
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import Discriminator, RootModel, Tag

from mla_core.adapters import get_services
from mla_core.calls import records
from mla_core.complaints import intake, sla, sms
from mla_core.core.observability import function_logger

logger = function_logger("complaint-ingest")
processor = BatchProcessor(event_type=EventType.SQS)


def _kind(message: Any) -> str:
    kind = message.get("kind") if isinstance(message, dict) else getattr(message, "kind", None)
    return kind or "complaint"  # complaints queued before there were call records have no kind


class QueuedMessage(
    RootModel[
        Annotated[
            Annotated[intake.QueuedComplaint, Tag("complaint")] | Annotated[records.CallRecord, Tag("call_record")],
            Discriminator(_kind),
        ]
    ]
):
    """What waits in the complaint queue while Postgres is down: a complaint, or a call's record."""


def _ingest(record: SQSRecord) -> None:
    message = QueuedMessage.model_validate_json(record.body).root
    if isinstance(message, records.CallRecord):
        records.ingest_queued_call_record(get_services(), message)
    else:
        intake.ingest_queued(get_services(), message)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """A record that fails (Postgres still down) is reported back and retried by SQS, then dead-lettered."""
    return process_partial_response(event=event, record_handler=_ingest, processor=processor, context=context)


@logger.inject_lambda_context(clear_state=True)
def retry_notifications(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return sms.retry_all_failed(get_services())


@logger.inject_lambda_context(clear_state=True)
def watch_sla(event: dict[str, Any], context: Any) -> dict[str, int]:
    return sla.watch(get_services())
