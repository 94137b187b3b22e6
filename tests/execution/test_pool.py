"""Tests of WorkerPool with real worker processes and the job functions of `glassml.execution._selftest`."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import psutil
import pytest

from glassml.execution import JobResult, WorkerPool

# A hung pool fails its test instead of blocking the whole run for the default timeout.
pytestmark = pytest.mark.timeout(60)

THREAD_VARIABLES = ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

# Maximum seconds of one wait in these tests. Every job here ends within a few seconds.
WAIT_LIMIT_SECONDS = 20.0


@pytest.fixture(autouse=True)
def restore_environment() -> Iterator[None]:
    """Restore this process's environment, which the pool may change so that workers inherit thread settings."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def selftest(name: str) -> str:
    return f"glassml.execution._selftest:{name}"


def wait_for_results(pool: WorkerPool, count: int) -> list[JobResult]:
    """Wait until `count` jobs have ended and return their results sorted by job id."""
    results: list[JobResult] = []
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while len(results) < count and time.monotonic() < deadline:
        results.extend(pool.wait(timeout=max(0.0, deadline - time.monotonic())))
    assert len(results) == count, f"expected {count} results within {WAIT_LIMIT_SECONDS} s, got {results}"
    return sorted(results, key=lambda result: result.job_id)


def run_job(pool: WorkerPool, job_id: int, name: str, payload: Any, timeout: float = 10.0) -> JobResult:
    pool.submit(job_id, selftest(name), payload, timeout=timeout)
    [result] = wait_for_results(pool, 1)
    return result


def worker_pid(pool: WorkerPool, job_id: int) -> int:
    """Run a job that reports its worker's process id, and return that id."""
    result = run_job(pool, job_id, "describe_worker", [])
    assert result.status == "ok", result.error
    return result.value["pid"]


def is_running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_pool_returns_job_value(start_method: str) -> None:
    payload = {"alpha": [1, 2.5, "three"], "beta": None}

    with WorkerPool(n_workers=1, start_method=start_method) as pool:
        result = run_job(pool, 7, "echo", payload)

    assert result.job_id == 7
    assert result.status == "ok"
    assert result.value == payload
    assert result.error is None
    assert result.traceback is None
    assert 0.0 <= result.seconds < 5.0


def test_pool_failed_job_keeps_worker() -> None:
    with WorkerPool(n_workers=1) as pool:
        pid_before = worker_pid(pool, 1)
        result = run_job(pool, 2, "raise_value_error", "learning_rate must be positive")
        pid_after = worker_pid(pool, 3)

    assert result.status == "failed"
    assert result.value is None
    assert result.error == "ValueError: learning_rate must be positive"
    assert result.traceback is not None
    assert "raise_value_error" in result.traceback
    assert "ValueError: learning_rate must be positive" in result.traceback
    assert pid_after == pid_before


def test_pool_timeout_replaces_worker() -> None:
    with WorkerPool(n_workers=1) as pool:
        pid_before = worker_pid(pool, 1)
        started = time.monotonic()
        result = run_job(pool, 2, "sleep", 30.0, timeout=0.5)
        elapsed = time.monotonic() - started
        next_result = run_job(pool, 3, "describe_worker", [])

    assert result.job_id == 2
    assert result.status == "timeout"
    assert result.value is None
    assert "timed out" in result.error
    assert elapsed < 5.0
    assert not is_running(pid_before)
    assert next_result.status == "ok"
    assert next_result.value["pid"] != pid_before


def test_pool_exit_reports_exit_code() -> None:
    with WorkerPool(n_workers=1) as pool:
        pid_before = worker_pid(pool, 1)
        result = run_job(pool, 2, "exit_process", 3)
        pid_after = worker_pid(pool, 3)

    assert result.status == "crashed"
    assert result.value is None
    assert "exit code 3" in result.error
    assert pid_after != pid_before


def test_pool_sigkill_reports_killed() -> None:
    with WorkerPool(n_workers=1) as pool:
        pid_before = worker_pid(pool, 1)
        result = run_job(pool, 2, "kill_process", None)
        pid_after = worker_pid(pool, 3)

    assert result.status == "crashed"
    assert f"exit code {-signal.SIGKILL}" in result.error
    assert "killed" in result.error
    assert pid_after != pid_before


