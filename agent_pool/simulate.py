"""A call without a phone: run the real agent in text mode against the stack `make dev` started.

    python -m agent_pool.simulate --to +914440001234 --from +919876543210 \\
        --script agent_pool/scripts/tamil_complaint.json [--llm openai] [--env .local/dev.env]

Everything but the audio is real: tenant resolution from the dialed number, the tenant's config,
the tools, the database, the SMS (see `GET /local/outbox`). Without --to or --script it prints an
example with a number the running stack answers, and the scripts there are. A script's format
(turns, and the `{reference}` and `{reference_digits}` placeholders) is `SCRIPT_FORMAT` below, which
`--help` prints.

With `--audio call.wav` the same call is heard as audio (`agent_pool.testing_audio.audio_call`: the
worker's Silero VAD and turn handling, the caller's lines and the agent's answers spoken by espeak-ng,
`make speech`) and written to a 16 kHz stereo WAV: the caller on the left, the agent on the right.

Exit status: 0 the call ended well, even if a tool failed once and the call recovered (the same tool
later succeeded, or a complaint was logged or a status given); 1 a real failure, said in one
`FAILED: …` line (an exception, a script the agent did not follow, the call ending early, a tool
error the call never recovered from); 2 no active tenant owns the dialed number; 64 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import uuid
from array import array
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from livekit.agents import llm
from livekit.agents.voice.run_result import RunResult

from agent_pool.call import CallRun, text_call
from agent_pool.phrases import spoken_digits
from agent_pool.testing import CallTool, LlmStep, Say, ScriptedLLM, ScriptError, ScriptTurn, UserTurn, parse_script
from mla_core.agents.config import LlmSettings
from mla_core.core.privacy import RedactNumbers

if TYPE_CHECKING:
    from agent_pool.testing_audio import AudioCall
    from mla_core.adapters import Services

EXIT_OK, EXIT_AGENT_FAILED, EXIT_NO_TENANT, EXIT_USAGE = 0, 1, 2, 64
REFERENCE_PLACEHOLDER = "{reference}"
REFERENCE_DIGITS_PLACEHOLDER = "{reference_digits}"
PLACEHOLDERS = (REFERENCE_PLACEHOLDER, REFERENCE_DIGITS_PLACEHOLDER)
SCRIPTS = Path(__file__).resolve().parent / "scripts"
#: How a call that met a tool error may still have ended well.
GOOD_OUTCOMES = frozenset({"complaint_logged", "status_checked"})

SCRIPT_FORMAT = """\
A script is a JSON list of turns, played in order:
  {"user": "…"}                       the caller says this
  {"assistant": "…"}                  the LLM answers with this sentence (spoken by the agent)
  {"tool": "log_complaint", "args": {…}}   the LLM calls this tool (the agent's spoken answer follows
                                      as the next assistant turn)
With --llm openai only the user turns are used: the tenant's model decides the rest.

In any turn's text or a tool argument:
  {reference}          the complaint reference logged earlier in this call, else the caller's newest
                       open complaint, e.g. 1002 (a status check can follow a complaint script run
                       from the same number)
  {reference_digits}   the same reference digit by digit, as a caller reads it out: 1 0 0 2
"""


def load_env_file(path: Path) -> None:
    """`KEY=value` lines (what `make dev` writes) into os.environ, before any settings are read."""
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        os.environ[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")


def default_env_file() -> Path:
    return Path(os.environ.get("MLA_LOCAL_DIR", ".local")) / "dev.env"


@dataclass(frozen=True)
class ToolResult:
    """One tool call's result, in the order the call made them."""

    name: str
    ok: bool
    output: str


@dataclass
class Report:
    """What happened in the call, as the exit status and the last lines printed see it."""

    references: list[int] = field(default_factory=list)
    tool_results: list[ToolResult] = field(default_factory=list)
    outcome: str | None = None
    failure: str | None = None
    rejected: bool = False

    @property
    def tool_errors(self) -> list[ToolResult]:
        return [result for result in self.tool_results if not result.ok]

    def recovered(self, error: ToolResult) -> bool:
        """A tool error the call got past: the same tool succeeded later, or the call did what it was for."""
        later = self.tool_results[self.tool_results.index(error) + 1 :]
        return self.outcome in GOOD_OUTCOMES or any(r.ok and r.name == error.name for r in later)

    @property
    def verdict(self) -> str | None:
        """Why the run failed, in one line; None when the call ended well."""
        if self.failure:
            return self.failure
        for error in self.tool_errors:
            if not self.recovered(error):
                return f"{error.name} failed and the call never recovered: {_one_line(error.output)}"
        return None

    @property
    def exit_code(self) -> int:
        if self.rejected:
            return EXIT_NO_TENANT
        return EXIT_AGENT_FAILED if self.verdict else EXIT_OK


