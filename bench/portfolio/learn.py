"""Learn glassml's portfolio from benchmark runs, and leave-one-task-out portfolios to evaluate it.

Run with the project's venv from the repository root:

    .venv/bin/python bench/portfolio/learn.py all
    .venv/bin/python bench/portfolio/learn.py select --k 8

Steps, each cached as JSON lines under WORK (bench/portfolio/work by default). A step reruns only the
tasks missing from its cache, or every task with --force:

splits
    The training part of each tabular task's benchmark split, and a subsample of at most --matrix-rows
    of its rows for the matrix. The test rows are never written to WORK.
candidates
    One `glassml train` per task (--candidate-time-limit seconds, empty portfolio). Its top --top
    distinct finished configurations become candidates, each with the hyperparameters that the
    learner's search space samples.
matrix
    Every candidate of a task family (classification or regression) fitted into each task's search
    space and trained once on each task of that family: holdout 0.2, no early stopping.
select
    Greedy forward selection of --k configurations per family that minimizes the mean normalized
    regret (see selection.py), ordered cheapest first. OUT/all_tasks.json is learned on every task.
    OUT/loto/TASK.json is learned on every other task and on no candidate found on TASK.
    OUT/selection.json records the selections and the regret of each leave-one-task-out portfolio on
    its held-out task.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from statistics import mean
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.model_selection import train_test_split

from glassml.data import load_table, profile_columns
from glassml.engine._runs import leaderboard
from glassml.metrics import METRICS
from glassml.search import ALGORITHMS, resolve_algorithms, trial_params
from glassml.search._learned import fit_portfolio
from glassml.spec import TrialSpec
from glassml.tracking import Tracker

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parents[1]
sys.path.insert(0, str(REPOSITORY / "bench" / "compare"))
sys.path.insert(0, str(HERE))

import task_data  # noqa: E402  (the benchmark harness's split, in bench/compare)
from selection import portfolio_regret, regret_table, select_greedy, task_regrets  # noqa: E402

SUITE = REPOSITORY / "bench" / "suite.json"
GLASSML = Path(sys.executable).parent / "glassml"
FAMILIES: dict[str, tuple[str, ...]] = {"classification": ("binary", "multiclass"), "regression": ("regression",)}
STORE_FOLDER = "glassml-runs"
CANDIDATE_EXPERIMENT = "cand"
MATRIX_EXPERIMENT = "matrix"
SUBSAMPLE_SEED = 0


# Cache files


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def rows_by_task(path: Path) -> dict[str, dict[str, Any]]:
    """Return the cached rows of a step by task name. A later row replaces an earlier one."""
    return {row["task"]: row for row in read_jsonl(path)}


def append_jsonl(path: Path, row: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(row) + "\n")


def record_timing(work: Path, step: str, seconds: float, tasks: Sequence[str]) -> None:
    append_jsonl(
        work / "timings.jsonl",
        {
            "step": step,
            "seconds": round(seconds, 1),
            "tasks": list(tasks),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )


def log(message: str) -> None:
    print(message, flush=True)


# Step a: splits


def suite_tasks(names: Sequence[str] | None) -> list[dict[str, Any]]:
    """Return the tabular entries of the suite, all of them or those named, in suite order."""
    entries = [entry for entry in json.loads(SUITE.read_text()) if entry["task"] in task_data.TABULAR]
    if names is None:
        return entries
    known = {entry["name"] for entry in entries}
    unknown = sorted(set(names) - known)
    if unknown:
        raise SystemExit(f"unknown tasks {unknown}: the tabular tasks of {SUITE} are {sorted(known)}")
    return [entry for entry in entries if entry["name"] in names]


def make_splits(entries: Sequence[dict[str, Any]], work: Path, matrix_rows: int, force: bool) -> list[dict[str, Any]]:
    """Write each task's training rows (and the matrix subsample) and return the split rows."""
    cache = work / "splits.jsonl"
    cached = rows_by_task(cache)
    for entry in entries:
        name = entry["name"]
        row = cached.get(name)
        if row is not None and not force and Path(row["matrix_data"]).exists():
            continue
        started = time.perf_counter()
        folder = work / "data" / name
        folder.mkdir(parents=True, exist_ok=True)
        train = _write_training_rows(name, folder)
        matrix_path = folder / "train.parquet"
        if len(train) > matrix_rows:
            matrix_path = folder / "matrix.parquet"
            train.iloc[_subsample(train, entry, matrix_rows)].to_parquet(matrix_path, index=False)
        row = {
            "task": name,
            "kind": entry["task"],
            "target": entry["target"],
            "metric": entry["metric"],
            "n_train": len(train),
            "n_matrix": min(len(train), matrix_rows),
            "train_data": str(folder / "train.parquet"),
            "matrix_data": str(matrix_path),
            "seconds": round(time.perf_counter() - started, 1),
        }
        append_jsonl(cache, row)
        cached[name] = row
        log(f"split {name}: {row['n_train']} training rows, {row['n_matrix']} for the matrix")
    return [cached[entry["name"]] for entry in entries]


