"""PlainSGD is torch.optim.SGD's update without the Optimizer object's start-up cost."""

import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from numpy_impl.init import initialize
from tests.conftest import REPO
from torch_impl.model import CatNet
from torch_impl.sgd import PlainSGD


def _train(make_optimizer, steps: int = 25) -> list[torch.Tensor]:
    rng = np.random.RandomState(0)
    X = torch.from_numpy(rng.rand(16, 48))  # (m, n_x)
    Y = torch.from_numpy((np.arange(16) % 2).reshape(-1, 1).astype(np.float64))  # (m, 1)
    model = CatNet.from_params(initialize((48, 6, 4, 1), "he", seed=3))
    optimizer = make_optimizer(list(model.parameters()))
    for _ in range(steps):
        optimizer.zero_grad()
        F.binary_cross_entropy_with_logits(model(X), Y).backward()
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("fused", [False, True], ids=["torch.optim.SGD", "torch.optim.SGD(fused=True)"])
def test_plain_sgd_gives_bit_identical_parameters_to_torch_optim_sgd(fused):
    ours = _train(lambda params: PlainSGD(params, lr=0.05))
    theirs = _train(lambda params: torch.optim.SGD(params, lr=0.05, **({"fused": True} if fused else {})))
    for mine, reference in zip(ours, theirs):
        torch.testing.assert_close(mine, reference, rtol=0, atol=0)


def test_plain_sgd_skips_tensors_without_a_gradient():
    used, unused = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    optimizer = PlainSGD([used, unused], lr=0.5)
    used.grad = torch.full((2,), 2.0)
    optimizer.step()
    assert used.tolist() == [0.0, 0.0] and unused.tolist() == [1.0, 1.0]


def test_training_the_torch_twin_does_not_import_torch_dynamo(tiny_data):
    # constructing a torch.optim.Optimizer would import it: 1.1 s of a 4.2 s `catnet train --impl torch`
    code = (
        "import sys; from catnet.cli import main; "
        f"rc = main(['train', '--impl', 'torch', '--device', 'cpu', '--data', {str(tiny_data)!r}, "
        "'--layers', '48,5,1', '--iterations', '5', '--quiet']); "
        "print('rc', rc, 'dynamo', 'torch._dynamo' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.stdout.split()[-4:] == ["rc", "0", "dynamo", "False"], proc.stdout + proc.stderr
