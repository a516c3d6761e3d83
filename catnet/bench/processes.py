"""Timing a whole process from spawn to exit, the one way every part of the bench does it."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from catcore.errors import CatnetError


def timed(command: tuple[str, ...], environment: dict[str, str], cwd: Path, timeout: float, keep_stdout: bool = True,
          hint: str = "") -> tuple[float, str]:
    """Wall seconds from spawn to exit, and stdout ("" unless `keep_stdout`: then it goes nowhere, as on a terminal
    nobody reads, and no progress bar runs since stderr is a pipe); a failed process is a CatnetError naming its last
    stderr line."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(command, stdout=subprocess.PIPE if keep_stdout else subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, env=environment, cwd=cwd, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise CatnetError(f"{' '.join(command[1:])} ran past {timeout:g} s{hint}") from None
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()] or ["(no output)"]
        raise CatnetError(f"{' '.join(command[1:])} failed (exit {proc.returncode}): {lines[-1]}")
    return wall, proc.stdout or ""
