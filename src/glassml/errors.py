"""Exceptions and warnings that glassml raises for its users."""

from __future__ import annotations


class GlassmlError(Exception):
    """Base class of the errors glassml raises on purpose."""


class UserInputError(GlassmlError, ValueError):
    """The user's data or options cannot be used; the message names the value and what to do.

    The command line prints the message without a traceback and exits with code 2.
    """


class TrialError(GlassmlError):
    """A trial failed; the message names the trial and the original error is attached."""


class GlassmlWarning(UserWarning):
    """Base class of the warnings glassml emits, including its data guardrails."""
