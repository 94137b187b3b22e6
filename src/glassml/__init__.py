"""glassml: glass-box AutoML whose every model comes with the standalone script that trains it.

`AutoML` and `load_run` are imported on first use, so that worker processes, which need only
`glassml.engine._jobs`, do not import MLflow and Optuna.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["AutoML", "__version__", "load_run"]


def __getattr__(name: str) -> Any:
    if name in ("AutoML", "load_run"):
        from glassml import api

        return getattr(api, name)
    raise AttributeError(f"module 'glassml' has no attribute {name!r}")
