"""catnet unroll: the pixel order does not matter to a fully connected layer, as long as it is the same."""

from __future__ import annotations

from pathlib import Path

from catnet.cli import add_command
from catnet.commands.train import add_config_arguments, config_from_args

EXPLANATION = """\
Why the order does not matter: each first-layer unit computes w_1*x_1 + w_2*x_2 + ... + w_12288*x_12288 + b,
one weight per input position. A sum does not care in which order its terms are listed, and nothing in
the layer says that position 5 is the neighbour of position 6. Shuffle the pixels and shuffle W1's columns
the same way, and every product w_i*x_i stays the same, so every Z, every gradient and every update stays
the same: training follows the identical path (the exact check below). Shuffle only the pixels (the table)
and the same starting weights meet different pixels, so training lands somewhere else, about as good.
What breaks a model is reading the pixels in another order than it was trained on: each weight then
multiplies the wrong pixel (the mismatch table). Strokes and shapes are not built into the layer; it
learns which positions matter, together, from the images themselves."""


def register(subparsers) -> None:
    parser = add_command(
        subparsers, "unroll", "train on pixels unrolled in different orders, and show why it makes no difference",
        "Train the same network (same initial weights, same hyperparameters) on the images flattened in the "
        "reference order (--flatten) and in each of --orders; score every model on the test set flattened in "
        "every order; then train on each other order with W1's initial columns permuted like the pixels and show "
        "the un-permuted result equals the reference run to rounding.",
    )
    add_config_arguments(parser)
    parser.add_argument("--orders", default="planar,random-0", metavar="ORDER,...",
                        help="the orders to compare with the reference --flatten order (comma-separated)")
    parser.add_argument("--out", default="out/unroll", metavar="DIR", help="write costs.png and unroll.json here")
    parser.add_argument("--logdir", default="runs/unroll", metavar="DIR",
                        help="write TensorBoard runs here: one per order, cost curves overlaid")
    parser.set_defaults(run=run)


def run(args) -> int:
    from catcore.data import check_input_size, load_dataset
    from catcore.errors import CatnetError
    from catcore.outputs import check_folder
    from interpret import unroll

    config = config_from_args(args)
    out, logdir = check_folder("--out", args.out), check_folder("--logdir", args.logdir)
    others = tuple(name.strip() for name in args.orders.split(",") if name.strip())
    if not others:
        raise CatnetError(f"--orders needs at least one order to compare, got {args.orders!r}")
    dataset = load_dataset(args.data)
    orders = unroll.check_orders(config.flatten, others, dataset.image_shape)
    check_input_size(dataset, config)  # before any training

    from catnet.progress import progress_bar

    with progress_bar(2 * len(orders) - 1, "training", "run") as bar:
        runs = ()
        for name in orders:  # one order at a time, each from the same seeded initial parameters
            runs += unroll.train_in_orders(dataset, config, (name,))
            bar.update(1)
        majority = unroll.majority_rate(dataset.test.labels)
        mismatches = unroll.mismatch_table(dataset, runs, config.dtype)
        parts = [_orders_part(config, runs), _mismatch_part(runs, mismatches, majority)]
        for part in parts:
            bar.write(part + "\n")  # above the bar, as each finishes
        equivalences = ()
        for name in others:
            equivalences += (unroll.permutation_equivalence(dataset, config, runs[0], name),)
            bar.update(1)
    tolerance = unroll.rounding_tolerance(config.dtype)
    parts.append(_exact_part(config, runs, equivalences, tolerance))
    print(parts[-1])
    report = "\n\n".join(parts)
    _write(out, logdir, _document(config, runs, mismatches, equivalences, majority, tolerance), runs, equivalences,
           report)
    return 0


def _orders_part(config, runs) -> str:
    lines = [
        f"Same initial weights ({config.init}, seed {config.seed}) and hyperparameters (lr {config.learning_rate}, "
        f"{config.iterations} iterations, {config.dtype}); only the pixel order changes.",
        "",
        f"{'order':<12}{'final cost':>12}{'train acc':>11}{'test acc':>10}",
    ]
    lines += [f"{r.order:<12}{r.final_cost:>12.6f}{r.train_accuracy:>11.4f}{r.test_accuracy:>10.4f}" for r in runs]
    return "\n".join(lines)


