"""Shared fixtures: small real tables and specs built from them with the real profiling code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from glassml.data import detect_read_options, fingerprint, infer_target, load_reader, profile_columns
from glassml.engine._validation import plan_validation
from glassml.metrics import resolve_metric
from glassml.search import ALGORITHMS, algorithm_spec_from_params, portfolio_trials
from glassml.spec import TrialSpec

DATASETS = Path(__file__).parent / "datasets"

# name: (file, target)
TABLES = {
    "penguins": ("penguins_species.parquet", "species"),
    "telco": ("telco_churn_600.csv", "churn"),
    "diabetes": ("diabetes_progression.parquet", "target"),
    "hotel": ("hotel_room_rate_500.csv", "avg_price_per_room"),
    "reviews": ("food_review_sentiment_300.parquet", "score"),
}


@pytest.fixture
def table_path(tmp_path: Path):
    """Return a function that copies a bundled table into tmp_path and returns its path and target."""

    def copy(name: str) -> tuple[Path, str]:
        file, target = TABLES[name]
        destination = tmp_path / file
        shutil.copy(DATASETS / file, destination)
        return destination, target

    return copy


def build_spec(
    path: Path, target: str, algorithm: str, *, validation: str = "auto", trial_number: int = 1
) -> TrialSpec:
    """Build the spec the engine would build for `algorithm`'s first portfolio configuration."""
    read = detect_read_options(path)
    table = load_reader(read)(str(path))
    labelled = table[table[target].notna()]
    target_spec = infer_target(labelled[target])
    columns = profile_columns(table, target)
    y = labelled[target].astype(target_spec.dtype) if target_spec.class_labels is not None else labelled[target]
    n_features = sum(column.purpose != "ignore" for column in columns)
    params = portfolio_trials(
        [ALGORITHMS[algorithm]], task=target_spec.task, n_rows=len(labelled), n_features=n_features
    )[0]
    return TrialSpec(
        experiment="tests",
        run_id="0123456789abcdef0123456789abcdef",
        trial_number=trial_number,
        target=target_spec,
        read=read,
        columns=columns,
        data=fingerprint(path, rows=len(table), columns=table.shape[1]),
        validation=plan_validation(validation, None, target_spec, y, len(labelled)),
        algorithm=algorithm_spec_from_params(params, task=target_spec.task),
        metric=resolve_metric(target_spec.task, None),
        glassml_version="0.1.0",
        python_version="3.11",
    )


def _one_arrow_thread() -> None:
    # With Arrow's thread pool, pandas.read_parquet made about one Python process in four abort at
    # exit (pyarrow 25.0.1), which would fail the test run after every test passed.
    import pyarrow

    pyarrow.set_cpu_count(1)


_one_arrow_thread()
