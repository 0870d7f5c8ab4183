"""The local AWS stack: moto executing ASL with Lambda tasks running our Python handlers in-process,
with Tasks in the style the SAM state machines use (`arn:aws:states:::lambda:invoke`)."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_stack.aws import (
    LambdaRunner,
    MotoHandle,
    UnresolvedSubstitutionError,
    deploy_lambda_functions,
    deploy_state_machine,
    ensure_role,
    fast_retries,
    render_definition,
    sent_emails,
    sent_sms,
    start_moto,
    verify_sender,
)

RETRY_INTERVAL_SECONDS = 5


class TransientError(Exception):
    """Same name as the application's retryable error: the name is the contract with the ASL."""


class VendorRejectedError(Exception):
    """Any other failure: not retried, caught and compensated."""


# ---------------------------------------------------------------------------------------------
# Handlers and the fixture state machine
# ---------------------------------------------------------------------------------------------


class Handlers:
    """Two Lambda handlers whose behaviour each execution picks through its input."""

    def __init__(self) -> None:
        self.attempts: Counter[str] = Counter()
        self.side_effects: list[str] = []

    def reset(self) -> None:
        self.attempts.clear()
        self.side_effects.clear()

    def work(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        request_id = event["request_id"]
        self.attempts[request_id] += 1
        self.side_effects.append(request_id)
        failure = event.get("fail_with")
        if failure == "transient" and self.attempts[request_id] <= event.get("fail_times", 1):
            raise TransientError("vendor timed out")
        if failure == "permanent":
            raise VendorRejectedError("vendor said no")
        return {**event, "worked_by": context.function_name, "attempt": self.attempts[request_id]}

    def compensate(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"compensated": event["request_id"], "error": event["error"]}


def _task(function_placeholder: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_placeholder, "Payload.$": "$"},
        "OutputPath": "$.Payload",
    }


