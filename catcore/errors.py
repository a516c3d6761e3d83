"""The exception types the command line turns into a one-line message."""

from __future__ import annotations

import math


class CatnetError(ValueError):
    """Bad input or a failed run, with a message a person can act on.

    The CLI prints it as a single line on stderr and exits non-zero;
    anything else that escapes is a bug and keeps its traceback.
    """

    exit_code = 2


class WriteFailed(CatnetError):
    """An output could not be written (a full disk, a vanished folder): the run was fine, its results are not kept."""

    exit_code = 1


class TrainingDiverged(CatnetError):
    """The run ended in a useless model: a cost or parameter stopped being finite, or the cost ended above its start.

    `first_cost`, when given, says the run finished: `cost` is then the cost
    after the last update (`iteration`), judged against the cost at iteration 0.
    """

    exit_code = 1

    def __init__(self, iteration: int, cost: float, parameter: str | None = None, first_cost: float | None = None):
        if parameter is not None:  # a parameter went non-finite where no later cost shows it (the last update, a dead unit)
            what = f"{parameter} holds {cost!r} after the update of iteration {iteration}"
        elif first_cost is None:
            what = f"the cost became {cost!r} at iteration {iteration}"
        elif not math.isfinite(cost):
            what = f"the cost after the last update (iteration {iteration}) is {cost!r}"
        else:
            what = (f"the cost rose from {first_cost:.6g} at iteration 0 to {cost:.6g} after the last update "
                    f"(iteration {iteration})")
        super().__init__(f"training diverged: {what}; try a smaller --lr")
        self.iteration = iteration
        self.cost = cost  # the non-finite value, an entry of `parameter`, or the final cost
        self.first_cost = first_cost
