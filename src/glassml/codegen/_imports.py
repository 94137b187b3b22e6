"""Collect the imports of a generated script and render them in the order isort gives."""

from __future__ import annotations

import sys
from collections import defaultdict


class Imports:
    """The import statements of one generated module.

    `add("numpy", alias="np")` records `import numpy as np`; `add_from("sklearn.pipeline",
    "Pipeline")` records `from sklearn.pipeline import Pipeline`.
    """

    def __init__(self) -> None:
        self._modules: dict[str, str | None] = {}
        self._names: dict[str, set[str]] = defaultdict(set)

    def add(self, module: str, alias: str | None = None) -> None:
        self._modules[module] = alias

    def add_from(self, module: str, *names: str) -> None:
        self._names[module].update(names)

    def add_line(self, line: str) -> None:
        """Record a full `import x [as y]` or `from x import a, b` line."""
        words = line.split()
        if words[0] == "import":
            self.add(words[1], words[3] if len(words) == 4 else None)
        else:
            self.add_from(words[1], *(name.strip(",") for name in words[3:]))

    @property
    def top_level_modules(self) -> set[str]:
        """Top-level package names, for pinning requirements."""
        modules = set(self._modules) | set(self._names)
        return {module.split(".")[0] for module in modules if module != "__future__"}

    def render(self) -> str:
        sections: dict[int, list[str]] = {0: [], 1: [], 2: []}
        for module, alias in self._modules.items():
            line = f"import {module}" if alias is None else f"import {module} as {alias}"
            sections[_section(module)].append(line)
        plain_count = {section: len(lines) for section, lines in sections.items()}
        for module, names in self._names.items():
            ordered = sorted(names, key=_member_key)
            sections[_section(module)].append(f"from {module} import {', '.join(ordered)}")
        blocks = []
        for section in (0, 1, 2):
            lines = sections[section]
            plain = sorted(lines[: plain_count[section]], key=_module_key)
            from_lines = sorted(lines[plain_count[section] :], key=_module_key)
            if lines:
                blocks.append("\n".join(plain + from_lines))
        return "\n\n".join(blocks)


def _section(module: str) -> int:
    top = module.split(".")[0]
    if top == "__future__":
        return 0
    return 1 if top in sys.stdlib_module_names else 2


def _module_key(line: str) -> str:
    return line.split()[1].lower()


def _member_key(name: str) -> tuple[int, str]:
    # isort's order by type: CONSTANTS, then Classes, then functions and modules.
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)
