"""In the child: the learner's kept statements run into a fresh module, the course's helpers there when it needs them.

Each kept statement runs on its own, so one that fails (an import of a
package that is not installed, a helper that is an HTML page) is noted and
the rest still load, as a notebook's cells would. Imports of the course's
helper modules resolve to the copies that travelled with the file, or, when
there are none or they do not parse, to catnet's stand-ins (course.py).
A name the file's functions use but never define or import (np, sigmoid)
is supplied the same way and said so.
"""

from __future__ import annotations

import ast
import dis
import importlib.abc
import importlib.util
import linecache
import sys
import traceback
import types
from dataclasses import dataclass, field

from compare.learners.course import ACTIVATION_NAMES, HELPER_NAMES, helper_functions
from compare.learners.keep import BUILTIN_NAMES
from compare.learners.protocol import (
    ACTIVATION_HELPERS,
    APPLICATION_HELPERS,
    NEW_KEYS,
    is_test_module,
)

MODULE_NAME = "catnet_learner"
_SUPPLIED_MODULES = {"np": "numpy", "numpy": "numpy", "copy": "copy", "math": "math"}


@dataclass
class Learner:
    """The loaded module, where its code came from, and what loading it took."""

    module: types.ModuleType
    filenames: dict[str, str]  # compiled filename -> how to name it in a message ("", "cell 5", "dnn_utils_v2.py")
    notes: list[str] = field(default_factory=list)

    def defined(self, name: str):
        """The function `name` if the learner's file itself defines it, else None."""
        value = self.module.__dict__.get(name)
        code = getattr(value, "__code__", None)
        own = {filename for filename, label in self.filenames.items() if not label.endswith(".py")}
        return value if callable(value) and code is not None and code.co_filename in own else None

    def provenance(self, name: str) -> str:
        """Where `name` came from when the file does not define it: a module's name, or "" when absent."""
        value = self.module.__dict__.get(name)
        if value is None or not callable(value):
            return ""
        return str(getattr(value, "__module__", "") or "another module")

    def where(self, exc: BaseException) -> tuple[str, str]:
        """(' (line 42)' or ' (cell 5, line 3)', the code on that line): the learner's deepest line in the traceback."""
        frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if frame.filename in self.filenames]
        if not frames:
            return "", ""
        label = self.filenames[frames[-1].filename]
        return f" ({label + ', ' if label else ''}line {frames[-1].lineno})", (frames[-1].line or "").strip()[:120]


def load(job: dict) -> Learner:
    """Run the job's kept statements into a fresh module."""
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = job["name"]
    sys.modules[MODULE_NAME] = module  # dataclasses and pickling inside the file look themselves up here
    filenames = {unit["filename"]: unit["label"] for unit in job["units"]}
    learner = Learner(module, filenames)
    finder = CourseModules(dict(job["neighbours"]), job["folder"], learner)
    sys.meta_path.insert(0, finder)
    for unit in job["units"]:
        _remember_lines(unit["filename"], unit["code"])
        _run_unit(unit, learner)
    _supply_missing_names(learner)
    return learner


def _remember_lines(filename: str, code: str) -> None:
    """Let tracebacks quote the learner's lines (the code never was a file here)."""
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)


def _run_unit(unit: dict, learner: Learner) -> None:
    body = ast.parse(unit["code"]).body
    flags = 0
    for index in unit["keep"]:
        statement = body[index]
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            flags |= _future_flags(statement)
        try:
            code = compile(ast.Module([statement], type_ignores=[]), unit["filename"], "exec", flags=flags,
                           dont_inherit=True)
            exec(code, learner.module.__dict__)
        except BaseException as exc:  # noqa: BLE001 -- SystemExit and the like too: the statement is left out
            where = f"{unit['label'] + ', ' if unit['label'] else ''}line {statement.lineno}"
            kind, message, _ = describe(exc, learner)
            learner.notes.append(f"{where} raised {kind}{': ' + message if message else ''}; left out")


def _future_flags(statement: ast.ImportFrom) -> int:
    import __future__

    return sum(getattr(__future__, alias.name).compiler_flag for alias in statement.names
               if hasattr(__future__, alias.name))


def _supply_missing_names(learner: Learner) -> None:
    """np, copy, sigmoid, initialize_parameters_deep ...: used by the file's functions, bound nowhere."""
    namespace = learner.module.__dict__
    used = set()
    for name, value in list(namespace.items()):
        if learner.defined(name) is not None:
            used |= _global_names(value.__code__)
    missing = used - set(namespace) - BUILTIN_NAMES
    for name in sorted(missing & set(_SUPPLIED_MODULES)):
        namespace[name] = importlib.import_module(_SUPPLIED_MODULES[name])
        learner.notes.append(f"{name} is used but never imported: catnet supplied {_SUPPLIED_MODULES[name]} as {name}")
    helpers = sorted(missing & set(HELPER_NAMES))
    if helpers:
        namespace.update(helper_functions(tuple(helpers)))
        source = "dnn_utils" if set(helpers) <= set(ACTIVATION_NAMES) else "dnn_app_utils_v3"
        learner.notes.append(f"{', '.join(helpers)} {'is' if len(helpers) == 1 else 'are'} used but never defined "
                             f"or imported: catnet's stand-in for the course's {source} supplied "
                             f"{'it' if len(helpers) == 1 else 'them'}")


