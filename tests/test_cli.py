"""End-to-end tests of the `glassml` command: each test runs the installed console script in a subprocess.

Three small stores are trained once per module (multiclass Parquet, binary CSV, regression) and
shared by the tests that only read them.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from glassml.tracking import Tracker

GLASSML = Path(sys.executable).parent / "glassml"
DATASETS = Path(__file__).parent / "datasets"
# A run id of the right form that no store contains.
UNKNOWN_RUN_ID = "0123456789abcdef0123456789abcdef"
PENGUINS_FILE = "penguins_species.parquet"
CODE_FILES = ("script.py", "script_run_notebook.ipynb", "requirements.txt")
LEADERBOARD_KEYS = {"rank", "run_id", "algorithm", "status", "metrics", "fit_seconds"}
STAND_IN_GLASSML = 'raise ImportError("generated code must not import glassml")\n'


def environment() -> dict[str, str]:
    """Return the environment of a glassml subprocess: the default store in its working folder."""
    env = dict(os.environ)
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def run_glassml(*args: object, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the installed `glassml` command in `cwd` and return its exit code and output."""
    command = [str(GLASSML), *(str(arg) for arg in args)]
    return subprocess.run(command, cwd=cwd, env=environment(), capture_output=True, text=True, timeout=timeout)


def read_leaderboard(folder: Path) -> list[dict[str, Any]]:
    completed = run_glassml("leaderboard", "--format", "json", cwd=folder)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def tracker_of(folder: Path) -> Tracker:
    return Tracker(f"sqlite:///{(folder / 'glassml-runs' / 'mlflow.db').as_posix()}")


def unwrap(text: str) -> str:
    """Join the lines that the console wraps at its width, so that messages can be searched."""
    return " ".join(text.split())


@dataclass
class Store:
    """A folder with one finished `glassml train` run in its default store."""

    folder: Path
    data: Path
    target: str
    metric: str
    greater_is_better: bool
    min_finished: int
    train: subprocess.CompletedProcess[str]
    entries: list[dict[str, Any]]

    @property
    def best_run_id(self) -> str:
        return self.entries[0]["run_id"]


