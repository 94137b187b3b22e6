"""Render the notebook of a forecasting trial: run `script.py`, show its metrics and plot a few forecasts."""

from __future__ import annotations

import nbformat
from nbformat import v4

from glassml.codegen._literals import literal
from glassml.codegen._notebook import INSTALL_CELL, LOAD_MODEL_CELL, METRICS_CELL, RUN_SCRIPT_CELL

FORECAST_CELL = """\
import script

history = script.prepare_data(script.get_training_dataset(TRAINING_DATA))
forecast = script.forecast(model, script.HORIZON, script.LEVELS)
forecast.head(10)"""

# matplotlib is imported here only: the script itself does not need it.
PLOT_CELL = """\
import matplotlib.pyplot as plt

plotted_series = forecast["unique_id"].drop_duplicates().head(SERIES_TO_PLOT)
figure, axes = plt.subplots(len(plotted_series), 1, figsize=(10, 3 * len(plotted_series)), squeeze=False)
for axis, uid in zip(axes[:, 0], plotted_series):
    past = history[history["unique_id"] == uid].tail(4 * script.HORIZON)
    future = forecast[forecast["unique_id"] == uid]
    axis.plot(past["ds"], past["y"], label="history")
    axis.plot(future["ds"], future["prediction"], label="forecast")
    level = max(script.LEVELS, default=None)
    if level is not None and f"lower_{level}" in future:
        lower, upper = future[f"lower_{level}"], future[f"upper_{level}"]
        axis.fill_between(future["ds"], lower, upper, alpha=0.3, label=f"{level}% interval")
    axis.set_title(str(uid))
    axis.legend(loc="upper left")
figure.tight_layout()"""


def render_forecast_notebook(*, title: str, training_data: str) -> str:
    """Render the notebook that runs a forecasting `script.py` and return it as nbformat 4 JSON text."""
    notebook = v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    heading = " ".join(title.split()) or "Run script.py"
    parameters = [
        f"TRAINING_DATA = {literal(training_data)}",
        'OUTPUT_DIR = "outputs"',
        "SERIES_TO_PLOT = 3",
        "INSTALL_REQUIREMENTS = False",
    ]
    notebook.cells = [
        v4.new_markdown_cell(
            f"# {heading}\n\n"
            "`script.py` in this folder is the standalone program that backtests and trains this forecaster. "
            "It needs only the packages pinned in `requirements.txt`, not glassml. This notebook runs the script, "
            "loads the forecaster it writes, shows the backtest metrics and plots history and forecast of a few "
            "series.\n\n"
            "Set the paths in the parameters cell below (it is tagged `parameters` for papermill) and run all cells.",
            id="introduction",
        ),
        v4.new_code_cell("\n".join(parameters), id="parameters", metadata={"tags": ["parameters"]}),
        v4.new_markdown_cell(
            "Install the pinned packages of `requirements.txt` into this notebook's Python "
            "when `INSTALL_REQUIREMENTS` is true.",
            id="install-explanation",
        ),
        v4.new_code_cell(INSTALL_CELL, id="install-requirements"),
        v4.new_markdown_cell(
            "Run `script.py`: it backtests the forecaster as the search did, writes `metrics.json`, then trains "
            "it on every series and writes `model.pkl` to `OUTPUT_DIR`.",
            id="run-explanation",
        ),
        v4.new_code_cell(RUN_SCRIPT_CELL.format(validation_arguments=""), id="run-script"),
        v4.new_markdown_cell("Load the trained forecaster.", id="load-explanation"),
        v4.new_code_cell(LOAD_MODEL_CELL, id="load-model"),
        v4.new_markdown_cell("The backtest metrics that the script computed.", id="metrics-explanation"),
        v4.new_code_cell(METRICS_CELL, id="show-metrics"),
        v4.new_markdown_cell(
            "Import the script as a module and forecast the next `HORIZON` steps of every series.",
            id="forecast-explanation",
        ),
        v4.new_code_cell(FORECAST_CELL, id="forecast"),
        v4.new_markdown_cell("History and forecast of the first series.", id="plot-explanation"),
        v4.new_code_cell(PLOT_CELL, id="plot"),
    ]
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"
