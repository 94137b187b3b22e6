"""Trial execution: worker processes with deadlines, memory limits and fixed thread settings."""

from glassml.execution._pool import START_METHODS, JobResult, JobStatus, WorkerPool

__all__ = ["START_METHODS", "JobResult", "JobStatus", "WorkerPool"]
