"""glassml through its command line, as a user runs it.

Runs with the project's own interpreter (`.venv/bin/python`) and takes the `glassml` command from the same
folder. In a scratch folder of its own (glassml writes ./glassml-runs there) it runs, on a tabular task,

    glassml train TRAIN --target T --time-limit BUDGET --seed S --experiment bench --task TASK --metric METRIC
    glassml leaderboard --experiment bench --format json     (the first row is the best run)
    glassml predict RUN TEST --out FILE
    glassml verify RUN

and on a forecasting task, with the long table of the split (`item_id`, `timestamp`, `target`),

    glassml train TRAIN --task forecasting --target target --time-column timestamp --series-id item_id
        --horizon H --freq F --metric mase|smape --time-limit BUDGET --seed S --experiment bench
    glassml leaderboard --experiment bench --format json
    glassml forecast RUN --out FILE                           (item_id, timestamp, prediction, intervals)
    glassml verify RUN

The fit time is the wall time of the whole `glassml train` process, start-up and final refit included.
`peak_rss_mb_without_verify` is the largest resident memory of this adapter's process tree during train and
predict, sampled every 0.2 s. The driver's own `peak_rss_mb` includes the verify step too. A failed verify is
recorded in info.json (`verify_exit_code`) and does not fail the run, since the predictions are still valid.

GLASSML_BENCH_ARGS in the environment adds arguments to `glassml train`, split like a shell line, after
`{task}`, `{kind}` and `{metric}` are replaced by the task's name, kind and metric, for example
GLASSML_BENCH_ARGS='--portfolio /abs/path/portfolios/{task}.json'. glassml runs in a scratch folder, so paths
in it must be absolute. A portfolio holds configurations of tabular learners, so `--portfolio` is left out
of forecasting runs, and info.json lists it under `dropped_train_args`.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pandas as pd
import psutil
from _common import canon, load, parse_args, write

SAMPLE_SECONDS = 0.2
EXTRA_ARGS_VARIABLE = "GLASSML_BENCH_ARGS"
TABULAR_ONLY_OPTION = "--portfolio"
FORECASTING = "forecasting"
REPOSITORY = Path(__file__).resolve().parents[3]


def tree_rss_mb() -> float:
    """Return the resident memory of this process and all its descendants, in MiB."""
    root = psutil.Process()
    total = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


def run_measured(command: list[str], cwd: Path, log_name: str) -> dict:
    """Run `command` to its end and return its exit code, wall seconds, peak tree RSS and output.

    The output goes to `cwd/log_name` while the command runs, then to this process's stdout, which the
    driver logs.
    """
    print("$ " + shlex.join(command), flush=True)
    log_path = cwd / log_name
    started = time.perf_counter()
    peak = 0.0
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        while process.poll() is None:
            peak = max(peak, tree_rss_mb())
            try:
                # wait() returns as soon as the command ends, so the measured time is not rounded up to a sample.
                process.wait(timeout=SAMPLE_SECONDS)
            except subprocess.TimeoutExpired:
                continue
    seconds = time.perf_counter() - started
    output = log_path.read_text(errors="replace")
    print(output, flush=True)
    return {"exit_code": process.returncode, "seconds": seconds, "peak_rss_mb": peak, "output": output}


def bench_args(task: dict) -> list[str]:
    """Return GLASSML_BENCH_ARGS split like a shell line, with `{task}`, `{kind}` and `{metric}` replaced."""
    template = os.environ.get(EXTRA_ARGS_VARIABLE, "")
    line = template.replace("{task}", task["entry"]["name"]).replace("{kind}", task["task"])
    return shlex.split(line.replace("{metric}", task["metric"]))


def split_tabular_only(arguments: list[str]) -> tuple[list[str], list[str]]:
    """Split `arguments` into those a forecasting run takes and the tabular-only ones (`--portfolio PATH`)."""
    forecasting_args, tabular_only_args = [], []
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        if argument == TABULAR_ONLY_OPTION:
            tabular_only_args += arguments[index : index + 2]
            index += 2
            continue
        if argument.startswith(TABULAR_ONLY_OPTION + "="):
            tabular_only_args.append(argument)
        else:
            forecasting_args.append(argument)
        index += 1
    return forecasting_args, tabular_only_args


def extra_train_args(task: dict) -> tuple[list[str], list[str]]:
    """Return the GLASSML_BENCH_ARGS that `glassml train` gets on this task, and those left out."""
    arguments = bench_args(task)
    if task["task"] == FORECASTING:
        return split_tabular_only(arguments)
    return arguments, []


def glassml_version() -> str:
    """Return the installed glassml version and the checkout's commit, marked `dirty` when it has changes."""
    version = f"glassml {metadata.version('glassml')}"
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPOSITORY), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", str(REPOSITORY), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return version
    return f"{version} ({commit}{', dirty' if changes else ''})"


