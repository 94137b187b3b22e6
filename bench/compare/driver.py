#!/usr/bin/env python3
"""Run glassml and other AutoML frameworks on the benchmark suite, one bounded subprocess per run.

Standard library only, so any python3 can run it. Each framework runs in its own virtual environment
(bench/.venvs, made by setup_venvs.sh; glassml and seasonal_naive run in the project's .venv). The split and
the scoring run in the data interpreter through task_data.py, so every framework gets the same split files
and is scored by the same code. Each run appends one JSON line to the results file. A framework runs only
on the kinds of task it handles: lgbm_default on tabular tasks, seasonal_naive on forecasting tasks, the
others on both.

    python3 bench/compare/driver.py --budget 60
    python3 bench/compare/driver.py --frameworks glassml --tasks penguins_species,telco_churn --budget 10

A new record replaces the records of the same framework and task that earlier invocations wrote, and keeps
all others, so a rerun of one framework leaves the other frameworks' results in place.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
REPOSITORY = os.path.dirname(BENCH)
ADAPTERS = os.path.join(HERE, "adapters")
PROJECT_PYTHON = os.path.join(REPOSITORY, ".venv", "bin", "python")

TABULAR = ("binary", "multiclass", "regression")
FORECASTING = ("forecasting",)


class Framework(NamedTuple):
    venv: str | None  # folder under --venvs, or None for the project's .venv
    script: str  # adapter under adapters/
    kinds: tuple[str, ...]  # task kinds the adapter handles


FRAMEWORKS = {
    "glassml": Framework(None, "glassml_adapter.py", TABULAR + FORECASTING),
    "flaml": Framework("flaml", "flaml_adapter.py", TABULAR + FORECASTING),
    "autogluon": Framework("autogluon", "autogluon_adapter.py", TABULAR + FORECASTING),
    "lgbm_default": Framework("lgbm_default", "lgbm_default.py", TABULAR),
    "seasonal_naive": Framework(None, "seasonal_naive.py", FORECASTING),
}
POLL_SECONDS = 0.2
TERMINATE_GRACE_SECONDS = 10


def log(message: str) -> None:
    print(f"[{dt.datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- memory of a process tree, from /proc

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def _stat_fields(pid: str) -> list[str]:
    with open(f"/proc/{pid}/stat") as file:
        stat = file.read()
    # The command name in brackets may hold spaces, so fields are counted after its closing bracket.
    return stat[stat.rfind(")") + 2 :].split()


def _parent_pids() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(_stat_fields(entry)[1])
            except (OSError, ValueError, IndexError):
                continue
    return parents


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as file:
            return int(file.read().split()[1]) * PAGE_BYTES
    except (OSError, ValueError, IndexError):
        return 0


def tree_rss_bytes(root: int) -> int:
    """Return the RSS summed over `root` and all its descendants. Pages shared between processes count once each."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parent_pids().items():
        children.setdefault(parent, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss_bytes(pid)
        stack.extend(children.get(pid, []))
    return total


def process_group_members(group: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat_fields(entry)[2]) == group:
                    members.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return members


def run_bounded(command: list[str], timeout: float, log_path: str, env: dict, cwd: str) -> dict:
    """Run `command` in its own session and return its exit code, wall time, peak tree RSS and whether it timed out.

    The tree's RSS is sampled every POLL_SECONDS. On timeout the process group gets SIGTERM, then SIGKILL
    TERMINATE_GRACE_SECONDS later. Processes of the group still alive after the command ends (stray
    workers) are killed by PID.
    """
    started = time.monotonic()
    peak, timed_out, kill_at = 0, False, None
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
        )
        next_sample = 0.0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid == process.pid:
                break
            now = time.monotonic()
            if now >= next_sample:
                peak = max(peak, tree_rss_bytes(process.pid))
                next_sample = now + POLL_SECONDS
            if now - started > timeout and not timed_out:
                timed_out = True
                _signal_group(process.pid, signal.SIGTERM)
                kill_at = now + TERMINATE_GRACE_SECONDS
            if kill_at is not None and now > kill_at:
                _signal_group(process.pid, signal.SIGKILL)
                kill_at = None
            time.sleep(0.05)
    for member in process_group_members(process.pid):
        try:
            os.kill(member, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue
    return {
        "exit_code": os.waitstatus_to_exitcode(status),
        "wall_s": time.monotonic() - started,
        "peak_rss_mb": peak / 2**20,
        "max_single_rss_mb": usage.ru_maxrss / 1024,
        "timed_out": timed_out,
    }


def _signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        pass


def tail(path: str, size: int = 1500) -> str:
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - size))
            return file.read().decode("utf-8", "replace")
    except OSError:
        return ""


