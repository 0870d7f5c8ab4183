"""The grievance agent: what the LLM is told, and the tools it may call during a call.

Tools are entry points: they parse what the LLM passed, call one domain function
(`mla_core.complaints.intake`) through the call's injected `CallContext`, and map the result to a
sentence. A bad argument raises `ToolError` with a sentence the LLM can turn into words for the
caller; nothing is stored then. The text the LLM passes is held to the rule of every edge
(`mla_core.core.text`: no control characters, NFC), and digits are read as ASCII whatever script the
LLM wrote them in. No tool talks to a vendor SDK.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from livekit.agents import Agent, RunContext, ToolError, function_tool, llm
from livekit.agents.beta.tools import EndCallTool

from agent_pool import phrases
from agent_pool.voice import VoiceStack, language_profile
from mla_core.adapters import Services
from mla_core.agents.config import AgentConfig
from mla_core.agents.routing import CallTenant
from mla_core.complaints import intake
from mla_core.core.errors import InvalidInputError, TransientError
from mla_core.core.fields import ascii_digits
from mla_core.core.languages import SUPPORTED_LANGUAGES
from mla_core.core.privacy import mask_phone
from mla_core.core.text import clean_json

logger = logging.getLogger(__name__)

_MAX_REFERENCE_DIGITS = 12
_NOT_A_DIGIT = re.compile(r"[^0-9]")


@dataclass
class CallContext:
    """One call, as the tools see it: injected by `agent_pool.call.start_call`, shared by every agent
    of the call (a language switch keeps it), and read after the call to record what happened."""

    services: Services
    tenant: CallTenant
    room_name: str
    caller_number: str | None  # None: the caller hid their number
    language: str
    voice: VoiceStack | None = None  # None in text mode: no STT/TTS
    callback_number: str | None = None
    logged: list[intake.LoggedComplaint] = field(default_factory=list)
    status_checks: list[int] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    notice_played_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.languages:
            self.languages.append(self.language)

    @property
    def config(self) -> AgentConfig:
        return self.tenant.config

    @property
    def reachable_number(self) -> str | None:
        """Where the SMS confirmation goes: the caller's own number, else the one they gave us."""
        return self.caller_number or self.callback_number


def idempotency_key(room_name: str, tool: str, arguments: dict[str, Any]) -> str:
    """The same tool call in the same room gets the same key, whatever the spacing or case the LLM
    used this time: an LLM repeating itself (or a retry) then gets the same reference back."""
    normalized = {
        name: " ".join(str(value).split()).casefold() for name, value in sorted(arguments.items()) if value is not None
    }
    digest = hashlib.sha256(json.dumps([tool, normalized], ensure_ascii=False).encode()).hexdigest()
    return f"{room_name}:{tool}:{digest[:24]}"


def only_digits(spoken: str) -> str:
    """The digits in what the LLM passed, as ASCII (it may write Devanagari, Tamil or full-width ones)."""
    return _NOT_A_DIGIT.sub("", ascii_digits(spoken))


def indian_mobile(number: str) -> str | None:
    """A spoken or typed Indian mobile number in E.164 (`+91` and ten digits), or None."""
    digits = only_digits(number)
    if len(digits) == 12 and digits.startswith("91"):
        digits = digits[2:]
    elif len(digits) == 11 and digits.startswith("0"):
        digits = digits[1:]
    if len(digits) != 10 or digits[0] not in "6789":
        return None
    return f"+91{digits}"


