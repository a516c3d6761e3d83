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

    def __init__(self, iteration: int, cost: float):
        super().__init__(
            f"training diverged: the cost became {cost!r} at iteration {iteration}; "
            "try a smaller --lr"
        )
        self.iteration = iteration
        self.cost = cost
