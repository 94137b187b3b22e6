"""Tests of `verify`: a trial's script, run in a clean process, must reproduce the run's code, metrics and model.

One real search on the penguins table (four trials, one worker) is shared by the module.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from glassml.engine import TrainResult, TrainSettings, TrialRun, VerifyReport, leaderboard, train, verify
from glassml.tracking import Tracker
from tests.conftest import DATASETS, TABLES

# A line of generate_algorithm_config() that sets C (linear models) or n_estimators (tree ensembles) to a number.
HYPERPARAMETER = re.compile(r"^(?P<indent>\s+)(?P<name>C|n_estimators)=(?P<value>[0-9.]+),$", re.MULTILINE)


@dataclass
class Search:
    folder: Path
    data: Path
    tracker: Tracker
    result: TrainResult
    run_ids: list[str]  # trial run ids in leaderboard order, best first


@pytest.fixture(scope="module")
def search(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Search]:
    folder = tmp_path_factory.mktemp("verify")
    file, target = TABLES["penguins"]
    data = folder / file
    shutil.copy(DATASETS / file, data)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(folder)
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
        settings = TrainSettings(
            data_path=data, target=target, started_at=time.time(), time_limit=60, max_trials=4, n_workers=1
        )
        result = train(settings)
        tracker = Tracker()
        entries = leaderboard(tracker, result.parent_run_id)
        yield Search(folder, data, tracker, result, [entry["run_id"] for entry in entries])


@pytest.fixture(autouse=True)
def _work_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def checks(report: VerifyReport) -> dict[str, bool]:
    return {check.name: check.passed for check in report.checks}


def edited_script(run: TrialRun, folder: Path, old: str, new: str) -> Path:
    source = run.code
    assert source.count(old) == 1, f"{old!r} must occur once in the script"
    path = folder / "script.py"
    path.write_text(source.replace(old, new), encoding="utf-8")
    return path


def test_verify_best_run_passes(search: Search) -> None:
    run = TrialRun(search.tracker, search.run_ids[0])
    assert search.result.best is not None
    assert search.run_ids[0] == search.result.best.run_id

    report = verify(run)

    assert checks(report) == {"code": True, "data": True, "script runs": True, "metrics": True, "model": True}
    assert report.passed
    assert report.output == ""


def test_verify_other_run_passes(search: Search) -> None:
    run = TrialRun(search.tracker, search.run_ids[1])
    assert not run.has_stored_model

    report = verify(run)

    assert checks(report) == {"code": True, "data": True, "script runs": True, "metrics": True}
    assert report.passed


def test_verify_changed_hyperparameter_fails(search: Search, tmp_path: Path) -> None:
    run = TrialRun(search.tracker, search.run_ids[0])
    match = HYPERPARAMETER.search(run.code)
    assert match is not None, "the script must set C or n_estimators"
    value = match["value"]
    changed = repr(float(value) / 20) if match["name"] == "C" else str(int(value) + 50)
    script = edited_script(run, tmp_path, match.group(0), f"{match['indent']}{match['name']}={changed},")

    report = verify(run, script=script)

    assert checks(report)["code"] is False
    assert checks(report)["script runs"] is True
    assert checks(report)["metrics"] is False
    assert not report.passed


def test_verify_changed_seed_fails(search: Search, tmp_path: Path) -> None:
    run = TrialRun(search.tracker, search.run_ids[0])
    script = edited_script(run, tmp_path, "RANDOM_SEED = 0\n", "RANDOM_SEED = 1\n")

    report = verify(run, script=script)

    assert checks(report)["code"] is False
    assert checks(report)["metrics"] is False
    metrics_detail = next(check.detail for check in report.checks if check.name == "metrics")
    assert search.result.plan.metric in metrics_detail
    assert not report.passed


def test_verify_replaced_model_fails(search: Search) -> None:
    best = TrialRun(search.tracker, search.run_ids[0])
    other = TrialRun(search.tracker, search.run_ids[2])
    other_model = other.model_path()  # rebuilt by the other trial's script and stored on its run
    assert TrialRun(search.tracker, other.run_id).has_stored_model
    [stored] = (search.folder / "glassml-runs" / "artifacts").glob(f"**/{best.run_id}/artifacts/model/model.pkl")
    original = stored.read_bytes()
    stored.write_bytes(other_model.read_bytes())
    try:
        report = verify(best)
    finally:
        stored.write_bytes(original)

    assert checks(report)["code"] is True
    assert checks(report)["metrics"] is True
    assert checks(report)["model"] is False
    model_detail = next(check.detail for check in report.checks if check.name == "model")
    assert "differ" in model_detail
    assert not report.passed


def test_verify_data_not_found(search: Search, tmp_path: Path) -> None:
    run = TrialRun(search.tracker, search.run_ids[0])

    report = verify(run, data=tmp_path / "moved.parquet")

    assert checks(report) == {"code": True, "data": False}
    assert "pass its new place with --data" in report.checks[1].detail
    assert not report.passed


def test_verify_moved_data_passes(search: Search, tmp_path: Path) -> None:
    run = TrialRun(search.tracker, search.run_ids[0])
    moved = tmp_path / "moved.parquet"
    shutil.copy(search.data, moved)

    report = verify(run, data=moved)

    assert report.passed, report.checks
