"""Tests of the Python entry point: `AutoML` fitted on DataFrames, and `load_run`."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glassml
from glassml import AutoML
from glassml.errors import UserInputError
from tests.conftest import DATASETS, TABLES

SPECIES = ["Adelie", "Chinstrap", "Gentoo"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The working folder of the module's fits, so that the default store is ./glassml-runs there."""
    path = tmp_path_factory.mktemp("api")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(path)
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
        yield path


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    file, _ = TABLES["penguins"]
    return pd.read_parquet(DATASETS / file)


@pytest.fixture(scope="module")
def automl(folder: Path, penguins: pd.DataFrame) -> AutoML:
    return AutoML(task="classification", time_limit=30, max_trials=4).fit(penguins, target="species")


def test_automl_leaderboard_dataframe(automl: AutoML) -> None:
    board = automl.leaderboard

    assert isinstance(board, pd.DataFrame)
    assert len(board) == 4
    assert board["rank"].tolist() == [1, 2, 3, 4]
    assert {"run_id", "algorithm", "status", "fit_seconds", "log_loss", "accuracy"} <= set(board.columns)
    finished = board[board["status"] == "finished"]
    assert len(finished) >= 3
    assert finished["log_loss"].is_monotonic_increasing
    assert board["run_id"].iloc[0] == automl.best_run.run_id


def test_automl_best_run_code(automl: AutoML) -> None:
    code = automl.best_run.code

    assert "def train_model" in code
    assert "def predict" in code
    assert "import glassml" not in code
    assert 'TARGET_COLUMN = "species"' in code


def test_automl_predict_user_labels(automl: AutoML, penguins: pd.DataFrame) -> None:
    features = penguins.drop(columns="species")

    predictions = automl.predict(features)

    assert len(predictions) == len(penguins)
    assert predictions.map(type).eq(str).all()
    assert set(predictions) <= set(SPECIES)
    assert (predictions.to_numpy() == penguins["species"].to_numpy()).mean() > 0.9


def test_automl_predict_keeps_index(automl: AutoML, penguins: pd.DataFrame) -> None:
    rows = penguins.iloc[[5, 200, 17]]

    predictions = automl.predict(rows)

    assert predictions.index.tolist() == [5, 200, 17]
    assert predictions.tolist() == automl.predict(penguins).iloc[[5, 200, 17]].tolist()


def test_automl_predict_proba_columns(automl: AutoML, penguins: pd.DataFrame) -> None:
    probabilities = automl.predict_proba(penguins.head(10))

    assert probabilities.columns.tolist() == [f"probability_{label}" for label in SPECIES]
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    labels = probabilities.to_numpy().argmax(axis=1)
    assert [SPECIES[code] for code in labels] == automl.predict(penguins.head(10)).tolist()


def test_load_run_metrics(automl: AutoML) -> None:
    board = automl.leaderboard
    for row in board.itertuples():
        run = glassml.load_run(row.run_id)

        assert run.run_id == row.run_id
        if row.status == "finished":
            assert run.metrics["log_loss"] == row.log_loss
            assert run.metrics["accuracy"] == row.accuracy


def test_load_run_unique_prefix(automl: AutoML) -> None:
    run_id = automl.best_run.run_id

    assert glassml.load_run(run_id[:8]).run_id == run_id


def test_automl_snapshot_written(automl: AutoML, folder: Path, penguins: pd.DataFrame) -> None:
    snapshots = sorted((folder / "glassml-runs" / "snapshots").glob("*.parquet"))

    assert len(snapshots) == 1
    pd.testing.assert_frame_equal(pd.read_parquet(snapshots[0]), penguins)
    assert Path(automl.best_run.spec.data.path) == snapshots[0].resolve()


def test_automl_integer_labels(folder: Path, penguins: pd.DataFrame) -> None:
    """Integer class labels come back as integers, not as strings or floats."""
    table = penguins.drop(columns="species")

    automl = AutoML(time_limit=30, max_trials=1, allowed_models=["linear"], experiment="years").fit(
        table, target="year"
    )
    predictions = automl.predict(table.drop(columns="year").head(20))

    assert predictions.dtype == np.int64
    assert set(predictions) <= {2007, 2008, 2009}
    assert automl.predict_proba(table.head(3)).columns.tolist() == [
        "probability_2007",
        "probability_2008",
        "probability_2009",
    ]


def test_automl_not_fitted() -> None:
    automl = AutoML()

    with pytest.raises(UserInputError, match="not fitted yet; call fit"):
        automl.leaderboard  # noqa: B018


def test_automl_fit_csv_path(folder: Path) -> None:
    file, target = TABLES["telco"]
    data = folder / file
    shutil.copy(DATASETS / file, data)

    automl = AutoML(time_limit=30, max_trials=1, allowed_models=["linear"], experiment="telco").fit(data, target)
    predictions = automl.predict(pd.read_csv(data).head(50))

    assert set(predictions) <= {"Yes", "No"}
    assert automl.best_run.spec.data.path == str(data.resolve())


def test_automl_validation_and_test_data(folder: Path) -> None:
    file, target = TABLES["diabetes"]
    table = pd.read_parquet(DATASETS / file)
    train, validation, test = table.iloc[:250], table.iloc[250:350], table.iloc[350:]

    automl = AutoML(time_limit=30, max_trials=1, allowed_models=["linear"], experiment="holdout-files").fit(
        train, target, validation_data=validation, test_data=test
    )

    assert automl.best_run.spec.validation.kind == "validation_data"
    assert automl.test_scores is not None
    assert set(automl.test_scores) >= {"rmse", "r2"}
    assert "algorithm='linear'" in repr(automl.best_run)


def test_automl_test_scores_absent(automl: AutoML) -> None:
    assert automl.test_scores is None