def write_fixture_asl(directory: Path) -> Path:
    """Work (Retry on TransientError, Catch everything) -> Compensate -> Fail, SAM placeholders in."""
    definition = {
        "Comment": "Retry and compensation fixture for the local stack",
        "StartAt": "Work",
        "States": {
            "Work": {
                **_task("${WorkFunctionArn}"),
                "Retry": [
                    {
                        "ErrorEquals": ["TransientError"],
                        "IntervalSeconds": RETRY_INTERVAL_SECONDS,
                        "MaxAttempts": 2,
                        "BackoffRate": 2,
                    }
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Compensate"}],
                "End": True,
            },
            "Compensate": {**_task("${CompensateFunctionArn}"), "Next": "Failed"},
            "Failed": {"Type": "Fail", "Error": "WorkFailed", "Cause": "Work failed and was compensated"},
        },
    }
    path = directory / "fixture.asl.json"
    path.write_text(json.dumps(definition, indent=2))
    return path


@pytest.fixture(scope="module")
def aws() -> Iterator[MotoHandle]:
    with start_moto() as handle, fast_retries():
        yield handle


@pytest.fixture(scope="module")
def handlers(aws: MotoHandle) -> Handlers:
    handlers = Handlers()
    aws.runner.register("Work", handlers.work)
    aws.runner.register("Compensate", handlers.compensate)
    return handlers


@pytest.fixture(scope="module")
def function_arns(aws: MotoHandle, handlers: Handlers) -> dict[str, str]:
    return deploy_lambda_functions(aws, ["Work", "Compensate"])


@pytest.fixture(scope="module")
def states_role(aws: MotoHandle) -> str:
    return ensure_role(aws.client("iam"), "local-states-execution", "states.amazonaws.com")


@pytest.fixture(scope="module")
def state_machine(
    aws: MotoHandle, function_arns: dict[str, str], states_role: str, tmp_path_factory: pytest.TempPathFactory
) -> str:
    substitutions = {
        "WorkFunctionArn": function_arns["Work"],
        "CompensateFunctionArn": function_arns["Compensate"],
    }
    asl = write_fixture_asl(tmp_path_factory.mktemp("asl"))
    return deploy_state_machine(aws.client("stepfunctions"), asl, substitutions, "fixture", states_role)


@pytest.fixture
def runner(aws: MotoHandle, handlers: Handlers) -> Iterator[LambdaRunner]:
    handlers.reset()
    aws.runner.invocations.clear()
    yield aws.runner
    aws.runner.clear_faults()


def run_to_completion(aws: MotoHandle, state_machine_arn: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Start an execution and poll until it leaves RUNNING; returns `describe_execution`."""
    sfn = aws.client("stepfunctions")
    execution_arn = sfn.start_execution(
        stateMachineArn=state_machine_arn, name=str(uuid.uuid4()), input=json.dumps(payload)
    )["executionArn"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        description = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] != "RUNNING":
            return dict(description)
        time.sleep(0.01)
    raise AssertionError(f"{execution_arn} still RUNNING after 10 s")


def failed_task_events(aws: MotoHandle, execution_arn: str) -> list[dict[str, Any]]:
    """The error and cause of every failed Lambda task, in order."""
    events = aws.client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"]
    return [event["taskFailedEventDetails"] for event in events if event["type"] == "TaskFailed"]


def new_request(**fields: Any) -> dict[str, Any]:
    return {"request_id": str(uuid.uuid4()), **fields}


# ---------------------------------------------------------------------------------------------
# Step Functions with in-process handlers
# ---------------------------------------------------------------------------------------------


def test_a_successful_execution_returns_the_handlers_output(
    aws: MotoHandle, state_machine: str, runner: LambdaRunner
) -> None:
    request = new_request(tenant="t-42")

    result = run_to_completion(aws, state_machine, request)

    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {**request, "worked_by": "Work", "attempt": 1}
    assert [(call.function_name, call.payload, call.outcome) for call in runner.invocations] == [
        ("Work", request, "succeeded")
    ]


def test_a_transient_error_is_retried_and_the_execution_succeeds(
    aws: MotoHandle, state_machine: str, runner: LambdaRunner
) -> None:
    started = time.monotonic()

    result = run_to_completion(aws, state_machine, new_request(fail_with="transient"))

    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"])["attempt"] == 2
    assert [(call.outcome, call.error_type) for call in runner.invocations_of("Work")] == [
        ("failed", "TransientError"),
        ("succeeded", None),
    ]
    assert [event["error"] for event in failed_task_events(aws, result["executionArn"])] == ["TransientError"]
    assert time.monotonic() - started < RETRY_INTERVAL_SECONDS, "fast_retries() should skip the interval"


def test_retries_that_run_out_go_to_compensation(aws: MotoHandle, state_machine: str, runner: LambdaRunner) -> None:
    request = new_request(fail_with="transient", fail_times=5)

    result = run_to_completion(aws, state_machine, request)

    assert result["status"] == "FAILED"
    assert [call.outcome for call in runner.invocations_of("Work")] == ["failed"] * 3
    (compensation,) = runner.invocations_of("Compensate")
    assert compensation.payload["error"]["Error"] == "TransientError"


def test_a_non_transient_error_goes_to_compensation_with_its_name_and_cause(
    aws: MotoHandle, state_machine: str, runner: LambdaRunner
) -> None:
    request = new_request(fail_with="permanent")

    result = run_to_completion(aws, state_machine, request)

    assert result["status"] == "FAILED"
    assert result["error"] == "WorkFailed"
    (failure,) = failed_task_events(aws, result["executionArn"])
    assert failure["error"] == "VendorRejectedError"
    cause = json.loads(failure["cause"])
    assert cause["errorType"] == "VendorRejectedError"
    assert cause["errorMessage"] == "vendor said no"
    assert any("raise VendorRejectedError" in frame for frame in cause["stackTrace"])
    (compensation,) = runner.invocations_of("Compensate")
    assert compensation.payload["error"]["Error"] == "VendorRejectedError"
    assert json.loads(compensation.payload["error"]["Cause"])["errorMessage"] == "vendor said no"


# ---------------------------------------------------------------------------------------------
# Fault injection
# ---------------------------------------------------------------------------------------------


def test_an_injected_fault_fails_the_step_without_running_the_handler(
    aws: MotoHandle, state_machine: str, runner: LambdaRunner, handlers: Handlers
) -> None:
    runner.inject_fault("Work", error_type="SipTrunkUnavailable", message="trunk is down")

    result = run_to_completion(aws, state_machine, new_request())

    assert result["status"] == "FAILED"
    assert handlers.side_effects == []
    (call,) = runner.invocations_of("Work")
    assert (call.outcome, call.error_type) == ("failed", "SipTrunkUnavailable")
    (compensation,) = runner.invocations_of("Compensate")
    assert compensation.payload["error"]["Error"] == "SipTrunkUnavailable"
    assert json.loads(compensation.payload["error"]["Cause"])["errorMessage"] == "trunk is down"


def test_a_fault_after_the_handler_keeps_its_side_effects_and_fails_the_step(
    aws: MotoHandle, state_machine: str, runner: LambdaRunner, handlers: Handlers
) -> None:
    request = new_request()
    runner.inject_fault("Work", after_handler=True)

    result = run_to_completion(aws, state_machine, request)

    assert result["status"] == "FAILED"
    assert handlers.side_effects == [request["request_id"]]
    (call,) = runner.invocations_of("Work")
    assert call.error_type == "InjectedFault"
    (compensation,) = runner.invocations_of("Compensate")
    assert compensation.payload["error"]["Error"] == "InjectedFault"


def test_an_injected_transient_fault_is_retried_and_used_up(
    aws: MotoHandle, state_machine: str, runner: LambdaRunner
) -> None:
    runner.inject_fault("Work", error_type="TransientError", times=1)

    first = run_to_completion(aws, state_machine, new_request())
    second = run_to_completion(aws, state_machine, new_request())

    assert (first["status"], second["status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert [call.outcome for call in runner.invocations_of("Work")] == ["failed", "succeeded", "succeeded"]


def test_cleared_faults_no_longer_fire(aws: MotoHandle, state_machine: str, runner: LambdaRunner) -> None:
    runner.inject_fault("Work", times=3)
    runner.clear_faults()

    result = run_to_completion(aws, state_machine, new_request())

    assert result["status"] == "SUCCEEDED"


def test_a_direct_invoke_of_a_failing_handler_answers_like_lambda(
    aws: MotoHandle, function_arns: dict[str, str], runner: LambdaRunner
) -> None:
    response = aws.client("lambda").invoke(FunctionName="Work", Payload=json.dumps(new_request(fail_with="permanent")))

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Payload"].read())
    assert (body["errorType"], body["errorMessage"]) == ("VendorRejectedError", "vendor said no")


def test_invoking_a_function_without_a_registered_handler_fails_loudly(aws: MotoHandle) -> None:
    deploy_lambda_functions(aws, ["Unregistered"])

    response = aws.client("lambda").invoke(FunctionName="Unregistered", Payload=b"{}")

    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "HandlerNotRegisteredError"


# ---------------------------------------------------------------------------------------------
# Definition substitutions
# ---------------------------------------------------------------------------------------------


def test_definition_substitutions_are_applied_to_the_asl_file(tmp_path: Path) -> None:
    asl = write_fixture_asl(tmp_path)

    rendered = json.loads(
        render_definition(asl, {"WorkFunctionArn": "arn:work", "CompensateFunctionArn": "arn:compensate"})
    )

    assert rendered["States"]["Work"]["Parameters"]["FunctionName"] == "arn:work"
    assert rendered["States"]["Compensate"]["Parameters"]["FunctionName"] == "arn:compensate"


def test_an_unreplaced_placeholder_is_refused(
    aws: MotoHandle, states_role: str, function_arns: dict[str, str], tmp_path: Path
) -> None:
    asl = write_fixture_asl(tmp_path)

    with pytest.raises(UnresolvedSubstitutionError, match="CompensateFunctionArn"):
        deploy_state_machine(
            aws.client("stepfunctions"),
            asl,
            {"WorkFunctionArn": function_arns["Work"]},
            "never-created",
            states_role,
        )

    names = [m["name"] for m in aws.client("stepfunctions").list_state_machines()["stateMachines"]]
    assert "never-created" not in names


def test_deploying_again_updates_the_state_machine_in_place(
    aws: MotoHandle, states_role: str, function_arns: dict[str, str], tmp_path: Path
) -> None:
    sfn = aws.client("stepfunctions")
    asl = write_fixture_asl(tmp_path)
    substitutions = {"WorkFunctionArn": function_arns["Work"], "CompensateFunctionArn": function_arns["Work"]}
    first = deploy_state_machine(sfn, asl, substitutions, "redeployed", states_role)

    substitutions["CompensateFunctionArn"] = function_arns["Compensate"]
    second = deploy_state_machine(sfn, asl, substitutions, "redeployed", states_role)

    assert first == second
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=second)["definition"])
    assert definition["States"]["Compensate"]["Parameters"]["FunctionName"] == function_arns["Compensate"]


# ---------------------------------------------------------------------------------------------
# Local outbox
# ---------------------------------------------------------------------------------------------


def test_emails_and_sms_sent_through_moto_appear_in_the_outbox_newest_first(aws: MotoHandle) -> None:
    ses = aws.client("ses")
    verify_sender(ses, "noreply@mla.example")
    verify_sender(ses, "noreply@mla.example")  # verifying twice is harmless
    for subject in ("Welcome", "Your complaint was logged"):
        ses.send_email(
            Source="noreply@mla.example",
            Destination={"ToAddresses": ["staff@mla.example"]},
            Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": f"{subject}."}}},
        )
    aws.client("sns").publish(PhoneNumber="+919800000001", Message="Complaint C-1 registered")

    emails, texts = sent_emails(), sent_sms()

    assert [(m["channel"], m["to"], m["subject"], m["body"]) for m in emails[:2]] == [
        ("email", "staff@mla.example", "Your complaint was logged", "Your complaint was logged."),
        ("email", "staff@mla.example", "Welcome", "Welcome."),
    ]
    assert emails[0]["sent_at"] >= emails[1]["sent_at"]
    assert (texts[0]["channel"], texts[0]["to"], texts[0]["subject"], texts[0]["body"]) == (
        "sms",
        "+919800000001",
        None,
        "Complaint C-1 registered",
    )


def test_an_unverified_sender_is_rejected(aws: MotoHandle) -> None:
    with pytest.raises(ClientError, match="not verified"):
        aws.client("ses").send_email(
            Source="stranger@elsewhere.example",
            Destination={"ToAddresses": ["staff@mla.example"]},
            Message={"Subject": {"Data": "hi"}, "Body": {"Text": {"Data": "hi"}}},
        )


def test_a_result_json_cannot_encode_fails_like_the_python_runtime(aws: MotoHandle) -> None:
    aws.runner.register("Unencodable", lambda event, context: {"when": object()})
    deploy_lambda_functions(aws, ["Unencodable"])

    response = aws.client("lambda").invoke(FunctionName="Unencodable", Payload=b"{}")

    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "Runtime.MarshalError"


def test_a_second_local_aws_in_the_same_process_hands_back_on_stop(
    aws: MotoHandle, function_arns: dict[str, str], runner: LambdaRunner
) -> None:
    with start_moto() as inner:
        inner.runner.register("Work", lambda event, context: {"served_by": "inner"})
        during = json.loads(aws.client("lambda").invoke(FunctionName="Work", Payload=b"{}")["Payload"].read())

    after = aws.client("lambda").invoke(FunctionName="Work", Payload=json.dumps(new_request()).encode())

    assert during == {"served_by": "inner"}
    assert json.loads(after["Payload"].read())["worked_by"] == "Work"
    assert os.environ["MOTO_PORT"] == str(aws.port)
