"""Reading a learner's .py file or .ipynb notebook into the statements the child will run.

Nothing here runs the learner's code: it is read as text and parsed with
`ast`. A notebook is read with nbformat (any nbformat version it converts),
cell by cell, so one cell that does not parse (an IndentationError left in,
Python 2 syntax) costs only that cell. Magics and shell lines are blanked.
The .py files beside the learner's file that it imports (the course's
dnn_utils_v2.py, a testCases module) travel with it, so the child runs the
same code whether it runs here or on a Dask worker that has no such folder.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from compare.learners.codec import AST_LOCK
from compare.learners.keep import MAGIC, Skipped, bound_names, imported_modules, select
from compare.learners.protocol import GRADED

MAX_FILE_BYTES = 20 << 20  # notebooks carry their outputs (images), so this is generous
MAX_NEIGHBOUR_BYTES = 2 << 20
MAX_NEIGHBOURS = 20
SUFFIXES = (".py", ".ipynb")
_DEF = re.compile(r"^def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)
_VERSION_MARKER = re.compile(r"^\s*###\s*v(\d+(?:\.\d+)*)", re.MULTILINE)


def parse(text: str, filename: str = "<unknown>") -> ast.Module:
    """ast.parse, one thread at a time (the class runner reads files from several; see codec.AST_LOCK)."""
    with AST_LOCK:
        return ast.parse(text, filename=filename)


@dataclass(frozen=True)
class Unit:
    """A piece of the file the child runs as one: a whole .py file, or one notebook cell."""

    code: str  # its text, magic lines blanked so that line numbers still hold
    keep: tuple[int, ...]  # the indices of its top-level statements to run
    filename: str  # the name the child compiles it under: error lines and "defined in the file" key on it
    label: str  # "" for a .py file, "cell 5" for a notebook's fifth cell


@dataclass(frozen=True)
class Broken:
    """A notebook cell that does not parse, and the graded functions it would have defined."""

    label: str
    error: str
    defines: tuple[str, ...]


@dataclass(frozen=True)
class Metadata:
    """What the notebook says about itself (empty for a .py file)."""

    graded_item_id: str = ""  # Coursera's id: c4HO0 is Step by Step, TSPse the Application
    kernel: str = ""  # "python2", "python3", ...
    version_marker: str = ""  # the 2021+ release's "### v1.1" cell
    code_cells: int = 0


@dataclass(frozen=True)
class LearnerSource:
    """A learner's file, read: what to run, what was left out and why, and what it imports."""

    path: str  # as the user named it
    kind: str  # "python" or "notebook"
    units: tuple[Unit, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    broken: tuple[Broken, ...] = ()
    problem: str | None = None  # why the file cannot be checked at all, or None
    imports: tuple[str, ...] = ()  # every module any import statement names, kept or not
    neighbours: tuple[tuple[str, str], ...] = ()  # (module, source) of the .py files beside it that it imports
    metadata: Metadata = field(default_factory=Metadata)
    defines: tuple[str, ...] = ()  # the graded functions its source defines, parsed or not

    def made_by_skipped_code(self, name: str) -> Skipped | None:
        """The skipped statement that would have bound `name`, to explain a NameError."""
        return next((s for s in self.skipped if name in s.names), None)


def read_source(path: str | Path) -> LearnerSource:
    """Read and parse the file at `path`; a file that cannot be read comes back with `problem` set."""
    path = Path(path)
    kind = "notebook" if path.suffix == ".ipynb" else "python"
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return LearnerSource(str(path), kind, problem=f"is larger than {MAX_FILE_BYTES >> 20} MB")
        data = path.read_bytes()
    except OSError as exc:
        return LearnerSource(str(path), kind, problem=f"cannot be read: {exc.strerror or exc}")
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].lower().startswith((b"<!doctype html", b"<html")):
        return LearnerSource(str(path), kind, problem="is an HTML page (a file saved from the browser?), not "
                             + ("a notebook" if kind == "notebook" else "Python"))
    source = _read_notebook(path, data) if kind == "notebook" else _read_python(path, data)
    if source.problem is None:
        source = _with_neighbours(source, path.parent)
    return source


def _read_python(path: Path, data: bytes) -> LearnerSource:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)  # a BOM or a coding cookie
        text = data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return LearnerSource(str(path), "python", problem=f"is not readable as Python source text ({exc})")
    text = text.lstrip("\ufeff")
    try:
        tree = parse(text, str(path))
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        return LearnerSource(str(path), "python", problem=f"does not parse: {_syntax_error(exc)}",
                             defines=_defined_in_text(text))
    known: set[str] = set()
    keep, skipped = select(tree.body, known, text, lambda line: f"line {line}")
    unit = Unit(text, tuple(keep), str(path), "")
    return LearnerSource(str(path), "python", (unit,), tuple(skipped), imports=tuple(sorted(imported_modules(tree))),
                         defines=_defined(tree.body, keep))