def instructions(call: CallContext) -> str:
    """The system prompt: English for the LLM, which answers in the caller's language."""
    config = call.config
    language = phrases.LANGUAGE_NAMES.get(call.language, call.language)
    categories = "; ".join(f"{c.code} ({' / '.join(dict.fromkeys(c.names.values()))})" for c in config.categories)
    hidden_number = (
        "- The caller's phone number is hidden. Before you log a complaint, ask for a 10-digit mobile number to "
        "send the confirmation SMS to, and save it with set_callback_number.\n"
        if call.caller_number is None
        else ""
    )
    return f"""\
You answer phone calls for the office of {config.mla_name}, Member of the Legislative Assembly for \
{config.constituency}, {config.state}, India. Callers are constituents reporting problems such as water supply, \
electricity, roads, drainage or pensions, or asking about a complaint they registered before.

Language: speak {language} only, in simple everyday words as people speak it in {config.state}. If the caller \
speaks another language or asks for one, call switch_language first, then continue in that language.

This is a phone call: keep every reply to one or two short sentences, ask one question at a time, and never use \
lists, symbols, markdown or emoji. The caller has already heard the greeting and the recording notice.

Taking a complaint:
- Find out what is wrong (description), where (location: street, area, ward or village) and, if offered, a \
landmark and the caller's name.
- Choose the category yourself from: {categories}. Use "other" if nothing fits.
- Before logging, read the details back in one short sentence and ask the caller to confirm. Call log_complaint \
only after they say yes, and only once per complaint.
{hidden_number}- After logging, say the reference number slowly, digit by digit (for example "4 8 2 1"), say that \
an SMS confirmation will follow, and offer to repeat the number.
- If a tool returns an error, tell the caller what it says in {language} and fix it with them; never invent a \
reference number.

Status questions: ask for the reference number and call check_complaint_status. You can only share complaints \
registered from this caller's phone number.

Never promise what the office will do or by when beyond what a tool tells you. For an emergency (fire, medical, a \
crime happening now) tell the caller to call 112 immediately. When the caller has nothing more, call end_call."""


