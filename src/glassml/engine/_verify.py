"""Prove that a trial's script reproduces the run: same code, same metrics, same model.

The script runs in a fresh process, from another working folder, with another PYTHONHASHSEED and
with a stand-in `glassml` package that raises on import, so it cannot lean on glassml.
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np

from glassml.engine._runs import TrialRun, script_environment

STAND_IN = 'raise ImportError("generated code must not import glassml; it needs only requirements.txt")\n'


@dataclass
class Check:
    """One check of a verification, with what was compared."""

    name: str
    passed: bool
    detail: str


@dataclass
class VerifyReport:
    """The outcome of `verify`: every check, and the script's own output when it failed."""

    run_id: str
    checks: list[Check] = field(default_factory=list)
    output: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(check.passed for check in self.checks)


def verify(run: TrialRun, *, script: Path | None = None, data: Path | None = None) -> VerifyReport:
    """Run the trial's script in a clean process and compare its metrics and model with the run's.

    `script` verifies another copy of the script. An edited copy fails the code check and usually
    the metrics check. `data` points at the training table when it has moved.
    """
    report = VerifyReport(run.run_id)
    with tempfile.TemporaryDirectory(prefix="glassml-verify-") as scratch:
        folder = Path(scratch)
        code = run.write_code(folder / "code")
        if script is not None:
            (code / "script.py").write_bytes(Path(script).read_bytes())
        source = (code / "script.py").read_text(encoding="utf-8")
        report.checks.append(_check_code(run, source))

        data_path = Path(data) if data is not None else Path(run.spec.data.path)
        report.checks.append(_check_data(run, data_path))
        if not data_path.exists():
            return report

        outputs = folder / "outputs"
        completed = _run_script(code / "script.py", data_path, outputs, folder, run)
        if completed.returncode != 0:
            report.output = completed.stderr[-4000:]
            report.checks.append(Check("script runs", False, f"exit code {completed.returncode}"))
            return report
        report.checks.append(Check("script runs", True, "exit code 0 in a clean process without glassml"))
        report.checks.append(_check_metrics(run, outputs / "metrics.json"))
        if run.has_stored_model:
            report.checks.append(_check_model(run, outputs / "model.pkl", data_path))
    return report


def _check_code(run: TrialRun, source: str) -> Check:
    recorded = run.run.data.tags.get("glassml.script_sha256", "")
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    if digest == recorded:
        return Check("code", True, f"script.py has the sha256 the trial ran ({digest[:16]}...)")
    return Check("code", False, f"script.py has sha256 {digest[:16]}..., the trial ran {recorded[:16]}...")


def _check_data(run: TrialRun, path: Path) -> Check:
    if not path.exists():
        return Check("data", False, f"training data {str(path)!r} not found; pass its new place with --data")
    with open(path, "rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    if digest != run.spec.data.sha256:
        return Check("data", False, f"{path.name} has changed since the search (sha256 {digest[:16]}...)")
    return Check("data", True, f"{path.name} is the table the search read")


def _run_script(
    script: Path, data: Path, outputs: Path, folder: Path, run: TrialRun
) -> subprocess.CompletedProcess[str]:
    stand_in = folder / "stand_in"
    (stand_in / "glassml").mkdir(parents=True)
    (stand_in / "glassml" / "__init__.py").write_text(STAND_IN)
    work = folder / "work"
    work.mkdir()
    command = [sys.executable, str(script), "--training-data", str(data.resolve()), "--output-dir", str(outputs)]
    if run.spec.validation.validation_path:
        command += ["--validation-data", run.spec.validation.validation_path]
    env = script_environment(str(stand_in))
    env["PYTHONHASHSEED"] = str(random.randint(1, 2**31))
    return subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=False)


def _check_metrics(run: TrialRun, path: Path) -> Check:
    logged = run.metrics
    produced = json.loads(path.read_text())
    if not logged:
        return Check("metrics", False, "the run logged no metrics (the trial did not finish)")
    differences = [
        f"{name}: logged {logged.get(name)!r}, script {produced.get(name)!r}"
        for name in sorted(set(logged) | set(produced))
        if logged.get(name) != produced.get(name)
    ]
    if differences:
        return Check("metrics", False, "; ".join(differences))
    primary = run.spec.metric
    return Check("metrics", True, f"all {len(logged)} metrics equal, {primary} = {logged[primary]!r}")


def _check_model(run: TrialRun, produced_path: Path, data: Path) -> Check:
    stored = joblib.load(run.model_path())
    produced = joblib.load(produced_path)
    if run.spec.target.task == "forecasting":
        return _check_forecaster(run, stored, produced, data)
    features = run.module.prepare_features(run.module.read_table(str(data)))
    method = "predict_proba" if hasattr(stored, "predict_proba") else "predict"
    expected = np.asarray(getattr(stored, method)(features))
    actual = np.asarray(getattr(produced, method)(features))
    if expected.shape == actual.shape and expected.tobytes() == actual.tobytes():
        return Check(
            "model", True, f"{method} of the stored and the rebuilt model are bitwise equal on {len(features)} rows"
        )
    if expected.shape != actual.shape:
        return Check("model", False, f"{method} shapes differ: stored {expected.shape}, rebuilt {actual.shape}")
    largest = float(np.max(np.abs(expected - actual)))
    return Check("model", False, f"{method} of the stored and the rebuilt model differ by up to {largest:.3g}")


def _check_forecaster(run: TrialRun, stored: object, produced: object, data: Path) -> Check:
    """Compare the forecasts, intervals included, of the stored and the rebuilt forecaster.

    A forecaster with known covariates has none for the steps after the data, so both forecast the last
    `HORIZON` steps of every series from the steps before them, with those steps' covariates.
    """
    module = run.module
    if not module.KNOWN_COVARIATES:
        expected, actual = module.predict(stored), module.predict(produced)
    else:
        prepared = module.prepare_data(module.read_table(str(data)))
        from_end = prepared.groupby("unique_id", sort=False).cumcount(ascending=False)
        history = prepared[from_end >= module.HORIZON]
        future = prepared[from_end < module.HORIZON][["unique_id", "ds", *module.KNOWN_COVARIATES]]
        expected, actual = (
            module.forecast(model, module.HORIZON, module.LEVELS, history=history, future=future)
            for model in (stored, produced)
        )
    values = [
        column for column in expected.columns if column == "prediction" or column.startswith(("lower_", "upper_"))
    ]
    if list(expected.columns) != list(actual.columns) or len(expected) != len(actual):
        return Check("model", False, f"forecast tables differ: stored {expected.shape}, rebuilt {actual.shape}")
    left, right = expected[values].to_numpy(float), actual[values].to_numpy(float)
    if left.tobytes() == right.tobytes() and expected.drop(columns=values).equals(actual.drop(columns=values)):
        return Check(
            "model", True, f"forecasts of the stored and the rebuilt model are bitwise equal ({len(expected)} rows)"
        )
    largest = float(np.nanmax(np.abs(left - right))) if left.size else 0.0
    return Check("model", False, f"forecasts of the stored and the rebuilt model differ by up to {largest:.3g}")
