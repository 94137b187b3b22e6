"""Forecasting inputs rebuilt from bug reports of other tools give their expected outcome from the command line.

B24 (daily sensors with gaps and jittered timestamps) and B26 (weekly stores, two of them new) must
train and forecast every series; B27 (a horizon longer than the history) must end with a clear error.
The three train commands run once per module, at the same time, with a few fast forecasters. The
best run of each succeeding case forecasts in this process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from glassml.engine import TrialRun, leaderboard
from glassml.tracking import Tracker

GLASSML = Path(sys.executable).parent / "glassml"
CASES_FOLDER = Path(__file__).parent / "data" / "forecasting"
# Three trials among fast forecasters, with one worker: B24 tries the three statsforecast ones, and
# B26, whose 104 weeks are too short for a yearly season, tries naive, auto_ets and the mlforecast
# learner. The time limit counts from the start of the process, so it leaves room for importing the
# libraries while the other train commands of the module run too.
FAST_OPTIONS = [
    "--time-limit", "120", "--max-trials", "3", "--workers", "1",
    "--allowed-models", "seasonal_naive,naive,auto_ets,linear",
]  # fmt: skip


def run_glassml(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed `glassml` command in `cwd` with the default store of that folder."""
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
    command = [str(GLASSML), *(str(arg) for arg in args)]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False)


def tracker_of(folder: Path) -> Tracker:
    return Tracker(f"sqlite:///{(folder / 'glassml-runs' / 'mlflow.db').as_posix()}")


@dataclass
class TrainedCase:
    """One finished forecasting train run of a case file, and what it recorded."""

    folder: Path
    data: Path
    train: subprocess.CompletedProcess[str]
    tracker: Tracker
    parent_run_id: str
    best_run_id: str

    def artifact(self, name: str) -> Any:
        return json.loads(self.tracker.read_text(self.parent_run_id, name))

    def guardrail(self, name: str) -> dict[str, Any]:
        (found,) = [guardrail for guardrail in self.artifact("guardrails.json") if guardrail["name"] == name]
        return found

    def leaderboard(self) -> list[dict[str, Any]]:
        return leaderboard(self.tracker, self.parent_run_id)

    def forecast(self) -> pd.DataFrame:
        return TrialRun(self.tracker, self.best_run_id).forecast()


def run_together(commands: dict[str, tuple[list[object], Path]]) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run independent `glassml` commands at the same time, each in its folder, and return their results by name.

    Each command spends seconds importing libraries, mostly on one core, so running them side by
    side shortens the module on a machine with more than one core.
    """
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        futures = {name: pool.submit(run_glassml, *args, cwd=cwd) for name, (args, cwd) in commands.items()}
    return {name: future.result() for name, future in futures.items()}


def copy_case(folder: Path, file: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / file
    data.write_bytes((CASES_FOLDER / file).read_bytes())
    return data


def trained_case(folder: Path, data: Path, completed: subprocess.CompletedProcess[str]) -> TrainedCase:
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr
    tracker = tracker_of(folder)
    parent = tracker.latest_parent_run()
    assert parent is not None
    best = parent.data.tags.get("glassml.best_run_id")
    assert best, parent.data.tags
    return TrainedCase(folder, data, completed, tracker, parent.info.run_id, best)


@pytest.fixture(scope="module")
def cases_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("forecasting_cases")


@pytest.fixture(scope="module")
def train_results(cases_folder: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run `glassml train` on the three case files at the same time, each in a folder named after its case.

    B24 has three daily sensors: 's2' misses 30 days, and the timestamps of 's3' drift up to 10
    minutes after midnight. B26 has six weekly stores: four with 104 weeks, 'store_5' with 5 weeks
    and 'store_6' with a single week. B27 is one monthly series of 20 steps, with a horizon of 24.
    """
    options = {
        "B24": ("B24_ts_gaps_irregular.csv", "demand", "timestamp", "sensor", 14),
        "B26": ("B26_ts_short_series_panel.csv", "sales", "week", "store", 8),
        "B27": ("B27_ts_horizon_exceeds_history.csv", "bookings", "month", None, 24),
    }
    commands = {}
    for case, (file, target, time_column, series_id, horizon) in options.items():
        data = copy_case(cases_folder / case, file)
        series = ["--series-id", series_id] if series_id else []
        arguments = ["train", data, "--task", "forecasting", "--target", target, "--time-column", time_column]
        arguments += [*series, "--horizon", horizon, *FAST_OPTIONS]
        commands[case] = (arguments, cases_folder / case)
    return run_together(commands)


@pytest.fixture(scope="module")
def b24(cases_folder: Path, train_results: dict[str, subprocess.CompletedProcess[str]]) -> TrainedCase:
    folder = cases_folder / "B24"
    return trained_case(folder, folder / "B24_ts_gaps_irregular.csv", train_results["B24"])


@pytest.fixture(scope="module")
def b26(cases_folder: Path, train_results: dict[str, subprocess.CompletedProcess[str]]) -> TrainedCase:
    folder = cases_folder / "B26"
    return trained_case(folder, folder / "B26_ts_short_series_panel.csv", train_results["B26"])


