"""What Lambda's SQS event source mapping does, for local mode: poll a queue, invoke the function
with a batch, delete what it processed, leave its reported failures for a later delivery."""

from __future__ import annotations

import json
import logging
from typing import Any

from local_stack.background import Background

log = logging.getLogger("local_stack.queues")


class QueuePoller(Background):
    def __init__(self, sqs: Any, lambda_: Any, *, queue_url: str, queue_arn: str, function_name: str, batch_size: int):
        super().__init__(f"sqs-poller-{function_name}")
        self._sqs, self._lambda = sqs, lambda_
        self._queue_url, self._queue_arn = queue_url, queue_arn
        self._function, self._batch = function_name, batch_size

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                if not self.poll_once(wait_seconds=1):
                    self._stopping.wait(0.2)
            except Exception:  # keep polling, as the real mapping does
                log.exception("sqs poll failed", extra={"function": self._function})
                self._stopping.wait(1)

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Deliver one batch; returns how many messages it held."""
        received = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=min(self._batch, 10),
            WaitTimeSeconds=wait_seconds,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        )
        messages = received.get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [self._record(m) for m in messages]}
        response = self._lambda.invoke(FunctionName=self._function, Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read() or b"{}")
        if response.get("FunctionError"):
            failed = {m["MessageId"] for m in messages}  # the whole batch comes back
        else:
            failed = {item["itemIdentifier"] for item in payload.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(messages)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: {"stringValue": value.get("StringValue"), "dataType": value.get("DataType")}
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._queue_arn,
            "awsRegion": self._queue_arn.split(":")[3],
        }
