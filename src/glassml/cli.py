"""The command line: train, leaderboard, experiments, code, verify, predict."""

from __future__ import annotations

import json
import logging
import os
import sys
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from glassml.errors import UserInputError

# The engine, MLflow and pandas are imported inside the commands: `glassml train` starts its worker
# processes first, so that they start while the engine is being imported.
if TYPE_CHECKING:
    from glassml.engine import TrialRun

app = typer.Typer(
    help="Glass-box AutoML: search models for a table and get the script that trains each one.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Tables and lines keep their shape when output goes to a file or a pipe (80 columns otherwise).
console = Console() if Console().is_terminal else Console(width=160)
errors = Console(stderr=True) if Console(stderr=True).is_terminal else Console(stderr=True, width=160)

TrackingOption = Annotated[
    str | None,
    typer.Option("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI or ./glassml-runs)"),
]


def _split(values: str | None) -> list[str] | None:
    return None if values is None else [value.strip() for value in values.split(",") if value.strip()]


@app.command("train")
def train_command(
    data: Annotated[Path, typer.Argument(help="training table: CSV (any delimiter) or Parquet")],
    target: Annotated[str, typer.Option("--target", "-t", help="name of the column to predict")],
    task: Annotated[
        str, typer.Option(help="auto, classification, binary, multiclass, regression or forecasting")
    ] = "auto",
    metric: Annotated[
        str | None, typer.Option(help="primary metric, e.g. roc_auc, log_loss, accuracy, rmse, r2, mase, smape")
    ] = None,
    time_limit: Annotated[str, typer.Option(help="time for the whole run: 90, 90s, 10m, 1h")] = "60s",
    max_trials: Annotated[int | None, typer.Option(help="stop after this many trials")] = None,
    seed: Annotated[int, typer.Option(help="seed of the search and of every generated script")] = 0,
    allowed_models: Annotated[str | None, typer.Option(help="comma-separated learners to search among")] = None,
    blocked_models: Annotated[str | None, typer.Option(help="comma-separated learners to leave out")] = None,
    validation: Annotated[str, typer.Option(help="auto, holdout:FRACTION or cv:FOLDS")] = "auto",
    validation_data: Annotated[Path | None, typer.Option(help="file of rows to score candidates on")] = None,
    test_data: Annotated[Path | None, typer.Option(help="file of held-out rows to score the best model on")] = None,
    weight_column: Annotated[str | None, typer.Option(help="column of sample weights")] = None,
    ignore_columns: Annotated[str | None, typer.Option(help="comma-separated columns not to use")] = None,
    column_purpose: Annotated[
        list[str] | None, typer.Option(help="name=purpose, e.g. zip=categorical (repeatable)")
    ] = None,
    positive_label: Annotated[str | None, typer.Option(help="the positive class of a binary target")] = None,
    experiment: Annotated[str, typer.Option(help="MLflow experiment name")] = "default",
    workers: Annotated[int, typer.Option(help="worker processes running trials in parallel")] = min(
        os.cpu_count() or 1, 2
    ),
    early_stopping: Annotated[
        bool, typer.Option(help="choose the boosting rounds of each trial by early stopping on held-out rows")
    ] = True,
    portfolio: Annotated[
        Path | None, typer.Option(help="JSON file of configurations to try first, in place of the built-in portfolio")
    ] = None,
    time_column: Annotated[str | None, typer.Option(help="forecasting: the column of timestamps")] = None,
    series_id: Annotated[
        str | None, typer.Option(help="forecasting: comma-separated columns that identify a series")
    ] = None,
    horizon: Annotated[int | None, typer.Option(help="forecasting: how many steps to forecast")] = None,
    freq: Annotated[
        str | None, typer.Option(help="forecasting: pandas frequency such as D, W-MON, MS (default: inferred)")
    ] = None,
    aggregate: Annotated[
        str | None, typer.Option(help="forecasting: combine rows at the same step: sum, mean, median, min, max...")
    ] = None,
    known_covariates: Annotated[
        str | None, typer.Option(help="forecasting: comma-separated numeric columns known in advance")
    ] = None,
    static_features: Annotated[
        str | None, typer.Option(help="forecasting: comma-separated columns constant within each series")
    ] = None,
    n_windows: Annotated[int | None, typer.Option(help="forecasting: backtest windows (default: up to 3)")] = None,
    step_size: Annotated[
        int | None, typer.Option(help="forecasting: steps between backtest windows (default: the horizon)")
    ] = None,
    level: Annotated[
        str, typer.Option(help="forecasting: comma-separated prediction interval levels in percent")
    ] = "80,95",
    tracking_uri: TrackingOption = None,
) -> None:
    """Search models for DATA and record every trial with its code."""
    from glassml.engine._budget import process_start_time
    from glassml.engine._workers import start_worker_pool

    started_at = process_start_time()
    forecasting = task == "forecasting"
    pool = start_worker_pool(workers, forecasting=forecasting) if workers >= 1 else None
    try:
        from glassml._console import ConsoleEvents
        from glassml.engine import TrainSettings, parse_column_purposes, parse_duration, train
        from glassml.forecasting._options import ForecastOptions

        forecast = None
        if forecasting:
            if time_column is None or horizon is None:
                raise UserInputError("--task forecasting needs --time-column (the timestamps) and --horizon (steps)")
            forecast = ForecastOptions(
                time_column=time_column,
                horizon=horizon,
                series_id=_split(series_id) or [],
                freq=freq,
                aggregate=aggregate,
                known_covariates=_split(known_covariates) or [],
                static_features=_split(static_features) or [],
                n_windows=n_windows,
                step_size=step_size,
                levels=_levels([level]),
            )
        elif time_column is not None or horizon is not None or series_id is not None:
            raise UserInputError("--time-column, --horizon and --series-id need --task forecasting")

        settings = TrainSettings(
            data_path=data,
            target=target,
            started_at=started_at,
            task=task,
            metric=metric,
            time_limit=parse_duration(time_limit),
            max_trials=max_trials,
            seed=seed,
            allowed_models=_split(allowed_models),
            blocked_models=_split(blocked_models),
            validation=validation,
            validation_data=validation_data,
            test_data=test_data,
            weight_column=weight_column,
            ignore_columns=_split(ignore_columns) or [],
            column_purposes=parse_column_purposes(column_purpose or []),
            positive_label=positive_label,
            experiment=experiment,
            tracking_uri=tracking_uri,
            n_workers=workers,
            early_stopping=early_stopping,
            portfolio_path=portfolio,
            forecast=forecast,
        )
    except BaseException:
        if pool is not None:
            pool.shutdown(kill=True)
        raise

    events = ConsoleEvents(console, settings.time_limit)
    try:
        with events:
            result = train(settings, events, pool)  # train shuts the pool down when it ends
    except KeyboardInterrupt:
        errors.print("stopped: the finished trials, their code and the leaderboard are kept")
        raise typer.Exit(130) from None
    _print_summary(events, result, tracking_uri)


def _print_summary(events: Any, result: Any, tracking_uri: str | None) -> None:
    from glassml.engine import leaderboard
    from glassml.tracking import Tracker

    tracker = Tracker(tracking_uri)
    code_location = None
    if result.best is not None:
        artifact_uri = tracker.get_run(result.best.run_id).info.artifact_uri
        if artifact_uri.startswith("file://"):
            code_location = str(Path(urllib.parse.urlparse(artifact_uri).path) / "generated_code")
    events.summary(result, leaderboard(tracker, result.parent_run_id), code_location)


@app.command("leaderboard")
def leaderboard_command(
    run_id: Annotated[str | None, typer.Argument(help="train run id (default: the latest)")] = None,
    experiment: Annotated[str | None, typer.Option(help="latest train run of this experiment")] = None,
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    tracking_uri: TrackingOption = None,
) -> None:
    """Show the trials of a train run ranked by the primary metric."""
    from glassml.engine import leaderboard
    from glassml.tracking import Tracker

    if format not in ("table", "json"):
        raise UserInputError(f"--format {format!r} is not supported; use table or json")
    tracker = Tracker(tracking_uri)
    parent = tracker.get_run(run_id) if run_id else tracker.latest_parent_run(experiment)
    if parent is None:
        raise UserInputError("no train run found; run `glassml train DATA --target COLUMN` first")
    entries = leaderboard(tracker, parent.info.run_id)
    if format == "json":
        print(json.dumps(entries, indent=2))
        return
    console.print(leaderboard_table(entries, parent.data.params.get("metric")))


@app.command("experiments")
def experiments_command(tracking_uri: TrackingOption = None) -> None:
    """List the experiments in the store and their runs."""
    from glassml.tracking import Tracker

    tracker = Tracker(tracking_uri)
    table = Table("experiment", "id", "train runs", "runs", "last run", title=f"Experiments at {tracker.tracking_uri}")
    for experiment in tracker.list_experiments():
        if experiment["runs"] == 0 and experiment["name"] == "Default":
            continue  # MLflow's own empty experiment
        last = experiment["last_start_time"]
        table.add_row(
            str(experiment["name"]),
            str(experiment["experiment_id"]),
            str(experiment["parent_runs"]),
            str(experiment["runs"]),
            last.strftime("%Y-%m-%d %H:%M:%S UTC") if last else "",
        )
    console.print(table)


@app.command("code")
def code_command(
    run_id: Annotated[str, typer.Argument(help="trial run id, or a train run id for its best trial")],
    out: Annotated[Path, typer.Option("--out", help="folder to write script.py, the notebook and requirements.txt")],
    tracking_uri: TrackingOption = None,
) -> None:
    """Write a trial's script.py, script_run_notebook.ipynb and requirements.txt to a folder."""
    run = _trial_run(tracking_uri, run_id)
    folder = run.write_code(out)
    console.print(f"wrote the code of run {run.run_id} to {folder}/")
    validation = run.spec.validation.validation_path
    validation_option = f" --validation-data {validation}" if validation else ""
    console.print(
        f"  python {folder}/script.py --training-data {run.spec.data.path}{validation_option} --output-dir outputs"
    )


@app.command("verify")
def verify_command(
    run_id: Annotated[str, typer.Argument(help="trial run id, or a train run id for its best trial")],
    script: Annotated[
        Path | None, typer.Option(help="verify this copy of script.py instead of the recorded one")
    ] = None,
    data: Annotated[Path | None, typer.Option(help="the training table, when it has moved")] = None,
    tracking_uri: TrackingOption = None,
) -> None:
    """Run a trial's script in a clean process and check it reproduces the run."""
    from glassml.engine import verify

    run = _trial_run(tracking_uri, run_id)
    report = verify(run, script=script, data=data)
    for check in report.checks:
        mark = "[green]pass[/green]" if check.passed else "[red]FAIL[/red]"
        console.print(f"{mark} {check.name}: {check.detail}", highlight=False)
    if report.output:
        errors.print(report.output, markup=False, highlight=False)
    if not report.passed:
        console.print(f"run {run.run_id}: the script does NOT reproduce the run")
        raise typer.Exit(1)
    console.print(f"run {run.run_id}: verified, the script reproduces the run")


@app.command("predict")
def predict_command(
    run_id: Annotated[str, typer.Argument(help="trial run id, or a train run id for its best trial")],
    data: Annotated[Path, typer.Argument(help="rows to predict: CSV or Parquet")],
    out: Annotated[Path, typer.Option("--out", help="output file; .csv or .parquet")] = Path("predictions.parquet"),
    tracking_uri: TrackingOption = None,
) -> None:
    """Predict with a run's model, through its script's predict()."""
    import pandas as pd

    if out.suffix.lower() not in (".csv", ".parquet"):
        raise UserInputError(f"--out {str(out)!r} must end in .csv or .parquet")
    run = _trial_run(tracking_uri, run_id)
    if run.spec.target.task == "forecasting":
        raise UserInputError(f"run {run.run_id} is a forecaster; use `glassml forecast {run.run_id} --out FILE`")
    table = run.read_table(data)
    predictions = run.predict(table)
    output = pd.concat([table.reset_index(drop=True), predictions.reset_index(drop=True)], axis=1)
    if out.suffix.lower() == ".csv":
        output.to_csv(out, index=False)
    else:
        output.to_parquet(out, index=False)
    console.print(f"wrote {len(output)} predictions of run {run.run_id} to {out}")
    if run.spec.target.column in table.columns:
        scores = run.score(table)
        console.print("scores on these rows, which include the target column:")
        print(json.dumps(scores))  # plain print: a console would wrap the JSON at the terminal width


@app.command("forecast", context_settings={"allow_extra_args": True})
def forecast_command(
    context: typer.Context,
    run_id: Annotated[str, typer.Argument(help="forecasting trial run id, or a train run id for its best trial")],
    out: Annotated[Path, typer.Option("--out", help="output file; .csv or .parquet")] = Path("forecast.parquet"),
    data: Annotated[
        Path | None, typer.Option(help="recent history to forecast from, laid out like the training table")
    ] = None,
    future: Annotated[Path | None, typer.Option(help="known covariates of the forecast steps")] = None,
    level: Annotated[
        str | None, typer.Option(help="prediction interval levels in percent: --level 80 95 (default: the run's)")
    ] = None,
    tracking_uri: TrackingOption = None,
) -> None:
    """Forecast the next steps of every series with a forecasting run's model, through its script."""
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise UserInputError(f"--out {str(out)!r} must end in .csv or .parquet")
    if context.args and level is None:
        raise UserInputError(f"unexpected arguments {' '.join(context.args)!r}; see `glassml forecast --help`")
    levels = _levels([level, *context.args]) if level is not None else None
    run = _trial_run(tracking_uri, run_id)
    history = run.read_table(data) if data is not None else None
    future_table = run.read_table(future) if future is not None else None
    forecast = run.forecast(history, future_table, levels)
    if out.suffix.lower() == ".csv":
        forecast.to_csv(out, index=False)
    else:
        forecast.to_parquet(out, index=False)
    console.print(f"wrote {len(forecast)} forecast rows of run {run.run_id} to {out}")


def _levels(values: list[str]) -> list[int]:
    levels = []
    for value in values:
        for part in str(value).split(","):
            if not part.strip():
                continue
            try:
                levels.append(int(part))
            except ValueError:
                raise UserInputError(f"--level {part!r} is not a whole percentage such as 80 or 95") from None
    return levels


def _trial_run(tracking_uri: str | None, run_id: str) -> TrialRun:
    from glassml.engine import TrialRun
    from glassml.tracking import Tracker

    tracker = Tracker(tracking_uri)
    run = tracker.get_run(run_id)
    if run.data.tags.get("glassml.kind") == "train":
        best = run.data.tags.get("glassml.best_run_id")
        if not best:
            raise UserInputError(f"train run {run.info.run_id} has no finished trial")
        return TrialRun(tracker, best)
    return TrialRun(tracker, run.info.run_id)


def leaderboard_table(entries: list[dict[str, Any]], metric: str | None) -> Table:
    """Render leaderboard entries as a rich table."""
    names: list[str] = []
    for entry in entries:
        names += [name for name in entry["metrics"] if name not in names]
    if metric in names:
        names.remove(metric)
        names.insert(0, metric)
    table = Table("rank", "run id", "trial", "algorithm", "status", *names, "fit s", title="Leaderboard")
    for entry in entries:
        values = [f"{entry['metrics'][name]:.4f}" if name in entry["metrics"] else "" for name in names]
        fit = f"{entry['fit_seconds']:.1f}" if entry.get("fit_seconds") is not None else ""
        table.add_row(
            str(entry["rank"]), entry["run_id"], str(entry["trial"]), entry["algorithm"], entry["status"], *values, fit
        )
    return table


def main() -> None:
    """Run the command line; user errors exit with code 2 and Ctrl-C with 130, without a traceback."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    # "script" is the logger of the generated scripts, whose functions predict and score.
    for name in ("glassml", "script"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        app()
    except UserInputError as error:
        errors.print(f"error: {error}", markup=False, highlight=False)
        sys.exit(2)
