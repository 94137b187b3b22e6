"""Tests of portfolio files: reading them and fitting their configurations into a table's space."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glassml.errors import UserInputError
from glassml.search import ALGORITHMS
from glassml.search._learned import LEARNED_PORTFOLIO, fit_portfolio, read_portfolio
from glassml.search._space import algorithm_spec_from_params

LIGHTGBM = {
    "n_estimators": 5000,
    "learning_rate": 0.05,
    "num_leaves": 1024,
    "min_child_samples": 20,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "reg_alpha": 0.001,
    "reg_lambda": 1.0,
}


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "portfolio.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_read_portfolio_entries(tmp_path: Path) -> None:
    path = _write(tmp_path, {"configs": [{"algorithm": "lightgbm", "params": LIGHTGBM}]})

    assert read_portfolio(path) == [{"algorithm": "lightgbm", "params": LIGHTGBM}]


def test_read_portfolio_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="portfolio file .*absent.json' not found"):
        read_portfolio(tmp_path / "absent.json")


def test_read_portfolio_malformed(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{configs: []}", encoding="utf-8")

    with pytest.raises(UserInputError, match="is not valid JSON"):
        read_portfolio(bad)


def test_read_portfolio_wrong_shape(tmp_path: Path) -> None:
    path = _write(tmp_path, {"configs": [{"algorithm": "lightgbm"}]})

    with pytest.raises(UserInputError, match='each entry an object with "algorithm"'):
        read_portfolio(path)


def test_fit_portfolio_clips_to_bounds() -> None:
    configs = [{"algorithm": "lightgbm", "params": LIGHTGBM}]

    [params] = fit_portfolio(configs, [ALGORITHMS["lightgbm"]], task="binary", n_rows=300, n_features=5)

    spec = algorithm_spec_from_params(params, task="binary")
    assert spec.params["n_estimators"] == 300  # at most one round per row, at least 200
    assert spec.params["num_leaves"] == 30  # up to one leaf per 10 rows
    assert spec.params["learning_rate"] == 0.05


def test_fit_portfolio_filters_task_and_learner() -> None:
    configs = [
        {"algorithm": "lightgbm", "tasks": ["regression"], "params": LIGHTGBM},
        {"algorithm": "linear", "params": {"C": 1.0, "class_weight": None}},
    ]

    fitted = fit_portfolio(configs, [ALGORITHMS["lightgbm"]], task="binary", n_rows=1000, n_features=5)

    assert fitted == []


def test_fit_portfolio_drops_unknown_params() -> None:
    configs = [{"algorithm": "lightgbm", "params": {**LIGHTGBM, "max_bin": 63}}]

    assert fit_portfolio(configs, [ALGORITHMS["lightgbm"]], task="binary", n_rows=1000, n_features=5) == []


def test_fit_portfolio_removes_duplicates() -> None:
    configs = [{"algorithm": "lightgbm", "params": LIGHTGBM}, {"algorithm": "lightgbm", "params": LIGHTGBM}]

    fitted = fit_portfolio(configs, [ALGORITHMS["lightgbm"]], task="binary", n_rows=1000, n_features=5)

    assert len(fitted) == 1


def test_shipped_portfolio_fits_every_task() -> None:
    if not LEARNED_PORTFOLIO.exists():
        pytest.skip("no learned portfolio is shipped")
    configs = read_portfolio(LEARNED_PORTFOLIO)

    for task in ("binary", "multiclass", "regression"):
        fitted = fit_portfolio(configs, list(ALGORITHMS.values()), task=task, n_rows=2000, n_features=12)
        assert fitted, f"no learned configuration applies to {task}"


def test_fit_portfolio_warns_unknown_learner(caplog: pytest.LogCaptureFixture) -> None:
    configs = [{"algorithm": "nosuch", "params": {}}]

    with caplog.at_level("WARNING", logger="glassml.search._learned"):
        fitted = fit_portfolio(configs, [ALGORITHMS["lightgbm"]], task="binary", n_rows=1000, n_features=5)

    assert fitted == []
    assert "unknown algorithm 'nosuch'" in caplog.text
