"""`python -m agent_pool.simulate`'s exit status and usage, as `make simulate` shows them to a person."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from agent_support import complaints_of

from support import unique_number

SCRIPTS = Path(__file__).resolve().parents[2] / "agent_pool" / "scripts"


def simulate(env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "agent_pool.simulate", "--env", str(env_file), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def failed_lines(output: str) -> list[str]:
    return re.findall(r"^FAILED: .*$", output, re.MULTILINE)


def test_a_call_that_recovered_from_a_tool_error_exits_0(
    env_file: Path, tamil_tenant: dict[str, Any], stack: Any, tmp_path: Path
) -> None:
    script = tmp_path / "recovered.json"
    script.write_text(
        json.dumps(
            [
                {"user": "எங்கள் தெருவில் குடிநீர் வரவில்லை. நேரு தெரு, வார்டு 12."},
                {
                    "tool": "log_complaint",
                    "args": {
                        "category": "no-such-category",
                        "description": "குடிநீர் வரவில்லை",
                        "location": "நேரு தெரு, வார்டு 12",
                    },
                },
                {
                    "tool": "log_complaint",
                    "args": {"category": "water", "description": "குடிநீர் வரவில்லை", "location": "நேரு தெரு, வார்டு 12"},
                },
                {"assistant": "உங்கள் புகார் பதிவு செய்யப்பட்டது. புகார் எண்: {reference_digits}."},
                {"user": "நன்றி."},
                {"tool": "end_call", "args": {}},
                {"assistant": "வணக்கம்!"},
            ],
            ensure_ascii=False,
        )
    )
    caller = unique_number()

    result = simulate(env_file, "--to", tamil_tenant["phone_numbers"][0], "--from", caller, "--script", str(script))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "<- log_complaint [ERROR]" in result.stdout and "tool error (recovered): log_complaint" in result.stdout
    assert failed_lines(result.stdout) == []
    [row] = complaints_of(stack, tamil_tenant, caller)
    assert f"புகார் எண்: {' '.join(str(row['reference']))}." in result.stdout


def test_a_tool_error_the_call_never_recovers_from_fails_with_one_line(
    env_file: Path, tamil_tenant: dict[str, Any]
) -> None:
    # A status check from a caller with no complaints: the tool refuses, and nothing else happens.
    result = simulate(
        env_file,
        "--to",
        tamil_tenant["phone_numbers"][0],
        "--from",
        unique_number(),
        "--script",
        str(SCRIPTS / "status_check.json"),
    )

    assert result.returncode == 1
    assert failed_lines(result.stdout) == [
        "FAILED: check_complaint_status failed and the call never recovered: A reference number is only digits,"
        " like 4 8 2 1. Ask the caller to say it again."
    ]


def test_a_script_reads_the_reference_back_digit_by_digit(
    env_file: Path, tamil_tenant: dict[str, Any], stack: Any
) -> None:
    caller = unique_number()

    result = simulate(
        env_file,
        "--to",
        tamil_tenant["phone_numbers"][0],
        "--from",
        caller,
        "--script",
        str(SCRIPTS / "tamil_complaint_read_back.json"),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    [row] = complaints_of(stack, tamil_tenant, caller)
    digits = " ".join(str(row["reference"]))
    assert f"caller: நானே சொல்கிறேன்: {digits}. இதன் நிலை என்ன?" in result.stdout
    assert f'-> check_complaint_status({{"reference": "{digits}"}})' in result.stdout
    assert "<- check_complaint_status [ok]" in result.stdout and "{reference_digits}" not in result.stdout


def test_the_simulator_without_arguments_prints_an_example_that_works(
    env_file: Path, tamil_tenant: dict[str, Any]
) -> None:
    result = simulate(env_file)

    assert result.returncode == 64
    assert "error: the following arguments are required" not in result.stderr
    number = tamil_tenant["phone_numbers"][0]
    example = re.search(r"e\.g\. make simulate TO=(\S+) FROM=(\S+) SCRIPT=(\S+)", result.stderr)
    assert example, result.stderr
    listed = re.findall(r"^  (\+91\d+)   (.+)$", result.stderr, re.M)  # the numbers the stack answers (10 at most)
    assert listed and example.group(1) in [n for n, _ in listed], result.stderr
    assert number in [n for n, _ in listed] or len(listed) == 10  # ours, unless other tests' tenants fill the list
    assert example.group(1).startswith("+91") and Path(example.group(3)).name == "tamil_complaint.json"
    for script in SCRIPTS.glob("*.json"):
        assert script.name in result.stderr
    assert "{reference_digits}" in simulate(env_file, "--help").stdout  # the scripts' format, placeholders too
