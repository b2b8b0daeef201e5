"""Benchmarks: slipway against its baselines, measured in the same process run.

Run them all with ``make bench`` (``python -m benchmarks``), or some by name:
``python -m benchmarks batch --rows 200000``. Each prints its table with medians and ratios.
"""
