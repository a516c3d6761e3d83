"""The report page's words: each answer and caption is written from the numbers it is given, not in advance.

Where a number would contradict a sentence (the exact check fails in float32,
a map does no better than chance, no unit is dead), the sentence changes.
"""

from __future__ import annotations

import numpy as np

from catnet.page import Scale, Section, Table
from interpret.report.attributions import TOP_SHARE
from interpret.units import ALWAYS_ON, DEAD

Q1 = "1. How can a network find strokes and shapes in an image that was unrolled into one column?"
Q2 = "2. How can we see what it learned is a cat?"


def answers(experiment, evidence, votes, units, maps, maximised) -> Section:
    return Section("The two answers").answer(Q1, answer_one(experiment)).answer(Q2, answer_two(evidence, votes, units, maps))


def answer_one(experiment) -> str:
    runs = experiment.runs
    accuracies = ", ".join(f"{r.test_accuracy:.2f} with pixels in the {r.order} order" for r in runs)
    spread = max(r.test_accuracy for r in runs) - min(r.test_accuracy for r in runs)
    eq = experiment.equivalences[-1]
    if experiment.exact:
        exact = (f"Trained on {eq.order} pixels from starting weights scrambled the same way, it ends as the very same "
                 f"model: every weight within {experiment.largest_difference:.0e} (relative) of the {runs[0].order}-order "
                 "model's once unscrambled.")
    else:
        exact = (f"Trained on {eq.order} pixels from starting weights scrambled the same way, it ends "
                 f"{experiment.largest_difference:.1e} (relative) away from the {runs[0].order}-order model: in "
                 f"{experiment.config.dtype} the reordered sums round differently and training amplifies it; in float64 "
                 "the two are the same to rounding.")
    same = "about as well" if spread <= 0.1 else f"to test accuracies {spread:.2f} apart"
    return (f"It does not look for them, and does not need to. Each first-layer unit multiplies every one of the "
            f"{runs[0].params.layer_sizes[0]} numbers by its own weight and adds the products up; it has no notion of which "
            f"positions are neighbours, so the order of the numbers only has to be the same every time. This network "
            f"trains {same} in any order: test accuracy {accuracies}. {exact} What breaks it is reading pixels in "
            f"another order than it was trained on: accuracy then falls to {experiment.worst_mismatch:.2f}, where always "
            f"answering the commoner class scores {experiment.majority:.2f}. Rather than strokes and shapes, it compares "
            "whole images with whole-image templates.")


def answer_two(evidence, votes, units, maps) -> str:
    d = evidence.decomposition
    m = evidence.X_train.shape[1]
    first = votes[0]
    dead = [u.number for u in units.units if u.flag == DEAD]
    always = [u.number for u in units.units if u.flag == ALWAYS_ON]
    strongest = units.units[0]
    checks = maps.checks
    votes_size = abs(first.from_cats) + abs(first.from_non_cats)
    split = "the small difference of two large votes" if votes_size > 5 * abs(first.logit) else "what the two votes add up to"
    sides = first.from_cats > 0 > first.from_non_cats
    sentence_units = (f"Its {len(units.units)} first-layer units are mixtures of training images added to a random start "
                      f"(W1 - W1_init = C X^T); unit {strongest.number} moves the cat logit most ({strongest.push:+.2f} on "
                      "average)")
    if dead or always:
        sentence_units += (f"; {len(dead)} never fire on the training set" if dead else "") + (
            f"; {len(always)} fire on every training image" if always else "")
    share = maps.mean_map.concentration / TOP_SHARE  # 1: an even spread
    spread = ("spread over the whole picture" if share < 2 else
              "somewhat concentrated" if share < 5 else "concentrated on a few places")
    margin = checks.random_deletion_auc - checks.deletion_auc[0]  # > 0: the map's order deletes evidence faster
    ranking = ("rank pixels no better than chance" if margin <= 0 else
               "rank pixels only a little better than chance" if margin < 0.1 else "rank pixels clearly better than chance")
    conclusion = ("What it learned is a cat is a vote of the cats it was shown against the non-cats, not a part detector."
                  if sides else "What it learned is a cat is a weighted vote of the images it was shown, not a part detector.")
    return (f"By asking what it compares each image with. Training only ever added combinations of the {m} training "
            f"images to the first layer, so every prediction is exactly a sum of {m} terms, one per training image, plus "
            f"the random start's share and the biases (on the {len(d.logit)} test images they add up to the logit within "
            f"{d.gap.max():.0e}). For test image {first.index} the training cats add {first.from_cats:+.1f} and the "
            f"non-cats {first.from_non_cats:+.1f}: its logit, {first.logit:+.2f}, is {split}. {sentence_units}. "
            f"Attribution maps of the test cats are {spread} (the top {TOP_SHARE:.0%} of pixels hold "
            f"{maps.mean_map.concentration:.0%} of the evidence, {share:.1f} times an even share) and {ranking} "
            f"(deletion AUC {checks.deletion_auc[0]:.3f} for {checks.methods[0]} against {checks.random_deletion_auc:.3f} "
            f"for random orders). {conclusion}")