def train_store(
    folder: Path, data: Path, target: str, *options: object
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    completed = run_glassml("train", data, "--target", target, *options, cwd=folder)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed, read_leaderboard(folder)


def predict(store: Store, data: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """Run `glassml predict` with the best run of `store`, in the store's folder."""
    return run_glassml("predict", store.best_run_id, data, "--out", out, cwd=store.folder)


PENGUINS_OPTIONS = ("--time-limit", 30, "--max-trials", 4, "--workers", 1, "--seed", 0)


@pytest.fixture(scope="module")
def penguins(tmp_path_factory: pytest.TempPathFactory) -> Store:
    folder = tmp_path_factory.mktemp("penguins")
    data = folder / "penguins_species.parquet"
    shutil.copy(DATASETS / data.name, data)
    completed, entries = train_store(folder, data, "species", *PENGUINS_OPTIONS)
    return Store(
        folder, data, "species", "log_loss", greater_is_better=False, min_finished=3, train=completed, entries=entries
    )


@pytest.fixture(scope="module")
def telco(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Telco churn split by lines into 500 training rows and 100 test rows, with a 20 % holdout."""
    folder = tmp_path_factory.mktemp("telco")
    header, *rows = (DATASETS / "telco_churn_600.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    data = folder / "telco_train.csv"
    data.write_text(header + "".join(rows[:500]), encoding="utf-8")
    (folder / "telco_test.csv").write_text(header + "".join(rows[500:]), encoding="utf-8")
    options = ("--time-limit", 30, "--max-trials", 4, "--workers", 1, "--validation", "holdout:0.2")
    completed, entries = train_store(folder, data, "churn", *options, "--test-data", folder / "telco_test.csv")
    return Store(
        folder, data, "churn", "roc_auc", greater_is_better=True, min_finished=3, train=completed, entries=entries
    )


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory: pytest.TempPathFactory) -> Store:
    folder = tmp_path_factory.mktemp("diabetes")
    data = folder / "diabetes_progression.parquet"
    shutil.copy(DATASETS / data.name, data)
    options = ("--time-limit", 30, "--max-trials", 3, "--workers", 1, "--validation", "cv:3")
    completed, entries = train_store(folder, data, "target", *options)
    return Store(
        folder, data, "target", "rmse", greater_is_better=False, min_finished=2, train=completed, entries=entries
    )


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a store that has no run yet, and the tables the input error tests read.

    The store is created up front so that each failing command does not pay for creating it.
    """
    folder = tmp_path_factory.mktemp("errors")
    shutil.copy(DATASETS / PENGUINS_FILE, folder)
    rows = "".join(f"{number},{number % 3},same\n" for number in range(30))
    (folder / "constant.csv").write_text("a,b,label\n" + rows)
    tracker_of(folder).experiment_id("default")
    return folder


STORES = ["penguins", "telco", "diabetes"]


# train and leaderboard


@pytest.mark.parametrize("name", STORES)
def test_train_prints_summary(name: str, request: pytest.FixtureRequest) -> None:
    store: Store = request.getfixturevalue(name)
    stdout = store.train.stdout

    assert f"primary metric: {store.metric}" in stdout
    best = store.entries[0]
    assert f"best: trial {best['trial']} ({best['algorithm']}), run {best['run_id']}" in stdout
    assert f"glassml verify {store.best_run_id}" in stdout
    assert "Traceback" not in store.train.stderr


@pytest.mark.parametrize("name", STORES)
def test_leaderboard_json_ranked(name: str, request: pytest.FixtureRequest) -> None:
    store: Store = request.getfixturevalue(name)
    entries = store.entries

    assert isinstance(entries, list)
    assert [entry["rank"] for entry in entries] == list(range(1, len(entries) + 1))
    for entry in entries:
        assert LEADERBOARD_KEYS <= set(entry), entry
    finished = [entry for entry in entries if entry["status"] == "finished"]
    assert len(finished) >= store.min_finished
    assert entries[: len(finished)] == finished, "finished trials must rank before failed ones"
    scores = [entry["metrics"][store.metric] for entry in finished]
    assert scores == sorted(scores, reverse=store.greater_is_better)
    for entry in finished:
        assert entry["fit_seconds"] > 0


@pytest.mark.parametrize("name", STORES)
def test_train_trial_artifacts(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    store: Store = request.getfixturevalue(name)
    tracker = tracker_of(store.folder)
    parent = tracker.latest_parent_run()
    assert parent is not None
    children = tracker.child_runs(parent.info.run_id)

    assert {run.info.run_id for run in children} == {entry["run_id"] for entry in store.entries}
    for run in children:
        run_id = run.info.run_id
        folder = tracker.download_artifacts(run_id, "generated_code", tmp_path / run_id)
        assert sorted(path.name for path in folder.iterdir()) == sorted(CODE_FILES)
        script = (folder / "script.py").read_text(encoding="utf-8")
        assert hashlib.sha256(script.encode("utf-8")).hexdigest() == run.data.tags["glassml.script_sha256"]
        assert "import glassml" not in script
        spec = json.loads(tracker.read_text(run_id, "spec.json"))
        assert spec["run_id"] == run_id


def test_leaderboard_table(penguins: Store) -> None:
    completed = run_glassml("leaderboard", cwd=penguins.folder)

    assert completed.returncode == 0, completed.stderr
    assert "Leaderboard" in completed.stdout
    for entry in penguins.entries:
        assert entry["run_id"] in completed.stdout


def test_leaderboard_unknown_format(penguins: Store) -> None:
    completed = run_glassml("leaderboard", "--format", "xml", cwd=penguins.folder)

    assert completed.returncode == 2
    assert "--format 'xml' is not supported; use table or json" in unwrap(completed.stderr)


def test_train_same_leaderboard_twice(penguins: Store, tmp_path: Path) -> None:
    data = tmp_path / penguins.data.name
    shutil.copy(penguins.data, data)

    _, entries = train_store(tmp_path, data, "species", *PENGUINS_OPTIONS)

    def outcome(entry: dict[str, Any]) -> tuple[Any, ...]:
        return entry["rank"], entry["trial"], entry["algorithm"], entry["status"], entry["metrics"]

    assert len(entries) == 4
    assert [outcome(entry) for entry in entries] == [outcome(entry) for entry in penguins.entries]


def test_train_validation_settings_recorded(telco: Store, diabetes: Store, tmp_path: Path) -> None:
    for store, kind, field, value, constant in [
        (telco, "holdout", "test_size", 0.2, "HOLDOUT_FRACTION = 0.2"),
        (diabetes, "cv", "n_folds", 3, "N_FOLDS = 3"),
    ]:
        tracker = tracker_of(store.folder)
        parent = tracker.latest_parent_run()
        assert parent is not None
        validation = json.loads(tracker.read_text(parent.info.run_id, "validation.json"))
        assert validation["kind"] == kind
        assert validation[field] == value
        assert parent.data.params["validation"] == kind

        code = run_glassml("code", store.best_run_id, "--out", tmp_path / kind, cwd=store.folder)
        assert code.returncode == 0, code.stderr
        assert constant in (tmp_path / kind / "script.py").read_text(encoding="utf-8")


def test_train_test_data_scored(telco: Store) -> None:
    match = re.search(r"test data score of the best model: roc_auc (\d\.\d+)", telco.train.stdout)

    assert match is not None, telco.train.stdout
    assert 0.5 < float(match.group(1)) <= 1.0
    tracker = tracker_of(telco.folder)
    assert "test_roc_auc" in tracker.get_run(telco.best_run_id).data.metrics


def test_train_time_limit_kept(tmp_path: Path) -> None:
    data = tmp_path / "penguins_species.parquet"
    shutil.copy(DATASETS / data.name, data)

    started = time.monotonic()
    completed = run_glassml("train", data, "--target", "species", "--time-limit", 20, cwd=tmp_path, timeout=60)
    elapsed = time.monotonic() - started

    progress = "\n".join(line for line in completed.stdout.splitlines() if line.startswith(("trial ", "finished in")))
    assert completed.returncode == 0, completed.stderr
    assert elapsed <= 23, f"a 20 s run took {elapsed:.1f} s:\n{progress}"
    finished = [entry for entry in read_leaderboard(tmp_path) if entry["status"] == "finished"]
    assert len(finished) >= 5, progress


def test_train_interrupt_keeps_finished_trials(tmp_path: Path) -> None:
    data = tmp_path / "penguins_species.parquet"
    shutil.copy(DATASETS / data.name, data)
    command = [str(GLASSML), "train", str(data), "--target", "species", "--time-limit", "60"]
    with open(tmp_path / "stderr.txt", "w") as stderr:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=environment(), stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    lines: queue.Queue[str | None] = queue.Queue()

    def read_lines() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read_lines, daemon=True).start()
    try:
        trial_lines: list[str] = []
        deadline = time.monotonic() + 50
        while len(trial_lines) < 2:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
            assert line is not None, "train ended before printing two trial lines"
            if line.startswith("trial "):
                trial_lines.append(line)
        process.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        exit_code = process.wait(timeout=15)
        stopped_after = time.monotonic() - interrupted
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert exit_code == 130
    assert stopped_after < 15
    assert "stopped: the finished trials, their code and the leaderboard are kept" in unwrap(
        (tmp_path / "stderr.txt").read_text()
    )
    finished_lines = [re.match(r"trial\s+(\d+) \S+\s+log_loss", line) for line in trial_lines]
    printed = {int(match.group(1)) for match in finished_lines if match is not None}
    entries = read_leaderboard(tmp_path)
    finished = {entry["trial"] for entry in entries if entry["status"] == "finished"}
    assert len(printed) >= 1
    assert printed <= finished
    assert all(entry["status"] != "running" for entry in entries)
    parent = tracker_of(tmp_path).latest_parent_run()
    assert parent is not None
    assert parent.info.status == "KILLED"


# code and verify


def test_code_writes_files(penguins: Store, tmp_path: Path) -> None:
    out = tmp_path / "best_model"

    completed = run_glassml("code", penguins.best_run_id, "--out", out, cwd=penguins.folder)

    assert completed.returncode == 0, completed.stderr
    assert sorted(path.name for path in out.iterdir()) == sorted(CODE_FILES)
    assert "def train_model" in (out / "script.py").read_text(encoding="utf-8")
    assert "scikit-learn==" in (out / "requirements.txt").read_text(encoding="utf-8")


def test_code_train_run_id_means_best_trial(penguins: Store, tmp_path: Path) -> None:
    parent = tracker_of(penguins.folder).latest_parent_run()
    assert parent is not None

    completed = run_glassml("code", parent.info.run_id, "--out", tmp_path / "code", cwd=penguins.folder)

    assert completed.returncode == 0, completed.stderr
    assert f"wrote the code of run {penguins.best_run_id}" in unwrap(completed.stdout)


def test_verify_best_run_passes(penguins: Store) -> None:
    completed = run_glassml("verify", penguins.best_run_id, cwd=penguins.folder)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    for check in ("code", "data", "script runs", "metrics", "model"):
        assert f"pass {check}:" in completed.stdout
    assert "FAIL" not in completed.stdout
    assert f"run {penguins.best_run_id}: verified" in completed.stdout


def test_verify_edited_script_fails(penguins: Store, tmp_path: Path) -> None:
    run_glassml("code", penguins.best_run_id, "--out", tmp_path, cwd=penguins.folder)
    script = tmp_path / "script.py"
    source = script.read_text(encoding="utf-8")
    assert "RANDOM_SEED = 0\n" in source
    script.write_text(source.replace("RANDOM_SEED = 0\n", "RANDOM_SEED = 1\n"), encoding="utf-8")

    completed = run_glassml("verify", penguins.best_run_id, "--script", script, cwd=penguins.folder)

    assert completed.returncode == 1
    assert "FAIL code:" in completed.stdout
    assert "FAIL metrics:" in completed.stdout
    assert "does NOT reproduce the run" in completed.stdout


# the generated script without glassml


def test_script_without_glassml_matches_run(penguins: Store, tmp_path: Path) -> None:
    code = tmp_path / "code"
    run_glassml("code", penguins.best_run_id, "--out", code, cwd=penguins.folder)
    stand_in = tmp_path / "stand_in" / "glassml"
    stand_in.mkdir(parents=True)
    (stand_in / "__init__.py").write_text(STAND_IN_GLASSML)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = environment() | {"PYTHONPATH": str(stand_in.parent)}
    outputs = tmp_path / "outputs"

    def run_script(*args: object) -> None:
        command = [sys.executable, str(code / "script.py"), *(str(arg) for arg in args), "--output-dir", str(outputs)]
        completed = subprocess.run(command, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
        assert completed.returncode == 0, completed.stderr

    import_check = [sys.executable, "-c", "import glassml"]
    stand_in_check = subprocess.run(import_check, cwd=elsewhere, env=env, capture_output=True)
    assert stand_in_check.returncode == 1, "the stand-in glassml must hide the installed one"

    run_script("--training-data", penguins.data)
    assert json.loads((outputs / "metrics.json").read_text()) == penguins.entries[0]["metrics"]

    run_script("--model", outputs / "model.pkl", "--predict-data", penguins.data)
    from_script = pd.read_parquet(outputs / "predictions.parquet")
    predicted = predict(penguins, penguins.data, tmp_path / "p.parquet")
    assert predicted.returncode == 0, predicted.stderr
    from_glassml = pd.read_parquet(tmp_path / "p.parquet")
    columns = [name for name in from_glassml.columns if name.startswith("probability_")]
    assert columns == [name for name in from_script.columns if name.startswith("probability_")]
    assert len(columns) == 3
    np.testing.assert_array_equal(from_script[columns].to_numpy(), from_glassml[columns].to_numpy())
    assert from_script["prediction"].tolist() == from_glassml["prediction"].tolist()


# predict


def test_predict_csv_in_input_order(penguins: Store, tmp_path: Path) -> None:
    out = tmp_path / "predictions.csv"

    completed = predict(penguins, penguins.data, out)

    assert completed.returncode == 0, completed.stderr
    table = pd.read_parquet(penguins.data)
    predictions = pd.read_csv(out)
    assert len(predictions) == len(table)
    assert predictions["species"].tolist() == table["species"].tolist()
    assert predictions["bill_length_mm"].equals(table["bill_length_mm"])
    labels = ["Adelie", "Chinstrap", "Gentoo"]
    assert set(predictions["prediction"]) <= set(labels)
    probabilities = predictions[[f"probability_{label}" for label in labels]]
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert (predictions["prediction"] == table["species"]).mean() > 0.9


def test_predict_prints_metrics_with_target(penguins: Store, tmp_path: Path) -> None:
    completed = predict(penguins, penguins.data, tmp_path / "p.csv")

    assert completed.returncode == 0, completed.stderr
    scores = json.loads(completed.stdout.strip().splitlines()[-1])
    assert set(scores) == set(penguins.entries[0]["metrics"])
    assert scores["accuracy"] > 0.9


def test_predict_parquet_labels_are_strings(penguins: Store, tmp_path: Path) -> None:
    out = tmp_path / "predictions.parquet"

    completed = predict(penguins, penguins.data, out)

    assert completed.returncode == 0, completed.stderr
    predictions = pd.read_parquet(out)
    assert predictions["prediction"].map(type).eq(str).all()
    assert [name for name in predictions.columns if name.startswith("probability_")] == [
        "probability_Adelie",
        "probability_Chinstrap",
        "probability_Gentoo",
    ]


def test_predict_shuffled_columns_same_predictions(penguins: Store, tmp_path: Path) -> None:
    table = pd.read_parquet(penguins.data)
    features = table.drop(columns="species")
    features[list(reversed(features.columns))].to_parquet(tmp_path / "reversed.parquet", index=False)
    features.to_parquet(tmp_path / "ordered.parquet", index=False)

    for name in ("reversed", "ordered"):
        completed = predict(penguins, tmp_path / f"{name}.parquet", tmp_path / f"{name}_out.parquet")
        assert completed.returncode == 0, completed.stderr
        assert "{" not in completed.stdout, "no metrics without the target column"

    reversed_predictions = pd.read_parquet(tmp_path / "reversed_out.parquet")
    ordered_predictions = pd.read_parquet(tmp_path / "ordered_out.parquet")
    outputs = ["prediction", "probability_Adelie", "probability_Chinstrap", "probability_Gentoo"]
    pd.testing.assert_frame_equal(reversed_predictions[outputs], ordered_predictions[outputs])


def _write_without_column(penguins: Store, folder: Path) -> Path:
    path = folder / "no_bill_length.parquet"
    pd.read_parquet(penguins.data).drop(columns="bill_length_mm").to_parquet(path, index=False)
    return path


def test_predict_missing_column_named(penguins: Store, tmp_path: Path) -> None:
    path = _write_without_column(penguins, tmp_path)

    completed = predict(penguins, path, tmp_path / "p.csv")

    assert completed.returncode != 0
    assert "bill_length_mm" in completed.stderr
    assert not (tmp_path / "p.csv").exists()


def test_predict_missing_column_user_error(penguins: Store, tmp_path: Path) -> None:
    path = _write_without_column(penguins, tmp_path)

    completed = predict(penguins, path, tmp_path / "p.csv")

    assert "Traceback" not in completed.stderr
    assert completed.returncode == 2
    assert "bill_length_mm" in completed.stderr


def test_predict_binary_labels_yes_no(telco: Store, tmp_path: Path) -> None:
    out = tmp_path / "predictions.csv"

    completed = predict(telco, telco.folder / "telco_test.csv", out)

    assert completed.returncode == 0, completed.stderr
    predictions = pd.read_csv(out, keep_default_na=False)
    assert len(predictions) == 100
    assert set(predictions["prediction"]) <= {"Yes", "No"}
    assert {"probability_No", "probability_Yes"} <= set(predictions.columns)
    np.testing.assert_allclose(predictions["probability_No"] + predictions["probability_Yes"], 1.0)
    scores = json.loads(completed.stdout.strip().splitlines()[-1])
    assert 0.5 < scores["roc_auc"] <= 1.0


def test_predict_regression_numbers(diabetes: Store, tmp_path: Path) -> None:
    out = tmp_path / "predictions.parquet"

    completed = predict(diabetes, diabetes.data, out)

    assert completed.returncode == 0, completed.stderr
    predictions = pd.read_parquet(out)
    assert predictions["prediction"].dtype == np.float64
    assert not any(name.startswith("probability_") for name in predictions.columns)
    assert "rmse" in json.loads(completed.stdout.strip().splitlines()[-1])


def test_predict_unsupported_output_extension(penguins: Store, tmp_path: Path) -> None:
    completed = predict(penguins, penguins.data, tmp_path / "p.xlsx")

    assert completed.returncode == 2
    assert "must end in .csv or .parquet" in unwrap(completed.stderr)


# errors


@pytest.mark.parametrize(
    ("args", "messages"),
    [
        (["missing.csv", "--target", "species"], ["training data file", "missing.csv"]),
        ([PENGUINS_FILE, "--target", "specis"], ["'specis' not found", "did you mean 'species'"]),
        (["constant.csv", "--target", "label"], ["'label' has a single value"]),
        ([PENGUINS_FILE, "--target", "species", "--metric", "foo"], ["metric 'foo'"]),
        ([PENGUINS_FILE, "--target", "species", "--time-limit", "abc"], ["time limit 'abc' is not a duration"]),
        ([PENGUINS_FILE, "--target", "species", "--allowed-models", "lightgbn"], ["'lightgbn'", "mean 'lightgbm'"]),
    ],
    ids=["missing-file", "unknown-target", "single-valued-target", "unknown-metric", "bad-time-limit", "unknown-model"],
)
def test_train_user_error(args: list[str], messages: list[str], empty_store: Path) -> None:
    completed = run_glassml("train", *args, "--max-trials", 2, cwd=empty_store)

    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    message = unwrap(completed.stderr)
    assert message.startswith("error: ")
    for expected in messages:
        assert expected in message
    assert "trial " not in completed.stdout
    assert tracker_of(empty_store).latest_parent_run() is None, "an input error must not leave a train run"


@pytest.mark.parametrize(
    "args",
    [["verify", UNKNOWN_RUN_ID], ["code", UNKNOWN_RUN_ID, "--out", "code"], ["predict", UNKNOWN_RUN_ID, "rows.csv"]],
    ids=["verify", "code", "predict"],
)
def test_unknown_run_id_user_error(args: list[str], penguins: Store) -> None:
    completed = run_glassml(*args, cwd=penguins.folder)

    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    message = unwrap(completed.stderr)
    assert message.startswith(f"error: run '{UNKNOWN_RUN_ID}' not found")
    assert "glassml leaderboard" in message
    assert not (penguins.folder / "code").exists()
