"""Loopback fakes of the accounting platforms (Xero, QuickBooks Online) for the connection tests.

Each fake is a Starlette app served by uvicorn on 127.0.0.1 in a background thread
(:mod:`tests.fakes.server`), with time driven by an injectable :class:`~tests.fakes.clock.FakeClock`.
"""
