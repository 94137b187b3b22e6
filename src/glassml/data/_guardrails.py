"""Data guardrails: checks of the training table, shown to the user, each with a named warning class.

Every check returns a `Guardrail` with a status. "passed" means it found nothing or does not apply.
"fixed" means glassml handles what it found, and the detail states how. "alerted" means the user
should act, and the detail states what to do. The terminal summary and the MLflow train run show
all of them, and `emit` raises the others as Python warnings, which library users can filter.
"""

from __future__ import annotations

import reprlib
import shlex
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score, r2_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from glassml.data._profile import MAX_CATEGORIES
from glassml.errors import (
    ClassImbalanceWarning,
    DroppedColumnWarning,
    DuplicateRowsWarning,
    GlassmlWarning,
    HighCardinalityWarning,
    InfiniteValuesWarning,
    MissingTargetWarning,
    MissingTokenWarning,
    MissingValuesWarning,
    RareClassWarning,
    SmallDataWarning,
    TargetLeakageWarning,
    WideDataWarning,
)
from glassml.spec import ColumnProfile, ReadOptions, TargetSpec, ValidationSpec

GuardrailStatus = Literal["passed", "fixed", "alerted"]

# The guardrails that `check_guardrails` returns, in its order.
GUARDRAIL_NAMES = (
    "missing_values",
    "missing_target",
    "dropped_columns",
    "high_cardinality",
    "class_imbalance",
    "rare_classes",
    "infinite_values",
    "missing_tokens",
    "small_data",
    "wide_data",
    "duplicate_rows",
    "target_leakage",
)

# The largest class having at least this many times the rows of the smallest is an imbalance.
IMBALANCE_RATIO = 10.0
# Fewer rows with a target than this is small data.
SMALL_DATA_ROWS = 1_000
# The largest magnitude that float32, which tree learners compute in, can represent. Larger values
# and infinities count as missing, as in the generated script's prepare_features.
FLOAT32_MAX = float(np.finfo(np.float32).max)

# Target leakage: one decision tree per feature column, fitted on that column alone.
LEAKAGE_MAX_ROWS = 5_000
LEAKAGE_MAX_COLUMNS = 100
LEAKAGE_MIN_ROWS = 50
LEAKAGE_FOLDS = 3
LEAKAGE_THRESHOLD = 0.99
LEAKAGE_CLASSIFIER_DEPTH = 3
# A depth-3 tree has 8 leaves, so on a continuous target it reaches an R^2 of about 0.97 even when the
# feature is an exact copy (measured on 5,000 normal values). Depth 8 reaches 0.9997 there and 0.9986
# with noise of 3% of the target's standard deviation.
LEAKAGE_REGRESSOR_DEPTH = 8

# Profile reasons of columns that the user excluded: those are not reported as dropped.
USER_IGNORE_REASONS = frozenset({"ignored by the user", "purpose set by the user"})

# The class weights of the search as defined in glassml.search: none in the portfolio trials, and
# class_weight="balanced" as a choice in the later trials of the linear model only.
CLASS_WEIGHT_NOTE = (
    "The first (portfolio) trials use no class weights; later trials try balanced class weights for "
    "LightGBM, CatBoost, histogram gradient boosting, the forests and the linear model."
)

# Long lists of columns or classes in a detail show this many entries and then "and N more".
MAX_LISTED = 8
_NAME_REPR = reprlib.Repr()
_NAME_REPR.maxstring = 40
_NAME_REPR.maxother = 40


@dataclass
class Guardrail:
    """The outcome of one data check, for the terminal summary, the MLflow run and `warnings`.

    `name` is a stable snake_case id. `detail` states what was found, in which columns, and what was
    done or what to do. `columns` lists the columns concerned and may be empty. `warning` is the
    warning class that `emit` raises unless the status is "passed".
    """

    name: str
    status: GuardrailStatus
    detail: str
    columns: list[str]
    warning: type[GlassmlWarning]


