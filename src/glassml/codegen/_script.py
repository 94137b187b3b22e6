"""Render a trial's spec as `script.py`, the standalone program that trains exactly that model.

The engine runs the functions of this rendered code to score, train and predict, so the text
produced here is the model. Every value from the data reaches the code through `_literals`.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pandas as pd

from glassml.codegen import _literals as lit
from glassml.codegen._imports import Imports
from glassml.data import render_reader
from glassml.featurize import DATETIME_PARTS, ColumnGroup, plan_column_groups
from glassml.metrics import METRICS, metric_names
from glassml.search import ALGORITHMS, Algorithm
from glassml.spec import TrialSpec


@dataclass
class RenderedScript:
    """The source of script.py and the top-level modules it imports (for requirements.txt)."""

    source: str
    modules: set[str]


def render_script(spec: TrialSpec) -> RenderedScript:
    """Render the whole script.py for `spec`."""
    algorithm = ALGORITHMS[spec.algorithm.name]
    imports = Imports()
    for line in (
        "from __future__ import annotations",
        "import argparse",
        "import hashlib",
        "import json",
        "import logging",
        "from pathlib import Path",
        "import joblib",
        "import numpy as np",
        "import pandas as pd",
        "from sklearn import metrics",
        "from sklearn.compose import ColumnTransformer",
        "from sklearn.pipeline import Pipeline",
        "from threadpoolctl import threadpool_limits",
    ):
        imports.add_line(line)
    groups = plan_column_groups(spec, algorithm)
    reader = render_reader(spec.read)
    for line in reader.imports:
        imports.add_line(line)

    body = [
        _constants(spec, algorithm),
        reader.constants,
        _column_constants(spec),
        _validation_constants(spec),
        reader.function,
        _get_training_dataset(),
        *_datetime_parts(spec),
        _prepare_features(spec),
        _prepare_data(spec),
        _data_transformation(groups, imports, spec, algorithm),
        *_preprocessor(spec, algorithm, imports),
        _algorithm_config(spec, algorithm, imports),
        _pipeline(spec, algorithm),
        _split_dataset(spec, imports),
        _train_model(),
        _calculate_metrics(spec),
        _evaluate_model(spec),
        *_predict(spec, imports),
        _main(spec),
    ]
    source = "\n".join(
        [
            _header(spec, algorithm),
            "",
            imports.render(),
            "",
            'logger = logging.getLogger("script")',
            "",
            "\n\n".join(part.strip("\n") for part in body[:4] if part.strip()),
        ]
    )
    functions = "\n\n\n".join(part.strip("\n") for part in body[4:] if part.strip())
    source = source.rstrip("\n") + "\n\n\n" + functions + '\n\n\nif __name__ == "__main__":\n    main()\n'
    return RenderedScript(source=source, modules=imports.top_level_modules)


def _header(spec: TrialSpec, algorithm: Algorithm) -> str:
    data_name = lit.comment_text(spec.data.path.replace("\\", "/").rsplit("/", 1)[-1], max_length=60)
    experiment = lit.comment_text(spec.experiment, max_length=60)
    display = algorithm.task_display_name(spec.target.task)
    validation_option = ""
    if spec.validation.validation_path:
        validation_name = spec.validation.validation_path.replace("\\", "/").rsplit("/", 1)[-1]
        validation_option = f" --validation-data {lit.comment_text(validation_name, max_length=60)}"
    about = (
        f"Trial {spec.trial_number} of experiment {experiment}. Written by glassml {spec.glassml_version} for "
        f"Python {spec.python_version} from the trial's spec. The search scored this trial by running this "
        f"file's evaluate_model() ({_validation_sentence(spec)}); its score and rank are on the leaderboard. "
        f"The training data the search read had {spec.data.rows} rows and {spec.data.columns} columns "
        f"(sha256 {spec.data.sha256[:16]}...)."
    )
    usage = (
        "Training prints the validation metrics as JSON and writes outputs/metrics.json and "
        "outputs/model.pkl. Change any value below and run it again to retrain."
    )
    lines = [
        f'"""Train the model of run {spec.run_id}: {display}.',
        "",
        *textwrap.wrap(about, width=100),
        "",
        "Run it with only the packages in requirements.txt installed:",
        "",
        f"    python script.py --training-data {data_name}{validation_option} --output-dir outputs",
        f"    python script.py --training-data {data_name} --refit-only",
        f"    python script.py --model outputs/model.pkl --predict-data new_rows{_suffix(spec)}",
        "",
        *textwrap.wrap(usage, width=100),
        '"""',
    ]
    return "\n".join(lines)


