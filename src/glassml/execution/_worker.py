"""The code that runs inside a worker process: set the process up once, then run the jobs the pool sends.

Protocol on the worker's duplex pipe. After setup the worker sends one `WorkerReady`. The pool then
sends a `JobRequest` followed by the pickled payload as raw bytes (`send_bytes`), or `None` to stop the
worker. For each job the worker sends a `JobOutcome` followed by the pickled return value as raw bytes
(empty unless the job succeeded). Payload and value travel as separate byte messages so that a value
that fails to pickle or unpickle becomes a failed job instead of a broken pipe.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Literal

from threadpoolctl import threadpool_limits

# Exit code of a worker whose parent process died while the worker was busy.
EXIT_PARENT_GONE = 70


@dataclass(frozen=True)
class WorkerSettings:
    """Settings a worker process applies once, when it starts."""

    n_threads: int
    memory_limit_mb: int | None
    preload: tuple[str, ...]


@dataclass(frozen=True)
class WorkerReady:
    """First message of a worker: its process id and the preload imports that failed."""

    pid: int
    preload_errors: tuple[str, ...]


@dataclass(frozen=True)
class JobRequest:
    """Header of a job message; the pickled payload follows as a separate byte message."""

    job_id: int
    function: str


@dataclass(frozen=True)
class JobOutcome:
    """Header of a result message; the pickled return value follows as a separate byte message."""

    job_id: int
    status: Literal["ok", "failed"]
    error: str | None
    traceback: str | None
    seconds: float
    peak_memory_mb: float | None


def thread_environment(n_threads: int) -> dict[str, str]:
    """Return the environment variables that fix the thread count of OpenMP and BLAS libraries.

    OpenMP reads them once, when the runtime loads, so they must be set before the worker starts.
    `OMP_WAIT_POLICY=PASSIVE` makes idle OpenMP threads sleep instead of spinning, which keeps
    parallel trials on a busy machine from slowing each other down.
    """
    threads = str(n_threads)
    return {
        "OMP_WAIT_POLICY": "PASSIVE",
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
    }


def run_worker(connection: Connection, settings: WorkerSettings) -> None:
    """Set up this worker process, report ready, then run jobs until the pool stops it.

    The worker returns when it receives `None` or when the pool closes its end of the pipe.
    """
    _ignore_interrupts()
    # The parent set these before starting the process, which is what spawn children see. A forkserver
    # child inherits the environment of the fork server instead, which starts once per parent process,
    # so set them again before any library reads them.
    # NOTE: libraries that the fork server loaded already (the main module's imports) keep the wait
    # policy they started with. Their thread counts are still capped by threadpool_limits during each job.
    os.environ.update(thread_environment(settings.n_threads))
    _exit_when_parent_dies()
    _limit_memory(settings.memory_limit_mb)
    preload_errors = _import_modules(settings.preload)
    try:
        connection.send(WorkerReady(pid=os.getpid(), preload_errors=preload_errors))
    except OSError:
        return  # the pool shut down while this worker was starting

    functions: dict[str, Callable[[Any], Any]] = {}
    while True:
        try:
            request = connection.recv()
            if request is None:
                return
            payload_bytes = connection.recv_bytes()
        except EOFError:
            return

        outcome, value_bytes = run_job(request, payload_bytes, settings, functions)
        try:
            connection.send(outcome)
            connection.send_bytes(value_bytes)
        except OSError:
            # The pool closed its end of the pipe when it shut down, so no caller will read this result.
            return


def run_job(
    request: JobRequest,
    payload_bytes: bytes,
    settings: WorkerSettings,
    functions: dict[str, Callable[[Any], Any]],
) -> tuple[JobOutcome, bytes]:
    """Call the job's function on its payload and return the outcome header and the pickled value.

    Any exception of the job, including a return value that cannot be pickled, becomes a failed
    outcome, so the worker stays alive for the next job. `functions` caches resolved job functions.
    """
    _reset_peak_memory()
    start = time.perf_counter()
    try:
        function = _resolve_function(request.function, functions)
        payload = pickle.loads(payload_bytes)
        with threadpool_limits(limits=settings.n_threads):
            value = function(payload)
        value_bytes = _pickle_value(value, request.function)
    except BaseException as exc:  # SystemExit of a job is a failed job too, so catch every kind
        outcome = JobOutcome(
            job_id=request.job_id,
            status="failed",
            error=describe_exception(exc, settings.memory_limit_mb),
            traceback=traceback.format_exc(),
            seconds=time.perf_counter() - start,
            peak_memory_mb=read_peak_memory_mb(),
        )
        return outcome, b""

    outcome = JobOutcome(
        job_id=request.job_id,
        status="ok",
        error=None,
        traceback=None,
        seconds=time.perf_counter() - start,
        peak_memory_mb=read_peak_memory_mb(),
    )
    return outcome, value_bytes


def describe_exception(exc: BaseException, memory_limit_mb: int | None) -> str:
    """Return a one-line reason such as ``"ValueError: bad value"``. The traceback keeps the full message."""
    lines = str(exc).strip().splitlines()
    message = lines[0] if lines else ""
    if isinstance(exc, MemoryError):
        limit = "" if memory_limit_mb is None else f" (limit {memory_limit_mb} MB)"
        detail = f": {message}" if message else ""
        return f"MemoryError: out of memory{limit}{detail}"
    if not message:
        return type(exc).__name__
    return f"{type(exc).__name__}: {message}"


def read_peak_memory_mb() -> float | None:
    """Return the peak resident memory of this process in MB, or None where the platform does not report it.

    On Linux this is VmHWM, which `_reset_peak_memory` resets before each job, so the value covers
    one job. Elsewhere it is `ru_maxrss`, the peak since the worker started.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass

    try:
        import resource
    except ImportError:
        return None
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in bytes on macOS and in kilobytes on Linux, as getrusage(2) documents on each.
    return max_rss / (1024 * 1024) if sys.platform == "darwin" else max_rss / 1024