def class_names(task: dict, columns: list[str]) -> dict[str, str]:
    """Map glassml's `probability_<class>` columns to the task's canonical class names.

    glassml may write a numeric class as "1.0" where the task's canonical name is "1"; such a suffix is
    matched through its numeric value.
    """
    known = set(task["classes"])
    names = {}
    for column in columns:
        if not column.startswith("probability_"):
            continue
        suffix = column[len("probability_") :]
        if suffix in known:
            names[column] = suffix
            continue
        try:
            numeric = canon(float(suffix))
        except ValueError:
            numeric = suffix
        names[column] = numeric
    return names


def convert_predictions(task: dict, output: pd.DataFrame, n_features: int) -> pd.DataFrame:
    """Turn `glassml predict` output into the driver's format.

    `glassml predict` writes the input columns first, then `prediction` and the `probability_<class>`
    columns, so the columns after the first `n_features` are the predictions.
    """
    ours = output.iloc[:, n_features:]
    if task["task"] == "regression":
        return pd.DataFrame({"prediction": ours["prediction"].astype(float).to_numpy()})
    labels = [canon(value) for value in ours["prediction"]]
    known = set(task["classes"])
    labels = [label if label in known else _numeric_label(label) for label in labels]
    predictions = pd.DataFrame({"prediction": labels})
    for column, name in class_names(task, list(ours.columns)).items():
        predictions[f"proba:{name}"] = ours[column].astype(float).to_numpy()
    return predictions


def _numeric_label(label: str) -> str:
    try:
        return canon(float(label))
    except ValueError:
        return label


def convert_forecast(output: pd.DataFrame) -> pd.DataFrame:
    """Turn `glassml forecast` output into the driver's format, keeping the interval columns it has."""
    predictions = pd.DataFrame(
        {
            "item_id": output["item_id"].astype(str).to_numpy(),
            "timestamp": pd.to_datetime(output["timestamp"]).to_numpy(),
            "prediction": output["prediction"].astype(float).to_numpy(),
        }
    )
    for column in ("lower_80", "upper_80", "lower_95", "upper_95"):
        if column in output.columns:
            predictions[column] = output[column].astype(float).to_numpy()
    return predictions


def train_command(glassml: str, args, task: dict, extra_args: list[str]) -> list[str]:
    train_path = os.path.join(args.task_dir, "train.parquet")
    budget_and_seed = ["--time-limit", f"{args.budget:g}", "--seed", str(args.seed), "--experiment", "bench"]
    if task["task"] != FORECASTING:
        return [
            glassml,
            "train",
            train_path,
            "--target",
            task["target"],
            *budget_and_seed,
            "--task",
            task["task"],
            "--metric",
            task["metric"],
            *extra_args,
        ]
    frequency = ["--freq", task["freq"]] if task.get("freq") else []
    return [
        glassml,
        "train",
        train_path,
        "--task",
        FORECASTING,
        "--target",
        "target",
        "--time-column",
        "timestamp",
        "--series-id",
        "item_id",
        "--horizon",
        str(task["horizon"]),
        *frequency,
        "--metric",
        task["metric"],
        *budget_and_seed,
        *extra_args,
    ]


