"""Every function of template.yaml, laid out as `sam build` lays it out and loaded as Lambda loads it.

For each function: the contents of its CodeUri folder are the task root (`/var/task`); the layer is
its ContentUri plus the packages its generated `requirements.txt` pins (linked from this venv at the
pinned versions) under `python/` (`/opt/python`). A fresh interpreter started with `-E -S` (no site
hooks, so no editable install; no PYTHONPATH) gets only those two folders and the standard library on
its path, imports the handler and calls it: HTTP functions with API Gateway HTTP API v2 events for
every route family they serve (an API route, a page, a static file, the docs), the others with their
sample event from `sam/events/`. The functions run against this test session's local stack.

What it does not prove (README, "Deploying"): the deployed runtime is Python 3.12 on arm64, here it is
the venv's Python on this machine's architecture, with the venv's wheels; `sam build` itself, the
Lambda runtime's bootstrap, and the size limits are not exercised.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from local_stack import template

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "mla_core"
EVENTS = ROOT / "sam" / "events"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    status: int
    kind: str  # "envelope" (our JSON), "html", "css", "javascript", "json" (plain JSON), "redirect"
    signed_in: bool = False
    query: str = ""
    body: str | None = None


# What each route family of the HTTP API is asked, by the route's path in template.yaml.
ROUTE_REQUESTS: dict[str, list[Request]] = {
    "/admin/{proxy+}": [
        Request("GET", "/admin/tenants", 401, "envelope"),
        Request("GET", "/admin/tenants", 200, "envelope", signed_in=True, query="limit=1"),
        Request("GET", "/admin/docs", 303, "redirect"),
        Request("GET", "/admin/docs", 200, "html", signed_in=True),
        Request("GET", "/admin/docs/assets/swagger-ui-bundle.js", 200, "javascript"),
        Request("GET", "/admin/docs/assets/swagger-ui.css", 200, "css"),
        Request("GET", "/admin/docs/assets/api-docs.js", 200, "javascript"),
        Request("GET", "/admin/openapi.json", 401, "envelope"),
        Request("GET", "/admin/openapi.json", 200, "json", signed_in=True),
        Request("GET", "/admin/panel/login", 200, "html"),
        Request("GET", "/admin/panel/static/app.css", 200, "css"),
    ],
    "/auth/{proxy+}": [
        Request("GET", "/auth/profile", 200, "envelope", signed_in=True),
        Request("POST", "/auth/login", 422, "envelope", body="{}"),
    ],
    "/api/{proxy+}": [Request("GET", "/api/complaints", 401, "envelope")],
    "/docs": [Request("GET", "/docs", 200, "html")],
    "/docs/assets/{proxy+}": [
        Request("GET", "/docs/assets/swagger-ui-bundle.js", 200, "javascript"),
        Request("GET", "/docs/assets/swagger-ui.css", 200, "css"),
        Request("GET", "/docs/assets/favicon-32x32.png", 200, "image/png"),
    ],
    "/openapi.json": [Request("GET", "/openapi.json", 200, "json")],
    "/": [Request("GET", "/", 303, "redirect")],
    "/register": [Request("GET", "/register", 303, "redirect", query="token=abc")],
    "/app/{proxy+}": [
        Request("GET", "/app/login", 200, "html"),
        Request("GET", "/app/static/app.css", 200, "css"),
        Request("GET", "/app/static/test_call.js", 200, "javascript"),
    ],
    "/webhooks/livekit": [Request("POST", "/webhooks/livekit", 401, "envelope", body="{}")],
    "/webhooks/{proxy+}": [
        Request("GET", "/webhooks/openapi.json", 200, "json"),
        Request("GET", "/webhooks/docs/assets/swagger-ui-bundle.js", 200, "javascript"),
    ],
}

# The sample event of a function invoked by something other than the HTTP API.
SAMPLE_EVENTS = {
    "SQS": "complaint_queued.json",
    "Schedule": "schedule.json",
    "StateMachine": "provisioning_step.json",
    "WebSocket": "websocket_connect.json",  # a $connect with a ticket not signed by us
}
# A function whose queue holds other messages than the complaint queue's.
SAMPLE_EVENT_OF = {"MemoryFunction": "memory_job_queued.json", "MeetingSummaryFunction": "meeting_summary_queued.json"}
# The table the sample's tenant (which has no schema) is missing, by function.
MISSING_TABLE_OF = {"MemoryFunction": "memory_jobs", "MeetingSummaryFunction": "meeting_summaries"}


# --- The artifacts -------------------------------------------------------------------------------------


def layer_requirements() -> list[Requirement]:
    """The layer's pinned requirements that apply on this platform."""
    lines = (LAYER / "requirements.txt").read_text(encoding="utf-8").splitlines()
    found = [Requirement(line) for line in lines if line and not line.startswith(("#", " "))]
    return [req for req in found if req.marker is None or req.marker.evaluate()]


