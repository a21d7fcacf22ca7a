"""Benchmarks for AayuLink Booking: each scenario against its floor, measured in the same run.

`python -m bench` (or `--quick` for a smoke size) starts its own store, API processes and
clients, loads data, runs B1-B4 and writes the figures to `bench/results/`. Timing never
goes into the test suite: `tests/test_bench_smoke.py` only checks that figures appear.
"""