def _one_line(text: str) -> str:
    return " ".join(text.split())


class Printer:
    """Prints the conversation as it happens: caller and agent lines, tool calls and results."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._seen: set[str] = set()

    def line(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def new_items(self, history: llm.ChatContext, report: Report) -> None:
        for item in history.items:
            if item.id in self._seen:
                continue
            self._seen.add(item.id)
            if item.type == "message" and item.role == "assistant":
                self.line(f"agent:  {item.text_content}")
            elif item.type == "message" and item.role == "user":
                self.line(f"caller: {item.text_content}")
            elif item.type == "function_call":
                self.line(f"  -> {item.name}({_readable(item.arguments)})")
            elif item.type == "function_call_output":
                marker = "ERROR" if item.is_error else "ok"
                self.line(f"  <- {item.name} [{marker}]: {item.output}")
                report.tool_results.append(ToolResult(item.name, not item.is_error, str(item.output)))
            elif item.type == "agent_handoff" and item.old_agent_id is not None:
                self.line(f"  == handoff to {item.new_agent_id}")


def _readable(arguments: str) -> str:
    """Tool arguments with Tamil and Hindi as text, not `\\u0b95` escapes."""
    try:
        return json.dumps(json.loads(arguments), ensure_ascii=False)
    except ValueError:
        return arguments


class References:
    """Resolves `{reference}` and `{reference_digits}`: the last one logged in this call, else the
    caller's newest open one."""

    def __init__(self, newest_open: str | None = None) -> None:
        self.run: CallRun | None = None
        self._newest_open = newest_open

    async def look_up(self, run: CallRun) -> None:
        """Find the caller's newest open complaint once, off the event loop."""
        from mla_core.complaints import intake

        self.run = run
        call = run.call
        if call is not None and call.caller_number:
            newest = await asyncio.to_thread(
                intake.open_complaints, call.services, call.tenant.tenant_id, call.caller_number, limit=1
            )
            self._newest_open = str(newest[0].reference) if newest else None

    def current(self) -> str | None:
        call = self.run.call if self.run is not None else None
        if call is not None and call.logged:
            return str(call.logged[-1].reference)
        return self._newest_open

    def fill(self, text: str) -> str:
        """`text` with the placeholders replaced; left as they are while no reference is known."""
        reference = self.current()
        if reference is None:
            return text
        return text.replace(REFERENCE_PLACEHOLDER, reference).replace(
            REFERENCE_DIGITS_PLACEHOLDER, spoken_digits(reference)
        )

    def step(self, step: LlmStep) -> LlmStep | Callable[[llm.ChatContext], LlmStep]:
        """A step that mentions a placeholder is decided when the LLM is called, not before."""
        written = json.dumps(step.text if isinstance(step, Say) else dict(step.args), ensure_ascii=False)
        if not any(placeholder in written for placeholder in PLACEHOLDERS):
            return step

        def decided(_chat_ctx: llm.ChatContext) -> LlmStep:
            if isinstance(step, Say):
                return Say(self.fill(step.text))
            return CallTool(step.name, {k: self.fill(v) if isinstance(v, str) else v for k, v in step.args.items()})

        return decided


async def simulate(
    turns: Sequence[ScriptTurn],
    *,
    dialed_number: str,
    caller_number: str | None,
    use_openai: bool = False,
    job_metadata: str = "",
    out: TextIO = sys.stdout,
    audio: Path | None = None,
) -> Report:
    """Play `turns` through the real agent; returns what happened. With `audio`, the call is heard as
    audio and written there as a stereo WAV (`--audio`)."""
    from mla_core.adapters import get_services
    from mla_core.db import close_pools

    report, printer, references = Report(), Printer(out), References()
    scripted = ScriptedLLM(references.step(turn) for turn in turns if not isinstance(turn, UserTurn))
    llm_factory: Callable[[LlmSettings], llm.LLM]
    if use_openai:
        from agent_pool.plugins import build_llm

        llm_factory = build_llm
    else:
        llm_factory = lambda _settings: scripted  # noqa: E731 - the factory the call expects
    services = get_services()
    try:
        if audio is None:
            async with text_call(
                services,
                llm_factory,
                dialed_number=dialed_number,
                caller_number=caller_number,
                job_metadata=job_metadata,
            ) as run:
                played = await _play(run, turns, report, printer, references, _typed(run))
        else:
            played, run = await _play_in_audio(
                services, llm_factory, turns, report, printer, references, dialed_number, caller_number, audio
            )
        if not played:
            return report
        assert run.call is not None
        report.references = [logged.reference for logged in run.call.logged]
        report.outcome = run.outcome
        printer.line(f"call outcome: {run.outcome}")
    except Exception as exc:  # the simulator's verdict: any exception is the agent failing
        report.failure = f"{type(exc).__name__}: {exc}"
    finally:
        await asyncio.to_thread(close_pools)
    if not use_openai and report.failure is None and (scripted.remaining or scripted.overruns):
        report.failure = (
            f"the agent did not follow the script: {scripted.remaining} LLM turns left, "
            f"{scripted.overruns} LLM calls beyond the script"
        )
    for reference in report.references:
        printer.line(f"complaint reference: {reference}")
    for error in report.tool_errors:
        recovered = " (recovered)" if report.recovered(error) else ""
        printer.line(f"tool error{recovered}: {error.name}: {_one_line(error.output)}")
    if report.verdict:
        printer.line(f"FAILED: {report.verdict}")
    return report


