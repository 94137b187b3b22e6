"""Code generation: a trial's spec to script.py, its notebook and its requirements.

`render_script` is imported on first use because the data package renders its reading code with
this package's literal helpers, and the script renderer in turn embeds that reading code.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RenderedScript", "render_script"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from glassml.codegen import _script

        return getattr(_script, name)
    raise AttributeError(f"module 'glassml.codegen' has no attribute {name!r}")
