"""AWS clients through boto3: Step Functions, SES, SNS, SQS and S3 (meetings' recordings).

boto3 is imported on first use (it is the heaviest import of a cold start) and honours
`AWS_ENDPOINT_URL`, which is all local mode changes to point every client at moto. Every client
waits a bounded time (`AwsTimeouts`, from settings): a caller or a request waiting on AWS gets an
answer or a `TransientError` within connect + read timeouts times the attempts, never a hang.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote

from mla_core.core.errors import ConflictError, TransientError, VendorError

_TRANSIENT_CODES = {
    "ThrottlingException",
    "Throttling",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalServerError",
    "RequestLimitExceeded",
    "TooManyRequestsException",
}


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AwsTimeouts:
    """Per attempt: `connect_s` to open the connection, `read_s` for the answer; `max_attempts`
    in all (botocore's standard retry mode, exponential back-off with jitter between attempts)."""

    connect_s: float = 2.0
    read_s: float = 5.0
    max_attempts: int = 3


_DEFAULT = AwsTimeouts()


@cache
def client(service: str, region: str, timeouts: AwsTimeouts = _DEFAULT) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=timeouts.connect_s,
        read_timeout=timeouts.read_s,
        retries={"total_max_attempts": timeouts.max_attempts, "mode": "standard"},
    )
    return boto3.session.Session().client(service, region_name=region, config=config)


def _translate(operation: str, exc: Exception) -> Exception:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        # AWS's own message can name ARNs and account ids: it goes to the log, the code to the caller.
        logger.warning("aws call failed", extra={"operation": operation, "code": code, "error": str(exc)})
        if code in _TRANSIENT_CODES or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
            return TransientError(f"{operation}: {code}")
        if code == "ExecutionAlreadyExists":
            return ConflictError(f"{operation}: {code}")
        return VendorError(f"{operation}: {code}")
    if isinstance(exc, BotoCoreError):
        # botocore's text names the endpoint's URL: only the kind of failure is said.
        logger.warning("aws call failed", extra={"operation": operation, "error": str(exc)})
        return TransientError(f"{operation}: AWS unavailable ({type(exc).__name__})")
    return exc


class Workflows:
    """Starts and inspects Step Functions executions."""

    def __init__(self, region: str, timeouts: AwsTimeouts = _DEFAULT) -> None:
        self._region, self._timeouts = region, timeouts

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        try:
            response = client("stepfunctions", self._region, self._timeouts).start_execution(
                stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload)
            )
        except Exception as exc:
            raise _translate("StartExecution", exc) from exc
        return str(response["executionArn"])

    def status(self, execution_arn: str) -> str | None:
        """`RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`…; None when there is no such execution."""
        try:
            response = client("stepfunctions", self._region, self._timeouts).describe_execution(
                executionArn=execution_arn
            )
        except Exception as exc:
            translated = _translate("DescribeExecution", exc)
            if "ExecutionDoesNotExist" in str(translated):
                return None
            raise translated from exc
        return str(response["status"])


class Mailer:
    """Email through SES."""

    def __init__(self, region: str, sender: str, timeouts: AwsTimeouts = _DEFAULT) -> None:
        self._region, self._sender, self._timeouts = region, sender, timeouts

    def send(self, to: str, subject: str, text: str, html: str) -> str:
        try:
            response = client("ses", self._region, self._timeouts).send_email(
                Source=self._sender,
                Destination={"ToAddresses": [to]},
                Message={
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": text, "Charset": "UTF-8"}, "Html": {"Data": html, "Charset": "UTF-8"}},
                },
            )
        except Exception as exc:
            raise _translate("SES SendEmail", exc) from exc
        return str(response["MessageId"])


class SmsSender:
    """Transactional SMS through SNS with India's DLT attributes."""

    def __init__(self, region: str, sender_id: str, timeouts: AwsTimeouts = _DEFAULT) -> None:
        self._region, self._sender_id, self._timeouts = region, sender_id, timeouts

    def send(self, to: str, body: str, *, entity_id: str, template_id: str) -> str:
        attributes = {
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
            "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": self._sender_id},
        }
        if entity_id:
            attributes["AWS.MM.SMS.EntityId"] = {"DataType": "String", "StringValue": entity_id}
        if template_id:
            attributes["AWS.MM.SMS.TemplateId"] = {"DataType": "String", "StringValue": template_id}
        try:
            response = client("sns", self._region, self._timeouts).publish(
                PhoneNumber=to, Message=body, MessageAttributes=attributes
            )
        except Exception as exc:
            raise _translate("SNS Publish", exc) from exc
        return str(response["MessageId"])


