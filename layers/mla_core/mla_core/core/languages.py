"""The languages we speak (the agent to callers, the pages to the office), and the Indian states and
union territories we serve."""

from __future__ import annotations

from typing import Literal

# Codes as Deepgram and Cartesia name them; Sarvam uses the `xx-IN` form (see `sarvam_code`).
LanguageCode = Literal["ta", "hi", "en"]

# code: (its name in English, its name in itself)
NAMES: dict[LanguageCode, tuple[str, str]] = {
    "ta": ("Tamil", "தமிழ்"),
    "hi": ("Hindi", "हिन्दी"),
    "en": ("English", "English"),
}
SUPPORTED_LANGUAGES: dict[str, str] = {code: english for code, (english, _) in NAMES.items()}
NATIVE_NAMES: dict[str, str] = {code: native for code, (_, native) in NAMES.items()}


def sarvam_code(language: str) -> str:
    return f"{language}-IN"


STATES_AND_UTS: tuple[str, ...] = (
    "Andhra Pradesh", "Arunachal Pradesh", "Assam", "Bihar", "Chhattisgarh", "Goa", "Gujarat",
    "Haryana", "Himachal Pradesh", "Jharkhand", "Karnataka", "Kerala", "Madhya Pradesh",
    "Maharashtra", "Manipur", "Meghalaya", "Mizoram", "Nagaland", "Odisha", "Punjab", "Rajasthan",
    "Sikkim", "Tamil Nadu", "Telangana", "Tripura", "Uttar Pradesh", "Uttarakhand", "West Bengal",
    # Union territories with a legislative assembly.
    "Delhi", "Jammu and Kashmir", "Puducherry",
)  # fmt: skip

_BY_FOLDED_NAME = {name.casefold(): name for name in STATES_AND_UTS}


def canonical_state(name: str) -> str | None:
    """The state's canonical spelling, or None if `name` is not a state with an assembly."""
    return _BY_FOLDED_NAME.get(" ".join(name.split()).casefold().replace("&", "and"))
