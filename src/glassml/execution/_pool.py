"""A pool of worker processes that runs one job per worker and survives jobs that hang or crash."""

from __future__ import annotations

import atexit
import importlib.util
import logging
import math
import multiprocessing
import multiprocessing.util
import pickle
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import connection as mp_connection
from types import TracebackType
from typing import Any, Literal

from glassml.execution._process import RunningJob, WorkerProcess, describe_exit_code, pickle_payload
from glassml.execution._worker import JobOutcome, WorkerReady, WorkerSettings

logger = logging.getLogger(__name__)

JobStatus = Literal["ok", "failed", "timeout", "crashed", "cancelled"]

START_METHODS = ("spawn", "forkserver")

# After this many workers in a row die or hang before they are ready, the pool stops replacing them,
# because the cause is then in the environment (a missing guard in the main script, a broken preload).
_MAX_STARTUP_FAILURES = 3

# Seconds that `shutdown(kill=False)` gives idle workers to exit before it kills them.
_STOP_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class JobResult:
    """Outcome of one job run by a `WorkerPool`.

    Attributes
    ----------
    job_id : int
        The id passed to `WorkerPool.submit`.
    status : {"ok", "failed", "timeout", "crashed", "cancelled"}
        "ok": the function returned. "failed": it raised, or its return value could not be sent back,
        and the worker stays alive. "timeout": the job passed its deadline and its worker was killed.
        "crashed": the worker process died. "cancelled": `WorkerPool.shutdown` stopped the job.
    value : Any
        The function's return value when the status is "ok", else None.
    error : str or None
        One-line reason when the status is not "ok", such as ``"ValueError: ..."``,
        ``"timed out after 12.0 s"`` or ``"worker died with exit code -9 (killed by SIGKILL, possibly out
        of memory)"``.
    traceback : str or None
        The traceback from the worker when the status is "failed".
    seconds : float
        Wall time of the job in the worker, or until the parent killed it.
    peak_memory_mb : float or None
        Peak resident memory of the worker during the job (on Linux) or since the worker started
        (elsewhere). None when the worker was killed or died.
    """

    job_id: int
    status: JobStatus
    value: Any
    error: str | None
    traceback: str | None
    seconds: float
    peak_memory_mb: float | None


