"""Benchmarks: slipway against its baseline in the same process run (``make bench``).

Each module has a ``main()`` that prints its table; ``python -m benchmarks [NAME ...]`` runs all
of them, or the named ones. Timings are medians of several runs: the machine is shared, so
read ratios rather than absolute times, and expect a few percent of noise.
"""
