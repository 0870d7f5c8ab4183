"""The agent's parts without a stack: argument parsing, turn-taking, the voice stack, the fakes, RunPod."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from livekit.agents.tokenize.basic import split_words

from agent_pool import deploy_runpod, phrases
from agent_pool.agent import idempotency_key, indian_mobile
from agent_pool.settings import WorkerSettings
from agent_pool.testing import FakeSTT, FakeTTS, silence
from agent_pool.turn_end import UnfinishedSentence
from agent_pool.voice import language_profile, turn_handling
from mla_core.agents.config import build_default_config

CONFIG = build_default_config(
    tenant_id="abcdefghij",
    mla_name="K. Selvi",
    constituency="Mylapore",
    state="Tamil Nadu",
    languages=["ta", "en"],
    phone_numbers=["+914440001234"],
    greeting=None,
    sender_id="MLAOFC",
)


def test_the_idempotency_key_ignores_spacing_and_case_but_not_content() -> None:
    args = {"category": "water", "description": "No water  for 3 days", "location": "Ward 12", "landmark": None}
    same = {"category": "WATER", "description": " no water for 3 days ", "location": "ward 12"}
    assert idempotency_key("room-1", "log_complaint", args) == idempotency_key("room-1", "log_complaint", same)
    assert idempotency_key("room-1", "log_complaint", args) != idempotency_key("room-2", "log_complaint", args)
    assert idempotency_key("room-1", "log_complaint", args) != idempotency_key(
        "room-1", "log_complaint", {**args, "location": "Ward 13"}
    )


@pytest.mark.parametrize(
    ("said", "number"),
    [
        ("98765 43210", "+919876543210"),
        ("+91 98765-43210", "+919876543210"),
        ("098765 43210", "+919876543210"),
        ("९८७६५४३२१०", "+919876543210"),
        ("12345", None),
        ("5876543210", None),
        ("", None),
    ],
)
def test_a_callback_number_must_be_an_indian_mobile(said: str, number: str | None) -> None:
    assert indian_mobile(said) == number


def test_languages_are_understood_by_any_name_a_caller_uses() -> None:
    assert [phrases.language_code(n) for n in ("Tamil", "தமிழ்", "ta-IN", "हिंदी", "english", "French")] == [
        "ta",
        "ta",
        "ta",
        "hi",
        "en",
        None,
    ]
    assert phrases.spoken_digits(4821) == "4 8 2 1"


def test_a_language_the_tenant_did_not_list_still_gets_a_profile_with_the_recording_notice() -> None:
    hindi = language_profile(CONFIG, "hi")
    assert hindi.stt.language == "hi" and hindi.tts.language == "hi" and "रिकॉर्ड" in hindi.greeting
    assert language_profile(CONFIG, "ta") is CONFIG.profiles["ta"]


@pytest.mark.parametrize("filler", ["haan", "hmm", "हाँ", "சரி", "seri", "ok", "haan ji", "हाँ जी", "சரி சரி", "ok ok"])
def test_a_filler_or_a_two_word_backchannel_does_not_interrupt_the_agent(filler: str) -> None:
    options = turn_handling(WorkerSettings())
    interruption = options["interruption"]
    assert interruption["enabled"] and interruption["min_words"] == 3
    # LiveKit counts words this way before letting speech interrupt the agent.
    assert len(split_words(filler, split_character=True)) < interruption["min_words"]
    assert len(split_words("रुकिए, मेरी बात सुनिए", split_character=True)) >= interruption["min_words"]


def test_turn_taking_is_tuned_for_phone_callers_and_off_in_text_mode() -> None:
    options = turn_handling(WorkerSettings(endpointing_min_delay=0.8))
    assert isinstance(options["turn_detection"], UnfinishedSentence) and options["endpointing"]["min_delay"] == 0.8
    assert options["interruption"]["resume_false_interruption"] is True
    assert turn_handling(WorkerSettings(), text_mode=True)["turn_detection"] == "manual"


def test_the_voice_stack_follows_each_languages_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("DEEPGRAM_API_KEY", "CARTESIA_API_KEY", "SARVAM_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.setenv(key, "test-key")
    from agent_pool.plugins import PluginVoiceStack, build_llm

    voice = PluginVoiceStack()
    tamil = CONFIG.profiles["ta"]
    stt, tts = voice.stt(tamil, CONFIG), voice.tts(tamil)
    assert (stt.provider, stt.model, stt._opts.language) == ("Deepgram", "nova-3", "ta")  # type: ignore[attr-defined]
    assert (tts.model, tts._opts.language, tts._opts.voice) == ("sonic-3", "ta", tamil.tts.voice)  # type: ignore[attr-defined]
    assert tts._opts.word_timestamps is False  # type: ignore[attr-defined]
    assert voice.tts(CONFIG.profiles["en"])._opts.word_timestamps is True  # type: ignore[attr-defined]

    sarvam = tamil.model_copy(deep=True)
    sarvam.stt.provider, sarvam.tts.provider = "sarvam", "sarvam"
    assert voice.stt(sarvam, CONFIG)._opts.language == "ta-IN"  # type: ignore[attr-defined]
    assert voice.tts(sarvam)._opts.target_language_code == "ta-IN"  # type: ignore[attr-defined]
    assert build_llm(CONFIG.llm).model == "gpt-4.1-mini"


async def test_the_fake_tts_and_stt_speak_the_plugin_interface() -> None:
    tts = FakeTTS(ms_per_char=10)
    frames = [event.frame async for event in tts.synthesize("vanakkam")]
    assert sum(frame.samples_per_channel for frame in frames) >= 16_000 * 10 * len("vanakkam") // 1000
    stt = FakeSTT(["நேரு தெரு"], language="ta")
    event = await stt.recognize(silence(0.5))
    assert event.alternatives[0].text == "நேரு தெரு"


# RunPod ------------------------------------------------------------------------------------------


class FakeRunPod:
    def __init__(self) -> None:
        self._templates: dict[str, dict[str, Any]] = {}
        self._pods: dict[str, dict[str, Any]] = {}

    def templates(self) -> list[dict[str, Any]]:
        return list(self._templates.values())

    def save_template(self, spec: dict[str, Any], template_id: str | None) -> dict[str, Any]:
        saved = {**spec, "id": template_id or f"tpl{len(self._templates) + 1}"}
        self._templates[saved["id"]] = saved
        return saved

    def pods(self) -> list[dict[str, Any]]:
        return list(self._pods.values())

    def create_pod(self, name: str, spec: deploy_runpod.PodSpec, template_id: str) -> dict[str, Any]:
        pod = {"id": f"pod{len(self._pods) + 1}", "name": name, "templateId": template_id, "image": spec.image}
        self._pods[pod["id"]] = pod
        return pod

    def terminate_pod(self, pod_id: str) -> None:
        del self._pods[pod_id]


@pytest.fixture
def prod_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in (*deploy_runpod.REQUIRED, *deploy_runpod.OPTIONAL, "RUNPOD_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "prod.env"
    path.write_text("".join(f"{name}=value-of-{name.lower()}-0123456789\n" for name in deploy_runpod.REQUIRED))
    return path


def run_deploy(*args: str, client: Any = None) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = deploy_runpod.main(list(args), client=client)
    return code, out.getvalue()


def test_the_runpod_dry_run_prints_the_plan_offline_with_secrets_masked(prod_env: Path) -> None:
    code, out = run_deploy(
        "--image", "ghcr.io/x/agent:1", "--env-file", str(prod_env), "--peak-calls", "60", "--dry-run"
    )

    assert code == 0
    assert "offline" in out and "create template 'mla-voice-agent': image ghcr.io/x/agent:1, ports 8081/http" in out
    assert out.count("create pod mla-voice-agent-") == 3  # ceil(60 / 40) + 1 spare
    assert "env LIVEKIT_URL=value-of-livekit_url-0123456789" in out
    assert "env OPENAI_API_KEY=****6789" in out and "value-of-openai_api_key" not in out


def test_runpod_secret_references_replace_secret_values(prod_env: Path) -> None:
    code, out = run_deploy("--image", "img:1", "--env-file", str(prod_env), "--secret-refs", "--dry-run")
    assert code == 0 and "env DATABASE_URL={{ RUNPOD_SECRET_database_url }}" in out
    assert "env SARVAM_API_KEY" not in out  # optional and unset


def test_the_deploy_refuses_to_run_without_every_required_setting(prod_env: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial.env"
    partial.write_text("LIVEKIT_URL=wss://x.livekit.cloud\n")
    assert run_deploy("--image", "img:1", "--env-file", str(partial), "--dry-run")[0] == 2


def test_the_deploy_creates_then_keeps_then_rolls_pods_to_a_new_image(prod_env: Path) -> None:
    client = FakeRunPod()
    common = ("--env-file", str(prod_env), "--pods", "2")

    assert run_deploy("--image", "img:1", *common, client=client)[0] == 0
    first = {pod["name"] for pod in client.pods()}
    assert len(first) == 2 and len(client.templates()) == 1

    code, out = run_deploy("--image", "img:1", *common, client=client)  # nothing changed: nothing happens
    assert code == 0 and "created" not in out and {pod["name"] for pod in client.pods()} == first

    assert run_deploy("--image", "img:2", *common, client=client)[0] == 0
    [template] = client.templates()  # updated in place
    assert template["imageName"] == "img:2"
    assert len(client.pods()) == 2 and not first & {pod["name"] for pod in client.pods()}


def test_graphql_literals_escape_what_a_secret_may_contain() -> None:
    literal = deploy_runpod._graphql_value({"env": [{"key": "K", "value": 'a"b\\c'}], "volumeInGb": 0})
    assert literal == '{ env: [{ key: "K", value: "a\\"b\\\\c" }], volumeInGb: 0 }'