def _suffix(spec: TrialSpec) -> str:
    return ".parquet" if spec.read.format == "parquet" else ".csv"


def _validation_sentence(spec: TrialSpec) -> str:
    validation = spec.validation
    if validation.kind == "cv":
        return f"{validation.n_folds}-fold cross-validation"
    if validation.kind == "holdout":
        return f"a holdout of {validation.test_size:.0%} of the rows"
    return "a separate validation file"


def _constants(spec: TrialSpec, algorithm: Algorithm) -> str:
    target = spec.target
    lines = [
        f"RANDOM_SEED = {spec.seed}",
        f"N_THREADS = {spec.n_threads}  # the search trained with this many threads; results are bitwise reproducible",
        f"TARGET_COLUMN = {lit.literal(target.column)}",
        f"TARGET_DTYPE = {lit.literal(target.dtype)}  # predictions come back in the type of the training target",
    ]
    if target.class_labels is not None:
        lines.append(
            lit.collection(target.class_labels, "CLASS_LABELS = ", "  # the model predicts positions in this list")
        )
        if target.task == "binary":
            lines.append("POSITIVE_LABEL = CLASS_LABELS[1]  # the class whose probability the binary metrics score")
    if spec.weight_column is not None:
        lines.append(f"WEIGHT_COLUMN = {lit.literal(spec.weight_column)}")
    lines.append(f"PRIMARY_METRIC = {lit.literal(spec.metric)}")
    lines.append(f"TRAINING_DATA_SHA256 = {lit.literal(spec.data.sha256)}")
    return "\n".join(lines)


def _column_constants(spec: TrialSpec) -> str:
    lines = ["# Column purposes found by profiling the training data (glassml train --column-purpose overrides them)."]
    constants = {
        "numeric": "NUMERIC_COLUMNS",
        "boolean": "BOOLEAN_COLUMNS",
        "datetime": "DATETIME_COLUMNS",
        "categorical": "CATEGORICAL_COLUMNS",
        "high_cardinality": "HIGH_CARDINALITY_COLUMNS",
        "text": "TEXT_COLUMNS",
    }
    for purpose, constant in constants.items():
        columns = spec.columns_for(purpose)
        if columns:
            lines.append(lit.collection(columns, f"{constant} = "))
    dropped = {column.name: column.reason for column in spec.columns if column.purpose == "ignore"}
    if dropped:
        lines.append(lit.collection(dropped, "DROPPED_COLUMNS = ", "  # not used, with the reason"))
    else:
        lines.append("# No column was dropped.")
    number_coded = _number_coded_categories(spec)
    if number_coded:
        lines.append(lit.collection(number_coded, "NUMBER_CODED_CATEGORY_COLUMNS = "))
    lines.append(lit.collection(spec.feature_columns, "FEATURE_COLUMNS = "))
    if spec.columns_for("datetime"):
        lines.append(lit.collection(list(DATETIME_PARTS), "DATETIME_PARTS = "))
        lines.append(
            'DATETIME_PART_COLUMNS = [f"{name}_{part}" for name in DATETIME_COLUMNS for part in DATETIME_PARTS]'
        )
    return "\n".join(lines)


def _validation_constants(spec: TrialSpec) -> str:
    validation = spec.validation
    reason = lit.comment_text(validation.reason, max_length=90)
    if validation.kind == "cv":
        return f"N_FOLDS = {validation.n_folds}  # {reason}"
    if validation.kind == "holdout":
        return f"HOLDOUT_FRACTION = {validation.test_size!r}  # {reason}"
    return f"# Scored on a separate validation file: {reason}"