def check_guardrails(
    table: pd.DataFrame,
    *,
    target: TargetSpec,
    columns: list[ColumnProfile],
    validation: ValidationSpec,
    dropped_target_rows: int,
    metric: str,
    read: ReadOptions | None = None,
    raw_token_counts: dict[str, dict[str, int]] | None = None,
) -> list[Guardrail]:
    """Check the training table and return one guardrail per check, passed ones included.

    Checks that look at values use the rows with a target, since only those are trained on.

    Parameters
    ----------
    table : DataFrame
        The training table as read, with the target column and the rows without a target.
    target : TargetSpec
        The inferred target.
    columns : list of ColumnProfile
        The profiles of every column except the target and the weight column.
    validation : ValidationSpec
        The validation plan.
    dropped_target_rows : int
        The number of rows without a target value, which training drops.
    metric : str
        The primary metric that ranks candidates.
    read : ReadOptions, optional
        How the table was read; its column dtypes decide which columns are numeric as read.
    raw_token_counts : dict of str to dict of str to int, optional
        For a CSV file, how many cells of each column equal each missing-value token before they
        were read as missing (see `count_missing_tokens`). When None, the missing-token check
        passes without checking.

    Returns
    -------
    list of Guardrail
        One per check, in the order of `GUARDRAIL_NAMES`.
    """
    labelled = table[table[target.column].notna()]
    features = [column for column in columns if column.purpose != "ignore"]
    y = labelled[target.column]
    if target.class_labels is not None:
        y = y.astype(target.dtype)

    return [
        _check_missing_values(labelled, features),
        _check_missing_target(target, dropped_target_rows, len(labelled)),
        _check_dropped_columns(columns),
        _check_high_cardinality(features),
        _check_class_imbalance(y, target, metric),
        _check_rare_classes(y, target, validation),
        _check_infinite_values(labelled, features),
        _check_missing_tokens(table, features, target, read, raw_token_counts),
        _check_small_data(len(labelled), validation),
        _check_wide_data(len(labelled), features),
        _check_duplicate_rows(labelled, features, target),
        _check_target_leakage(labelled, y, features, target),
    ]


def emit(guardrails: Iterable[Guardrail], stacklevel: int = 2) -> None:
    """Raise every guardrail that did not pass as a warning of its class, with its detail as message.

    `stacklevel` 2 points the warnings at the caller of `emit`. A public method that calls `emit`
    passes 3, so that the warnings point at its own caller.
    """
    for guardrail in guardrails:
        if guardrail.status != "passed":
            warnings.warn(guardrail.detail, category=guardrail.warning, stacklevel=stacklevel)


def guardrails_table(guardrails: Iterable[Guardrail]) -> list[dict[str, Any]]:
    """Return the guardrails as JSON-serializable rows with their name, status, detail and columns."""
    return [
        {"name": guardrail.name, "status": guardrail.status, "detail": guardrail.detail, "columns": guardrail.columns}
        for guardrail in guardrails
    ]


def count_missing_tokens(
    text: pd.DataFrame, tokens: Iterable[str], *, strip_values: bool = False, strip_header: bool = False
) -> dict[str, dict[str, int]]:
    """Count the cells of each column that equal each missing-value token.

    Parameters
    ----------
    text : DataFrame
        The CSV file read with every column as text and no missing-value conversion
        (`dtype=str, keep_default_na=False`).
    tokens : iterable of str
        The missing-value tokens of the read options.
    strip_values : bool
        Compare values with surrounding whitespace removed, as reading does when
        `ReadOptions.strip_value_whitespace` is set.
    strip_header : bool
        Key the counts by column names with surrounding whitespace removed, as reading does when
        `ReadOptions.strip_header_whitespace` is set.

    Returns
    -------
    dict of str to dict of str to int
        Column name to token to count, for the tokens that occur.
    """
    token_set = set(tokens)
    counts: dict[str, dict[str, int]] = {}
    for name in text.columns:
        values = text[name].str.strip() if strip_values else text[name]
        found = values[values.isin(token_set)].value_counts()
        if len(found):
            counts[str(name).strip() if strip_header else str(name)] = {
                str(token): int(count) for token, count in found.items()
            }
    return counts


def _check_missing_values(labelled: pd.DataFrame, features: list[ColumnProfile]) -> Guardrail:
    counts = {column.name: int(labelled[column.name].isna().sum()) for column in features}
    counts = {name: count for name, count in counts.items() if count}
    if not counts:
        return Guardrail("missing_values", "passed", "No feature column has missing values.", [], MissingValuesWarning)

    purposes: set[str] = {column.purpose for column in features if column.name in counts}
    detail = (
        f"Missing values in {_plural(len(counts), 'feature column')} (rows with a target): "
        f"{_list_counts(counts, 'row')}. {_missing_value_handling(purposes)}"
    )
    return Guardrail("missing_values", "fixed", detail, list(counts), MissingValuesWarning)


