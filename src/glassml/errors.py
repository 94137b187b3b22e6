"""Exceptions and warnings that glassml raises for its users."""

from __future__ import annotations


class GlassmlError(Exception):
    """Base class of the errors glassml raises on purpose."""


class UserInputError(GlassmlError, ValueError):
    """The user's data or options cannot be used; the message names the value and what to do.

    The command line prints the message without a traceback and exits with code 2.
    """


class GlassmlWarning(UserWarning):
    """Base class of the warnings glassml emits, including its data guardrails."""


class GuardrailWarning(GlassmlWarning):
    """Base class of the data guardrails: a check of the training table found something to report."""


class MissingValuesWarning(GuardrailWarning):
    """Feature columns have missing values, which featurization imputes or encodes."""


class MissingTargetWarning(GuardrailWarning):
    """Rows without a target value were dropped before training."""


class DroppedColumnWarning(GuardrailWarning):
    """Constant, all-missing or identifier columns were left out of the features."""


class HighCardinalityWarning(GuardrailWarning):
    """Text columns with many distinct values are encoded without one-hot encoding."""


class ClassImbalanceWarning(GuardrailWarning):
    """The largest class has at least 10 times the rows of the smallest."""


class RareClassWarning(GuardrailWarning):
    """Classes have fewer rows than a stratified split needs, so validation is not stratified."""


class InfiniteValuesWarning(GuardrailWarning):
    """Numeric columns hold infinities or values beyond float32's range, which count as missing."""


class MissingTokenWarning(GuardrailWarning):
    """CSV cells of numeric columns equal to a missing-value token such as "NA" were read as missing."""


class SmallDataWarning(GuardrailWarning):
    """Fewer than 1,000 rows have a target value."""


class WideDataWarning(GuardrailWarning):
    """The table has more feature columns than rows with a target value."""


class DuplicateRowsWarning(GuardrailWarning):
    """Rows repeat an earlier row in every feature column and the target."""


class TargetLeakageWarning(GuardrailWarning):
    """A single feature column predicts the target almost perfectly, which often means it leaks the target."""


class TimeSeriesWarning(GuardrailWarning):
    """Series were changed to fit the time grid (steps aligned, gaps filled, duplicates combined) or are short."""