def _get_training_dataset() -> str:
    return '''
def get_training_dataset(path: str) -> pd.DataFrame:
    """Read the training table as the search read it, and warn when the file has changed."""
    with open(path, "rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    if digest != TRAINING_DATA_SHA256:
        logger.warning("training data differs from the data of the search (sha256 %s...)", digest[:16])
    return read_table(path)
'''


def _datetime_parts(spec: TrialSpec) -> list[str]:
    if not spec.columns_for("datetime"):
        return []
    return [
        '''
def add_datetime_parts(features: pd.DataFrame) -> pd.DataFrame:
    """Replace each date column by numeric parts that any learner can split on."""
    for name in DATETIME_COLUMNS:
        values = pd.to_datetime(features.pop(name), errors="coerce")
        for part in DATETIME_PARTS:
            features[f"{name}_{part}"] = getattr(values.dt, part).astype("float64")
    return features
'''
    ]


def _prepare_features(spec: TrialSpec) -> str:
    numeric_constants = [
        c for p, c in (("numeric", "NUMERIC_COLUMNS"), ("boolean", "BOOLEAN_COLUMNS")) if spec.columns_for(p)
    ]
    string_constants = [
        c
        for p, c in (
            ("categorical", "CATEGORICAL_COLUMNS"),
            ("high_cardinality", "HIGH_CARDINALITY_COLUMNS"),
            ("text", "TEXT_COLUMNS"),
        )
        if spec.columns_for(p)
    ]
    lines = [
        "def prepare_features(dataframe: pd.DataFrame) -> pd.DataFrame:",
        '    """Select the feature columns in training order and give each the type the search used."""',
        "    missing = [name for name in FEATURE_COLUMNS if name not in dataframe.columns]",
        "    if missing:",
        '        raise ValueError(f"missing feature columns {missing}: '
        'the model needs every column it was trained on")',
        f"    known = {_known_columns(spec)}",
        "    ignored = [name for name in dataframe.columns if name not in known]",
        "    if ignored:",
        '        logger.warning("ignoring columns the model was not trained on: %s", ignored)',
        "    features = dataframe[FEATURE_COLUMNS].copy()",
    ]
    if numeric_constants:
        names = " + ".join(numeric_constants)
        lines += [
            "",
            "    # Numbers and booleans become float64. Infinities, and values beyond float32's range, which",
            "    # tree learners compute in, count as missing.",
            f'    numeric = features[{names}].astype("float64")',
            f"    features[{names}] = numeric.where(numeric.abs() <= np.finfo(np.float32).max)",
        ]
    if _number_coded_categories(spec):
        lines += [
            "",
            "    # Categories stored as numbers go through float64 first, so that 3750 and 3750.0 are one category.",
            "    for name in NUMBER_CODED_CATEGORY_COLUMNS:",
            '        features[name] = pd.to_numeric(features[name], errors="coerce").astype("float64")',
        ]
    if string_constants:
        names = " + ".join(string_constants)
        lines += [
            "",
            "    # Categories and text are compared as strings; NaN is the one missing marker.",
            f"    for name in {names}:",
            '        values = features[name].astype("string")',
            "        features[name] = values.astype(object).where(values.notna(), np.nan)",
        ]
    if spec.columns_for("text"):
        lines += ['    features[TEXT_COLUMNS] = features[TEXT_COLUMNS].fillna("")']
    if spec.columns_for("datetime"):
        lines += ["    features = add_datetime_parts(features)"]
    lines.append("    return features")
    return "\n".join(lines)


def _number_coded_categories(spec: TrialSpec) -> list[str]:
    """Return the category columns whose training values were numbers."""
    return [
        column.name
        for column in spec.columns
        if column.purpose in ("categorical", "high_cardinality") and _is_number_dtype(column.dtype)
    ]


def _is_number_dtype(dtype: str) -> bool:
    try:
        resolved = pd.api.types.pandas_dtype(dtype)
    except TypeError:
        return False
    return pd.api.types.is_numeric_dtype(resolved) and not pd.api.types.is_bool_dtype(resolved)


def _known_columns(spec: TrialSpec) -> str:
    """Return the expression of the columns that prepare_features may meet without warning."""
    parts = ["set(FEATURE_COLUMNS)", "{TARGET_COLUMN}"]
    if any(column.purpose == "ignore" for column in spec.columns):
        parts.append("set(DROPPED_COLUMNS)")
    if spec.weight_column is not None:
        parts.append("{WEIGHT_COLUMN}")
    return " | ".join(parts)


