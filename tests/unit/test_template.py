"""template.yaml agrees with the code it deploys: handlers, state machines, permissions, settings.

cfn-lint and `sam validate --lint` (`make validate`) check the template against CloudFormation and
SAM; these tests check what neither can see: that every Handler names a real function, that every
`${...}` in an ASL file is substituted, that Retry/Catch follow the error contract of
`mla_core.core.errors`, and that each function gets the permissions it needs and no more.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from local_stack.template import load_template
from support import invoke_lambda

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
EVENTS = ROOT / "sam" / "events"

SECRET_READ = {"secretsmanager:GetSecretValue"}
# Beyond logs and X-Ray (which SAM grants every function), the only AWS calls each function makes.
PROVISIONING_STEPS = ("CreateSchema", "CreateRoom", "ConfigureSipDispatch", "StoreAgentConfig", "CreateDashboardLogin",
                      "Activate", "Compensate", "RecordDeprovisionFailure")  # fmt: skip
SQS_POLLING = {  # what an SQS event source's function does with its queue (SAM's SQSPollerPolicy)
    "sqs:ChangeMessageVisibility",
    "sqs:ChangeMessageVisibilityBatch",
    "sqs:DeleteMessage",
    "sqs:DeleteMessageBatch",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
}
LIVE = "execute-api:ManageConnections"  # live updates: post to and close the pages' WebSocket connections
EXTRA_ACTIONS: dict[str, set[str]] = {
    "AdminFunction": {"states:StartExecution", "states:DescribeExecution"},
    # Each provisioning step tells the super admins' open pages that the tenant moved.
    **{f"{step}Function": {LIVE} for step in PROVISIONING_STEPS},
    "SendWelcomeEmailFunction": {"ses:SendEmail", "ses:SendRawEmail", LIVE},
    "DashboardFunction": {"ses:SendEmail", "ses:SendRawEmail", "sns:Publish", LIVE, "sqs:SendMessage"},
    "WebhooksFunction": {LIVE, "sqs:SendMessage"},  # a meeting whose room closed is summarised
    "RealtimeFunction": {LIVE},
    "SlaWatcherFunction": {LIVE},
    "DeprovisionFunction": {LIVE},
    "ComplaintIngestFunction": {LIVE, "sns:Publish", *SQS_POLLING},
    "NotificationRetryFunction": {"sns:Publish"},
    "MemoryFunction": SQS_POLLING,
    "MeetingSummaryFunction": SQS_POLLING,
    "ReconcileFunction": {"states:DescribeExecution", LIVE},
    "RetentionFunction": {"s3:DeleteObject"},  # meetings' recordings past the office's days
}
# What the SAM policy templates used in template.yaml allow; an unknown template fails the test.
POLICY_TEMPLATE_ACTIONS: dict[str, set[str]] = {
    "AWSSecretsManagerGetSecretValuePolicy": {"secretsmanager:GetSecretValue"},
    "StepFunctionsExecutionPolicy": {"states:StartExecution"},
    "LambdaInvokePolicy": {"lambda:InvokeFunction"},
    "SQSPollerPolicy": SQS_POLLING,
}
# APP_SECRET_ID names the secret the settings are read from; POWERTOOLS_* configure Powertools.
ENV_NOT_IN_SETTINGS = {
    "APP_SECRET_ID",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_METRICS_NAMESPACE",
}
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in template()["Resources"].items() if r["Type"] == kind}


def functions() -> dict[str, dict[str, Any]]:
    return resources("AWS::Serverless::Function")


def state_machines() -> dict[str, dict[str, Any]]:
    return resources("AWS::Serverless::StateMachine")


def asl(machine: str) -> tuple[str, dict[str, Any]]:
    text = (ROOT / state_machines()[machine]["DefinitionUri"]).read_text()
    return text, json.loads(text)


def tasks(machine: str) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in asl(machine)[1]["States"].items() if s["Type"] == "Task"}


def function_of(machine: str, task: dict[str, Any]) -> str:
    """The logical id of the function a Task calls (its one `${...Arn}`, as Resource or FunctionName)."""
    (placeholder,) = PLACEHOLDER.findall(json.dumps(task))
    return state_machines()[machine]["DefinitionSubstitutions"][placeholder]["Fn::GetAtt"][0]


def failure_path(states: dict[str, Any]) -> set[str]:
    """Every state reachable from a Catch: the failure handlers and what leads to them."""
    pending = [catch["Next"] for state in states.values() for catch in state.get("Catch", [])]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            state = states[name]
            pending += [state[key] for key in ("Next", "Default") if key in state]
            pending += [choice["Next"] for choice in state.get("Choices", [])]
    return seen


def timeout(function: str) -> int:
    return functions()[function].get("Timeout", template()["Globals"]["Function"]["Timeout"])


def allowed_actions(policies: list[Any]) -> set[str]:
    actions: set[str] = set()
    for policy in policies:
        assert isinstance(policy, dict), f"managed or named policy {policy!r}: list its actions in this test"
        for name, body in policy.items():
            if name == "Statement":
                for statement in body:
                    assert statement["Effect"] == "Allow"
                    action = statement["Action"]
                    actions.update([action] if isinstance(action, str) else action)
            else:
                assert name in POLICY_TEMPLATE_ACTIONS, f"unknown SAM policy template {name}"
                actions.update(POLICY_TEMPLATE_ACTIONS[name])
    return actions


def route_keys(function: str) -> set[str]:
    events = functions()[function].get("Events", {})
    return {f"{e['Properties']['Method']} {e['Properties']['Path']}" for e in events.values() if e["Type"] == "HttpApi"}


# --- Runtime ---------------------------------------------------------------------------------------


def test_every_function_runs_python312_on_arm64_with_the_shared_layer() -> None:
    globals_ = template()["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.12"
    assert globals_["Architectures"] == ["arm64"]
    assert globals_["Layers"] == [{"Ref": "MlaCoreLayer"}]
    for name, props in functions().items():
        assert {"Runtime", "Architectures", "Layers"}.isdisjoint(props), f"{name} overrides the Globals runtime"


def test_the_shared_layer_is_built_for_python312_on_arm64() -> None:
    layer = template()["Resources"]["MlaCoreLayer"]
    assert layer["Metadata"] == {"BuildMethod": "python3.12", "BuildArchitecture": "arm64"}
    assert (ROOT / layer["Properties"]["ContentUri"] / "mla_core" / "__init__.py").is_file()
    assert (ROOT / layer["Properties"]["ContentUri"] / "requirements.txt").is_file()


@pytest.mark.parametrize("function", sorted(functions()))
def test_every_handler_names_a_function_in_its_code_uri(function: str) -> None:
    props = functions()[function]
    code_uri, handler = props["CodeUri"], props["Handler"]
    assert isinstance(code_uri, str) and isinstance(handler, str), "the local stack reads these literally"
    module_name, attribute = handler.rsplit(".", 1)
    assert (ROOT / code_uri / f"{module_name}.py").is_file()

    from local_stack import template

    module = template.function(function).import_module()  # as Lambda imports it

    assert callable(getattr(module, attribute, None)), f"{code_uri}/{module_name}.py has no {attribute}"


# --- Settings --------------------------------------------------------------------------------------


def test_every_environment_variable_is_a_setting_the_code_reads() -> None:
    from mla_core.core.settings import Settings

    settings = {
        (field.validation_alias if isinstance(field.validation_alias, str) else name).upper()
        for name, field in Settings.model_fields.items()
    }
    variables = set(template()["Globals"]["Function"]["Environment"]["Variables"])
    for props in functions().values():
        variables |= set(props.get("Environment", {}).get("Variables", {}))

    assert variables - ENV_NOT_IN_SETTINGS <= settings, "a variable no setting reads (typo?)"


def test_the_admin_function_is_told_both_state_machine_arns() -> None:
    variables = functions()["AdminFunction"]["Environment"]["Variables"]
    assert variables["PROVISIONING_STATE_MACHINE_ARN"] == {"Ref": "ProvisionStateMachine"}
    assert variables["DEPROVISIONING_STATE_MACHINE_ARN"] == {"Ref": "DeprovisionStateMachine"}


# --- State machines ----------------------------------------------------------------------------------


@pytest.mark.parametrize("machine", sorted(state_machines()))
def test_every_asl_placeholder_has_a_substitution_and_no_substitution_is_unused(machine: str) -> None:
    text, _ = asl(machine)
    substitutions = state_machines()[machine]["DefinitionSubstitutions"]

    assert set(PLACEHOLDER.findall(text)) == set(substitutions)


@pytest.mark.parametrize("machine", sorted(state_machines()))
def test_every_substitution_is_the_arn_of_a_function_in_this_template(machine: str) -> None:
    props = state_machines()[machine]
    assert props["Type"] == "STANDARD"
    for placeholder, value in props["DefinitionSubstitutions"].items():
        assert value == {"Fn::GetAtt": [placeholder.removesuffix("Arn"), "Arn"]}
        assert placeholder.removesuffix("Arn") in functions()


@pytest.mark.parametrize("machine", sorted(state_machines()))
def test_every_task_retries_transient_errors(machine: str) -> None:
    for name, task in tasks(machine).items():
        retried = {error for retry in task.get("Retry", []) for error in retry["ErrorEquals"]}
        assert "TransientError" in retried, f"{machine}.{name} does not retry TransientError"


@pytest.mark.parametrize("machine", sorted(state_machines()))
def test_every_task_but_a_failure_handler_catches_errors(machine: str) -> None:
    """A failure handler (compensation, recording a failure) runs after a Catch; every other Task catches."""
    states = asl(machine)[1]["States"]
    handlers = failure_path(states)
    assert handlers & set(tasks(machine)), f"{machine} has no failure handler"
    for name, task in tasks(machine).items():
        if name not in handlers:
            assert any("States.ALL" in c["ErrorEquals"] for c in task.get("Catch", [])), f"{machine}.{name}"


@pytest.mark.parametrize("machine", sorted(state_machines()))
def test_no_task_gives_up_on_a_lambda_that_is_still_running(machine: str) -> None:
    for name, task in tasks(machine).items():
        function = function_of(machine, task)
        assert timeout(function) <= task["TimeoutSeconds"], f"{function} outlives the {name} state"


@pytest.mark.parametrize("machine", sorted(state_machines()))
def test_a_state_machine_may_invoke_exactly_the_functions_it_calls(machine: str) -> None:
    props = state_machines()[machine]
    called = {function_of(machine, task) for task in tasks(machine).values()}
    invokable = {p["LambdaInvokePolicy"]["FunctionName"]["Ref"] for p in props["Policies"] if "LambdaInvokePolicy" in p}

    assert invokable == called
    assert allowed_actions(props["Policies"]) - {"lambda:InvokeFunction"} <= {
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
    }


# --- Permissions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", sorted(functions()))
def test_a_function_may_call_only_the_aws_apis_it_uses(function: str) -> None:
    policies = functions()[function].get("Policies", [])

    assert allowed_actions(policies) == SECRET_READ | EXTRA_ACTIONS.get(function, set())


@pytest.mark.parametrize("function", sorted(functions()))
def test_a_function_reads_only_the_app_secret(function: str) -> None:
    (secret_policy,) = (p for p in functions()[function]["Policies"] if "AWSSecretsManagerGetSecretValuePolicy" in p)
    arn = secret_policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]["Fn::Sub"]

    assert arn.endswith(":secret:${AppSecretName}-??????")


# --- HTTP API and outputs ------------------------------------------------------------------------------


def test_each_api_function_serves_its_routes() -> None:
    assert route_keys("AdminFunction") == {"ANY /admin/{proxy+}"}
    assert route_keys("DashboardFunction") == {
        "ANY /auth/{proxy+}",
        "ANY /api/{proxy+}",
        "GET /docs",
        "GET /docs/assets/{proxy+}",
        "GET /openapi.json",
        "GET /",
        "GET /register",
        "ANY /app/{proxy+}",
    }
    assert route_keys("WebhooksFunction") >= {"POST /webhooks/livekit"}
    for name, props in functions().items():
        for event in props.get("Events", {}).values():
            if event["Type"] == "HttpApi":
                assert event["Properties"]["ApiId"] == {"Ref": "HttpApi"}, f"{name} has a route outside HttpApi"


def test_the_dashboard_origin_may_call_the_api() -> None:
    cors = template()["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == [{"Ref": "DashboardUrl"}]
    assert {"Authorization", "Content-Type", "Idempotency-Key"} <= set(cors["AllowHeaders"])


def test_the_stack_outputs_the_api_url_and_both_state_machine_arns() -> None:
    outputs = template()["Outputs"]
    assert outputs["ApiUrl"]["Value"] == {"Fn::GetAtt": ["HttpApi", "ApiEndpoint"]}
    assert outputs["ProvisionStateMachineArn"]["Value"] == {"Ref": "ProvisionStateMachine"}
    assert outputs["DeprovisionStateMachineArn"]["Value"] == {"Ref": "DeprovisionStateMachine"}


# --- Sample events -------------------------------------------------------------------------------------


def _http_events() -> list[Path]:
    return sorted(p for p in EVENTS.glob("*.json") if json.loads(p.read_text()).get("version") == "2.0")


@pytest.mark.parametrize("path", _http_events(), ids=lambda p: p.stem)
def test_a_sample_http_event_reaches_its_route_and_is_refused_without_a_real_token(path: Path) -> None:
    event = json.loads(path.read_text())
    (function,) = (name for name in functions() if event["routeKey"] in route_keys(name))
    from local_stack import template

    handler = template.function(function).load()
    response = invoke_lambda(handler, event, function)

    assert response["statusCode"] == 401, response
    assert json.loads(response["body"])["error"]["code"] == "unauthenticated"


def test_the_sample_step_event_is_a_tenant_id() -> None:
    assert json.loads((EVENTS / "provisioning_step.json").read_text()) == {"tenant_id": "abcde12345"}


# --- Meetings' recordings --------------------------------------------------------------------------


def test_the_recordings_bucket_is_private_encrypted_unversioned_and_expires_after_the_longest_retention() -> None:
    from mla_core.core.retention import MEETING_RECORDINGS_MAX_DAYS, RetentionPolicy

    bucket = template()["Resources"]["MeetingRecordingsBucket"]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    [encryption] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert all(props["PublicAccessBlockConfiguration"].values()) and len(props["PublicAccessBlockConfiguration"]) == 4
    assert "VersioningConfiguration" not in props  # a deleted recording is gone, not a noncurrent version
    [rule] = props["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["Prefix"] == "recordings/"
    assert rule["ExpirationInDays"] == MEETING_RECORDINGS_MAX_DAYS + 1
    assert RetentionPolicy.model_fields["meeting_recordings"].metadata[-1].le == MEETING_RECORDINGS_MAX_DAYS
    [tls] = template()["Resources"]["MeetingRecordingsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_livekits_egress_role_needs_the_external_id_and_may_only_write_recordings() -> None:
    role = template()["Resources"]["MeetingRecordingsEgressRole"]
    assert role["Condition"] == "HasEgressPrincipal"
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": {"Ref": "LiveKitEgressPrincipalArn"}}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "LiveKitEgressExternalId"}}}
    [policy] = role["Properties"]["Policies"]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert set(statement["Action"]) == {"s3:PutObject", "s3:AbortMultipartUpload"}
    assert statement["Resource"] == {"Fn::Sub": "${MeetingRecordingsBucket.Arn}/recordings/*"}
    assert "EgressRoleNeedsAnExternalId" in template()["Rules"]


def test_the_dashboard_and_the_retention_job_are_told_the_recordings_bucket() -> None:
    for function in ("DashboardFunction", "RetentionFunction"):
        variables = functions()[function]["Environment"]["Variables"]
        assert variables["MEETING_RECORDINGS_BUCKET"] == {"Ref": "MeetingRecordingsBucket"}
        assert variables["MEETING_RECORDINGS_REGION"] == {"Ref": "AWS::Region"}
    dashboard = functions()["DashboardFunction"]["Environment"]["Variables"]
    assert dashboard["LIVEKIT_NOTETAKER_AGENT_NAME"] == {"Ref": "LiveKitNotetakerAgentName"}
    assert dashboard["MEETING_RECORDINGS_ROLE_ARN"] == {
        "Fn::If": ["HasEgressPrincipal", {"Fn::GetAtt": ["MeetingRecordingsEgressRole", "Arn"]}, ""]
    }
    (deleting,) = (
        st for p in functions()["RetentionFunction"]["Policies"] if "Statement" in p for st in p["Statement"]
    )
    assert deleting["Resource"] == {"Fn::Sub": "${MeetingRecordingsBucket.Arn}/recordings/*"}
