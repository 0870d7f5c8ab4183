"""Personal data in logs: phone numbers and names are masked (DPDP; logs are kept for a year)."""

from __future__ import annotations


def mask_phone(number: str | None) -> str | None:
    """`+919876543210` → `+91******3210`: enough to correlate, not enough to call."""
    if not number:
        return number
    return number[:3] + "*" * max(0, len(number) - 7) + number[-4:]