def _missing_value_handling(purposes: set[str]) -> str:
    sentences = []
    if purposes & {"numeric", "boolean", "datetime"}:
        sentences.append(
            "Learners that handle missing numbers get them as they are, and the others get the median "
            "(the most frequent value for booleans) plus a column that marks the imputed rows."
        )
    if purposes & {"categorical", "high_cardinality"}:
        sentences.append("Missing categories form a category of their own.")
    if "text" in purposes:
        sentences.append("Missing text counts as empty text.")
    return " ".join(sentences)


def _check_missing_target(target: TargetSpec, dropped_target_rows: int, n_labelled: int) -> Guardrail:
    name = target.column
    if dropped_target_rows == 0:
        return Guardrail(
            "missing_target", "passed", f"Every row has a value in target {name!r}.", [], MissingTargetWarning
        )
    detail = (
        f"{_plural(dropped_target_rows, 'row')} without a value in target {name!r} "
        f"{_verb(dropped_target_rows, 'was', 'were')} dropped. "
        f"Training uses the other {_plural(n_labelled, 'row')}."
    )
    return Guardrail("missing_target", "fixed", detail, [name], MissingTargetWarning)


def _check_dropped_columns(columns: list[ColumnProfile]) -> Guardrail:
    dropped = [column for column in columns if column.purpose == "ignore" and column.reason not in USER_IGNORE_REASONS]
    if not dropped:
        return Guardrail(
            "dropped_columns",
            "passed",
            "No column was dropped as constant, empty or an identifier.",
            [],
            DroppedColumnWarning,
        )
    reasons = _list_entries([f"{_NAME_REPR.repr(column.name)}: {column.reason}" for column in dropped], separator="; ")
    detail = (
        f"Dropped {_plural(len(dropped), 'column')} that cannot help a model: {reasons}. "
        "To use one anyway, pass --column-purpose NAME=PURPOSE."
    )
    return Guardrail("dropped_columns", "fixed", detail, [column.name for column in dropped], DroppedColumnWarning)


def _check_high_cardinality(features: list[ColumnProfile]) -> Guardrail:
    high_cardinality = [column for column in features if column.purpose == "high_cardinality"]
    if not high_cardinality:
        return Guardrail(
            "high_cardinality",
            "passed",
            f"No text column has more than {MAX_CATEGORIES} distinct values.",
            [],
            HighCardinalityWarning,
        )
    counts = {column.name: column.n_unique for column in high_cardinality}
    detail = (
        f"Text columns with more than {MAX_CATEGORIES} distinct values are encoded as integer codes for tree "
        f"learners and with target encoding for the linear model, not one-hot: "
        f"{_list_counts(counts, 'distinct value')}."
    )
    return Guardrail("high_cardinality", "fixed", detail, list(counts), HighCardinalityWarning)


def _check_class_imbalance(y: pd.Series, target: TargetSpec, metric: str) -> Guardrail:
    if target.task == "regression":
        return Guardrail("class_imbalance", "passed", "Not applicable: regression target.", [], ClassImbalanceWarning)

    counts = y.value_counts()
    largest, smallest = counts.index[0], counts.index[-1]
    ratio = counts.iloc[0] / counts.iloc[-1]
    found = (
        f"In target {target.column!r}, the largest class ({_NAME_REPR.repr(_plain(largest))}, "
        f"{_plural(int(counts.iloc[0]), 'row')}) has {ratio:.1f} times the rows of the smallest "
        f"({_NAME_REPR.repr(_plain(smallest))}, {_plural(int(counts.iloc[-1]), 'row')})."
    )
    if ratio < IMBALANCE_RATIO:
        return Guardrail("class_imbalance", "passed", found, [], ClassImbalanceWarning)

    if metric == "accuracy":
        share = counts.iloc[0] / counts.sum()
        advice = (
            f"Candidates are ranked by accuracy, on which always predicting {_NAME_REPR.repr(_plain(largest))} "
            f"scores {share:.3f}. Pass --metric balanced_accuracy or --metric log_loss."
        )
    else:
        advice = f"Candidates are ranked by {metric}. Check how well the best model predicts the smallest classes."
    detail = f"{found} {advice} {CLASS_WEIGHT_NOTE}"
    return Guardrail("class_imbalance", "alerted", detail, [target.column], ClassImbalanceWarning)


