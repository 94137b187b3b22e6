"""Trial execution: worker processes with deadlines, memory limits and fixed thread settings."""

from glassml.execution._pool import JobResult, JobStatus, WorkerPool

__all__ = ["JobResult", "JobStatus", "WorkerPool"]
