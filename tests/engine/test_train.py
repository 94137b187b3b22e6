"""Tests of `train`: one real search on the hotel room rate table (regression, CSV with a date column).

The search runs in this process with real worker processes and a real MLflow SQLite store, and is
shared by the module.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import pytest

from glassml.codegen import render_script
from glassml.engine import Events, TrainResult, TrainSettings, TrialRun, leaderboard, train
from glassml.errors import UserInputError
from glassml.spec import TrialSpec
from glassml.tracking import Tracker
from tests.conftest import DATASETS, TABLES

ALLOWED = ["linear", "lightgbm"]
MAX_TRIALS = 3


@dataclass
class RecordingEvents(Events):
    """Events that also record, for each call, the event name and its main argument."""

    calls: list[tuple[str, Any]] = field(default_factory=list)

    def planned(self, plan: Any) -> None:
        self.calls.append(("planned", plan))
        super().planned(plan)

    def started(self, experiment: str, parent_run_id: str, tracking_uri: str) -> None:
        self.calls.append(("started", parent_run_id))

    def trial_started(self, record: Any) -> None:
        self.calls.append(("trial_started", record.number))

    def trial_finished(self, record: Any, best: Any, elapsed: float) -> None:
        self.calls.append(("trial_finished", record.number))
        super().trial_finished(record, best, elapsed)

    def refit_started(self, record: Any, timeout: float) -> None:
        self.calls.append(("refit_started", record.number))

    def refit_finished(self, record: Any, fit_seconds: float) -> None:
        self.calls.append(("refit_finished", record.number))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@dataclass
class Search:
    folder: Path
    data: Path
    target: str
    tracker: Tracker
    result: TrainResult
    events: RecordingEvents


@pytest.fixture(scope="module")
def search(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Search]:
    folder = tmp_path_factory.mktemp("train")
    file, target = TABLES["hotel"]
    data = folder / file
    shutil.copy(DATASETS / file, data)
    events = RecordingEvents()
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(folder)
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
        settings = TrainSettings(
            data_path=data,
            target=target,
            started_at=time.time(),
            time_limit=None,
            max_trials=MAX_TRIALS,
            allowed_models=ALLOWED,
            validation="holdout:0.25",
            experiment="hotel",
            n_workers=1,
        )
        result = train(settings, events)
        yield Search(folder, data, target, Tracker(), result, events)


@pytest.fixture(autouse=True)
def _work_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_train_result_plan(search: Search) -> None:
    plan = search.result.plan

    assert plan.target.task == "regression"
    assert plan.metric == "rmse"
    assert plan.validation.kind == "holdout"
    assert plan.validation.test_size == 0.25
    assert plan.n_rows == len(pd.read_csv(search.data))
    purposes = {column.name: column.purpose for column in plan.columns}
    assert search.target not in purposes
    assert purposes["arrival_date"] == "datetime"


def test_train_trial_limit_and_models(search: Search) -> None:
    trials = search.result.trials

    assert [trial.number for trial in trials] == list(range(1, MAX_TRIALS + 1))
    assert {trial.algorithm for trial in trials} <= set(ALLOWED)
    assert all(trial.status == "finished" for trial in trials), [trial.error for trial in trials]


def test_train_best_has_lowest_rmse(search: Search) -> None:
    best = search.result.best
    assert best is not None
    assert best.metrics is not None

    lowest = min(trial.metrics["rmse"] for trial in search.result.trials if trial.metrics)
    assert best.metrics["rmse"] == lowest
    assert math.isfinite(lowest)


def test_train_refit_model_predicts(search: Search) -> None:
    model_path = search.result.model_path
    assert model_path is not None
    assert model_path.exists()
    best = TrialRun(search.tracker, search.result.best.run_id)
    table = pd.read_csv(search.data).head(20)

    model = joblib.load(model_path)
    predictions = model.predict(best.module.prepare_features(best.module.read_table(str(search.data)).head(20)))

    assert predictions.shape == (20,)
    assert best.has_stored_model
    assert best.predict(table)["prediction"].tolist() == predictions.tolist()


def test_train_parent_run_records(search: Search) -> None:
    parent = search.tracker.get_run(search.result.parent_run_id)
    best = search.result.best
    assert best is not None

    assert parent.info.status == "FINISHED"
    assert parent.data.tags["glassml.kind"] == "train"
    assert parent.data.tags["glassml.best_run_id"] == best.run_id
    assert parent.data.tags["glassml.trials"] == str(MAX_TRIALS)
    assert parent.data.params["metric"] == "rmse"
    assert parent.data.metrics["best_rmse"] == best.metrics["rmse"]
    validation = json.loads(search.tracker.read_text(parent.info.run_id, "validation.json"))
    assert validation["kind"] == "holdout"
    assert validation["test_size"] == 0.25


def test_train_leaderboard_artifact_matches_store(search: Search) -> None:
    stored = json.loads(search.tracker.read_text(search.result.parent_run_id, "leaderboard.json"))

    ranked = leaderboard(search.tracker, search.result.parent_run_id)

    assert [entry["run_id"] for entry in stored] == [entry["run_id"] for entry in ranked]
    assert [entry["metrics"] for entry in stored] == [entry["metrics"] for entry in ranked]
    assert ranked[0]["run_id"] == search.result.best.run_id


def test_train_spec_renders_stored_script(search: Search) -> None:
    for trial in search.result.trials:
        run = TrialRun(search.tracker, trial.run_id)
        spec = TrialSpec.from_dict(json.loads(search.tracker.read_text(trial.run_id, "spec.json")))

        assert spec.run_id == trial.run_id
        assert spec.trial_number == trial.number
        assert render_script(spec).source == run.code
        assert run.metrics == trial.metrics


def test_train_events_in_order(search: Search) -> None:
    names = search.events.names()
    best = search.result.best
    assert best is not None

    assert names[:2] == ["planned", "started"]
    assert names.count("trial_started") == MAX_TRIALS
    assert names.count("trial_finished") == MAX_TRIALS
    assert names[-2:] == ["refit_started", "refit_finished"]
    assert search.events.calls[-1] == ("refit_finished", best.number)
    for number in range(1, MAX_TRIALS + 1):
        assert names.index("trial_started") <= search.events.calls.index(("trial_finished", number))


def test_train_unknown_target_raises(search: Search, tmp_path: Path) -> None:
    data = tmp_path / TABLES["penguins"][0]
    shutil.copy(DATASETS / data.name, data)
    settings = TrainSettings(
        data_path=data,
        target="specis",
        started_at=time.time(),
        max_trials=1,
        experiment="hotel",
        tracking_uri=search.tracker.tracking_uri,
    )

    with pytest.raises(UserInputError, match="did you mean 'species'"):
        train(settings)
    latest = search.tracker.latest_parent_run("hotel")
    assert latest is not None
    assert latest.info.run_id == search.result.parent_run_id, "a failed plan must not start a train run"


def test_plan_data_counts_missing_tokens(tmp_path: Path) -> None:
    from glassml.engine._train import plan_data

    rows = "\n".join(
        f"{value},{'x' if index % 2 else 'y'},{index % 2}"
        for index, value in enumerate(["1", "?", "unknown", "4", "5", "6", "7", "8", "9", "10"] * 4)
    )
    path = tmp_path / "tokens.csv"
    path.write_text("a,b,y\n" + rows + "\n")
    settings = TrainSettings(data_path=path, target="y", started_at=time.time(), max_trials=1)

    plan = plan_data(settings, Events())

    guardrail = next(guardrail for guardrail in plan.guardrails if guardrail.name == "missing_tokens")
    assert guardrail.status == "fixed"
    assert "'?' 4 times" in guardrail.detail
    assert "'unknown' 4 times" in guardrail.detail
    assert next(column for column in plan.columns if column.name == "a").purpose == "numeric"