def _write_training_rows(name: str, folder: Path) -> pd.DataFrame:
    """Split the task with the benchmark harness and keep only its training rows and task.json."""
    with tempfile.TemporaryDirectory(prefix="glassml-portfolio-split-") as scratch:
        # `prepare` also writes the test rows. They stay in the scratch folder, which is deleted.
        with contextlib.redirect_stdout(io.StringIO()):
            task_data.prepare(str(SUITE), name, scratch)
        for file in ("train.parquet", "task.json"):
            shutil.move(Path(scratch) / file, folder / file)
    return pd.read_parquet(folder / "train.parquet")


def _subsample(train: pd.DataFrame, entry: dict[str, Any], size: int) -> np.ndarray:
    """Return the sorted positions of `size` training rows, stratified on the class when possible."""
    stratify = None
    if entry["task"] in task_data.CLASSIFICATION:
        labels = train[entry["target"]].map(task_data.canon)
        if labels.value_counts().min() >= 2:
            stratify = labels
    positions, _ = train_test_split(
        np.arange(len(train)), train_size=size, random_state=SUBSAMPLE_SEED, stratify=stratify
    )
    return np.sort(positions)


# Reading a train run


def run_glassml(arguments: Sequence[str], folder: Path) -> tuple[int, float]:
    """Run `glassml` in `folder`, writing its output to folder/glassml.log, and return the exit code and seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with (folder / "glassml.log").open("w", encoding="utf-8") as output:
        completed = subprocess.run(
            [str(GLASSML), *arguments], cwd=folder, stdout=output, stderr=subprocess.STDOUT, check=False
        )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        tail = (folder / "glassml.log").read_text(encoding="utf-8", errors="replace")[-1500:]
        log(f"glassml {arguments[0]} in {folder} exited with code {completed.returncode}:\n{tail}")
    return completed.returncode, seconds


def read_trials(folder: Path, experiment: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the latest train run of `experiment` in folder's store and its trials, best first.

    Each trial has its status, primary score, fit seconds (wall seconds when it did not finish) and the
    hyperparameters that its learner samples, as Optuna parameters (`trial_params`).
    """
    tracker = Tracker(store_dir=folder / STORE_FOLDER)
    parent = tracker.latest_parent_run(experiment)
    if parent is None:
        return {}, []
    run_info = {"task": parent.data.params["task"], "metric": parent.data.params["metric"]}
    run_info["n_rows"] = int(parent.data.params["rows"])
    wall_seconds = {
        run.info.run_id: (run.info.end_time - run.info.start_time) / 1000
        for run in tracker.child_runs(parent.info.run_id)
        if run.info.end_time is not None
    }

    trials = []
    for entry in leaderboard(tracker, parent.info.run_id):
        spec = TrialSpec.from_dict(json.loads(tracker.read_text(entry["run_id"], "spec.json")))
        run_info["n_features"] = sum(column.purpose != "ignore" for column in spec.columns)
        seconds = entry["fit_seconds"] if entry["fit_seconds"] is not None else wall_seconds.get(entry["run_id"])
        trials.append(
            {
                "trial": entry["trial"],
                "status": entry["status"],
                "score": entry["metrics"].get(run_info["metric"]),
                "seconds": seconds,
                "params": sampled_params(spec, run_info["task"], run_info["n_rows"], run_info["n_features"]),
            }
        )
    return run_info, trials


