"""The parent's handle of one worker process: start it with fixed thread settings, send jobs, kill it."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import pickle
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess

import psutil

from glassml.execution._worker import JobRequest, WorkerSettings, run_worker, thread_environment

logger = logging.getLogger(__name__)


@dataclass
class RunningJob:
    """A job assigned to a worker, with its clock.

    `started_at`, `deadline` and `latest_end` are `time.monotonic()` values. The clock starts when
    the worker is ready, so a worker's start-up time does not count against the job's timeout. The
    job ends by `latest_end` all the same, started or not.
    """

    job_id: int
    function: str
    timeout: float
    started_at: float | None = None
    deadline: float = math.inf
    latest_end: float = math.inf

    def start_clock(self, now: float) -> None:
        """Start the job's clock at `now`."""
        self.started_at = now
        self.deadline = min(now + self.timeout, self.latest_end)

    def expired(self, now: float) -> bool:
        """Return whether the job passed its deadline or its latest end."""
        return now >= min(self.deadline, self.latest_end)

    def elapsed(self, now: float) -> float:
        """Return the seconds since the job's clock started, or 0.0 if it has not started."""
        return 0.0 if self.started_at is None else now - self.started_at


def describe_exit_code(exit_code: int | None) -> str:
    """Return ``"exit code 3"`` or ``"exit code -9 (killed by SIGKILL, possibly out of memory)"``."""
    if exit_code is None:
        return "an unknown exit code"
    if exit_code >= 0:
        return f"exit code {exit_code}"

    try:
        signal_name = signal.Signals(-exit_code).name
    except ValueError:
        signal_name = f"signal {-exit_code}"
    if -exit_code == signal.SIGKILL:
        # The Linux out-of-memory killer sends SIGKILL, as does a user's `kill -9`.
        return f"exit code {exit_code} (killed by {signal_name}, possibly out of memory)"
    return f"exit code {exit_code} (killed by {signal_name})"


class WorkerProcess:
    """Parent-side state of one worker process: the process, its pipe, readiness and current job."""

    def __init__(self, context: BaseContext, settings: WorkerSettings, name: str) -> None:
        parent_end, child_end = context.Pipe(duplex=True)
        self.process = context.Process(target=run_worker, args=(child_end, settings), name=name, daemon=False)
        self.connection = parent_end
        self.ready = False
        self.job: RunningJob | None = None

        os.environ.update(thread_environment(settings.n_threads))
        _start_with_interrupts_blocked(self.process)
        # The child has its own copy now. Closing ours lets `recv` raise EOFError when the child dies.
        child_end.close()
        self.started_at = time.monotonic()
        logger.debug("Started worker process %s (pid %s)", name, self.process.pid)

    @property
    def pid(self) -> int:
        """Process id of the worker."""
        assert self.process.pid is not None  # set by start() in __init__
        return self.process.pid

    @property
    def sentinel(self) -> int:
        """File descriptor that becomes ready when the worker process ends."""
        return self.process.sentinel

    def send_job(self, job: RunningJob, payload_bytes: bytes) -> None:
        """Assign `job` to this worker and send it with its pickled payload.

        A worker that died unnoticed cannot receive the job. The error is logged, and the next
        `WorkerPool.wait` reports the job as crashed when the process's sentinel becomes ready.
        """
        self.job = job
        if self.ready:
            job.start_clock(time.monotonic())
        try:
            self.connection.send(JobRequest(job_id=job.job_id, function=job.function))
            self.connection.send_bytes(payload_bytes)
        except OSError as exc:
            logger.debug("Could not send job %s to worker pid %s: %s", job.job_id, self.pid, exc)

    def request_stop(self) -> None:
        """Ask an idle worker to exit after it reads the message."""
        try:
            self.connection.send(None)
        except OSError as exc:
            logger.debug("Could not send the stop message to worker pid %s: %s", self.pid, exc)

    def kill(self) -> None:
        """Kill the worker and the processes it started (for example joblib workers of a job), then reap it."""
        try:
            descendants = psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            descendants = []

        self.process.kill()
        for descendant in descendants:
            try:
                descendant.kill()
            except psutil.Error:
                pass  # it exited on its own
        self.process.join(timeout=10.0)
        if self.process.exitcode is None:
            logger.warning("Worker pid %s is still alive 10 s after SIGKILL", self.pid)

    def close(self) -> None:
        """Close the parent's end of the pipe."""
        self.connection.close()


def pickle_payload(job_id: int, payload: object) -> bytes:
    """Pickle a job's payload in the parent, so that an unpicklable payload raises in `submit`."""
    try:
        return pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise TypeError(
            f"the payload of job {job_id} ({type(payload).__name__}) cannot be pickled, so it cannot be sent to a "
            f"worker process: {exc}. Pass plain data or objects of classes defined at module level."
        ) from exc


def _start_with_interrupts_blocked(process: BaseProcess) -> None:
    # The child inherits the signal mask. With SIGINT blocked until the worker installs SIG_IGN,
    # a Ctrl-C during the child's start-up cannot raise KeyboardInterrupt in it. The parent gets
    # any SIGINT that arrives meanwhile as soon as the mask is restored.
    if not hasattr(signal, "pthread_sigmask"):
        process.start()
        return

    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        with _main_module_hidden():
            process.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Keep a spawned worker from running the parent's main script.

    `spawn` re-runs the parent's `__main__` file in the child when it has a `__file__` or a
    `__spec__`, so a user's script that calls glassml without an `if __name__ == "__main__":`
    guard would start a search in every worker. Workers need nothing from `__main__`: jobs are
    named by module path and payloads are plain data.
    """
    main = sys.modules["__main__"]
    saved = {name: main.__dict__[name] for name in ("__file__", "__spec__") if name in main.__dict__}
    for name in saved:
        if name == "__spec__":
            main.__spec__ = None
        else:
            del main.__dict__[name]
    try:
        yield
    finally:
        main.__dict__.update(saved)