class WorkerPool:
    """Run jobs in worker processes, one job per worker at a time.

    Workers start right away, so their imports overlap with the caller's work. Each worker runs
    with `OMP_WAIT_POLICY=PASSIVE` and a fixed thread count in its environment, limits its thread
    pools with threadpoolctl during each job, and ignores SIGINT, so Ctrl-C reaches only the
    parent, which then calls `shutdown`. When a job passes its deadline, or its worker dies, the
    pool kills the worker, starts a replacement and reports the job with status "timeout" or
    "crashed". A job's exception is reported with status "failed" and the worker stays alive, so
    module-level caches of job functions persist between jobs.

    The memory limit and the SIGINT handling rely on POSIX, and the pool was tested on Linux only.
    A pool is not thread-safe, so use it from one thread.

    Parameters
    ----------
    n_workers : int, default=1
        Number of worker processes, and so the number of jobs that run at the same time.
    n_threads : int, default=1
        Threads per worker for OpenMP, BLAS and other native thread pools.
    memory_limit_mb : int or None, default=None
        Address-space limit of each worker in MB (RLIMIT_AS). An allocation beyond it raises
        MemoryError inside the job, which then fails.
    start_method : {"spawn", "forkserver"}, default="spawn"
        How multiprocessing starts workers. "fork" is not allowed because LightGBM can hang in a
        forked child.
    preload : sequence of str, default=()
        Modules each worker imports when it starts, such as ``("lightgbm", "sklearn.ensemble")``.
    startup_timeout : float, default=120.0
        Seconds a worker may take to start, preload included, before the pool kills it.

    Examples
    --------
    >>> from glassml.execution import WorkerPool
    >>> with WorkerPool(n_workers=1) as pool:  # doctest: +SKIP
    ...     pool.submit(1, "math:sqrt", 16.0, timeout=10.0)
    ...     [result] = pool.wait()
    >>> result.status, result.value  # doctest: +SKIP
    ('ok', 4.0)
    """

    def __init__(
        self,
        n_workers: int = 1,
        n_threads: int = 1,
        memory_limit_mb: int | None = None,
        start_method: str = "spawn",
        preload: Sequence[str] = (),
        startup_timeout: float = 120.0,
    ) -> None:
        _validate_options(n_workers, n_threads, memory_limit_mb, start_method, preload, startup_timeout)
        self._context = multiprocessing.get_context(start_method)
        self._settings = WorkerSettings(n_threads=n_threads, memory_limit_mb=memory_limit_mb, preload=tuple(preload))
        self._startup_timeout = float(startup_timeout)
        self._workers: list[WorkerProcess] = []
        self._workers_started = 0
        self._startup_failures = 0
        self._broken_reason: str | None = None
        self._closed = False

        try:
            for _ in range(n_workers):
                self._start_worker()
        except BaseException:
            self.shutdown(kill=True)
            raise
        _live_pools.add(self)
        memory_limit = "no memory limit" if memory_limit_mb is None else f"memory limit {memory_limit_mb} MB"
        logger.debug(
            "Started %d worker processes (%s, %d threads per worker, %s)",
            n_workers,
            start_method,
            n_threads,
            memory_limit,
        )

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        exc_traceback: TracebackType | None,
    ) -> None:
        # After an exception (KeyboardInterrupt included) the caller collects no more results, so kill at once.
        self.shutdown(kill=exc_type is not None)

    @property
    def idle_workers(self) -> int:
        """Number of workers without a job, including workers that are still starting."""
        return sum(worker.job is None for worker in self._workers)

    @property
    def running_jobs(self) -> int:
        """Number of submitted jobs whose results `wait` has not returned yet."""
        return sum(worker.job is not None for worker in self._workers)

    @property
    def ready_idle_workers(self) -> int:
        """Number of workers without a job that have finished starting."""
        return sum(worker.job is None and worker.ready for worker in self._workers)

    @property
    def worker_pids(self) -> tuple[int, ...]:
        """Process ids of the current workers."""
        return tuple(worker.pid for worker in self._workers)

    def submit(self, job_id: int, function: str, payload: Any, timeout: float, latest_end: float | None = None) -> None:
        """Send a job to an idle worker, which calls ``function(payload)``.

        Parameters
        ----------
        job_id : int
            Id of the job, returned in its `JobResult`; unique among running jobs.
        function : str
            Dotted path ``"package.module:function"`` that the worker imports.
        payload : Any
            The function's single argument; it must pickle.
        timeout : float
            Seconds the job may run, counted from when its worker is ready.
        latest_end : float or None, default=None
            A `time.monotonic()` value by which the job ends even when its worker was still starting.

        Raises
        ------
        RuntimeError
            If no worker is idle (check `idle_workers`), the pool is shut down, or workers fail to start.
        ValueError
            If an argument is invalid or `job_id` is already running.
        TypeError
            If `payload` cannot be pickled.
        """
        self._check_accepting_jobs()
        _validate_function_path(function)
        _validate_seconds("timeout", timeout)
        if any(worker.job is not None and worker.job.job_id == job_id for worker in self._workers):
            raise ValueError(f"job {job_id} is already running; give each running job its own job_id")
        payload_bytes = pickle_payload(job_id, payload)

        worker = self._find_idle_worker()
        job = RunningJob(job_id=job_id, function=function, timeout=float(timeout))
        if latest_end is not None:
            job.latest_end = float(latest_end)
        worker.send_job(job, payload_bytes)
        logger.debug("Submitted job %s (%s) to worker pid %s", job_id, function, worker.pid)

    def wait(self, timeout: float | None = None) -> list[JobResult]:
        """Wait until at least one job ends, then return the results of all jobs that have ended.

        Kills and replaces workers whose job passed its deadline or that died. Returns an empty list
        when `timeout` seconds pass first, or at once when no job is running.

        Parameters
        ----------
        timeout : float or None, default=None
            Maximum seconds to wait; None waits until a job ends.
        """
        if timeout is not None:
            _validate_seconds("timeout", timeout, allow_zero=True)
        end = math.inf if timeout is None else time.monotonic() + timeout

        while True:
            wake_at = min(end, self._next_deadline()) if self.running_jobs else time.monotonic()
            results = self._collect_events(wake_at)
            if results or not self.running_jobs or time.monotonic() >= end:
                return results

    def shutdown(self, kill: bool = False) -> list[JobResult]:
        """Stop all workers and return the results that `wait` has not returned yet.

        Running jobs are killed and returned with status "cancelled"; jobs that had ended keep their
        result. With ``kill=False`` idle workers get a stop message and a few seconds to exit, and
        workers still starting are killed. With ``kill=True`` (for example on KeyboardInterrupt) every
        worker is killed at once. Calling it again does nothing.
        """
        if self._closed:
            return []
        self._closed = True
        _live_pools.discard(self)

        results: list[JobResult] = []
        for worker in self._workers:
            finished, _ = self._read_messages(worker)
            results.extend(finished)

        now = time.monotonic()
        for worker in self._workers:
            if worker.job is not None:
                results.append(
                    _job_result(
                        worker.job, "cancelled", f"cancelled by shutdown after {worker.job.elapsed(now):.1f} s", now
                    )
                )
                worker.job = None
                worker.kill()
            elif kill or not worker.ready:
                # A worker that is still starting has nothing to finish, and its imports can take long.
                worker.kill()
            else:
                worker.request_stop()

        self._join_workers(time.monotonic() + _STOP_GRACE_SECONDS)
        logger.debug("Stopped %d worker processes", len(self._workers))
        self._workers.clear()
        return results

    def _start_worker(self) -> None:
        self._workers_started += 1
        name = f"glassml-worker-{self._workers_started}"
        self._workers.append(WorkerProcess(self._context, self._settings, name))

    def _check_accepting_jobs(self) -> None:
        if self._closed:
            raise RuntimeError("the worker pool is shut down; create a new WorkerPool to run more jobs")
        if self._broken_reason is not None:
            raise RuntimeError(self._broken_reason)

    def _find_idle_worker(self) -> WorkerProcess:
        idle = [worker for worker in self._workers if worker.job is None]
        if not idle:
            raise RuntimeError(
                f"no idle worker: all {len(self._workers)} workers are running a job; "
                "call wait() until idle_workers > 0 before submitting"
            )
        # A ready worker starts the job now; one that is still starting would delay it.
        ready = [worker for worker in idle if worker.ready]
        return (ready or idle)[0]

    def _next_deadline(self) -> float:
        deadlines = [
            min(worker.job.deadline, worker.job.latest_end) for worker in self._workers if worker.job is not None
        ]
        deadlines += [worker.started_at + self._startup_timeout for worker in self._workers if not worker.ready]
        return min(deadlines, default=math.inf)

    def _collect_events(self, wake_at: float) -> list[JobResult]:
        handles: dict[Any, WorkerProcess] = {}
        for worker in self._workers:
            handles[worker.connection] = worker
            handles[worker.sentinel] = worker
        remaining = wake_at - time.monotonic()
        timeout = None if math.isinf(remaining) else max(0.0, remaining)
        ready_handles = mp_connection.wait(list(handles), timeout=timeout)

        results: list[JobResult] = []
        touched: list[WorkerProcess] = []
        for handle in ready_handles:
            if handles[handle] not in touched:
                touched.append(handles[handle])
        for worker in touched:
            results.extend(self._handle_worker_events(worker))
        results.extend(self._enforce_deadlines())
        return results

    def _handle_worker_events(self, worker: WorkerProcess) -> list[JobResult]:
        results, pipe_closed = self._read_messages(worker)
        if pipe_closed or not worker.process.is_alive():
            crash = self._handle_exit(worker)
            if crash is not None:
                results.append(crash)
        return results

    def _read_messages(self, worker: WorkerProcess) -> tuple[list[JobResult], bool]:
        """Handle the messages waiting in a worker's pipe, and return the results and whether the pipe is closed."""
        results: list[JobResult] = []
        try:
            while worker.connection.poll():
                message = worker.connection.recv()
                if isinstance(message, WorkerReady):
                    self._on_ready(worker, message)
                elif isinstance(message, JobOutcome):
                    value_bytes = worker.connection.recv_bytes()
                    results.append(self._on_outcome(worker, message, value_bytes))
                else:
                    logger.warning("Ignored unexpected message from worker pid %s: %r", worker.pid, message)
        except (EOFError, OSError):
            return results, True
        return results, False

    def _on_ready(self, worker: WorkerProcess, message: WorkerReady) -> None:
        now = time.monotonic()
        worker.ready = True
        self._startup_failures = 0
        logger.debug("Worker pid %s is ready after %.2f s", message.pid, now - worker.started_at)
        for error in message.preload_errors:
            logger.warning("Worker pid %s could not import the preload module %s", message.pid, error)
        if worker.job is not None and worker.job.started_at is None:
            worker.job.start_clock(now)

    def _on_outcome(self, worker: WorkerProcess, outcome: JobOutcome, value_bytes: bytes) -> JobResult:
        worker.job = None
        status: JobStatus = outcome.status
        error = outcome.error
        value = None
        if status == "ok":
            try:
                value = pickle.loads(value_bytes)
            except Exception as exc:  # unpickling raises many types, such as ImportError for a missing class
                status = "failed"
                error = (
                    f"{type(exc).__name__}: the return value of job {outcome.job_id} cannot be unpickled in the "
                    f"parent process: {exc}"
                )
                logger.info("Job %s failed: %s", outcome.job_id, error)

        return JobResult(
            job_id=outcome.job_id,
            status=status,
            value=value,
            error=error,
            traceback=outcome.traceback,
            seconds=outcome.seconds,
            peak_memory_mb=outcome.peak_memory_mb,
        )

    def _handle_exit(self, worker: WorkerProcess) -> JobResult | None:
        # The pipe can close a moment before the process can be reaped, so give it time to exit before
        # killing it. The kill also reaps it and ends any processes it left behind.
        worker.process.join(timeout=1.0)
        worker.kill()
        now = time.monotonic()
        exit_text = describe_exit_code(worker.process.exitcode)
        phase = "" if worker.ready else " during start-up"
        reason = f"worker died{phase} with {exit_text}"
        if not worker.ready:
            reason += "; its stderr shows why"

        result = None
        if worker.job is not None:
            result = _job_result(worker.job, "crashed", reason, now)
            logger.info("Job %s crashed: %s (worker pid %s)", worker.job.job_id, reason, worker.pid)
        else:
            logger.warning("Idle worker pid %s exited: %s", worker.pid, reason)
        self._replace(worker, reason)
        return result

    def _enforce_deadlines(self) -> list[JobResult]:
        results: list[JobResult] = []
        now = time.monotonic()
        for worker in list(self._workers):
            if not worker.ready and now >= worker.started_at + self._startup_timeout:
                reason = f"worker did not finish starting within {self._startup_timeout:g} s"
            elif worker.job is not None and worker.job.expired(now):
                reason = f"timed out after {worker.job.timeout:.1f} s"
                if now < worker.job.deadline:
                    reason = "stopped at its latest end: the time ran out before it finished"
            else:
                continue

            worker.kill()
            if worker.job is not None:
                results.append(_job_result(worker.job, "timeout", reason, now))
                logger.info("Job %s %s; killed worker pid %s", worker.job.job_id, reason, worker.pid)
            else:
                logger.warning("Killed worker pid %s: %s", worker.pid, reason)
            self._replace(worker, reason)
        return results

    def _replace(self, worker: WorkerProcess, reason: str) -> None:
        """Remove a dead worker and start another, unless workers keep failing before they are ready."""
        worker.job = None
        worker.close()
        self._workers.remove(worker)
        if self._closed:
            return

        if not worker.ready:
            self._startup_failures += 1
        if self._startup_failures >= _MAX_STARTUP_FAILURES:
            self._broken_reason = (
                f"{self._startup_failures} worker processes in a row failed before they were ready (last: {reason}), "
                "so the pool stopped starting new ones. A common cause is a script that creates the pool at "
                "import time. The spawn and forkserver start methods import the main module in each worker, "
                "so put that code under `if __name__ == '__main__':`."
            )
            logger.error("%s", self._broken_reason)
            return
        self._start_worker()
        logger.debug("Started worker pid %s to replace worker pid %s", self._workers[-1].pid, worker.pid)

    def _join_workers(self, deadline: float) -> None:
        for worker in self._workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.process.exitcode is None:
                logger.warning("Worker pid %s did not exit after the stop message; killing it", worker.pid)
                worker.kill()
            worker.close()


