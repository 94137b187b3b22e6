"""Tests of the default store's creation from a cached empty MLflow database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import mlflow
import pytest

from glassml.tracking import Tracker


@pytest.fixture(autouse=True)
def _cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return cache


def _default_location(database: Path) -> str:
    with sqlite3.connect(database) as connection:
        (location,) = connection.execute("SELECT artifact_location FROM experiments WHERE experiment_id = 0").fetchone()
    return location


def test_store_copies_cached_database(tmp_path: Path) -> None:
    first = Tracker(store_dir=tmp_path / "first")
    second = Tracker(store_dir=tmp_path / "second")

    template = tmp_path / "cache" / "glassml" / f"mlflow-{mlflow.__version__}-empty.db"
    assert template.is_file()
    assert first.artifact_location is not None
    assert second.artifact_location is not None
    assert _default_location(tmp_path / "second" / "mlflow.db") == f"{second.artifact_location}/0"
    assert _default_location(tmp_path / "first" / "mlflow.db") == f"{first.artifact_location}/0"


def test_copied_store_records_runs(tmp_path: Path) -> None:
    Tracker(store_dir=tmp_path / "first")
    tracker = Tracker(store_dir=tmp_path / "second")

    run_id = tracker.start_run("copied", run_name="trial 1")
    tracker.log_metrics(run_id, {"rmse": 1.5})
    tracker.end_run(run_id, "FINISHED")

    run = tracker.get_run(run_id)
    assert run.data.metrics == {"rmse": 1.5}
    assert run.info.artifact_uri.startswith(f"{tracker.artifact_location}/")


def test_store_kept_when_it_exists(tmp_path: Path) -> None:
    tracker = Tracker(store_dir=tmp_path / "store")
    run_id = tracker.start_run("kept", run_name="trial 1")

    reopened = Tracker(store_dir=tmp_path / "store")

    assert reopened.get_run(run_id).info.run_name == "trial 1"
