"""The scorer's direct path: a request of plain numbers for a model whose every feature is a
number, with no stage that would change the rows, goes to the model as one matrix, without typed
columns; it answers exactly as the checked path does, and anything unusual still gets the checked
path and its errors."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from slipway.artifacts.loader import LoadedArtifact, load_artifact
from slipway.core.degradation import Degradation
from slipway.core.errors import InvalidInputError
from slipway.guards.degraded import DegradedMode
from slipway.guards.fallback import FallbackStage
from slipway.runtimes.selection import select_runtime
from slipway.scoring import scorer as scorer_module
from slipway.scoring.runtime import NativeRuntime
from slipway.scoring.scorer import Scorer
from support.slow_stages import SlowStage


@pytest.fixture(scope="module")
def numeric(compiled_build, numeric_data) -> tuple[LoadedArtifact, pd.DataFrame]:
    train, validation = numeric_data
    features = [name for name in train.columns if name not in ("default", "risk_band", "amount")]
    train_x, validation_x = train[features].astype(float), validation[features].astype(float)
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(train_x, train["default"])
    built = compiled_build(
        model,
        name="numbers",
        train=train_x.assign(default=train["default"]),
        validation=validation_x.assign(default=validation["default"]),
        target="default",
    )
    artifact = load_artifact(built.path)
    assert artifact.profile is not None
    assert {f.kind for f in artifact.profile.features} == {"number"}
    return artifact, validation_x


def records(frame: pd.DataFrame) -> list[dict[str, float]]:
    return [{name: float(value) for name, value in row.items()} for _, row in frame.iterrows()]


def columns(frame: pd.DataFrame, *, reverse: bool = False) -> dict[str, list[float]]:
    names = list(frame.columns)[::-1] if reverse else list(frame.columns)
    return {name: frame[name].tolist() for name in names}


@pytest.mark.parametrize("runtime", ["compiled", "native"])
@pytest.mark.parametrize("rows", [1, 40])
def test_plain_numbers_skip_the_checks_and_answer_as_the_checked_path(numeric, monkeypatch, runtime, rows):
    artifact, validation = numeric
    chosen = select_runtime(artifact, runtime)
    if isinstance(chosen, NativeRuntime):  # the native runtime takes a matrix after one checked batch
        Scorer(artifact, runtime=chosen).score_columns(columns(validation.head(5)))
    direct = Scorer(artifact, runtime=chosen, stages=[DegradedMode(lambda: None), FallbackStage(None)])
    # an unarmed SlowStage changes nothing but cannot say so: the scorer takes the checked path
    checked = Scorer(artifact, runtime=chosen, stages=[SlowStage(0.0)])
    sample = validation.sample(rows, random_state=rows)

    expected = checked.score_columns(columns(sample)).rows()
    monkeypatch.setattr(scorer_module, "enforce", _not_called)
    got = direct.score_columns(columns(sample, reverse=True)).rows()  # key order does not matter
    assert got == expected
    assert [row["flags"] for row in got] == [[]] * rows


def _not_called(*args, **kwargs):
    raise AssertionError("plain numbers were checked column by column")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update(age=[None]), "column 'age', row 0: null/NaN is not allowed"),
        (lambda c: c.update(age=[math.nan]), "column 'age', row 0: null/NaN is not allowed"),
        (lambda c: c.update(age=["41"]), "column 'age', row 0: expected a number, got '41'"),
        (lambda c: c.update(age=[True]), "column 'age', row 0: expected a number, got True"),
        (lambda c: c.update(extra=[1.0]), "unexpected column 'extra'"),
        (lambda c: c.pop("age"), "missing column 'age'"),
        (lambda c: c.update(age=[]), "columns have different lengths"),
    ],
    ids=["null", "nan", "string", "boolean", "extra", "missing", "lengths"],
)
def test_anything_unusual_is_checked_and_named(numeric, change, message):
    artifact, validation = numeric
    assert not artifact.profile.feature("age").nullable
    scorer = Scorer(artifact, runtime=select_runtime(artifact, "compiled"))
    sent = columns(validation.head(1))
    change(sent)
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(")):
        scorer.score_columns(sent)


def test_an_integer_beyond_any_float_is_checked_and_named(numeric):
    artifact, validation = numeric
    scorer = Scorer(artifact, runtime=select_runtime(artifact, "compiled"))
    sent = columns(validation.head(1))
    sent["age"] = [10**400]
    with pytest.raises(InvalidInputError, match=r"column 'age', row 0: .* out of range"):
        scorer.score_columns(sent)


def test_a_deployment_in_degraded_mode_still_rejects_every_row(numeric):
    artifact, validation = numeric
    state = {"now": None}
    mode = DegradedMode(lambda: state["now"], refresh_s=0)
    runtime = select_runtime(artifact, "compiled")
    scorer = Scorer(artifact, runtime=runtime, stages=[mode, FallbackStage(None)])
    sent = columns(validation.head(3))
    assert not scorer.score_columns(sent).rejected.any()

    state["now"] = Degradation("numbers", "reject", "drill", "2026-11-28T00:00:00Z", "ops")
    scored = scorer.score_columns(sent)
    assert scored.rejected.tolist() == [True] * 3
    assert {flag["code"] for row in scored.rows() for flag in row["flags"]} == {"reject"}
    assert scored.notes["degraded"]["mode"] == "reject"