def _check_rare_classes(y: pd.Series, target: TargetSpec, validation: ValidationSpec) -> Guardrail:
    if target.task == "regression":
        return Guardrail("rare_classes", "passed", "Not applicable: regression target.", [], RareClassWarning)
    if validation.kind == "validation_data":
        return Guardrail(
            "rare_classes",
            "passed",
            "Not applicable: candidates are scored on the validation file, which is not split.",
            [],
            RareClassWarning,
        )

    if validation.kind == "cv":
        needed = int(validation.n_folds or 0)
        split = f"stratified {needed}-fold cross-validation"
    else:
        needed = 2
        split = "a stratified holdout split"
    counts = y.value_counts()
    rare = counts[counts < needed]
    if rare.empty:
        detail = f"Every class of target {target.column!r} has at least the {needed} rows that {split} needs."
        return Guardrail("rare_classes", "passed", detail, [], RareClassWarning)

    classes = _list_entries(
        [f"{_NAME_REPR.repr(_plain(label))} ({_plural(int(n), 'row')})" for label, n in rare.items()]
    )
    stratified = "is stratified" if validation.stratified else "is therefore not stratified"
    detail = (
        f"Classes of target {target.column!r} with fewer than the {needed} rows that {split} needs: "
        f"{classes}. Validation {stratified}, so a validation split can miss these classes and their "
        "scores are unreliable. Add rows of these classes or merge each into a related class."
    )
    return Guardrail("rare_classes", "alerted", detail, [target.column], RareClassWarning)


def _check_infinite_values(labelled: pd.DataFrame, features: list[ColumnProfile]) -> Guardrail:
    counts = {}
    for column in features:
        series = labelled[column.name]
        if column.purpose != "numeric" or not _is_number_dtype(series.dtype):
            continue
        numbers = series.to_numpy(dtype="float64", na_value=np.nan)
        count = int((np.abs(numbers) > FLOAT32_MAX).sum())  # NaN compares False; infinity is above the limit
        if count:
            counts[column.name] = count
    if not counts:
        return Guardrail(
            "infinite_values",
            "passed",
            "No numeric column has infinite values or values beyond float32's range.",
            [],
            InfiniteValuesWarning,
        )
    detail = (
        f"Infinite values or values beyond float32's range ({FLOAT32_MAX:.4g}) in "
        f"{_plural(len(counts), 'numeric column')}: {_list_counts(counts, 'row')}. They count as missing "
        "values, in training and in the generated script."
    )
    return Guardrail("infinite_values", "fixed", detail, list(counts), InfiniteValuesWarning)


def _check_missing_tokens(
    table: pd.DataFrame,
    features: list[ColumnProfile],
    target: TargetSpec,
    read: ReadOptions | None,
    raw_token_counts: dict[str, dict[str, int]] | None,
) -> Guardrail:
    if read is not None and read.format != "csv":
        return Guardrail(
            "missing_tokens",
            "passed",
            "Not applicable: a Parquet file stores missing values as such, not as text.",
            [],
            MissingTokenWarning,
        )
    if raw_token_counts is None:
        return Guardrail(
            "missing_tokens",
            "passed",
            "Not checked: no counts of missing-value tokens are available.",
            [],
            MissingTokenWarning,
        )

    dtypes = read.column_dtypes if read is not None else {str(name): str(dtype) for name, dtype in table.dtypes.items()}
    found: dict[str, dict[str, int]] = {}
    for name in [column.name for column in features] + [target.column]:
        if not _is_number_dtype(dtypes.get(name, "object")):
            continue
        tokens = {token: count for token, count in raw_token_counts.get(name, {}).items() if token != "" and count > 0}
        if tokens:
            found[name] = tokens
    if not found:
        return Guardrail(
            "missing_tokens",
            "passed",
            "No numeric column has cells with a missing-value token other than an empty cell.",
            [],
            MissingTokenWarning,
        )
    entries = [
        f"{_NAME_REPR.repr(name)} ({', '.join(f'{token!r} {_times(count)}' for token, count in tokens.items())})"
        for name, tokens in found.items()
    ]
    detail = (
        f"Cells equal to a missing-value token were read as missing in {_plural(len(found), 'numeric column')}: "
        f"{_list_entries(entries)}. If a token stands for a number, such as '-' for zero, replace it in the file."
    )
    return Guardrail("missing_tokens", "fixed", detail, list(found), MissingTokenWarning)


