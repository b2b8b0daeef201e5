"""Benchmarks: slipway and its baseline measured in the same process run, printed with their ratio.

Run them all with ``make bench`` (``python -m benchmarks``), or some by name:
``python -m benchmarks runtime``.
"""
