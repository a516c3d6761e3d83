"""catnet compare: the parity harness, and the check of a learner's own course-style file."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from catnet.cli import add_command, positive_float, positive_int, seed
from catnet.commands.train import (
    add_config_arguments,
    add_torch_arguments,
    config_from_args,
)

MIN_MEMORY_MIB = 512  # Python, NumPy and a learner's file on the course's data need a few hundred MiB

DESCRIPTION = """\
Run the NumPy reference and the torch twin from the same initial parameters and compare them, in order:
1. the forward pass at step 0 (every Z and A, the cost), 2. the gradients at step 0 (backprop vs autograd),
3. the parameters after steps 1, 2, 10, 100 and the end, 4. the whole trajectory (parameter and cost
differences per step, the first step past 1e-12/1e-9/1e-6/1e-3, the first ReLU pattern change, final
accuracies), 5. a finite-difference check of the NumPy backprop; with --span-check also 6. the span form of
the first layer against the primal form (float64).

float64 is judged twin against twin; float32 each twin against a float64 run from the same inputs.

With --against PATH..., check learners' own course-style code instead (.py files and .ipynb notebooks,
folders and globs): every graded function of both Week-4 assignments that a file defines, from
initialize_parameters to L_layer_model, and the file's own training loops for --training-steps iterations.
Each file runs in a child process (--timeout per function, --memory), --jobs at a time or on a Dask
cluster (--scheduler); a difference is matched against a catalogue of known mistakes and named.

