"""The operators' views (platform credential): the workers, their heartbeats and the jobs they
run (``GET /admin/workers``), and every tenant's queue (``GET /admin/queues``). The jobs' data
is read by ``clientdock.jobs.service``; this package only answers it over HTTP."""
