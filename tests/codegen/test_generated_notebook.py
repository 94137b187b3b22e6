"""Execute the notebook of a real trial, written by `glassml code`, in a real Jupyter kernel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from glassml.engine import TrainSettings, TrialRun, train
from glassml.tracking import Tracker
from tests.conftest import DATASETS, TABLES

GLASSML = Path(sys.executable).parent / "glassml"


@dataclass
class ExecutedNotebook:
    folder: Path
    run: TrialRun
    notebook: nbformat.NotebookNode


def _cell_text(cell: nbformat.NotebookNode) -> str:
    """Return everything a code cell displayed: streams, errors, and the plain text and HTML of its results."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.data.get("text/plain", ""))
            parts.append(output.data.get("text/html", ""))
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExecutedNotebook]:
    work = tmp_path_factory.mktemp("notebook")
    file, target = TABLES["penguins"]
    data = work / file
    shutil.copy(DATASETS / file, data)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(work)
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
        settings = TrainSettings(
            data_path=data,
            target=target,
            started_at=time.time(),
            time_limit=60,
            max_trials=2,
            allowed_models=["lightgbm", "linear"],
            n_workers=1,
        )
        result = train(settings)
        assert result.best is not None
        run = TrialRun(Tracker(), result.best.run_id)

        folder = work / "best_model"
        env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
        command = [str(GLASSML), "code", run.run_id, "--out", str(folder)]
        completed = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=120)
        assert completed.returncode == 0, completed.stderr

        notebook = nbformat.read(folder / "script_run_notebook.ipynb", as_version=4)
        resources = {"metadata": {"path": str(folder)}}
        NotebookClient(notebook, timeout=300, kernel_name="python3", resources=resources).execute()
        yield ExecutedNotebook(folder, run, notebook)


def test_generated_notebook_metrics_equal_run(executed: ExecutedNotebook) -> None:
    written = json.loads((executed.folder / "outputs" / "metrics.json").read_text())

    assert written == executed.run.metrics
    assert (executed.folder / "outputs" / "model.pkl").exists()


def test_generated_notebook_shows_metrics(executed: ExecutedNotebook) -> None:
    results = [
        output.data["text/plain"]
        for cell in executed.notebook.cells
        for output in cell.get("outputs", [])
        if output.output_type == "execute_result" and "value" in output.data.get("text/plain", "")
    ]
    assert len(results) == 1, "exactly one cell must display the metrics table"

    displayed = {}
    for line in results[0].splitlines()[1:]:
        name, value = line.split()
        displayed[name] = float(value)
    assert displayed == pytest.approx(executed.run.metrics, rel=1e-5)


def test_generated_notebook_shows_predictions(executed: ExecutedNotebook) -> None:
    last = [cell for cell in executed.notebook.cells if cell.cell_type == "code"][-1]
    displayed = _cell_text(last)

    assert "prediction" in displayed
    for label in ("Adelie", "Chinstrap", "Gentoo"):
        assert f"probability_{label}" in displayed
    assert "Adelie" in displayed.replace("probability_Adelie", "")


def test_generated_notebook_skips_install(executed: ExecutedNotebook) -> None:
    displayed = "\n".join(_cell_text(cell) for cell in executed.notebook.cells if cell.cell_type == "code")

    assert "Skipped: set INSTALL_REQUIREMENTS = True" in displayed
    assert "Error" not in displayed