def question_one(experiment, columns, templates, convolution=None) -> list[Section]:
    order_rows = [[r.order, f"{r.final_cost:.6f}", f"{r.train_accuracy:.4f}", f"{r.test_accuracy:.4f}"]
                  for r in experiment.runs]
    names = [r.order for r in experiment.runs]
    mismatch_rows = [[trained] + [f"{experiment.accuracy(trained, evaluated):.2f}" for evaluated in names] for trained in names]
    exact_rows = [[eq.order] + [f"{v:.1e}" for v in eq.weight_differences] + [f"{max(eq.bias_differences):.1e}",
                                                                              f"{eq.cost_difference:.1e}"]
                  for eq in experiment.equivalences]
    layers = len(experiment.runs[0].params.layers)
    config = experiment.config
    return [
        Section(Q1)
        .text("A fully connected layer has no notion of neighbourhood: position 5 is not next to position 6 for it. "
              "Each unit compares the whole image with a template of the same size, one weight per position, so "
              "shuffling the positions changes nothing as long as every image (and the template) is shuffled alike.")
        .picture(columns.picture),
        Section("The same network on every pixel order", level=3)
        .text(f"Same initial weights ({config.init}, seed {config.seed}), learning rate {config.learning_rate}, "
              f"{config.iterations} iterations, {config.dtype}; only the order of the pixels changes.")
        .table(Table(["order", "final cost", "train accuracy", "test accuracy"], order_rows))
        .text(f"Test accuracy of each model (row) reading the test images unrolled in each order (column); always "
              f"answering the commoner class scores {experiment.majority:.2f}:")
        .table(Table(["trained on"] + names, mismatch_rows))
        .picture(_chart(_curves(experiment), "Training cost per iteration for each order; the black markers: the "
                        "run on scrambled pixels from W1_init scrambled alike, which lies on the course-order run's curve"),
                 chart=True),
        Section("The exact check", level=3)
        .text("Scramble the pixels and W1_init's columns the same way, train, and unscramble: every product "
              "w_i x_i is unchanged, so every step is too. Relative Frobenius differences from the reference model "
              "(cost: the largest absolute difference over all iterations):")
        .table(Table(["order"] + [f"W{i}" for i in range(1, layers + 1)] + ["biases", "cost"], exact_rows))
        .picture(templates.picture),
    ] + ([convolution_section(convolution)] if convolution is not None else [])