async def _play(
    run: CallRun,
    turns: Sequence[ScriptTurn],
    report: Report,
    printer: Printer,
    references: References,
    say: Callable[[str], Awaitable[None]],
) -> bool:
    """The caller's turns said (`say`) one by one, the conversation printed as it goes; False when no
    tenant answered."""
    await references.look_up(run)
    printer.new_items(run.session.history, report)
    if run.rejected:
        report.rejected = True
        printer.line(f"no active tenant owns {run.request.dialed_number}: the caller heard the apology")
        return False
    for turn in turns:
        if not isinstance(turn, UserTurn):
            continue
        if run.close_event is not None:
            report.failure = f"the call ended before the caller said: {turn.text}"
            break
        await say(references.fill(turn.text))
        printer.new_items(run.session.history, report)
    return True


def _typed(run: CallRun) -> Callable[[str], Awaitable[None]]:
    """The caller's line as text, the way `text_call` takes it."""

    async def say(text: str) -> None:
        result: RunResult[None] = await run.session.run(user_input=text)
        if any(e.type == "function_call" and e.item.name == "end_call" for e in result.events):
            await run.wait_closed(timeout=5)  # the goodbye is said, then the call ends

    return say


# --audio ------------------------------------------------------------------------------------------

#: The caller speaks this long after the agent's last word (audio time).
CALLER_WAITS = 0.5
#: The agent answers a caller's line within this much audio, or the run fails.
ANSWER_WITHIN = 30.0
#: How fast the caller speaks (espeak-ng's words per minute).
CALLER_WORDS_PER_MINUTE = 175
#: The WAV ends this long after the call's last word.
TAIL = 0.5


class AgentSilentError(RuntimeError):
    """The agent said nothing after the caller spoke (audio time)."""


def spoken_language(text: str, default: str) -> str:
    """espeak-ng's language for a line, by its script: Tamil, Devanagari (Hindi), else English; `default`
    (the call's language) for a line with no letters, e.g. digits read out."""
    for char in text:
        if "\u0b80" <= char <= "\u0bff":
            return "ta"
        if "\u0900" <= char <= "\u097f":
            return "hi"
    return "en" if any(char.isalpha() for char in text) else default


class SpokenLine:
    """The caller's side of an audio call: each line said once the agent is quiet, and what was said when
    (the left channel)."""

    def __init__(self, audio: AudioCall) -> None:
        self.audio = audio
        self.said: list[tuple[float, bytes]] = []  # (audio time, 16 kHz mono PCM)

    async def greeted(self) -> None:
        await self.audio.run.wait_greeted()
        await self.quiet(after=0.0)

    async def say(self, text: str) -> None:
        from agent_pool.testing_audio import speech

        call = self.audio.run.call
        language = spoken_language(text, call.language if call is not None else "en")
        pcm = await asyncio.to_thread(speech, text, language, words_per_minute=CALLER_WORDS_PER_MINUTE)
        said = self.audio.caller.say(text, language=language, words_per_minute=CALLER_WORDS_PER_MINUTE)
        self.said.append((said.start, pcm))
        await self.quiet(after=said.end, text=text)

    async def quiet(self, *, after: float, text: str | None = None) -> None:
        """Until the agent has answered (when `text` was said) and been silent `CALLER_WAITS`, or the call
        has ended."""
        from agent_pool.testing_audio import FRAME_SECONDS

        audio = self.audio
        deadline = audio.clock.now + ANSWER_WITHIN
        while audio.run.close_event is None:
            segments = audio.heard.segments
            answered = text is None or any(s.started_at is not None and s.started_at >= after for s in segments)
            last_word = max((s.ended_at for s in segments if s.ended_at is not None), default=0.0)
            silent = all(s.ended_at is not None for s in segments) and audio.run.session.agent_state == "listening"
            if answered and silent and audio.clock.now >= last_word + CALLER_WAITS:
                return
            if not answered and audio.clock.now > deadline:
                raise AgentSilentError(f"the agent said nothing within {ANSWER_WITHIN:.0f} s after: {text}")
            await audio.clock.wait(FRAME_SECONDS)


