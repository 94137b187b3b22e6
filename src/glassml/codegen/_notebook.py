"""Render `script_run_notebook.ipynb`, the notebook that runs `script.py` and shows its results.

The notebook sits in the same folder as `script.py` and `requirements.txt`, and Jupyter starts a
notebook's kernel in the notebook's folder, so the cells run the script and import it as the
module `script` by relative name.
"""

from __future__ import annotations

import typing

import nbformat
from nbformat import v4

from glassml.codegen._literals import literal
from glassml.spec import Task

TASKS: tuple[str, ...] = typing.get_args(Task)

_TASK_DESCRIPTIONS = {
    "binary": "binary classification",
    "multiclass": "multiclass classification",
    "regression": "regression",
}

_PREDICTION_DESCRIPTIONS = {
    "binary": "the predicted label and the probability of each class",
    "multiclass": "the predicted label and the probability of each class",
    "regression": "the predicted value",
}

INSTALL_CELL = """\
import subprocess
import sys

if INSTALL_REQUIREMENTS:
    subprocess.run([sys.executable, "-m", "pip", "install", "-r", "requirements.txt"], check=True)
else:
    print("Skipped: set INSTALL_REQUIREMENTS = True to install the packages pinned in requirements.txt.")"""

# The cell captures the script's output and prints it, so that it shows in the notebook. It checks
# the return code only after printing, so a failing script still shows its error.
RUN_SCRIPT_CELL = """\
arguments = [sys.executable, "script.py", "--training-data", TRAINING_DATA, "--output-dir", OUTPUT_DIR]
{validation_arguments}completed = subprocess.run(arguments, capture_output=True, text=True)
print(completed.stdout, end="")
print(completed.stderr, end="", file=sys.stderr)
completed.check_returncode()"""

LOAD_MODEL_CELL = """\
from pathlib import Path

import joblib
import pandas as pd

model = joblib.load(Path(OUTPUT_DIR) / "model.pkl")
model"""

METRICS_CELL = """\
import json

metrics = json.loads((Path(OUTPUT_DIR) / "metrics.json").read_text())
pd.Series(metrics, name="value").to_frame()"""

PREDICT_CELL = """\
import script

rows = script.read_table(TRAINING_DATA).head(5)
script.predict(model, rows)"""


def render_notebook(*, title: str, training_data: str, task: str, validation_data: str | None = None) -> str:
    """Render the notebook that runs `script.py` and return it as nbformat 4 JSON text.

    Parameters
    ----------
    title : str
        Heading of the notebook, shown on one line.
    training_data : str
        Default path of the training table in the notebook's parameters cell.
    task : {"binary", "multiclass", "regression"}
        The model's task, which the explanations name.
    validation_data : str or None, default=None
        Path of the separate validation table, for scripts that are scored on one; the script is
        then run with `--validation-data`.

    Returns
    -------
    str
        The notebook as JSON, validated against the nbformat 4 schema.
    """
    if task not in TASKS:
        raise ValueError(f"invalid task {task!r}: expected one of {', '.join(map(repr, TASKS))}")

    notebook = v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    notebook.cells = _cells(title, training_data, task, validation_data)
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"


def _cells(title: str, training_data: str, task: str, validation_data: str | None) -> list[nbformat.NotebookNode]:
    parameters = [
        f"TRAINING_DATA = {literal(training_data)}",
        'OUTPUT_DIR = "outputs"',
        "INSTALL_REQUIREMENTS = False",
    ]
    validation_arguments = ""
    if validation_data is not None:
        parameters.insert(1, f"VALIDATION_DATA = {literal(validation_data)}")
        validation_arguments = 'arguments += ["--validation-data", VALIDATION_DATA]\n'

    # Fixed cell ids keep the rendered notebook identical for identical inputs.
    return [
        v4.new_markdown_cell(_introduction(title, task), id="introduction"),
        v4.new_code_cell("\n".join(parameters), id="parameters", metadata={"tags": ["parameters"]}),
        v4.new_markdown_cell(
            "Install the pinned packages of `requirements.txt` into this notebook's Python "
            "when `INSTALL_REQUIREMENTS` is true.",
            id="install-explanation",
        ),
        v4.new_code_cell(INSTALL_CELL, id="install-requirements"),
        v4.new_markdown_cell(
            "Run `script.py`: it evaluates the model as the search did, writes `metrics.json`, then trains "
            "the model on every training row and writes `model.pkl` to `OUTPUT_DIR`.",
            id="run-explanation",
        ),
        v4.new_code_cell(RUN_SCRIPT_CELL.format(validation_arguments=validation_arguments), id="run-script"),
        v4.new_markdown_cell("Load the trained model.", id="load-explanation"),
        v4.new_code_cell(LOAD_MODEL_CELL, id="load-model"),
        v4.new_markdown_cell("The validation metrics that the script computed.", id="metrics-explanation"),
        v4.new_code_cell(METRICS_CELL, id="show-metrics"),
        v4.new_markdown_cell(
            "Import the script as a module and predict the first rows of the training table: "
            f"{_PREDICTION_DESCRIPTIONS[task]} for each row.",
            id="predict-explanation",
        ),
        v4.new_code_cell(PREDICT_CELL, id="predict"),
    ]


def _introduction(title: str, task: str) -> str:
    heading = " ".join(title.split()) or "Run script.py"
    return (
        f"# {heading}\n"
        "\n"
        f"`script.py` in this folder is the standalone program that trains this {_TASK_DESCRIPTIONS[task]} model. "
        "It needs only the packages pinned in `requirements.txt`, not glassml. This notebook runs the script, "
        "loads the model it writes and shows its metrics and a few predictions.\n"
        "\n"
        "Set the paths in the parameters cell below (it is tagged `parameters` for papermill) and run all cells."
    )
