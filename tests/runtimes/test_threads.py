"""Per-worker model threads: workers x threads never exceed the cores."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from slipway.core.errors import InvalidInputError
from slipway.runtimes.threads import available_cores, configure_threads, plan_threads


@pytest.mark.parametrize(
    ("workers", "cores", "threads"), [(1, 2, 2), (2, 2, 1), (3, 2, 1), (2, 8, 4), (3, 8, 2)], ids=str
)
def test_each_worker_gets_its_share_of_the_cores(workers, cores, threads):
    plan = plan_threads(workers=workers, cores=cores)
    assert plan.threads == threads
    assert plan.workers * plan.threads <= max(cores, workers)


@pytest.mark.parametrize(
    ("workers", "cores"), [(0, 2), (True, 2), (1, 0)], ids=["no-workers", "bool", "no-cores"]
)
def test_nonsense_plans_are_refused(workers, cores):
    with pytest.raises(InvalidInputError, match="must be"):
        plan_threads(workers=workers, cores=cores)


def test_the_default_uses_the_cores_this_process_may_run_on():
    assert plan_threads().cores == available_cores() >= 1


SCRIPT = textwrap.dedent(
    """
    import json, os
    import sklearn.ensemble  # OpenMP is loaded before the limit is applied
    import xgboost
    from threadpoolctl import threadpool_info
    from slipway.runtimes.threads import configure_threads
    from slipway.artifacts.flavors.onnx import open_session
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LinearRegression
    plan = configure_threads(workers=2, cores=4)
    model = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    onnx = convert_sklearn(model, initial_types=[("X", FloatTensorType([None, 1]))]).SerializeToString()
    session = open_session(onnx)
    print(json.dumps({
        "threads": plan.threads,
        "openmp": sorted({pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "openmp"}),
        "env": os.environ["OMP_NUM_THREADS"],
        "onnx": session.get_session_options().intra_op_num_threads,
        "xgboost": xgboost.get_config()["nthread"],
    }))
    """
)


def test_a_worker_limits_openmp_onnxruntime_and_xgboost():
    out = subprocess.run([sys.executable, "-c", SCRIPT], check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {"threads": 2, "openmp": [2], "env": "2", "onnx": 2, "xgboost": 2}


def test_configuring_this_process_sets_every_pool_and_variable(monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "SLIPWAY_MODEL_THREADS"):
        monkeypatch.setenv(variable, "9")  # restored after the test
    with threadpool_limits():  # restores the pools' limits on exit
        plan = configure_threads(workers=2, cores=2)
        assert plan.threads == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info() if pool["user_api"] == "openmp")
    import os

    assert os.environ["SLIPWAY_MODEL_THREADS"] == os.environ["OMP_NUM_THREADS"] == "1"
