"""catnet train: the course's training run with either implementation."""

from __future__ import annotations

import contextlib
import sys

from catcore.config import (
    DEVICES,
    DTYPES,
    FIRST_LAYER_MODES,
    FLATTEN_HELP,
    IMPLS,
    INIT_SCHEMES,
    TorchSettings,
    TrainConfig,
)
from catnet.cli import (
    add_command,
    iteration_count,
    layer_list,
    positive_float,
    positive_int,
    seed,
)

DEFAULTS = TrainConfig()


def add_config_arguments(parser) -> None:
    """The TrainConfig flags, shared by every command that trains."""
    parser.add_argument("--layers", type=layer_list, default=DEFAULTS.layers, metavar="N,N,...",
                        help="layer sizes, input first; the last must be 1")
    parser.add_argument("--init", choices=INIT_SCHEMES, default=DEFAULTS.init,
                        help="dls = randn/sqrt(fan_in) (the course's deep model), small = randn*0.01 (its two-layer model)")
    parser.add_argument("--lr", type=positive_float, default=DEFAULTS.learning_rate, help="learning rate")
    parser.add_argument("--iterations", type=iteration_count, default=DEFAULTS.iterations,
                        help="gradient-descent steps, counted from 0")
    parser.add_argument("--seed", type=seed, default=DEFAULTS.seed, help="seed of the initial parameters")
    parser.add_argument("--dtype", choices=DTYPES, default=DEFAULTS.dtype)
    parser.add_argument("--flatten", default=DEFAULTS.flatten, metavar="ORDER", help=f"pixel order: {FLATTEN_HELP}")
    parser.add_argument("--first-layer", choices=FIRST_LAYER_MODES, default=DEFAULTS.first_layer,
                        help="primal updates W1; span updates its coefficients C in W1 = W1_init + C X^T; "
                        "auto picks the cheaper (same result to rounding)")
    parser.add_argument("--data", metavar="DIR", help="folder with the two .h5 files (else $CATNET_DATA, else ./datasets)")


def add_torch_arguments(parser) -> None:
    parser.add_argument("--device", choices=DEVICES, default=TorchSettings.device, help="torch only")
    parser.add_argument("--allow-tf32", action="store_true",
                        help="torch on CUDA only: TF32 matmuls (fast, not bit-comparable)")


def torch_settings_from_args(args, impl: str) -> TorchSettings:
    """--device and --allow-tf32, refusing what contradicts --impl (TF32 on the CPU is refused once the device is known)."""
    from catcore.errors import CatnetError

    if impl == "numpy" and args.device == "cuda":
        raise CatnetError("--device cuda needs --impl torch: the NumPy twin runs on the CPU")
    if impl == "numpy" and args.allow_tf32:
        raise CatnetError("--allow-tf32 needs --impl torch on CUDA: the NumPy twin has no TF32")
    return TorchSettings(device=args.device, allow_tf32=args.allow_tf32)


def config_from_args(args) -> TrainConfig:
    return TrainConfig(
        layers=args.layers,
        init=args.init,
        learning_rate=args.lr,
        iterations=args.iterations,
        seed=args.seed,
        dtype=args.dtype,
        flatten=args.flatten,
        first_layer=args.first_layer,
        log_every=getattr(args, "log_every", DEFAULTS.log_every),
    )


def register(subparsers) -> None:
    parser = add_command(
        subparsers, "train", "train the cat classifier (with no flags: the course's run)",
        "Train [LINEAR->RELU]x(L-1)->LINEAR->SIGMOID by full-batch gradient descent. With no flags this is "
        "the course's Week 4 run: layers 12288,20,7,5,1, dls init, seed 1, lr 0.0075, 2500 iterations.",
    )
    parser.add_argument("--impl", choices=IMPLS, default="numpy", help="which twin trains")
    add_config_arguments(parser)
    add_torch_arguments(parser)
    parser.add_argument("--log-every", type=positive_int, default=DEFAULTS.log_every, help="print the cost every N iterations")
    parser.add_argument("--save", metavar="PATH", help="write the trained model here (.npz)")
    parser.add_argument("--metrics-json", metavar="PATH", help="write costs, accuracies and timing as JSON")
    parser.add_argument("--logdir", metavar="DIR", help="write a TensorBoard run under DIR")
    parser.add_argument("--quiet", action="store_true", help="print no costs while training, only the results")
    parser.set_defaults(run=run)


