"""Local AWS on moto: Step Functions that really execute ASL, Lambda tasks run in this process.

Local mode and the integration tests run the provisioning state machine without an AWS account
and without Docker. moto 5.2 ships a copy of LocalStack's ASL interpreter (JSONPath, Retry, Catch,
history) but its Docker-less Lambda only echoes the payload, so `LambdaRunner` replaces that echo
with a call to the real Python handler and answers the way AWS does, errors included: the
exception class name becomes the error name that `Retry`/`Catch` match.

Everything here depends on moto internals (`LambdaSimpleBackend.invoke`, the retrier's
`time.sleep`, the SES/SNS backends); moto is pinned to 5.2.5 for that reason.

moto keeps its state in module-level backends: a second `start_moto()` in the same process serves
the same resources, and its runner takes over Lambda invocations until it stops.

What the product uses and this keeps: Step Functions STANDARD executions of the SAM `.asl.json`
(Tasks as `arn:aws:states:::lambda:invoke`, Retry and Catch on the exception class name), with
retry waits skipped in tests (`fast_retries`); synchronous Lambda invokes answering like the Python
runtime (`FunctionError: Unhandled`, `errorType`, `Runtime.MarshalError`); faults injected per
function, before or after the handler; SES v1 `SendEmail` and SNS SMS `Publish` read back as an
outbox, with the SMS's DLT attributes; SQS through moto (polled by `queues`).

What it does not model: Lambda timeouts, memory, concurrency, throttling and cold starts (the
handler runs in this process; the context only reports its deadline); asynchronous (`Event`)
invokes (they run synchronously); IAM (moto does not enforce policies); Step Functions Express
workflows, and executions started without a name (moto 5.2.5 names each `None`); SES templates, raw mail, SES v2, the sandbox's
verified-recipient rule, bounces and sending quotas; SNS delivery, opt-outs and DLT template
checks; anything sent leaving the machine.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, NotRequired, TypedDict

import boto3
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

__all__ = [
    "ACCOUNT_ID",
    "REGION",
    "HandlerNotRegisteredError",
    "Invocation",
    "LambdaContext",
    "LambdaRunner",
    "MotoHandle",
    "OutboxMessage",
    "UnresolvedSubstitutionError",
    "deploy_lambda_functions",
    "deploy_state_machine",
    "ensure_role",
    "fast_retries",
    "render_definition",
    "sent_emails",
    "sent_sms",
    "start_moto",
    "verify_sender",
]

log = logging.getLogger(__name__)

REGION = "ap-south-1"
ACCOUNT_ID = DEFAULT_ACCOUNT_ID
_DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}

Handler = Callable[[Any, Any], Any]


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


@dataclass
class MotoHandle:
    """A running moto server on loopback. `stop()` it when done."""

    url: str
    port: int
    runner: LambdaRunner
    _server: ThreadedMotoServer = field(repr=False)
    _restore_env: dict[str, str | None] = field(repr=False)
    _restore_config: dict[str, Any] = field(repr=False)
    _session: boto3.session.Session = field(init=False, repr=False)
    _clients: dict[str, BaseClient] = field(default_factory=dict, init=False, repr=False)
    _clients_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _stopped: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        self._session = boto3.session.Session(region_name=REGION, **_DUMMY_CREDENTIALS)

    def client(self, service_name: str) -> Any:
        """A boto3 client for this server (cached: clients are thread-safe and slow to build)."""
        with self._clients_lock:
            client = self._clients.get(service_name)
            if client is None:
                client = self._session.client(service_name, endpoint_url=self.url)
                self._clients[service_name] = client
            return client

    def env(self) -> dict[str, str]:
        """Environment variables that point boto3 (and anything reading them) at this server."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": _DUMMY_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": _DUMMY_CREDENTIALS["aws_secret_access_key"],
        }

    def __enter__(self) -> MotoHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving and undo what `start_moto` changed in this process. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self.runner.uninstall()
        self._server.stop()
        for name, value in self._restore_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        default_user_config.update(self._restore_config)  # type: ignore[typeddict-item]


def start_moto(port: int = 0, *, runner: LambdaRunner | None = None) -> MotoHandle:
    """Start moto in server mode on 127.0.0.1 with Step Functions executing ASL and Lambda in-process.

    `port=0` picks a free port. Sets `MOTO_PORT`: moto's ASL interpreter reaches Lambda through
    `http://localhost:$MOTO_PORT` (default 5000) whenever it is not running under `mock_aws`.
    The configuration is applied in-process (what `POST /moto-api/config` does), before any state
    machine exists: moto keeps executable state machines in a separate backend chosen per request.
    """
    _quiet_request_log()
    _record_sms_attributes()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound_port = server.get_host_and_port()
    restore_config = {name: default_user_config[name] for name in _MOTO_CONFIG}  # type: ignore[literal-required]
    default_user_config.update(_MOTO_CONFIG)  # type: ignore[typeddict-item]
    restore_env = {"MOTO_PORT": os.environ.get("MOTO_PORT")}
    os.environ["MOTO_PORT"] = str(bound_port)
    runner = runner or LambdaRunner()
    runner.install()
    handle = MotoHandle(
        url=f"http://{host}:{bound_port}",
        port=bound_port,
        runner=runner,
        _server=server,
        _restore_env=restore_env,
        _restore_config=restore_config,
    )
    log.info("moto.started", extra={"url": handle.url})
    return handle


