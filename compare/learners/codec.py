"""Values as a JSON tree plus named NumPy arrays: the only form in which anything crosses to or from the child.

Nothing here can run code when read back: the tree is JSON, the arrays are
read with allow_pickle=False, and `decode` checks every node's type and
every array's dtype before handing the value on. What does not fit (an
object the learner returned, a ragged list) comes back as a `Problem` or an
`Opaque`, so the verdict can name it.
"""

from __future__ import annotations

import io
import json
import numbers
import threading
from dataclasses import dataclass

import numpy as np

NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float: what a course function can sensibly return
MAX_DEPTH = 8
MAX_NODES = 20_000
MAX_ARRAY_BYTES = 1 << 30  # per task, all arrays together
MAX_TEXT = 300


@dataclass(frozen=True)
class Problem:
    """A value that could not come back as it was, said in words (a ragged list, an object array)."""

    text: str


@dataclass(frozen=True)
class Opaque:
    """An object of a type that has no array form; only its type's name came back."""

    type_name: str


class Encoder:
    """Turns a value into a tree, collecting its arrays; `plain_numbers` keeps ints and floats as JSON."""

    def __init__(self, plain_numbers: bool = False):
        self.arrays: dict[str, np.ndarray] = {}
        self.plain_numbers = plain_numbers
        self.nodes = 0
        self.bytes = 0
        self._stored: dict[int, tuple[np.ndarray, str]] = {}  # id -> (array, key): one copy of an array used twice

    def encode(self, value, depth: int = 0) -> dict:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            return {"t": "problem", "v": f"more than {MAX_NODES} values"}
        if depth > MAX_DEPTH:
            return {"t": "problem", "v": f"nested more than {MAX_DEPTH} deep"}
        if value is None:
            return {"t": "none"}
        if isinstance(value, str):
            return {"t": "str", "v": value[:MAX_TEXT]}
        if self.plain_numbers and isinstance(value, bool):
            return {"t": "bool", "v": value}
        if self.plain_numbers and isinstance(value, numbers.Integral) and not isinstance(value, np.generic):
            return {"t": "int", "v": int(value)}
        if self.plain_numbers and isinstance(value, float):
            return {"t": "float", "v": value}
        if isinstance(value, dict):
            items = []
            for key, item in value.items():
                if not isinstance(key, str):
                    return {"t": "problem", "v": f"a dict with a {type(key).__name__} key ({str(key)[:40]!r})"}
                items.append([key[:MAX_TEXT], self.encode(item, depth + 1)])
            return {"t": "dict", "items": items}
        if isinstance(value, (list, tuple)):
            if value and all(_is_number_or_number_list(item) for item in value):
                return self._array(value, from_list=True)
            return {"t": "list" if isinstance(value, list) else "tuple",
                    "items": [self.encode(item, depth + 1) for item in value]}
        if isinstance(value, (np.ndarray, np.generic, numbers.Number)):
            return self._array(value)
        return {"t": "opaque", "v": type(value).__name__[:MAX_TEXT]}

    def _array(self, value, from_list: bool = False) -> dict:
        if isinstance(value, np.ndarray) and id(value) in self._stored and self._stored[id(value)][0] is value:
            return {"t": "array", "k": self._stored[id(value)][1], "list": False}
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as exc:
            return {"t": "problem", "v": f"a ragged list ({str(exc).splitlines()[0][:120]})" if from_list
                    else f"no array form ({type(exc).__name__})"}
        if array.dtype.kind not in NUMERIC_KINDS:
            if array.dtype.kind != "O":
                what = f"an array of dtype {array.dtype}"
            elif array.ndim == 0:
                what = f"an object array holding {type(array.item()).__name__} (np.squeeze of it?)"
            else:
                what = "an array of Python objects (a ragged list?)"
            return {"t": "problem", "v": what}
        self.bytes += array.nbytes
        if self.bytes > MAX_ARRAY_BYTES:
            return {"t": "problem", "v": f"more than {MAX_ARRAY_BYTES >> 20} MB of arrays"}
        key = f"a{len(self.arrays)}"
        self.arrays[key] = array if array.flags.c_contiguous else np.array(array, order="C")  # 0-d stays 0-d
        if isinstance(value, np.ndarray):
            self._stored[id(value)] = (value, key)
        return {"t": "array", "k": key, "list": from_list}


def _is_number_or_number_list(value) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_is_number_or_number_list(item) for item in value)
    return isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, np.ndarray)


def fresh(value):
    """A deep copy of a decoded tree (dicts, tuples, lists, arrays): each call gets inputs of its own."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {key: fresh(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(fresh(item) for item in value)
    return value


def decode(tree, arrays: dict[str, np.ndarray], depth: int = 0):
    """The value a tree describes, every node checked; raises ValueError on anything malformed."""
    if not isinstance(tree, dict) or not isinstance(tree.get("t"), str):
        raise ValueError("a node is not a typed object")
    if depth > MAX_DEPTH + 1:
        raise ValueError("nested too deep")
    kind = tree["t"]
    if kind == "none":
        return None
    if kind in ("str", "problem", "opaque"):
        text = tree.get("v")
        if not isinstance(text, str):
            raise ValueError(f"a {kind} node without text")
        return {"str": str, "problem": Problem, "opaque": Opaque}[kind](text[:MAX_TEXT])
    if kind in ("int", "float", "bool"):
        value = tree.get("v")
        expected = {"int": int, "float": float, "bool": bool}[kind]
        if type(value) is not expected and not (kind == "float" and type(value) is int):
            raise ValueError(f"a {kind} node holding {type(value).__name__}")
        return value
    if kind == "array":
        array = arrays.get(tree.get("k"))
        if not isinstance(array, np.ndarray) or array.dtype.kind not in NUMERIC_KINDS:
            raise ValueError("an array node without a numeric array")
        return array
    items = tree.get("items")
    if not isinstance(items, list):
        raise ValueError(f"a {kind} node without items")
    if kind == "dict":
        if not all(isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) for pair in items):
            raise ValueError("a dict node with malformed items")
        return {key: decode(item, arrays, depth + 1) for key, item in items}
    if kind in ("list", "tuple"):
        values = [decode(item, arrays, depth + 1) for item in items]
        return values if kind == "list" else tuple(values)
    raise ValueError(f"unknown node type {kind!r}")


def to_npz_bytes(arrays: dict[str, np.ndarray], document: dict) -> bytes:
    """One blob: the arrays, and the JSON document as a uint8 array named 'document'."""
    buffer = io.BytesIO()
    text = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
    np.savez(buffer, document=text, **arrays)
    return buffer.getvalue()


# CPython 3.11 builds Python AST objects with one interpreter-wide recursion counter (gh-106905): two threads
# doing so at once fail with "SystemError: AST constructor recursion depth mismatch". The class runner's threads
# reach it through ast.parse (reading a learner's source) and through np.load, which reads every .npy header with
# ast.literal_eval; each of those holds this lock.
AST_LOCK = threading.Lock()


def read_npz(file) -> dict[str, np.ndarray]:
    """Every array of an .npz (a path or a file object), never unpickling, the .npy headers read under AST_LOCK."""
    with AST_LOCK, np.load(file, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def from_npz_bytes(blob: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """(document, arrays) back from `to_npz_bytes`; never unpickles."""
    arrays = read_npz(io.BytesIO(blob))
    document = json.loads(arrays.pop("document").tobytes().decode())
    if not isinstance(document, dict):
        raise ValueError("the document is not an object")
    return document, arrays
