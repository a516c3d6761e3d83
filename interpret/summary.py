"""The summary.json document of `catnet explain`: plain data, built here, written by the command."""

from __future__ import annotations

from dataclasses import asdict
from typing import Mapping, Sequence

import numpy as np

from catcore.modelfile import ModelFile
from interpret.figures import Verdict
from interpret.methods import METHODS, Attribution, Settings
from interpret.quality import Evaluation


def summary_document(model_path: str, model_file: ModelFile, dtype: str, split_name: str, indices: Sequence[int],
                     verdicts: Sequence[Verdict], results: Mapping[str, Attribution], evaluation: Evaluation | None,
                     settings: Settings, seconds: Mapping[str, float]) -> dict:
    """summary.json: settings, then per image and per method the prediction, IG delta and quality figures."""
    per_image = []
    for row, (index, verdict) in enumerate(zip(indices, verdicts)):
        entry = {"split": split_name, "index": index, "label": verdict.label, "probability": verdict.probability,
                 "predicted": verdict.predicted, "correct": verdict.correct, "methods": {}}
        for method, result in results.items():
            numbers = {"attribution_sum": float(result.maps[row].sum())}
            if result.delta is not None:
                numbers["delta"] = float(result.delta[row])
            if result.steps is not None:
                numbers["steps"] = int(result.steps[row])
            if evaluation is not None:
                numbers["deletion_auc"] = float(evaluation.curves[method].deletion_auc[row])
                numbers["insertion_auc"] = float(evaluation.curves[method].insertion_auc[row])
                numbers["spearman_by_stage"] = evaluation.randomisation.spearman[method][:, row]
            entry["methods"][method] = numbers
        if evaluation is not None:
            entry["random_order"] = {"deletion_auc": float(evaluation.random.deletion_auc[row]),
                                     "insertion_auc": float(evaluation.random.insertion_auc[row])}
        per_image.append(entry)
    return {
        "model": model_path,
        "model_info": {"layers": list(model_file.layer_sizes), "flatten": model_file.flatten, **model_file.extra},
        "target": "cat logit; positive attribution = evidence for cat",
        "dtype": dtype,
        "settings": asdict(settings),
        "seconds": dict(seconds),
        "images": {"split": split_name, "count": len(indices),
                   "wrong": [v.name for v in verdicts if not v.correct]},
        "methods": {method: _method_summary(method, result, evaluation) for method, result in results.items()},
        **({"evaluation": _evaluation_summary(evaluation)} if evaluation is not None else {}),
        "per_image": per_image,
    }


def _method_summary(method: str, result: Attribution, evaluation: Evaluation | None) -> dict:
    entry = {"description": METHODS[method].summary, "signed": METHODS[method].signed}
    if result.delta is not None:
        entry["max_abs_delta"] = float(np.abs(result.delta).max())
    if result.steps is not None:
        entry["steps_range"] = [int(result.steps.min()), int(result.steps.max())]
    if evaluation is not None:
        entry["deletion_auc_mean"] = float(evaluation.curves[method].deletion_auc.mean())
        entry["insertion_auc_mean"] = float(evaluation.curves[method].insertion_auc.mean())
        entry["spearman_mean_by_stage"] = evaluation.randomisation.mean(method)
        entry["flagged_by_randomisation"] = method in evaluation.randomisation.flagged
    return entry


def _evaluation_summary(evaluation: Evaluation) -> dict:
    return {
        "deletion_insertion": {
            "explained_class": "the predicted one; deletion sets pixels black, insertion starts from a blurred copy",
            "fractions": evaluation.random.fractions,
            "mean_curves": {method: {"deletion": c.deletion.mean(axis=0), "insertion": c.insertion.mean(axis=0)}
                            for method, c in evaluation.curves.items()},
            "random_order": {"deletion_auc_mean": float(evaluation.random.deletion_auc.mean()),
                             "insertion_auc_mean": float(evaluation.random.insertion_auc.mean()),
                             "deletion": evaluation.random.deletion.mean(axis=0),
                             "insertion": evaluation.random.insertion.mean(axis=0)},
        },
        "randomisation": {
            "stages": list(evaluation.randomisation.stages),
            "statistic": "Spearman rank correlation of |map| (channels summed), trained vs randomised",
            "threshold": evaluation.randomisation.threshold,
            "flagged": list(evaluation.randomisation.flagged),
        },
        "completeness": {
            method: {"max_abs_gap": float(np.abs(c.gap).max()), "attribution_sum": c.attribution_sum,
                     "output_gap": c.output_gap}
            for method, c in evaluation.completeness.items()
        },
    }
