"""Complaints that waited in SQS while Postgres was down, stored exactly once; and failed SMS retried.

Lambda entries: `complaint_ingest.handler` (SQS event source, partial batch responses) and
`complaint_ingest.retry_notifications` (every five minutes).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from mla_core.adapters import get_services
from mla_core.complaints import intake, sms
from mla_core.core.observability import function_logger

logger = function_logger("complaint-ingest")
processor = BatchProcessor(event_type=EventType.SQS)


def _ingest(record: SQSRecord) -> None:
    intake.ingest_queued(get_services(), record.body)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """A record that fails (Postgres still down) is reported back and retried by SQS, then dead-lettered."""
    return process_partial_response(event=event, record_handler=_ingest, processor=processor, context=context)


@logger.inject_lambda_context(clear_state=True)
def retry_notifications(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return sms.retry_all_failed(get_services())
