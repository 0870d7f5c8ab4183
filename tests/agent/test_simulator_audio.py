"""`make simulate … AUDIO=call.wav`: both sides of a simulated call in a stereo WAV a person can listen to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from array import array
from pathlib import Path
from typing import Any

import pytest

from agent_pool.testing_audio import espeak_available
from support import Api, tenant_body, unique_number

LOUD = 1000  # a sample above this is speech, not espeak-ng's fade or silence


@pytest.fixture(scope="module")
def english_tenant(api: Api, admin_token: str) -> dict[str, Any]:
    """A short English greeting, so the call is a few seconds of audio."""
    return api.create_tenant(admin_token, tenant_body(languages=["en"], greeting="Hello!"))


def simulate(env_file: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "agent_pool.simulate", "--env", str(env_file), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False, env=env)


def short_call(tmp_path: Path) -> Path:
    script = tmp_path / "short.json"
    script.write_text(
        json.dumps(
            [{"user": "My water supply has stopped."}, {"tool": "end_call", "args": {}}, {"assistant": "Goodbye!"}]
        )
    )
    return script


def first_loud_second(channel: array[int], sample_rate: int) -> float | None:
    return next((i / sample_rate for i, sample in enumerate(channel) if abs(sample) > LOUD), None)


@pytest.mark.audio
def test_the_audio_of_a_simulated_call_is_the_greeting_then_the_caller_in_a_stereo_wav(
    env_file: Path, english_tenant: dict[str, Any], tmp_path: Path
) -> None:
    if not espeak_available():
        message = "the simulator's --audio needs espeak-ng: run `make speech`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    wav_path = tmp_path / "call.wav"

    result = simulate(
        env_file,
        "--to",
        english_tenant["phone_numbers"][0],
        "--from",
        unique_number(),
        "--script",
        str(short_call(tmp_path)),
        "--audio",
        str(wav_path),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "caller: My water supply has stopped." in result.stdout  # the transcript, as in text mode
    assert "agent:  Goodbye!" in result.stdout and "call outcome: no_complaint" in result.stdout
    with wave.open(str(wav_path)) as reader:
        assert (reader.getnchannels(), reader.getframerate(), reader.getsampwidth()) == (2, 16_000, 2)
        seconds = reader.getnframes() / reader.getframerate()
        samples = array("h", reader.readframes(reader.getnframes()))
    assert f"audio: {wav_path} ({seconds:.1f} s;" in result.stdout
    caller, agent = samples[0::2], samples[1::2]
    caller_starts, agent_starts = first_loud_second(caller, 16_000), first_loud_second(agent, 16_000)
    assert caller_starts is not None and agent_starts is not None  # both sides are heard
    assert agent_starts < caller_starts  # the greeting first: the caller waits for it
    assert seconds < 20


def test_the_simulators_audio_without_espeak_ng_says_to_run_make_speech(tmp_path: Path) -> None:
    env_file = tmp_path / "dev.env"
    env_file.write_text("")
    no_espeak = {**os.environ, "PATH": str(tmp_path)}  # no espeak-ng on it

    result = simulate(
        env_file,
        "--to",
        "+914440001234",
        "--script",
        str(short_call(tmp_path)),
        "--audio",
        str(tmp_path / "call.wav"),
        env=no_espeak,
    )

    assert result.returncode != 0
    assert "make speech" in result.stderr
    assert not (tmp_path / "call.wav").exists()
