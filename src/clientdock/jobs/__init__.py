"""The job engine: the only code that imports DBOS; it never imports a door.

A door starts a job with :class:`JobEngine` (through ``imports.service``); a door whose input
the worker reads registers a stager, and whoever must know when a job ends registers a finish
hook (``clientdock.app.job_engine`` does both). ``models`` holds the job, its row outcomes and
the workers' heartbeats; ``reaper`` keeps the heartbeats and resumes a dead worker's jobs;
``service`` reads what the jobs are doing for people (queue positions, workers, queues).
"""

from clientdock.jobs.engine import JobEngine
from clientdock.jobs.models import ImportJob, ImportRow
from clientdock.jobs.workflow import TERMINAL, FinishHook, Stager, apply_records

__all__ = ["TERMINAL", "FinishHook", "ImportJob", "ImportRow", "JobEngine", "Stager", "apply_records"]
