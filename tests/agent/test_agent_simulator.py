"""`python -m agent_pool.simulate` in its own process, against the test stack as `make dev` would run it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from agent_support import complaints_of, sms_to

from agent_pool.testing import ScriptError, parse_script
from support import unique_number

SCRIPTS = Path(__file__).resolve().parents[2] / "agent_pool" / "scripts"


def simulate(env_file: Path, dialed: str, caller: str | None, script: str) -> subprocess.CompletedProcess[str]:
    args = [
        sys.executable,
        "-m",
        "agent_pool.simulate",
        "--to",
        dialed,
        "--script",
        str(SCRIPTS / script),
        "--env",
        str(env_file),
    ]
    if caller:
        args += ["--from", caller]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def references(output: str) -> list[int]:
    return [int(n) for n in re.findall(r"^complaint reference: (\d+)$", output, re.MULTILINE)]


def test_the_simulator_logs_a_tamil_complaint_and_then_checks_its_status(
    env_file: Path, tamil_tenant: dict[str, Any], stack: Any
) -> None:
    caller = unique_number()

    logged = simulate(env_file, tamil_tenant["phone_numbers"][0], caller, "tamil_complaint.json")

    assert logged.returncode == 0, logged.stdout + logged.stderr
    [reference] = references(logged.stdout)
    [row] = complaints_of(stack, tamil_tenant, caller)
    assert row["reference"] == reference and row["language"] == "ta" and row["caller_name"] == "முருகன்"
    assert f"புகார் எண்: {reference}" in logged.stdout  # the agent read out the stored reference
    assert "-> log_complaint(" in logged.stdout and "call outcome: complaint_logged" in logged.stdout
    assert len(sms_to(caller)) == 1

    checked = simulate(env_file, tamil_tenant["phone_numbers"][0], caller, "status_check.json")

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "<- check_complaint_status [ok]" in checked.stdout and "call outcome: status_checked" in checked.stdout
    assert " ".join(str(reference)) in checked.stdout  # the returning caller heard the open complaint first


def test_the_simulator_logs_a_hindi_complaint(env_file: Path, hindi_tenant: dict[str, Any], stack: Any) -> None:
    caller = unique_number()

    result = simulate(env_file, hindi_tenant["phone_numbers"][0], caller, "hindi_complaint.json")

    assert result.returncode == 0, result.stdout + result.stderr
    [reference] = references(result.stdout)
    [row] = complaints_of(stack, hindi_tenant, caller)
    assert row["reference"] == reference and row["category"] == "streetlights" and row["language"] == "hi"


def test_the_simulator_fails_for_an_unknown_number_and_for_a_tool_error(
    env_file: Path, tamil_tenant: dict[str, Any], tmp_path: Path
) -> None:
    unknown = simulate(env_file, unique_number(), unique_number(), "tamil_complaint.json")
    assert unknown.returncode == 2 and "no active tenant" in unknown.stdout

    # A status check from a caller with no complaints: the tool refuses, the run fails.
    refused = simulate(env_file, tamil_tenant["phone_numbers"][0], unique_number(), "status_check.json")
    assert refused.returncode == 1 and "tool error: check_complaint_status" in refused.stdout


def test_every_example_script_parses_and_a_bad_one_does_not() -> None:
    for script in SCRIPTS.glob("*.json"):
        assert parse_script(json.loads(script.read_text()))
    with pytest.raises(ScriptError):
        parse_script([{"caller": "hello"}])
