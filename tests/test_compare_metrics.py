"""compare.metrics: shape, then dtype, then values; ULP distances counted exactly."""

import numpy as np
import pytest

from compare.metrics import Tolerance, compare_arrays, ulp_distance

TIGHT = Tolerance(1e-12)


def test_identical_arrays_pass_with_every_error_zero():
    a = np.random.default_rng(0).standard_normal((3, 4))
    result = compare_arrays("Z1", a, a.copy(), TIGHT)
    assert result.passed
    assert (result.max_abs, result.max_rel, result.normwise, result.max_ulp, result.mismatched) == (0, 0, 0, 0, 0)
    assert result.total == 12


def test_a_shape_mismatch_fails_before_any_value_is_compared():
    result = compare_arrays("b2", np.zeros((1, 7)), np.zeros((7, 1)), TIGHT)
    assert not result.passed
    assert result.problem == "shape (1, 7), expected (7, 1)"
    assert result.normwise is None and result.max_ulp is None


def test_a_dtype_mismatch_fails_but_the_values_are_still_measured():
    expected = np.linspace(0.1, 1.0, 10)
    result = compare_arrays("AL", expected.astype(np.float32), expected, Tolerance(1e-3))
    assert not result.passed
    assert result.problem == "dtype float32, expected float64"
    assert 0 < result.normwise < 1e-7  # float32 rounding, well inside the tolerance: the dtype alone fails it


def test_a_float32_run_can_be_held_against_a_float64_oracle():
    oracle = np.linspace(0.1, 1.0, 10)
    result = compare_arrays("W1", oracle.astype(np.float32), oracle, Tolerance(1e-6), expect_dtype=np.float32)
    assert result.passed and result.problem is None
    assert result.max_ulp == 0  # each float32 value is the float64 one correctly rounded


def test_the_normwise_error_decides_and_is_reported():
    expected = np.array([3.0, 4.0])
    result = compare_arrays("db1", expected + np.array([0.0, 6e-12]), expected, TIGHT)
    assert result.normwise == pytest.approx(1.2e-12, rel=1e-3)  # ||(0, 6e-12)|| / ||(3, 4)||
    assert not result.passed
    assert compare_arrays("db1", expected + np.array([0.0, 4e-12]), expected, TIGHT).passed


def test_an_element_near_zero_is_judged_on_the_tensors_scale_not_its_own():
    expected = np.array([1.0, 1e-20])
    result = compare_arrays("Z", np.array([1.0, 2e-20]), expected, TIGHT)
    assert result.max_rel == pytest.approx(1.0)  # the tiny element is 100% off on its own scale
    assert result.mismatched == 0 and result.passed


def test_one_element_off_is_counted_as_mismatched():
    expected = np.ones(1000)
    actual = expected.copy()
    actual[17] = 1.5
    result = compare_arrays("W2", actual, expected, Tolerance(1e-3))
    assert result.mismatched == 1 and result.total == 1000
    assert result.normwise == pytest.approx(0.5 / np.sqrt(1000))
    assert not result.passed


def test_nan_where_a_number_is_expected_fails():
    result = compare_arrays("cost", np.array([np.nan, 1.0]), np.array([0.5, 1.0]), Tolerance(1.0))
    assert not result.passed
    assert result.normwise == np.inf and result.mismatched == 1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ulp_distance_counts_representable_steps(dtype):
    x = np.array([1.0, -2.5, 1e-3], dtype=dtype)
    y = x.copy()
    for _ in range(7):
        y = np.nextafter(y, dtype(np.inf))
    assert ulp_distance(y, x) == 7
    assert ulp_distance(x, y) == 7


def test_ulp_distance_across_zero_counts_both_sides():
    tiny = np.nextafter(0.0, 1.0)  # the smallest positive subnormal
    assert ulp_distance(np.array([tiny]), np.array([-tiny])) == 2
    assert ulp_distance(np.array([0.0]), np.array([-0.0])) == 0


def test_ulp_distance_against_float64_is_counted_in_float32_units():
    oracle = np.array([1.0 + 2.0**-23 * 3], dtype=np.float64)  # exactly three float32 steps above 1
    assert ulp_distance(np.array([1.0], dtype=np.float32), oracle) == 3
