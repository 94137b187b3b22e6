"""Decide the purpose of every feature column: numeric, categorical, text, ... or ignored."""

from __future__ import annotations

import re
import reprlib
from collections.abc import Iterable

import numpy as np
import pandas as pd

from glassml.data._names import unknown_column_error
from glassml.errors import UserInputError
from glassml.spec import PURPOSES, ColumnProfile

# A text column with at most this many distinct values is categorical (one-hot encoding stays small).
MAX_CATEGORIES = 20
# Free text: values have at least this many words on average.
MIN_TEXT_WORDS = 4
# Name parts that mark an identifier column, as in "id", "customer_id", "CustomerID" or "uuid".
IDENTIFIER_NAME_PARTS = frozenset({"id", "uid", "uuid", "guid"})


def profile_columns(
    dataframe: pd.DataFrame,
    target: str,
    *,
    ignore_columns: Iterable[str] = (),
    purpose_overrides: dict[str, str] | None = None,
    weight_column: str | None = None,
) -> list[ColumnProfile]:
    """Profile every column except the target and the weight column and choose its purpose.

    Parameters
    ----------
    dataframe : DataFrame
        The table as `read_table` returns it, with date columns parsed.
    target : str
        The target column, which gets no profile.
    ignore_columns : iterable of str
        Columns the user excludes; they get the purpose "ignore".
    purpose_overrides : dict of str to str, optional
        Purposes the user chose, by column; each must be one of `glassml.spec.PURPOSES`.
    weight_column : str, optional
        The sample weight column, which gets no profile.

    Returns
    -------
    list of ColumnProfile
        One profile per column in table order; `reason` explains the purpose in a short sentence.

    Raises
    ------
    UserInputError
        If a named column is not in the table, a purpose is unknown, or a purpose does not fit the
        column's values.
    """
    columns = [str(name) for name in dataframe.columns]
    reserved = {target} | ({weight_column} if weight_column is not None else set())
    ignored = set(ignore_columns)
    overrides = dict(purpose_overrides or {})
    _check_user_columns(columns, reserved, ignored, overrides)

    profiles = []
    for name, column in zip(columns, dataframe.columns, strict=True):
        if name in reserved:
            continue
        series = dataframe[column]
        if name in ignored:
            purpose, reason = "ignore", "ignored by the user"
        elif name in overrides:
            purpose, reason = _check_override(name, series, overrides[name]), "purpose set by the user"
        else:
            purpose, reason = choose_purpose(name, series)
        profiles.append(_profile(name, series, purpose, reason))
    return profiles


def _profile(name: str, series: pd.Series, purpose: str, reason: str) -> ColumnProfile:
    return ColumnProfile(
        name=name,
        purpose=purpose,  # type: ignore[arg-type]
        reason=reason,
        dtype=str(series.dtype),
        n_missing=int(series.isna().sum()),
        n_unique=int(series.nunique()),
    )


def _check_user_columns(columns: list[str], reserved: set[str], ignored: set[str], overrides: dict[str, str]) -> None:
    for role, names in (("ignored", sorted(ignored)), ("overridden", sorted(overrides))):
        for name in names:
            if name not in columns:
                raise unknown_column_error(name, columns, role)
            if name in reserved:
                raise UserInputError(f"{role} column {name!r} is the target or weight column; remove it from the list")
    for name, purpose in overrides.items():
        if purpose not in PURPOSES:
            raise UserInputError(
                f"unknown purpose {purpose!r} for column {name!r}; valid purposes are {', '.join(PURPOSES)}"
            )
        if name in ignored and purpose != "ignore":
            raise UserInputError(
                f"column {name!r} is both ignored and given the purpose {purpose!r}; keep only one of the two"
            )


def _check_override(name: str, series: pd.Series, purpose: str) -> str:
    values = series.dropna()
    is_bool = pd.api.types.is_bool_dtype(series.dtype)
    is_numeric = pd.api.types.is_numeric_dtype(series.dtype) and not is_bool
    is_datetime = pd.api.types.is_datetime64_any_dtype(series.dtype)
    fits = {
        "numeric": is_numeric or is_bool,
        "boolean": is_bool or (is_numeric and set(values.unique()) <= {0, 1}),
        "datetime": is_datetime,
    }
    if fits.get(purpose, True):
        return purpose
    example = reprlib.repr(values.iloc[0]) if len(values) else "no values"
    valid = [candidate for candidate in PURPOSES if fits.get(candidate, True)]
    raise UserInputError(
        f"column {name!r} cannot have the purpose {purpose!r}: its values (dtype {series.dtype}, such as {example}) "
        f"do not fit; purposes that fit it are {', '.join(valid)}"
    )


def choose_purpose(name: str, series: pd.Series) -> tuple[str, str]:
    """Return the purpose of one column and a short sentence saying why."""
    values = series.dropna()
    n_missing = len(series) - len(values)
    missing = f", {n_missing} missing" if n_missing else ""
    if values.empty:
        return "ignore", "all values missing"
    n_unique = values.nunique()
    if n_unique == 1:
        return "ignore", f"constant (one value: {reprlib.repr(_plain(values.iloc[0]))}{missing})"

    if pd.api.types.is_bool_dtype(series.dtype):
        return "boolean", f"boolean{missing}"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "datetime", f"dates, {n_unique} distinct values{missing}"
    if pd.api.types.is_numeric_dtype(series.dtype):
        return _numeric_purpose(name, values, n_unique, missing)
    return _text_purpose(name, values.astype(str), n_unique, missing)


def _numeric_purpose(name: str, values: pd.Series, n_unique: int, missing: str) -> tuple[str, str]:
    numbers = values.to_numpy(dtype=float)
    integral = bool(np.isfinite(numbers).all() and (numbers == np.round(numbers)).all())
    if integral and n_unique == len(values) and len(values) > MAX_CATEGORIES:
        consecutive = numbers.max() - numbers.min() + 1 == len(values)
        if consecutive:
            return "ignore", "identifier (every value distinct, consecutive integers like a row number)"
        if _has_identifier_name(name):
            return "ignore", "identifier (every value distinct and the name marks an identifier)"
    kind = "integer values" if integral else "values"
    return "numeric", f"numeric, {n_unique} distinct {kind}{missing}"


def _text_purpose(name: str, values: pd.Series, n_unique: int, missing: str) -> tuple[str, str]:
    if n_unique <= MAX_CATEGORIES:
        return "categorical", f"{n_unique} distinct values (at most {MAX_CATEGORIES}){missing}"
    mean_words = values.str.split().str.len().mean()
    if mean_words >= MIN_TEXT_WORDS:
        return "text", f"free text, {mean_words:.0f} words per value on average, {n_unique} distinct values{missing}"
    if n_unique == len(values):
        example = reprlib.repr(values.iloc[0])
        return "ignore", f"identifier (every value distinct, such as {example})"
    return "high_cardinality", f"{n_unique} distinct values (more than {MAX_CATEGORIES}){missing}"


def _has_identifier_name(name: str) -> bool:
    # Split camelCase and any non-alphanumeric separator: "CustomerID" -> customer, id.
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    parts = re.split(r"[^A-Za-z0-9]+", spaced)
    return any(part.lower() in IDENTIFIER_NAME_PARTS for part in parts)


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value
