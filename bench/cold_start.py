"""Cold start: import time of each Lambda handler module in a fresh interpreter.

Compared with a bare FastAPI + Mangum app measured in the same run (goal: ≤ 1.5×).
Run: `make bench` or `.venv/bin/python -m bench.cold_start [--runs 9]`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

# label → (folder at the root of the import path, as Lambda's /var/task; module)
MODULES = {
    "baseline: bare FastAPI + Mangum": (".", "bench.bare_app"),
    "admin (functions/admin/admin_api.py)": ("functions/admin", "admin_api"),
    "dashboard (functions/dashboard/dashboard_api.py)": ("functions/dashboard", "dashboard_api"),
    "webhooks (functions/webhooks/webhooks_api.py)": ("functions/webhooks", "webhooks_api"),
    "provisioning steps (functions/provisioning/provisioning_steps.py)": (
        "functions/provisioning",
        "provisioning_steps",
    ),
    "complaint ingest (functions/complaint_ingest/complaint_ingest.py)": (
        "functions/complaint_ingest",
        "complaint_ingest",
    ),
}

PROBE = "import sys, time; sys.path.insert(0, {folder!r}); t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_seconds(target: tuple[str, str]) -> float:
    folder, module = target
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(folder=folder, module=module)], check=True, capture_output=True, text=True
    ).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    for module in MODULES.values():  # warm the filesystem cache and .pyc files once
        import_seconds(module)
    medians: dict[str, float] = {}
    # Interleave the modules run by run, so machine noise falls on all of them alike.
    samples: dict[str, list[float]] = {label: [] for label in MODULES}
    for _ in range(args.runs):
        for label, module in MODULES.items():
            samples[label].append(import_seconds(module))
    for label, values in samples.items():
        medians[label] = statistics.median(values)
    baseline = medians["baseline: bare FastAPI + Mangum"]
    print(f"Cold start: median import time over {args.runs} fresh interpreters (goal ≤ 1.5× baseline)")
    for label, value in medians.items():
        print(f"  {label:<55} {value * 1000:7.1f} ms   {value / baseline:5.2f}×")


if __name__ == "__main__":
    main()
