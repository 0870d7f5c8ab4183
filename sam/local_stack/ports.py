"""Loopback ports for the local services."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TypeVar

HOST = "127.0.0.1"
START_ATTEMPTS = 3

T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def launch_on_port(launch: Callable[[int], T], port: int, retry_on: type[Exception]) -> T:
    """`launch(port)`; with `port=0`, on a free port, tried again if it fails with `retry_on`,
    since another process may take the probed port before the server binds it."""
    last_error: Exception | None = None
    for _ in range(START_ATTEMPTS if port == 0 else 1):
        try:
            return launch(port or free_port())
        except retry_on as exc:
            last_error = exc
    assert last_error is not None
    raise last_error