def _prepare_data(spec: TrialSpec) -> str:
    lines = [
        "def prepare_data(dataframe: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:",
        '    """Return features, target and sample weights; rows without a target are dropped."""',
        "    dataframe = dataframe[dataframe[TARGET_COLUMN].notna()]",
    ]
    if spec.target.class_labels is not None:
        lines += [
            "    target = dataframe[TARGET_COLUMN].astype(TARGET_DTYPE)",
            "    unknown = set(target) - set(CLASS_LABELS)",
            "    if unknown:",
            "        unknown_labels = sorted(map(str, unknown))",
            '        raise ValueError(f"target values {unknown_labels} are not among the classes {CLASS_LABELS}")',
            "    y = pd.Categorical(target, categories=CLASS_LABELS).codes.astype(np.int64)",
        ]
    else:
        lines += ['    y = dataframe[TARGET_COLUMN].to_numpy(dtype="float64")']
    if spec.weight_column is not None:
        lines += ['    sample_weights = dataframe[WEIGHT_COLUMN].to_numpy(dtype="float64")']
    else:
        lines += ["    sample_weights = None  # the search had no weight column"]
    lines.append("    return prepare_features(dataframe), y, sample_weights")
    return "\n".join(lines)


def _data_transformation(groups: list[ColumnGroup], imports: Imports, spec: TrialSpec, algorithm: Algorithm) -> str:
    for group in groups:
        for line in group.imports:
            imports.add_line(line)
    lines = [
        "def generate_data_transformation_config() -> ColumnTransformer:",
        '    """Turn each column group into numeric features."""',
        *[f"    {line}" for group in groups for line in group.setup],
        "    return ColumnTransformer(",
        "        [",
    ]
    for group in groups:
        lines.append(f"            # {group.description}")
        lines.append(_group_entry(group))
    if not spec.columns_for("text"):
        sparse, reason = "0.0", "dense output"
    elif algorithm.accepts_sparse:
        sparse, reason = "1.0", "keep TF-IDF features sparse"
    else:
        sparse, reason = "0.0", f"dense output, because {algorithm.class_name(spec.target.task)} rejects sparse input"
    lines += [
        "        ],",
        '        remainder="drop",',
        f"        sparse_threshold={sparse},  # {reason}",
        "    )",
    ]
    return "\n".join(lines)


def _group_entry(group: ColumnGroup) -> str:
    one_line = f'            ("{group.name}", {group.transformer}, {group.constant}),'
    if lit.width(one_line) <= lit.LINE_LENGTH:
        return one_line
    pad = lit.INDENT * 4
    return "\n".join(
        [
            f"{lit.INDENT * 3}(",
            f'{pad}"{group.name}",',
            f"{pad}{group.transformer},",
            f"{pad}{group.constant},",
            f"{lit.INDENT * 3}),",
        ]
    )


def _preprocessor(spec: TrialSpec, algorithm: Algorithm, imports: Imports) -> list[str]:
    if not algorithm.needs_scaling:
        return []
    imports.add_from("sklearn.preprocessing", "StandardScaler")
    if spec.columns_for("text"):
        scaler, why = "StandardScaler(with_mean=False)", "without centring, which would make text features dense"
    else:
        scaler, why = (
            "StandardScaler()",
            "to zero mean and unit variance, so that penalties and distances treat features alike",
        )
    return [
        f'''
def generate_preprocessor_config() -> StandardScaler:
    """Scale every feature {why}."""
    return {scaler}
'''
    ]


