"""The parity harness on tiny data: the twins agree, a broken backprop is caught and named, the span form matches."""

from dataclasses import replace

import numpy as np
import pytest

import compare.gradcheck
import compare.twins
from catcore.config import TrainConfig
from catcore.data import load_dataset, prepare_arrays
from catcore.errors import TrainingDiverged
from catcore.params import Grads, LayerGrad
from compare.gradcheck import gradient_check
from compare.harness import Options, run_parity
from compare.policy import FLOAT32_CPU, FLOAT64_CPU, policy_for
from compare.report import (
    first_divergence,
    parity_blocks,
    parity_document,
    parity_summary,
    render_text,
)
from compare.trajectory import Snapshot, SpanFrame
from compare.walk import Stepper, lockstep
from numpy_impl.init import initialize
from numpy_impl.inplace import InPlaceDescent
from numpy_impl.train import Training


def tiny(tiny_data, **overrides):
    config = TrainConfig(layers=(48, 5, 3, 1), iterations=overrides.pop("iterations", 12), **overrides)
    return config, prepare_arrays(load_dataset(tiny_data), config)


def test_float64_twins_agree_in_every_section(tiny_data):
    config, arrays = tiny(tiny_data)
    report = run_parity(config, arrays, FLOAT64_CPU)
    assert report.passed, parity_summary(report)
    assert [s.key for s in report.sections] == ["forward", "gradients", "parameters"]
    assert [r.name for r in report.sections[0].rows] == ["Z1", "A1", "Z2", "A2", "Z3", "A3", "cost"]
    assert sorted({r.step for r in report.sections[2].rows}) == [1, 2, 10, 12]  # 12 = the end
    pair = report.trajectory.pairs[0]
    assert pair.label == "torch vs numpy" and pair.steps == 12
    assert pair.max_param_diff < 1e-14 and pair.first_relu is None
    assert [a.train_disagree for a in report.trajectory.agreements] == [0]
    assert all(c.checked > 0 and c.difference < 1e-7 for c in report.gradcheck.checks)


def test_float32_twins_are_each_judged_against_a_float64_run(tiny_data):
    config, arrays = tiny(tiny_data, dtype="float32")
    report = run_parity(config, arrays, FLOAT32_CPU)
    assert report.passed, parity_summary(report)
    row = report.sections[1].rows[0]
    assert row.labels == ("numpy vs float64", "torch vs float64", "torch vs numpy")
    assert row.checks[0].dtype == "float32" and 0 < row.checks[0].normwise < 1e-5
    assert [p.label for p in report.trajectory.pairs] == ["numpy vs float64", "torch vs float64", "torch vs numpy"]
    assert report.trajectory.balance_max is not None


def _backward_with_wrong_relu_derivative(params, fp, Y):
    """numpy_impl's backward, but ReLU'(Z) taken as 1 everywhere, as if the mask were forgotten."""
    m = Y.shape[1]
    dZ = (fp.AL - Y) / m
    grads = [None] * len(params.layers)
    for index in reversed(range(len(params.layers))):
        A_prev = fp.A[index]
        grads[index] = LayerGrad(dW=dZ @ A_prev.T, db=dZ.sum(axis=1, keepdims=True))
        if index == 0:
            break
        dZ = params.layers[index].W.T @ dZ  # the bug: no * (Z > 0)
    return Grads(tuple(grads))


def _training_step_with_wrong_relu_derivative(original):
    """numpy_impl's fast training step with the same bug: the backward pass sees ReLU'(Z) = 1."""

    def step(self):
        masks = [mask.copy() for mask in self.relu_on]
        for mask in self.relu_on:
            mask.fill(1.0)  # the bug: no * (Z > 0) on the way back (the forward pass already ran)
        try:
            original(self)
        finally:
            for mask, saved in zip(self.relu_on, masks):
                mask[...] = saved

    return step


def test_a_broken_numpy_backprop_is_caught_and_named_in_every_section_that_sees_it(tiny_data, monkeypatch):
    for module in (compare.twins, compare.gradcheck):
        monkeypatch.setattr(module, "backward", _backward_with_wrong_relu_derivative)
    # the training loop runs numpy_impl.inplace's step, not network.backward: break it the same way
    monkeypatch.setattr(
        InPlaceDescent, "_backward_and_update", _training_step_with_wrong_relu_derivative(InPlaceDescent._backward_and_update)
    )
    config, arrays = tiny(tiny_data)
    report = run_parity(config, arrays, FLOAT64_CPU)
    assert not report.passed
    forward, gradients, _ = report.sections
    assert forward.passed  # the forward pass is untouched
    failing = [row.name for row in gradients.rows if not row.passed]
    assert "dW3" not in failing and "dW2" in failing  # the output layer has no ReLU; the layer below does
    assert not report.trajectory.passed
    assert not report.gradcheck.passed
    key, index, line = first_divergence(report)
    assert key == "gradients" and gradients.rows[index].name == "dW2"
    assert line.startswith("Gradients at step 0 (NumPy backprop vs torch autograd): dW2 differs:")
    text = render_text(parity_blocks(report), parity_summary(report))
    assert ">> dW2" in text and text.rstrip().splitlines()[-1].startswith("PARITY FAILS: Gradients at step 0")