def convolution_section(convolution) -> Section:
    """The contrast: a network that does use neighbourhoods, on the images and on scrambled pixels; worded from its runs."""
    names = convolution.orders
    rows = [[run.order, str(run.seed), f"{run.train_accuracy:.3f}", f"{run.test_accuracy:.2f}"] for run in convolution.runs]
    means = {name: convolution.test_accuracies(name).mean() for name in names}
    real, scrambled = names[0], names[-1]
    gap = means[real] - means[scrambled]
    test_size = convolution.test_images
    if gap > 0.04:
        finding = (f"On the images as they are it generalises better: mean test accuracy {means[real]:.2f} against "
                   f"{means[scrambled]:.2f} on {scrambled} pixels, so locality helps it here.")
    elif gap < -0.04:
        finding = (f"Here it did better on the scrambled pixels ({means[scrambled]:.2f} against {means[real]:.2f}): with "
                   "this few images, locality gave it no advantage in these runs.")
    else:
        finding = (f"Its mean test accuracy is {means[real]:.2f} on the images and {means[scrambled]:.2f} on {scrambled} "
                   f"pixels, a difference of about {abs(gap) * test_size:.0f} of {test_size} test images: with "
                   f"{convolution.train_images} training images, locality shows little in its test accuracy.")
    return (Section("For contrast: a network that does know neighbours", level=3)
            .text(f"A small convolutional network ({convolution.architecture}) slides small filters over neighbouring "
                  "pixels, so scrambling the pixels removes exactly what its filters rely on. Trained from the same "
                  f"seeds on both: {finding}")
            .table(Table(["pixels", "seed", "train accuracy", "test accuracy"], rows)))


def question_two(evidence, votes, mean, units, maps, maximised) -> list[Section]:
    d = evidence.decomposition
    vote_rows = [[f"test {v.index}", "cat" if v.label else "non-cat", f"{v.probability:.3f}", f"{v.logit:+.3f}",
                  f"{v.from_cats:+.2f}", f"{v.from_non_cats:+.2f}", f"{v.initial_projection:+.3f}", f"{v.biases:+.3f}",
                  f"{v.gap:.0e}"] for v in votes]
    sections = [
        Section(Q2)
        .text(f"W1 = W1_init + C X^T ({evidence.span.source} C, relative error {evidence.span.relative_error:.0e}), so the "
              "first layer sees a test image x only through W1_init x and its dot products with the training images. "
              "With x's own ReLU pattern held fixed the rest of the network is affine, and the logit splits exactly "
              "into one term per training image, the random start's share and the biases:")
        .table(Table(["image", "label", "P(cat)", "logit", "from training cats", "from training non-cats",
                      "random start", "biases", "|sum - logit|"], vote_rows, text_columns=2)),
    ]
    for vote in votes:
        sections[-1].picture(vote.picture)
        if vote.layer2_off:
            sections[-1].text(f"For test image {vote.index} every unit between the first layer and the output is off: "
                              "no training image reaches its logit, which is the biases alone.")
    off = int(np.sum(~np.any(d.unit_terms, axis=1)))
    if off:
        sections[-1].text(f"{off} of the {len(d.logit)} test images switch off every path to the output: their logit is "
                          "the biases alone, the same number for each, and their maps below are zero, not a bug.")
    unit_rows = [[str(u.number), f"{u.push:+.3f}", f"{u.push_cats:+.3f}", f"{u.push_non_cats:+.3f}", _share(u.on_train),
                  u.flag or "-", picture] for u, picture in zip(units.units, units.pictures)]
    checks = maps.checks
    check_rows = [[m, f"{dele:.3f}", f"{ins:.3f}", f"{rho:.2f}", "yes" if m in checks.flagged else "no"]
                  for m, dele, ins, rho in zip(checks.methods, checks.deletion_auc, checks.insertion_auc, checks.rho_all_random)]
    check_rows.append(["random order", f"{checks.random_deletion_auc:.3f}", f"{checks.random_insertion_auc:.3f}", "-", "-"])
    sections += [
        Section("Mean cat minus mean non-cat", level=3).picture(mean.picture)
        .scale(Scale(mean.scale, f"-{mean.largest:.2f}", f"+{mean.largest:.2f}", "pixel value, cat minus non-cat")),
        Section("The first-layer units", level=3)
        .text("Each unit's push is its average share of the cat logit over the test images (g_i z1_i above); "
              "'dead' units never fire on a training image, 'always on' units fire on every one.")
        .table(Table(["unit", "push (all)", "push (cats)", "push (non-cats)", "active on training images", "flag",
                      "what training added (W1 - W1_init, grey = 0), then the 5 training images that drive it hardest "
                      "(green frame: cat, red: non-cat)"], unit_rows)),
        Section("Which pixels moved the logit", level=3)
        .picture(maps.mean_map.picture)
        .scale(Scale(maps.mean_map.scale, f"-{maps.mean_map.limit:.2g}", f"+{maps.mean_map.limit:.2g}",
                     "logit per pixel"))
        .text(f"On one test cat the top {TOP_SHARE:.0%} of the pixels hold {maps.mean_map.concentration:.0%} of the "
              f"{maps.mean_map.method} map's total |attribution| on average (an even spread would give {TOP_SHARE:.0%}). "
              "Deletion removes the most important pixels first (lower area: the map found what matters); insertion "
              "adds them to a blurred copy (higher is better); rho is the rank correlation that remains once every "
              "layer's weights are random (near 1: the map ignores what was learned).")
        .table(Table(["method", "deletion AUC", "insertion AUC", "rho, all layers random", "flagged"], check_rows))
        .picture(_chart(checks.curves_figure, "Deletion and insertion curves, mean over the test cats"), chart=True)
        .picture(_chart(checks.randomisation_figure, "Model randomisation: rank correlation with the trained map as "
                        "layers are randomised from the output down"), chart=True),
        Section("The input that maximises the cat logit", level=3)
        .picture(maximised.picture)
        .text(_maximised_words(maximised)),
    ]
    return sections