def _algorithm_config(spec: TrialSpec, algorithm: Algorithm, imports: Imports) -> str:
    class_name = algorithm.class_name(spec.target.task)
    imports.add_from(algorithm.module, class_name)
    arguments = {name: lit.literal(value) for name, value in spec.algorithm.params.items()}
    arguments.update({name: lit.literal(value) for name, value in algorithm.fixed_params(spec.target.task).items()})
    if algorithm.seed_param:
        arguments[algorithm.seed_param] = "RANDOM_SEED"
    if algorithm.threads_param:
        arguments[algorithm.threads_param] = "N_THREADS"
    lines = [f"def generate_algorithm_config() -> {class_name}:"]
    lines.append(
        f'    """{algorithm.task_display_name(spec.target.task)} with the hyperparameters this trial chose."""'
    )
    lines.append(f"    return {class_name}(")
    stopping = spec.algorithm.early_stopping
    for name, source in arguments.items():
        if stopping is not None and name == stopping["param"]:
            lines.append(
                f"        # Early stopping chose {stopping['rounds']} rounds (from at most {stopping['max_rounds']}, "
                f"patience {stopping['patience']})"
            )
            lines.append("        # on held-out rows; the search scored this fixed value.")
        lines.append(f"        {name}={source},")
    lines.append("    )")
    return "\n".join(lines)


def _pipeline(spec: TrialSpec, algorithm: Algorithm) -> str:
    steps = ['            ("featurization", generate_data_transformation_config()),']
    if algorithm.needs_scaling:
        steps.append('            ("preprocessing", generate_preprocessor_config()),')
    steps.append('            ("model", generate_algorithm_config()),')
    return "\n".join(
        [
            "def build_model_pipeline() -> Pipeline:",
            '    """Chain featurization and the algorithm into one estimator."""',
            "    return Pipeline(",
            "        [",
            *steps,
            "        ]",
            "    )",
        ]
    )


def _split_dataset(spec: TrialSpec, imports: Imports) -> str:
    validation = spec.validation
    signature = "def split_dataset(X: pd.DataFrame, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:"
    if validation.kind == "cv":
        splitter = "StratifiedKFold" if validation.stratified else "KFold"
        imports.add_from("sklearn.model_selection", splitter)
        note = (
            "# Stratified: each fold keeps the class proportions."
            if validation.stratified
            else f"# Not stratified: {lit.comment_text(validation.reason, 90)}"
        )
        return "\n".join(
            [
                signature,
                '    """Return the cross-validation folds the search scored this model on."""',
                f"    {note}",
                f"    folds = {splitter}(n_splits=N_FOLDS, shuffle=True, random_state=RANDOM_SEED)",
                "    return list(folds.split(X, y))",
            ]
        )
    if validation.kind == "holdout":
        imports.add_from("sklearn.model_selection", "train_test_split")
        stratify = "y" if validation.stratified else "None"
        return "\n".join(
            [
                signature,
                '    """Return the one train/validation split the search scored this model on."""',
                "    train_rows, valid_rows = train_test_split(",
                "        np.arange(len(y)),",
                "        test_size=HOLDOUT_FRACTION,",
                "        random_state=RANDOM_SEED,",
                f"        stratify={stratify},",
                "    )",
                "    return [(train_rows, valid_rows)]",
            ]
        )
    return ""


def _train_model() -> str:
    return '''
def train_model(X: pd.DataFrame, y: np.ndarray, sample_weights: np.ndarray | None) -> Pipeline:
    """Fit a fresh pipeline on the given rows."""
    model = build_model_pipeline()
    if sample_weights is None:
        model.fit(X, y)
    else:
        model.fit(X, y, model__sample_weight=sample_weights)
    return model
'''


def _calculate_metrics(spec: TrialSpec) -> str:
    task = spec.target.task
    names = metric_names(task, spec.metric)
    prediction_name = "probabilities" if task != "regression" else "predictions"
    lines = [
        f"def calculate_metrics(y: np.ndarray, {prediction_name}: np.ndarray, sample_weights: np.ndarray | None)"
        " -> dict[str, float]:",
        '    """Score predictions against the target, the primary metric first."""',
    ]
    if task == "binary":
        lines += ["    predicted = probabilities.argmax(axis=1)", "    positive = probabilities[:, 1]"]
    elif task == "multiclass":
        lines += ["    predicted = probabilities.argmax(axis=1)", "    codes = np.arange(len(CLASS_LABELS))"]
    lines.append("    scores = {")
    deferred = []
    for name in names:
        metric = METRICS[name]
        arguments = metric.source_arguments(task)
        if metric.needs_all_classes and task == "multiclass":
            deferred.append(lit.call(metric.function, arguments, prefix=f'scores["{name}"] = ', indent=2))
        else:
            lines.append(lit.call(metric.function, arguments, prefix=f'"{name}": ', suffix=",", indent=2))
    lines.append("    }")
    if deferred:
        lines.append(
            "    if len(np.unique(y)) == len(CLASS_LABELS):  # ROC AUC needs every class among the scored rows"
        )
        lines += deferred
    lines.append("    return {name: float(value) for name, value in scores.items()}")
    return "\n".join(lines)


