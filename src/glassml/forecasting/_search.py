"""The search over forecasters: the same loop as for tables, with forecasting specs, scripts and jobs."""

from __future__ import annotations

import importlib
import platform
import threading
from typing import Any

import optuna

import glassml
from glassml.codegen._script import RenderedScript
from glassml.engine._search import Search, TrialRecord
from glassml.forecasting._forecasters import ENSEMBLE, FORECASTERS, Forecaster
from glassml.forecasting._notebook import render_forecast_notebook
from glassml.forecasting._script import display_name, render_forecast_script
from glassml.spec import AlgorithmSpec, ForecastSpec

# A learner's refit fits three times: twice for the conformal intervals' backtests and once on all data.
REFIT_FITS = 3.0
# The ensemble averages the best configuration of up to this many forecasters (one learner at most),
# each within this factor of the best backtest loss.
ENSEMBLE_SIZE = 3
ENSEMBLE_TOLERANCE = 1.3


class ForecastSearch(Search):
    """Runs forecasting trials: each one backtests a forecaster through its rendered script."""

    evaluate_job = "glassml.forecasting._jobs:evaluate"
    refit_job = "glassml.forecasting._jobs:refit"
    _ensemble_started = False
    _portfolio_size = 0

    def _launch(self) -> bool:
        """Start the ensemble of the best forecasters once the time left only just pays for it, else a trial."""
        if not self._ensemble_started:
            members = self._ensemble_members()
            if len(members) >= 2 and self._ensemble_due(members):
                self._ensemble_started = True
                config = AlgorithmSpec(
                    ENSEMBLE, {"members": [{"name": m.algorithm, "params": m.spec.algorithm.params} for m in members]}
                )
                self._start(self._study.ask(), config)
                return True
        return super()._launch()

    def _ensemble_members(self) -> list[TrialRecord]:
        best: dict[str, TrialRecord] = {}
        for record in self.trials:
            if record.loss is None or record.algorithm == ENSEMBLE:
                continue
            if record.algorithm not in best or record.loss < (best[record.algorithm].loss or 0.0):
                best[record.algorithm] = record
        ranked = sorted(best.values(), key=lambda record: record.loss or 0.0)
        members: list[TrialRecord] = []
        learner = False
        for record in ranked:
            is_learner = FORECASTERS[record.algorithm].library == "mlforecast"
            if (is_learner and learner) or not _close_enough(record.loss, ranked[0].loss):
                continue
            learner = learner or is_learner
            members.append(record)
        return members[:ENSEMBLE_SIZE]

    def _ensemble_due(self, members: list[TrialRecord]) -> bool:
        if self.budget.time_limit is None:
            limit = self.settings.max_trials or 0
            return len(self.trials) + 1 >= limit
        # Members fitted together cost about the sum of their trials; a replacement worker may need seconds to
        # start. Before the portfolio has run, only a deadline that would leave no later chance starts it.
        cost = sum(member.seconds or 0.0 for member in members)
        left = self.budget.search_time_left()
        portfolio_done = len(self.trials) >= self._portfolio_size
        return left <= 1.2 * cost + 3.0 or (portfolio_done and left <= 2.5 * cost + 5.0)

    def _portfolio(self, plan: Any, algorithms: list[Forecaster]) -> list[dict[str, Any]]:  # type: ignore[override]
        portfolio = [
            {"forecaster": forecaster.name, **values}
            for forecaster in algorithms
            for values in forecaster.portfolio(plan.series)
        ]
        self._portfolio_size = len(portfolio)
        return portfolio

    def _suggest(self, trial: optuna.trial.Trial) -> AlgorithmSpec:
        name = trial.suggest_categorical("forecaster", [forecaster.name for forecaster in self._algorithms])
        return AlgorithmSpec(str(name), FORECASTERS[str(name)].suggest(trial, self._plan.series))

    def _display_name(self, name: str) -> str:
        return "ensemble" if name == ENSEMBLE else FORECASTERS[name].display_name

    def _make_spec(self, run_id: str, number: int, config: AlgorithmSpec) -> ForecastSpec:
        plan = self._plan
        return ForecastSpec(
            experiment=self.settings.experiment,
            run_id=run_id,
            trial_number=number,
            target=plan.target,
            read=plan.read,
            data=plan.data,
            series=plan.series,
            validation=plan.validation,
            algorithm=config,
            metric=plan.metric,
            seed=self.settings.seed,
            n_threads=self.settings.n_threads,
            glassml_version=glassml.__version__,
            python_version=platform.python_version(),
        )

    def _render(self, spec: ForecastSpec) -> RenderedScript:  # type: ignore[override]
        rendered = render_forecast_script(spec)
        rendered.modules.add("matplotlib")  # the notebook plots the forecasts
        return rendered

    def _notebook(self, record: TrialRecord) -> str:
        spec = record.spec
        return render_forecast_notebook(
            title=f"Trial {record.number}: {display_name(spec)}",
            training_data=spec.data.path,
        )

    def run(self, tracker: Any, parent_run_id: str, plan: Any, algorithms: list[Any]) -> None:
        # When the search deadline ends every worker's trial, the parent refits the best forecaster itself:
        # import the forecasting libraries in the background meanwhile, so that refit does not wait for them.
        threading.Thread(target=_import_forecasting_libraries, daemon=True).start()
        super().run(tracker, parent_run_id, plan, algorithms)

    def _refit_extra_seconds(self) -> float:
        # A refit in the parent reads and prepares the training table again.
        return 2.0 * self._plan.prepare_seconds + 1.0

    def _fits_per_trial(self, spec: ForecastSpec) -> float:  # type: ignore[override]
        windows = float(spec.validation.n_folds or 1)
        names = [m["name"] for m in spec.algorithm.params["members"]] if spec.algorithm.name == ENSEMBLE else []
        if any(FORECASTERS[name].library == "mlforecast" for name in [*names, spec.algorithm.name] if name != ENSEMBLE):
            return windows / REFIT_FITS
        return windows

    def _rounds_param(self, name: str) -> str | None:
        return None


def _close_enough(loss: float | None, best: float | None) -> bool:
    if loss is None or best is None:
        return False
    return loss <= best + abs(best) * (ENSEMBLE_TOLERANCE - 1.0)


def _import_forecasting_libraries() -> None:
    for module in ("statsforecast.models", "mlforecast", "mlforecast.utils", "lightgbm", "sklearn.linear_model"):
        try:
            importlib.import_module(module)
        except ImportError:  # the refit reports it, if it needs the module
            return
