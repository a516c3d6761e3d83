"""Top-k selection and the hidden-layer map, on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from interpret.units import hidden_map, principal_components, top_k
from numpy_impl.init import initialize


def test_top_k_picks_the_largest_and_smallest_per_unit_ties_to_the_lower_index():
    values = np.array([
        [3.0, 1.0, 4.0, 1.0, 5.0],
        [0.0, 2.0, -1.0, 2.0, 0.0],
    ])
    chosen = top_k(values, 2)
    np.testing.assert_array_equal(chosen.highest, [[4, 2], [1, 3]])
    np.testing.assert_array_equal(chosen.lowest, [[1, 3], [2, 0]])


def test_top_k_with_k_equal_to_m_is_a_full_ranking():
    values = np.array([[0.2, -1.0, 7.0]])
    chosen = top_k(values, 3)
    np.testing.assert_array_equal(chosen.highest, [[2, 0, 1]])
    np.testing.assert_array_equal(chosen.lowest, [[1, 0, 2]])


@pytest.mark.parametrize("k", [0, 6])
def test_top_k_refuses_k_outside_1_to_m(k):
    with pytest.raises(ValueError, match="k must be between 1 and 5"):
        top_k(np.zeros((2, 5)), k)


def test_principal_components_of_points_on_a_line_put_all_variance_on_axis_1():
    t = np.linspace(-1, 1, 9)
    points, share = principal_components(np.column_stack([t, 2 * t, -t]))
    assert share[0] == pytest.approx(1.0)
    np.testing.assert_allclose(np.abs(points[:, 0]), np.abs(t) * np.sqrt(6), atol=1e-12)


def test_hidden_map_stacks_both_splits_with_their_labels():
    params = initialize((12, 4, 3, 1), seed=2)
    rng = np.random.RandomState(0)
    splits = {
        "train": (rng.rand(12, 5), np.zeros((5, 2, 2, 3), np.uint8), np.array([0, 1, 0, 1, 1])),
        "test": (rng.rand(12, 2), np.ones((2, 2, 2, 3), np.uint8), np.array([1, 0])),
    }
    hidden = hidden_map(params, splits)
    assert hidden.layer == 2 and hidden.features.shape == (7, 3)
    assert hidden.split == ("train",) * 5 + ("test",) * 2
    np.testing.assert_array_equal(hidden.index, [0, 1, 2, 3, 4, 0, 1])
    np.testing.assert_array_equal(hidden.label, [0, 1, 0, 1, 1, 1, 0])
    assert hidden_map(initialize((12, 1)), splits) is None