def _job_result(job: RunningJob, status: JobStatus, error: str, now: float) -> JobResult:
    return JobResult(
        job_id=job.job_id,
        status=status,
        value=None,
        error=error,
        traceback=None,
        seconds=job.elapsed(now),
        peak_memory_mb=None,
    )


def _validate_options(
    n_workers: int,
    n_threads: int,
    memory_limit_mb: int | None,
    start_method: str,
    preload: Sequence[str],
    startup_timeout: float,
) -> None:
    _validate_count("n_workers", n_workers)
    _validate_count("n_threads", n_threads)
    if memory_limit_mb is not None:
        _validate_count("memory_limit_mb", memory_limit_mb)
    _validate_seconds("startup_timeout", startup_timeout)

    if start_method == "fork":
        raise ValueError(
            "start_method='fork' is not supported because LightGBM and other OpenMP libraries can hang in a "
            "forked child; use 'spawn' or 'forkserver'"
        )
    if start_method not in START_METHODS:
        raise ValueError(f"start_method must be one of {START_METHODS}, got {start_method!r}")
    if start_method not in multiprocessing.get_all_start_methods():
        raise ValueError(f"start_method {start_method!r} is not available on this platform; use 'spawn'")

    if isinstance(preload, str):
        raise TypeError(f"preload must be a sequence of module names, got the string {preload!r}; use ({preload!r},)")
    for name in preload:
        if importlib.util.find_spec(name.partition(".")[0]) is None:
            raise ValueError(f"preload module {name!r} is not installed in this Python environment; check the name")


def _validate_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")


def _validate_seconds(name: str, value: float, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__} {value!r}")
    if math.isnan(value) or value < 0 or (value == 0 and not allow_zero):
        allowed = "0 or more" if allow_zero else "more than 0"
        raise ValueError(f"{name} must be {allowed} seconds, got {value}")


def _validate_function_path(function: str) -> None:
    module_name, separator, qualified_name = function.partition(":") if isinstance(function, str) else ("", "", "")
    if not separator or not module_name or not qualified_name:
        raise ValueError(
            f"function must be a path 'package.module:function' that the worker can import, got {function!r}"
        )


_live_pools: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


def _kill_live_pools() -> None:
    for pool in list(_live_pools):
        pool.shutdown(kill=True)


# At exit, multiprocessing joins its non-daemonic children, which would wait for a busy worker's
# job to end. atexit calls handlers in reverse order of registration, and multiprocessing.util
# registered its handler when it was imported above, so this handler runs first and kills the workers.
atexit.register(_kill_live_pools)
