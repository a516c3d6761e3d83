"""catnet neurons: what a trained model's hidden units respond to, as pictures and numbers."""

from __future__ import annotations

from pathlib import Path

from catcore.config import MAX_AM_STEPS
from catnet.cli import (
    add_command,
    int_from,
    non_negative_float,
    positive_float,
    positive_int,
    seed,
)


def register(subparsers) -> None:
    parser = add_command(
        subparsers, "neurons", "show what a trained model's hidden units learned",
        "For a model saved by 'catnet train --save' (either implementation): the first-layer weights as "
        "images; the training images each first-layer unit is built from (W1 = W1_init + C X^T); the images "
        "that drive every unit most and least; the input that maximises each unit (activation maximisation); "
        "and the last hidden layer's map of all images in TensorBoard's projector.",
    )
    parser.add_argument("model", metavar="MODEL", help="a model file (.npz) written by catnet train --save")
    parser.add_argument("--data", metavar="DIR", help="folder with the two .h5 files (else $CATNET_DATA, else ./datasets)")
    parser.add_argument("--k", type=positive_int, default=5, help="images per unit in each strip (highest and lowest)")
    parser.add_argument("--am-steps", type=int_from(1, MAX_AM_STEPS), default=200, help="activation maximisation: gradient-ascent steps")
    parser.add_argument("--am-radius", type=positive_float, default=None,
                        help="activation maximisation: bound on ||x||_2; None: the median norm of a training image")
    parser.add_argument("--am-smoothness", type=non_negative_float, default=0.01,
                        help="activation maximisation: weight of the sum of squared neighbour differences")
    parser.add_argument("--am-seed", type=seed, default=0, help="activation maximisation: seed of the random start")
    parser.add_argument("--out", default="out/neurons", metavar="DIR", help="write the PNG figures and summary.json here")
    parser.add_argument("--logdir", default="runs/neurons", metavar="DIR",
                        help="write the figures and the hidden-layer embedding for TensorBoard here")
    parser.set_defaults(run=run)


def run(args) -> int:
    from catcore.data import load_dataset
    from catcore.modelfile import load_model
    from catcore.outputs import check_folder, check_output_folder
    from interpret.figures_neurons import neurons_figures
    from interpret.maximize import MaximizeSettings
    from interpret.neurons import analyse, check_inputs, default_radius, summary

    out, logdir = check_output_folder("--out", args.out), check_folder("--logdir", args.logdir)
    model = load_model(args.model)
    dataset = load_dataset(args.data)
    order = check_inputs(model, dataset, args.k)
    settings = MaximizeSettings(
        radius=args.am_radius or default_radius(dataset, order),
        steps=args.am_steps,
        smoothness=args.am_smoothness,
        seed=args.am_seed,
    )

    analysis = analyse(model, dataset, args.k, settings)
    figures = neurons_figures(analysis, dataset)
    document = {
        "model": {"path": str(args.model), "layers": list(model.layer_sizes), "init": model.init, "seed": model.seed,
                  "flatten": model.flatten, "dtype": str(model.params.dtype), "extra": model.extra},
        "data": {"directory": str(dataset.directory), "train_images": len(dataset.train), "test_images": len(dataset.test)},
        "k": args.k,
        **summary(analysis, dataset),
        "figures": [f"{name}.png" for name in figures],
    }
    print(_report(args, model, analysis))
    _write(out, logdir, figures, document, analysis)
    return 0


def _report(args, model, analysis) -> str:
    span, lsq = analysis.span, analysis.least_squares
    lines = [
        f"Model {args.model}: layers {list(model.layer_sizes)}, init {model.init} seed {model.seed}, "
        f"{model.flatten} pixel order, {model.params.dtype}",
        f"W1 = W1_init + C X^T with {span.source} C {span.C.shape}: relative error {span.relative_error:.1e} "
        "(of W1 - W1_init)" + (f"; least squares gives {lsq.relative_error:.1e}" if span is not lsq else ""),
        f"Top and bottom {args.k} train and test images for every unit of {len(analysis.maximizations)} layers",
        f"Activation maximisation, ||x|| <= {analysis.maximize.radius:.2f}, {analysis.maximize.steps} steps, "
        f"smoothness {analysis.maximize.smoothness:g}:",
    ]
    for result in analysis.maximizations:
        lines.append(f"  layer {result.layer}: z per unit " + " ".join(f"{z:.1f}" for z in result.z[-1]))
    return "\n".join(lines)


def _write(out: Path, logdir: Path, figures: dict, document: dict, analysis) -> None:
    from catcore.config import CLASS_NAMES
    from catcore.outputs import commit, staged_folder
    from catnet.figfiles import render, save_png
    from catnet.reports import write_json
    from catnet.tblog import EventWriter, new_run_dir

    pixels = {name: render(figure) for name, figure in figures.items()}  # drawn once, for both outputs
    # the folder is filled aside and replaces --out whole at the end: an interrupted run leaves the last one intact
    staged, run_dir = staged_folder(out), new_run_dir(logdir, "neurons")
    for name, image in pixels.items():
        save_png(staged / f"{name}.png", image)
    write_json(staged / "summary.json", document)
    with EventWriter(run_dir) as writer:
        for name, image in pixels.items():
            writer.image(f"neurons/{name}", image, step=0)
        hidden = analysis.hidden
        if hidden is not None:
            writer.embedding(
                f"layer{hidden.layer}_activations",
                hidden.features,
                metadata=[
                    [split, str(index), CLASS_NAMES[int(label)], CLASS_NAMES[int(prediction)], f"{p:.3f}"]
                    for split, index, label, prediction, p in zip(
                        hidden.split, hidden.index, hidden.label, hidden.prediction, hidden.probability
                    )
                ],
                header=["split", "index", "label", "prediction", "p_cat"],
                images=hidden.images,
            )
    commit()
    print(f"Wrote {len(figures)} figures and summary.json to {out}")
    print("Wrote TensorBoard figures" + (" and the hidden-layer embedding" if analysis.hidden is not None else "")
          + f" to {run_dir} (tensorboard --logdir {logdir})")
