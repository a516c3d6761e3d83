"""catnet report: one page that answers the learner's two questions with this model's own evidence."""

from __future__ import annotations

import time

from catnet.cli import add_command

DEFAULT_OUT = "report.html"
PARITY_STEPS = 100  # the page's parity summary trains both twins this long; `catnet compare` runs the whole course
SECTIONS = 6  # timed stages: the model, question 1, three of question 2, parity (--cnn adds one)


def register(subparsers) -> None:
    parser = add_command(
        subparsers, "report", "one HTML page answering: how can an unrolled image work, and what did the network learn?",
        "Build one self-contained HTML page (images inline, readable offline) that answers two questions with the "
        "evidence of one trained model: (1) how can a network find strokes and shapes in an image unrolled into a "
        "column? (2) how can we see what it learned is a cat? With no --model it trains the course's model first. "
        "Each section prints a line as it finishes.",
    )
    parser.add_argument("--model", metavar="PATH", help="a model file from 'catnet train --save' (default: train the course's model)")
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="PATH", help="the page to write (.html)")
    parser.add_argument("--orders", default="planar,random-0", metavar="ORDER,...",
                        help="pixel orders trained beside the model's own for question 1")
    parser.add_argument("--cnn", action="store_true",
                        help="also train a small convolutional network on the images and on scrambled pixels, 3 seeds "
                        "each, for contrast (about 15 s more)")
    parser.add_argument("--data", metavar="DIR", help="folder with the two .h5 files (else $CATNET_DATA, else ./datasets)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from catcore.config import TrainConfig
    from catcore.data import load_dataset
    from catcore.errors import CatnetError
    from catcore.outputs import check_output_file
    from interpret.unroll import check_orders

    out = check_output_file("--out", args.out, ".html", ".htm")
    others = tuple(name.strip() for name in args.orders.split(",") if name.strip())
    if not others:
        raise CatnetError(f"--orders needs at least one order beside the model's own, got {args.orders!r}")
    dataset = load_dataset(args.data)
    for split in ("train", "test"):  # the page explains cats against non-cats: both must be there, in both splits
        labels = set(getattr(dataset, split).labels.tolist())
        if labels != {0, 1}:
            raise CatnetError(f"the {split} set holds only {'cats' if labels == {1} else 'non-cats'}; the report needs "
                              "cats and non-cats in both sets")
    if args.cnn:
        from interpret.report.convolution import check_fits

        check_fits(dataset.image_shape)
    started = time.perf_counter()
    model = _load(args.model, dataset) if args.model else None
    check_orders(model.flatten if model else TrainConfig().flatten, others, dataset.image_shape)
    from catnet.progress import progress_bar

    with progress_bar(SECTIONS + int(args.cnn), "report", "section") as bar:
        steps = _Steps(bar)
        with steps("model"):
            model, config, trained = _model(model, dataset)
        page = _build(model, config, trained, dataset, others, steps, args.cnn)
    from catcore.outputs import commit
    from catnet.reports import write_text

    write_text(out, page)
    commit()  # in place before the line that says so
    print(f"Wrote {out} ({len(page.encode()) / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
    return 0


class _Steps:
    """Times each stage and prints a line as it finishes (a person sees progress, not a silent wait), above the bar."""

    def __init__(self, bar):
        self.bar = bar
        self.seconds: dict[str, float] = {}
        self.line: str | None = None

    def __call__(self, name: str, title: str | None = None):
        """Time the block as `name` (the page's footer), announcing it as `title` (the terminal)."""
        import contextlib

        @contextlib.contextmanager
        def timed():
            start = time.perf_counter()
            self.line = None
            yield self
            self.seconds[name] = time.perf_counter() - start
            self.bar.write(f"{title or name}: {self.line or 'done'} ({self.seconds[name]:.1f} s)")
            self.bar.update(1)

        return timed()


def _load(path, dataset):
    from catcore.errors import CatnetError
    from catcore.modelfile import load_model

    model = load_model(path)
    if tuple(model.image_shape) != tuple(dataset.image_shape):
        raise CatnetError(f"{path} reads {model.image_shape} images, the data holds {dataset.image_shape} images")
    return model


def _model(model, dataset):
    """The model to explain (the one loaded, or the course's model trained now) and the TrainConfig that reproduces it.

    The course's model has the course's hidden layers on whatever image size the data holds.
    """
    import numpy as np

    from catcore.config import COURSE_LAYERS, TrainConfig
    from catcore.data import prepare_arrays
    from catcore.modelfile import ModelFile
    from catnet.runs import run_training

    if model is None:
        config = TrainConfig(layers=(int(np.prod(dataset.image_shape)),) + COURSE_LAYERS[1:])
        run = run_training(config, prepare_arrays(dataset, config))
        model = ModelFile(run.result.params, config.init, config.seed, config.flatten, dataset.image_shape,
                          run.result.span_coefficients, {"impl": "numpy", "learning_rate": config.learning_rate,
                                                        "iterations": config.iterations})
        return model, config, True
    defaults = TrainConfig()
    config = TrainConfig(
        layers=model.layer_sizes, init=model.init, seed=model.seed, flatten=model.flatten,
        learning_rate=model.extra.get("learning_rate", defaults.learning_rate),  # checked by catcore.modelfile
        iterations=model.extra.get("iterations", defaults.iterations),
    )
    return model, config, False


def _build(model, config, trained: bool, dataset, others, steps, cnn: bool) -> str:
    from catcore.flatten import flatten_order
    from catnet.page import render_page
    from compare.report import parity_summary
    from interpret.report import attributions, learned, unrolling

    order = flatten_order(model.flatten, model.image_shape)
    with steps("pixel orders", "question 1: the same network trained on each pixel order") as step:
        experiment = unrolling.order_experiment(dataset, config, others)
        step.line = ", ".join(f"{r.order} test accuracy {r.test_accuracy:.2f}" for r in experiment.runs) + (
            f"; exact check within {experiment.largest_difference:.0e}")
    cat = int(next(i for i in range(len(dataset.test)) if dataset.test.labels[i] == 1))
    columns = unrolling.image_as_columns(dataset, cat, (model.flatten,) + tuple(others))
    templates = unrolling.scrambled_templates(dataset, experiment)
    convolution = None
    if cnn:
        from interpret.report.convolution import convolution_experiment

        with steps("convolutional network", "question 1: a convolutional network on the images and on scrambled pixels") as step:
            convolution = convolution_experiment(dataset, scrambled=others[-1])
            step.line = ", ".join(f"{name} mean test accuracy {convolution.test_accuracies(name).mean():.2f}"
                                  for name in convolution.orders)
    with steps("decomposition", "question 2: every prediction as a sum over the training images") as step:
        evidence = learned.gather(model, dataset, order)
        votes = learned.votes(evidence, dataset, learned.default_picks(evidence, dataset))
        mean = learned.mean_difference(dataset)
        units = learned.ranked_units(evidence, dataset)
        step.line = f"the terms add up to the logit within {evidence.decomposition.gap.max():.0e}"
    with steps("attributions", "question 2: attribution maps and their checks") as step:
        maps = attributions.attribution_evidence(model, dataset)
        step.line = f"deletion AUC {maps.checks.deletion_auc[0]:.3f} against {maps.checks.random_deletion_auc:.3f} for random orders"
    with steps("maximisation", "question 2: the input that maximises the cat logit") as step:
        maximised = attributions.maximised_cat(model, dataset, order)
        step.line = f"logit {maximised.logit:.1f} against {maximised.best_real_logit:.1f} for the best training image"
    with steps("parity", "parity: the NumPy and torch twins") as step:
        parity = _parity(config, dataset)
        step.line = "parity holds" if parity.passed else "PARITY FAILS: " + parity_summary(parity)

    from catnet import report_words as words

    sections = [
        words.answers(experiment, evidence, votes, units, maps, maximised),
        *words.question_one(experiment, columns, templates, convolution),
        *words.question_two(evidence, votes, mean, units, maps, maximised),
        words.parity(parity),
    ]
    source = "the course's model, trained for this page" if trained else "the model file given"
    timings = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps.seconds.items())
    footer = (f"Model: {source}; layers {list(model.layer_sizes)}, init {model.init} seed {model.seed}, "
              f"{model.flatten} pixel order. Built by catnet report in {sum(steps.seconds.values()):.1f} s ({timings}).")
    return render_page("What did the cat classifier learn, and how can an unrolled image work?", sections, footer)


def _parity(config, dataset):
    """Both twins from the same start for PARITY_STEPS steps, through the parity harness, on the CPU."""
    from dataclasses import replace

    from catcore.data import prepare_arrays
    from compare.harness import run_parity
    from compare.policy import policy_for

    short = replace(config, iterations=PARITY_STEPS, dtype="float64")
    return run_parity(short, prepare_arrays(dataset, short), policy_for("float64", "cpu"), device="cpu")
