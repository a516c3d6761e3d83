"""Walk two or more training loops in lockstep through their own on_step hooks.

Each loop runs in its own thread but only when asked for its next step, so
the loops take turns and never compute at the same time: no two BLAS/OpenMP
thread pools fight over the cores, and only one step of each run is ever
held in memory, however long the run (a primal W1 is 2 MB a step).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from numpy_impl.train import StepCallback, StepState, TrainResult

Kept = TypeVar("Kept")


class _Stop(BaseException):
    """Raised inside a loop's on_step to end it early; BaseException so no `except Exception` swallows it."""


class StepStream(Generic[Kept]):
    """Iterate over `keep(state)` for every step of `run(on_step)`; `.result` once exhausted.

    `keep` runs in the loop's thread, on the live state, and must copy what it keeps.
    An exception inside the loop is raised again from `next()`.
    """

    def __init__(self, run: Callable[[StepCallback], TrainResult], keep: Callable[[StepState], Kept], name: str):
        self._run, self._keep, self.name = run, keep, name
        self._turn = threading.Semaphore(0)  # one permit = one more step
        self._out: queue.Queue = queue.Queue(maxsize=1)
        self._stopping = False
        self._thread = threading.Thread(target=self._main, name=f"stepstream-{name}", daemon=True)
        self._started = self._finished = False
        self.result: TrainResult | None = None
        self.busy_seconds = 0.0  # time spent in this loop (and its keep), turns of the others excluded
        self._resumed = 0.0

    def __iter__(self):
        return self

    def __next__(self) -> Kept:
        if self._finished:
            raise StopIteration
        if not self._started:
            self._started = True
            self._thread.start()
        self._turn.release()
        kind, value = self._out.get()
        if kind == "step":
            return value
        self._finished = True
        self._thread.join()
        if kind == "done":
            self.result = value
            raise StopIteration
        raise value

    def close(self) -> None:
        """Stop the loop if it is still running (after an error elsewhere)."""
        if self._started and not self._finished:
            self._stopping = True
            self._turn.release()
            self._thread.join()
            self._finished = True

    def _main(self) -> None:
        self._turn.acquire()
        self._resumed = time.perf_counter()
        try:
            result = self._run(self._on_step)
            self.busy_seconds += time.perf_counter() - self._resumed
            self._out.put(("done", result))
        except _Stop:
            pass
        except BaseException as exc:  # handed to the consumer, which raises it in its own thread
            self._out.put(("error", exc))

    def _on_step(self, state: StepState) -> None:
        kept = self._keep(state)
        self.busy_seconds += time.perf_counter() - self._resumed
        self._out.put(("step", kept))
        self._turn.acquire()
        self._resumed = time.perf_counter()
        if self._stopping:
            raise _Stop


def lockstep(*streams: StepStream):
    """Yield a tuple with one kept state per stream for each step; all streams must run equally long."""
    try:
        while True:
            states = []
            for stream in streams:
                try:
                    states.append(next(stream))
                except StopIteration:
                    states.append(None)
            if all(s is None for s in states):
                return
            if any(s is None for s in states):
                ended = [s.name for s, state in zip(streams, states) if state is None]
                raise RuntimeError(f"runs of unequal length: {', '.join(ended)} ended first")
            yield tuple(states)
    finally:
        for stream in streams:
            stream.close()
