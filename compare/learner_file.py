"""Importing a learner's course-style file and calling its functions without letting them crash the harness."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
import traceback
import uuid
from pathlib import Path

from catcore.errors import CatnetError

FUNCTIONS = ("initialize_parameters_deep", "L_model_forward", "compute_cost", "L_model_backward", "update_parameters")


def check_learner_path(path: str | Path) -> Path:
    """The boundary check of --against: an existing .py file."""
    path = Path(path)
    if path.suffix != ".py":
        raise CatnetError(f"--against expects a Python file (.py), got {str(path)!r}")
    if not path.is_file():
        raise CatnetError(f"--against: no such file {str(path)!r}")
    return path


def load_learner_file(path: str | Path):
    """Import the file at `path` as a fresh module: (module, None), or (None, "ErrorType: message (line N)")."""
    path = check_learner_path(path)
    name = f"catnet_learner_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling inside the file look themselves up here
    sys.path.insert(0, str(path.resolve().parent))  # the course's files import helpers that sit beside them
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        return None, describe_error(exc, path)
    finally:
        if str(path.resolve().parent) in sys.path:  # unless the file took it out itself
            sys.path.remove(str(path.resolve().parent))
        sys.modules.pop(name, None)
    return module, None


def describe_error(exc: BaseException, path: Path) -> str:
    """'ValueError: shapes ... not aligned (line 42)' with the deepest line of the learner's file in the traceback."""
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if Path(frame.filename) == path.resolve()
             or Path(frame.filename) == path]
    where = f" (line {lines[-1]})" if lines else ""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}{': ' + message if message else ''}{where}"


def call(module, path: Path, function: str, *args):
    """Run one learner function with its printing swallowed: (value, None) or (None, error text)."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return getattr(module, function)(*args), None
    except Exception as exc:  # the learner's bug, reported rather than raised
        return None, describe_error(exc, path)


def find_functions(module) -> dict[str, bool]:
    return {name: callable(getattr(module, name, None)) for name in FUNCTIONS}