Exit status: 0 parity holds (or every file agrees), 1 it does not, 2 usage error."""


def register(subparsers) -> None:
    parser = add_command(subparsers, "compare", "check that the NumPy and torch twins agree, or check your own code",
                         DESCRIPTION)
    add_config_arguments(parser)
    add_torch_arguments(parser)
    parser.add_argument("--against", metavar="PATH", nargs="+",
                        help="learners' .py files or .ipynb notebooks, folders of them, or globs: each graded function "
                        "checked against the torch twin, one process per file")
    parser.add_argument("--training-steps", type=positive_int, default=30,
                        help="--against: iterations of each training loop checked (the file's own and catnet's over "
                        "its step functions)")
    parser.add_argument("--jobs", type=positive_int, default=argparse.SUPPRESS,
                        help="--against: files checked at once (default: the cores this process may use)")
    parser.add_argument("--timeout", type=positive_float, default=60.0,
                        help="--against: seconds each function may run (and loading a file may take)")
    parser.add_argument("--memory", type=positive_int, default=3072, metavar="MIB",
                        help="--against: memory limit of each file's process, MiB (address space)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="--against: run the files on a Dask cluster, e.g. tcp://HOST:8786 "
                        "(pip install \"catnet[cluster]\"); verdicts are still computed here")
    parser.add_argument("--csv", metavar="PATH", help="--against: one row per file (.csv)")
    parser.add_argument("--span-check", action="store_true",
                        help="also train the NumPy reference in primal and in span form (float64) and compare them "
                        "step by step; costs one primal run (about 25 s on the course's data)")
    parser.add_argument("--gradcheck-seed", type=seed, default=0, help="seed of the coordinates the gradient check samples")
    parser.add_argument("--json", metavar="PATH", help="write everything, machine-readable (.json)")
    parser.add_argument("--markdown", metavar="PATH", help="write the report as Markdown (.md)")
    parser.add_argument("--logdir", metavar="DIR", help="TensorBoard: both cost curves and the difference curves")
    parser.set_defaults(run=run)


def run(args) -> int:
    from catcore.data import load_dataset, prepare_arrays

    config = config_from_args(args)
    _validate(args, config)
    dataset = load_dataset(args.data)
    arrays = prepare_arrays(dataset, config)

    from compare.environment import describe
    from compare.policy import policy_for
    from torch_impl.device import configure_backend, resolve_device

    device = resolve_device(args.device)
    backend = configure_backend(device, args.allow_tf32)
    environment = describe(backend, config.dtype)
    policy = policy_for(config.dtype, device.type, args.allow_tf32)
    if args.against:
        return _check_learners(args, config, arrays, policy, device, environment)
    return _check_twins(args, config, arrays, policy, device, environment)


def _validate(args, config) -> None:
    """Every flag checked before any computing, so a bad one never leaves half an output behind."""
    from catcore.errors import CatnetError
    from catcore.outputs import check_folder, check_output_file

    check_output_file("--json", args.json, ".json")
    check_output_file("--markdown", args.markdown, ".md", ".markdown")
    check_output_file("--csv", args.csv, ".csv")
    check_folder("--logdir", args.logdir)
    if args.against:
        from compare.learners.classroom import find_files

        args.found = find_files(args.against)
        if config.dtype != "float64":
            raise CatnetError(f"--against checks course-style code in float64 (its initialiser draws float64); "
                              f"drop --dtype {config.dtype}")
        for flag, given in (("--span-check", args.span_check), ("--logdir", args.logdir)):
            if given:
                raise CatnetError(f"{flag} belongs to the twins' comparison and cannot be combined with --against")
        if args.memory < MIN_MEMORY_MIB:
            raise CatnetError(f"--memory below {MIN_MEMORY_MIB} MiB leaves no room for Python and NumPy, "
                              f"got {args.memory}")
        if args.scheduler and "://" not in args.scheduler:
            raise CatnetError(f"--scheduler expects a Dask address such as tcp://HOST:8786, got {args.scheduler!r}")
    else:
        for flag, given in (("--csv", args.csv), ("--scheduler", args.scheduler), ("--jobs", hasattr(args, "jobs"))):
            if given:
                raise CatnetError(f"{flag} belongs to --against")


def _check_twins(args, config, arrays, policy, device, environment) -> int:
    from catnet.progress import progress_bar
    from compare.harness import Options, run_parity
    from compare.report import (
        parity_blocks,
        parity_document,
        parity_summary,
        render_markdown,
        render_text,
    )

    total = config.iterations * (2 if args.span_check else 1)
    with progress_bar(total, "comparing", "step") as bar:
        report = run_parity(config, arrays, policy, device=device, environment=environment,
                            options=Options(span_check=args.span_check, gradcheck_seed=args.gradcheck_seed),
                            on_step=lambda key, step: bar.update(1))
    blocks, summary = parity_blocks(report), parity_summary(report)
    sys.stdout.write(render_text(blocks, summary, color=sys.stdout.isatty()))
    written = _write(args, parity_document(report), lambda: render_markdown(blocks, summary))
    if args.logdir:
        written.append(f"Wrote TensorBoard runs under {_write_tensorboard(args.logdir, report)}")
    _commit_and_tell(written)
    return 0 if report.passed or not policy.judged else 1


def _check_learners(args, config, arrays, policy, device, environment) -> int:
    from catnet.progress import progress_bar
    from compare.learners import report as layout
    from compare.learners.check import open_session
    from compare.learners.classroom import (
        check_all,
        check_all_on_cluster,
        counts,
        default_jobs,
    )
    from compare.learners.runner import Limits
    from compare.report import render_markdown, render_text

    entries = args.found.entries
    single = len(entries) == 1 and entries[0].named
    jobs = getattr(args, "jobs", None) or default_jobs()
    started = time.perf_counter()
    with open_session(config, arrays.X_train, arrays.Y_train, policy, Limits(args.timeout, args.memory),
                      args.training_steps, device) as session:
        with progress_bar(len(entries), "checking", "file", enabled=not single) as bar:
            def on_report(entry, report) -> None:
                if not single:
                    bar.write(layout.file_line(report, counts(report, entry)))
                bar.update(1)

            if args.scheduler:
                reports = check_all_on_cluster(entries, session, args.scheduler, on_report)
            else:
                reports = check_all(entries, session, jobs, on_report)
    seconds = time.perf_counter() - started
    ordered = [(reports[entry.path], counts(reports[entry.path], entry)) for entry in entries]
    where = f"on {args.scheduler}" if args.scheduler else f"--jobs {jobs}"
    if single:
        report = ordered[0][0]
        blocks, summary = layout.learner_blocks(report, environment), layout.summary(report)
    else:
        blocks, summary = [layout.class_block(ordered)], layout.class_summary(ordered, seconds, where)
        if args.found.course_files:
            names = ", ".join(sorted({path.name for path in args.found.course_files}))
            print(f"Left out {len(args.found.course_files)} of the course's own files ({names}); name one to check it")
    sys.stdout.write(render_text(blocks, summary, color=sys.stdout.isatty()) if single else summary + "\n")
    settings = {"training_steps": args.training_steps, "timeout_seconds": args.timeout, "memory_mib": args.memory,
                "jobs": None if args.scheduler else jobs, "scheduler": args.scheduler, "layers": list(config.layers),
                "learning_rate": config.learning_rate}
    written = _write(args, layout.class_document(ordered, environment, settings), lambda: render_markdown(blocks, summary))
    if args.csv:
        from catnet.reports import write_csv

        write_csv(args.csv, layout.CSV_COLUMNS, [layout.csv_row(report, counted) for report, counted in ordered])
        written.append(f"Wrote {args.csv}")
    _commit_and_tell(written)
    return 0 if all(report.passed for report, counted in ordered if counted) else 1


def _write(args, document: dict, markdown) -> list[str]:
    """Stage --json and --markdown (catcore.outputs commits them with the rest); returns the lines that tell of them."""
    from catnet.reports import write_json, write_text

    written = []
    if args.json:
        write_json(args.json, document)
        written.append(f"Wrote {args.json}")
    if args.markdown:
        write_text(args.markdown, markdown())
        written.append(f"Wrote {args.markdown}")
    return written


def _commit_and_tell(written: list[str]) -> None:
    """Every output in place, all together, before the lines that say so."""
    from catcore.outputs import commit

    commit()
    for line in written:
        print(line)


def _write_tensorboard(logdir: str, report) -> Path:
    """One TensorBoard run per training run (their cost curves overlay) and one for the differences.

    A fresh folder per invocation, so re-running into the same logdir does not pile curves on each other.
    """
    from catnet.tblog import EventWriter, new_run_dir

    root = new_run_dir(logdir, f"compare-{report.settings.config.dtype}-{report.settings.first_layer_resolved}")
    for trajectory in [report.trajectory] + ([report.span] if report.span is not None else []):
        prefix = "" if trajectory.key == "trajectory" else f"{trajectory.key}-"
        for outcome in trajectory.outcomes:
            with EventWriter(root / f"{prefix}{outcome.name}") as writer:
                writer.scalars("cost", outcome.costs)
        with EventWriter(root / f"{prefix}difference") as writer:
            for pair in trajectory.pairs:
                tag = pair.label.replace(" ", "_")
                writer.scalars(f"cost_abs/{tag}", pair.cost_diff)
                for index, param in enumerate(pair.param_diff):
                    if param == param:  # NaN at steps a primal run was not compared
                        writer.scalar(f"parameters_normwise/{tag}", float(param), index + 1)
    return root
