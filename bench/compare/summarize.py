#!/usr/bin/env python3
"""Write docs/benchmarks.md from the benchmark's results file. Standard library only.

    python3 bench/compare/summarize.py [--results bench/results/results.jsonl] [--out docs/benchmarks.md]

The page covers the records of one budget (--budget, default: the budget most records have). With several
seeds, a task's score is the mean over the seeds that finished. Forecasting tasks get a section of their own,
with glassml, the seasonal naive forecast, FLAML and AutoGluon as columns.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import statistics

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
REPOSITORY = os.path.dirname(BENCH)
FRAMEWORKS = ["glassml", "flaml", "autogluon", "lgbm_default"]
BASELINE = "lgbm_default"
# Column order and names of the forecasting tables.
FORECAST_FRAMEWORKS = {
    "glassml": "glassml",
    "seasonal_naive": "seasonal naive",
    "flaml": "FLAML",
    "autogluon": "AutoGluon",
}
FORECASTING = "forecasting"
FORECAST_METRICS = ("mase", "smape")
HIGHER_IS_BETTER = {
    "roc_auc": True,
    "accuracy": True,
    "r2": True,
    "log_loss": False,
    "rmse": False,
    "mase": False,
    "smape": False,
}
# glassml counts its time limit from process start to exit. The benchmark allows this factor over the budget.
GLASSML_TIME_TOLERANCE = 1.05

# Differences within these bands are ties. Each entry: (kind, size, why).
NOISE_BANDS = {
    "roc_auc": (
        "absolute",
        0.002,
        "time-budgeted searches with another seed move test AUC by a few 0.001 on these tasks (an estimate, "
        "not measured per task)",
    ),
    "accuracy": (
        "absolute",
        0.002,
        "as for roc_auc, and never less than one test row (1 / test rows), since accuracy moves in such steps",
    ),
    "log_loss": (
        "relative",
        0.01,
        "1 % of the better value: log loss has no fixed scale, and its seed-to-seed noise grows with its size",
    ),
    "rmse": ("relative", 0.01, "1 % of the better value: RMSE is in the target's unit, so only a ratio compares"),
    "r2": (
        "absolute",
        0.005,
        "R² on test sets of a few hundred rows moves more between seeds than AUC does (an estimate)",
    ),
    "mase": ("relative", 0.01, "1 % of the better value: MASE is a ratio, and its noise grows with its size"),
    "smape": ("relative", 0.01, "1 % of the better value, as for MASE"),
}


def tie_band(metric: str, first: float, second: float, n_test: int | None) -> float:
    """Return the largest difference between two scores of `metric` that still counts as a tie."""
    kind, size, _ = NOISE_BANDS[metric]
    if kind == "relative":
        better = max(first, second) if HIGHER_IS_BETTER[metric] else min(first, second)
        return size * abs(better)
    if metric == "accuracy" and n_test:
        return max(size, 1.0 / n_test)
    return size


def compare(metric: str, ours: float | None, theirs: float | None, n_test: int | None) -> str | None:
    """Return "win", "tie" or "loss" for `ours` against `theirs`. A failed run (None) loses to a finished one."""
    if ours is None and theirs is None:
        return None
    if ours is None:
        return "loss"
    if theirs is None:
        return "win"
    if abs(ours - theirs) <= tie_band(metric, ours, theirs, n_test):
        return "tie"
    better = ours > theirs if HIGHER_IS_BETTER[metric] else ours < theirs
    return "win" if better else "loss"


def normalized_scores(metric: str, scores: dict[str, float | None]) -> dict[str, float] | None:
    """Return (score - baseline) / (best - baseline) per framework, clipped to [0, 1].

    The ratio has the same sign convention for lower-is-better metrics, since numerator and denominator
    flip together. Returns None when the baseline failed or no framework differs from it. A failed
    framework gets 0.
    """
    baseline = scores.get(BASELINE)
    finished = [value for value in scores.values() if value is not None]
    if baseline is None or not finished:
        return None
    best = max(finished) if HIGHER_IS_BETTER[metric] else min(finished)
    if best == baseline:
        return None
    return {
        name: 0.0 if value is None else min(1.0, max(0.0, (value - baseline) / (best - baseline)))
        for name, value in scores.items()
    }


def read_records(path: str) -> list[dict]:
    latest = {}
    with open(path) as file:
        for line in file:
            if line.strip():
                record = json.loads(line)
                latest[(record["framework"], record["task"], record["budget_s"], record["seed"])] = record
    return list(latest.values())


class TaskResult:
    """The records of one framework on one task (one per seed), reduced to what the page shows."""

    def __init__(self, records: list[dict]):
        self.records = records
        finished = [r for r in records if r.get("status") == "ok" and r.get("metric_value") is not None]
        self.finished = finished
        self.score = statistics.mean(r["metric_value"] for r in finished) if finished else None
        fit_times = [r["fit_time_s"] for r in records if r.get("fit_time_s") is not None]
        self.fit_time = statistics.mean(fit_times) if fit_times else None
        self.memory = max((self._memory(r) for r in records), default=None)
        self.status = "ok" if finished else records[-1].get("status", "?")

    @staticmethod
    def _memory(record: dict) -> float:
        without_verify = (record.get("adapter_info") or {}).get("peak_rss_mb_without_verify")
        return without_verify if without_verify is not None else record.get("peak_rss_mb") or 0.0


def format_score(value: float | None, metric: str) -> str:
    if value is None:
        return "–"
    if metric == "rmse" and abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:.4f}"


def format_memory(megabytes: float | None) -> str:
    if megabytes is None:
        return "–"
    return f"{megabytes / 1024:.2f} GB" if megabytes >= 1024 else f"{megabytes:.0f} MB"


BOX_DRAWING = set("│┃└┘┌┐┏┓┗┛┡┩╇━─┬┴┼╭╮╯╰ ")


def log_ending(text: str, lines: int = 3, size: int = 300) -> str:
    """Return the last `lines` lines of a log that contain text, joined on one line, skipping table borders."""
    kept = [line.strip() for line in str(text).splitlines() if line.strip() and not set(line) <= BOX_DRAWING]
    return " ".join(" ".join(kept[-lines:]).split())[-size:].replace("|", "\\|")


class Page:
    """Builds the markdown page from the records of one budget."""

    def __init__(self, records: list[dict], suite: list[dict], budget: float, other_budgets: int):
        self.records = records
        self.budget = budget
        self.other_budgets = other_budgets
        grouped: dict[str, dict[str, list[dict]]] = collections.defaultdict(lambda: collections.defaultdict(list))
        for record in sorted(records, key=lambda r: r["seed"]):
            grouped[record["task"]][record["framework"]].append(record)
        order = [entry["name"] for entry in suite]
        all_tasks = [name for name in order if name in grouped] + sorted(set(grouped) - set(order))
        self.results = {t: {f: TaskResult(grouped[t][f]) for f in grouped[t]} for t in all_tasks}
        self.info = {t: next(iter(grouped[t].values()))[0] for t in all_tasks}
        # self.tasks and self.frameworks cover the tabular tasks, and the forecasting section has lists of its own.
        self.tasks = [t for t in all_tasks if self.info[t].get("task_type") != FORECASTING]
        self.frameworks = [name for name in FRAMEWORKS if any(name in grouped[t] for t in self.tasks)]
        self.forecast_tasks = [t for t in all_tasks if self.info[t].get("task_type") == FORECASTING]
        self.forecast_frameworks = [
            name for name in FORECAST_FRAMEWORKS if any(name in grouped[t] for t in self.forecast_tasks)
        ]
        self.lines: list[str] = []

    def scores(self, task: str, frameworks: list[str] | None = None) -> dict[str, float | None]:
        names = self.frameworks if frameworks is None else frameworks
        return {f: self.results[task][f].score for f in names if f in self.results[task]}

    def render(self) -> str:
        self.header()
        if self.tasks:
            self.summary()
            self.per_task()
        if self.forecast_tasks:
            self.forecasting()
        self.method()
        self.setup()
        self.failures()
        return "\n".join(self.lines).rstrip() + "\n"

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    # ------------------------------------------------------------ sections

    def header(self) -> None:
        seeds = sorted({r["seed"] for r in self.records})
        started = sorted(r["started"] for r in self.records if r.get("started"))
        dates = sorted({stamp[:10] for stamp in started})
        date_text = dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"
        seed_text = f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}"
        if self.tasks:
            self.add(
                "# Benchmark: glassml against FLAML, AutoGluon and LightGBM defaults",
                "",
                f"glassml, FLAML, AutoGluon and LightGBM with default parameters, each trained on the same "
                f"training split of {len(self.tasks)} public tabular tasks with a time budget of "
                f"**{self.budget:g} s** ({seed_text}). "
                f"The same code scores them on the same held-out test rows. Run on {date_text}.",
                "",
            )
        else:
            self.add(
                "# Benchmark: glassml against FLAML, AutoGluon and a seasonal naive forecast",
                "",
                f"Forecasting tasks only, with a time budget of **{self.budget:g} s** ({seed_text}). Run on "
                f"{date_text}.",
                "",
            )
        if self.forecast_tasks and self.tasks:
            self.add(
                f"The {len(self.forecast_tasks)} forecasting tasks compare glassml with a seasonal naive forecast, "
                "FLAML and AutoGluon-TimeSeries at the same budget: see [Forecasting](#forecasting).",
                "",
            )
        self.add(
            "Produced by `make bench` (the harness is `bench/compare/`, the tasks are `bench/suite.json`, the "
            "raw records `bench/results/results.jsonl`); this page is generated by `bench/compare/summarize.py`.",
            "",
        )
        if self.other_budgets:
            self.add(f"The results file holds {self.other_budgets} records at other budgets; they are not shown.", "")

    def summary(self) -> None:
        self.add("## Summary", "")
        if "glassml" in self.frameworks:
            self.win_rates()
        self.mean_normalized()
        self.overruns()

    def win_rates(self) -> None:
        self.add(
            "### glassml against each framework",
            "",
            "Per task, glassml's test score against the other framework's: a difference inside the noise band of "
            "the metric (see [How scores are compared](#how-scores-are-compared)) is a tie. Win rate = wins / "
            "tasks compared.",
            "",
            "| against | wins | ties | losses | tasks compared | win rate | win or tie |",
            "|---|---:|---:|---:|---:|---:|---:|",
        )
        for peer in [f for f in self.frameworks if f != "glassml"]:
            self.add_win_row(peer, peer, self.tasks)
        self.add("")

    def add_win_row(self, peer: str, label: str, tasks: list[str]) -> None:
        """Add the table row of glassml's wins, ties and losses against `peer` over `tasks`, if any compare."""
        counts = collections.Counter()
        for task in tasks:
            results = self.results[task]
            if "glassml" not in results or peer not in results:
                continue
            info = self.info[task]
            outcome = compare(info["metric"], results["glassml"].score, results[peer].score, info.get("n_test"))
            if outcome:
                counts[outcome] += 1
        total = sum(counts.values())
        if not total:
            return
        self.add(
            f"| {label} | {counts['win']} | {counts['tie']} | {counts['loss']} | {total} | "
            f"{counts['win'] / total:.0%} | {(counts['win'] + counts['tie']) / total:.0%} |"
        )

    def mean_normalized(self) -> None:
        per_framework = collections.defaultdict(list)
        left_out = []
        for task in self.tasks:
            normalized = normalized_scores(self.info[task]["metric"], self.scores(task))
            if normalized is None:
                left_out.append(task)
                continue
            for name, value in normalized.items():
                per_framework[name].append(value)
        self.add(
            "### Mean normalized score",
            "",
            "Per task, (score − LightGBM defaults) / (best framework − LightGBM defaults), clipped to [0, 1]: 1 is "
            "the best framework on the task, 0 is no better than LightGBM defaults. For log_loss and rmse the same "
            "ratio applies, since both differences change sign together. A failed run counts 0.",
            "",
            "| framework | mean normalized score | tasks |",
            "|---|---:|---:|",
        )
        for name in self.frameworks:
            values = per_framework.get(name)
            if values:
                self.add(f"| {name} | {statistics.mean(values):.3f} | {len(values)} |")
        if left_out:
            self.add(
                "",
                f"Left out, because LightGBM defaults failed or no framework differed from it: {', '.join(left_out)}.",
            )
        self.add("")

    def overruns(self) -> None:
        self.add(
            "### Fit time against the budget",
            "",
            "Fit time / budget over the tasks, as measured. glassml's fit time is the whole `glassml train` process "
            f"and must stay within {GLASSML_TIME_TOLERANCE:g} x budget; FLAML's and AutoGluon's are their `fit` "
            "calls. LightGBM defaults ignores the budget.",
            "",
            "| framework | median | max | runs over 1.0 x | runs over 1.05 x | runs |",
            "|---|---:|---:|---:|---:|---:|",
        )
        for name in self.frameworks:
            self.add_overrun_row(name, name, self.tasks)
        self.add("")

    def add_overrun_row(self, name: str, label: str, tasks: list[str]) -> None:
        """Add the table row of `name`'s fit time / budget over `tasks`, if it has a measured fit time."""
        ratios = [
            r["fit_time_s"] / self.budget
            for task in tasks
            for r in (self.results[task][name].records if name in self.results[task] else [])
            if r.get("fit_time_s") is not None
        ]
        if not ratios:
            return
        self.add(
            f"| {label} | {statistics.median(ratios):.2f} | {max(ratios):.2f} | "
            f"{sum(ratio > 1.0 for ratio in ratios)} | {sum(ratio > 1.05 for ratio in ratios)} | {len(ratios)} |"
        )

    def per_task(self) -> None:
        columns = " | ".join(self.frameworks)
        rule = "|---|---|---|---:|" + "---:|" * len(self.frameworks)
        self.add(
            "## Results per task",
            "",
            "### Test score",
            "",
            "↑ higher is better, ↓ lower is better. Bold: best on the task, and any score within the noise band of it.",
            "",
            f"| task | kind | metric | train rows | {columns} |",
            rule,
        )
        for task in self.tasks:
            info = self.info[task]
            metric = info["metric"]
            cells = self.score_cells(task, self.frameworks)
            arrow = "↑" if HIGHER_IS_BETTER[metric] else "↓"
            self.add(
                f"| {task} | {info['task_type']} | {metric} {arrow} | {info.get('n_train', '')} | {' | '.join(cells)} |"
            )

        self.add(
            "",
            "### Fit time and peak memory",
            "",
            f"Cell: fit seconds (fit time / budget) · peak resident memory of the run's process tree. Budget "
            f"{self.budget:g} s. glassml's memory leaves out its verify step.",
            "",
            f"| task | {columns} |",
            "|---|" + "---:|" * len(self.frameworks),
        )
        for task in self.tasks:
            self.add(f"| {task} | {' | '.join(self.time_cells(task, self.frameworks))} |")
        self.add("")
        if "glassml" in self.frameworks:
            self.glassml_runs(self.tasks, "### glassml's best run and `glassml verify`")

    def score_cells(self, task: str, frameworks: list[str]) -> list[str]:
        """Return the test score of each framework on `task`, bold when within the noise band of the best."""
        info = self.info[task]
        metric = info["metric"]
        finished = [v for v in self.scores(task, frameworks).values() if v is not None]
        best = None
        if finished:
            best = max(finished) if HIGHER_IS_BETTER[metric] else min(finished)
        cells = []
        for name in frameworks:
            result = self.results[task].get(name)
            if result is None:
                cells.append("")
            elif result.score is None:
                cells.append(result.status)
            else:
                text = format_score(result.score, metric)
                if len(finished) > 1 and compare(metric, result.score, best, info.get("n_test")) == "tie":
                    text = f"**{text}**"
                cells.append(text)
        return cells

    def time_cells(self, task: str, frameworks: list[str]) -> list[str]:
        """Return "fit seconds (fit / budget) · peak memory" of each framework on `task`."""
        cells = []
        for name in frameworks:
            result = self.results[task].get(name)
            if result is None or result.fit_time is None:
                cells.append("" if result is None else f"{result.status} · {format_memory(result.memory)}")
                continue
            ratio = result.fit_time / self.budget
            cells.append(f"{result.fit_time:.1f} s ({ratio:.2f}) · {format_memory(result.memory)}")
        return cells

    def glassml_runs(self, tasks: list[str], heading: str) -> None:
        self.add(
            heading,
            "",
            "The best run is the first row of `glassml leaderboard`; `glassml verify` reruns its script in a clean "
            "process and checks code, data, metrics and model. Exit code 0 means verified.",
            "",
            "| task | best learner | trials (finished) | verify exit code | verify s |",
            "|---|---|---:|---:|---:|",
        )
        passed = total = 0
        for task in tasks:
            result = self.results[task].get("glassml")
            if result is None:
                continue
            for record in result.records:
                extra = record.get("adapter_info") or {}
                code = extra.get("verify_exit_code")
                total += 1
                passed += code == 0
                trials = f"{extra.get('trials', '')} ({extra.get('finished_trials', '')})" if extra else ""
                shown = "not run" if code is None else str(code)
                seconds = extra.get("verify_seconds")
                self.add(
                    f"| {task} | {record.get('best_model') or '–'} | {trials} | {shown} | "
                    f"{'' if seconds is None else f'{seconds:.1f}'} |"
                )
        self.add("", f"`glassml verify` exited 0 on the best run of {passed} of {total} tasks.", "")

    # ------------------------------------------------------------ forecasting

    def forecasting(self) -> None:
        frameworks = self.forecast_frameworks
        labels = [FORECAST_FRAMEWORKS[name] for name in frameworks]
        self.add(
            "## Forecasting",
            "",
            f"{len(self.forecast_tasks)} public forecasting tasks, with the same budget of {self.budget:g} s. The last "
            "`horizon` points of each series are its test points and the points before them its training data. "
            "Scores are MASE or sMAPE per series, averaged over the series, and lower is better for both. A "
            f"difference within {NOISE_BANDS['mase'][1] * 100:g} % of the better value is a tie. The seasonal naive "
            "forecast repeats each series' last season and has no search.",
            "",
        )
        if "glassml" in frameworks:
            self.add(
                "### glassml against each framework, forecasting",
                "",
                "| against | wins | ties | losses | tasks compared | win rate | win or tie |",
                "|---|---:|---:|---:|---:|---:|---:|",
            )
            for name in frameworks:
                if name != "glassml":
                    self.add_win_row(name, FORECAST_FRAMEWORKS[name], self.forecast_tasks)
            self.add("")

        self.add(
            "### Test score, forecasting",
            "",
            "↓ lower is better. Bold: best on the task, and any score within 1 % of it.",
            "",
            f"| task | metric | series | horizon | train rows | {' | '.join(labels)} |",
            "|---|---|---:|---:|---:|" + "---:|" * len(frameworks),
        )
        for task in self.forecast_tasks:
            info = self.info[task]
            self.add(
                f"| {task} | {info['metric']} ↓ | {info.get('n_series', '')} | {info.get('horizon', '')} | "
                f"{info.get('n_train', '')} | {' | '.join(self.score_cells(task, frameworks))} |"
            )
        self.add("")
        warnings = self.forecast_warnings()
        if warnings:
            self.add(*warnings, "")

        self.add(
            "### Fit time and peak memory, forecasting",
            "",
            f"Cell: fit seconds (fit time / budget) · peak resident memory of the run's process tree. Budget "
            f"{self.budget:g} s. glassml's memory leaves out its verify step.",
            "",
            f"| task | {' | '.join(labels)} |",
            "|---|" + "---:|" * len(frameworks),
        )
        for task in self.forecast_tasks:
            self.add(f"| {task} | {' | '.join(self.time_cells(task, frameworks))} |")
        self.add(
            "",
            "Fit time / budget over the forecasting tasks. The seasonal naive forecast ignores the budget.",
            "",
            "| framework | median | max | runs over 1.0 x | runs over 1.05 x | runs |",
            "|---|---:|---:|---:|---:|---:|",
        )
        for name in frameworks:
            self.add_overrun_row(name, FORECAST_FRAMEWORKS[name], self.forecast_tasks)
        self.add("")
        if "glassml" in frameworks:
            self.glassml_runs(self.forecast_tasks, "### glassml's best run and `glassml verify`, forecasting")

    def forecast_warnings(self) -> list[str]:
        """Return a bullet per forecasting run that left test points unforecast or fell back on some series.

        Test points without a forecast are not scored, so such a run's score covers fewer points.
        """
        lines = []
        for task in self.forecast_tasks:
            for name in self.forecast_frameworks:
                result = self.results[task].get(name)
                for record in result.records if result else []:
                    missing = (record.get("metrics") or {}).get("missing_predictions")
                    fallbacks = (record.get("adapter_info") or {}).get("failed_series_last_value")
                    label = FORECAST_FRAMEWORKS[name]
                    if missing:
                        lines.append(f"- {label} on {task}: {missing} test points had no forecast and are not scored.")
                    if fallbacks:
                        lines.append(
                            f"- {label} on {task}: the fit or forecast of {fallbacks} series failed, so their "
                            "forecast repeats their last value."
                        )
        return lines

    def method(self) -> None:
        self.add(
            "## How scores are compared",
            "",
            "Scores are computed by `bench/compare/task_data.py` with scikit-learn on the test rows: binary roc_auc "
            "on the probability of the second class in sorted order, multiclass roc_auc one-vs-rest macro, log_loss "
            "on probabilities clipped at 1e-15 and renormalized.",
            "",
        )
        if self.forecast_tasks:
            self.add(
                "Forecasts are scored by the same file with numpy. MASE divides a series' mean absolute error by the "
                "mean absolute seasonal difference of its training part. Differences that touch a missing value are "
                "left out, the lag is 1 when the series has at most one season of known values, and the mean "
                "absolute difference of consecutive known values replaces a scale of 0. sMAPE is on the 0 to 200 "
                "scale, and both metrics are averaged over the series. The season length comes from the task's "
                "frequency as AutoGluon-TimeSeries defines it (monthly 12, quarterly 4, weekly 1, daily 7). A "
                "forecast is matched to a test point by "
                "its rank in time within the series, and test points without a forecast or with a missing target "
                "are not scored.",
                "",
            )
        self.add(
            "Noise bands (a difference within the band is a tie, not a win):",
            "",
            "| metric | band | why |",
            "|---|---|---|",
        )
        for metric, (kind, size, why) in NOISE_BANDS.items():
            if metric in FORECAST_METRICS and not self.forecast_tasks:
                continue
            band = f"{kind} {size:g}" if kind == "absolute" else f"relative {size:.0%}"
            if metric == "accuracy":
                band += ", at least 1 / test rows"
            self.add(f"| {metric} | {band} | {why} |")
        self.add(
            "",
            "A run that failed loses to one that finished; two failed runs are not compared.",
            "",
        )

    def setup(self) -> None:
        hosts = {json.dumps(r.get("host"), sort_keys=True) for r in self.records if r.get("host")}
        commands = sorted({r["command"] for r in self.records if r.get("command")})
        threads = sorted({r.get("threads") for r in self.records if r.get("threads")})
        versions = []
        names = self.frameworks + [name for name in self.forecast_frameworks if name not in self.frameworks]
        for name in names:
            found = sorted(
                {
                    r["framework_version"] + (f", Python {r['python_version']}" if r.get("python_version") else "")
                    for r in self.records
                    if r["framework"] == name and r.get("framework_version")
                }
            )
            versions += found
        self.add(
            "## Setup",
            "",
            f"- Command: `make bench BENCH_BUDGET={self.budget:g}`, which creates the frameworks' venvs under "
            "`bench/.venvs/` when they are missing (`bench/compare/setup_venvs.sh`), runs the driver and writes "
            "this page.",
        )
        if commands:
            self.add(
                "- Driver commands of the records shown: " + ", ".join(f"`{command}`" for command in commands) + "."
            )
        for host_text in sorted(hosts):
            host = json.loads(host_text)
            self.add(
                f"- Machine: {host.get('cpus')} cores ({host.get('cpu_model') or 'unknown CPU'}), "
                f"{host.get('mem_gb')} GiB RAM, {host.get('os', '')}."
            )
        self.add(
            f"- Versions: {'; '.join(versions)}.",
            f"- Runs one at a time; each framework gets {', '.join(map(str, threads))} threads "
            "(glassml runs its default number of worker processes, 2).",
        )
        if self.tasks:
            self.tabular_setup()
        if self.forecast_tasks:
            self.forecast_setup()
        self.add(
            "- Peak memory: the largest sum of resident memory over the run's process tree, sampled every 0.2 s. "
            "Pages shared between forked workers count once per process, so this is an upper bound.",
            "",
        )

    def tabular_setup(self) -> None:
        self.add(
            "- glassml: `glassml train TRAIN --target T --time-limit BUDGET --seed S --task KIND --metric METRIC "
            "--portfolio bench/portfolio/loto/TASK.json`, then `glassml predict` with the leaderboard's first run. "
            "The portfolio file is the one `make bench` passes by default: learned by `bench/portfolio/learn.py` "
            "on the other tasks only, so no configuration glassml tries first was learned on the task it is scored "
            "on.",
            "- FLAML: `AutoML.fit(task, metric, time_budget=BUDGET, n_jobs=THREADS, seed)`, other settings at their "
            "defaults (so `retrain_full=True`: the final refit can run past the budget).",
            "- AutoGluon: `TabularPredictor(problem_type, eval_metric).fit(time_limit=BUDGET, "
            'presets="medium_quality", num_cpus=THREADS)`.',
            "- LightGBM defaults: `LGBMClassifier()` / `LGBMRegressor()`; text columns become pandas categoricals, "
            "datetimes seconds since the epoch.",
            "- Split: random 80 % / 20 % with the task's own seed, stratified for classification.",
        )

    def forecast_setup(self) -> None:
        self.add(
            "- Forecasting, glassml: `glassml train TRAIN --task forecasting --target target --time-column timestamp "
            "--series-id item_id --horizon H --freq F --metric METRIC --time-limit BUDGET --seed S`, without the "
            "portfolio, then `glassml forecast` with the leaderboard's first run.",
            "- Forecasting, seasonal naive: each series repeats its last season, on its regular time grid with gaps "
            "interpolated.",
            '- Forecasting, FLAML: `AutoML.fit(task="ts_forecast", period=H, metric="mae", eval_method="holdout", '
            "time_budget)`, one series per call, since FLAML fits one series at a time: the budget is split evenly "
            "over the series (at least 0.5 s each), and each series is put on its regular time grid with gaps "
            "interpolated. Prophet is not installed, so FLAML's search has no Prophet learner.",
            "- Forecasting, AutoGluon: `TimeSeriesPredictor(prediction_length=H, freq, eval_metric=MASE or SMAPE, "
            'eval_metric_seasonal_period=m).fit(time_limit=BUDGET, presets="medium_quality")` without the '
            "pretrained models (Chronos, Toto and others), which load their weights from the Hugging Face Hub. "
            "medium_quality's own list includes Chronos-2-small and Toto-2, so these numbers are AutoGluon without "
            "them.",
            "- Forecasting split: the last `horizon` points of each series are its test points.",
        )

    def failures(self) -> None:
        rows = []
        for task in self.tasks + self.forecast_tasks:
            frameworks = self.frameworks if task in self.tasks else self.forecast_frameworks
            for name in frameworks:
                result = self.results[task].get(name)
                for record in result.records if result else []:
                    if record.get("status") != "ok":
                        rows.append(
                            f"| {task} | {name} | {record.get('status')} | {record.get('exit_code', '')} | "
                            f"{log_ending(record.get('error') or '')} |"
                        )
                    verify_tail = (record.get("adapter_info") or {}).get("verify_output_tail")
                    if verify_tail:
                        rows.append(f"| {task} | {name} | verify failed | | {log_ending(verify_tail)} |")
        if rows:
            self.add(
                "## Failures",
                "",
                "| task | framework | status | exit code | end of the log |",
                "|---|---|---|---:|---|",
                *rows,
                "",
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=os.path.join(BENCH, "results", "results.jsonl"))
    parser.add_argument("--suite", default=os.path.join(BENCH, "suite.json"))
    parser.add_argument("--out", default=os.path.join(REPOSITORY, "docs", "benchmarks.md"))
    parser.add_argument("--budget", type=float, help="budget in seconds to show (default: the most common one)")
    args = parser.parse_args()
    records = read_records(args.results)
    if not records:
        raise SystemExit(f"{args.results} contains no records; run `make bench` first")
    budget = args.budget
    if budget is None:
        budget = collections.Counter(r["budget_s"] for r in records).most_common(1)[0][0]
    records_at_budget = [r for r in records if r["budget_s"] == budget]
    if not records_at_budget:
        raise SystemExit(f"{args.results} contains no records at budget {budget:g} s; pass another --budget")
    with open(args.suite) as file:
        suite = json.load(file)
    page = Page(records_at_budget, suite, budget, len(records) - len(records_at_budget))
    with open(args.out, "w") as file:
        file.write(page.render())
    print(f"wrote {args.out} ({len(records_at_budget)} records, budget {budget:g} s, {dt.date.today().isoformat()})")


if __name__ == "__main__":
    main()
