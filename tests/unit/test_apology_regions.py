"""Which language a call to a number no office owns is apologised to in first (`core.regions`)."""

from __future__ import annotations

import pytest

from mla_core.core import regions


@pytest.mark.parametrize(
    ("dialed", "first"),
    [
        ("+914428541234", "ta"),  # Chennai
        ("04428541234", "ta"),  # Chennai, written with the trunk 0
        ("+914222345678", "ta"),  # Coimbatore: a three-digit code
        ("+914362234567", "ta"),  # Thanjavur: a four-digit code, not Chennai's 44
        ("+914132234567", "ta"),  # Puducherry
        ("+911123456789", "hi"),  # Delhi
        ("+915222345678", "hi"),  # Lucknow
        ("+918022334455", "en"),  # Bengaluru: Kannada is not ours, so English
        ("+912222334455", "en"),  # Mumbai
    ],
)
def test_the_dialled_numbers_std_code_chooses_the_first_language(dialed: str, first: str) -> None:
    assert regions.first_language(dialed, "+919876543210", "hi") == first


def test_the_dialled_number_wins_over_the_callers_landline() -> None:
    assert regions.first_language("+914428541234", "+911123456789", "en") == "ta"


def test_a_dialled_number_without_a_known_code_falls_to_the_callers_landline() -> None:
    assert regions.first_language("+919012345678", "+914428541234", "hi") == "ta"
    assert regions.first_language(None, "01123456789", "ta") == "hi"


def test_a_callers_mobile_number_tells_nothing_so_the_platform_default_speaks_first() -> None:
    # 80… is Bengaluru's STD code and also a mobile series: a caller's 6-9 number is a mobile.
    assert regions.first_language("+919012345678", "+918022334455", "ta") == "ta"
    assert regions.first_language(None, None, "hi") == "hi"
    assert regions.first_language("not a number", "+1 202 555 0100", "en") == "en"


def test_english_always_comes_second_and_alone_when_it_is_first() -> None:
    assert regions.apology_languages("+914428541234", None, "hi") == ("ta", "en")
    assert regions.apology_languages("+911123456789", None, "ta") == ("hi", "en")
    assert regions.apology_languages("+918022334455", None, "hi") == ("en",)
    assert regions.apology_languages(None, None, "en") == ("en",)


def test_every_std_code_names_a_state_we_know_and_none_is_a_prefix_of_another() -> None:
    from mla_core.core.languages import STATES_AND_UTS

    assert set(regions.STD_CODES.values()) <= set(STATES_AND_UTS)
    assert set(regions.STATE_LANGUAGES) <= set(STATES_AND_UTS)
    codes = list(regions.STD_CODES)
    assert not [(a, b) for a in codes for b in codes if a != b and b.startswith(a)]