def _maximised_words(maximised) -> str:
    if maximised.logit > maximised.best_real_logit:
        return (f"Its cat logit is {maximised.logit:.1f}; the most cat-like training image scores "
                f"{maximised.best_real_logit:.1f}. It is not a picture of a cat: the logit is nearly linear in the input, "
                "so the strongest input of a given size is a high-contrast pattern that matches the learned templates "
                "everywhere at once, unlike any photo. It shows what the weights reward, not what a cat looks like.")
    return (f"Its cat logit is {maximised.logit:.1f}, below the {maximised.best_real_logit:.1f} of the most cat-like "
            "training image: within this norm bound and number of steps (and with the smoothness penalty) the ascent "
            "found no input this network finds more cat-like than a real one. It shows what the weights reward near "
            "its start, not what a cat looks like.")


def parity(report) -> Section:
    from compare.report import parity_summary

    forward, gradients, parameters = report.sections
    worst = lambda section: max((row.worst.normwise or 0.0) for row in section.rows)  # noqa: E731
    pair = report.trajectory.pairs[0]
    agreement = report.trajectory.agreements[0]
    return (Section("Do the NumPy and torch twins compute the same thing?")
            .text(f"From the same initial parameters, for {pair.steps} training steps in float64: the forward pass agrees "
                  f"to {worst(forward):.0e} and the gradients to {worst(gradients):.0e} (normwise), the parameters to "
                  f"{pair.max_param_diff:.0e} at every step, and {agreement.train_disagree + agreement.test_disagree} "
                  f"predictions differ. {parity_summary(report)}. The full run: catnet compare."))


def _share(fraction: float) -> str:
    """A share as a whole percentage that never reads 0% or 100% unless it is exactly that (208/209 is 99%, not
    100%, beside units flagged 'always on')."""
    shown = round(fraction * 100)
    if shown == 100 and fraction < 1:
        shown = 99
    elif shown == 0 and fraction > 0:
        shown = 1
    return f"{shown}%"


def _curves(experiment):
    from interpret.figures_unroll import cost_curves  # the very figure `catnet unroll` draws

    return cost_curves(experiment.runs, experiment.equivalences, title="Training cost by pixel order")


def _chart(figure, caption: str):
    from catnet.figfiles import render
    from interpret.pictures import Picture

    return Picture(render(figure), caption)
