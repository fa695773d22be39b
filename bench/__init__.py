"""Benchmarks of clientdock, run as ``python -m bench <case> …`` from the repository root.

Timed assertions never live in the tests; they live here. Every figure is one JSON line on
stdout, our figure beside a reference where there is one (``bench/README.md``).
"""
