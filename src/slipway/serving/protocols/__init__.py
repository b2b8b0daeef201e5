"""The wire formats: slipway's own JSON (v1), the Open Inference Protocol v2, and MLflow's.

Each turns a request body into raw columns (lists or arrays, one per column) for the Scorer and
a scored slice back into its own response shape. Type checks are the Scorer's (one schema for
every protocol); these modules only check the shape of the body.
"""