def _evaluate_model(spec: TrialSpec) -> str:
    task = spec.target.task
    classification = task != "regression"
    if spec.validation.kind == "validation_data":
        return _evaluate_on_validation_file(classification)
    lines = [
        "def evaluate_model(X: pd.DataFrame, y: np.ndarray, sample_weights: np.ndarray | None) -> dict[str, float]:",
        '    """Fit on each training split and score the predictions for the rows held out, as the search did."""',
        "    splits = split_dataset(X, y)",
    ]
    if classification:
        lines.append("    predictions = np.zeros((len(X), len(CLASS_LABELS)))")
    else:
        lines.append("    predictions = np.zeros(len(X))")
    lines += [
        "    scored = np.zeros(len(X), dtype=bool)",
        "    for number, (train_rows, valid_rows) in enumerate(splits, start=1):",
        "        weights = None if sample_weights is None else sample_weights[train_rows]",
        "        model = train_model(X.iloc[train_rows], y[train_rows], weights)",
    ]
    if classification:
        lines += [
            "        # A split can miss a rare class; place each probability by the class the model saw.",
            "        classes = model.classes_",
            "        predictions[np.ix_(valid_rows, classes)] = model.predict_proba(X.iloc[valid_rows])",
        ]
    else:
        lines.append("        predictions[valid_rows] = model.predict(X.iloc[valid_rows])")
    lines += [
        "        scored[valid_rows] = True",
        '        logger.info("split %d of %d scored", number, len(splits))',
        "    weights = None if sample_weights is None else sample_weights[scored]",
        "    return calculate_metrics(y[scored], predictions[scored], weights)",
    ]
    return "\n".join(lines)


def _evaluate_on_validation_file(classification: bool) -> str:
    lines = [
        "def evaluate_model(",
        "    X: pd.DataFrame,",
        "    y: np.ndarray,",
        "    sample_weights: np.ndarray | None,",
        "    validation: tuple[pd.DataFrame, np.ndarray, np.ndarray | None],",
        ") -> dict[str, float]:",
        '    """Fit on the training rows and score the validation rows, as the search did."""',
        "    X_valid, y_valid, valid_weights = validation",
        "    model = train_model(X, y, sample_weights)",
    ]
    if classification:
        lines += [
            "    predictions = np.zeros((len(X_valid), len(CLASS_LABELS)))",
            "    predictions[:, model.classes_] = model.predict_proba(X_valid)",
        ]
    else:
        lines.append("    predictions = model.predict(X_valid)")
    lines.append("    return calculate_metrics(y_valid, predictions, valid_weights)")
    return "\n".join(lines)


