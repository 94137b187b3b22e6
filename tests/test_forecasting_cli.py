"""End-to-end tests of forecasting through the `glassml` command, each command in a subprocess.

One small daily table of two regions, with two time steps that appear twice, is trained once per
module with `--aggregate sum`. The tests of `forecast`, `verify`, `predict` and of the generated
notebook share that run. Independent commands run at the same time, in two batches: the three
train commands, then the commands that read the finished run.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbclient import NotebookClient

from glassml.engine import TrialRun
from glassml.tracking import Tracker

GLASSML = Path(sys.executable).parent / "glassml"
# One statistical forecaster and one mlforecast learner, with one worker. The trial count ends the
# run. The time limit counts from the start of the process, so it leaves room for importing the
# libraries while the other commands of the batch run too.
FAST_OPTIONS = ["--time-limit", "120", "--max-trials", "2", "--workers", "1", "--allowed-models", "naive,linear"]
SERIES_OPTIONS = ["--target", "units", "--series-id", "region", "--horizon", "7"]
FORECAST_COLUMNS = ["region", "date", "prediction", "lower_80", "upper_80", "lower_95", "upper_95"]
LAST_DAY = pd.Timestamp("2024-03-10")
# The last day of each region in the recent history given to `glassml forecast --data`.
RECENT_ENDS = {"north": "2024-02-20", "south": "2024-02-29"}


def run_glassml(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed `glassml` command in `cwd` with the default store of that folder."""
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
    command = [str(GLASSML), *(str(arg) for arg in args)]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False)


