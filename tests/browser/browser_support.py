"""Helpers for the browser tests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling Google's hosts, which this
# machine's closed network refuses (../shared/reference/offline-stack.md).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Every run saves its pictures here, outside git (`build/` is ignored), so `make test` leaves the clone
# clean; `make screenshots` copies the ones the README shows into docs/screenshots.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def screenshot(page: Any, name: str) -> None:
    """The page as this run saw it, in build/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
