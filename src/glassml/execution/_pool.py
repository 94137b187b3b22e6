"""A pool of worker processes that run jobs with deadlines and survive their failures.

Workers are started with `spawn` (LightGBM can hang in a child created by `fork`), with OpenMP's
wait policy and thread counts fixed in their environment before they start. A job that raises is
a failed job and the worker stays; a job past its deadline or a worker that dies is killed and
replaced. The parent never raises because of a job.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import resource
import signal
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

logger = logging.getLogger(__name__)

JobStatus = Literal["ok", "failed", "timeout", "crashed"]

# OpenMP threads that spin while waiting make two busy processes on two cores 5-15x slower.
THREAD_ENVIRONMENT = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class JobResult:
    """How one job ended.

    `error` is a one-line reason when the job did not succeed; `seconds` is its wall time in the
    worker, or until it was killed.
    """

    job_id: int
    status: JobStatus
    value: Any = None
    error: str | None = None
    traceback: str | None = None
    seconds: float = 0.0
    peak_memory_mb: float | None = None


@dataclass
class _Job:
    job_id: int
    deadline: float
    started: float
    timeout: float


class _Worker:
    def __init__(self, process: multiprocessing.process.BaseProcess, connection: Any) -> None:
        self.process = process
        self.connection = connection
        self.job: _Job | None = None


class WorkerPool:
    """Worker processes that run `package.module:function` jobs, each with a timeout.

    Parameters
    ----------
    n_workers : int, default=1
        Number of worker processes; each runs one job at a time.
    n_threads : int, default=1
        Thread count of the numeric libraries in each worker.
    memory_limit_mb : int or None, default=None
        Address-space limit of each worker; a job that exceeds it fails with MemoryError.
    start_method : {"spawn", "forkserver"}, default="spawn"
        How workers are started.
    preload : sequence of str, default=()
        Modules each worker imports when it starts, while the parent does other work.
    """

    def __init__(
        self,
        n_workers: int = 1,
        n_threads: int = 1,
        memory_limit_mb: int | None = None,
        start_method: str = "spawn",
        preload: Sequence[str] = (),
    ) -> None:
        if start_method not in ("spawn", "forkserver"):
            raise ValueError(f"start_method {start_method!r} is not supported; use 'spawn' or 'forkserver'")
        if n_workers < 1 or n_threads < 1:
            raise ValueError(f"n_workers and n_threads must be at least 1, got {n_workers} and {n_threads}")
        self.n_threads = n_threads
        self.memory_limit_mb = memory_limit_mb
        self.preload = tuple(preload)
        self._context = multiprocessing.get_context(start_method)
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        for name in THREAD_ENVIRONMENT:
            os.environ[name] = str(n_threads)
        self._workers = [self._start_worker() for _ in range(n_workers)]

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown(kill=True)

    @property
    def idle_workers(self) -> int:
        return sum(worker.job is None for worker in self._workers)

    @property
    def running_jobs(self) -> int:
        return sum(worker.job is not None for worker in self._workers)

    def submit(self, job_id: int, function: str, payload: Any, timeout: float) -> None:
        """Start `function(payload)` in an idle worker; it is killed after `timeout` seconds."""
        worker = next((worker for worker in self._workers if worker.job is None), None)
        if worker is None:
            raise RuntimeError("no idle worker: wait() for a running job to end before submitting another")
        now = time.monotonic()
        worker.job = _Job(job_id, now + timeout, now, timeout)
        worker.connection.send((job_id, function, payload))

    def wait(self, timeout: float | None = None) -> list[JobResult]:
        """Return the jobs that ended within `timeout` seconds, killing those past their deadline."""
        busy = [worker for worker in self._workers if worker.job is not None]
        if not busy:
            return []
        now = time.monotonic()
        next_deadline = min(worker.job.deadline for worker in busy if worker.job is not None)
        wait_for = max(0.0, next_deadline - now)
        if timeout is not None:
            wait_for = min(wait_for, timeout)
        handles = [worker.connection for worker in busy] + [worker.process.sentinel for worker in busy]
        multiprocessing.connection.wait(handles, timeout=wait_for)

        results = []
        for index, worker in enumerate(self._workers):
            job = worker.job
            if job is None:
                continue
            result = self._collect(worker, job)
            if result is None and time.monotonic() >= job.deadline:
                result = JobResult(
                    job.job_id, "timeout", error=f"timed out after {job.timeout:.1f} s", seconds=job.timeout
                )
                self._replace(index, kill=True)
            elif result is not None and result.status == "crashed":
                self._replace(index, kill=True)
            if result is not None:
                worker.job = None
                results.append(result)
        return results

    def shutdown(self, kill: bool = False) -> None:
        """Stop every worker: politely when idle, by SIGKILL when busy or when `kill` is set."""
        for worker in self._workers:
            try:
                if kill or worker.job is not None:
                    worker.process.kill()
                else:
                    worker.connection.send(None)
            except (OSError, ValueError):
                pass
        for worker in self._workers:
            worker.process.join(timeout=2.0)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=2.0)
            worker.connection.close()
        self._workers = []

    def _collect(self, worker: _Worker, job: _Job) -> JobResult | None:
        try:
            if worker.connection.poll():
                job_id, status, value, error, trace, seconds, peak = worker.connection.recv()
                return JobResult(job_id, status, value, error, trace, seconds, peak)
        except (EOFError, OSError):
            pass
        if worker.process.is_alive():
            return None
        worker.process.join(timeout=1.0)
        code = worker.process.exitcode
        reason = f"worker died with exit code {code}"
        if code == -signal.SIGKILL:
            reason += " (killed, possibly out of memory)"
        return JobResult(job.job_id, "crashed", error=reason, seconds=time.monotonic() - job.started)

    def _replace(self, index: int, kill: bool) -> None:
        worker = self._workers[index]
        if kill and worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=2.0)
        worker.connection.close()
        logger.debug("replacing worker %s", worker.process.pid)
        replacement = self._start_worker()
        self._workers[index] = replacement

    def _start_worker(self) -> _Worker:
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_worker_main,
            args=(child_end, self.n_threads, self.memory_limit_mb, self.preload),
            name="glassml-worker",
            daemon=True,
        )
        process.start()
        child_end.close()
        return _Worker(process, parent_end)


def _worker_main(connection: Any, n_threads: int, memory_limit_mb: int | None, preload: tuple[str, ...]) -> None:
    # Ctrl-C goes to the whole process group; the parent decides what happens to workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if memory_limit_mb is not None:
        limit = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from threadpoolctl import threadpool_limits

    threadpool_limits(n_threads)
    for module in preload:
        try:
            importlib.import_module(module)
        except ImportError as error:
            logger.debug("worker could not preload %s: %s", module, error)

    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        job_id, function, payload = message
        connection_reply = _run_job(job_id, function, payload, memory_limit_mb)
        try:
            connection.send(connection_reply)
        except Exception as error:  # the value could not be pickled
            job_id, _, _, _, _, seconds, peak = connection_reply
            connection.send(
                (job_id, "failed", None, f"the job's result could not be sent: {error}", None, seconds, peak)
            )


def _run_job(job_id: int, function: str, payload: Any, memory_limit_mb: int | None) -> tuple[Any, ...]:
    started = time.perf_counter()
    try:
        module_name, _, attribute = function.partition(":")
        value = getattr(importlib.import_module(module_name), attribute)(payload)
        outcome: tuple[Any, ...] = ("ok", value, None, None)
    except MemoryError:
        limit = f" (limit {memory_limit_mb} MB)" if memory_limit_mb else ""
        outcome = ("failed", None, f"MemoryError: out of memory{limit}", traceback.format_exc())
    except Exception as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        outcome = ("failed", None, f"{type(error).__name__}: {message}", traceback.format_exc())
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (job_id, *outcome, seconds, peak)
