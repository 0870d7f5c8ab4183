"""Personal data in text and logs: a number found as people write it, masked in lines we did not write, and
call rooms named without the caller's number."""

from __future__ import annotations

import logging
import re

import pytest

from mla_core.core.fields import ascii_digits
from mla_core.core.names import stored_room_name
from mla_core.core.privacy import (
    ERASED_NUMBER,
    RedactNumbers,
    mask_numbers,
    mentions_pattern,
    redact_mentions,
    subject_digest,
)

NUMBER = "+919876543210"


@pytest.mark.parametrize(
    "written",
    [
        "+919876543210",
        "+91 98765 43210",
        "919876543210",
        "09876543210",
        "98765-43210",
        "9876543210",
        "9 8 7 6 5 4 3 2 1 0",
        "௯௮௭௬௫௪௩௨௧௦",  # Tamil digits
        "९८७६५४३२१०",  # Devanagari digits
    ],
)
def test_a_number_is_found_however_it_is_written(written: str) -> None:
    text = f"Call me back on {written} after six"
    assert re.search(mentions_pattern(NUMBER), ascii_digits(text))
    assert redact_mentions(text, NUMBER) == f"Call me back on {ERASED_NUMBER} after six"


def test_other_numbers_and_words_are_left_alone() -> None:
    text = "Ward ௧௨, reference 1004, neighbour 9123456780"
    assert redact_mentions(text, NUMBER) == text


def test_a_digest_names_the_person_per_office_without_the_number() -> None:
    key = b"k" * 32
    digest = subject_digest(key, "abcde12345", NUMBER)
    assert NUMBER[3:] not in digest and len(digest) == 64
    assert digest == subject_digest(key, "abcde12345", NUMBER)
    assert digest != subject_digest(key, "zyxwv54321", NUMBER)
    assert digest != subject_digest(b"j" * 32, "abcde12345", NUMBER)


def test_long_runs_of_digits_are_masked_in_free_text() -> None:
    assert mask_numbers("room mla-abcde12345-call_+919876543210_AbC") == "room mla-abcde12345-call_+91******3210_AbC"
    assert mask_numbers("participant sip_919876543210 joined") == "participant sip_919*****3210 joined"
    assert mask_numbers("reference 1004 in ward 12") == "reference 1004 in ward 12"


def test_the_log_filter_masks_message_arguments_and_extras() -> None:
    record = logging.LogRecord("livekit.agents", logging.INFO, __file__, 1, "joined %s", ("sip_+919876543210",), None)
    record.room = "mla-abcde12345-call_+919876543210_XyZ"
    record.fields = {"participant": "sip_+919876543210", "count": 3}
    assert RedactNumbers().filter(record)
    line = record.getMessage() + repr(record.__dict__)
    assert "9876543210" not in line and "3210" in line
    assert record.fields["count"] == 3


SIP_ROOMS = [
    "mla-abcde12345-call_+919876543210_Kd8sYq2LmNpR",
    "mla-abcde12345-call_919876543210_Kd8sYq2LmNpR",
    "mla-abcde12345-call_+918044556677_a1b2c3d4e5f6",
]


@pytest.mark.parametrize("room", SIP_ROOMS)
def test_a_call_room_is_stored_without_the_number_the_same_way_every_time(room: str) -> None:
    stored = stored_room_name(room)
    assert stored.startswith("mla-abcde12345-call-") and len(stored) == 40
    assert "9876543210" not in stored and "8044556677" not in stored
    assert stored == stored_room_name(room) == stored_room_name(stored)  # the agent's and the webhooks' agree


@pytest.mark.parametrize("room", ["mla-abcde12345-test-4f2a", "sim-abcde12345-1", "mla-abcde12345", "other_room"])
def test_other_rooms_keep_their_names(room: str) -> None:
    assert stored_room_name(room) == room


def test_two_calls_of_one_caller_get_two_stored_names() -> None:
    assert stored_room_name(SIP_ROOMS[0]) != stored_room_name(SIP_ROOMS[0].replace("Kd8s", "Zz9q"))
