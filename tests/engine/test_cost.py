"""Tests of the cost model that keeps configurations the time left cannot pay for from starting."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from glassml.engine import Events, TrainSettings
from glassml.engine._budget import Budget
from glassml.engine._cost import CostModel, trial_size
from glassml.engine._search import MAX_SKIPPED_IN_A_ROW, Search, _config_key, _create_study
from glassml.search import ALGORITHMS, portfolio_trials


def test_trial_size_rounds_or_trees() -> None:
    assert trial_size({"n_estimators": 300, "learning_rate": 0.1}) == 300.0
    assert trial_size({"max_iter": 120}) == 120.0
    assert trial_size({"C": 1.0}) == 1.0


def test_trial_size_ignores_flags_and_zero() -> None:
    assert trial_size({"n_estimators": True}) == 1.0
    assert trial_size({"n_estimators": 0}) == 1.0


def test_cost_model_unknown_learner() -> None:
    assert CostModel().predict("lightgbm", 100.0) is None


def test_cost_model_scales_with_size() -> None:
    costs = CostModel()
    costs.observe("lightgbm", 100.0, 2.0)
    costs.observe("lightgbm", 200.0, 4.0)
    costs.observe("lightgbm", 100.0, 9.0)  # an outlier moves the median less than the mean

    assert costs.predict("lightgbm", 400.0) == pytest.approx(8.0)
    assert costs.predict("xgboost", 400.0) is None


def _search_with_costs(seconds_per_round: float, time_limit: float) -> Search:
    settings = TrainSettings(
        data_path=Path(__file__), target="y", started_at=time.time(), time_limit=time_limit, n_workers=1
    )
    search = Search(settings, Budget(time.time(), time_limit), Events())
    search._plan = SimpleNamespace(target=SimpleNamespace(task="binary"), n_rows=1000, n_features=5)
    search._study = _create_study(seed=0)
    search._algorithms = [ALGORITHMS["lightgbm"]]
    search.costs.observe("lightgbm", 1.0, seconds_per_round)
    return search


def test_search_skips_configs_too_slow() -> None:
    # Every LightGBM configuration has at least 20 rounds, so at 1 s per round none fits in 60 s.
    search = _search_with_costs(seconds_per_round=1.0, time_limit=60.0)

    assert search._ask() is None
    assert search.skipped_configs == MAX_SKIPPED_IN_A_ROW


def test_search_starts_configs_that_fit() -> None:
    search = _search_with_costs(seconds_per_round=1e-4, time_limit=60.0)

    asked = search._ask()

    assert asked is not None
    assert asked[1].name == "lightgbm"
    assert search.skipped_configs == 0


def test_search_repeated_config_not_run() -> None:
    search = _search_with_costs(seconds_per_round=1e-4, time_limit=60.0)
    [params] = portfolio_trials([ALGORITHMS["lightgbm"]], task="binary", n_rows=1000, n_features=5)[:1]
    search._study.enqueue_trial(params)
    search._study.enqueue_trial(params)
    first = search._ask()
    assert first is not None
    search._config_losses[_config_key(first[1])] = 0.25

    second = search._ask()

    assert second is not None
    assert second[1] != first[1]
    assert search.repeated_configs == 1
    assert search._study.trials[1].value == 0.25