class GrievanceAgent(Agent):
    """The agent for one language of one call. A language switch hands off to a new one that keeps
    the conversation so far."""

    def __init__(self, call: CallContext, *, chat_ctx: llm.ChatContext | None = None) -> None:
        profile = language_profile(call.config, call.language)
        voice = call.voice
        end_call = EndCallTool(
            extra_description="Before calling it, make sure the caller has heard their reference number if a "
            "complaint was logged.",
            delete_room=True,
            end_instructions="Thank the caller and say a short goodbye in their language.",
            ignore_on_enter=True,
        )
        if voice is None:
            super().__init__(instructions=instructions(call), tools=[end_call], chat_ctx=chat_ctx)
        else:
            super().__init__(
                instructions=instructions(call),
                tools=[end_call],
                chat_ctx=chat_ctx,
                stt=voice.stt(profile, call.config),
                tts=voice.tts(profile),
            )
        self.call = call

    @function_tool
    async def log_complaint(
        self,
        context: RunContext,
        category: str,
        description: str,
        location: str,
        caller_name: str | None = None,
        landmark: str | None = None,
    ) -> str:
        """Register the caller's complaint and get its reference number.

        Call this only after you have read the details back and the caller confirmed them, and only
        once per complaint. Calling it again with the same details returns the same reference.

        Args:
            category: The category code from your instructions, for example "water" or "roads".
            description: What is wrong, in one or two sentences, in the caller's words.
            location: Where the problem is: street, area, ward or village.
            caller_name: The caller's name, if they gave it.
            landmark: A nearby landmark, if they gave one.
        """
        call = self.call
        number = call.reachable_number
        if number is None:
            raise ToolError(
                "The caller's number is hidden, so there is nowhere to send the reference number. Ask for a "
                "10-digit mobile number and call set_callback_number first."
            )
        arguments = {
            "category": category,
            "description": description,
            "location": location,
            "caller_name": caller_name or None,
            "landmark": landmark or None,
        }
        try:
            arguments = clean_json(arguments, "")  # the LLM's words held to what every edge takes
            draft = intake.ComplaintDraft.model_validate(arguments)
            logged = await asyncio.to_thread(
                intake.log_complaint,
                call.services,
                call.config,
                draft,
                idempotency_key=idempotency_key(call.room_name, "log_complaint", arguments),
                caller_number=number,
                language=call.language,
                room_name=call.room_name,
            )
        except InvalidInputError as exc:
            raise ToolError(f"The complaint was not registered: {exc.message}.") from exc
        except TransientError as exc:
            logger.error("complaint not stored", extra={"tenant_id": call.tenant.tenant_id, "error": exc.message})
            raise ToolError(
                "The complaint could not be saved just now. Apologise, and ask the caller to call again in a few "
                "minutes. Do not give any reference number."
            ) from exc
        except ValueError as exc:  # pydantic: a missing or non-text argument
            raise ToolError("The complaint was not registered: category, description and location are needed.") from exc
        if all(previous.reference != logged.reference for previous in call.logged):
            call.logged.append(logged)
        logger.info(
            "complaint logged by agent",
            extra={
                "tenant_id": call.tenant.tenant_id,
                "reference": logged.reference,
                "queued": logged.queued,
                "caller": mask_phone(number),
                "language": call.language,
            },
        )
        return (
            f"Complaint registered. Reference number {logged.reference}. Say it digit by digit: "
            f"{phrases.spoken_digits(logged.reference)}. An SMS with this reference is being sent to the caller."
        )

    @function_tool
    async def check_complaint_status(self, context: RunContext, reference: str) -> str:
        """Look up the status of a complaint the caller registered before.

        Args:
            reference: The complaint's reference number as the caller said it, digits only, for example "4821".
        """
        call = self.call
        digits = only_digits(reference)
        if not digits or len(digits) > _MAX_REFERENCE_DIGITS:
            raise ToolError("A reference number is only digits, like 4 8 2 1. Ask the caller to say it again.")
        if call.caller_number is None:
            raise ToolError(
                "For privacy, a complaint's status can only be shared on a call from the phone number it was "
                "registered with, and this caller's number is hidden."
            )
        view = await asyncio.to_thread(
            intake.complaint_status, call.services, call.tenant.tenant_id, int(digits), call.caller_number
        )
        if view is None:
            raise ToolError(
                f"No complaint {phrases.spoken_digits(digits)} was registered from this phone number. Ask the caller "
                "to check the number; never guess a status."
            )
        call.status_checks.append(view.reference)
        due = f" The office aims to resolve it by {view.sla_due_at:%d %B %Y}." if view.sla_due_at else ""
        return (
            f"{phrases.complaint_line(call.config, view, call.language)} "
            f"It was registered on {view.created_at:%d %B %Y}.{due} The problem reported: {view.description}"
        )

    @function_tool
    async def set_callback_number(self, context: RunContext, phone_number: str) -> str:
        """Save the mobile number the caller wants the confirmation SMS on, when their own number is hidden.

        Args:
            phone_number: The 10-digit Indian mobile number the caller said, digits only.
        """
        call = self.call
        number = indian_mobile(phone_number)
        if number is None:
            raise ToolError(
                "That is not a 10-digit Indian mobile number. Ask the caller to say it again, digit by digit."
            )
        if call.caller_number is not None:
            return "The caller's own number is known; the SMS goes there. No callback number is needed."
        call.callback_number = number
        return f"Callback number saved: {phrases.spoken_digits(number[3:])}. Read it back to the caller to confirm."

    @function_tool
    async def switch_language(self, context: RunContext, language: str) -> tuple[GrievanceAgent, str] | str:
        """Switch the conversation to another language when the caller speaks it or asks for it.

        Args:
            language: The language to speak from now on: "Tamil", "Hindi" or "English".
        """
        call = self.call
        code = phrases.language_code(language)
        if code is None or code not in SUPPORTED_LANGUAGES:
            spoken = ", ".join(SUPPORTED_LANGUAGES.values())
            raise ToolError(f"Only these languages are available: {spoken}. Continue in the current language.")
        name = phrases.LANGUAGE_NAMES[code]
        if code == call.language:
            return f"You are already speaking {name}."
        call.language = code
        call.languages.append(code)
        logger.info("language switched", extra={"tenant_id": call.tenant.tenant_id, "language": code})
        successor = GrievanceAgent(call, chat_ctx=self.chat_ctx)
        return successor, f"Switched to {name}. From now on reply only in {name}; continue where you left off."