# ---------------------------------------------------------------- split and score, in the data interpreter


def ensure_split(args: argparse.Namespace, entry: dict) -> str:
    """Return the folder of the task's split, preparing it unless a cached copy of the same inputs exists.

    The cache key covers the suite entry, the data file's size and modification time, and task_data.py.
    """
    data_file = os.path.join(os.path.dirname(args.suite), entry["file"])
    stat = os.stat(data_file)
    with open(os.path.join(HERE, "task_data.py"), "rb") as file:
        code = file.read()
    key_source = json.dumps([entry, stat.st_size, int(stat.st_mtime)], sort_keys=True).encode() + code
    folder = os.path.join(args.work, "splits", f"{entry['name']}_{hashlib.sha1(key_source).hexdigest()[:12]}")
    if os.path.exists(os.path.join(folder, "task.json")):
        return folder
    partial = folder + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    command = [args.data_python, os.path.join(HERE, "task_data.py"), "prepare", "--suite", args.suite]
    completed = subprocess.run(command + ["--task", entry["name"], "--out", partial], capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"split failed for {entry['name']}: {completed.stderr[-2000:]}")
    os.replace(partial, folder)
    return folder


def score(args: argparse.Namespace, split_dir: str, prediction_path: str) -> dict:
    command = [args.data_python, os.path.join(HERE, "task_data.py"), "score", "--task-dir", split_dir]
    completed = subprocess.run(command + ["--pred", prediction_path], capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-2000:])
    return json.loads(completed.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- one run


def host_info() -> dict:
    cpu_model = ""
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "mem_gb": round(memory_gib, 1),
        "os": f"{platform.system()} {platform.release()}",
    }


