from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from glassml.codegen._notebook import render_notebook

# A stand-in for a generated script.py with the parts of its contract that the notebook uses:
# read_table, predict, and main() with --training-data and --output-dir writing model.pkl and
# metrics.json.
STAND_IN_SCRIPT = '''\
"""Train a logistic regression on a CSV table."""

import argparse
import json
from pathlib import Path

import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

FEATURE_COLUMNS = ["x1", "x2"]
TARGET_COLUMN = "label"


def read_table(path):
    return pd.read_csv(path)


def train_model(dataframe):
    return LogisticRegression().fit(dataframe[FEATURE_COLUMNS], dataframe[TARGET_COLUMN])


def predict(model, dataframe):
    features = dataframe[FEATURE_COLUMNS]
    return pd.DataFrame(
        {"prediction": model.predict(features), "probability_yes": model.predict_proba(features)[:, 1]},
        index=dataframe.index,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--training-data", required=True)
    parser.add_argument("--output-dir", default="outputs")
    args = parser.parse_args()
    dataframe = read_table(args.training_data)
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    features, target = dataframe[FEATURE_COLUMNS], dataframe[TARGET_COLUMN]
    scores = {"accuracy": float(cross_val_score(LogisticRegression(), features, target, cv=3).mean())}
    (output_dir / "metrics.json").write_text(json.dumps(scores))
    print(json.dumps(scores))
    joblib.dump(train_model(dataframe), output_dir / "model.pkl")


if __name__ == "__main__":
    main()
'''

# The quote and the space make sure the path reaches the code as a literal, not by formatting.
TRAINING_FILE = "train 'v1'.csv"


def _write_project(folder: Path) -> None:
    random = np.random.default_rng(0)
    features = random.normal(size=(60, 2))
    labels = np.where(features[:, 0] + features[:, 1] > 0, "yes", "no")
    table = pd.DataFrame({"x1": features[:, 0], "x2": features[:, 1], "label": labels})
    table.to_csv(folder / TRAINING_FILE, index=False)
    (folder / "script.py").write_text(STAND_IN_SCRIPT)


def _execute(notebook: nbformat.NotebookNode, folder: Path) -> nbformat.NotebookNode:
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    client.execute()
    return notebook


def _cell(notebook: nbformat.NotebookNode, cell_id: str) -> nbformat.NotebookNode:
    (cell,) = [cell for cell in notebook.cells if cell.id == cell_id]
    return cell


def _stream_text(cell: nbformat.NotebookNode, name: str) -> str:
    return "".join(output.text for output in cell.outputs if output.output_type == "stream" and output.name == name)


def _result_text(cell: nbformat.NotebookNode) -> str:
    (result,) = [output for output in cell.outputs if output.output_type == "execute_result"]
    return result.data["text/plain"]


def test_render_notebook_runs_script(tmp_path: Path) -> None:
    _write_project(tmp_path)
    text = render_notebook(title="LightGBM, trial 3", training_data=TRAINING_FILE, task="binary")
    (tmp_path / "script_run_notebook.ipynb").write_text(text)

    notebook = _execute(nbformat.reads(text, as_version=4), tmp_path)

    metrics = json.loads((tmp_path / "outputs" / "metrics.json").read_text())
    assert "Skipped: set INSTALL_REQUIREMENTS = True" in _stream_text(_cell(notebook, "install-requirements"), "stdout")
    assert json.loads(_stream_text(_cell(notebook, "run-script"), "stdout")) == metrics
    assert _result_text(_cell(notebook, "load-model")).startswith("LogisticRegression(")
    metrics_table = _result_text(_cell(notebook, "show-metrics"))
    assert metrics_table.split()[:2] == ["value", "accuracy"]
    assert float(metrics_table.split()[2]) == pytest.approx(metrics["accuracy"], rel=1e-5)
    prediction_lines = _result_text(_cell(notebook, "predict")).splitlines()
    assert prediction_lines[0].split() == ["prediction", "probability_yes"]
    assert len(prediction_lines) == 6
    assert {line.split()[1] for line in prediction_lines[1:]} <= {"yes", "no"}


