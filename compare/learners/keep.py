"""Which top-level statements of a learner's file to run: imports, definitions and constants, nothing that works.

A notebook's top level loads the data, trains for minutes, draws and runs
the course's tests; a script's does the same under `if __name__ == ...` or
not. None of it is needed to call the graded functions, and all of it can
fail or hang away from the learner's machine. So only statements that bind
names without doing work are kept: imports, `def` and `class`, assignments
of constants (no calls, every name they read already bound), and `if`/`try`
blocks made only of those. Everything else is skipped and said so, with the
reason a reader recognises ("trains", "loads files", "draws", ...).
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass

TRAINS = "trains"
LOADS = "loads files"
DRAWS = "draws"
TESTS = "prints or runs tests"
MAIN = "main block"
MAGIC = "magics and shell lines"
LOOP = "loop"
NEEDS_SKIPPED = "uses what skipped code makes"
OTHER = "other top-level code"
CATEGORIES = (TRAINS, LOADS, DRAWS, TESTS, MAIN, MAGIC, LOOP, NEEDS_SKIPPED, OTHER)

_TRAINING_CALLS = {"two_layer_model", "L_layer_model", "model", "train", "fit"}
_LOADING_CALLS = {"load_data", "load_dataset", "File", "open", "load", "loadtxt", "imread", "read_csv", "urlopen",
                  "imresize", "walk", "listdir"}
_DRAWING_CALLS = {"imshow", "plot", "show", "figure", "subplot", "subplots", "title", "xlabel", "ylabel", "savefig",
                  "print_mislabeled_images", "plot_costs", "use", "axis", "legend", "hist", "scatter"}
_TESTING_CALLS = {"print", "print_grads", "pprint", "display"}
BUILTIN_NAMES = frozenset(dir(builtins)) | {"__name__", "__file__", "__doc__"}


@dataclass(frozen=True)
class Skipped:
    """One top-level statement left out, and why."""

    origin: str  # "line 12" or "cell 5, line 2"
    category: str  # one of CATEGORIES
    code: str  # its first line, shortened
    names: tuple[str, ...] = ()  # the names it would have bound (to explain a NameError later)


def select(body: list[ast.stmt], known: set[str], source: str, where) -> tuple[list[int], list[Skipped]]:
    """Indices of the statements in `body` to run, and the ones skipped; `known` gains the names kept ones bind.

    `where(lineno)` says where a line is ("line 12", "cell 5, line 2").
    """
    kept, skipped = [], []
    lines = source.splitlines()
    for index, statement in enumerate(body):
        reason = _reason_to_skip(statement, known)
        if reason is None:
            kept.append(index)
            known.update(bound_names(statement))
        else:
            first = lines[statement.lineno - 1].strip() if statement.lineno - 1 < len(lines) else ""
            code = first if len(first) <= 80 else first[:77] + "..."
            skipped.append(Skipped(where(statement.lineno), reason, code, tuple(sorted(bound_names(statement)))))
    return kept, skipped


def _reason_to_skip(statement: ast.stmt, known: set[str]) -> str | None:
    if isinstance(statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                              ast.Pass, ast.Global, ast.Nonlocal)):
        return None
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return None  # a docstring or a stray string: harmless
    if isinstance(statement, ast.If) and _is_main_test(statement.test):
        return MAIN
    if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        return _assignment_reason(statement, known)
    if isinstance(statement, (ast.If, ast.Try)) and _block_is_static(statement, set(known)):
        return None
    if isinstance(statement, (ast.For, ast.AsyncFor, ast.While)):
        return _call_category(statement) or LOOP
    return _call_category(statement) or OTHER


def _assignment_reason(statement, known: set[str]) -> str | None:
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    value = statement.value
    if value is None:  # a bare annotation: `x: int`
        return None
    if not all(_is_name_target(target) for target in targets):
        return _call_category(statement) or OTHER
    category = _call_category(value)
    if category:
        return category
    if any(isinstance(node, ast.Call) for node in _walk_outside_lambdas(value)):
        return OTHER
    reads = _names_read(value) | ({statement.target.id} if isinstance(statement, ast.AugAssign) else set())
    if reads - known - BUILTIN_NAMES:
        return NEEDS_SKIPPED
    return None


def _block_is_static(statement, known: set[str]) -> bool:
    """An if/try built only of what would be kept on its own (an import guarded by try, say)."""
    if isinstance(statement, ast.If) and (_call_category(statement.test) or _names_read(statement.test) - known
                                          - BUILTIN_NAMES or any(isinstance(n, ast.Call) for n in ast.walk(statement.test))):
        return False
    blocks = [statement.body, statement.orelse]
    if isinstance(statement, ast.Try):
        blocks += [handler.body for handler in statement.handlers] + [statement.finalbody]
    for block in blocks:
        for inner in block:
            if _reason_to_skip(inner, known) is not None:
                return False
            known.update(bound_names(inner))
    return True


def _is_main_test(test: ast.expr) -> bool:
    names = {node.id for node in ast.walk(test) if isinstance(node, ast.Name)}
    strings = {node.value for node in ast.walk(test) if isinstance(node, ast.Constant)}
    return "__name__" in names and "__main__" in strings


def _is_name_target(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return True
    return isinstance(target, (ast.Tuple, ast.List)) and all(_is_name_target(item) for item in target.elts)


def _walk_outside_lambdas(node: ast.AST):
    """ast.walk, but not into a lambda's body (it runs only when called)."""
    yield node
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, ast.Lambda):
            yield from _walk_outside_lambdas(child)


def _names_read(node: ast.AST) -> set[str]:
    comprehension_targets = {name.id for n in _walk_outside_lambdas(node) if isinstance(n, ast.comprehension)
                             for name in ast.walk(n.target) if isinstance(name, ast.Name)}
    return {n.id for n in _walk_outside_lambdas(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} \
        - comprehension_targets


def _call_category(node: ast.AST) -> str | None:
    """What the calls in `node` do, the most telling first: trains, loads, draws, tests."""
    names = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            names.add(_called_name(call.func))
        if isinstance(call, ast.Assert):
            names.add("assert")
    if names & _TRAINING_CALLS:
        return TRAINS
    if names & _LOADING_CALLS:
        return LOADS
    if names & _DRAWING_CALLS or any(_is_plt(n) for n in ast.walk(node)):
        return DRAWS
    if names & _TESTING_CALLS or "assert" in names or any(n.endswith(("_test", "_test_case")) for n in names):
        return TESTS
    if "get_ipython" in names or "magic" in names or "run_line_magic" in names:
        return MAGIC
    return None


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_plt(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "plt"


def bound_names(statement: ast.stmt) -> set[str]:
    """The names a top-level statement binds (imports, defs, assignment targets, loop variables)."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in statement.names if alias.name != "*"}
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    names = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not statement:
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= bound_names(node)
    return names


def imported_modules(tree: ast.AST) -> set[str]:
    """Top-level names of the modules a piece of code imports (absolute imports only)."""
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module.split(".")[0])
    return modules
