"""Reopen recorded runs: a trial's spec, code, metrics and model, and a train run's leaderboard."""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import types
from functools import cached_property
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from glassml.data import detect_read_options, layout_differences, load_table
from glassml.engine._jobs import load_script, score_model
from glassml.engine._leaderboard import rank_entries
from glassml.errors import UserInputError
from glassml.spec import ForecastSpec, TrialSpec, spec_from_dict
from glassml.tracking import Tracker

logger = logging.getLogger(__name__)

CODE_FOLDER = "generated_code"
MODEL_FOLDER = "model"
MODEL_FILE = "model.pkl"
_STATUS = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "timeout", "RUNNING": "running"}


class TrialRun:
    """One trial's MLflow run: its spec, generated code, metrics and (stored or rebuilt) model."""

    def __init__(self, tracker: Tracker, run_id: str) -> None:
        self.tracker = tracker
        self.run = tracker.get_run(run_id)
        self.run_id = self.run.info.run_id
        if self.run.data.tags.get("glassml.kind") != "trial":
            raise UserInputError(
                f"run {self.run_id} is not a trial of glassml (it may be a train run); "
                "`glassml leaderboard` lists the trial runs and their ids"
            )

    def __repr__(self) -> str:
        trial = self.run.data.tags.get("glassml.trial", "?")
        algorithm = self.run.data.tags.get("glassml.algorithm", "?")
        return f"TrialRun(run_id={self.run_id!r}, trial={trial}, algorithm={algorithm!r})"

    @cached_property
    def spec(self) -> TrialSpec | ForecastSpec:
        return spec_from_dict(json.loads(self.tracker.read_text(self.run_id, "spec.json")))

    @cached_property
    def code(self) -> str:
        """The source of the trial's script.py."""
        return self.tracker.read_text(self.run_id, f"{CODE_FOLDER}/script.py")

    @property
    def metrics(self) -> dict[str, float]:
        """The validation metrics as logged when the trial ended (empty when it failed)."""
        if self.run.info.status != "FINISHED":
            return {}
        return json.loads(self.tracker.read_text(self.run_id, "metrics.json"))

    @property
    def has_stored_model(self) -> bool:
        return self.run.data.tags.get("glassml.model_stored") == "true"

    @cached_property
    def module(self) -> types.ModuleType:
        """The trial's script loaded as a module, to call its functions."""
        return load_script(self.code, f"glassml_run_{self.run_id}")

    def write_code(self, folder: str | Path) -> Path:
        """Copy script.py, the notebook and requirements.txt into `folder` and return it."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as scratch:
            downloaded = self.tracker.download_artifacts(self.run_id, CODE_FOLDER, scratch)
            for file in Path(downloaded).iterdir():
                (folder / file.name).write_bytes(file.read_bytes())
        return folder

    def model_path(self) -> Path:
        """Return a local model.pkl: the stored one, or one rebuilt by the script with --refit-only."""
        cache = Path(tempfile.gettempdir()) / "glassml-models" / self.run_id
        if self.has_stored_model:
            return self.tracker.download_artifacts(self.run_id, f"{MODEL_FOLDER}/{MODEL_FILE}", cache)
        path = cache / MODEL_FILE
        if not path.exists():
            logger.warning(
                "run %s has no stored model: training it now with its script (--refit-only), then storing it",
                self.run_id,
            )
            self._refit(cache)
            self.tracker.log_file(self.run_id, path, MODEL_FOLDER)
            self.tracker.set_tags(self.run_id, {"glassml.model_stored": "true"})
        return path

    def _refit(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        script = self.write_code(folder / "code") / "script.py"
        command = [sys.executable, str(script), "--training-data", self.spec.data.path]
        command += ["--output-dir", str(folder), "--refit-only"]
        if self.spec.validation.validation_path:
            command += ["--validation-data", self.spec.validation.validation_path]
        completed = subprocess.run(command, capture_output=True, text=True, env=script_environment(), check=False)
        if completed.returncode != 0:
            raise UserInputError(
                f"rebuilding the model of run {self.run_id} with its script failed:\n{completed.stderr[-2000:]}"
            )

    def load_model(self) -> Any:
        return joblib.load(self.model_path())

    def predict(self, table: pd.DataFrame) -> pd.DataFrame:
        """Predict with the run's model through the script's own `predict`."""
        model = self.load_model()
        try:
            return self.module.predict(model, table)
        except (ValueError, KeyError) as error:
            raise UserInputError(f"cannot predict with run {self.run_id}: {error}") from error

    def forecast(
        self, history: pd.DataFrame | None = None, future: pd.DataFrame | None = None, levels: list[int] | None = None
    ) -> pd.DataFrame:
        """Forecast every series with the run's model through the script's own `predict`.

        `history` replaces the training history as the past to forecast from; `future` contains the known
        covariates of the forecast steps; `levels` defaults to the run's prediction interval levels.
        """
        if self.spec.target.task != "forecasting":
            raise UserInputError(f"run {self.run_id} is not a forecaster; use `glassml predict` for its rows")
        model = self.load_model()
        levels = self.module.LEVELS if levels is None else levels
        try:
            return self.module.predict(model, history, future, levels=levels)
        except (ValueError, KeyError) as error:
            raise UserInputError(f"cannot forecast with run {self.run_id}: {error}") from error

    def score(self, table: pd.DataFrame) -> dict[str, float]:
        """Score the model on rows that carry the target, with the script's metrics."""
        model = self.load_model()
        try:
            X, y, sample_weights = self.module.prepare_data(table)
        except (ValueError, KeyError) as error:
            raise UserInputError(f"cannot score run {self.run_id} on these rows: {error}") from error
        return score_model(self.module, model, X, y, sample_weights)

    def read_table(self, path: str | Path) -> pd.DataFrame:
        """Read rows to predict or score the way the run read its training data.

        A file laid out like the training data (same format, separator, encoding, decimal and
        thousands marks) goes through the script's own `read_table`. Another layout, such as a CSV
        for a run trained on Parquet, is read with options detected on that file, and a warning
        reports it.
        """
        path = Path(path)
        if not path.exists():
            raise UserInputError(f"file {str(path)!r} not found; check the path")
        detected = detect_read_options(path)
        differences = layout_differences(self.spec.read, detected)
        if not differences:
            return self.module.read_table(str(path))
        logger.warning(
            "%s is laid out differently from the training data (%s); reading it with its own detected options",
            path.name,
            "; ".join(differences),
        )
        return load_table(path, detected)[0]


