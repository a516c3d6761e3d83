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
    parser.add_argument("--model", required=True, metavar="PATH", help="a model file (.npz) written by 'catnet train --save'")
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
    from catnet.progress import progress_bar
    from interpret.maximize import MaximizeSettings
    from interpret.neurons import (
        analyse,
        check_inputs,
        default_radius,
        sections,
        summary,
    )

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

    print(f"Model {args.model}: layers {list(model.layer_sizes)}, init {model.init} seed {model.seed}, "
          f"{model.flatten} pixel order, {model.params.dtype}", flush=True)
    with progress_bar(sections(len(model.layer_sizes) - 1), "analysing", "part") as bar:
        def said(name: str, result) -> None:
            lines = _section(name, result, args.k, settings)
            if lines:
                bar.write(lines)  # above the bar, as each part finishes
            bar.update(1)

        analysis = analyse(model, dataset, args.k, settings, on_section=said)
    _write(out, logdir, dataset, analysis, {
        "model": {"path": str(args.model), "layers": list(model.layer_sizes), "init": model.init, "seed": model.seed,
                  "flatten": model.flatten, "dtype": str(model.params.dtype), "extra": model.extra},
        "data": {"directory": str(dataset.directory), "train_images": len(dataset.train), "test_images": len(dataset.test)},
        "k": args.k,
        **summary(analysis, dataset),
    })
    return 0


def _section(name: str, result, k: int, settings) -> str:
    """The line(s) a person reads when one part of the analysis is done."""
    if name == "span":
        span, lsq = result
        return (f"W1 = W1_init + C X^T with {span.source} C {span.C.shape}: relative error {span.relative_error:.1e} "
                "(of W1 - W1_init)" + (f"; least squares gives {lsq.relative_error:.1e}" if span is not lsq else ""))
    if name == "tops":
        from interpret.units import ALWAYS_ON, DEAD, unit_states

        layers = sorted({top.layer for top in result})
        lines = [f"Top and bottom {k} train and test images for every unit of {len(layers)} layers"]
        for top in result:
            if top.split == "train" and top.layer < layers[-1]:
                states = unit_states(top.Z)
                for state in (DEAD, ALWAYS_ON):
                    units = [str(unit + 1) for unit, value in enumerate(states) if value == state]
                    if units:
                        lines.append(f"  layer {top.layer}: unit{'s' if len(units) > 1 else ''} {', '.join(units)} "
                                     f"{state} over the training images")
        return "\n".join(lines)
    if name == "maximize":
        head = (f"Activation maximisation, ||x|| <= {settings.radius:.2f}, {settings.steps} steps, "
                f"smoothness {settings.smoothness:g}:\n") if result.layer == 1 else ""
        return head + f"  layer {result.layer}: z per unit " + " ".join(f"{z:.1f}" for z in result.z[-1])
    if name == "hidden":
        return "" if result is None else f"Layer {result.layer} activations of all {len(result.label)} images mapped"
    raise ValueError(f"unknown section {name!r}")


def _write(out: Path, logdir: Path, dataset, analysis, document: dict) -> None:
    """Each figure built, drawn, encoded once and freed in turn: its PNG bytes go to the file and to TensorBoard."""
    from catcore.config import CLASS_NAMES
    from catcore.outputs import commit, staged_folder
    from catnet.figfiles import encode_png, freed_after_drawing, render, write_file
    from catnet.progress import progress_bar
    from catnet.reports import write_json
    from catnet.tblog import EventWriter, new_run_dir
    from interpret.figures_neurons import figure_names, neurons_figures

    names = figure_names(analysis)
    # the folder is filled aside and replaces --out whole at the end: an interrupted run leaves the last one intact
    staged, run_dir = staged_folder(out), new_run_dir(logdir, "neurons")
    with EventWriter(run_dir) as writer:
        with freed_after_drawing() as collect, progress_bar(len(names), "drawing", "fig") as bar:
            for name, figure in neurons_figures(analysis, dataset):
                pixels = render(figure)
                del figure
                collect()
                png = encode_png(pixels)
                write_file(staged / f"{name}.png", png)
                writer.image(f"neurons/{name}", pixels, step=0, png=png)
                bar.update(1)
        write_json(staged / "summary.json", {**document, "figures": [f"{name}.png" for name in names]})
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
    commit()  # in place before the lines that say so
    print(f"Wrote {len(names)} figures and summary.json to {out}")
    print("Wrote TensorBoard figures" + (" and the hidden-layer embedding" if analysis.hidden is not None else "")
          + f" to {run_dir} (tensorboard --logdir {logdir})")