def run(args) -> int:
    from catcore.data import load_dataset, prepare_arrays
    from catcore.outputs import check_folder, check_output_file
    from catnet.runs import run_training

    config = config_from_args(args)
    settings = torch_settings_from_args(args, args.impl)
    # a bad output path fails now, not after a long run
    check_output_file("--save", args.save, ".npz")
    check_output_file("--metrics-json", args.metrics_json, ".json")
    check_folder("--logdir", args.logdir)
    dataset = load_dataset(args.data)
    arrays = prepare_arrays(dataset, config)

    with _cost_lines(config, enabled=not args.quiet) as on_log:
        run_ = run_training(config, arrays, impl=args.impl, torch_settings=settings, on_log=on_log)

    print(f"Train accuracy: {run_.train_accuracy:.4f}  ({_count(run_.train_accuracy, arrays.Y_train)})")
    print(f"Test accuracy:  {run_.test_accuracy:.4f}  ({_count(run_.test_accuracy, arrays.Y_test)})")
    sys.stdout.write(_write_outputs(args, run_, dataset))
    print(f"Trained in {run_.train_seconds:.2f} s ({args.impl}, {config.dtype}, first layer {run_.result.first_layer}"
          + (f", {run_.backend.device}" if run_.backend else "") + ")", file=sys.stderr)
    return 0


def _count(fraction: float, Y) -> str:
    m = Y.shape[1]
    return f"{round(fraction * m)}/{m}"


@contextlib.contextmanager
def _cost_lines(config: TrainConfig, enabled: bool):
    """Yield an on_log that prints the course's 'Cost after iteration i' lines, above a progress bar on a terminal."""
    from catnet.progress import progress_bar

    with progress_bar(config.iterations, unit="it", enabled=enabled) as bar:
        done = 0

        def on_log(iteration: int, cost: float) -> None:
            nonlocal done
            if not enabled:
                return
            bar.update(iteration + 1 - done)
            done = iteration + 1
            bar.write(f"Cost after iteration {iteration}: {cost}")  # above the bar, if there is one

        yield on_log


def _write_outputs(args, run_, dataset) -> str:
    """Write every output the flags ask for, all of them or none; returns what to tell the user."""
    from catcore.modelfile import ModelFile, save_model
    from catcore.outputs import commit

    lines = []
    if args.save:
        model = ModelFile(
            params=run_.result.params,
            init=run_.config.init,
            seed=run_.config.seed,
            flatten=run_.config.flatten,
            image_shape=dataset.image_shape,
            span_coefficients=run_.result.span_coefficients,
            extra=_summary(run_),
        )
        lines.append(f"Saved model to {save_model(args.save, model)}")
    if args.metrics_json:
        from catnet.reports import write_json

        write_json(args.metrics_json, metrics(run_))
        lines.append(f"Wrote metrics to {args.metrics_json}")
    if args.logdir:
        from catnet.tblog import write_training_run

        lines.append(f"Wrote TensorBoard run {write_training_run(args.logdir, run_)}")
    commit()  # every output in place before the lines that say so
    return "".join(line + "\n" for line in lines)


def _summary(run_) -> dict:
    return {
        "impl": run_.impl,
        "learning_rate": run_.config.learning_rate,
        "iterations": run_.config.iterations,
        "train_accuracy": run_.train_accuracy,
        "test_accuracy": run_.test_accuracy,
    }


def metrics(run_) -> dict:
    """The --metrics-json document."""
    from catcore.training import should_log

    config = run_.config
    costs = run_.result.costs
    logged = [i for i in range(config.iterations) if should_log(i, config.iterations, config.log_every)]
    return {
        "impl": run_.impl,
        "costs": [[i, float(costs[i])] for i in logged],
        "train_accuracy": run_.train_accuracy,
        "test_accuracy": run_.test_accuracy,
        "train_seconds": run_.train_seconds,
        "config": run_.settings(),
    }