def build_layer(target: Path) -> Path:
    """`python/` as `sam build` makes it: the ContentUri copied, the requirements installed beside it."""
    python = target / "python"
    shutil.copytree(LAYER, python, ignore=shutil.ignore_patterns("__pycache__", "requirements.txt"))
    for requirement in layer_requirements():
        (pinned,) = requirement.specifier
        dist = importlib.metadata.distribution(requirement.name)
        assert dist.version == pinned.version, (
            f"the venv has {requirement.name} {dist.version}, the layer pins {pinned}"
        )
        for file in dist.files or ():
            if file.parts[0] == ".." or "__pycache__" in file.parts:  # console scripts, bytecode
                continue
            link = python / file
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(Path(str(file.locate())).resolve())
    return python


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_layer(tmp_path_factory.mktemp("layer"))


@pytest.fixture(scope="module")
def task_roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each CodeUri folder's contents, copied once (several functions share one)."""
    roots = {}
    for code_uri in sorted({spec.code_uri for spec in template.functions()}):
        root = tmp_path_factory.mktemp("task")
        shutil.copytree(ROOT / code_uri, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        roots[code_uri] = root
    return roots


# --- What each function is asked -----------------------------------------------------------------------


def trigger(logical_id: str) -> str:
    """How `logical_id` is invoked: by the HTTP API, a queue, a schedule, or a state machine."""
    resource = template.load_template()["Resources"][logical_id]
    kinds = {event["Type"] for event in resource["Properties"].get("Events", {}).values()}
    if kinds in ({"HttpApi"}, {"SQS"}, {"Schedule"}):
        return kinds.pop()
    machines = template.state_machines()
    if not kinds and any(logical_id in machine.substitutions.values() for machine in machines):
        return "StateMachine"
    if not kinds and any(
        r["Type"] == "AWS::ApiGatewayV2::Integration"
        and f"${{{logical_id}.Arn}}" in str(r["Properties"]["IntegrationUri"])
        for r in template.load_template()["Resources"].values()
    ):
        return "WebSocket"
    raise AssertionError(f"{logical_id}: no sample invocation for events {sorted(kinds)}: add one to this test")


def http_routes(logical_id: str) -> list[str]:
    events = template.load_template()["Resources"][logical_id]["Properties"]["Events"].values()
    return [event["Properties"]["Path"] for event in events]


def http_event(request: Request, route: str, token: str) -> dict[str, Any]:
    headers = {"host": "abc123.execute-api.ap-south-1.amazonaws.com", "user-agent": "packaging-test"}
    if request.body is not None:
        headers["content-type"] = "application/json"
    if request.signed_in:
        headers["authorization"] = f"Bearer {token}"
    return {
        "version": "2.0",
        "routeKey": f"ANY {route}",
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": headers["host"],
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "packaging-test",
            },
            "requestId": "packaging-test",
            "routeKey": f"ANY {route}",
            "stage": "$default",
            "time": "01/Dec/2026:10:00:00 +0000",
            "timeEpoch": 1796119200000,
        },
        "body": request.body,
        "isBase64Encoded": False,
    }


# The program the fresh interpreter runs: import the handler from the two roots, call it with each
# event, and report what came back and which modules were loaded from anywhere else.
RUNTIME = r"""
import importlib, json, sys, types
task, layer = sys.argv[1], sys.argv[2]
stdlib = [p for p in sys.path if p]
sys.path[:] = [task, layer, *stdlib]
plan = json.load(sys.stdin)
module_name, _, attribute = plan["handler"].rpartition(".")
handler = getattr(importlib.import_module(module_name), attribute)
context = types.SimpleNamespace(
    function_name=plan["function"], function_version="$LATEST", memory_limit_in_mb=512,
    aws_request_id="packaging-test",
    invoked_function_arn="arn:aws:lambda:ap-south-1:123456789012:function:" + plan["function"],
)
results = []
for event in plan["events"]:
    try:
        results.append({"returned": handler(event, context)})
    except Exception as exc:
        results.append({"raised": type(exc).__module__ + "." + type(exc).__qualname__, "message": str(exc)})
roots = (task, layer, *stdlib)
elsewhere = sorted(
    name for name, module in list(sys.modules.items())
    if getattr(module, "__file__", None) and not module.__file__.startswith(roots)
)
print(json.dumps({"results": results, "elsewhere": elsewhere}, default=str))
"""


