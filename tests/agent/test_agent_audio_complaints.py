"""A whole Tamil and a whole Hindi complaint heard as audio end as the same complaint and SMS as their text
twins: the same script through `make simulate`, once typed and once spoken (`--audio`: espeak-ng caller,
the worker's Silero VAD and turn handling, the agent's voice as audio), from two callers."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from agent_support import complaints_of, sms_to

from support import unique_number

pytestmark = [pytest.mark.audio, pytest.mark.usefixtures("speech")]

SCRIPTS = Path(__file__).resolve().parents[2] / "agent_pool" / "scripts"
# What differs between two calls by design: who called, which call (its room) and which number it got.
PER_CALL = {"id", "reference", "caller_number", "room_name", "call_id", "idempotency_key", "search"}


def simulate(env_file: Path, dialed: str, caller: str, script: str, *audio: str) -> str:
    command = [sys.executable, "-m", "agent_pool.simulate", "--env", str(env_file)]
    command += ["--to", dialed, "--from", caller, "--script", str(SCRIPTS / script), *audio]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def the_complaint(stack: Any, tenant: dict[str, Any], caller: str) -> tuple[int, dict[str, Any]]:
    [row] = complaints_of(stack, tenant, caller)
    return row["reference"], {
        key: value for key, value in row.items() if key not in PER_CALL and not isinstance(value, datetime)
    }


def the_sms(caller: str, reference: int) -> list[tuple[str, Any]]:
    """Each SMS to `caller`: its text with the reference number taken out, and its DLT attributes."""
    return [
        (re.sub(rf"\b{reference}\b", "<reference>", message["body"]), message["attributes"])
        for message in sms_to(caller)
    ]


@pytest.mark.parametrize(
    ("tenant_fixture", "script"),
    [("tamil_tenant", "tamil_complaint.json"), ("hindi_tenant", "hindi_complaint.json")],
    ids=["Tamil", "Hindi"],
)
def test_a_complaint_heard_as_audio_ends_as_the_same_complaint_and_sms_as_its_text_twin(
    request: pytest.FixtureRequest, env_file: Path, stack: Any, tmp_path: Path, tenant_fixture: str, script: str
) -> None:
    tenant = request.getfixturevalue(tenant_fixture)
    dialed = tenant["phone_numbers"][0]
    typed, spoken = unique_number(), unique_number()

    simulate(env_file, dialed, typed, script)
    heard = simulate(env_file, dialed, spoken, script, "--audio", str(tmp_path / "call.wav"))

    assert "call outcome: complaint_logged" in heard
    typed_reference, typed_complaint = the_complaint(stack, tenant, typed)
    spoken_reference, spoken_complaint = the_complaint(stack, tenant, spoken)
    assert spoken_complaint == typed_complaint
    assert the_sms(spoken, spoken_reference) == the_sms(typed, typed_reference) != []
