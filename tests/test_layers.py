"""The architecture holds: imports run only downward through the layers, as setup.cfg's import-linter contracts say."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO

LINT = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True))"


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    """import-linter on the tree's setup.cfg, with that tree's packages first on the path."""
    return subprocess.run([sys.executable, "-c", LINT, str(tree / "setup.cfg")], capture_output=True, text=True,
                          cwd=tree, timeout=300, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})


def test_every_import_linter_contract_is_kept():
    proc = lint_imports(REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 2 kept, 0 broken." in proc.stdout


def test_the_contract_catches_a_lazy_upward_import(tmp_path):
    copy = tmp_path / "tree"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(".*", "__pycache__", "*.egg-info", "tests", "datasets"))
    with open(copy / "numpy_impl" / "span.py", "a") as module:
        module.write("\n\ndef _upward():\n    import torch_impl.model  # noqa: F401\n")
    proc = lint_imports(copy)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "numpy_impl is not allowed to import torch_impl" in proc.stdout
    assert "numpy_impl is not allowed to import torch" in proc.stdout
