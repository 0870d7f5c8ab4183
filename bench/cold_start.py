"""Cold start: import time of each Lambda handler module in a fresh interpreter.

Compared with a bare FastAPI + Mangum app measured in the same run (goal: ≤ 1.5×).
Run: `make bench` or `.venv/bin/python -m bench.cold_start [--runs 9]`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

MODULES = {
    "baseline: bare FastAPI + Mangum": "bench.bare_app",
    "admin (functions/admin/app.py)": "functions.admin.app",
    "dashboard (functions/dashboard/app.py)": "functions.dashboard.app",
    "webhooks (functions/webhooks/app.py)": "functions.webhooks.app",
    "provisioning steps (functions/provisioning/steps.py)": "functions.provisioning.steps",
    "complaint ingest (functions/complaint_ingest/app.py)": "functions.complaint_ingest.app",
}

PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_seconds(module: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)], check=True, capture_output=True, text=True
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
