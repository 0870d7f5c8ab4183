"""The pure parts of a privacy request: the number however it was typed, and the erasure's confirmation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mla_core.core.errors import InvalidInputError
from mla_core.privacy import confirmation
from mla_core.privacy.models import ConfirmationInvalidError, PreviewStaleError
from mla_core.privacy.requests import e164_of, effects

KEY = b"test-key"
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
ASKED = confirmation.Confirmed("abcdefghij", "0" * 64, "user-1", {"complaints": 2, "calls": 1})


@pytest.mark.parametrize(
    "typed",
    ["+919876543210", "9876543210", "98765 43210", "098765-43210", "91 98765 43210", "+91 (98765) 43210", "९८७६५४३२१०"],
)
def test_a_number_is_read_however_it_was_typed(typed: str) -> None:
    assert e164_of(typed) == "+919876543210"


@pytest.mark.parametrize("typed", ["12345", "+14155550100", "50000 12345", ""])
def test_what_is_not_an_indian_mobile_number_is_refused_without_repeating_it(typed: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        e164_of(typed)
    assert not typed or typed not in refused.value.message


def test_a_confirmation_holds_for_what_it_confirmed_until_it_expires() -> None:
    token, expires_at = confirmation.issue(KEY, ASKED, now=NOW)
    assert expires_at == NOW + timedelta(minutes=10)
    confirmation.check(KEY, token, ASKED, now=NOW + timedelta(minutes=9))
    with pytest.raises(PreviewStaleError, match="expired"):
        confirmation.check(KEY, token, ASKED, now=NOW + timedelta(minutes=10))
    changed = confirmation.Confirmed(ASKED.tenant_id, ASKED.digest, ASKED.actor_id, {"complaints": 3, "calls": 1})
    with pytest.raises(PreviewStaleError, match="changed"):
        confirmation.check(KEY, token, changed, now=NOW)


@pytest.mark.parametrize(
    "other",
    [
        confirmation.Confirmed("zzzzzzzzzz", ASKED.digest, ASKED.actor_id, ASKED.counts),
        confirmation.Confirmed(ASKED.tenant_id, "1" * 64, ASKED.actor_id, ASKED.counts),
        confirmation.Confirmed(ASKED.tenant_id, ASKED.digest, "user-2", ASKED.counts),
    ],
)
def test_a_confirmation_for_another_office_person_or_admin_is_refused(other: confirmation.Confirmed) -> None:
    token, _ = confirmation.issue(KEY, ASKED, now=NOW)
    with pytest.raises(ConfirmationInvalidError):
        confirmation.check(KEY, token, other, now=NOW)


def test_a_forged_or_garbled_confirmation_is_refused() -> None:
    token, _ = confirmation.issue(KEY, ASKED, now=NOW)
    for bad in (token + "0", "x" + token, "no-dot", "", confirmation.issue(b"other key", ASKED, now=NOW)[0]):
        with pytest.raises(ConfirmationInvalidError):
            confirmation.check(KEY, bad, ASKED, now=NOW)


def test_the_effects_say_what_happens_to_each_kind_of_record() -> None:
    said = effects({"complaints": 2, "calls": 1, "notes_mentioning": 0, "caller_memory": 4})
    assert said[0].startswith("2 complaint(s) keep their category") and "1 call(s)" in said[1]
    assert "4 record(s) of caller_memory are erased." in said and not any("note(s)" in s for s in said)
