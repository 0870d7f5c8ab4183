"""A loop on a daemon thread, stopped on request: what the local stand-ins for Lambda's event
sources (the SQS poller, the schedules) share."""

from __future__ import annotations

import threading
from typing import Self


class Background:
    """Runs `_run` on a daemon thread named `name` from `start()` until `stop()`; `_run` watches
    `self._stopping`."""

    def __init__(self, name: str) -> None:
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        raise NotImplementedError
