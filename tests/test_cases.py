"""Inputs rebuilt from bug reports of other AutoML tools give their expected outcome from the command line.

tests/cases/cases.json states for each input whether training must succeed (and the script must
reproduce the run) or end with a clear error: exit code 2, a message, no traceback.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

CASES_FOLDER = Path(__file__).parent / "cases"
CASES = json.loads((CASES_FOLDER / "cases.json").read_text(encoding="utf-8"))
GLASSML = Path(sys.executable).parent / "glassml"
# Few short trials keep the suite fast. B01's report was about names that LightGBM and XGBoost
# reject, so its run includes both.
TRAIN_OPTIONS = ["--time-limit", "30", "--max-trials", "2", "--allowed-models", "lightgbm,linear", "--workers", "1"]
B01_OPTIONS = ["--time-limit", "30", "--max-trials", "3", "--allowed-models", "lightgbm,xgboost"]
BEST_RUN = re.compile(r"^best: trial \d+ \(\w+\), run ([0-9a-f]{32})$", re.MULTILINE)


def _glassml(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GLASSML), *arguments], cwd=cwd, capture_output=True, text=True, timeout=180, check=False)


def _train(case: dict, cwd: Path) -> subprocess.CompletedProcess[str]:
    options = B01_OPTIONS if case["id"] == "B01" else TRAIN_OPTIONS
    return _glassml("train", str(CASES_FOLDER / case["file"]), "--target", case["target"], *options, cwd=cwd)


def _best_run(trained: subprocess.CompletedProcess[str]) -> str:
    match = BEST_RUN.search(trained.stdout)
    assert match is not None, trained.stdout[-2000:]
    return match.group(1)


@pytest.mark.parametrize(
    "case", [case for case in CASES if case["expected"] == "succeeds"], ids=lambda case: case["id"]
)
def test_case_succeeds_and_verifies(case, tmp_path):
    trained = _train(case, tmp_path)

    assert trained.returncode == 0, trained.stderr
    assert "Traceback" not in trained.stderr
    best = _best_run(trained)
    verified = _glassml("verify", best, cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    if case.get("test_file"):
        predicted = _glassml("predict", best, str(CASES_FOLDER / case["test_file"]), "--out", "p.csv", cwd=tmp_path)
        assert predicted.returncode == 0, predicted.stderr
    if case["id"] == "B01":
        # Both boosters trained, and the two names that collide after naive sanitising stay apart.
        assert "trial   1 lightgbm" in trained.stdout
        assert "xgboost        " + case.get("metric", "roc_auc") in trained.stdout
        assert "│ x y " in trained.stdout
        assert "│ x_y " in trained.stdout


@pytest.mark.parametrize(
    "case", [case for case in CASES if case["expected"] == "clear_error"], ids=lambda case: case["id"]
)
def test_case_clear_error(case, tmp_path):
    trained = _train(case, tmp_path)
    if case.get("test_file"):
        # The fault is in the prediction file: training succeeds and prediction fails clearly.
        assert trained.returncode == 0, trained.stderr
        test_file = str(CASES_FOLDER / case["test_file"])
        completed = _glassml("predict", _best_run(trained), test_file, "--out", "p.csv", cwd=tmp_path)
    else:
        completed = trained

    assert completed.returncode == 2
    assert completed.stderr.startswith("error: ")
    assert "Traceback" not in completed.stderr
    expected_words = {"B03": "repeats column names", "B05": "single value", "B17": "tenure_months"}
    assert expected_words[case["id"]] in completed.stderr