def sampled_params(spec: TrialSpec, task: str, n_rows: int, n_features: int) -> dict[str, Any]:
    """Return the trial's searched hyperparameters as Optuna parameters, without the learner's fixed ones.

    The learner's `sample` is replayed on a FixedTrial, which records exactly the parameters that it
    suggests, conditional ones included.
    """
    algorithm = ALGORITHMS[spec.algorithm.name]
    trial = optuna.trial.FixedTrial(trial_params(algorithm, spec.algorithm.params))
    with warnings.catch_warnings():
        # FixedTrial warns about a value outside the range and records it as given.
        warnings.simplefilter("ignore", UserWarning)
        algorithm.sample(trial, task=task, n_rows=n_rows, n_features=n_features)
    return {"algorithm": algorithm.name, **trial.params}


def config_from_params(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Split Optuna parameters into the learner's name and its unprefixed hyperparameters."""
    algorithm = ALGORITHMS[params["algorithm"]]
    prefix = algorithm.trial_param_name("")
    return algorithm.name, {key.removeprefix(prefix): value for key, value in params.items() if key != "algorithm"}


# Step b: candidates


def find_candidates(
    splits: Sequence[dict[str, Any]], work: Path, time_limit: float, top: int, force: bool
) -> list[dict[str, Any]]:
    """Run a short search per task and keep its top distinct finished configurations."""
    cache = work / "candidates.jsonl"
    cached = rows_by_task(cache)
    empty = work / "empty_portfolio.json"
    empty.write_text(json.dumps({"configs": []}) + "\n")
    for split in splits:
        name = split["task"]
        if name in cached and not force:
            continue
        folder = work / "runs" / name / "candidates"
        shutil.rmtree(folder, ignore_errors=True)
        arguments = ["train", split["train_data"], *_task_options(split)]
        arguments += ["--time-limit", str(time_limit), "--experiment", CANDIDATE_EXPERIMENT, "--portfolio", str(empty)]
        exit_code, seconds = run_glassml(arguments, folder)
        _, trials = read_trials(folder, CANDIDATE_EXPERIMENT)

        candidates: list[dict[str, Any]] = []
        for trial in trials:  # best first
            score = trial["score"]
            if trial["status"] != "finished" or score is None or not math.isfinite(score):
                continue
            if any(candidate["trial_params"] == trial["params"] for candidate in candidates):
                continue
            algorithm, params = config_from_params(trial["params"])
            candidates.append(
                {
                    "id": f"{name}:{len(candidates) + 1}",
                    "origin": name,
                    "algorithm": algorithm,
                    "params": params,
                    "trial_params": trial["params"],
                    "validation_score": score,
                    "seconds": trial["seconds"],
                }
            )
            if len(candidates) == top:
                break
        row = {
            "task": name,
            "kind": split["kind"],
            "metric": split["metric"],
            "exit_code": exit_code,
            "seconds": round(seconds, 1),
            "trials": len(trials),
            "finished_trials": sum(trial["status"] == "finished" for trial in trials),
            "candidates": candidates,
        }
        append_jsonl(cache, row)
        cached[name] = row
        found = ", ".join(candidate["algorithm"] for candidate in candidates)
        log(f"candidates {name}: {len(trials)} trials in {seconds:.0f} s; kept {found}")
    return [cached[split["task"]] for split in splits]


def _task_options(split: dict[str, Any]) -> list[str]:
    return ["--target", split["target"], "--task", split["kind"], "--metric", split["metric"]]


# Step c: matrix


def family_of(kind: str) -> str:
    return next(family for family, kinds in FAMILIES.items() if kind in kinds)


def family_candidates(candidate_rows: Iterable[dict[str, Any]], family: str) -> list[dict[str, Any]]:
    return [candidate for row in candidate_rows if family_of(row["kind"]) == family for candidate in row["candidates"]]


def build_matrix(
    splits: Sequence[dict[str, Any]],
    candidate_rows: Sequence[dict[str, Any]],
    work: Path,
    time_limit: float,
    force: bool,
) -> list[dict[str, Any]]:
    """Train every candidate of a family once on each task of that family and record score and seconds."""
    cache = work / "matrix.jsonl"
    cached = rows_by_task(cache)
    for split in splits:
        name, family = split["task"], family_of(split["kind"])
        candidates = family_candidates(candidate_rows, family)
        if not candidates:
            log(f"matrix {name}: no candidates of the {family} family; run the candidates step first")
            continue
        portfolio = {
            "configs": [
                {"algorithm": c["algorithm"], "tasks": list(FAMILIES[family]), "params": c["params"], "id": c["id"]}
                for c in candidates
            ]
        }
        digest = hashlib.sha256(json.dumps(portfolio, sort_keys=True).encode()).hexdigest()
        row = cached.get(name)
        if row is not None and row["candidates_sha256"] == digest and not force:
            continue
        portfolio_path = work / f"matrix_{family}.json"
        portfolio_path.write_text(json.dumps(portfolio, indent=1) + "\n")

        row = _run_matrix_task(split, candidates, portfolio_path, work, time_limit) | {"candidates_sha256": digest}
        append_jsonl(cache, row)
        cached[name] = row
    return [cached[split["task"]] for split in splits if split["task"] in cached]


def _run_matrix_task(
    split: dict[str, Any], candidates: Sequence[dict[str, Any]], portfolio_path: Path, work: Path, time_limit: float
) -> dict[str, Any]:
    """Run the matrix trials of one task, log a summary line and return its matrix row without the cache key."""
    name, family = split["task"], family_of(split["kind"])

    # glassml enqueues the distinct fitted configurations first, so this many trials try each of them once,
    # unless glassml skips one whose estimated cost exceeds the time left.
    n_rows, n_features = table_size(Path(split["matrix_data"]), split["target"])
    fitted = fit_candidates(candidates, split["kind"], n_rows, n_features)
    distinct: list[dict[str, Any]] = []
    for params in fitted.values():
        if params is not None and params not in distinct:
            distinct.append(params)
    folder = work / "runs" / name / "matrix"
    shutil.rmtree(folder, ignore_errors=True)
    arguments = ["train", split["matrix_data"], *_task_options(split), "--portfolio", str(portfolio_path)]
    arguments += ["--max-trials", str(len(distinct)), "--validation", "holdout:0.2", "--no-early-stopping"]
    arguments += ["--time-limit", str(time_limit), "--experiment", MATRIX_EXPERIMENT]
    exit_code, seconds = run_glassml(arguments, folder)
    run_info, trials = read_trials(folder, MATRIX_EXPERIMENT)
    if run_info and (run_info["n_rows"], run_info["n_features"]) != (n_rows, n_features):
        log(f"matrix {name}: the run saw {run_info['n_rows']} rows and {run_info['n_features']} features")
        fitted = fit_candidates(candidates, split["kind"], run_info["n_rows"], run_info["n_features"])

    results = [_match_trial(candidate["id"], fitted[candidate["id"]], trials) for candidate in candidates]
    row = {
        "task": name,
        "kind": split["kind"],
        "family": family,
        "metric": split["metric"],
        "n_rows": n_rows,
        "n_features": n_features,
        "exit_code": exit_code,
        "seconds": round(seconds, 1),
        "trials": len(trials),
        "results": results,
    }
    finished = sum(result["status"] == "finished" for result in results)
    log(f"matrix {name}: {len(trials)} trials in {seconds:.0f} s; {finished} of {len(candidates)} candidates scored")
    return row


def table_size(path: Path, target: str) -> tuple[int, int]:
    """Return the rows and the feature count that glassml's search space gets for this table."""
    table, _ = load_table(path)
    labelled = int(table[target].notna().sum())
    return labelled, sum(column.purpose != "ignore" for column in profile_columns(table, target))


def fit_candidates(
    candidates: Sequence[dict[str, Any]], task: str, n_rows: int, n_features: int
) -> dict[str, dict[str, Any] | None]:
    """Return each candidate's Optuna parameters inside this table's space, as glassml enqueues them."""
    algorithms = resolve_algorithms(None, None, task)
    fitted = {}
    for candidate in candidates:
        config = {"algorithm": candidate["algorithm"], "params": candidate["params"]}
        found = fit_portfolio([config], algorithms, task=task, n_rows=n_rows, n_features=n_features)
        fitted[candidate["id"]] = found[0] if found else None
    return fitted


def _match_trial(candidate_id: str, params: dict[str, Any] | None, trials: Sequence[dict[str, Any]]) -> dict[str, Any]:
    if params is None:
        return {"id": candidate_id, "status": "left_out", "score": None, "seconds": None}
    trial = next((trial for trial in trials if trial["params"] == params), None)
    if trial is None:
        return {"id": candidate_id, "status": "not_run", "score": None, "seconds": None}
    score = trial["score"] if trial["status"] == "finished" else None
    return {
        "id": candidate_id,
        "status": trial["status"],
        "score": score,
        "seconds": trial["seconds"],
        "trial": trial["trial"],
    }


# Step d: selection


def select_portfolios(
    matrix_rows: Sequence[dict[str, Any]], candidate_rows: Sequence[dict[str, Any]], out: Path, size: int
) -> dict[str, Any]:
    """Write OUT/all_tasks.json and OUT/loto/TASK.json and return a summary of the selections."""
    candidates = {c["id"]: c for row in candidate_rows for c in row["candidates"]}
    summary: dict[str, Any] = {"k": size, "families": {}}
    all_task_entries: dict[str, list[dict[str, Any]]] = {}
    loto_entries: dict[str, dict[str, list[dict[str, Any]]]] = {}

    for family in FAMILIES:
        rows = [row for row in matrix_rows if row["family"] == family]
        if not rows:
            continue
        scores, seconds = _oriented_scores(rows)
        tasks = [row["task"] for row in rows]
        pool = [c for c in family_candidates(candidate_rows, family) if all(c["id"] in scores[task] for task in tasks)]

        selection = _learn(scores, seconds, tasks, [c["id"] for c in pool], size)
        all_task_entries[family] = _entries(selection["selected"], candidates, seconds, tasks, family)
        family_summary: dict[str, Any] = {
            "tasks": tasks,
            "matrix_shape": [len(tasks), len(pool)],
            "all_tasks": selection,
            "loto": {},
        }
        for held_out in tasks:
            training_tasks = [task for task in tasks if task != held_out]
            training_pool = [c["id"] for c in pool if c["origin"] != held_out]
            if not training_tasks or not training_pool:
                continue
            loto = _learn(scores, seconds, training_tasks, training_pool, size)
            # The held-out task is scored against every candidate on it, its own included.
            held_out_scores = scores[held_out]
            best_in_portfolio = max(
                (held_out_scores[c] for c in loto["selected"] if held_out_scores[c] is not None), default=None
            )
            best_candidate = max(score for score in held_out_scores.values() if score is not None)
            loto |= {
                "held_out_regret": portfolio_regret({held_out: task_regrets(held_out_scores)}, loto["selected"]),
                # The gap in the metric's own unit: how much worse the portfolio's best is than the best candidate.
                "held_out_gap": None if best_in_portfolio is None else best_candidate - best_in_portfolio,
            }
            family_summary["loto"][held_out] = loto
            loto_entries[held_out] = {family: _entries(loto["selected"], candidates, seconds, training_tasks, family)}
        held_out_regrets = [value["held_out_regret"] for value in family_summary["loto"].values()]
        family_summary["loto_mean_held_out_regret"] = mean(held_out_regrets) if held_out_regrets else None
        summary["families"][family] = family_summary

    all_tasks = [row["task"] for row in matrix_rows]
    _write_portfolio(out / "all_tasks.json", all_task_entries, learned_on=all_tasks, left_out=None)
    for held_out, entries in loto_entries.items():
        # The other family never saw the held-out task, so its all-task selection is used unchanged.
        learned_on = [task for task in all_tasks if task != held_out]
        _write_portfolio(
            out / "loto" / f"{held_out}.json", {**all_task_entries, **entries}, learned_on=learned_on, left_out=held_out
        )
    return summary


def _oriented_scores(rows: Sequence[dict[str, Any]]) -> tuple[dict[str, dict[str, float | None]], dict[str, dict]]:
    """Return the scores (higher is better, None when failed) and the seconds of each task's candidates."""
    scores: dict[str, dict[str, float | None]] = {}
    seconds: dict[str, dict[str, float | None]] = {}
    for row in rows:
        metric = METRICS[row["metric"]]
        scores[row["task"]] = {}
        seconds[row["task"]] = {}
        for result in row["results"]:
            score = result["score"]
            scores[row["task"]][result["id"]] = None if score is None else -metric.loss(score)
            seconds[row["task"]][result["id"]] = result["seconds"]
    return scores, seconds


def _mean_seconds(seconds: dict[str, dict[str, float | None]], tasks: Sequence[str], candidate: str) -> float:
    """Return the candidate's mean seconds over `tasks`. A task without a measurement counts as the slowest one."""
    slowest = max((value for task in tasks for value in seconds[task].values() if value is not None), default=0.0)
    return mean(seconds[task][candidate] if seconds[task][candidate] is not None else slowest for task in tasks)


def _learn(scores, seconds, tasks: Sequence[str], pool: Sequence[str], size: int) -> dict[str, Any]:
    """Select `size` candidates of `pool` on `tasks` and describe the selection.

    ``selected`` is ordered cheapest first. ``greedy_order`` and ``mean_regret_after`` give the order
    of selection and the portfolio's mean regret on `tasks` after each step.
    """
    regrets = regret_table(scores, tasks, pool)
    costs = {candidate: _mean_seconds(seconds, tasks, candidate) for candidate in pool}
    order = select_greedy(regrets, costs, size)
    return {
        "selected": sorted(order, key=lambda candidate: (costs[candidate], candidate)),
        "greedy_order": order,
        "mean_regret_after": [portfolio_regret(regrets, order[: step + 1]) for step in range(len(order))],
        "mean_regret": portfolio_regret(regrets, order),
    }


def _entries(selected, candidates, seconds, tasks, family: str) -> list[dict[str, Any]]:
    return [
        {
            "algorithm": candidates[candidate]["algorithm"],
            "tasks": list(FAMILIES[family]),
            "params": candidates[candidate]["params"],
            "origin": candidates[candidate]["origin"],
            "mean_seconds": round(_mean_seconds(seconds, tasks, candidate), 2),
        }
        for candidate in selected
    ]


def _write_portfolio(path: Path, by_family: dict[str, list], *, learned_on: list[str], left_out: str | None) -> None:
    configs = [entry for family in FAMILIES for entry in by_family.get(family, [])]
    document = {"configs": configs, "learned_on": learned_on, "left_out": left_out}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1) + "\n")