def test_the_span_check_agrees_with_the_primal_form_to_rounding(tiny_data):
    config, arrays = tiny(tiny_data, iterations=30)
    report = run_parity(config, arrays, FLOAT64_CPU, options=Options(span_check=True))
    span = report.span
    assert span.passed and [o.first_layer for o in span.outcomes] == ["primal", "span"]
    assert span.pairs[0].max_param_diff < 1e-14
    # a primal W1 costs a training step to compare: every 10th step (and the first), costs at every step
    compared = np.flatnonzero(~np.isnan(span.pairs[0].param_diff)) + 1
    assert span.stride == 10 and compared.tolist() == [1, 10, 20, 30]
    assert len(span.pairs[0].cost_diff) == 30
    assert parity_document(report)["span_check"]["pairs"][0]["other"] == "span"


def test_span_runs_are_compared_through_the_gram_matrix_exactly_as_if_materialised():
    rng = np.random.default_rng(3)
    X, W1 = rng.random((40, 9)), rng.standard_normal((4, 40))
    frame = SpanFrame(W1, X)
    upper = ()
    a = Snapshot(0, 0.0, C=rng.standard_normal((4, 9)), W1=None, b1=np.zeros((4, 1)), upper=upper)
    b = Snapshot(0, 0.0, C=a.C + 1e-6 * rng.standard_normal((4, 9)), W1=None, b1=np.zeros((4, 1)), upper=upper)
    direct = np.sum((frame.materialise(a.C) - frame.materialise(b.C)) ** 2)
    assert frame.W1_diff_sq(a, b) == pytest.approx(direct, rel=1e-9)
    assert frame.W1_sq(a) == pytest.approx(np.sum(frame.materialise(a.C) ** 2), rel=1e-12)


def test_a_run_that_diverges_stops_the_comparison_with_its_iteration(tiny_data):
    config, arrays = tiny(tiny_data, learning_rate=1e200)
    with pytest.raises(TrainingDiverged, match="iteration"):
        run_parity(config, arrays, FLOAT64_CPU)


def test_lockstep_refuses_runs_of_different_lengths(tiny_data):
    config, arrays = tiny(tiny_data)
    initial = initialize(config.layers, seed=1)

    def stream(iterations):
        training = Training(initial, arrays.X_train, arrays.Y_train, replace(config, iterations=iterations))
        return Stepper(f"{iterations} steps", training.steps(), lambda state: state.iteration)

    with pytest.raises(RuntimeError, match="unequal length: 3 steps ended first"):
        list(lockstep(stream(3), stream(5)))
    assert [pair for pair in lockstep(stream(2), stream(2))] == [(0, 0), (1, 1)]


def test_the_gradient_check_skips_a_unit_sitting_on_the_relu_kink(tiny_data):
    config, arrays = tiny(tiny_data)
    params = initialize(config.layers, seed=1)
    params.layers[0].W[2] = 0.0  # unit 3 of layer 1: Z = 0 on every example, right on the kink
    checks = gradient_check(params, arrays.X_train, arrays.Y_train, np.random.default_rng(0), 1e-7, per_tensor=5)
    db1 = checks[1]
    assert db1.name == "db1" and db1.skipped == 1 and db1.checked == 4
    assert db1.passed


def test_tf32_on_cuda_is_a_fast_mode_not_a_parity_claim():
    policy = policy_for("float32", "cuda", allow_tf32=True)
    assert not policy.judged and "fast mode" in policy.name
    assert policy_for("float64", "cuda").step.normwise > FLOAT64_CPU.step.normwise
    assert policy_for("float32", "cpu", allow_tf32=True).judged  # TF32 only exists on CUDA


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_twin_on_cuda_agrees_with_the_numpy_reference(tiny_data, dtype):
    config, arrays = tiny(tiny_data, dtype=dtype)
    report = run_parity(config, arrays, policy_for(dtype, "cuda"), device="cuda")
    assert report.passed, parity_summary(report)
    assert report.settings["device"].startswith("cuda")


def test_a_trajectory_that_drifts_past_the_tolerance_is_reported_with_its_first_step(tiny_data, monkeypatch):
    """A torch twin whose SGD steps are 0.1% too long: step 0 agrees, the trajectory does not."""
    import torch_impl.train

    real_sgd, real_step = torch_impl.train.PlainSGD, torch_impl.train.SpanStep
    monkeypatch.setattr(torch_impl.train, "PlainSGD", lambda params, lr: real_sgd(params, lr=lr * 1.001))
    monkeypatch.setattr(torch_impl.train, "SpanStep", lambda span, lr: real_step(span, lr * 1.001))  # the CPU span step
    config, arrays = tiny(tiny_data, iterations=20)
    report = run_parity(config, arrays, FLOAT64_CPU)
    assert report.sections[0].passed and report.sections[1].passed  # forward and gradients: no training yet
    assert not report.trajectory.passed
    assert report.trajectory.pairs[0].first_past[0][1] == 1  # past 1e-12 after the very first update
    key, _, line = first_divergence(report)
    assert key == "parameters"  # the checkpoint after step 1 already differs
    assert line.startswith("Parameters after steps: W1 after step 1 differs")
