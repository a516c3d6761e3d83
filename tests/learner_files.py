"""Course-style learner files for the tests, all made from catnet/textbook.py by changing a line or two.

Never a real learner's code: catnet/textbook.py is catnet's own course-style
file, and each variant here is the one small edit that turns it into another
release's convention, another notebook, or a known mistake.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from catcore.config import TrainConfig

TEXTBOOK_PATH = Path(__file__).resolve().parents[1] / "catnet" / "textbook.py"
TEXTBOOK = TEXTBOOK_PATH.read_text()
TINY = TrainConfig(layers=(48, 5, 3, 1))  # the tiny data's 4x4x3 images; m = 12 training examples
TINY_ARGS = ("--layers", "48,5,3,1")

OLD_DA_KEYS = (  # dnn_app_utils_v2 and releases up to v5: grads["dA" + str(l)] for layer l's input
    ('grads["dA" + str(L - 1)], grads["dW" + str(L)]', 'grads["dA" + str(L)], grads["dW" + str(L)]'),
    ('linear_activation_backward(grads["dA" + str(l + 1)], current_cache, "relu")',
     'linear_activation_backward(grads["dA" + str(l + 2)], current_cache, "relu")'),
    ('        grads["dA" + str(l)] = dA_prev', '        grads["dA" + str(l + 1)] = dA_prev'),
)
STEP_BY_STEP_INIT = (  # the Step-by-Step notebook's initialize_parameters_deep: seed 3, randn * 0.01
    ("    np.random.seed(1)\n    parameters = {}\n    L = len(layer_dims)",
     "    np.random.seed(3)\n    parameters = {}\n    L = len(layer_dims)"),
    ("np.random.randn(layer_dims[l], layer_dims[l - 1]) / np.sqrt(layer_dims[l - 1])",
     "np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.01"),
)
RETURNS_PARAMETERS_ONLY = (  # the releases up to v8: the loops return parameters alone
    ("    return parameters, costs\n\n\ndef L_layer_model", "    return parameters\n\n\ndef L_layer_model"),
    ("    return parameters, costs\n\n\ndef predict", "    return parameters\n\n\ndef predict"),
)
WITHOUT_LOOPS = (  # the Step-by-Step notebook has no training loops
    ("def two_layer_model(", "def two_layer_model_sketch("),
    ("def L_layer_model(", "def L_layer_model_sketch("),
)


def edited(*edits: tuple[str, str], source: str = TEXTBOOK) -> str:
    """`source` with each (old, new) applied; each old text must occur exactly once, so an edit hits the line meant."""
    for old, new in edits:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return source


def step_by_step(*edits, dA_keys: str = "new") -> str:
    """The Step-by-Step notebook's functions: its initialisation, no loops, and the test-case import it has."""
    keys = OLD_DA_KEYS if dA_keys == "old" else ()
    source = edited(*WITHOUT_LOOPS, *STEP_BY_STEP_INIT, *keys, *edits)
    return source.replace("import numpy as np\n", "import numpy as np\nfrom testCases_v4a import *\n", 1)


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(source)
    return path


def notebook(folder: Path, name: str, cells: list[str], kernel: str = "python3") -> Path:
    """A .ipynb of code cells, written with nbformat as Jupyter writes them."""
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    book.cells = [nbformat.v4.new_markdown_cell("# Deep Neural Network - Application")]
    book.cells += [nbformat.v4.new_code_cell(cell) for cell in cells]
    path = folder / name
    nbformat.write(book, str(path))
    return path


def definitions(source: str, *names: str) -> str:
    """The text of the top-level functions `names` from `source` (a notebook cell's worth)."""
    blocks = source.split("\n\n\n")
    return "\n\n\n".join(block for block in blocks for name in names if block.startswith(f"def {name}("))