def test_render_notebook_shows_script_error(tmp_path: Path) -> None:
    _write_project(tmp_path)
    notebook = nbformat.reads(render_notebook(title="t", training_data="missing.csv", task="binary"), as_version=4)

    with pytest.raises(CellExecutionError, match="CalledProcessError"):
        _execute(notebook, tmp_path)

    run_cell = _cell(notebook, "run-script")
    assert "FileNotFoundError" in _stream_text(run_cell, "stderr")
    assert "missing.csv" in _stream_text(run_cell, "stderr")


def test_render_notebook_valid_nbformat() -> None:
    text = render_notebook(title="t", training_data="train.csv", task="regression")

    notebook = nbformat.reads(text, as_version=4)

    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    assert notebook.metadata.kernelspec.name == "python3"
    assert text.endswith("}\n")


def test_render_notebook_code_cells_parse() -> None:
    text = render_notebook(title="t", training_data="train.csv", task="multiclass", validation_data="valid.csv")

    notebook = nbformat.reads(text, as_version=4)

    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.id for cell in code_cells] == [
        "parameters",
        "install-requirements",
        "run-script",
        "load-model",
        "show-metrics",
        "predict",
    ]
    for cell in code_cells:
        ast.parse(cell.source)


def test_render_notebook_parameters_cell() -> None:
    notebook = nbformat.reads(render_notebook(title="t", training_data="data/train.csv", task="binary"), as_version=4)

    parameters = notebook.cells[1]

    assert parameters.metadata.tags == ["parameters"]
    assert parameters.source.splitlines() == [
        'TRAINING_DATA = "data/train.csv"',
        'OUTPUT_DIR = "outputs"',
        "INSTALL_REQUIREMENTS = False",
    ]


@pytest.mark.parametrize(
    "path",
    ['it\'s "quoted".csv', "C:\\data\\new\\train.csv", "line\nbreak.csv", "données/entraînement.parquet", "{x}.csv"],
)
def test_render_notebook_training_data_literal(path: str) -> None:
    notebook = nbformat.reads(render_notebook(title="t", training_data=path, task="binary"), as_version=4)

    assignment = ast.parse(notebook.cells[1].source).body[0]

    assert isinstance(assignment, ast.Assign)
    assert assignment.targets[0].id == "TRAINING_DATA"
    assert ast.literal_eval(assignment.value) == path


def test_render_notebook_validation_data() -> None:
    notebook = nbformat.reads(
        render_notebook(title="t", training_data="train.csv", task="binary", validation_data="valid 'v2'.csv"),
        as_version=4,
    )

    namespace: dict[str, object] = {}
    exec(notebook.cells[1].source, namespace)
    run_script = _cell(notebook, "run-script").source

    assert namespace["VALIDATION_DATA"] == "valid 'v2'.csv"
    assert 'arguments += ["--validation-data", VALIDATION_DATA]' in run_script


def test_render_notebook_without_validation_data() -> None:
    notebook = nbformat.reads(render_notebook(title="t", training_data="train.csv", task="binary"), as_version=4)

    assert "VALIDATION_DATA" not in notebook.cells[1].source
    assert "--validation-data" not in _cell(notebook, "run-script").source


def test_render_notebook_deterministic() -> None:
    first = render_notebook(title="t", training_data="train.csv", task="binary")
    second = render_notebook(title="t", training_data="train.csv", task="binary")

    assert first == second


def test_render_notebook_title_one_line() -> None:
    notebook = nbformat.reads(render_notebook(title="Best\nmodel  (rank 1)", training_data="t.csv", task="binary"), 4)

    assert notebook.cells[0].source.splitlines()[0] == "# Best model (rank 1)"
    assert "binary classification model" in notebook.cells[0].source


def test_render_notebook_invalid_task() -> None:
    with pytest.raises(ValueError, match="invalid task 'classification': expected one of 'binary', 'multiclass'"):
        render_notebook(title="t", training_data="train.csv", task="classification")