def test_pool_memory_limit_stops_large_allocation() -> None:
    with WorkerPool(n_workers=1, memory_limit_mb=300) as pool:
        small = run_job(pool, 1, "allocate", 10)
        large = run_job(pool, 2, "allocate", 1024)
        after = run_job(pool, 3, "echo", "still running")

    assert small.status == "ok"
    assert small.value == 10 * 1024 * 1024
    assert large.status in ("failed", "crashed")
    assert large.value is None
    if large.status == "failed":
        assert large.error.startswith("MemoryError")
    assert after.status == "ok"
    assert after.value == "still running"


def test_pool_runs_workers_concurrently() -> None:
    with WorkerPool(n_workers=2) as pool:
        # Let both workers finish starting, so that start-up time is not measured.
        pool.submit(1, selftest("echo"), None, timeout=10.0)
        pool.submit(2, selftest("echo"), None, timeout=10.0)
        wait_for_results(pool, 2)

        started = time.monotonic()
        pool.submit(3, selftest("sleep"), 1.0, timeout=10.0)
        pool.submit(4, selftest("sleep"), 1.0, timeout=10.0)
        results = wait_for_results(pool, 2)
        elapsed = time.monotonic() - started

    assert [result.status for result in results] == ["ok", "ok"]
    assert results[0].value != results[1].value
    assert elapsed < 1.8


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_pool_sets_thread_environment(start_method: str) -> None:
    # Two pools in a row get different thread counts, and each pool's workers must see their own.
    for n_threads in (1, 3):
        with WorkerPool(n_workers=1, n_threads=n_threads, start_method=start_method) as pool:
            result = run_job(pool, 1, "describe_worker", THREAD_VARIABLES)

        assert result.status == "ok", result.error
        environment = result.value["environment"]
        assert environment["OMP_WAIT_POLICY"] == "PASSIVE"
        assert environment["OMP_NUM_THREADS"] == str(n_threads)
        assert environment["OPENBLAS_NUM_THREADS"] == str(n_threads)
        assert environment["MKL_NUM_THREADS"] == str(n_threads)


def test_pool_worker_ignores_sigint() -> None:
    with WorkerPool(n_workers=1) as pool:
        pid = worker_pid(pool, 1)
        pool.submit(2, selftest("sleep"), 1.0, timeout=10.0)
        time.sleep(0.3)
        os.kill(pid, signal.SIGINT)
        [result] = wait_for_results(pool, 1)

    assert result.status == "ok", result.error
    assert result.value == pid


def test_pool_unpicklable_result_fails() -> None:
    with WorkerPool(n_workers=1) as pool:
        pid_before = worker_pid(pool, 1)
        result = run_job(pool, 2, "return_unpicklable", None)
        pid_after = worker_pid(pool, 3)

    assert result.status == "failed"
    assert result.value is None
    assert "pickle" in result.error
    assert "lock" in result.error
    assert pid_after == pid_before


@pytest.mark.parametrize("kill", [False, True])
def test_pool_shutdown_stops_all_workers(kill: bool) -> None:
    pool = WorkerPool(n_workers=2)
    try:
        pool.submit(1, selftest("describe_worker"), [], timeout=10.0)
        pool.submit(2, selftest("describe_worker"), [], timeout=10.0)
        pids = {result.value["pid"] for result in wait_for_results(pool, 2)}
        # One worker is busy at shutdown and one is idle.
        pool.submit(3, selftest("sleep"), 30.0, timeout=60.0)
    finally:
        pool.shutdown(kill=kill)

    children = {child.pid for child in psutil.Process().children(recursive=True)}
    active = {process.pid for process in multiprocessing.active_children()}
    assert len(pids) == 2
    assert [pid for pid in pids if is_running(pid)] == []
    assert pids & children == set()
    assert pids & active == set()


def test_pool_submit_without_idle_worker_raises() -> None:
    with WorkerPool(n_workers=1) as pool:
        pool.submit(1, selftest("sleep"), 30.0, timeout=60.0)

        with pytest.raises(RuntimeError, match="no idle worker"):
            pool.submit(2, selftest("echo"), None, timeout=10.0)


@pytest.mark.parametrize("start_method", ["fork", "threads", ""])
def test_pool_rejects_invalid_start_method(start_method: str) -> None:
    with pytest.raises(ValueError, match="start_method") as error:
        WorkerPool(start_method=start_method)

    assert "spawn" in str(error.value)


@pytest.mark.parametrize("n_workers", [0, -2])
def test_pool_rejects_invalid_n_workers(n_workers: int) -> None:
    with pytest.raises(ValueError, match=f"n_workers must be at least 1, got {n_workers}"):
        WorkerPool(n_workers=n_workers)
