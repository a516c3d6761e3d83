"""The `catnet` command: one parser, one subcommand module each.

Only the named command's module is imported (all of them for `catnet --help`),
and none imports NumPy, torch or matplotlib at top level, so the parser is
built fast; each imports what it needs inside its `run`.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import math
import os
import signal
import sys
import threading

from catcore.config import MAX_ITERATIONS, SEED_HELP, is_seed
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
    def _get_help_string(self, action):
        # "(default: None)" says nothing: such a flag's help says what happens without it
        return action.help if action.default is None else super()._get_help_string(action)


def build_parser(argv: list[str] | None = None) -> Parser:
    """The parser; when argv names a command, only that command's module is imported and registered
    (the other eight and their arguments cost `catnet train` about 25 ms), else all of them, for --help."""
    parser = Parser(
        prog="catnet",
        description="The course's cat classifier, twinned in NumPy and PyTorch: train it, check the twins agree, "
        "and see what it learned.",
        formatter_class=HelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser, required=True)
    named = [module for name, module in COMMANDS if argv and argv[0] == name]
    for module in named or [module for _, module in COMMANDS]:
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
    """Run one command: every failure ends in one line on stderr and a non-zero exit, never a traceback.

    The command's outputs are one transaction (catcore.outputs): committed together when it finishes, all
    removed when it fails, is interrupted (Ctrl-C, 130) or is terminated (SIGTERM 143, SIGHUP 129). A closed
    stdout pipe (`catnet train | head -1`) ends the command quietly, with 141 like any tool killed by SIGPIPE.
    """
    one_thread_by_default()
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    from catcore.outputs import transaction

    for stream in (sys.stdout, sys.stderr):  # a terminal that cannot show Δ or — gets '?', not a UnicodeEncodeError
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    stdout, sys.stdout = sys.stdout, _Stdout(sys.stdout)
    try:
        with _signals_as_interrupts():
            with transaction():
                code = int(args.run(args) or 0)
            sys.stdout.flush()  # a full disk or a closed pipe under stdout shows here, not at exit
        return code
    except StdoutFailed as exc:
        _silence_stdout(stdout)
        if exc.errno == errno.EPIPE:
            return 128 + signal.SIGPIPE
        return _fail(args.command, f"cannot write to standard output: {exc.strerror}", 1)
    except CatnetError as exc:
        return _fail(args.command, str(exc), exc.exit_code)
    except KeyboardInterrupt as exc:
        if isinstance(exc, Terminated):
            return _fail(args.command, f"terminated ({signal.Signals(exc.signum).name})", 128 + exc.signum)
        return _fail(args.command, "interrupted", 130)
    except OSError as exc:  # an I/O failure no layer below turned into a sentence
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(args.command, f"{where}{exc.strerror or exc}", 1)
    except MemoryError:
        return _fail(args.command, "out of memory (try smaller inputs or fewer images at a time)", 1)
    finally:
        sys.stdout = stdout


class StdoutFailed(Exception):
    """Writing to stdout failed: the reader closed the pipe (EPIPE) or the disk under it is full."""

    def __init__(self, error: OSError):
        super().__init__(error.strerror or str(error))
        self.errno, self.strerror = error.errno, error.strerror or str(error)


class _Stdout:
    """sys.stdout, but a failed write says that it was stdout's, so that main can tell it from other I/O errors."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            written = self._stream.write(text)
            if "\n" in text:  # line by line: a closed pipe or full disk shows at its first line, before anything else
                self._stream.flush()
            return written
        except OSError as exc:
            raise StdoutFailed(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise StdoutFailed(exc) from None

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _silence_stdout(stream) -> None:
    """Point stdout's descriptor at /dev/null, so the interpreter's final flush does not fail again (Python's recipe)."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture): nothing to flush at exit
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _fail(command: str, message: str, code: int) -> int:
    try:
        print(f"catnet {command}: error: {message}", file=sys.stderr, flush=True)
    except OSError:  # stderr itself is gone: the exit status is all that is left to say it
        pass
    return code


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C's KeyboardInterrupt so that every cleanup on the way runs."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def _signals_as_interrupts():
    """SIGTERM and SIGHUP raise Terminated while the command runs; the previous handlers come back after."""
    def handler(signum, frame):
        raise Terminated(signum)

    wanted = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    previous = {signum: signal.signal(signum, handler) for signum in wanted}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


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
seed = _number(int, is_seed, f"must be {SEED_HELP}")


def int_from(low: int, high: int):
    """An argparse type for a whole number from `low` to `high`: a flag's sane range, said before any work."""
    return _number(int, lambda value: low <= value <= high, f"must be from {low:,} to {high:,}")


iteration_count = int_from(1, MAX_ITERATIONS)
MAX_TIMEOUT_SECONDS = 86400.0
timeout_seconds = _number(float, lambda value: 0 < value <= MAX_TIMEOUT_SECONDS,
                          f"must be above 0 and at most {MAX_TIMEOUT_SECONDS:g} seconds (a day)")


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_threads(text: str) -> int:
    """argparse type for --threads: 1 up to the usable CPUs (a huge count made OpenMP crash, exit 139)."""
    value = positive_int(text)
    if value > usable_cpus():
        raise argparse.ArgumentTypeError(f"must be from 1 to {usable_cpus()} (the CPUs this process may use), got {text!r}")
    return value


if __name__ == "__main__":
    sys.exit(main())
