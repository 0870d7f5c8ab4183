"""Meetings' summary jobs (`mla_core.meetings.summary_jobs`): an ended meeting's transcript turned into
bilingual minutes, decisions, actions and grievances by the summary model.

Lambda entry: `meeting_jobs.handler` (SQS event source, partial batch responses: a job whose model or
database is briefly unavailable is retried by SQS, then dead-lettered).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from mla_core.adapters import get_services
from mla_core.core.observability import function_logger
from mla_core.meetings import summary_jobs

logger = function_logger("meeting-jobs")
processor = BatchProcessor(event_type=EventType.SQS)


def _run(record: SQSRecord) -> None:
    summary_jobs.run(get_services(), summary_jobs.SummaryMessage.model_validate_json(record.body))


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=_run, processor=processor, context=context)
