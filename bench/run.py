"""Measure `glassml train` runs: wall time against the time limit, engine overhead, peak memory.

Each table is trained by the `glassml` command in a fresh folder, as a user would run it. The
script samples the resident memory of the whole process tree (parent and workers) every 0.2 s and
reads the train run's own figures (trials, fit seconds, parent cost per trial) from its MLflow store.

    python bench/run.py TABLE:TARGET [TABLE:TARGET ...] --time-limit 60 --out bench/results.jsonl
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from glassml.tracking import Tracker

SAMPLE_SECONDS = 0.2


def measure(table: Path, target: str, time_limit: float, workers: int) -> dict[str, object]:
    """Train on `table` in a fresh folder and return the measurements."""
    folder = Path(tempfile.mkdtemp(prefix="glassml-bench-"))
    command = [
        str(Path(sys.executable).parent / "glassml"),
        "train",
        str(table.resolve()),
        "--target",
        target,
        "--time-limit",
        str(time_limit),
        "--workers",
        str(workers),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak_tree_mb = 0.0
    while process.poll() is None:
        peak_tree_mb = max(peak_tree_mb, _tree_rss_mb(process.pid))
        time.sleep(SAMPLE_SECONDS)
    wall = time.perf_counter() - started
    stderr = process.stderr.read() if process.stderr else ""

    row: dict[str, object] = {
        "table": table.name,
        "target": target,
        "time_limit": time_limit,
        "workers": workers,
        "exit_code": process.returncode,
        "wall_seconds": round(wall, 2),
        "peak_tree_rss_mb": round(peak_tree_mb, 1),
    }
    if process.returncode != 0:
        row["error"] = stderr[-500:]
        return row
    tracker = Tracker(f"sqlite:///{folder / 'glassml-runs' / 'mlflow.db'}")
    parent = tracker.latest_parent_run()
    if parent is not None:
        metrics = parent.data.metrics
        metric = parent.data.params.get("metric", "")
        fit_seconds = metrics.get("fit_seconds_total", 0.0)
        row |= {
            "trials": int(parent.data.tags.get("glassml.trials", 0)),
            "finished_trials": sum(run.info.status == "FINISHED" for run in tracker.child_runs(parent.info.run_id)),
            "run_seconds": round(metrics.get("elapsed_seconds", 0.0), 2),
            "fit_seconds_in_workers": round(fit_seconds, 2),
            "worker_busy_share": round(fit_seconds / (workers * wall), 3),
            "render_ms_per_trial": round(metrics.get("render_ms_per_trial", 0.0), 1),
            "record_ms_per_trial": round(metrics.get("record_ms_per_trial", 0.0), 1),
            "metric": metric,
            "best_score": metrics.get(f"best_{metric}"),
        }
    return row


def _tree_rss_mb(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
        return sum(process.memory_info().rss for process in processes) / 2**20
    except psutil.NoSuchProcess:
        return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", nargs="+", help="TABLE:TARGET pairs (CSV or Parquet files)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per run")
    parser.add_argument("--workers", type=int, default=2, help="worker processes per run")
    parser.add_argument("--out", type=Path, default=Path("bench/results.jsonl"), help="JSON lines file to append to")
    args = parser.parse_args()

    machine = f"{platform.node()} {psutil.cpu_count()} cores {psutil.virtual_memory().total / 2**30:.0f} GB"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for pair in args.tables:
        table, _, target = pair.rpartition(":")
        row = measure(Path(table), target, args.time_limit, args.workers) | {"machine": machine}
        print(json.dumps(row))
        with args.out.open("a") as file:
            file.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
