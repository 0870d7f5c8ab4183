"""The log filter on lines we do not write: livekit-agents' (the room as LiveKit names it, the SIP identity)
and an SDK's bodies at DEBUG (botocore's, as bytes)."""

from __future__ import annotations

import logging

from mla_core.core.privacy import RedactNumbers, mask_numbers


def test_livekit_agents_own_lines_are_masked() -> None:
    job = logging.makeLogRecord(
        {
            "name": "livekit.agents",
            "msg": "received job request",
            "room": "mla-abcde12345-call_+919876543210_Kd8sYq2LmNpR",
        }
    )
    track = logging.makeLogRecord({"name": "livekit.agents", "msg": "audio track", "participant": "sip_+919876543210"})
    for record in (job, track):
        assert RedactNumbers().filter(record)
    assert job.room == "mla-abcde12345-call_+91******3210_Kd8sYq2LmNpR"  # type: ignore[attr-defined]
    assert track.participant == "sip_+91******3210"  # type: ignore[attr-defined]


def test_a_body_an_sdk_logs_as_bytes_is_masked_and_stays_bytes() -> None:
    body = '{"PhoneNumber": "+919876543210", "Message": "க ref 1004"}'.encode()
    record = logging.LogRecord("botocore.endpoint", logging.DEBUG, __file__, 1, "params: %s", ({"body": body},), None)
    assert RedactNumbers().filter(record)
    assert record.args == {"body": body.replace(b"+919876543210", b"+91******3210")}  # one mapping: the args


def test_the_filter_is_installed_once_per_handler() -> None:
    handler = logging.NullHandler()
    RedactNumbers.on_handlers(handler)
    RedactNumbers.on_handlers(handler)
    assert sum(isinstance(f, RedactNumbers) for f in handler.filters) == 1


def test_dates_are_left_as_they_are_and_a_number_after_one_is_masked() -> None:
    text = "due 2026-12-09T03:20:07Z path /2015-03-31/functions at 2026-12-02 03:05:37"
    assert mask_numbers(text) == text
    assert mask_numbers("2026-12-02 9876543210") == "2026-12-02 987***3210"
    assert mask_numbers("2026-12-02-9876543210") == "2026-12-02-987***3210"
    assert mask_numbers("on 2026-12-02 call +91 98765 43210") == "on 2026-12-02 call +91******3210"
    assert mask_numbers("20261202") == "202*1202"  # eight digits with no dashes: could be a number
    assert mask_numbers("9876-54-32 10") == "987***3210"  # no date: no month 54
