"""Running the training step eagerly, or on CUDA as one captured graph replayed per iteration.

A step of this network is ~20 tiny kernels, each taking about as long to
launch from Python as to run, so after a few eager warm-up iterations the whole
step (forward, backward, SGD update) is captured once with torch.cuda.graph
and replayed: one launch per iteration, parameters and gradients updated in
place in the same memory. The warm-up iterations are real training steps,
so the trajectory is the eager one. If capture fails the run carries on
eagerly from where it is.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

WARMUP_STEPS = 3  # eager iterations before capture: lets cuBLAS and the allocator settle, as torch.cuda.graph asks

Step = Callable[[], torch.Tensor]  # one update; returns its cost (a detached 0-d tensor on the device)
AfterStep = Callable[[int, list[torch.Tensor]], None]  # (iteration, costs so far)


def run_steps(
    step: Step, iterations: int, after_step: AfterStep, *, device: torch.device, graphable: bool
) -> list[torch.Tensor]:
    """Run `iterations` steps on `device`; the costs, one 0-d device tensor per iteration.

    `graphable`: nothing outside `step` touches the trained tensors between
    steps, so on CUDA the step may be replayed from a graph.
    """
    costs: list[torch.Tensor] = []
    use_graph = graphable and device.type == "cuda" and iterations > WARMUP_STEPS + 1
    if not use_graph:
        for iteration in range(iterations):
            costs.append(step())
            after_step(iteration, costs)
        return costs

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for iteration in range(WARMUP_STEPS):
            costs.append(step())
            after_step(iteration, costs)
    graph, static_cost = _capture(step, side)
    torch.cuda.current_stream().wait_stream(side)
    for iteration in range(WARMUP_STEPS, iterations):
        if graph is None:
            costs.append(step())
        else:
            graph.replay()
            costs.append(static_cost.clone())  # the graph overwrites static_cost on every replay
        after_step(iteration, costs)
    return costs


def _capture(step: Step, stream: torch.cuda.Stream) -> tuple[torch.cuda.CUDAGraph | None, torch.Tensor | None]:
    """The step captured as a graph (capture runs nothing), or (None, None) if it cannot be captured.

    Captured on the warm-up stream, whose cuBLAS handle and workspace already exist.
    """
    graph = torch.cuda.CUDAGraph()
    try:
        with torch.cuda.graph(graph, stream=stream):
            static_cost = step()  # zero_grad(set_to_none) inside: backward allocates .grad from the graph's pool
    except RuntimeError:
        torch.cuda.synchronize()
        return None, None
    return graph, static_cost