def _quiet_request_log() -> None:
    """moto's server logs every request through werkzeug at INFO; keep only warnings unless the
    application configured that logger itself."""
    werkzeug_log = logging.getLogger("werkzeug")
    if werkzeug_log.level == logging.NOTSET:
        werkzeug_log.setLevel(logging.WARNING)


# --------------------------------------------------------------------------------------------
# Lambda handlers in-process
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of the Lambda context object that our code and Powertools read.

    The timeout is not enforced: `get_remaining_time_in_millis` only reports it.
    """

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    deadline: float
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class Invocation:
    """One call of a handler, as recorded by `LambdaRunner.invocations`."""

    function_name: str
    payload: Any
    outcome: Literal["succeeded", "failed"]
    #: The error name Step Functions sees (the exception class name) when `outcome == "failed"`.
    error_type: str | None = None


@dataclass
class _Fault:
    error_type: str
    message: str
    remaining: int
    after_handler: bool

    def error(self) -> Exception:
        return _fault_class(self.error_type)(self.message)


class HandlerNotRegisteredError(LookupError):
    """A function was invoked that has no Python handler registered with the runner."""


_fault_classes: dict[str, type[Exception]] = {}


def _fault_class(error_type: str) -> type[Exception]:
    """An exception class named `error_type`, made once per name so repeated faults share it."""
    cls = _fault_classes.get(error_type)
    if cls is None:
        cls = type(error_type, (Exception,), {"__module__": __name__})
        _fault_classes[error_type] = cls
    return cls


class LambdaRunner:
    """Runs registered Python handlers when moto's Docker-less Lambda is invoked.

    Installed by patching `LambdaSimpleBackend.invoke` (what moto calls when
    `lambda.use_docker` is false), for the Step Functions interpreter and for any boto3 `invoke`.
    Only one runner is installed at a time.
    """

    # Runners installed, innermost last: a second `start_moto` in the same process (a test module
    # inside a session-wide stack) takes over and hands back on stop.
    _installed: ClassVar[list[LambdaRunner]] = []
    _original_invoke: ClassVar[Callable[..., Any] | None] = None

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._lock = threading.Lock()
        self.invocations: list[Invocation] = []

    def register(self, function_name: str, handler: Handler) -> None:
        """Run `handler(event, context)` whenever the function `function_name` is invoked."""
        self._handlers[function_name] = handler

    def inject_fault(
        self,
        function_name: str,
        error_type: str = "InjectedFault",
        message: str = "fault injected by the local stack",
        times: int = 1,
        after_handler: bool = False,
    ) -> None:
        """Make the next `times` invocations of `function_name` fail with an error named `error_type`.

        With `after_handler=True` the handler runs first (its side effects happen) and the
        invocation fails anyway: a step that did part of its work and then crashed.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.setdefault(function_name, []).append(_Fault(error_type, message, times, after_handler))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def invocations_of(self, function_name: str) -> list[Invocation]:
        return [call for call in self.invocations if call.function_name == function_name]

    # -- installation ------------------------------------------------------------------------

    def install(self) -> None:
        """Route moto's Lambda invocations to this runner until `uninstall()`."""
        cls = LambdaRunner
        if cls._original_invoke is None:
            cls._original_invoke = LambdaSimpleBackend.invoke
            LambdaSimpleBackend.invoke = _patched_invoke  # type: ignore[method-assign]
        cls._installed.append(self)

    def uninstall(self) -> None:
        """Hand invocations back to the runner installed before this one, or to moto's echo."""
        cls = LambdaRunner
        if self in cls._installed:
            cls._installed.remove(self)
        if not cls._installed and cls._original_invoke is not None:
            LambdaSimpleBackend.invoke = cls._original_invoke  # type: ignore[method-assign]
            cls._original_invoke = None

    @classmethod
    def active(cls) -> LambdaRunner | None:
        return cls._installed[-1] if cls._installed else None

    # -- invocation --------------------------------------------------------------------------

    def _take_fault(self, function_name: str) -> _Fault | None:
        with self._lock:
            queue = self._faults.get(function_name)
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining == 0:
                queue.pop(0)
            return fault

    def run(self, function_name: str, event: Any, context: LambdaContext) -> Any:
        """Call the handler (with any injected fault) and record the invocation; raises what it raises."""
        handler = self._handlers.get(function_name)
        fault = self._take_fault(function_name)
        fault_error = fault.error() if fault is not None else None
        fails_before_handler = fault is not None and not fault.after_handler
        try:
            if handler is None:
                raise HandlerNotRegisteredError(f"no Python handler registered for Lambda function {function_name!r}")
            if fault_error is not None and fails_before_handler:
                raise fault_error
            result = handler(event, context)
            if fault_error is not None:
                raise fault_error
        except Exception as exc:
            self.invocations.append(Invocation(function_name, event, "failed", error_type=type(exc).__name__))
            raise
        self.invocations.append(Invocation(function_name, event, "succeeded"))
        return result


