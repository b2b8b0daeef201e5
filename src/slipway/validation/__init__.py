"""The validation gate: named scenarios, metrics, expectations, slices, stability, robustness,
champion/challenger comparison, runtime parity, explanations, and the reports people and CI read.

    plan (plan.py, plan_files.py) -> scenarios (scenarios.py, derived.py, synthetic.py, windows.py)
    -> outcomes through the Scorer (outcomes.py) -> metrics (quality.py, latency.py, fairness.py,
    stability.py, robustness.py, comparison.py, parity.py) -> expectations (evaluate.py)
    -> GateReport (results.py) -> reports/ (JSON, JUnit XML, HTML)

``gate.run_gate`` is the one entry point; ``slipway.api.Slipway.validate`` adds the registry.
"""