def _reset_peak_memory() -> None:
    # Writing "5" to clear_refs resets VmHWM, the peak resident set size (Linux 4.0 and later, see
    # proc_pid_clear_refs(5)). Without it, the peak reported afterwards covers the worker's whole life.
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


def _resolve_function(path: str, functions: dict[str, Callable[[Any], Any]]) -> Callable[[Any], Any]:
    if path in functions:
        return functions[path]

    module_name, _, qualified_name = path.partition(":")
    target: Any = importlib.import_module(module_name)
    for attribute in qualified_name.split("."):
        try:
            target = getattr(target, attribute)
        except AttributeError:
            raise AttributeError(
                f"job function {path!r} not found: {module_name!r} has no attribute {qualified_name!r}"
            ) from None
    if not callable(target):
        raise TypeError(f"job function {path!r} is a {type(target).__name__}, not a callable")

    functions[path] = target
    return target


def _pickle_value(value: Any, function_path: str) -> bytes:
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise TypeError(
            f"the return value of {function_path!r} ({type(value).__name__}) cannot be pickled, so the worker "
            f"cannot send it to the parent process: {exc}. Return plain data (numbers, strings, lists, dicts, "
            "arrays, DataFrames) or objects of classes defined at module level."
        ) from exc


def _ignore_interrupts() -> None:
    # Ctrl-C reaches every process of the terminal's process group. Workers ignore it, and the parent
    # decides what happens to them. The pool blocks SIGINT while it starts a worker, so an interrupt
    # that arrived before this point is still pending, and setting SIG_IGN discards it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _exit_when_parent_dies() -> None:
    # A worker busy with a long job would not notice a dead parent until it next reads the pipe. The
    # parent sentinel of multiprocessing (spawn and forkserver) becomes ready when the parent process
    # exits or drops the Process object, so a watchdog thread ends the worker then.
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def exit_after_parent() -> None:
        parent.join()
        os._exit(EXIT_PARENT_GONE)

    threading.Thread(target=exit_after_parent, name="glassml-parent-watchdog", daemon=True).start()


def _limit_memory(memory_limit_mb: int | None) -> None:
    if memory_limit_mb is None:
        return

    # NOTE: RLIMIT_AS caps virtual address space. Linux enforces it, so an allocation beyond it raises
    # MemoryError. Other platforms may not enforce it, and the pool was not tested on them.
    import resource

    limit_bytes = memory_limit_mb * 1024 * 1024
    _, hard_limit = resource.getrlimit(resource.RLIMIT_AS)
    if hard_limit != resource.RLIM_INFINITY:
        limit_bytes = min(limit_bytes, hard_limit)
    resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, hard_limit))


def _import_modules(names: tuple[str, ...]) -> tuple[str, ...]:
    errors = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # the parent logs a broken preload, and the jobs that need the module fail
            errors.append(f"{name}: {describe_exception(exc, None)}")
    return tuple(errors)