async def _play_in_audio(
    services: Services,
    llm_factory: Callable[[LlmSettings], llm.LLM],
    turns: Sequence[ScriptTurn],
    report: Report,
    printer: Printer,
    references: References,
    dialed_number: str,
    caller_number: str | None,
    path: Path,
) -> tuple[bool, CallRun]:
    """`_play` with the caller's lines spoken and heard through the worker's VAD; the call written to `path`."""
    from agent_pool.plugins import load_vad
    from agent_pool.testing_audio import audio_call

    vad_model = await asyncio.to_thread(load_vad)
    room_name = f"sim-audio-{uuid.uuid4().hex[:12]}"
    async with audio_call(
        services, llm_factory, vad_model, dialed_number=dialed_number, caller_number=caller_number, room_name=room_name
    ) as audio:
        line = SpokenLine(audio)
        try:
            if not audio.run.rejected:
                await line.greeted()
            played = await _play(audio.run, turns, report, printer, references, line.say)
            if played and audio.run.close_event is None:
                await line.quiet(after=audio.clock.now)
            await audio.clock.wait(TAIL)
        finally:
            seconds = write_call_wav(path, line.said, [(f.at, f.pcm) for f in audio.heard.heard], audio.clock.now)
            printer.line(f"audio: {path} ({seconds:.1f} s; the caller left, the agent right)")
    return played, audio.run


def write_call_wav(
    path: Path, caller: Sequence[tuple[float, bytes]], agent: Sequence[tuple[float, bytes]], until: float
) -> float:
    """A 16 kHz 16-bit stereo WAV of the call: `caller` on the left, `agent` on the right, each a list of
    (audio time, mono PCM), silence elsewhere; at least `until` seconds long. Returns its duration."""
    from agent_pool.testing_audio import SAMPLE_RATE, wav_bytes

    ends = [at + len(pcm) / 2 / SAMPLE_RATE for at, pcm in [*caller, *agent]]
    samples = round(max([until, *ends]) * SAMPLE_RATE)
    stereo = array("h", bytes(samples * 4))
    stereo[0::2] = _channel(caller, samples, SAMPLE_RATE)
    stereo[1::2] = _channel(agent, samples, SAMPLE_RATE)
    if sys.byteorder == "big":
        stereo.byteswap()  # WAV is little-endian
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wav_bytes(stereo.tobytes(), sample_rate=SAMPLE_RATE, channels=2))
    return samples / SAMPLE_RATE


def _channel(pieces: Sequence[tuple[float, bytes]], samples: int, sample_rate: int) -> array[int]:
    channel = array("h", bytes(samples * 2))
    for at, pcm in pieces:
        start = round(at * sample_rate)
        chunk = array("h", pcm)[: max(0, samples - start)]
        channel[start : start + len(chunk)] = chunk
    return channel


EXAMPLE_CALLER = "+919876543210"


def answered_numbers() -> list[tuple[str, str]]:
    """(number, whose) for every number an active tenant's agent answers on the stack the
    environment names; empty when it cannot be asked (no `make dev` running)."""
    import httpx

    from mla_core.adapters import get_services
    from mla_core.agents.routing import active_agent_configs
    from mla_core.db import close_pools

    try:  # a quick "is `make dev` up?" first: a database that is down takes seconds to refuse
        httpx.get(f"{os.environ['API_URL']}/health", timeout=5).raise_for_status()
    except (KeyError, httpx.HTTPError):
        return []
    logging.disable(logging.CRITICAL)  # the pool's retries would bury the usage under warnings
    try:
        configs = active_agent_configs(get_services(), main_only=False)
    except Exception:  # settings missing or Postgres down: the usage still prints, without numbers
        return []
    finally:
        close_pools()
        logging.disable(logging.NOTSET)
    return [(number, f"{c.mla_name}, {c.constituency}") for c in configs for number in c.phone_numbers]