def run_one(args: argparse.Namespace, entry: dict, framework: str, seed: int, env: dict, invocation: str) -> dict:
    """Run one framework on one task and return its record (scored, or with the failure's status and log tail)."""
    budget = args.budget
    record = {
        "framework": framework,
        "task": entry["name"],
        "task_type": entry["task"],
        "budget_s": budget,
        "seed": seed,
        "preset_requested": args.preset if framework == "autogluon" else "",
        "metric": entry["metric"],
        "split": entry.get("split"),
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "invocation": invocation,
        "command": " ".join(["bench/compare/driver.py", *sys.argv[1:]]),
        "threads": args.threads,
        "host": host_info(),
    }
    try:
        split_dir = ensure_split(args, entry)
    except RuntimeError as error:
        record.update(status="split_error", error=str(error), wall_time_s=0.0, peak_rss_mb=0.0)
        return record
    with open(os.path.join(split_dir, "task.json")) as file:
        task_info = json.load(file)
    record.update(n_train=task_info.get("n_train"), n_test=task_info.get("n_test"))
    for key in ("horizon", "freq", "season_length", "n_series"):
        if key in task_info:
            record[key] = task_info[key]

    venv, script, _ = FRAMEWORKS[framework]
    python = args.project_python if venv is None else os.path.join(args.venvs, venv, "bin", "python")
    if not os.path.exists(python):
        record.update(status="unavailable", error=f"interpreter not found: {python}", wall_time_s=0.0, peak_rss_mb=0.0)
        return record
    run_dir = tempfile.mkdtemp(prefix=f"{framework}_{entry['name']}_{budget:g}_{seed}_", dir=args.work)
    out_dir = os.path.join(run_dir, "out")
    os.makedirs(out_dir)
    command = [python, os.path.join(ADAPTERS, script), "--task-dir", split_dir, "--out-dir", out_dir]
    command += ["--budget", f"{budget:g}", "--seed", str(seed), "--threads", str(args.threads)]
    if record["preset_requested"]:
        command += ["--preset", args.preset]
    timeout = args.timeout_factor * budget + args.timeout_extra
    record["timeout_s"] = timeout
    log_path = os.path.join(run_dir, "log.txt")
    result = run_bounded(command, timeout, log_path, env, run_dir)
    record.update(
        wall_time_s=round(result["wall_s"], 2),
        peak_rss_mb=round(result["peak_rss_mb"], 1),
        max_single_rss_mb=round(result["max_single_rss_mb"], 1),
        exit_code=result["exit_code"],
    )

    info = {}
    info_path = os.path.join(out_dir, "info.json")
    if os.path.exists(info_path):
        with open(info_path) as file:
            info = json.load(file)
    for key in ("fit_time_s", "predict_time_s"):
        if info.get(key) is not None:
            record[key] = round(float(info[key]), 2)
    for key in ("best_model", "framework_version", "python_version", "preset"):
        record[key] = info.get(key)
    main_keys = ("fit_time_s", "predict_time_s", "best_model", "framework_version", "python_version", "preset")
    record["adapter_info"] = {key: value for key, value in info.items() if key not in main_keys}

    prediction_path = os.path.join(out_dir, "predictions.parquet")
    if result["timed_out"]:
        record.update(status="timeout", error=tail(log_path))
    elif result["exit_code"] != 0 or not os.path.exists(prediction_path):
        record.update(status="error", error=tail(log_path))
    else:
        try:
            scores = score(args, split_dir, prediction_path)
            record.update(
                status="ok",
                metric_value=scores["metric_value"],
                higher_is_better=scores["higher_is_better"],
                metrics=scores["metrics"],
            )
        except (RuntimeError, ValueError) as error:
            record.update(status="score_error", error=str(error))
    if record.get("fit_time_s") is not None:
        record["fit_over_budget_ratio"] = round(record["fit_time_s"] / budget, 3)

    logs = os.path.join(args.work, "logs")
    os.makedirs(logs, exist_ok=True)
    record["log"] = os.path.join(logs, os.path.basename(run_dir) + ".log")
    shutil.copy(log_path, record["log"])
    if args.keep:
        record["run_dir"] = run_dir
    else:
        shutil.rmtree(run_dir, ignore_errors=True)
    return record


# ---------------------------------------------------------------- results file


def scrub(record: dict, args: argparse.Namespace) -> dict:
    """Replace this machine's paths by names, since the results file is committed."""
    text = json.dumps(record, default=str)
    prefixes = (
        (args.work, "$BENCH_WORK"),
        (args.venvs, "$BENCH_VENVS"),
        (REPOSITORY, "$REPOSITORY"),
        (os.path.expanduser("~"), "~"),
    )
    for prefix, name in prefixes:
        if prefix and prefix not in ("/", "~"):
            text = text.replace(json.dumps(prefix)[1:-1], name)
    return json.loads(text)


def save(path: str, record: dict) -> None:
    """Append `record`, dropping the records of the same framework and task from earlier invocations."""
    remaining = []
    if os.path.exists(path):
        with open(path) as file:
            for line in file:
                if not line.strip():
                    continue
                old = json.loads(line)
                replaced = (old.get("framework"), old.get("task")) == (record["framework"], record["task"])
                if not replaced or old.get("invocation") == record["invocation"]:
                    remaining.append(line.rstrip("\n"))
    remaining.append(json.dumps(record, default=str))
    partial = path + ".partial"
    with open(partial, "w") as file:
        file.write("\n".join(remaining) + "\n")
    os.replace(partial, path)


