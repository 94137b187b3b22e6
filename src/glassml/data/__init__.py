"""Reading, column profiling and target inference for the user's table.

`detect_read_options` decides how a CSV or Parquet file is read, `render_reader` turns those options
into the reading code of the generated script, and `load_reader` runs that same code, so glassml and
the script read every file identically.
"""

from __future__ import annotations

from glassml.data._profile import profile_columns
from glassml.data._reader import detect_read_options, fingerprint, layout_differences, load_table
from glassml.data._render import ReaderSource, load_reader, render_reader
from glassml.data._target import check_target_column, infer_target

__all__ = [
    "ReaderSource",
    "check_target_column",
    "detect_read_options",
    "fingerprint",
    "infer_target",
    "layout_differences",
    "load_reader",
    "load_table",
    "profile_columns",
    "render_reader",
]
