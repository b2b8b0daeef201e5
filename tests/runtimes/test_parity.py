"""The parity rule itself, on runtimes of our own protocol with known differences."""

from __future__ import annotations

import numpy as np
import pytest

from slipway.runtimes.parity import Tolerance, check_parity
from slipway.scoring.runtime import Prediction

THRESHOLD = 0.1  # not a float32 number: values next to it round across it in float32


class Threshold:
    """A one-split 'tree': class 1 above THRESHOLD, computed in float64 or, like ONNX, in float32."""

    def __init__(self, name, *, float32=False, flip_rows=(), shift=0.0):
        self.name, self.float32, self.flip_rows, self.shift = name, float32, list(flip_rows), shift

    def predict(self, columns, features):
        x = columns["x"]
        if self.float32:
            x = x.astype(np.float32)
            above = x > np.float32(THRESHOLD)
        else:
            above = x > THRESHOLD
        labels = above.astype(np.int64)
        labels[self.flip_rows] = 1 - labels[self.flip_rows]
        p1 = np.where(labels == 1, 0.8, 0.2) + self.shift
        return Prediction(labels, np.column_stack([1 - p1, p1]))


def columns(values):
    return {"x": np.asarray(values, dtype=np.float64)}


def check(native, compiled, values, **tolerance):
    return check_parity(
        native,
        compiled,
        columns(values),
        ("x",),
        classification=True,
        tolerance=Tolerance(**tolerance),
        data="test",
    )


def near_threshold_values(count):
    """Values above THRESHOLD in float64 that float32 rounds down onto the float32 threshold."""
    step = np.nextafter(THRESHOLD, 1.0)
    return [step + i * 1e-17 for i in range(count)] if count else []


def test_identical_runtimes_pass():
    report = check(Threshold("a"), Threshold("b"), np.linspace(-1, 1, 101))
    assert (
        report.passed
        and report.mismatching_rows == 0
        and report.max_abs_diff == 0.0
        and report.reason is None
    )


def test_a_different_label_fails_and_names_the_row():
    report = check(Threshold("a"), Threshold("b", flip_rows=[7]), np.linspace(-1, 1, 101))
    assert not report.passed and report.label_mismatches == 1 and report.mismatching_rows == 1
    assert (
        report.examples[0]["row"] == 7
        and report.examples[0]["native"]["label"] != report.examples[0]["compiled"]["label"]
    )
    assert report.reason == "1 of 101 rows differ beyond the tolerance"


def test_probabilities_beyond_the_tolerance_fail():
    values = np.linspace(-1, 1, 11)
    assert check(Threshold("a"), Threshold("b", shift=5e-7), values).passed
    report = check(Threshold("a"), Threshold("b", shift=1e-4), values)
    assert not report.passed and report.mismatching_rows == 11 and report.max_abs_diff == pytest.approx(1e-4)


def test_float32_rounding_at_a_split_is_recognised_and_tolerated_up_to_the_share():
    values = [*np.linspace(-1, 1, 2_000), *near_threshold_values(1)]
    native, compiled = Threshold("native"), Threshold("onnx", float32=True)
    report = check(native, compiled, values)
    assert report.mismatching_rows == 1 and report.near_threshold_rows == 1
    assert report.passed, "1 row in 2,001 is within the 0.1% tolerated"
    strict = check(native, compiled, values, near_threshold_share=0)
    assert not strict.passed and "differ at a split threshold (float32 rounding)" in strict.reason


def test_a_real_difference_is_not_excused_as_near_threshold():
    values = [*np.linspace(-1, 1, 2_000), *near_threshold_values(1)]
    report = check(Threshold("native"), Threshold("onnx", float32=True, flip_rows=[5]), values)
    assert not report.passed and report.near_threshold_rows == 1 and report.mismatching_rows == 2


class Regression:
    def __init__(self, name, error=0.0):
        self.name, self.error = name, error

    def predict(self, columns, features):
        return Prediction(columns["x"] * 1000 + self.error)


def test_regression_is_judged_on_the_scale_of_its_outputs():
    values = np.linspace(-1, 1, 201)  # outputs from -1000 to 1000, some near zero
    report = check_parity(
        Regression("a"),
        Regression("b", error=0.005),
        columns(values),
        ("x",),
        classification=False,
        tolerance=Tolerance(),
        data="t",
    )
    assert report.passed and report.atol == pytest.approx(1e-5 * np.abs(values * 1000).mean())
    worse = check_parity(
        Regression("a"),
        Regression("b", error=0.05),
        columns(values),
        ("x",),
        classification=False,
        tolerance=Tolerance(),
        data="t",
    )
    assert not worse.passed and worse.label_mismatches is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("rtol", -1), ("atol", float("nan")), ("near_threshold_share", "0.1")],
    ids=["negative", "nan", "text"],
)
def test_a_tolerance_must_be_a_number_at_least_zero(field, value):
    with pytest.raises(ValueError, match=f"tolerance {field} must be a number >= 0"):
        Tolerance(**{field: value})
