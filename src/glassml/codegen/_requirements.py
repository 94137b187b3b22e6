"""Render `requirements.txt`: the installed versions of the distributions that generated code imports."""

from __future__ import annotations

import functools
import platform
import re
import sys
from collections.abc import Iterable
from importlib import metadata

# Distributions pinned for every script even when it does not import them: they change numbers
# (numpy, scipy, threadpoolctl, scikit-learn), how a table is read (pyarrow, pandas) or how
# model.pkl is written and loaded (joblib).
ALWAYS_PINNED: tuple[str, ...] = ("joblib", "numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "threadpoolctl")

DEFAULT_HEADER = (
    "Packages that script.py and script_run_notebook.ipynb need, pinned to the versions they were generated with\n"
    "(Python {python_version}). Install them with: python -m pip install -r requirements.txt"
)


def render_requirements(modules: Iterable[str], *, header: str | None = None) -> str:
    """Render pinned `name==version` lines for the distributions that provide the given modules.

    Parameters
    ----------
    modules : iterable of str
        Top-level import names such as "sklearn" or "xgboost". Standard-library modules are
        skipped. Each other module maps to the installed distributions that provide it
        ("sklearn" to scikit-learn, "xgboost" to xgboost-cpu where that is installed).
    header : str or None, default=None
        Text of the comment at the top, one comment line per line; None gives a header that
        names the Python version and the install command.

    Returns
    -------
    str
        Comment lines, then one line per distribution sorted by name, the `ALWAYS_PINNED`
        distributions included.

    Raises
    ------
    ValueError
        When a module is glassml itself or no installed distribution provides it.
    """
    distributions = {_normalize(name): name for name in ALWAYS_PINNED}
    providers = _packages_distributions()
    for module in sorted(set(modules)):
        for name in _distributions_of(module, providers):
            distributions.setdefault(_normalize(name), name)

    if header is None:
        header = DEFAULT_HEADER.format(python_version=platform.python_version())
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for key in sorted(distributions):
        name = distributions[key]
        lines.append(f"{name}=={_installed_version(name)}")
    return "\n".join(lines) + "\n"


@functools.cache
def _packages_distributions() -> dict[str, list[str]]:
    # Scanning every installed distribution takes about 0.1 s; a run renders one file per trial.
    return metadata.packages_distributions()


def _distributions_of(module: str, providers: dict[str, list[str]]) -> list[str]:
    top_level = module.split(".")[0]
    if top_level == "glassml":
        raise ValueError(
            "generated code must not import glassml: it has to run where only requirements.txt is installed"
        )
    if top_level in sys.stdlib_module_names:
        return []
    names = providers.get(top_level)
    if not names:
        raise ValueError(
            f"no installed distribution provides the module {top_level!r}: install the package that provides it "
            "in this Python, or remove the import from the generated code"
        )
    # A namespace package can come from several distributions, and each of them is pinned.
    return sorted(set(names))


def _installed_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError as error:
        raise ValueError(
            f"the distribution {name!r} is not installed in {sys.executable}, so its version cannot be pinned: "
            f"install it with `python -m pip install {name}`"
        ) from error


def _normalize(name: str) -> str:
    # The name normalization of PEP 503: "Scikit_Learn" and "scikit-learn" are one distribution.
    return re.sub(r"[-_.]+", "-", name).lower()
