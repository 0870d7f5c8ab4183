"""Provisioning wall time in local mode: POST /admin/tenants until the tenant is active.

Baseline in the same run: an execution of a state machine with the same number of Task states whose
Lambdas do nothing, on the same moto, so the ratio shows what our steps add to the orchestration.
Goal: p50 ≤ 3 s. Run: `make bench` or `.venv/bin/python -m bench.provisioning [--tenants 20]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from local_stack import aws
from local_stack.stack import LocalStack


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def provision(api: str, token: str, index: int) -> float:
    body = {
        "mla_name": f"Bench MLA {index}",
        "constituency": "Mylapore",
        "state": "Tamil Nadu",
        "languages": ["ta", "en"],
        "phone_numbers": [f"+9191{int(time.time() * 1000) % 10**8:08d}"],
        "admin_email": f"bench{index}-{time.time_ns()}@example.in",
    }
    started = time.perf_counter()
    response = httpx.post(
        f"{api}/admin/tenants",
        params={"wait": "true"},
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise SystemExit(f"tenant {index} did not go live: {response.status_code} {response.text}")
    return elapsed


def baseline_execution(stack: LocalStack, tasks: int) -> float:
    """One execution of `tasks` no-op Lambda Tasks chained, start to SUCCEEDED."""
    assert stack.moto is not None
    names = [f"bench-noop-{i}" for i in range(tasks)]
    for name in names:
        stack.moto.runner.register(name, lambda event, context: event)
    arns = aws.deploy_lambda_functions(stack.moto, names)
    states = {
        f"S{i}": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": arns[name], "Payload.$": "$"},
            "OutputPath": "$.Payload",
            **({"Next": f"S{i + 1}"} if i + 1 < tasks else {"End": True}),
        }
        for i, name in enumerate(names)
    }
    path = Path(tempfile.mkdtemp()) / "noop.asl.json"
    path.write_text(json.dumps({"StartAt": "S0", "States": states}))
    sfn = stack.moto.client("stepfunctions")
    role = aws.ensure_role(stack.moto.client("iam"), "bench-states", "states.amazonaws.com")
    arn = aws.deploy_state_machine(sfn, path, {}, "bench-noop", role)
    started = time.perf_counter()
    execution = sfn.start_execution(stateMachineArn=arn, name=f"noop-{time.time_ns()}", input='{"tenant_id": "x"}')
    while sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING":
        time.sleep(0.01)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=20)
    args = parser.parse_args()
    stack = LocalStack(root=Path(tempfile.mkdtemp()), ephemeral_ports=True).start()
    try:
        api = stack.env["API_URL"]
        login = httpx.post(
            f"{api}/auth/login",
            json={"email": stack.env["SUPERADMIN_EMAIL"], "password": stack.env["SUPERADMIN_PASSWORD"]},
        )
        token = login.json()["data"]["access_token"]
        provision(api, token, -1)  # warm-up: first boto3 clients, first imports
        samples, baselines = [], []
        for index in range(args.tenants):  # interleaved, so noise falls on both alike
            samples.append(provision(api, token, index))
            baselines.append(baseline_execution(stack, tasks=7))
    finally:
        stack.stop()
    p50, p95, base = statistics.median(samples), percentile(samples, 0.95), statistics.median(baselines)
    print(f"Provisioning in local mode, {args.tenants} tenants (goal: p50 ≤ 3 s)")
    print(f"  POST /admin/tenants?wait=true → active   p50 {p50:6.2f} s   p95 {p95:6.2f} s")
    print(f"  baseline: 7 no-op Lambda tasks on moto   p50 {base:6.2f} s")
    print(f"  ratio p50 / baseline                     {p50 / base:6.1f}×")


if __name__ == "__main__":
    main()