# ---------------------------------------------------------------- command line


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--frameworks",
        default=",".join(FRAMEWORKS),
        help=f"comma-separated, from {', '.join(FRAMEWORKS)} (default: all)",
    )

    parser.add_argument("--budget", type=float, default=60.0, help="time budget of each run, in seconds")
    parser.add_argument("--tasks", default="", help="comma-separated task names (default: every task)")
    parser.add_argument("--seeds", default="0", help="framework seeds, comma-separated; the split uses its own seed")
    parser.add_argument("--preset", default="", help="AutoGluon preset (default: medium_quality)")

    parser.add_argument("--suite", default=os.path.join(BENCH, "suite.json"))
    parser.add_argument("--results", default=os.path.join(BENCH, "results", "results.jsonl"))
    parser.add_argument(
        "--venvs",
        default=os.environ.get("BENCH_VENVS", os.path.join(BENCH, ".venvs")),
        help="folder of the venvs flaml/, autogluon/, lgbm_default/ (env BENCH_VENVS)",
    )
    parser.add_argument(
        "--project-python",
        default=PROJECT_PYTHON,
        help="interpreter with glassml installed, which runs seasonal_naive too",
    )
    parser.add_argument(
        "--data-python",
        default=os.environ.get("BENCH_DATA_PYTHON"),
        help="interpreter with pandas, pyarrow and scikit-learn for split and scoring "
        "(env BENCH_DATA_PYTHON; default: --project-python)",
    )
    parser.add_argument(
        "--work",
        default=os.environ.get("BENCH_WORK", os.path.join(tempfile.gettempdir(), "glassml-bench")),
        help="scratch folder for splits, runs and logs (env BENCH_WORK)",
    )

    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads given to each framework")
    parser.add_argument("--timeout-factor", type=float, default=3.0)
    parser.add_argument(
        "--timeout-extra", type=float, default=120.0, help="a run is stopped after factor x budget + extra seconds"
    )
    parser.add_argument("--keep", action="store_true", help="keep each run's folder (models, glassml-runs)")
    parser.add_argument("--dry-run", action="store_true", help="list the runs without starting them")
    args = parser.parse_args()

    args.suite = os.path.abspath(args.suite)
    args.results = os.path.abspath(args.results)
    args.venvs = os.path.abspath(args.venvs)
    args.work = os.path.abspath(args.work)
    args.project_python = os.path.abspath(args.project_python)
    args.data_python = args.data_python or args.project_python
    return args


def main() -> None:
    args = parse_args()
    with open(args.suite) as file:
        suite = json.load(file)
    requested = [name for name in args.tasks.split(",") if name]
    unknown = set(requested) - {entry["name"] for entry in suite}
    if unknown:
        raise SystemExit(f"unknown tasks: {', '.join(sorted(unknown))}; the suite {args.suite} lists them")
    kinds = TABULAR + FORECASTING
    entries = [e for e in suite if e["task"] in kinds and (not requested or e["name"] in requested)]
    frameworks = [name for name in args.frameworks.split(",") if name]
    unknown = set(frameworks) - set(FRAMEWORKS)
    if unknown:
        raise SystemExit(f"unknown frameworks: {', '.join(sorted(unknown))}; expected some of {', '.join(FRAMEWORKS)}")
    seeds = [int(seed) for seed in args.seeds.split(",")]
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(os.path.dirname(args.results), exist_ok=True)

    env = dict(os.environ)
    # HF_HUB_OFFLINE keeps frameworks from downloading models, and a fixed PYTHONHASHSEED keeps runs repeatable.
    env.update({"HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1", "PYTHONHASHSEED": "0"})
    invocation = dt.datetime.now().isoformat(timespec="seconds")
    runs = [(entry, name) for entry in entries for name in frameworks if entry["task"] in FRAMEWORKS[name].kinds]
    log(f"{len(runs)} runs of (task, framework) x {len(seeds)} seeds at {args.budget:g} s")
    for name in frameworks:
        skipped = sorted({entry["task"] for entry in entries if entry["task"] not in FRAMEWORKS[name].kinds})
        if skipped:
            log(f"{name} does not handle {', '.join(skipped)} tasks: skipped on those")
    for entry, framework in runs:
        for seed in seeds:
            if args.dry_run:
                log(f"would run {framework} on {entry['name']} budget={args.budget:g} seed={seed}")
                continue
            record = scrub(run_one(args, entry, framework, seed, env, invocation), args)
            save(args.results, record)
            value = record.get("metric_value")
            log(
                f"{framework:14s} {entry['name']:22s} {record['status']:8s} "
                f"{record['metric']}={value if value is None else round(value, 5)} "
                f"fit={record.get('fit_time_s')}s wall={record['wall_time_s']:.1f}s "
                f"rss={record['peak_rss_mb']:.0f}MB"
            )
    if not args.dry_run:
        log(f"results in {args.results}")


if __name__ == "__main__":
    sys.exit(main())
