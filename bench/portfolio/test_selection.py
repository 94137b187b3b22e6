"""Tests of the greedy portfolio selection: `.venv/bin/python -m pytest -q bench/portfolio/test_selection.py`."""

from __future__ import annotations

import pytest
from selection import portfolio_regret, regret_table, select_greedy, task_regrets


def test_task_regrets_normalizes_by_spread() -> None:
    regrets = task_regrets({"a": 0.9, "b": 0.8, "c": 0.5, "failed": None})

    assert regrets["a"] == 0.0
    assert regrets["b"] == pytest.approx(0.25)
    assert regrets["c"] == 1.0
    assert regrets["failed"] == 1.0


def test_task_regrets_equal_scores() -> None:
    regrets = task_regrets({"a": 0.7, "b": 0.7, "failed": None})

    assert regrets == {"a": 0.0, "b": 0.0, "failed": 1.0}


def test_task_regrets_none_finished() -> None:
    assert task_regrets({"a": None, "b": float("nan")}) == {"a": 1.0, "b": 1.0}


def test_regret_table_normalizes_over_pool() -> None:
    scores = {"t": {"a": 1.0, "b": 0.5, "outside": 0.0}}

    regrets = regret_table(scores, ["t"], ["a", "b"])

    assert regrets == {"t": {"a": 0.0, "b": 1.0}}


def test_regret_table_missing_counts_failed() -> None:
    regrets = regret_table({"t": {"a": 1.0, "b": 0.5}}, ["t"], ["a", "b", "missing"])

    assert regrets["t"]["missing"] == 1.0


def test_portfolio_regret_takes_best_member() -> None:
    regrets = {"t1": {"a": 0.0, "b": 1.0}, "t2": {"a": 0.5, "b": 0.0}}

    assert portfolio_regret(regrets, ["a"]) == pytest.approx(0.25)
    assert portfolio_regret(regrets, ["a", "b"]) == 0.0
    assert portfolio_regret(regrets, []) == 1.0


def test_select_greedy_complements_first_pick() -> None:
    # "generalist" is second best everywhere; the specialists are each best on one task.
    regrets = {
        "t1": {"generalist": 0.1, "spec1": 0.0, "spec2": 1.0, "spec3": 1.0},
        "t2": {"generalist": 0.1, "spec1": 1.0, "spec2": 0.0, "spec3": 1.0},
        "t3": {"generalist": 0.1, "spec1": 1.0, "spec2": 1.0, "spec3": 0.0},
    }
    costs = {"generalist": 1.0, "spec1": 1.0, "spec2": 1.0, "spec3": 1.0}

    selected = select_greedy(regrets, costs, 2)

    assert selected[0] == "generalist"
    assert selected[1] in {"spec1", "spec2", "spec3"}


def test_select_greedy_breaks_ties_by_cost() -> None:
    regrets = {"t": {"slow": 0.0, "fast": 0.0, "bad": 1.0}}
    costs = {"slow": 10.0, "fast": 1.0, "bad": 0.1}

    assert select_greedy(regrets, costs, 1) == ["fast"]
    # Once the regret is 0, the cheapest candidate left comes next.
    assert select_greedy(regrets, costs, 2) == ["fast", "bad"]


def test_select_greedy_size_limits() -> None:
    regrets = {"t": {"a": 0.0, "b": 1.0}}
    costs = {"a": 1.0, "b": 1.0}

    assert select_greedy(regrets, costs, 5) == ["a", "b"]
    assert select_greedy(regrets, costs, 0) == []
    with pytest.raises(ValueError, match="invalid size"):
        select_greedy(regrets, costs, -1)
