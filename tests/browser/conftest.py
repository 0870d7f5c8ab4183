"""Playwright driving Debian's Chromium (`/usr/bin/chromium`) against the in-process local stack.

`make test` installs Chromium when it runs as root; elsewhere these tests are skipped with the reason
said, except in CI (`CI` set), where a missing browser is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import CHROMIUM, FLAGS


@pytest.fixture(scope="module")
def browser(stack: Any) -> Iterator[Any]:
    """Started after the stack and stopped after the module: Playwright's sync API keeps an event
    loop running in this thread, where the other tests call `asyncio.run`."""
    if not Path(CHROMIUM).exists():
        message = "browser tests need Chromium: run `make test` as root, or `apt-get install chromium`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def base_url(stack: Any) -> str:
    return str(stack.env["API_URL"])


@pytest.fixture
def new_page(browser: Any, base_url: str) -> Iterator[Any]:
    """`new_page(width=1280)`: a fresh browser profile (its own cookies), recording every request."""
    contexts = []

    def make(width: int = 1280, height: int = 900) -> Any:
        context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.requested = []
        page.on("request", lambda request: page.requested.append(request.url))
        return page

    yield make
    for context in contexts:
        context.close()
