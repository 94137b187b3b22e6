"""Error messages for column names that are not in the table."""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Sequence

from glassml.errors import UserInputError


def unknown_column_error(name: object, columns: Sequence[str], role: str) -> UserInputError:
    """Build the error for a `role` column ("target", "ignored", ...) that the table does not have.

    The message suggests the closest column names and lists the table's columns, shortened when long.
    """
    names = [str(column) for column in columns]
    close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.6)
    suggestion = f"did you mean {' or '.join(repr(match) for match in close)}? " if close else ""
    shortener = reprlib.Repr()
    shortener.maxlist = 20
    shortener.maxstring = 60
    listing = shortener.repr(names)
    return UserInputError(f"{role} column {name!r} not found in the data; {suggestion}the columns are {listing}")
