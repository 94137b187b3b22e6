from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient

from glassml.errors import UserInputError
from glassml.tracking import PARENT_RUN_TAG, Tracker, _store

SCRIPT_TEXT = "print('hello')\n"


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, fully migrated MLflow database; creating one takes over a second, copying it does not."""
    store_dir = tmp_path_factory.mktemp("template") / "store"
    Tracker(store_dir=store_dir)
    return store_dir / "mlflow.db"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path


@pytest.fixture
def tracker(workdir: Path, template_database: Path) -> Tracker:
    (workdir / "glassml-runs").mkdir()
    shutil.copy(template_database, workdir / "glassml-runs" / "mlflow.db")
    return Tracker()


def _float_bits(value: float) -> bytes:
    return struct.pack("<d", value)


def test_tracker_default_store_location(workdir: Path, template_database: Path) -> None:
    (workdir / "glassml-runs").mkdir()
    shutil.copy(template_database, workdir / "glassml-runs" / "mlflow.db")

    tracker = Tracker()
    run_id = tracker.start_run("demo", run_name="parent")
    tracker.log_text(run_id, SCRIPT_TEXT, "generated_code/script.py")

    store_dir = workdir / "glassml-runs"
    assert tracker.tracking_uri == f"sqlite:///{store_dir / 'mlflow.db'}"
    assert tracker.artifact_location == (store_dir / "artifacts").as_uri()
    experiment = MlflowClient(tracker.tracking_uri).get_experiment_by_name("demo")
    assert experiment.artifact_location == (store_dir / "artifacts").as_uri()
    script_path = store_dir / "artifacts" / run_id / "artifacts" / "generated_code" / "script.py"
    assert script_path.read_text() == SCRIPT_TEXT


def test_tracker_store_dir_argument(workdir: Path, template_database: Path) -> None:
    (workdir / "runs" / "here").mkdir(parents=True)
    shutil.copy(template_database, workdir / "runs" / "here" / "mlflow.db")

    tracker = Tracker(store_dir="runs/here")

    assert tracker.tracking_uri == f"sqlite:///{workdir / 'runs' / 'here' / 'mlflow.db'}"
    assert (workdir / "runs" / "here" / "artifacts").is_dir()
    assert not (workdir / "glassml-runs").exists()


def test_tracker_first_creation_is_quiet(tmp_path: Path) -> None:
    # A fresh process shows what a user sees on the terminal when the store is created.
    code = (
        "from glassml.tracking import Tracker\n"
        "tracker = Tracker()\n"
        "run_id = tracker.start_run('demo', run_name='parent')\n"
        "tracker.end_run(run_id, 'FINISHED')\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == ""
    assert (tmp_path / "glassml-runs" / "mlflow.db").is_file()


def test_tracker_explicit_uri(workdir: Path, template_database: Path) -> None:
    shutil.copy(template_database, workdir / "other.db")
    uri = f"sqlite:///{workdir / 'other.db'}"

    tracker = Tracker(uri)
    run_id = tracker.start_run("demo", run_name="parent")

    assert tracker.tracking_uri == uri
    assert tracker.artifact_location is None
    assert MlflowClient(uri).get_run(run_id).info.run_name == "parent"
    assert not (workdir / "glassml-runs").exists()


def test_tracker_environment_uri(workdir: Path, template_database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(template_database, workdir / "from-environment.db")
    shutil.copy(template_database, workdir / "explicit.db")
    environment_uri = f"sqlite:///{workdir / 'from-environment.db'}"
    explicit_uri = f"sqlite:///{workdir / 'explicit.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", environment_uri)

    assert Tracker().tracking_uri == environment_uri
    assert Tracker(explicit_uri).tracking_uri == explicit_uri
    assert not (workdir / "glassml-runs").exists()


def test_tracker_empty_uri_rejected(workdir: Path) -> None:
    with pytest.raises(ValueError, match="tracking_uri must be a non-empty MLflow tracking URI or None, got ' '"):
        Tracker(" ")


def test_tracker_parent_with_three_children(tracker: Tracker) -> None:
    parent_id = tracker.start_run("demo", run_name="train", tags={"glassml.task": "binary"})
    child_ids = []
    for trial in range(3):
        child_id = tracker.start_run("demo", run_name=f"trial-{trial}", parent_run_id=parent_id)
        tracker.log_params(child_id, {"algorithm": "LGBMClassifier", "num_leaves": 31 + trial, "learning_rate": 0.1})
        tracker.log_metrics(child_id, {"roc_auc": 0.9 + trial / 100, "log_loss": 0.3})
        tracker.log_text(child_id, f"# trial {trial}\n", "generated_code/script.py")
        tracker.log_json(child_id, {"trial": trial, "columns": ["a", "b"]}, "spec.json")
        tracker.end_run(child_id, "FINISHED")
        child_ids.append(child_id)
    tracker.end_run(parent_id, "FINISHED")

    children = tracker.child_runs(parent_id)

    assert [child.info.run_id for child in children] == child_ids
    assert [child.info.run_name for child in children] == ["trial-0", "trial-1", "trial-2"]
    for trial, child in enumerate(children):
        assert child.data.tags[PARENT_RUN_TAG] == parent_id
        expected_params = {"algorithm": "LGBMClassifier", "num_leaves": str(31 + trial), "learning_rate": "0.1"}
        assert child.data.params == expected_params
        assert child.data.metrics == {"roc_auc": 0.9 + trial / 100, "log_loss": 0.3}
        assert child.info.status == "FINISHED"
        assert tracker.read_text(child.info.run_id, "generated_code/script.py") == f"# trial {trial}\n"
        assert json.loads(tracker.read_text(child.info.run_id, "spec.json")) == {"trial": trial, "columns": ["a", "b"]}
    parent = tracker.get_run(parent_id)
    assert PARENT_RUN_TAG not in parent.data.tags
    assert parent.data.tags["glassml.task"] == "binary"


def test_tracker_start_run_status_running(tracker: Tracker) -> None:
    run_id = tracker.start_run("demo", run_name="parent")

    run = tracker.get_run(run_id)

    assert run.info.status == "RUNNING"
    assert run.info.run_name == "parent"
    assert run.info.end_time is None


@pytest.mark.parametrize("status", ["FINISHED", "FAILED", "KILLED"])
def test_tracker_end_run_keeps_status(tracker: Tracker, status: str) -> None:
    run_id = tracker.start_run("demo", run_name="trial-0")

    tracker.end_run(run_id, status)

    run = tracker.get_run(run_id)
    assert run.info.status == status
    assert run.info.end_time >= run.info.start_time


def test_tracker_end_run_invalid_status(tracker: Tracker) -> None:
    run_id = tracker.start_run("demo", run_name="trial-0")

    with pytest.raises(ValueError, match="invalid run status 'DONE': expected 'FINISHED', 'FAILED' or 'KILLED'"):
        tracker.end_run(run_id, "DONE")  # type: ignore[arg-type]


def test_tracker_get_run_by_prefix(tracker: Tracker) -> None:
    run_id = tracker.start_run("demo", run_name="parent")
    other_id = tracker.start_run("other", run_name="parent")

    assert tracker.get_run(run_id).info.run_id == run_id
    assert tracker.get_run(run_id[:6]).info.run_id == run_id
    assert tracker.get_run(run_id[:10].upper()).info.run_id == run_id
    assert tracker.get_run(f"  {other_id[:8]} ").info.run_id == other_id


def test_tracker_get_run_unknown_id(tracker: Tracker) -> None:
    tracker.start_run("demo", run_name="parent")

    with pytest.raises(UserInputError, match=r"run '0{32}' not found in sqlite:///.*`glassml leaderboard`"):
        tracker.get_run("0" * 32)
    with pytest.raises(UserInputError, match="run 'not-a-run' not found .*`glassml experiments`"):
        tracker.get_run("not-a-run")


def test_tracker_get_run_prefix_too_short(tracker: Tracker) -> None:
    run_id = tracker.start_run("demo", run_name="parent")

    with pytest.raises(UserInputError, match=f"run id prefix '{run_id[:5]}' is too short: give at least 6 characters"):
        tracker.get_run(run_id[:5])


def test_tracker_get_run_ambiguous_prefix(tracker: Tracker, monkeypatch: pytest.MonkeyPatch) -> None:
    # With one-character prefixes, 17 hexadecimal run ids must share a first character.
    monkeypatch.setattr(_store, "MIN_RUN_ID_PREFIX", 1)
    run_ids = [tracker.start_run("demo", run_name=f"trial-{index}") for index in range(17)]
    first_characters = [run_id[0] for run_id in run_ids]
    shared = max(set(first_characters), key=first_characters.count)
    matching = first_characters.count(shared)

    expected_message = f"run id prefix '{shared}' matches {matching} runs .*Give more characters"
    with pytest.raises(UserInputError, match=expected_message):
        tracker.get_run(shared)


def test_tracker_latest_parent_run(tracker: Tracker) -> None:
    tracker.experiment_id("empty")
    first = tracker.start_run("demo", run_name="first")
    time.sleep(0.01)
    other = tracker.start_run("other", run_name="other")
    time.sleep(0.01)
    second = tracker.start_run("demo", run_name="second")
    time.sleep(0.01)
    tracker.start_run("demo", run_name="trial-0", parent_run_id=first)

    assert tracker.latest_parent_run().info.run_id == second
    assert tracker.latest_parent_run("demo").info.run_id == second
    assert tracker.latest_parent_run("other").info.run_id == other
    assert tracker.latest_parent_run("empty") is None
    with pytest.raises(UserInputError, match="experiment 'missing' not found in sqlite:///"):
        tracker.latest_parent_run("missing")


def test_tracker_latest_parent_run_empty_store(tracker: Tracker) -> None:
    assert tracker.latest_parent_run() is None


def test_tracker_list_experiments(tracker: Tracker) -> None:
    parent = tracker.start_run("demo", run_name="train")
    for trial in range(2):
        tracker.start_run("demo", run_name=f"trial-{trial}", parent_run_id=parent)
    tracker.experiment_id("empty")

    summaries = {summary["name"]: summary for summary in tracker.list_experiments()}

    newest = max(run.info.start_time for run in tracker.child_runs(parent))
    assert summaries["demo"]["experiment_id"] == tracker.experiment_id("demo")
    assert summaries["demo"]["runs"] == 3
    assert summaries["demo"]["parent_runs"] == 1
    assert summaries["demo"]["last_start_time"].timestamp() * 1000 == pytest.approx(newest, abs=1)
    assert summaries["empty"]["runs"] == 0
    assert summaries["empty"]["last_start_time"] is None


def test_tracker_metrics_round_trip_exactly(tracker: Tracker) -> None:
    values = {
        "sum": 0.1 + 0.2,
        "third": 1 / 3,
        "tiny": 5e-324,
        "huge": 1.7976931348623157e308,
        "negative": -0.7071067811865476,
        "numpy": np.float64(2) ** 0.5,
    }
    run_id = tracker.start_run("demo", run_name="trial-0")

    tracker.log_metrics(run_id, values)

    logged = tracker.get_run(run_id).data.metrics
    for name, value in values.items():
        assert _float_bits(logged[name]) == _float_bits(float(value)), name


def test_tracker_metrics_nan(tracker: Tracker) -> None:
    run_id = tracker.start_run("demo", run_name="trial-0")

    tracker.log_metrics(run_id, {"score": float("nan")})

    assert math.isnan(tracker.get_run(run_id).data.metrics["score"])


def test_tracker_metrics_history_by_step(tracker: Tracker) -> None:
    run_id = tracker.start_run("demo", run_name="trial-0")

    tracker.log_metrics(run_id, {"loss": 0.5}, step=0)
    tracker.log_metrics(run_id, {"loss": 0.25}, step=1)

    history = MlflowClient(tracker.tracking_uri).get_metric_history(run_id, "loss")
    assert [(metric.step, metric.value) for metric in history] == [(0, 0.5), (1, 0.25)]


def test_tracker_log_params_long_and_many(tracker: Tracker) -> None:
    run_id = tracker.start_run("demo", run_name="trial-0")
    params = {f"param_{index}": index for index in range(150)}
    params["long"] = "x" * 7000
    params["none"] = None

    tracker.log_params(run_id, params)

    logged = tracker.get_run(run_id).data.params
    assert len(logged) == 152
    assert logged["param_149"] == "149"
    assert logged["none"] == "None"
    assert len(logged["long"]) == 6000
    assert logged["long"].endswith("x...")


def test_tracker_set_tags(tracker: Tracker) -> None:
    run_id = tracker.start_run("demo", run_name="trial-0")

    tracker.set_tags(run_id, {"glassml.rank": 1, "glassml.note": "y" * 9000})

    tags = tracker.get_run(run_id).data.tags
    assert tags["glassml.rank"] == "1"
    assert len(tags["glassml.note"]) == 8000


def test_tracker_log_json_converts_values(tracker: Tracker) -> None:
    @dataclasses.dataclass
    class Member:
        name: str
        weight: float

    run_id = tracker.start_run("demo", run_name="trial-0")

    spec = {
        "member": Member("lgbm", 0.5),
        "path": Path("data/train.csv"),
        "scores": np.array([0.5, 0.25]),
        "n": np.int64(3),
    }

    tracker.log_json(run_id, spec, "spec.json")

    assert json.loads(tracker.read_text(run_id, "spec.json")) == {
        "member": {"name": "lgbm", "weight": 0.5},
        "path": "data/train.csv",
        "scores": [0.5, 0.25],
        "n": 3,
    }


def test_tracker_log_json_rejects_unknown_type(tracker: Tracker) -> None:
    run_id = tracker.start_run("demo", run_name="trial-0")

    with pytest.raises(TypeError, match="cannot store a value of type object as JSON"):
        tracker.log_json(run_id, {"value": object()}, "spec.json")


def test_tracker_log_file_and_download(tracker: Tracker, workdir: Path) -> None:
    run_id = tracker.start_run("demo", run_name="trial-0")
    (workdir / "model.pkl").write_bytes(b"\x00\x01model")
    (workdir / "outputs").mkdir()
    (workdir / "outputs" / "metrics.json").write_text('{"accuracy": 1.0}')

    tracker.log_file(run_id, workdir / "model.pkl", "model")
    tracker.log_file(run_id, str(workdir / "outputs"), "outputs")
    model_path = tracker.download_artifacts(run_id, "model/model.pkl", workdir / "download")
    outputs_path = tracker.download_artifacts(run_id, "outputs", workdir / "download")

    # MLflow copies a single file to the top of the destination folder.
    assert model_path == workdir / "download" / "model.pkl"
    assert model_path.read_bytes() == b"\x00\x01model"
    assert outputs_path == workdir / "download" / "outputs"
    assert (outputs_path / "metrics.json").read_text() == '{"accuracy": 1.0}'


def test_tracker_log_file_missing(tracker: Tracker, workdir: Path) -> None:
    run_id = tracker.start_run("demo", run_name="trial-0")

    with pytest.raises(FileNotFoundError, match="cannot log '.*missing.pkl' as an artifact: no such file or folder"):
        tracker.log_file(run_id, workdir / "missing.pkl")


def test_tracker_read_text_missing_artifact(tracker: Tracker) -> None:
    run_id = tracker.start_run("demo", run_name="trial-0")
    tracker.log_text(run_id, SCRIPT_TEXT, "generated_code/script.py")

    with pytest.raises(UserInputError, match=f"artifact 'notes.txt' not found in run {run_id}. .*'generated_code'"):
        tracker.read_text(run_id, "notes.txt")


def test_tracker_experiment_id_reuses_existing(tracker: Tracker) -> None:
    experiment_id = tracker.experiment_id("demo")

    assert Tracker().experiment_id("demo") == experiment_id
    assert Tracker().experiment_id("demo", create=False) == experiment_id


def test_tracker_experiment_id_missing_without_create(tracker: Tracker) -> None:
    with pytest.raises(UserInputError, match="experiment 'missing' not found in sqlite:///.*`glassml experiments`"):
        tracker.experiment_id("missing", create=False)


def test_tracker_experiment_id_invalid_name(tracker: Tracker) -> None:
    with pytest.raises(UserInputError, match="invalid experiment name '': give a non-empty name"):
        tracker.experiment_id("")


def test_tracker_experiment_id_deleted(tracker: Tracker) -> None:
    experiment_id = tracker.experiment_id("demo")
    MlflowClient(tracker.tracking_uri).delete_experiment(experiment_id)

    with pytest.raises(UserInputError, match=f"experiment 'demo' \\(id {experiment_id}\\) is deleted. Restore it"):
        Tracker().experiment_id("demo")