def _patched_invoke(
    self: LambdaSimpleBackend,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: dict[str, str],
) -> bytes:
    """`LambdaSimpleBackend.invoke`, answering like the Lambda service does."""
    runner = LambdaRunner.active()
    assert runner is not None, "the patch is only in place while a runner is installed"
    fn = self.get_function(function_name, qualifier)  # raises ResourceNotFound like AWS
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    event = json.loads(body) if body else {}
    context = LambdaContext(
        function_name=fn.function_name,
        invoked_function_arn=fn.function_arn,
        memory_limit_in_mb=int(fn.memory_size),
        aws_request_id=str(uuid.uuid4()),
        deadline=time.monotonic() + float(fn.timeout),
    )
    try:
        result = runner.run(fn.function_name, event, context)
    except Exception as exc:
        return _function_error(response_headers, _error_payload(exc, context.aws_request_id))
    try:
        return json.dumps(result).encode("utf-8")
    except (TypeError, ValueError) as exc:
        # What the Python runtime answers when a handler returns something JSON cannot encode.
        error = {
            "errorMessage": f"Unable to marshal response: {exc}",
            "errorType": "Runtime.MarshalError",
            "requestId": context.aws_request_id,
            "stackTrace": [],
        }
        return _function_error(response_headers, error)


def _function_error(response_headers: dict[str, str], error: dict[str, Any]) -> bytes:
    response_headers["x-amz-function-error"] = "Unhandled"
    return json.dumps(error).encode("utf-8")


def _error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The body the Python runtime returns for an unhandled exception."""
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)),
    }


# --------------------------------------------------------------------------------------------
# Deploying functions and state machines
# --------------------------------------------------------------------------------------------


def ensure_role(iam_client: Any, role_name: str, service_principal: str) -> str:
    """The ARN of an IAM role that `service_principal` may assume, created when missing."""
    try:
        return str(iam_client.get_role(RoleName=role_name)["Role"]["Arn"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchEntity":
            raise
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service_principal}, "Action": "sts:AssumeRole"}],
    }
    created = iam_client.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))
    return str(created["Role"]["Arn"])


def _placeholder_zip() -> bytes:
    """A function body that is never run: the runner calls the registered Python handler instead."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def deploy_lambda_functions(moto: MotoHandle, names: list[str]) -> dict[str, str]:
    """Create placeholder functions so that state machines can reference real ARNs.

    Functions that already exist are kept. Returns `{name: function ARN}`.
    """
    lambda_ = moto.client("lambda")
    role_arn = ensure_role(moto.client("iam"), "local-lambda-execution", "lambda.amazonaws.com")
    code = _placeholder_zip()
    arns: dict[str, str] = {}
    for name in names:
        try:
            arns[name] = lambda_.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
            continue
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        created = lambda_.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler="index.handler",
            Code={"ZipFile": code},
            Timeout=60,
            MemorySize=512,
        )
        arns[name] = created["FunctionArn"]
    return arns


class UnresolvedSubstitutionError(ValueError):
    """The ASL still holds `${...}` placeholders after applying the substitutions."""


_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def render_definition(asl_path: Path, substitutions: Mapping[str, str]) -> str:
    """The ASL text SAM would deploy: `${Name}` replaced by `DefinitionSubstitutions[Name]`.

    Fails on any placeholder without a value, instead of deploying a definition that only
    breaks when an execution reaches that state.
    """
    text = Path(asl_path).read_text()
    missing = sorted({name for name in _PLACEHOLDER.findall(text) if name not in substitutions})
    if missing:
        raise UnresolvedSubstitutionError(f"{asl_path}: no substitution for {', '.join(missing)}")
    rendered = _PLACEHOLDER.sub(lambda match: substitutions[match.group(1)], text)
    json.loads(rendered)  # a value that broke the JSON fails here, not at execution time
    return rendered


