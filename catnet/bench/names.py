"""The names `catnet bench --commands` takes, apart from commands.py so that building the parser imports nothing."""

COMMAND_NAMES = ("train-numpy", "train-torch", "unroll", "compare", "explain", "neurons", "report")
