"""The child process: `python -m compare.learners.child WORKDIR FD TASK...` runs a learner's file, task by task.

It reads job.json and inputs.npz from WORKDIR (both written by catnet),
limits its own memory, points stdout and stderr at nothing, loads the
learner's kept statements, then runs each task named on the command line and
writes its outcome to WORKDIR/results/TASK.json and .npz (JSON and plain
arrays: nothing that runs code when read back). On file descriptor FD it
says "start TASK" and "done TASK" lines, so catnet's runner knows which
function was running if the process hangs or dies. It ends with os._exit,
so the learner's atexit hooks and threads cannot hold it open.

This is isolation, not a security sandbox: the learner's code can do in
this process whatever the user running catnet can do.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from compare.learners.protocol import GRADED, LOAD

FILE_SIZE_LIMIT = 2 << 30  # what the results may take on disk; a learner printing to a file hits it too


def main(argv: list[str]) -> None:
    workdir, fd, tasks = Path(argv[0]), int(argv[1]), argv[2:]
    job = json.loads((workdir / "job.json").read_text())
    _limit_resources(int(job["memory_mib"]))
    channel = os.fdopen(fd, "w", buffering=1)

    def say(line: str) -> None:
        try:
            channel.write(line + "\n")
            channel.flush()
        except BaseException:  # noqa: BLE001 -- the learner closed our channel: nothing more can be reported
            os._exit(3)

    sys.stdout = sys.stderr = open(os.devnull, "w")
    sys.dont_write_bytecode = True
    os.environ["MPLBACKEND"] = "Agg"  # a plt.show() inside a training loop must not open a window

    import numpy as np

    from compare.learners.calls import MISSING, OK, Outcome, Silenced, run_task
    from compare.learners.codec import Encoder
    from compare.learners.loader import load

    with np.load(workdir / "inputs.npz", allow_pickle=False) as archive:
        inputs = {name: archive[name] for name in archive.files}
    results = workdir / "results"
    results.mkdir(exist_ok=True)

    def write(task: str, outcome: Outcome) -> None:
        encoder = Encoder()
        try:
            tree = encoder.encode(outcome.value)
        except BaseException as exc:  # noqa: BLE001 -- a returned object whose __len__ or __array__ raises
            tree = {"t": "problem", "v": f"reading it back raised {type(exc).__name__}"}
        document = {"status": outcome.status, "error": list(outcome.error) if outcome.error else None,
                    "value": tree, "notes": outcome.notes}
        np.savez(results / f"{task}.npz", **encoder.arrays)
        (results / f"{task}.json").write_text(json.dumps(document))

    say(f"start {LOAD}")
    with Silenced():
        learner = load(job)
    defined = [name for name in GRADED if learner.defined(name) is not None]
    provenance = {name: learner.provenance(name) for name in GRADED if name not in defined}
    write(LOAD, Outcome(OK, {"defined": defined, "provenance": {k: v for k, v in provenance.items() if v}},
                        notes=learner.notes))
    say(f"done {LOAD}")
    state: dict = {}
    for task in tasks:
        say(f"start {task}")
        spec = job["tasks"].get(task)
        outcome = run_task(task, spec, learner, inputs, state) if spec else Outcome(MISSING, "")
        write(task, outcome)
        say(f"done {task}")
    os._exit(0)


def _limit_resources(memory_mib: int) -> None:
    try:
        import resource
    except ImportError:  # not on Windows: the wall-clock limit still holds
        return
    limit = memory_mib << 20
    for name, value in (("RLIMIT_AS", limit), ("RLIMIT_CORE", 0), ("RLIMIT_FSIZE", FILE_SIZE_LIMIT)):
        kind = getattr(resource, name, None)
        if kind is not None:
            _, hard = resource.getrlimit(kind)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(kind, (value, value))  # the hard limit too, so the learner cannot lift it


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except BaseException:  # noqa: BLE001 -- catnet's own side failed (bad job, no disk): the runner sees exit 4
        os._exit(4)
