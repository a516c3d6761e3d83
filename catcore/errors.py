"""The one exception type the command line turns into a one-line message."""


class CatnetError(ValueError):
    """Bad input or a failed run, with a message a person can act on.

    The CLI prints it as a single line on stderr and exits non-zero;
    anything else that escapes is a bug and keeps its traceback.
    """

    exit_code = 2


class TrainingDiverged(CatnetError):
    """The cost stopped being a finite number (learning rate too large?)."""

    exit_code = 1

    def __init__(self, iteration: int, cost: float, parameter: str | None = None):
        if parameter is None:
            what = f"the cost became {cost!r} at iteration {iteration}"
        else:  # a parameter went non-finite where no later cost shows it (the last update, a dead unit)
            what = f"{parameter} holds {cost!r} after the update of iteration {iteration}"
        super().__init__(f"training diverged: {what}; try a smaller --lr")
        self.iteration = iteration
        self.cost = cost  # the non-finite value: the cost, or an entry of `parameter`
