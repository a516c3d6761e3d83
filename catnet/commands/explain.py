"""catnet explain: attribution maps for the test cats, and evidence that they mean something."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from catcore.config import DEVICES, DTYPES, MAX_IG_STEPS
from catnet.cli import (
    add_command,
    cpu_threads,
    int_from,
    positive_float,
    positive_int,
    seed,
)
from catnet.progress import progress_bar
from interpret.methods import BASELINES, DEFAULT_METHODS, METHODS, Settings

DEFAULTS = Settings()
DEFAULT_OUT = "explain-out"
IMAGE_CHUNK = 10  # images per progress-bar step


def register(subparsers) -> None:
    methods = "\n".join(f"  {m.name:21s} {m.summary}" for m in METHODS.values())
    parser = add_command(
        subparsers, "explain", "attribution maps of a trained model on test images, and checks that they mean something",
        "Attribute the cat logit of a trained model (from either implementation) to the pixels of the chosen\n"
        "images with Captum: positive = evidence for cat, negative = evidence for non-cat. Writes one PNG per\n"
        "image, one overview PNG per method and summary.json; --evaluate adds deletion/insertion curves, the\n"
        f"model-randomisation sanity check and integrated-gradients completeness.\n\nmethods:\n{methods}",
    )
    parser.add_argument("--model", required=True, metavar="PATH", help="a model file written by 'catnet train --save'")
    parser.add_argument("--methods", default="default", metavar="LIST",
                        help=f"comma-separated, from: {', '.join(METHODS)}; or all; default: {', '.join(DEFAULT_METHODS)}")
    parser.add_argument("--images", default="test", metavar="WHICH",
                        help="test, train, or comma-separated indices into the test set (e.g. 0,3,7)")
    parser.add_argument("--baseline", choices=BASELINES, default=DEFAULTS.baseline,
                        help="reference image of integrated gradients, DeepLift, GradientShap and occlusion")
    parser.add_argument("--scale", choices=("per-image", "shared"), default="per-image",
                        help="colour scale of the heatmaps: each map saturates at its own largest values, or one scale "
                        "per method for all images (comparable across images)")
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help="folder for the PNGs and summary.json")
    parser.add_argument("--logdir", metavar="DIR", help="also write the images to a TensorBoard run under DIR")
    parser.add_argument("--evaluate", action="store_true",
                        help="deletion/insertion curves, model-randomisation check, IG completeness")
    parser.add_argument("--data", metavar="DIR", help="folder with the two .h5 files (else $CATNET_DATA, else ./datasets)")
    parser.add_argument("--seed", type=seed, default=DEFAULTS.seed,
                        help="seed of the stochastic methods, the noise baseline, random orders and random weights")
    parser.add_argument("--ig-steps", type=int_from(1, MAX_IG_STEPS), default=DEFAULTS.ig_steps,
                        help="integrated-gradients steps; doubled per image (up to --ig-max-steps) while the completeness gap is too large")
    parser.add_argument("--ig-max-steps", type=int_from(1, MAX_IG_STEPS), default=DEFAULTS.ig_max_steps,
                        help="stop doubling here and warn if the gap is still too large")
    parser.add_argument("--ig-tolerance", type=positive_float, default=DEFAULTS.ig_tolerance,
                        help="acceptable |sum(map) - (F(x) - F(baseline))|, in logits")
    parser.add_argument("--batch-size", type=positive_int, default=DEFAULTS.batch_size,
                        help="rows through the network at a time (bounds memory)")
    parser.add_argument("--dtype", choices=DTYPES, default="float64",
                        help="float64 agrees with the NumPy reference to rounding; float32 is about twice as fast on CPU")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="auto = CUDA when there is one")
    parser.add_argument("--threads", type=cpu_threads, metavar="N",
                        help="CPU threads for torch (default: torch's choice); 1 is often faster on a busy machine")
    parser.set_defaults(run=run)


def run(args) -> int:
    from catcore.data import load_dataset
    from catcore.errors import CatnetError
    from catcore.modelfile import load_model
    from catcore.outputs import check_folder, check_output_folder
    from interpret.methods import parse_methods

    # everything a person can get wrong is checked before any computing or writing
    methods = parse_methods(args.methods)
    out = check_output_folder("--out", args.out)
    check_folder("--logdir", args.logdir)
    settings = Settings(
        baseline=args.baseline, seed=args.seed, ig_steps=args.ig_steps, ig_tolerance=args.ig_tolerance,
        ig_max_steps=max(args.ig_max_steps, args.ig_steps), batch_size=args.batch_size,
    )
    model_file = load_model(args.model)
    dataset = load_dataset(args.data)
    if tuple(model_file.image_shape) != dataset.image_shape:
        raise CatnetError(
            f"{args.model} was trained on {model_file.image_shape} images, the data holds {dataset.image_shape} images"
        )
    split_name, indices = parse_images(args.images, len(dataset.train), len(dataset.test))
    _check_no_overflow(args.model, model_file, dataset.test if split_name == "test" else dataset.train, indices)
    if "occlusion" in methods and settings.occlusion_window > min(dataset.image_shape[:2]):
        raise CatnetError(f"occlusion needs images of at least {settings.occlusion_window} px, got {dataset.image_shape}")
    from torch_impl.device import resolve_device

    device = resolve_device(args.device)  # --device cuda without a GPU: refused before any folder is made
    return _explain(args, model_file, dataset, split_name, indices, methods, settings, device, out)


def parse_images(text: str, train_size: int, test_size: int) -> tuple[str, list[int]]:
    """'test' / 'train' / '0,3,7' (test-set indices) -> (split name, indices)."""
    from catcore.errors import CatnetError

    text = text.strip()
    if text == "test":
        return "test", list(range(test_size))
    if text == "train":
        return "train", list(range(train_size))
    try:
        indices = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CatnetError(f"--images takes test, train or comma-separated test-set indices like 0,3,7, got {text!r}") from None
    if not indices:
        raise CatnetError(f"--images names no image, got {text!r}")
    bad = [index for index in indices if not 0 <= index < test_size]
    if bad:
        raise CatnetError(
            f"image index {bad[0]} is out of range: the test set has {test_size} images, indices 0-{test_size - 1}"
        )
    return "test", list(dict.fromkeys(indices))


def _check_no_overflow(path, model_file, split, indices) -> None:
    """A model whose finite weights still overflow on these images would give meaningless maps: refused now."""
    from catcore.errors import CatnetError
    from catcore.flatten import flatten_order
    from numpy_impl.network import overflowing_column

    X = split.X(flatten_order(model_file.flatten, model_file.image_shape), model_file.params.dtype)  # (n_x, m)
    bad = overflowing_column(model_file.params, X[:, indices])
    if bad is not None:
        raise CatnetError(f"{path}: its weights are so large that the network overflows on image {indices[bad]}; "
                          "it is no trained catnet model")


def _explain(args, model_file, dataset, split_name, indices, methods, settings, device, out: Path) -> int:
    import numpy as np

    from interpret.attribution import explain
    from interpret.figures import Verdict
    from interpret.quality import evaluate, evaluation_steps
    from interpret.wrapper import image_model, to_tensor
    from torch_impl.model import torch_dtype

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    split = dataset.test if split_name == "test" else dataset.train
    model = image_model(model_file, dtype=torch_dtype(args.dtype), device=device)
    images = to_tensor(split.images[indices], dtype=torch_dtype(args.dtype), device=device)  # (N, H, W, C)
    probability = model.probability(images).cpu().numpy().astype(np.float64)  # (N,)
    verdicts = [Verdict(f"{split_name} #{index}", int(split.labels[index]), float(p), silent)
                for index, p, silent in zip(indices, probability, model.silent_layers(images))]

    started = time.perf_counter()
    with progress_bar(len(methods) * len(indices), "attributing", "img") as bar:
        results = explain(model, images, indices, methods, settings, chunk=IMAGE_CHUNK,
                          on_progress=lambda method, done: (bar.set_postfix_str(method), bar.update(done)))
    seconds = {"attribution": time.perf_counter() - started}
    _report_attribution(split_name, verdicts, results, settings, seconds, args, device)  # each part as it is done
    evaluation = None
    if args.evaluate:
        started = time.perf_counter()
        with progress_bar(evaluation_steps(len(methods), len(model.linears)), "evaluating", "step") as bar:
            evaluation = evaluate(model, images, indices, results, settings,
                                  on_progress=lambda what: (bar.set_postfix_str(what), bar.update(1)))
        seconds["evaluation"] = time.perf_counter() - started
        _report_evaluation(verdicts, evaluation, seconds)

    started = time.perf_counter()
    host_images = images.cpu().numpy().astype(np.float64)  # (N, H, W, C) in [0, 1]
    stems = [f"{split_name}-{index:03d}" for index in indices]  # test-007.png sorts in index order
    # the folder is filled aside and replaces --out whole at the end: an interrupted run leaves the last one intact
    from catcore.outputs import commit, staged_folder

    run_dir = None
    if args.logdir:  # tensorboard's protos take 0.16 s to import: only when asked for
        from catnet.tblog import new_run_dir

        run_dir = new_run_dir(args.logdir, "explain")
    staged = staged_folder(out)
    written = _write_figures(staged, run_dir, host_images, results, verdicts, stems, evaluation, args.scale == "shared")
    seconds["figures"] = time.perf_counter() - started
    from catnet.reports import write_json
    from interpret.summary import summary_document

    document = summary_document(str(args.model), model_file, args.dtype, split_name, indices, verdicts, results,
                                evaluation, settings, seconds)
    write_json(staged / "summary.json", document)
    commit()  # in place before the line that says so
    print(f"Wrote {written} PNGs ({seconds['figures']:.1f} s) and summary.json to {out}"
          + (f"; the images also in TensorBoard under {run_dir}" if run_dir else ""))
    return 0


def _write_figures(out: Path, logdir, images, results, verdicts, stems, evaluation, shared_scale: bool) -> int:
    """Render every figure once; write it as a PNG (atomically) and, with --logdir, the same bytes to TensorBoard."""
    import contextlib

    from catnet.figfiles import encode_png, freed_after_drawing, render, write_file
    from interpret import figures

    count = 0
    scales = figures.shared_scales({m: r.maps for m, r in results.items()}) if shared_scale else None
    with contextlib.ExitStack() as stack:
        writer = None
        if logdir:  # tensorboard's protos take 0.16 s to import: only when asked for
            from catnet.tblog import EventWriter

            writer = stack.enter_context(EventWriter(logdir))
        collect = stack.enter_context(freed_after_drawing())

        def emit(name: str, tag: str, figure) -> None:
            nonlocal count
            pixels = render(figure, dpi=figures.DPI)  # (height, width, 3), laid out pixel for pixel
            collect()
            png = encode_png(pixels)
            write_file(out / f"{name}.png", png)
            if writer is not None:
                writer.image(tag, pixels, step=0, png=png)
            count += 1

        with progress_bar(len(verdicts) + len(results) + (2 if evaluation else 0), "drawing", "fig") as bar:
            for row, (verdict, stem) in enumerate(zip(verdicts, stems)):
                maps = {m: r.maps[row] for m, r in results.items()}
                emit(stem, f"images/{stem}", figures.image_figure(images[row], maps, verdict, scales))
                bar.update(1)
            for method, result in results.items():
                emit(f"overview-{method}", f"overview/{method}",
                     figures.overview_figure(images, result.maps, verdicts, method, shared_scale))
                bar.update(1)
            if evaluation is not None:
                emit("deletion-insertion", "evaluation/deletion-insertion", figures.curves_figure(evaluation.curves, evaluation.random))
                emit("randomisation", "evaluation/randomisation", figures.randomisation_figure(evaluation.randomisation))
                bar.update(2)
    return count


def _report_attribution(split_name, verdicts, results, settings, seconds: dict, args, device) -> None:
    """What a person reads on the terminal once the maps are made; the full figures are in summary.json."""
    import numpy as np

    wrong = sum(not v.correct for v in verdicts)
    print(f"Explained {len(verdicts)} {split_name} images ({len(verdicts) - wrong} right, {wrong} wrong) "
          f"with {len(results)} method{'' if len(results) == 1 else 's'} in {seconds['attribution']:.1f} s ({args.dtype}, {device})")
    ig = results.get("integrated-gradients")
    if ig is not None:
        worst = float(np.abs(ig.delta).max())
        print(f"integrated-gradients: completeness gap at most {worst:.1e} logits "
              f"(tolerance {settings.ig_tolerance:g}), {ig.steps.min()}-{ig.steps.max()} steps per image")
        over = [v.name for v, d in zip(verdicts, ig.delta) if abs(d) > settings.ig_tolerance]
        if over:
            print(f"catnet explain: warning: integrated gradients still off by up to {worst:.1e} logits after "
                  f"{settings.ig_max_steps} steps on {', '.join(over)}; raise --ig-max-steps", file=sys.stderr)
    if "deeplift" in results:
        print(f"deeplift: completeness gap at most {np.abs(results['deeplift'].delta).max():.1e} logits")
    sys.stdout.flush()  # before the drawing starts: a pipe would otherwise hold these lines until the end


def _report_evaluation(verdicts, evaluation, seconds: dict) -> None:
    """The quality table, once the evaluation is done."""
    print(f"\nEvaluation ({seconds['evaluation']:.1f} s), means over {len(verdicts)} images (deletion: lower is better, insertion: higher is better;"
          " rho: rank correlation with the trained map once every layer is random)")
    print(f"  {'method':22s} {'deletion AUC':>12s} {'insertion AUC':>13s} {'rho':>6s}")
    for method, curve in evaluation.curves.items():
        rho = evaluation.randomisation.mean(method)[-1]
        print(f"  {method:22s} {curve.deletion_auc.mean():12.3f} {curve.insertion_auc.mean():13.3f} {rho:6.2f}")
    random = evaluation.random
    print(f"  {'random order':22s} {random.deletion_auc.mean():12.3f} {random.insertion_auc.mean():13.3f}")
    flagged = evaluation.randomisation.flagged
    print("Flagged by the randomisation check (maps barely change with random weights): "
          + (", ".join(flagged) if flagged else "none"), flush=True)
