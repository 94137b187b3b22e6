"""Seasonal naive forecast, the baseline of the forecasting tasks. The budget is ignored.

Each series' forecast repeats its last season: the value at T + h is the value at T + h - k * m for the
smallest k >= 1 that lands in the history, with m = task.json's `season_length`. A series shorter than m
repeats its last value. The history is first put on the grid of the task's `freq` with its gaps filled
(`regular_series`). Runs in the project's `.venv`, since it needs only numpy and pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _common import Timer, load, parse_args, regular_series, write


def seasonal_naive(history: np.ndarray, season: int, horizon: int) -> np.ndarray:
    """Return `horizon` values that repeat the last `season` values of `history` (the last value if shorter)."""
    period = season if len(history) >= season else 1
    last_season = history[-period:]
    return np.array([last_season[step % period] for step in range(horizon)])


def main() -> None:
    args = parse_args()
    task, train, test_x = load(args.task_dir)
    if task["task"] != "forecasting":
        raise SystemExit(f"seasonal_naive handles forecasting tasks only, not {task['task']!r}")
    horizon, season = int(task["horizon"]), int(task["season_length"])
    frames = []
    with Timer() as fit_timer:
        for item, rows in train.groupby("item_id", sort=False):
            history = regular_series(rows, task.get("freq")).to_numpy(float)
            forecast = seasonal_naive(history, season, horizon)
            test_timestamps = test_x[test_x["item_id"] == item].sort_values("step")["timestamp"].to_numpy()
            frames.append(
                pd.DataFrame(
                    {
                        "item_id": item,
                        "timestamp": test_timestamps[:horizon],
                        "prediction": forecast[: len(test_timestamps)],
                    }
                )
            )
    write(
        args.out_dir,
        pd.concat(frames, ignore_index=True),
        {
            "fit_time_s": fit_timer.seconds,
            "predict_time_s": 0.0,
            "best_model": f"SeasonalNaive(m={season})",
            "framework_version": f"seasonal naive (numpy {np.__version__}, pandas {pd.__version__})",
            "preset": "no search",
        },
    )


if __name__ == "__main__":
    main()
