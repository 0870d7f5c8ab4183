"""Loopback ports for the local services."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TypeVar

import psutil

HOST = "127.0.0.1"
START_ATTEMPTS = 3

T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def launch_on_port(launch: Callable[[int], T], port: int, retry_on: type[Exception]) -> T:
    """`launch(port)`; with `port=0`, on a free port, tried again if it fails with `retry_on`,
    since another process may take the probed port before the server binds it. A fixed port that
    is taken is named in the error with the process holding it."""
    last_error: Exception | None = None
    for _ in range(START_ATTEMPTS if port == 0 else 1):
        try:
            return launch(port or free_port())
        except retry_on as exc:
            last_error = exc
    assert last_error is not None
    holder = port_holder(port) if port else None
    if holder is not None:
        raise retry_on(f"{last_error}\nPort {port} is taken by {holder}.") from last_error
    raise last_error


def port_holder(port: int) -> str | None:
    """The process listening on TCP `port` ("pid 123: redis-server 127.0.0.1:8005"), if we may see it."""
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
                return f"pid {conn.pid}: {' '.join(psutil.Process(conn.pid).cmdline())}"
    except (psutil.Error, OSError):
        return None
    return None