def run_together(commands: dict[str, tuple[list[object], Path]]) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run independent `glassml` commands at the same time, each in its folder, and return their results by name.

    Each command spends seconds importing libraries, mostly on one core, so running them side by
    side shortens the module on a machine with more than one core.
    """
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        futures = {name: pool.submit(run_glassml, *args, cwd=cwd) for name, (args, cwd) in commands.items()}
    return {name: future.result() for name, future in futures.items()}


def tracker_of(folder: Path) -> Tracker:
    return Tracker(f"sqlite:///{(folder / 'glassml-runs' / 'mlflow.db').as_posix()}")


def unwrap(text: str) -> str:
    """Join the lines that the console wraps at its width, so that messages can be searched."""
    return " ".join(text.split())


def write_sales(path: Path) -> None:
    """Write 70 days of units of two regions with a weekly cycle, and two days that appear twice.

    The last day of 'north', 2024-03-10, is split into two rows of 30.0 and 12.5 (42.5 together), and
    'south' has a second row of 1.0 on 2024-01-30.
    """
    rows = []
    for region, level in (("north", 40.0), ("south", 60.0)):
        for step, day in enumerate(pd.date_range("2024-01-01", LAST_DAY, freq="D")):
            units = round(level + 5 * math.sin(2 * math.pi * step / 7) + (step % 3) * 0.5, 1)
            rows.append({"region": region, "date": day.date().isoformat(), "units": units})
    rows[69]["units"] = 30.0
    rows.insert(70, {"region": "north", "date": "2024-03-10", "units": 12.5})
    rows.append({"region": "south", "date": "2024-01-30", "units": 1.0})
    pd.DataFrame(rows).to_csv(path, index=False)


@dataclass
class SalesRun:
    """A folder with the sales table and one finished `glassml train --aggregate sum` run."""

    folder: Path
    data: Path
    train: subprocess.CompletedProcess[str]
    tracker: Tracker
    parent_run_id: str
    best_run_id: str

    def guardrail(self, name: str) -> dict[str, Any]:
        guardrails = json.loads(self.tracker.read_text(self.parent_run_id, "guardrails.json"))
        (found,) = [guardrail for guardrail in guardrails if guardrail["name"] == name]
        return found


@dataclass
class Commands:
    """The results of a batch of commands by name, and the folder of their input and output files."""

    folder: Path
    results: dict[str, subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def trains(tmp_path_factory: pytest.TempPathFactory) -> Commands:
    """Run three train commands on the sales table at the same time, each in its own folder and store.

    "aggregate" is the run the other tests share, "duplicates" leaves out --aggregate, and
    "unknown_time_column" gives --time-column 'Date' for the column 'date'.
    """
    folder = tmp_path_factory.mktemp("trains")
    time_columns = {"aggregate": "date", "duplicates": "date", "unknown_time_column": "Date"}
    commands: dict[str, tuple[list[object], Path]] = {}
    for name, time_column in time_columns.items():
        (folder / name).mkdir()
        write_sales(folder / name / "sales.csv")
        arguments: list[object] = ["train", "sales.csv", "--task", "forecasting", "--time-column", time_column]
        arguments += SERIES_OPTIONS
        if name == "aggregate":
            arguments += ["--aggregate", "sum"]
        commands[name] = ([*arguments, *FAST_OPTIONS], folder / name)
    return Commands(folder, run_together(commands))


@pytest.fixture(scope="module")
def sales_run(trains: Commands) -> SalesRun:
    folder = trains.folder / "aggregate"
    completed = trains.results["aggregate"]
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr
    tracker = tracker_of(folder)
    parent = tracker.latest_parent_run()
    assert parent is not None
    best = parent.data.tags.get("glassml.best_run_id")
    assert best, parent.data.tags
    return SalesRun(folder, folder / "sales.csv", completed, tracker, parent.info.run_id, best)


@pytest.fixture(scope="module")
def run_commands(sales_run: SalesRun, tmp_path_factory: pytest.TempPathFactory) -> Commands:
    """Run forecast, verify and predict on the best run of the sales run, all at the same time.

    "forecast_recent" forecasts from recent.csv, a history in which 'north' stops on 2024-02-20
    and 'south' on 2024-02-29.
    """
    folder = tmp_path_factory.mktemp("run_commands")
    lines = sales_run.data.read_text(encoding="utf-8").splitlines(keepends=True)
    recent_lines = [line for line in lines[1:] if line.split(",")[1] <= RECENT_ENDS[line.split(",")[0]]]
    (folder / "recent.csv").write_text(lines[0] + "".join(recent_lines), encoding="utf-8")
    best = sales_run.best_run_id
    commands: dict[str, tuple[list[object], Path]] = {
        "forecast_csv": (["forecast", best, "--out", folder / "forecast.csv", "--level", 80, 95], sales_run.folder),
        "forecast_recent": (
            ["forecast", best, "--out", folder / "recent.parquet", "--data", folder / "recent.csv"],
            sales_run.folder,
        ),
        "verify": (["verify", best], sales_run.folder),
        "predict": (["predict", best, sales_run.data, "--out", folder / "predictions.csv"], sales_run.folder),
    }
    return Commands(folder, run_together(commands))


# train: input errors


def test_train_duplicate_timestamps_error(trains: Commands) -> None:
    completed = trains.results["duplicates"]

    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    message = unwrap(completed.stderr)
    assert message.startswith("error: 4 rows share a series and a time step")
    assert "series 'north' at 2024-03-10" in message
    assert "series 'south' at 2024-01-30" in message
    assert "--aggregate sum" in message
    assert "trial " not in completed.stdout
    assert tracker_of(trains.folder / "duplicates").latest_parent_run() is None, "the error must come before the run"


def test_train_unknown_time_column_suggests(trains: Commands) -> None:
    completed = trains.results["unknown_time_column"]

    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    message = unwrap(completed.stderr)
    assert message.startswith("error: time column 'Date' not found in the data")
    assert "did you mean 'date'?" in message


# train: --aggregate sum


def test_train_best_is_linear_learner(sales_run: SalesRun) -> None:
    # The tests of forecast, verify and the notebook rely on the run's best trial being the mlforecast
    # learner: the naive forecaster misses the weekly cycle of the sales table.
    assert "best: trial 2 (linear)" in sales_run.train.stdout
    assert TrialRun(sales_run.tracker, sales_run.best_run_id).spec.algorithm.name == "linear"


def test_train_aggregate_sum_combines(sales_run: SalesRun) -> None:
    duplicates = sales_run.guardrail("duplicate_timestamps")
    script = TrialRun(sales_run.tracker, sales_run.best_run_id).module

    history = script.prepare_data(script.get_training_dataset(str(sales_run.data)))

    assert duplicates["status"] == "fixed"
    assert duplicates["detail"] == "2 rows shared a series and a time step and were combined with sum."
    assert "│ duplicate_timestamps " in sales_run.train.stdout
    assert history.groupby("unique_id").size().to_dict() == {"north": 70, "south": 70}
    north = history[history["unique_id"] == "north"].set_index("ds")["y"]
    assert north[LAST_DAY] == pytest.approx(42.5)
    table = pd.read_csv(sales_run.data)
    south_rows = table.loc[(table["region"] == "south") & (table["date"] == "2024-01-30"), "units"]
    south = history[history["unique_id"] == "south"].set_index("ds")["y"]
    assert len(south_rows) == 2
    assert south[pd.Timestamp("2024-01-30")] == pytest.approx(south_rows.sum())


# forecast


def test_forecast_csv_columns_and_steps(sales_run: SalesRun, run_commands: Commands) -> None:
    completed = run_commands.results["forecast_csv"]
    out = run_commands.folder / "forecast.csv"

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"wrote 14 forecast rows of run {sales_run.best_run_id} to {out}" in unwrap(completed.stdout)
    forecast = pd.read_csv(out, parse_dates=["date"])
    assert list(forecast.columns) == FORECAST_COLUMNS
    expected_days = list(pd.date_range(LAST_DAY + pd.Timedelta(days=1), periods=7, freq="D"))
    for region in ("north", "south"):
        assert list(forecast.loc[forecast["region"] == region, "date"]) == expected_days, region
    assert forecast[FORECAST_COLUMNS[2:]].notna().all().all()
    assert (forecast["lower_95"] <= forecast["lower_80"]).all()
    assert (forecast["lower_80"] <= forecast["prediction"]).all()
    assert (forecast["prediction"] <= forecast["upper_80"]).all()
    assert (forecast["upper_80"] <= forecast["upper_95"]).all()


def test_forecast_recent_history_parquet(run_commands: Commands) -> None:
    completed = run_commands.results["forecast_recent"]

    assert completed.returncode == 0, completed.stdout + completed.stderr
    forecast = pd.read_parquet(run_commands.folder / "recent.parquet")
    assert list(forecast.columns) == FORECAST_COLUMNS
    for region, end in RECENT_ENDS.items():
        expected_days = list(pd.date_range(pd.Timestamp(end) + pd.Timedelta(days=1), periods=7, freq="D"))
        assert list(forecast.loc[forecast["region"] == region, "date"]) == expected_days, region
    assert np.isfinite(forecast["prediction"]).all()


def test_forecast_recent_history_intervals_contain_prediction(run_commands: Commands) -> None:
    assert run_commands.results["forecast_recent"].returncode == 0
    forecast = pd.read_parquet(run_commands.folder / "recent.parquet")

    outside = forecast[
        (forecast["prediction"] < forecast["lower_80"]) | (forecast["prediction"] > forecast["upper_80"])
    ]
    assert outside.empty, outside
    assert (forecast["upper_95"] - forecast["lower_95"] > forecast["upper_80"] - forecast["lower_80"]).any()


# verify and predict


def test_verify_forecaster_passes(sales_run: SalesRun, run_commands: Commands) -> None:
    completed = run_commands.results["verify"]

    assert completed.returncode == 0, completed.stdout + completed.stderr
    for check in ("code", "data", "script runs", "metrics", "model"):
        assert f"pass {check}:" in completed.stdout
    assert "FAIL" not in completed.stdout
    assert f"run {sales_run.best_run_id}: verified" in completed.stdout


def test_predict_forecaster_user_error(sales_run: SalesRun, run_commands: Commands) -> None:
    completed = run_commands.results["predict"]

    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    best = sales_run.best_run_id
    assert unwrap(completed.stderr) == f"error: run {best} is a forecaster; use `glassml forecast {best} --out FILE`"
    assert not (run_commands.folder / "predictions.csv").exists()


# the generated notebook


def test_generated_notebook_plots_forecast(sales_run: SalesRun, tmp_path: Path) -> None:
    run = TrialRun(sales_run.tracker, sales_run.best_run_id)
    folder = run.write_code(tmp_path / "code")
    notebook = nbformat.read(folder / "script_run_notebook.ipynb", as_version=4)
    resources = {"metadata": {"path": str(folder)}}

    NotebookClient(notebook, timeout=300, kernel_name="python3", resources=resources).execute()

    cells = {cell.id: cell for cell in notebook.cells if cell.cell_type == "code"}
    errors = [output for cell in cells.values() for output in cell.outputs if output.output_type == "error"]
    assert errors == []
    assert json.loads((folder / "outputs" / "metrics.json").read_text()) == run.metrics
    plot_outputs = cells["plot"].outputs
    assert any("image/png" in output.get("data", {}) for output in plot_outputs), plot_outputs
    forecast_text = cells["forecast"].outputs[0].data["text/plain"]
    assert "prediction" in forecast_text
    assert "north" in forecast_text
