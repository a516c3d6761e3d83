"""The `catnet` command: one parser, one subcommand module each.

Subcommand modules import only the standard library and catcore.config at
top level, so `catnet --help` and `catnet train --impl numpy` start fast;
each imports what it needs inside its `run`.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys

from catcore.errors import CatnetError

# Read by OpenBLAS (NumPy), MKL and OpenMP (torch) when they load, so set before any command imports them.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")
# OpenMP workers otherwise spin while they wait; with Captum's many short ops they fought other
# processes for the cores (explain on 50 images: 53-55 s spinning, 5 s passive, on a busy 2-core machine)
WAIT_POLICY = ("OMP_WAIT_POLICY", "PASSIVE")

# (name, module): each module has `register(subparsers)` that adds the parser and sets `run`
COMMANDS = (
    ("train", "catnet.commands.train"),
    ("predict", "catnet.commands.predict"),
    ("fetch-data", "catnet.commands.fetch_data"),
    ("compare", "catnet.commands.compare"),
    ("explain", "catnet.commands.explain"),
    ("neurons", "catnet.commands.neurons"),
    ("unroll", "catnet.commands.unroll"),
    ("report", "catnet.commands.report"),
    ("bench", "catnet.commands.bench"),
)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, not a usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    pass


def build_parser() -> Parser:
    parser = Parser(
        prog="catnet",
        description="The course's cat classifier, twinned in NumPy and PyTorch: train it, check the twins agree, "
        "and see what it learned.",
        formatter_class=HelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser, required=True)
    for _, module in COMMANDS:
        importlib.import_module(module).register(subparsers)
    return parser


def one_thread_by_default(environ=os.environ) -> None:
    """BLAS and OpenMP on one, passive thread unless the user has set the variables.

    catnet's per-step products are small (20 x 209 x 209 in span form), with
    little to gain from a second core, and where the cores are shared a BLAS
    or OpenMP worker spinning for a busy one made the course's loops 5-9x
    slower (measured: README, bench section).
    """
    for name in THREAD_VARIABLES:
        environ.setdefault(name, "1")
    environ.setdefault(*WAIT_POLICY)


def main(argv: list[str] | None = None) -> int:
    one_thread_by_default()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except CatnetError as exc:
        print(f"catnet {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"catnet {args.command}: interrupted", file=sys.stderr)
        return 130


def add_command(subparsers, name: str, help: str, description: str | None = None) -> Parser:
    """A subcommand parser with defaults shown in --help."""
    return subparsers.add_parser(name, help=help, description=description or help, formatter_class=HelpFormatter)


def layer_list(text: str) -> tuple[int, ...]:
    """argparse type for --layers 12288,20,7,5,1."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 12288,20,7,5,1, got {text!r}") from None
    return sizes


def _number(parse, valid, requirement: str):
    """An argparse type: `parse` the text (int or float), then insist on `valid(value)`."""
    kind = "an integer" if parse is int else "a number"

    def convert(text: str):
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        if not valid(value):
            raise argparse.ArgumentTypeError(f"{requirement}, got {text!r}")
        return value

    return convert


positive_float = _number(float, lambda value: 0 < value < math.inf, "must be positive and finite")
non_negative_float = _number(float, lambda value: 0 <= value < math.inf, "must be zero or more, and finite")
positive_int = _number(int, lambda value: value > 0, "must be positive")


if __name__ == "__main__":
    sys.exit(main())