def _mismatch_part(runs, mismatches, majority) -> str:
    names = [r.order for r in runs]
    lines = [
        "Mismatch: test accuracy of a model trained in one order (row) on test images unrolled in another (column);",
        f"always answering the commoner class would score {majority:.2f}.",
        f"{'trained on':<12}" + "".join(f"{name:>11}" for name in names),
    ]
    for name in names:
        row = {m.eval_order: m.test_accuracy for m in mismatches if m.train_order == name}
        lines.append(f"{name:<12}" + "".join(f"{row[e]:>11.4f}" for e in names))
    return "\n".join(lines)


def _exact_part(config, runs, equivalences, tolerance) -> str:
    names = [r.order for r in runs]
    lines = [EXPLANATION, "",
             f"Exact check: train on each order from W1_init with its columns permuted like the pixels, un-permute "
             f"the final W1,\nand compare with the {names[0]} run (W, biases: relative Frobenius difference; cost: largest "
             f"absolute difference over all iterations):",
             f"{'order':<12}" + "".join(f"{f'W{i}':>10}" for i in range(1, len(runs[0].params.layers) + 1))
             + f"{'biases':>10}{'cost':>10}"]
    for eq in equivalences:
        lines.append(f"{eq.order:<12}" + "".join(f"{d:>10.1e}" for d in eq.weight_differences)
                     + f"{max(eq.bias_differences):>10.1e}{eq.cost_difference:>10.1e}")
    worst = max(eq.max_difference for eq in equivalences)
    if worst <= tolerance:
        lines.append(f"Largest difference {worst:.1e} <= {tolerance:.0e}: the same trajectory, to rounding.")
    else:
        agreeing = min(eq.agreeing_iterations(1e-6) for eq in equivalences)
        lines.append(
            f"Largest difference {worst:.1e} > {tolerance:.0e}: the costs agree to 1e-6 for the first {agreeing} "
            f"iterations, then {config.dtype} rounding of the reordered sums, amplified by gradient descent, "
            "separates the runs; --dtype float64 shows the equality."
        )
    return "\n".join(lines)


def _document(config, runs, mismatches, equivalences, majority, tolerance) -> dict:
    from dataclasses import asdict

    return {
        "config": {**asdict(config), "layers": list(config.layers)},
        "reference_order": runs[0].order,
        "runs": [
            {"order": r.order, "final_cost": r.final_cost, "train_accuracy": r.train_accuracy,
             "test_accuracy": r.test_accuracy}
            for r in runs
        ],
        "mismatch": [asdict(m) for m in mismatches],
        "majority_class_accuracy": majority,
        "equivalence": {
            "tolerance": tolerance,
            "within_tolerance": all(eq.max_difference <= tolerance for eq in equivalences),
            "runs": [
                {"order": eq.order, "weight_differences": eq.weight_differences, "bias_differences": eq.bias_differences,
                 "cost_difference": eq.cost_difference, "max_difference": eq.max_difference}
                for eq in equivalences
            ],
        },
    }


def _write(out: Path, logdir: Path, document: dict, runs, equivalences, report: str) -> None:
    from catcore.outputs import commit
    from catnet.figfiles import encode_png, render, write_file
    from catnet.reports import write_json
    from catnet.tblog import EventWriter, new_run_dir
    from interpret.figures_unroll import cost_curves

    write_json(out / "unroll.json", document)
    pixels = render(cost_curves(runs, equivalences))
    png = encode_png(pixels)  # once, for the file and for TensorBoard
    write_file(out / "costs.png", png)

    experiment = new_run_dir(logdir, "unroll")  # a fresh folder per invocation: re-runs do not pile up curves
    for r in runs:  # one run per order, so TensorBoard overlays the curves in one chart
        with EventWriter(experiment / r.order) as writer:
            writer.scalars("unroll/cost", r.costs)
            writer.scalar("unroll/train_accuracy", r.train_accuracy, len(r.costs) - 1)
            writer.scalar("unroll/test_accuracy", r.test_accuracy, len(r.costs) - 1)
    with EventWriter(experiment / "summary") as writer:
        writer.image("unroll/costs", pixels, step=0, png=png)
        writer.text("unroll/report", "```\n" + report + "\n```")
    commit()  # both files and the TensorBoard runs in place, together, before the lines that say so
    print(f"\nWrote {out / 'costs.png'} and {out / 'unroll.json'}")
    print(f"Wrote TensorBoard runs under {experiment} (tensorboard --logdir {logdir})")
