"""`make dev`: start the whole platform locally and keep it running until Ctrl+C."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from local_stack.stack import LocalStack


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    root = Path(os.environ.get("MLA_LOCAL_DIR", ".local")).resolve()
    port = int(os.environ.get("PORT", "8000"))
    started = time.perf_counter()
    print(f"Starting MLA Voice AI locally (data in {root}) …", flush=True)
    stack = LocalStack(root=root, port=port).start()
    env = stack.env
    print(
        f"\nReady in {time.perf_counter() - started:.1f} s.\n"
        f"  API            {env['API_URL']}   (docs: {env['API_URL']}/docs and {env['API_URL']}/admin/docs)\n"
        f"  Health         {env['API_URL']}/health\n"
        f"  Outbox         {env['API_URL']}/local/outbox   (emails and SMS that would have been sent)\n"
        f"  Super admin    {env['SUPERADMIN_EMAIL']} / {env['SUPERADMIN_PASSWORD']}\n"
        f"  Client config  {root / 'dev.env'}\n\n"
        "Press Ctrl+C to stop.",
        flush=True,
    )
    stopping = threading.Event()
    # Handle SIGINT ourselves: a shell that starts us in the background leaves it ignored.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    while not stopping.wait(1):
        pass
    print("\nStopping …", flush=True)
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