def script_environment(extra_path: str | None = None) -> dict[str, str]:
    """Return the environment scripts run in: fixed OpenMP settings, and optionally a PYTHONPATH."""
    env = dict(os.environ)
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    if extra_path is not None:
        env["PYTHONPATH"] = extra_path
    else:
        env.pop("PYTHONPATH", None)
    return env


def leaderboard(tracker: Tracker, parent_run_id: str) -> list[dict[str, Any]]:
    """Return the ranked entries of a train run, read from its trial runs in the store."""
    parent = tracker.get_run(parent_run_id)
    metric = parent.data.params.get("metric")
    rows = []
    for run in tracker.child_runs(parent.info.run_id):
        tags = run.data.tags
        metrics = {
            name: value
            for name, value in run.data.metrics.items()
            if name != "fit_seconds" and not name.startswith("test_") and math.isfinite(value)
        }
        rows.append(
            {
                "run_id": run.info.run_id,
                "trial": int(tags.get("glassml.trial", 0)),
                "algorithm": tags.get("glassml.algorithm", ""),
                "status": tags.get("glassml.status") or _STATUS.get(run.info.status, run.info.status.lower()),
                "metrics": metrics,
                "fit_seconds": run.data.metrics.get("fit_seconds"),
                "error": tags.get("glassml.error"),
                "model_stored": tags.get("glassml.model_stored") == "true",
            }
        )
    if metric is None:
        return rows
    return rank_entries(rows, metric)
