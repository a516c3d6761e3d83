"""torch.optim.SGD's update for one full-batch parameter group, without the Optimizer object.

Constructing any torch.optim.Optimizer imports torch._dynamo (torch 2.13 wraps
`add_param_group` in `torch._disable_dynamo`): measured here at 1.1-1.2 s of
the 4.2 s that `catnet train --impl torch --device cpu` takes as a whole
process, paid for nothing that plain full-batch SGD uses. `step` calls
`torch.optim.sgd.sgd`, the very function `torch.optim.SGD.step` runs, with
SGD's defaults (no momentum, dampening, weight decay or Nesterov); the tests
check that the two give bit-identical parameters step after step.
"""

from __future__ import annotations

import torch
from torch.optim.sgd import sgd


class PlainSGD:
    """p -= lr * p.grad for every tensor in `params`, as torch.optim.SGD(params, lr) does."""

    def __init__(self, params: list[torch.Tensor], lr: float):
        self.params = list(params)
        self.lr = lr
        self.fused = _fused_kernel_works(self.params)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None  # as zero_grad(set_to_none=True)

    @torch.no_grad()
    def step(self) -> None:
        with_grad = [p for p in self.params if p.grad is not None]
        sgd(
            with_grad,
            [p.grad for p in with_grad],
            [None] * len(with_grad),  # no momentum buffers
            fused=self.fused,
            weight_decay=0.0,
            momentum=0.0,
            lr=self.lr,
            dampening=0.0,
            nesterov=False,
            maximize=False,
        )


def _fused_kernel_works(params: list[torch.Tensor]) -> bool | None:
    """One fused kernel for the update where this torch and device have it (same arithmetic); else the default."""
    probe = [torch.zeros(1, dtype=p.dtype, device=p.device) for p in params[:1]]
    try:
        with torch.no_grad():
            sgd(probe, [torch.zeros_like(t) for t in probe], [None] * len(probe), fused=True,
                weight_decay=0.0, momentum=0.0, lr=1.0, dampening=0.0, nesterov=False, maximize=False)
    except (RuntimeError, TypeError, ValueError):
        return None
    return True
