"""Two small end-to-end example projects with deterministic, generated data (no downloads).

- ``apartments``: regression of apartment prices; the average market price of the zip code
  lives in a separate table and is looked up (enrichment) when scoring.
- ``credit``: classification of credit default, with a sensitive attribute (``gender``) that the
  model does not use as a feature, for fairness analysis.
"""