def _read_notebook(path: Path, data: bytes) -> LearnerSource:
    import nbformat

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat warns about missing cell ids in older notebooks
            notebook = nbformat.reads(data.decode("utf-8-sig"), as_version=4)
    except Exception as exc:  # nbformat raises its own types, json's and KeyError for malformed files
        message = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        return LearnerSource(str(path), "notebook", problem=f"is not a notebook nbformat can read ({message})")
    metadata = _metadata(notebook)
    units, skipped, broken, imports, defines = [], [], [], set(), []
    known: set[str] = set()
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.get("cell_type") != "code" or not isinstance(cell.get("source"), str):
            continue
        label = f"cell {number}"
        code, magic = _blank_magics(cell.source, label)
        skipped += magic
        if not code.strip():
            continue
        try:
            tree = parse(code)
        except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
            broken.append(Broken(label, _syntax_error(exc), tuple(_defined_in_text(code))))
            continue
        keep, left_out = select(tree.body, known, code, lambda line, label=label: f"{label}, line {line}")
        skipped += left_out
        imports |= imported_modules(tree)
        defines += _defined(tree.body, keep)
        if keep:
            units.append(Unit(code, tuple(keep), f"{path}#{label.replace(' ', '')}", label))
    defines += [name for cell in broken for name in cell.defines]
    return LearnerSource(str(path), "notebook", tuple(units), tuple(skipped), tuple(broken),
                         imports=tuple(sorted(imports)), metadata=metadata, defines=tuple(dict.fromkeys(defines)))


def _blank_magics(code: str, label: str) -> tuple[str, list[Skipped]]:
    """The cell with its IPython lines (%magic, %%cell magic, !shell) blanked, and what was blanked."""
    lines = code.splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    if first.startswith("%%"):
        return "", [Skipped(f"{label}, line 1", MAGIC, first[:80])]
    skipped = []
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith(("%", "!")):
            skipped.append(Skipped(f"{label}, line {number}", MAGIC, line.strip()[:80]))
            lines[number - 1] = ""
    return "\n".join(lines), skipped


def _metadata(notebook) -> Metadata:
    meta = notebook.get("metadata", {}) or {}
    coursera = meta.get("coursera", {}) if isinstance(meta.get("coursera"), dict) else {}
    kernel = meta.get("kernelspec", {}) if isinstance(meta.get("kernelspec"), dict) else {}
    code_cells = [cell.get("source", "") for cell in notebook.cells if cell.get("cell_type") == "code"]
    marker = next((m.group(1) for text in code_cells[:3] if isinstance(text, str)
                   for m in [_VERSION_MARKER.search(text)] if m), "")
    return Metadata(str(coursera.get("graded_item_id", "")), str(kernel.get("name", "")), marker, len(code_cells))


def _with_neighbours(source: LearnerSource, folder: Path) -> LearnerSource:
    """`source` with the .py files beside it that it imports, and the ones those import, attached."""
    wanted = [name for unit in source.units for name in _kept_imports(unit)]
    found: dict[str, str] = {}
    while wanted and len(found) < MAX_NEIGHBOURS:
        name = wanted.pop(0)
        candidate = folder / f"{name}.py"
        if name in found or not candidate.is_file() or candidate.resolve() == Path(source.path).resolve():
            continue
        try:
            if candidate.stat().st_size > MAX_NEIGHBOUR_BYTES:
                continue
            text = candidate.read_bytes().decode("utf-8-sig", errors="replace")
        except OSError:
            continue
        found[name] = text
        try:
            wanted += sorted(imported_modules(parse(text)))
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            pass  # an HTML page saved as .py, say: the child will say so when the import fails
    return LearnerSource(**{**source.__dict__, "neighbours": tuple(found.items())})


def _kept_imports(unit: Unit) -> list[str]:
    body = parse(unit.code).body
    return sorted({name for index in unit.keep for name in imported_modules(body[index])})


def _defined(body: list[ast.stmt], keep) -> list[str]:
    return [name for index in keep for name in sorted(bound_names(body[index])) if name in GRADED
            and isinstance(body[index], (ast.FunctionDef, ast.AsyncFunctionDef))]


def _defined_in_text(text: str) -> list[str]:
    return [name for name in _DEF.findall(text) if name in GRADED]


def _syntax_error(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"{type(exc).__name__}: {exc.msg} (line {exc.lineno})"
    return f"{type(exc).__name__}: {str(exc)[:120]}"