def _check_small_data(n_rows: int, validation: ValidationSpec) -> Guardrail:
    rows = _plural(n_rows, "row")
    if n_rows >= SMALL_DATA_ROWS:
        return Guardrail(
            "small_data", "passed", f"{rows} with a target (at least {SMALL_DATA_ROWS:,}).", [], SmallDataWarning
        )

    found = f"Only {rows} have a target (fewer than {SMALL_DATA_ROWS:,})"
    if validation.kind == "cv":
        detail = (
            f"{found}, so candidates are scored with {validation.n_folds}-fold cross-validation: every row is "
            "scored once, which gives a steadier score than a holdout."
        )
        return Guardrail("small_data", "fixed", detail, [], SmallDataWarning)
    if validation.kind == "holdout":
        holdout_rows = round(n_rows * (validation.test_size or 0.0))
        detail = (
            f"{found}, and candidates are scored on a holdout of about {_plural(holdout_rows, 'row')}, which "
            "gives a noisy score. Pass --validation cv:5 to score every row with cross-validation."
        )
    else:
        detail = (
            f"{found}, so models train on few rows and their scores on the validation file can change much "
            "from one run to the next. Add rows if you can."
        )
    return Guardrail("small_data", "alerted", detail, [], SmallDataWarning)


def _check_wide_data(n_rows: int, features: list[ColumnProfile]) -> Guardrail:
    found = f"{_plural(len(features), 'feature column')} and {_plural(n_rows, 'row')} with a target"
    if len(features) <= n_rows:
        return Guardrail("wide_data", "passed", f"{found}.", [], WideDataWarning)
    detail = (
        f"{found}: with more columns than rows, a model can fit noise. Exclude columns that cannot matter "
        "with --ignore-columns, or add rows."
    )
    return Guardrail("wide_data", "alerted", detail, [], WideDataWarning)


def _check_duplicate_rows(labelled: pd.DataFrame, features: list[ColumnProfile], target: TargetSpec) -> Guardrail:
    names = [column.name for column in features] + [target.column]
    n_duplicates = int(labelled[names].duplicated().sum())
    if n_duplicates == 0:
        return Guardrail(
            "duplicate_rows",
            "passed",
            "No row repeats another in every feature column and the target.",
            [],
            DuplicateRowsWarning,
        )
    detail = (
        f"{_plural(n_duplicates, 'row')} {_verb(n_duplicates, 'repeats', 'repeat')} an earlier row in every "
        "feature column and the target. A row "
        "and its copy can fall one in training and one in validation, which inflates the score. Remove the "
        "copies unless they are separate observations."
    )
    return Guardrail("duplicate_rows", "alerted", detail, [], DuplicateRowsWarning)


def _check_target_leakage(
    labelled: pd.DataFrame, y: pd.Series, features: list[ColumnProfile], target: TargetSpec
) -> Guardrail:
    # Text columns are left out because their codes carry no meaning and their words need a vectorizer.
    candidates = [column.name for column in features if column.purpose != "text"]
    # NOTE: only the first LEAKAGE_MAX_COLUMNS candidate columns are checked, which keeps the check
    # within about a second. A leaking column further right in a wider table is not found.
    skipped = max(len(candidates) - LEAKAGE_MAX_COLUMNS, 0)
    candidates = candidates[:LEAKAGE_MAX_COLUMNS]
    if len(labelled) < LEAKAGE_MIN_ROWS or not candidates:
        detail = f"Not checked: fewer than {LEAKAGE_MIN_ROWS} rows with a target or no non-text feature column."
        return Guardrail("target_leakage", "passed", detail, [], TargetLeakageWarning)

    if len(labelled) > LEAKAGE_MAX_ROWS:
        sample = labelled.sample(n=LEAKAGE_MAX_ROWS, random_state=0).index
        labelled, y = labelled.loc[sample], y.loc[sample]
    classification = target.task != "regression"
    scores = _single_column_scores(labelled[candidates], y, classification)
    leaking = {name: score for name, score in scores.items() if score >= LEAKAGE_THRESHOLD}

    score_name = "balanced accuracy" if classification else "R^2"
    depth = LEAKAGE_CLASSIFIER_DEPTH if classification else LEAKAGE_REGRESSOR_DEPTH
    method = f"depth-{depth} decision tree, {LEAKAGE_FOLDS}-fold cross-validation on {_plural(len(y), 'row')}"
    if skipped:
        method += f"; the {_plural(skipped, 'column')} after the first {LEAKAGE_MAX_COLUMNS} were not checked"
    if not leaking:
        detail = (
            f"No single column predicts target {target.column!r} with {score_name} of "
            f"{LEAKAGE_THRESHOLD} or more ({method})."
        )
        return Guardrail("target_leakage", "passed", detail, [], TargetLeakageWarning)

    entries = _list_entries([f"{_NAME_REPR.repr(name)} ({score_name} {score:.3f})" for name, score in leaking.items()])
    remedy = " ".join(f"--column-purpose {shlex.quote(f'{name}=ignore')}" for name in list(leaking)[:MAX_LISTED])
    detail = (
        f"Columns that alone predict target {target.column!r} almost perfectly: {entries} "
        f"({method}). glassml keeps such a column in training, but it often contains information that is "
        f"not known at prediction time. If so, exclude it with {remedy}."
    )
    return Guardrail("target_leakage", "alerted", detail, list(leaking), TargetLeakageWarning)


