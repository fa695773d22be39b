"""Calling other services carefully: one HTTP client with timeouts, retries with backoff and
429s waited out (``http``), OAuth tokens refreshed and saved before use, per-organisation
budgets in this process or shared by every worker through the database (``budget``).
Used by the accounting-platform connections and the Companies House register.
"""
