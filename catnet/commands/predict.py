"""catnet predict: classify your own photos with a trained model file."""

from __future__ import annotations

import argparse

from catnet.cli import add_command


def register(subparsers) -> None:
    parser = add_command(
        subparsers, "predict", "classify your own JPEG/PNG photos with a trained model",
        "Load a model saved by 'catnet train --save' (either implementation), resize each photo to the "
        "model's input (64x64 RGB for the course's data) and print P(cat) and the label. Every image is "
        "checked before anything is printed.",
    )
    parser.add_argument("--model", required=True, default=argparse.SUPPRESS, metavar="M", help="model file (.npz) from 'catnet train --save'")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="JPEG or PNG files")
    parser.set_defaults(run=run)


def run(args) -> int:
    from catcore.data import CLASS_NAMES
    from catcore.errors import CatnetError
    from catcore.flatten import flatten_order
    from catcore.modelfile import load_model
    from catnet.images import load_images
    from numpy_impl.network import overflowing_column, predict_proba

    model = load_model(args.model)
    order = flatten_order(model.flatten, model.image_shape)
    X = load_images(args.images, order, dtype=model.params.dtype)  # (n_x, m)
    bad = overflowing_column(model.params, X)
    if bad is not None:
        raise CatnetError(f"{args.model}: its weights are so large that the network overflows on {args.images[bad]}; "
                          "it is no trained catnet model")
    probabilities = predict_proba(model.params, X)[0]  # (m,)
    width = max(len(path) for path in args.images)
    for path, p in zip(args.images, probabilities):
        label = CLASS_NAMES[int(p > 0.5)]
        print(f"{path:<{width}}  P(cat) = {p:.4f}  {label}")
    return 0