def _predict(spec: TrialSpec, imports: Imports) -> list[str]:
    encoded = [
        name
        for purpose, name in (("categorical", "categorical_columns"), ("high_cardinality", "high_cardinality_columns"))
        if spec.columns_for(purpose)
    ]
    classification = spec.target.class_labels is not None
    call = "probabilities = model.predict_proba(features)"
    if not classification:
        call = "values = model.predict(features).astype(TARGET_DTYPE)  # XGBoost predicts float32"

    if encoded:
        imports.add("warnings")
        steps = f"""    features = prepare_features(dataframe)
    report_unseen_categories(model, features)
    with warnings.catch_warnings():
        # scikit-learn's own warning names column positions; report_unseen_categories names the columns.
        warnings.filterwarnings("ignore", message="Found unknown categories", category=UserWarning)
        {call}"""
    else:
        steps = f"""    features = prepare_features(dataframe)
    {call}"""
    if classification:
        body = f"""
def predict(model: Pipeline, dataframe: pd.DataFrame) -> pd.DataFrame:
    \"\"\"Predict labels and class probabilities for new rows, one output row per input row.\"\"\"
{steps}
    columns = [f"probability_{{label}}" for label in CLASS_LABELS]
    predictions = pd.DataFrame(probabilities, columns=columns, index=dataframe.index)
    labels = np.asarray(CLASS_LABELS, dtype=object)[probabilities.argmax(axis=1)]
    predictions.insert(0, "prediction", pd.Series(labels, index=dataframe.index).astype(TARGET_DTYPE))
    return predictions
"""
    else:
        body = f"""
def predict(model: Pipeline, dataframe: pd.DataFrame) -> pd.DataFrame:
    \"\"\"Predict the target for new rows, one output row per input row.\"\"\"
{steps}
    return pd.DataFrame({{"prediction": values}}, index=dataframe.index)
"""
    if not encoded:
        return [body]
    report = f"""
def report_unseen_categories(model: Pipeline, features: pd.DataFrame) -> None:
    \"\"\"Warn, by column, about categories that training never saw: they are encoded as unknown.\"\"\"
    featurization = model.named_steps["featurization"]
    for group in {lit.literal(encoded)}:
        encoder = featurization.named_transformers_[group]
        for name, known in zip(encoder.feature_names_in_, encoder.categories_, strict=True):
            unseen = sorted(set(features[name].dropna()) - set(known))
            if unseen:
                logger.warning("column %r: %d unseen value(s), encoded as unknown: %s", name, len(unseen), unseen[:5])
"""
    return [report, body]


def _main(spec: TrialSpec) -> str:
    validation_file = spec.validation.kind == "validation_data"
    data_help = "CSV or Parquet file with the training table" if spec.read.format == "csv" else "Parquet file"
    lines = [
        "def main() -> None:",
        "    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])",
        f'    parser.add_argument("--training-data", help="{data_help}")',
    ]
    if validation_file:
        lines.append('    parser.add_argument("--validation-data", help="file of the rows the search scored on")')
    lines += [
        '    parser.add_argument("--output-dir", default="outputs", help="folder for model.pkl and metrics.json")',
        '    parser.add_argument("--refit-only", action="store_true", help="train the final model without validation")',
        '    parser.add_argument("--model", help="model.pkl to predict with, instead of training")',
        '    parser.add_argument("--predict-data", help="rows to predict; writes predictions.parquet")',
        "    args = parser.parse_args()",
        "    if args.model and not args.predict_data:",
        '        parser.error("--model needs --predict-data, the rows to predict")',
        "    if not args.model and not args.training_data:",
        '        parser.error("--training-data is required to train (or give --model and --predict-data)")',
    ]
    if validation_file:
        lines += [
            "    if not args.model and not args.refit_only and not args.validation_data:",
            '        parser.error("--validation-data is required to score the model (or pass --refit-only)")',
        ]
    lines += [
        '    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")',
        "    output_dir = Path(args.output_dir)",
        "    output_dir.mkdir(parents=True, exist_ok=True)",
        "",
        "    with threadpool_limits(N_THREADS):",
        "        if args.model:",
        "            predictions = predict(joblib.load(args.model), read_table(args.predict_data))",
        '            predictions.to_parquet(output_dir / "predictions.parquet")',
        "            return",
        "",
        "        X, y, sample_weights = prepare_data(get_training_dataset(args.training_data))",
        '        logger.info("training data: %d rows, %d feature columns", len(X), X.shape[1])',
        "        if not args.refit_only:",
    ]
    if validation_file:
        lines.append(
            "            scores = evaluate_model(X, y, sample_weights, prepare_data(read_table(args.validation_data)))"
        )
    else:
        lines.append("            scores = evaluate_model(X, y, sample_weights)")
    lines += [
        '            (output_dir / "metrics.json").write_text(json.dumps(scores, indent=2))',
        "            print(json.dumps(scores))",
        "",
        "        # The search refit the chosen configuration on every training row.",
        "        model = train_model(X, y, sample_weights)",
        '        joblib.dump(model, output_dir / "model.pkl")',
    ]
    return "\n".join(lines)