def assert_intervals_ordered(forecast: pd.DataFrame) -> None:
    for lower, upper in (("lower_95", "lower_80"), ("lower_80", "prediction"), ("prediction", "upper_80")):
        assert (forecast[lower] <= forecast[upper]).all(), f"{lower} > {upper}"
    assert (forecast["upper_80"] <= forecast["upper_95"]).all(), "upper_80 > upper_95"


# B24: gaps and irregular timestamps


def test_b24_trains_without_traceback(b24: TrainedCase) -> None:
    assert "Traceback" not in b24.train.stderr
    assert "best: trial " in b24.train.stdout
    assert [entry["status"] for entry in b24.leaderboard()] == ["finished"] * 3


def test_b24_daily_frequency_inferred(b24: TrainedCase) -> None:
    series = b24.artifact("series.json")
    frequency = b24.guardrail("series_frequency")

    assert series["freq"] == "D"
    assert frequency["status"] == "passed"
    assert frequency["detail"] == "Frequency D inferred; every series follows it."


def test_b24_guardrails_name_sensors(b24: TrainedCase) -> None:
    gaps = b24.guardrail("gaps_filled")
    aligned = b24.guardrail("timestamps_aligned")

    assert gaps["status"] == "fixed"
    assert gaps["detail"].startswith("30 missing time steps of series 's2' were added")
    assert aligned["status"] == "fixed"
    assert "of series 's3' were off the D grid" in aligned["detail"]
    assert "'s1'" not in gaps["detail"] + aligned["detail"]
    for name in ("gaps_filled", "timestamps_aligned"):
        assert f"│ {name} " in b24.train.stdout, f"the {name} guardrail is not shown"


def test_b24_forecast_starts_after_last_day(b24: TrainedCase) -> None:
    table = pd.read_csv(b24.data, parse_dates=["timestamp"])
    last_days = table.groupby("sensor")["timestamp"].max().dt.normalize()

    forecast = b24.forecast()

    assert list(forecast.columns[:3]) == ["sensor", "timestamp", "prediction"]
    assert sorted(forecast["sensor"].unique()) == ["s1", "s2", "s3"]
    for sensor, last_day in last_days.items():
        steps = forecast.loc[forecast["sensor"] == sensor, "timestamp"]
        expected = pd.date_range(last_day + pd.Timedelta(days=1), periods=14, freq="D")
        assert list(steps) == list(expected), sensor
    assert np.isfinite(forecast["prediction"]).all()
    assert_intervals_ordered(forecast)


# B26: short series in a panel


def test_b26_guardrail_names_short_stores(b26: TrainedCase) -> None:
    short = b26.guardrail("short_series")

    assert short["status"] == "alerted"
    assert "series 'store_5', 'store_6' have fewer than" in short["detail"]
    for store in ("store_1", "store_2", "store_3", "store_4"):
        assert store not in short["detail"]
    assert "│ short_series " in b26.train.stdout


def test_b26_trials_not_failed_by_short_stores(b26: TrainedCase) -> None:
    entries = b26.leaderboard()

    assert entries
    assert all(entry["status"] == "finished" for entry in entries), entries
    assert b26.artifact("series.json")["freq"] == "W-MON"
    assert "Traceback" not in b26.train.stderr


def test_b26_forecasts_every_store(b26: TrainedCase) -> None:
    table = pd.read_csv(b26.data, parse_dates=["week"])
    last_weeks = table.groupby("store")["week"].max()

    forecast = b26.forecast()

    assert sorted(forecast["store"].unique()) == [f"store_{number}" for number in range(1, 7)]
    for store, last_week in last_weeks.items():
        steps = forecast.loc[forecast["store"] == store, "week"]
        expected = pd.date_range(last_week + pd.Timedelta(weeks=1), periods=8, freq="W-MON")
        assert list(steps) == list(expected), store
    assert np.isfinite(forecast["prediction"]).all()


def test_b26_long_stores_forecast_by_model(b26: TrainedCase) -> None:
    table = pd.read_csv(b26.data)
    forecast = b26.forecast()
    is_short = forecast["store"].isin(["store_5", "store_6"])

    # The model's forecasts carry prediction intervals; the fallback of short series is their mean.
    long_forecast = forecast[~is_short]
    assert long_forecast[["lower_80", "upper_80", "lower_95", "upper_95"]].notna().all().all()
    assert (long_forecast["upper_95"] > long_forecast["lower_95"]).all()
    assert_intervals_ordered(long_forecast)
    for store in ("store_5", "store_6"):
        rows = forecast[forecast["store"] == store]
        mean = table.loc[table["store"] == store, "sales"].mean()
        np.testing.assert_allclose(rows["prediction"], mean)
        assert rows["lower_80"].isna().all()


# B27: horizon longer than the history


def test_b27_horizon_exceeds_history_error(
    cases_folder: Path, train_results: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    completed = train_results["B27"]

    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    message = " ".join(completed.stderr.split())
    assert message.startswith("error: the longest series has 20 steps")
    assert "a horizon of 24" in message
    assert "the longest horizon possible is 12" in message
    assert "trial " not in completed.stdout
    assert tracker_of(cases_folder / "B27").latest_parent_run() is None, "the error must come before the train run"
