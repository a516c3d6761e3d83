"""Run one command or import floor in this process, then record its peak memory and CPU time.

    python -m catnet.bench.probe REPORT.json -c "import torch"
    python -m catnet.bench.probe REPORT.json -m catnet explain --model M.npz

Peak memory is VmHWM of this process's own address space, read as it ends:
the parent's `wait4` rusage would not do, because Linux carries the peak of
the forked parent's memory over into the child's ru_maxrss through exec.
This module imports only the standard library, so it adds nothing to what
it measures.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path


def peak_rss_mb() -> float | None:
    """This process's peak resident memory, MB.

    On Linux ru_maxrss carries over the parent's peak through fork and exec
    (the bench's own process, torch imported, would show in every child), so
    VmHWM of the process's own address space is read instead; elsewhere ru_maxrss.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**10  # kB
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB elsewhere


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] not in ("-c", "-m"):
        print("usage: python -m catnet.bench.probe REPORT.json (-c CODE | -m MODULE [ARG ...])", file=sys.stderr)
        return 2
    report, kind, target, arguments = Path(argv[0]), argv[1], argv[2], argv[3:]
    code = 0
    try:
        if kind == "-c":
            sys.argv = ["-c", *arguments]
            exec(compile(target, "<floor>", "exec"), {"__name__": "__main__"})
        else:
            sys.argv = [target, *arguments]
            runpy.run_module(target, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        times = os.times()
        report.write_text(json.dumps({"peak_rss_mb": peak_rss_mb(), "cpu_seconds": times.user + times.system}))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