class ComplaintQueue:
    """SQS: where an accepted complaint waits when Postgres cannot take it (and, with their own URLs,
    where caller memory's extraction jobs and meetings' summary jobs wait)."""

    def __init__(
        self, region: str, queue_url: str, timeouts: AwsTimeouts = _DEFAULT, *, setting: str = "COMPLAINT_QUEUE_URL"
    ) -> None:
        self._region, self._url, self._timeouts, self._setting = region, queue_url, timeouts, setting

    def send(self, body: str, *, key: str, delay_s: int = 0) -> str:
        """Queue `body`; `delay_s` (at most 900) keeps it from being delivered before then."""
        if not self._url:
            raise TransientError(f"{self._setting} is not set: nowhere to keep the message")
        try:
            response = client("sqs", self._region, self._timeouts).send_message(
                QueueUrl=self._url,
                MessageBody=body,
                MessageAttributes={"idempotency_key": {"DataType": "String", "StringValue": key}},
                DelaySeconds=min(900, max(0, delay_s)),
            )
        except Exception as exc:
            raise _translate("SQS SendMessage", exc) from exc
        return str(response["MessageId"])


# How a recording's location names its object: `s3://bucket/key` (the local stand-in's egress), or LiveKit
# egress's URL of the upload, virtual-hosted (`https://bucket.s3.amazonaws.com/key`, with or without the
# region) or path-style (`https://s3.ap-south-1.amazonaws.com/bucket/key`).
_S3_LOCATIONS = (
    re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>.+)$"),
    re.compile(r"^https://(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com/(?P<key>.+)$"),
    re.compile(r"^https://s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com/(?P<bucket>[^/]+)/(?P<key>.+)$"),
)
_DELETE_BATCH = 1000  # S3 DeleteObjects' limit


def s3_object(location: str) -> tuple[str, str] | None:
    """The bucket and key a stored location names; None for one that names no S3 object."""
    for pattern in _S3_LOCATIONS:
        if found := pattern.match(location):
            return found["bucket"], unquote(found["key"])
    return None


class Recordings:
    """S3: the meetings' audio recordings LiveKit's egress writes (`recordings/<tenant>/<meeting>/…ogg`),
    deleted when retention (or an erasure) says so. It deletes only what its own bucket holds under
    `recordings/`: another location (a call's recording, no bucket configured) is not its to delete."""

    PREFIX = "recordings/"

    def __init__(self, region: str, bucket: str, timeouts: AwsTimeouts = _DEFAULT) -> None:
        self._region, self._bucket, self._timeouts = region, bucket, timeouts

    def owns(self, location: str) -> bool:
        found = s3_object(location)
        return (
            bool(self._bucket) and found is not None and found[0] == self._bucket and found[1].startswith(self.PREFIX)
        )

    def delete(self, locations: Sequence[str]) -> list[str]:
        """Delete the objects `locations` name (each `owns`; one already gone is deleted too); the locations
        S3 refused one by one. Raises `TransientError` (or `VendorError`) when S3 refused the call."""
        keys: dict[str, str] = {}
        for location in locations:
            found = s3_object(location)
            if found is not None and self.owns(location):
                keys[found[1]] = location
        refused: list[str] = []
        batch = list(keys)
        for start in range(0, len(batch), _DELETE_BATCH):
            objects = [{"Key": key} for key in batch[start : start + _DELETE_BATCH]]
            try:
                response = client("s3", self._region, self._timeouts).delete_objects(
                    Bucket=self._bucket, Delete={"Objects": objects, "Quiet": True}
                )
            except Exception as exc:
                raise _translate("S3 DeleteObjects", exc) from exc
            for error in response.get("Errors", []):
                logger.warning("recording not deleted", extra={"code": error.get("Code"), "key": error.get("Key")})
                refused.append(keys[error["Key"]])
        return refused


@cache
def _management_client(endpoint_url: str, region: str, timeouts: AwsTimeouts) -> Any:
    import boto3
    from botocore.config import Config

    # One attempt: a post that fails is dropped (the page catches up from the feed), never retried
    # while an office waits on the request that published it.
    config = Config(connect_timeout=timeouts.connect_s, read_timeout=timeouts.read_s, retries={"total_max_attempts": 1})
    return boto3.session.Session().client(
        "apigatewaymanagementapi", region_name=region, endpoint_url=endpoint_url, config=config
    )


class Connections:
    """API Gateway's Management API for the live-updates WebSocket API: post to a connection, close it."""

    def __init__(self, endpoint_url: str, region: str, timeouts: AwsTimeouts = _DEFAULT) -> None:
        self._endpoint, self._region, self._timeouts = endpoint_url, region, timeouts

    @property
    def configured(self) -> bool:
        return bool(self._endpoint)

    def post(self, connection_id: str, data: bytes) -> bool:
        """Send `data` on the connection; False when API Gateway says it is gone (410)."""
        try:
            self._client().post_to_connection(ConnectionId=connection_id, Data=data)
        except Exception as exc:
            if _is_gone(exc):
                return False
            raise _translate("PostToConnection", exc) from exc
        return True

    def close(self, connection_id: str) -> None:
        """Close the connection (its `$disconnect` follows); one already gone is no error."""
        try:
            self._client().delete_connection(ConnectionId=connection_id)
        except Exception as exc:
            if not _is_gone(exc):
                raise _translate("DeleteConnection", exc) from exc

    def _client(self) -> Any:
        return _management_client(self._endpoint, self._region, self._timeouts)


def _is_gone(exc: Exception) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "GoneException"
