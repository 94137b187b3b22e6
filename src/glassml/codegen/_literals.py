"""Render Python values as source code that `ruff format` leaves unchanged.

Data reaches generated code only through these functions: a column name or value becomes a
string literal built from `repr()`, and a comment gets a one-line escaped form.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from typing import Any

LINE_LENGTH = 120
INDENT = "    "


def width(line: str) -> int:
    """Return the display width of a line as ruff measures it: wide East Asian characters count 2.

    Combining marks count 0. Ruff's exact rules come from the Rust unicode-width crate; this covers
    the cases that decide whether a collection fits on one line.
    """
    total = 0
    for character in line:
        if unicodedata.combining(character):
            continue
        total += 2 if unicodedata.east_asian_width(character) in ("W", "F") else 1
    return total


def string_literal(text: str) -> str:
    """Return a string literal for `text` with the quotes `ruff format` prefers.

    Double quotes, unless the text contains more double than single quotes, as ruff chooses.
    """
    literal = repr(text)
    if text.count('"') > text.count("'"):
        if literal.startswith('"'):
            body = literal[1:-1].replace('\\"', '"').replace("'", "\\'")
            return "'" + body + "'"
        return literal
    if literal.startswith("'"):
        body = literal[1:-1].replace("\\'", "'").replace('"', '\\"')
        return '"' + body + '"'
    return literal


def literal(value: Any) -> str:
    """Return the source of a plain Python value: None, bool, int, float, str, list, tuple, dict."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return f'float("{value}")'
        return repr(float(value))
    if isinstance(value, str):
        return string_literal(value)
    if isinstance(value, (list, tuple, dict)):
        return _inline_collection(value)
    # NumPy scalars and other number types: render their Python value, never their repr.
    if hasattr(value, "item"):
        return literal(value.item())
    raise TypeError(f"cannot render a value of type {type(value).__name__} as a literal: {value!r}")


def _inline_collection(value: list[Any] | tuple[Any, ...] | dict[Any, Any]) -> str:
    if isinstance(value, dict):
        items = [f"{literal(key)}: {literal(item)}" for key, item in value.items()]
        return "{" + ", ".join(items) + "}"
    items = [literal(item) for item in value]
    if isinstance(value, tuple):
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    return "[" + ", ".join(items) + "]"


def collection(
    value: list[Any] | tuple[Any, ...] | dict[Any, Any], prefix: str, suffix: str = "", indent: int = 0
) -> str:
    """Render `prefix + value + suffix` on one line when it fits, else one item per line.

    `indent` is the indentation level of the line. An exploded collection ends with a trailing
    comma so that `ruff format` keeps it exploded.
    """
    pad = INDENT * indent
    one_line = f"{pad}{prefix}{_inline_collection(value)}{suffix}"
    if width(one_line) <= LINE_LENGTH or not value:
        return one_line
    if isinstance(value, dict):
        items = [f"{literal(key)}: {literal(item)}" for key, item in value.items()]
        opening, closing = "{", "}"
    else:
        items = [literal(item) for item in value]
        opening, closing = ("(", ")") if isinstance(value, tuple) else ("[", "]")
    lines = [f"{pad}{prefix}{opening}"]
    lines += [f"{pad}{INDENT}{item}," for item in items]
    lines.append(f"{pad}{closing}{suffix}")
    return "\n".join(lines)


def call(
    function: str, arguments: Sequence[str] | dict[str, str], prefix: str = "", suffix: str = "", indent: int = 0
) -> str:
    """Render a call whose arguments are already source text (`"y"`, `"labels=codes"`).

    A dict maps keyword names to source. The call stays on one line when it fits; otherwise each
    argument gets its own line and a trailing comma, which `ruff format` keeps.
    """
    if isinstance(arguments, dict):
        arguments = [f"{name}={source}" for name, source in arguments.items()]
    pad = INDENT * indent
    one_line = f"{pad}{prefix}{function}({', '.join(arguments)}){suffix}"
    if width(one_line) <= LINE_LENGTH or not arguments:
        return one_line
    lines = [f"{pad}{prefix}{function}("]
    lines += [f"{pad}{INDENT}{argument}," for argument in arguments]
    lines.append(f"{pad}){suffix}")
    return "\n".join(lines)


def comment_text(text: str, max_length: int = 80) -> str:
    """Return a one-line, escaped form of `text` that is safe inside a comment or docstring."""
    escaped = text.encode("unicode_escape").decode("ascii").replace('"""', '\\"\\"\\"')
    if len(escaped) > max_length:
        escaped = escaped[: max_length - 3] + "..."
    return escaped
