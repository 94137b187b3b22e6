"""Job functions that exercise each way a `WorkerPool` job can end, for the pool's tests.

A worker imports a job function by its dotted path, so these live in an importable module instead
of a test file. Each function takes the single payload that `WorkerPool.submit` sends.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Sequence
from typing import Any


def echo(payload: Any) -> Any:
    """Return the payload unchanged."""
    return payload


def raise_value_error(message: str) -> None:
    """Raise ValueError with `message`."""
    raise ValueError(message)


def sleep(seconds: float) -> int:
    """Sleep for `seconds`, then return the worker's process id."""
    time.sleep(seconds)
    return os.getpid()


def exit_process(exit_code: int) -> None:
    """End the worker at once with `exit_code`, skipping cleanup as a crashing extension would."""
    os._exit(exit_code)


def kill_process(_: Any) -> None:
    """Send SIGKILL to the worker itself, as the Linux out-of-memory killer would."""
    os.kill(os.getpid(), signal.SIGKILL)


def allocate(megabytes: int) -> int:
    """Allocate a zero-filled buffer of `megabytes` MB and return its size in bytes."""
    buffer = bytearray(megabytes * 1024 * 1024)
    return len(buffer)


def describe_worker(variable_names: Sequence[str]) -> dict[str, Any]:
    """Return the worker's process id and the values of the given environment variables (None if unset)."""
    return {
        "pid": os.getpid(),
        "environment": {name: os.environ.get(name) for name in variable_names},
    }


def return_unpicklable(_: Any) -> Any:
    """Return a lock, which pickle rejects, so the worker cannot send the result back."""
    return threading.Lock()