def deploy_state_machine(
    sfn_client: Any,
    asl_path: Path,
    substitutions: Mapping[str, str],
    name: str,
    role_arn: str,
) -> str:
    """Create the STANDARD state machine `name` from `asl_path`, or update it; returns its ARN."""
    definition = render_definition(asl_path, substitutions)
    for page in sfn_client.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"] == name:
                sfn_client.update_state_machine(
                    stateMachineArn=machine["stateMachineArn"], definition=definition, roleArn=role_arn
                )
                return str(machine["stateMachineArn"])
    created = sfn_client.create_state_machine(name=name, definition=definition, roleArn=role_arn, type="STANDARD")
    return str(created["stateMachineArn"])


# --------------------------------------------------------------------------------------------
# Retry intervals
# --------------------------------------------------------------------------------------------


class _NoSleep:
    """Stands in for the `time` module inside moto's retrier, which only calls `time.sleep`."""

    def sleep(self, seconds: float) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@contextmanager
def fast_retries() -> Iterator[None]:
    """No wait between Step Functions retry attempts, process-wide while the block runs.

    moto's interpreter sleeps each Retry's `IntervalSeconds` (times `BackoffRate`) for real in
    `retrier_decl`; tests want the retries, not the wait. `make dev` keeps the real intervals.
    """
    original = retrier_decl.time
    retrier_decl.time = _NoSleep()  # type: ignore[assignment]
    try:
        yield
    finally:
        retrier_decl.time = original


# --------------------------------------------------------------------------------------------
# Local outbox: what SES and SNS "sent"
# --------------------------------------------------------------------------------------------


class OutboxMessage(TypedDict):
    id: str
    channel: Literal["email", "sms"]
    to: str
    subject: str | None
    body: str
    #: moto keeps no send time: this is when this module first saw the message (see `_first_seen`).
    sent_at: datetime
    #: SMS only: the message attributes it was published with (DLT entity and template ids…).
    attributes: NotRequired[dict[str, str]]


_sms_attributes: dict[str, dict[str, str]] = {}


def _record_sms_attributes() -> None:
    """moto forgets an SMS's message attributes; keep them, since India's DLT ids travel in them."""
    from moto.sns.models import SNSBackend

    if getattr(SNSBackend.publish, "_records_attributes", False):
        return
    original = SNSBackend.publish

    def publish(
        self: Any, message: str, arn: str | None, phone_number: str | None = None, *args: Any, **kwargs: Any
    ) -> str:
        message_id = original(self, message, arn, phone_number, *args, **kwargs)
        if phone_number:
            attributes = kwargs.get("message_attributes") or (args[1] if len(args) > 1 else None) or {}
            _sms_attributes[message_id] = {
                name: str(value.get("Value", value.get("StringValue", ""))) if isinstance(value, dict) else str(value)
                for name, value in attributes.items()
            }
        return message_id

    publish._records_attributes = True  # type: ignore[attr-defined]
    SNSBackend.publish = publish  # type: ignore[method-assign]


_first_seen_at: dict[str, datetime] = {}
_first_seen_lock = threading.Lock()


def _first_seen(message_id: str) -> datetime:
    with _first_seen_lock:
        return _first_seen_at.setdefault(message_id, datetime.now(UTC))


def verify_sender(ses_client: Any, email_address: str) -> None:
    """Verify a sender identity; moto's SES, like SES in the sandbox, rejects unverified senders."""
    ses_client.verify_email_identity(EmailAddress=email_address)


def sent_emails(region: str = REGION, account_id: str = ACCOUNT_ID) -> list[OutboxMessage]:
    """Emails sent through SES `SendEmail` on the in-process moto, newest first (the body is the
    HTML part when there is one: moto keeps only one)."""
    from moto.ses.models import Message, ses_backends

    outbox = [
        OutboxMessage(
            id=message.id,
            channel="email",
            to=_recipients(message.destinations),
            subject=message.subject,
            body=message.body,
            sent_at=_first_seen(message.id),
        )
        for message in list(ses_backends[account_id][region].sent_messages)
        if isinstance(message, Message)
    ]
    outbox.reverse()
    return outbox


def sent_sms(region: str = REGION, account_id: str = ACCOUNT_ID) -> list[OutboxMessage]:
    """SMS published through SNS (`publish(PhoneNumber=...)`) on the in-process moto, newest first."""
    from moto.sns.models import sns_backends

    backend = sns_backends[account_id][region]
    outbox = [
        OutboxMessage(
            id=message_id,
            channel="sms",
            to=phone_number,
            subject=None,
            body=text,
            sent_at=_first_seen(message_id),
            attributes=_sms_attributes.get(message_id, {}),
        )
        for message_id, (phone_number, text) in list(backend.sms_messages.items())
    ]
    outbox.reverse()
    return outbox


def _recipients(destinations: Mapping[str, list[str]]) -> str:
    keys = ("ToAddresses", "CcAddresses", "BccAddresses")
    return ", ".join(address for key in keys for address in destinations.get(key, []))
