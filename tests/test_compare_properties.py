"""Property: over random small architectures, seeds, data, forms and both dtypes, the twins agree under the policy."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catcore.config import TrainConfig
from catcore.data import Arrays
from compare.harness import run_parity
from compare.policy import policy_for
from compare.report import parity_summary


@st.composite
def runs(draw):
    hidden = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
    n_x, m = draw(st.integers(2, 24)), draw(st.integers(2, 16))
    config = TrainConfig(
        layers=(n_x, *hidden, 1),
        init=draw(st.sampled_from(["dls", "he", "xavier"])),
        learning_rate=draw(st.sampled_from([0.0075, 0.05, 0.3])),
        iterations=draw(st.integers(1, 15)),
        seed=draw(st.integers(0, 2**31 - 1)),
        dtype=draw(st.sampled_from(["float64", "float32"])),
        first_layer=draw(st.sampled_from(["primal", "span"])),
    )
    return config, draw(st.integers(0, 2**31 - 1)), m


def arrays_for(config: TrainConfig, data_seed: int, m: int) -> Arrays:
    """Images in [0, 1] and labels with both classes, in the config's dtype, like the real data's scaling."""
    rng = np.random.default_rng(data_seed)
    dtype = np.dtype(config.dtype)
    labels = (np.arange(m) % 2).reshape(1, -1)
    X = rng.random((config.layers[0], m)) + 0.3 * labels  # (n_x, m): "cats" a little brighter
    return Arrays((X / X.max()).astype(dtype), labels.astype(dtype), X[:, :2].astype(dtype) / X.max(),
                  labels[:, :2].astype(dtype))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs())
def test_the_twins_agree_under_the_policy(run):
    config, data_seed, m = run
    report = run_parity(config, arrays_for(config, data_seed, m), policy_for(config.dtype, "cpu"))
    assert report.passed, parity_summary(report)