def _global_names(code: types.CodeType) -> set[str]:
    """The global names a function's code reads (not the attribute names co_names also holds)."""
    names = {ins.argval for ins in dis.get_instructions(code) if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def describe(exc: BaseException, learner: Learner) -> tuple[str, str, str]:
    """(type, first line of the message, 'Type: message (line N)') for a report."""
    kind = type(exc).__name__
    try:
        message = str(exc).strip()
    except BaseException:  # noqa: BLE001 -- a learner's exception whose __str__ itself fails
        message = ""
    message = message.splitlines()[0][:200] if message else ""
    if isinstance(exc, SystemExit):
        return kind, message, f"called sys.exit({message})"
    where, line = learner.where(exc)
    said = f": {message}" if message else (f" at `{line}`" if line else "")  # a bare assert: quote it
    return kind, message, f"{kind}{said}{where}"


class CourseModules(importlib.abc.MetaPathFinder):
    """Finds the modules beside the learner's file (they travelled as text), and stands in for the course's helpers."""

    def __init__(self, neighbours: dict[str, str], folder: str, learner: Learner):
        self.neighbours, self.folder, self.learner = neighbours, folder, learner

    def find_spec(self, name, path=None, target=None):
        if "." in name:
            return None
        known = name in ACTIVATION_HELPERS or name in APPLICATION_HELPERS or is_test_module(name)
        if name in self.neighbours:
            text = self.neighbours[name]
            problem = _does_not_compile(text)
            if problem is None or not known:
                filename = f"{self.folder}/{name}.py"
                self.learner.filenames[filename] = f"{name}.py"
                _remember_lines(filename, text)
                return importlib.util.spec_from_loader(name, _TextLoader(text, filename, self.learner))
            self.learner.notes.append(f"{name}.py beside the file {problem}: {_standing_in(name)}")
        elif known:
            self.learner.notes.append(f"{name} is not beside the file: {_standing_in(name)}")
        else:
            return None
        return importlib.util.spec_from_loader(name, _StandInLoader(name))


def _standing_in(name: str) -> str:
    if is_test_module(name):
        return "left empty (catnet checks with its own inputs, not the course's test cases)"
    if name in ACTIVATION_HELPERS:
        return "catnet's stand-in supplies sigmoid, relu, sigmoid_backward and relu_backward"
    keys = "dA0..dA(L-1)" if APPLICATION_HELPERS[name] == NEW_KEYS else "dA1..dAL"
    return f"catnet's stand-in supplies the course's helper functions (L_model_backward with keys {keys})"


def _does_not_compile(text: str) -> str | None:
    if text.lstrip("\ufeff \t\r\n")[:15].lower().startswith(("<!doctype html", "<html")):
        return "is an HTML page (saved from the browser?), not Python"
    try:
        compile(text, "<helper>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        return f"does not parse ({type(exc).__name__})"
    return None


class _TextLoader(importlib.abc.Loader):
    """A module beside the learner's file, run one top-level statement at a time: a statement that raises (an
    `import scipy` where scipy is not installed, a plot of a file that is not there) costs only itself and is
    noted, as a statement of the learner's own file would be, instead of sinking every function the module defines."""

    def __init__(self, text: str, filename: str, learner: Learner):
        self.text, self.filename, self.learner = text, filename, learner

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__file__ = self.filename
        tree = ast.parse(self.text.lstrip("\ufeff"), self.filename)
        future = 0  # a `from __future__ import ...` holds for the statements after it, as in one compile
        for statement in tree.body:
            if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
                future |= _future_flags(statement)
            code = compile(ast.Module([statement], type_ignores=[]), self.filename, "exec", flags=future,
                           dont_inherit=True)
            try:
                exec(code, module.__dict__)
            except Exception as exc:  # noqa: BLE001 -- SystemExit and the like still end the import, as they should
                self.learner.notes.append(f"{module.__name__}.py, line {statement.lineno} raised {type(exc).__name__}: "
                                          f"{describe(exc, self.learner)[1]} (skipped; the rest of it was kept)")


def _future_flags(statement: ast.ImportFrom) -> int:
    import __future__

    feature = (getattr(__future__, alias.name, None) for alias in statement.names)
    return sum(f.compiler_flag for f in feature if f is not None)


class _StandInLoader(importlib.abc.Loader):
    def __init__(self, name: str):
        self.name = name

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        import numpy

        if is_test_module(self.name):
            return
        names = ACTIVATION_NAMES if self.name in ACTIVATION_HELPERS else HELPER_NAMES
        module.__dict__.update(helper_functions(names, APPLICATION_HELPERS.get(self.name, NEW_KEYS)))
        module.np = numpy
