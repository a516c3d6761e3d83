"""catnet compare: the parity harness, and the check of a learner's own course-style file."""

from __future__ import annotations

import sys
from pathlib import Path

from catnet.cli import add_command, positive_int, seed
from catnet.commands.train import (
    add_config_arguments,
    add_torch_arguments,
    config_from_args,
)

DESCRIPTION = """\
Run the NumPy reference and the torch twin from the same initial parameters and compare them, in order:
1. the forward pass at step 0 (every Z and A, the cost), 2. the gradients at step 0 (backprop vs autograd),
3. the parameters after steps 1, 2, 10, 100 and the end, 4. the whole trajectory (parameter and cost
differences per step, the first step past 1e-12/1e-9/1e-6/1e-3, the first ReLU pattern change, final
accuracies), 5. a finite-difference check of the NumPy backprop; with --span-check also 6. the span form of
the first layer against the primal form (float64).

float64 is judged twin against twin; float32 each twin against a float64 run from the same inputs.
With --against PATH.py, check a course-style file instead: initialize_parameters_deep, L_model_forward,
compute_cost, L_model_backward, update_parameters (whichever it has), then a short training run.

Exit status: 0 parity holds, 1 it does not, 2 usage error."""


def register(subparsers) -> None:
    parser = add_command(subparsers, "compare", "check that the NumPy and torch twins agree, or check your own code",
                         DESCRIPTION)
    add_config_arguments(parser)
    add_torch_arguments(parser)
    parser.add_argument("--against", metavar="PATH.py",
                        help="a course-style Python file to check function by function against the torch twin")
    parser.add_argument("--training-steps", type=positive_int, default=100,
                        help="--against: steps of the short training run")
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
        return _check_learner(args, config, arrays, policy, device, environment)
    return _check_twins(args, config, arrays, policy, device, environment)


def _validate(args, config) -> None:
    """Every flag checked before any computing, so a bad one never leaves half an output behind."""
    from catcore.errors import CatnetError
    from catcore.outputs import check_folder, check_output_file

    check_output_file("--json", args.json, ".json")
    check_output_file("--markdown", args.markdown, ".md", ".markdown")
    check_folder("--logdir", args.logdir)
    if args.against:
        from compare.learner_file import check_learner_path

        check_learner_path(args.against)
        if config.dtype != "float64":
            raise CatnetError(f"--against checks course-style code in float64 (its initialiser draws float64); "
                              f"drop --dtype {config.dtype}")
        for flag, given in (("--span-check", args.span_check), ("--logdir", args.logdir)):
            if given:
                raise CatnetError(f"{flag} belongs to the twins' comparison and cannot be combined with --against")


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


def _check_learner(args, config, arrays, policy, device, environment) -> int:
    from compare.learner import check_learner
    from compare.report import (
        learner_blocks,
        learner_document,
        learner_summary,
        render_markdown,
        render_text,
    )

    report = check_learner(args.against, config, arrays, policy, device=device, training_steps=args.training_steps)
    blocks, summary = learner_blocks(report, environment), learner_summary(report)
    sys.stdout.write(render_text(blocks, summary, color=sys.stdout.isatty()))
    _commit_and_tell(_write(args, learner_document(report, environment), lambda: render_markdown(blocks, summary)))
    return 0 if report.passed else 1


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
                for iteration, cost in enumerate(outcome.costs):
                    writer.scalar("cost", float(cost), iteration)
        with EventWriter(root / f"{prefix}difference") as writer:
            for pair in trajectory.pairs:
                tag = pair.label.replace(" ", "_")
                for index, (param, cost) in enumerate(zip(pair.param_diff, pair.cost_diff)):
                    if param == param:  # NaN at steps a primal run was not compared
                        writer.scalar(f"parameters_normwise/{tag}", float(param), index + 1)
                    writer.scalar(f"cost_abs/{tag}", float(cost), index)
    return root