def example_scripts() -> list[tuple[str, str]]:
    """(path as typed from the repository, what the caller says first) for each example script."""
    scripts = []
    for path in sorted(SCRIPTS.glob("*.json")):
        try:
            first = next(t.text for t in parse_script(json.loads(path.read_text())) if isinstance(t, UserTurn))
        except (OSError, ValueError, ScriptError, StopIteration):
            first = "(not a valid script)"
        shown = os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)
        scripts.append((shown, first if len(first) <= 60 else first[:59] + "…"))
    return scripts


def usage(missing: Sequence[str], numbers: Sequence[tuple[str, str]], out: TextIO) -> None:
    """What the simulator says when it is not told whom to call or what to say: an example that works."""
    scripts = example_scripts()
    script = next((path for path, _ in scripts if path.endswith("tamil_complaint.json")), scripts[0][0])
    to = numbers[0][0] if numbers else "+914440001234"
    lines = [
        f"missing: {', '.join(missing)}",
        "usage: make simulate TO=<a tenant's number> FROM=<the caller's number> SCRIPT=<a script>",
        f"  e.g. make simulate TO={to} FROM={EXAMPLE_CALLER} SCRIPT={script}",
        f"  (or: python -m agent_pool.simulate --to {to} --from {EXAMPLE_CALLER} --script {script}; --help for more)",
        "",
    ]
    if numbers:
        lines.append("numbers the running stack answers:")
        lines += [f"  {number}   {whose}" for number, whose in numbers[:10]]
    else:
        lines.append(
            "no active tenant answers on the running stack: start `make dev`, create a tenant in the admin"
            " panel (/admin/panel/new), and use its number as TO."
        )
    lines += ["", "scripts:"]
    width = max(len(path) for path, _ in scripts)
    lines += [f"  {path:<{width}}   {first}" for path, first in scripts]
    print("\n".join(lines), file=out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m agent_pool.simulate",
        description=(__doc__ or "").split("\n\n")[0],
        epilog=SCRIPT_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--to", dest="dialed", help="the tenant's number the caller dials (E.164)")
    parser.add_argument("--from", dest="caller", default=None, help="the caller's number; omit for a hidden number")
    parser.add_argument("--script", type=Path, help="JSON list of user/assistant/tool turns (the format: below)")
    parser.add_argument("--llm", choices=["scripted", "openai"], default="scripted")
    parser.add_argument("--env", type=Path, default=None, help="env file to load first (default: .local/dev.env)")
    parser.add_argument(
        "--metadata", default="", help='job metadata as the dispatch rule sets it, e.g. {"tenant_id": …}'
    )
    parser.add_argument("--verbose", action="store_true", help="show the agent's and the domain's logs")
    parser.add_argument(
        "--audio",
        type=Path,
        default=None,
        metavar="CALL.wav",
        help="hear the call as audio (espeak-ng voices, the worker's VAD) and write it to this stereo WAV: "
        "the caller left, the agent right",
    )
    args = parser.parse_args(argv)

    env_file = args.env or default_env_file()
    if args.env is not None and not env_file.exists():
        parser.error(f"{env_file} does not exist (is `make dev` running?)")
    # The stack's dev.env names its OpenAI stand-in (caller memory's); --llm openai talks to OpenAI itself,
    # with the key of the shell that runs the simulator.
    own_openai = {name: os.environ.get(name) for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    if env_file.exists():
        load_env_file(env_file)
    if args.llm == "openai":
        for name, value in own_openai.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR, stream=sys.stderr)
    RedactNumbers.on_handlers()  # the agent's lines and livekit-agents' own, without the caller's number
    missing = [name for name, value in (("TO (--to)", args.dialed), ("SCRIPT (--script)", args.script)) if not value]
    if missing:
        usage(missing, answered_numbers() if env_file.exists() else [], sys.stderr)
        return EXIT_USAGE
    try:
        turns = parse_script(json.loads(args.script.read_text()))
    except (OSError, ValueError, ScriptError) as exc:
        print(f"bad script {args.script}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.llm == "openai" and not os.environ.get("OPENAI_API_KEY"):
        print("--llm openai needs OPENAI_API_KEY", file=sys.stderr)
        return EXIT_USAGE
    if args.audio is not None:
        from agent_pool.testing_audio import espeak_available

        if not espeak_available():
            print("--audio needs espeak-ng, the caller's and the agent's voice: run `make speech`", file=sys.stderr)
            return EXIT_USAGE
        if args.metadata:
            print("--audio answers by the dialed number (--to): leave out --metadata", file=sys.stderr)
            return EXIT_USAGE
    report = asyncio.run(
        simulate(
            turns,
            dialed_number=args.dialed,
            caller_number=args.caller,
            use_openai=args.llm == "openai",
            job_metadata=args.metadata,
            audio=args.audio,
        )
    )
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
