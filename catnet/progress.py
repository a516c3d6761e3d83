"""One progress bar for every command: tqdm on a terminal's stderr, nothing when stderr is not a terminal."""

from __future__ import annotations

import contextlib
import sys


class _NoBar:
    """What a command sees when no bar is shown (off a terminal, or --quiet): tqdm's methods, doing nothing.

    tqdm itself is not imported then: that saves 30 ms of start-up where nobody watches.
    """

    disable = True

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def write(self, line: str) -> None:
        print(line, flush=True)

    def close(self) -> None:
        pass


@contextlib.contextmanager
def progress_bar(total: int, description: str | None = None, unit: str = "it", enabled: bool = True):
    """Yield a tqdm bar on a terminal when `enabled`, else a bar that does nothing; closed on the way out.

    `bar.write(line)` prints a line above the bar (or just prints it); `bar.disable` says whether a bar is shown.
    """
    if not (enabled and sys.stderr.isatty()):
        yield _NoBar()
        return
    from tqdm import tqdm

    bar = tqdm(total=total, desc=description, unit=unit, leave=False, file=sys.stderr)
    try:
        yield bar
    finally:
        bar.close()