def predict_test_rows(glassml: str, args, task: dict, run_id: str, scratch: Path) -> tuple[dict, pd.DataFrame | None]:
    """Predict the test rows with `glassml predict`, or forecast them with `glassml forecast`.

    Returns the measured command and the predictions in the driver's format (None when the command failed).
    """
    if task["task"] == FORECASTING:
        forecast_path = scratch / "glassml_forecast.parquet"
        command = [glassml, "forecast", run_id, "--out", str(forecast_path)]
        measured = run_measured(command, scratch, "forecast.log")
        if measured["exit_code"] != 0:
            return measured, None
        return measured, convert_forecast(pd.read_parquet(forecast_path))

    prediction_path = scratch / "glassml_predictions.parquet"
    test_path = os.path.join(args.task_dir, "test_X.parquet")
    measured = run_measured(
        [glassml, "predict", run_id, test_path, "--out", str(prediction_path)], scratch, "predict.log"
    )
    if measured["exit_code"] != 0:
        return measured, None
    test_columns = len(pd.read_parquet(test_path).columns)
    return measured, convert_predictions(task, pd.read_parquet(prediction_path), test_columns)


def main() -> None:
    args = parse_args()
    task, _, _ = load(args.task_dir)
    glassml = str(Path(sys.executable).parent / "glassml")
    scratch = Path(args.out_dir).parent / "glassml"
    scratch.mkdir(parents=True, exist_ok=True)
    extra_args, dropped_args = extra_train_args(task)
    info = {"framework_version": glassml_version(), "preset": "default", "extra_train_args": extra_args}
    if dropped_args:
        info["dropped_train_args"] = dropped_args

    train = run_measured(train_command(glassml, args, task, extra_args), scratch, "train.log")
    info |= {"fit_time_s": train["seconds"], "train_exit_code": train["exit_code"]}
    info["peak_rss_mb_without_verify"] = round(train["peak_rss_mb"], 1)
    if train["exit_code"] != 0:
        write(args.out_dir, None, info)
        raise SystemExit(f"glassml train failed with exit code {train['exit_code']}")

    board = subprocess.run(
        [glassml, "leaderboard", "--experiment", "bench", "--format", "json"],
        cwd=scratch,
        check=True,
        capture_output=True,
        text=True,
    )
    rows = json.loads(board.stdout)
    if not rows:
        write(args.out_dir, None, info)
        raise SystemExit("glassml leaderboard is empty: the train run finished no trial")
    best = rows[0]
    info |= {
        "best_model": best.get("algorithm"),
        "best_run_id": best["run_id"],
        "best_validation_metrics": best.get("metrics"),
        "trials": len(rows),
        "finished_trials": sum(row.get("status") == "finished" for row in rows),
    }

    predict, predictions = predict_test_rows(glassml, args, task, best["run_id"], scratch)
    info |= {"predict_time_s": predict["seconds"], "predict_exit_code": predict["exit_code"]}
    info["peak_rss_mb_without_verify"] = round(max(train["peak_rss_mb"], predict["peak_rss_mb"]), 1)
    if predictions is None:
        write(args.out_dir, None, info)
        command = "forecast" if task["task"] == FORECASTING else "predict"
        raise SystemExit(f"glassml {command} failed with exit code {predict['exit_code']}")

    verify = run_measured([glassml, "verify", best["run_id"]], scratch, "verify.log")
    info |= {
        "verify_exit_code": verify["exit_code"],
        "verify_seconds": round(verify["seconds"], 2),
        "verify_output_tail": verify["output"][-1500:] if verify["exit_code"] != 0 else "",
    }
    write(args.out_dir, predictions, info)


if __name__ == "__main__":
    main()
