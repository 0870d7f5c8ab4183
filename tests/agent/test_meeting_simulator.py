"""`python -m agent_pool.simulate_meeting` in its own process, against the test stack as `make dev` would run it:
the scripted janata darbar held through the real note-taker, its transcript in Postgres and on the API."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent_pool.simulate_meeting import MeetingScript, load_script
from support import Api

SCRIPT = Path(__file__).resolve().parents[2] / "agent_pool" / "scripts" / "meetings" / "janata_darbar.json"


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    from support import tenant_body

    return api.office_admin(admin_token, tenant_body(languages=["ta", "hi", "en"]))


def test_the_meeting_simulator_holds_the_scripted_darbar_and_says_where_its_transcript_is(
    env_file: Path, office: dict[str, Any], api: Api
) -> None:
    args = ["--script", str(SCRIPT), "--env", str(env_file), "--tenant", office["tenant_id"]]
    result = subprocess.run(
        [sys.executable, "-m", "agent_pool.simulate_meeting", *args], capture_output=True, text=True, timeout=180
    )

    assert result.returncode == 0, result.stdout + result.stderr
    [meeting_id] = re.findall(r"^page: +\S+/app/meetings/([0-9a-f-]{36})$", result.stdout, re.MULTILINE)
    assert f"/api/meetings/{meeting_id}/transcript" in result.stdout
    script = load_script(SCRIPT)
    data = api.request("GET", f"/api/meetings/{meeting_id}/transcript", office["token"]).json()["data"]
    lines = sorted(script.lines, key=lambda line: line.at)
    assert [s["text"] for s in data["segments"]] == [line.text for line in lines]
    assert [s["start_ms"] for s in data["segments"]] == pytest.approx([line.at * 1000 for line in lines], abs=50)
    assert {s["speaker"] for s in data["segments"]} >= {"Hall microphone · S0", "Hall microphone · S1", "Meena"}
    assert {s["language"] for s in data["segments"]} == {"ta", "hi", "en"}
    detail = api.request("GET", f"/api/meetings/{meeting_id}", office["token"]).json()["data"]
    assert detail["status"] == "ended"
    [announced] = re.findall(r"^note-taker announced: (\d+) sentences", result.stdout, re.MULTILINE)
    assert int(announced) >= 6  # in 3 languages to the first joiner, again to those who joined after


def test_a_bad_meeting_script_is_refused_naming_what_is_wrong(tmp_path: Path) -> None:
    raw = json.loads(SCRIPT.read_text())
    assert MeetingScript.model_validate(raw)
    raw["lines"].append({"who": "nobody", "at": 1, "until": 2, "language": "ta", "text": "x"})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw))
    result = subprocess.run(
        [sys.executable, "-m", "agent_pool.simulate_meeting", "--script", str(bad), "--env", str(bad)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 64 and "nobody" in result.stderr
