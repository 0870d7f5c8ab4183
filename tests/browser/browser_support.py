"""Helpers for the browser tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Every run saves its pictures here, outside git (`build/` is ignored), so `make test` leaves the clone
# clean; `make screenshots` copies the ones the README shows into docs/screenshots.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def screenshot(page: Any, name: str) -> None:
    """The page as this run saw it, in build/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