# Command line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("splits", "candidates", "matrix", "select", "all"))
    parser.add_argument("--tasks", help="comma-separated suite tasks (default: every tabular task)")
    parser.add_argument("--work", type=Path, default=HERE / "work", help="folder of the caches and scratch runs")
    parser.add_argument("--out", type=Path, default=HERE, help="folder of all_tasks.json, loto/ and selection.json")
    parser.add_argument("--force", action="store_true", help="redo the step's tasks even when they are cached")
    parser.add_argument("--matrix-rows", type=int, default=10_000, help="maximum rows of a table in the matrix")
    parser.add_argument("--candidate-time-limit", type=float, default=45.0, help="seconds of each candidate search")
    parser.add_argument("--top", type=int, default=4, help="distinct configurations kept per candidate search")
    parser.add_argument(
        "--matrix-time-limit",
        type=float,
        default=600.0,
        help="time limit in seconds of each matrix run; glassml caps a trial at a quarter of it",
    )
    parser.add_argument("--k", type=int, default=8, help="configurations selected per task family")
    args = parser.parse_args()

    # The runs and the reading of their stores use the store in each scratch folder, never a global one.
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    entries = suite_tasks(args.tasks.split(",") if args.tasks else None)
    names = [entry["name"] for entry in entries]
    work, step = args.work.resolve(), args.step

    # The later steps read the split rows, so every step but `select` makes the missing splits first.
    splits: list[dict[str, Any]] = []
    if step != "select":
        started = time.perf_counter()
        splits = make_splits(entries, work, args.matrix_rows, args.force and step in ("splits", "all"))
        record_timing(work, "splits", time.perf_counter() - started, names)
    if step in ("candidates", "all"):
        started = time.perf_counter()
        find_candidates(splits, work, args.candidate_time_limit, args.top, args.force)
        record_timing(work, "candidates", time.perf_counter() - started, names)
    if step in ("matrix", "all"):
        started = time.perf_counter()
        build_matrix(splits, _cached(work / "candidates.jsonl", names), work, args.matrix_time_limit, args.force)
        record_timing(work, "matrix", time.perf_counter() - started, names)
    if step in ("select", "all"):
        started = time.perf_counter()
        summary = select_portfolios(
            _cached(work / "matrix.jsonl", names), _cached(work / "candidates.jsonl", names), args.out, args.k
        )
        (args.out / "selection.json").write_text(json.dumps(summary, indent=1) + "\n")
        record_timing(work, "select", time.perf_counter() - started, names)
        print_summary(summary)


def _cached(path: Path, names: Sequence[str]) -> list[dict[str, Any]]:
    rows = rows_by_task(path)
    missing = [name for name in names if name not in rows]
    if missing:
        log(f"{path.name} has no rows for {', '.join(missing)}; they are left out")
    return [rows[name] for name in names if name in rows]


def print_summary(summary: dict[str, Any]) -> None:
    for family, result in summary["families"].items():
        log(f"{family}: matrix {result['matrix_shape'][0]} tasks x {result['matrix_shape'][1]} candidates")
        steps = zip(result["all_tasks"]["greedy_order"], result["all_tasks"]["mean_regret_after"], strict=True)
        log("  all tasks, in the order of selection: " + ", ".join(f"{c} ({regret:.3f})" for c, regret in steps))
        for task, loto in result["loto"].items():
            gap = "no candidate finished" if loto["held_out_gap"] is None else f"{loto['held_out_gap']:.4g}"
            log(f"  without {task}: held-out regret {loto['held_out_regret']:.3f}, gap to the best candidate {gap}")
        if result["loto_mean_held_out_regret"] is not None:
            log(f"  mean held-out regret {result['loto_mean_held_out_regret']:.3f}")


if __name__ == "__main__":
    main()