def function_environment(stack: Any, logical_id: str) -> dict[str, str]:
    """The template's Globals environment (its literal values), then what the local stack provides."""
    globals_env = template.load_template()["Globals"]["Function"]["Environment"]["Variables"]
    literal = {key: value for key, value in globals_env.items() if isinstance(value, str)}
    return {
        **literal,
        **stack.env,
        "AWS_LAMBDA_FUNCTION_NAME": logical_id,
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
    }


def run_function(
    spec: template.FunctionSpec, task: Path, layer: Path, events: list[dict[str, Any]], env: dict[str, str]
) -> dict[str, Any]:
    plan = {"handler": spec.handler, "function": spec.logical_id, "events": events}
    done = subprocess.run(
        [sys.executable, "-E", "-S", "-c", RUNTIME, str(task), str(layer)],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        cwd=task,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{spec.logical_id} did not load:\n{done.stderr[-4000:]}"
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def check_http_response(request: Request, response: dict[str, Any]) -> None:
    where = f"{request.method} {request.path}"
    assert "returned" in response, f"{where} raised {response}"
    answer = response["returned"]
    assert answer["statusCode"] == request.status, f"{where}: {answer['statusCode']} {answer.get('body', '')[:300]}"
    content_type = {key.lower(): value for key, value in answer["headers"].items()}.get("content-type", "")
    if request.kind == "envelope":
        assert "success" in json.loads(answer["body"]), f"{where}: not the envelope"
    elif request.kind == "json":
        json.loads(answer["body"])
    elif request.kind == "redirect":
        assert any(key.lower() == "location" for key in answer["headers"]), where
    else:
        assert request.kind in content_type, f"{where}: {content_type}"


# --- The tests -----------------------------------------------------------------------------------------


def test_every_route_of_the_http_api_has_requests_in_this_test() -> None:
    for spec in template.functions():
        if trigger(spec.logical_id) == "HttpApi":
            missing = [route for route in http_routes(spec.logical_id) if route not in ROUTE_REQUESTS]
            assert not missing, f"{spec.logical_id}: add requests for {missing} to ROUTE_REQUESTS"


def test_the_modules_of_every_function_folder_have_names_of_their_own() -> None:
    """All the folders share one process locally, so a module name may live in one folder only, and
    may not hide a module of the standard library or of the layer."""
    owners: dict[str, str] = {}
    taken = set(sys.stdlib_module_names) | {"mla_core"}
    for code_uri in sorted({spec.code_uri for spec in template.functions()}):
        for path in (ROOT / code_uri).glob("*.py"):
            assert path.stem not in taken, f"{code_uri}/{path.name} hides the module {path.stem}"
            assert path.stem not in owners, f"{path.stem} is in both {owners[path.stem]} and {code_uri}"
            owners[path.stem] = code_uri


def test_every_function_loads_and_answers_in_its_lambda_layout(
    stack: Any, admin_token: str, layer: Path, task_roots: dict[str, Path]
) -> None:
    specs = template.functions()

    def invoke(spec: template.FunctionSpec) -> tuple[template.FunctionSpec, list[Any], dict[str, Any]]:
        kind = trigger(spec.logical_id)
        if kind == "HttpApi":
            asked: list[Any] = [
                (route, request) for route in http_routes(spec.logical_id) for request in ROUTE_REQUESTS[route]
            ]
            events = [http_event(request, route, admin_token) for route, request in asked]
        else:
            asked = [kind]
            sample = SAMPLE_EVENT_OF.get(spec.logical_id, SAMPLE_EVENTS[kind])
            events = [json.loads((EVENTS / sample).read_text(encoding="utf-8"))]
        env = function_environment(stack, spec.logical_id)
        return spec, asked, run_function(spec, task_roots[spec.code_uri], layer, events, env)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(invoke, specs))

    for spec, asked, report in reports:
        assert report["elsewhere"] == [], f"{spec.logical_id} imported from outside its artifact: {report['elsewhere']}"
        for question, response in zip(asked, report["results"], strict=True):
            if isinstance(question, tuple):
                check_http_response(question[1], response)
            elif question == "SQS":  # the sample's tenant has no schema: the whole batch goes back to SQS
                assert response.get("raised", "").endswith("BatchProcessingError"), response
                missing = MISSING_TABLE_OF.get(spec.logical_id, "complaints")
                assert f'tenant_abcde12345.{missing}" does not exist' in response["message"], response
            elif question == "Schedule":
                assert "returned" in response, response
            elif question == "WebSocket":  # refused: API Gateway then refuses the upgrade
                assert response.get("returned", {}).get("statusCode") == 401, response
            else:  # a provisioning step for the sample tenant id: our own code answered
                raised = response.get("raised", "mla_core.")
                assert raised.startswith("mla_core."), f"{spec.logical_id}: {response}"