def _single_column_scores(features: pd.DataFrame, y: pd.Series, classification: bool) -> dict[str, float]:
    """Score a decision tree on each column alone, by balanced accuracy or R^2 of out-of-fold predictions."""
    target_values = pd.factorize(y)[0] if classification else y.to_numpy(dtype="float64")
    folds = _leakage_folds(target_values, classification)
    scores = {}
    for name in features.columns:
        feature = _encode(features[name])
        predictions = np.empty(len(target_values), dtype=target_values.dtype)
        for train_rows, test_rows in folds:
            model = _leakage_tree(classification)
            model.fit(feature[train_rows], target_values[train_rows])
            predictions[test_rows] = model.predict(feature[test_rows])
        if classification:
            scores[str(name)] = float(balanced_accuracy_score(target_values, predictions))
        else:
            scores[str(name)] = float(r2_score(target_values, predictions))
    return scores


def _leakage_tree(classification: bool) -> DecisionTreeClassifier | DecisionTreeRegressor:
    if classification:
        return DecisionTreeClassifier(max_depth=LEAKAGE_CLASSIFIER_DEPTH, random_state=0)
    return DecisionTreeRegressor(max_depth=LEAKAGE_REGRESSOR_DEPTH, random_state=0)


def _leakage_folds(target_values: np.ndarray, classification: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    rows = np.zeros((len(target_values), 1))
    if classification and np.bincount(target_values).min() >= LEAKAGE_FOLDS:
        splitter: KFold | StratifiedKFold = StratifiedKFold(LEAKAGE_FOLDS, shuffle=True, random_state=0)
    else:
        splitter = KFold(LEAKAGE_FOLDS, shuffle=True, random_state=0)
    return list(splitter.split(rows, target_values))


def _encode(series: pd.Series) -> np.ndarray:
    """Return one column as a float matrix for a decision tree: numbers as they are, categories as codes.

    Missing numbers and dates, infinities and values beyond float32's range are NaN, which scikit-learn's
    trees route to a side of their own. Missing categories get the code -1.
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        numbers = (series - series.min()).dt.total_seconds().to_numpy(dtype="float64", na_value=np.nan)
    elif _is_number_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        numbers = series.to_numpy(dtype="float64", na_value=np.nan)
        numbers[np.abs(numbers) > FLOAT32_MAX] = np.nan
    else:
        numbers = pd.factorize(series.astype("string"))[0].astype("float64")
    return numbers.reshape(-1, 1)


def _is_number_dtype(dtype: Any) -> bool:
    """Return whether a dtype (or its name) contains numbers, booleans excluded."""
    dtype = pd.api.types.pandas_dtype(dtype) if isinstance(dtype, str) else dtype
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _list_counts(counts: dict[str, int], unit: str) -> str:
    return _list_entries([f"{_NAME_REPR.repr(name)} ({_plural(count, unit)})" for name, count in counts.items()])


def _list_entries(entries: list[str], separator: str = ", ") -> str:
    """Join entries, showing the first MAX_LISTED and how many more there are."""
    listed = separator.join(entries[:MAX_LISTED])
    if len(entries) > MAX_LISTED:
        listed += f"{separator}and {len(entries) - MAX_LISTED} more"
    return listed


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    word = singular if count == 1 else (plural or f"{singular}s")
    return f"{count:,} {word}"


def _verb(count: int, singular: str, plural: str) -> str:
    return singular if count == 1 else plural


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count:,} times"


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value
