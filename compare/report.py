"""Turning results into tables: cells are built once, then laid out as terminal text or Markdown.

Returns strings and plain dicts only; catnet/commands/compare.py prints and writes them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from compare.environment import Environment
from compare.results import ParityReport, TensorRow, Trajectory

PASS, FAIL = "PASS", "FAIL"


@dataclass
class Block:
    """A titled table with optional lines of text around it; `highlight` is the row of the first divergence."""

    title: str
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    highlight: int | None = None


def num(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return "0" if value == 0 else f"{value:.{digits}e}"


def verdict(passed: bool) -> str:
    return PASS if passed else FAIL


# --- the harness -------------------------------------------------------------------------------------------


def parity_blocks(report: ParityReport) -> list[Block]:
    failure = first_divergence(report)
    blocks = [_header(report)]
    for number, section in enumerate(report.sections, start=1):
        blocks.append(_tensor_block(f"{number}. {section.title} — {verdict(section.passed)}", section.rows,
                                    failure[1] if failure and failure[0] == section.key else None))
    blocks += _trajectory_blocks("4.", report.trajectory)
    blocks.append(_gradcheck_block(report))
    if report.span is not None:
        blocks += _trajectory_blocks("6.", report.span)
    return blocks


def _header(report: ParityReport) -> Block:
    env, run, policy = report.environment, report.settings.config, report.policy
    lines = [_environment_line(env)] if env is not None else []
    lines += [
        f"run: layers {','.join(map(str, run.layers))} | init {run.init} seed {run.seed} | lr {run.learning_rate} | "
        f"{run.iterations} iterations | first layer {report.settings.first_layer_resolved} (asked: {run.first_layer})",
        f"policy: {policy.name} — step <= {policy.step}, trajectory "
        f"{'<= ' + num(policy.trajectory.normwise, 0) if math.isfinite(policy.trajectory.normwise) else 'reported'}, "
        f"gradient check <= {num(policy.gradcheck.normwise, 0)} (normwise relative)"
        + (f", twins' errors vs float64 within {policy.balance:g}x, accuracies within {policy.accuracy_slack} example"
           if policy.oracle else ""),
    ]
    if policy.note:
        lines.append(policy.note)
    return Block("catnet compare — the NumPy reference against the torch twin", before=lines)


def _environment_line(env: Environment) -> str:
    return (f"NumPy {env.numpy} ({env.numpy_blas}) | torch {env.torch} ({env.torch_blas}) | "
            f"device {env.device}{' ' + env.cuda_device if env.cuda_device else ''} | {env.dtype} | "
            f"torch threads {env.torch_threads} of {env.cpu_count} CPUs | TF32 {'on' if env.allow_tf32 else 'off'} | "
            f"deterministic {'on' if env.deterministic else 'off'}")


def _tensor_block(title: str, rows: tuple[TensorRow, ...], highlight: int | None) -> Block:
    if not rows:
        return Block(title, before=["(nothing to compare: the run is shorter than the first checkpoint)"])
    oracle = len(rows[0].checks) == 3
    step = rows[0].step is not None
    headers = (["after step"] if step else []) + ["tensor", "shape", "dtype"]
    if oracle:
        headers += ["numpy vs f64", "torch vs f64", "balance", "torch vs numpy"]
    headers += ["max abs", "max rel", "normwise", "max ULP", "mismatched", "tol", "verdict"]
    cells = []
    for row in rows:
        worst = row.worst
        line = ([str(row.step)] if step else []) + [row.name, str(worst.shape), worst.dtype]
        if oracle:
            judged = "" if row.balance_limit is not None else " (reported)"
            line += [num(c.normwise) for c in row.checks[:2]] + [f"{row.balance:.2f}{judged}", num(row.checks[2].normwise)]
        line += [num(worst.max_abs), num(worst.max_rel), num(worst.normwise),
                 "-" if worst.max_ulp is None else str(worst.max_ulp),
                 "-" if worst.mismatched is None else f"{worst.mismatched}/{worst.total}",
                 str(worst.tolerance), verdict(row.passed) + (f" ({worst.problem})" if worst.problem else "")]
        cells.append(line)
    return Block(title, headers, cells, highlight=highlight)


def _trajectory_blocks(number: str, trajectory: Trajectory) -> list[Block]:
    steps = trajectory.pairs[0].steps
    title = f"{number} {trajectory.title} ({steps} steps, first layer {trajectory.first_layer}) — {verdict(trajectory.passed)}"
    headers = ["pair", "max Δθ (step)", "final Δθ", "max Δcost/cost"] + [f"> {t:.0e}" for t, _ in trajectory.pairs[0].first_past]
    headers += ["ReLU patterns first differ", "tol", "verdict"]
    rows = []
    for pair in trajectory.pairs:
        relu = "never"
        if pair.first_relu is not None:
            r = pair.first_relu
            relu = f"step {r.step}: {r.units} unit(s) {list(r.per_layer)}, {r.entries} entries; {pair.relu_units_final} at the end"
        rows.append([pair.label, f"{num(pair.max_param_diff)} ({pair.max_param_step})", num(pair.final_param_diff),
                     num(pair.max_cost_rel)] + [f"step {s}" if s else "never" for _, s in pair.first_past]
                    + [relu, num(pair.tolerance, 0) if pair.tolerance is not None else "reported",
                       verdict(pair.passed) if pair.tolerance is not None else "-"])
    every = "each step" if trajectory.stride == 1 else (
        f"every {trajectory.stride}th step (a primal run's W1 costs a training step to compare; costs: every step)")
    notes = [f"Δθ = ||θ_a − θ_b|| / ||θ_b|| over all parameters after {every}; "
             "ReLU patterns are each hidden unit's on/off state on every training example"]
    if trajectory.balance_max is not None:
        notes.append(f"error balance over the run (larger float32 error vs float64 over the smaller): "
                     f"max {trajectory.balance_max:.2f} at step {trajectory.balance_step} (reported)")
    outcome_rows = [[o.name, o.first_layer, repr(o.final_cost), f"{o.train_correct}/{o.train_total}",
                     f"{o.test_correct}/{o.test_total}", f"{o.seconds:.2f}"] for o in trajectory.outcomes]
    predictions = []
    for a in trajectory.agreements:
        rule = "reported" if a.slack is None else ("must be 0" if a.slack == 0 else f"accuracies within {a.slack}")
        predictions.append(f"predictions {a.other} vs {a.reference}: {a.train_disagree} train and {a.test_disagree} "
                           f"test differ, correct answers {a.train_gap:+d} train, {a.test_gap:+d} test"
                           + (f" — {verdict(a.passed)}" if a.slack is not None else "") + f" ({rule})")
    return [
        Block(title, headers, rows, after=notes),
        Block("", ["run", "first layer", "final cost", "train", "test", "seconds"], outcome_rows, after=predictions),
    ]


def _gradcheck_block(report: ParityReport) -> Block:
    g = report.gradcheck
    title = (f"5. Finite-difference gradient check of the NumPy backprop (float64, eps {g.epsilon:g}, "
             f"{g.per_tensor} coordinates per tensor, seed {g.seed}) — {verdict(g.passed)}")
    rows = [[c.name, str(c.shape), str(c.checked), str(c.skipped), num(c.difference) if c.checked else "-",
             num(c.max_abs) if c.checked else "-", num(c.tolerance, 0),
             verdict(c.passed) if c.checked else "SKIPPED (every sample on a kink)"] for c in g.checks]
    headers = ["tensor", "shape", "checked", "skipped (ReLU kink)", "||g−g̃||/(||g||+||g̃||)", "max |g−g̃|", "tol", "verdict"]
    return Block(title, headers, rows)


def first_divergence(report: ParityReport) -> tuple[str, int | None, str] | None:
    """(section key, row index or None, one line) for the first thing that fails, in report order."""
    for section in report.sections:
        for index, row in enumerate(section.rows):
            if not row.passed:
                worst = row.worst
                where = f" after step {row.step}" if row.step is not None else ""
                detail = worst.problem or f"normwise {num(worst.normwise)}, max rel {num(worst.max_rel)}"
                if row.balance is not None and row.balance_limit is not None and row.balance > row.balance_limit:
                    detail += f", balance {row.balance:.2f} > {row.balance_limit:g}"
                return section.key, index, f"{section.title}: {row.name}{where} differs: {detail} (tol {worst.tolerance})"
    trajectories = [report.trajectory] + ([report.span] if report.span is not None else [])
    for trajectory in trajectories:
        for pair in trajectory.pairs:
            if not pair.passed:
                over = np.flatnonzero(np.nan_to_num(pair.param_diff) > pair.tolerance)
                first = f", first past it after step {over[0] + 1}" if over.size else ""
                return trajectory.key, None, (f"{trajectory.title}: {pair.label}: Δθ up to {num(pair.max_param_diff)} "
                                              f"(step {pair.max_param_step}), Δcost/cost up to {num(pair.max_cost_rel)}; "
                                              f"tol {num(pair.tolerance, 0)}{first}")
        for a in trajectory.agreements:
            if not a.passed:
                return trajectory.key, None, (f"{trajectory.title}: {a.other} and {a.reference} disagree on "
                                              f"{a.train_disagree} train / {a.test_disagree} test predictions")
    for check in report.gradcheck.checks:
        if not check.passed:
            return "gradcheck", None, f"gradient check: {check.name} relative difference {num(check.difference)} > {num(check.tolerance, 0)}"
    return None


def parity_summary(report: ParityReport) -> str:
    if not report.policy.judged:
        return f"FAST MODE ({report.policy.name}): figures reported, parity not judged ({report.seconds:.1f} s)"
    if report.passed:
        return f"PARITY HOLDS under the {report.policy.name} policy ({report.seconds:.1f} s)"
    return f"PARITY FAILS: {first_divergence(report)[2]} ({report.seconds:.1f} s)"


def parity_document(report: ParityReport) -> dict:
    """Everything, for --json."""
    failure = first_divergence(report)
    return {
        "passed": report.passed,
        "judged": report.policy.judged,
        "summary": parity_summary(report),
        "first_divergence": failure[2] if failure else None,
        "seconds": report.seconds,
        "environment": asdict(report.environment) if report.environment is not None else {},
        "settings": report.settings.plain(),
        "policy": asdict(report.policy),
        **{section.key: asdict(section) for section in report.sections},
        "trajectory": asdict(report.trajectory),
        "gradcheck": asdict(report.gradcheck),
        "span_check": asdict(report.span) if report.span is not None else None,
    }


# --- layout --------------------------------------------------------------------------------------------------


def render_text(blocks: list[Block], summary: str, color: bool = False) -> str:
    bold_red = ("\033[1;31m", "\033[0m") if color else ("", "")
    out = []
    for block in blocks:
        if block.title:
            out += ["", block.title]
        out += [f"  {line}" for line in block.before]
        if block.headers:
            widths = [max(len(str(x)) for x in column) for column in zip(block.headers, *block.rows)]
            layout = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
            out.append("   " + layout(block.headers))
            for index, row in enumerate(block.rows):
                if index == block.highlight:
                    out.append(f"{bold_red[0]}>> {layout(row)}  <- first divergence{bold_red[1]}")
                else:
                    out.append("   " + layout(row))
        out += [f"  {line}" for line in block.after]
    out += ["", summary]
    return "\n".join(out) + "\n"


def render_markdown(blocks: list[Block], summary: str) -> str:
    out = []
    for block in blocks:
        if block.title:
            out += [f"### {block.title}", ""]
        out += [f"{line}  " for line in block.before] + ([""] if block.before else [])
        if block.headers:
            cell = lambda text: str(text).replace("|", "\\|").replace("\n", " ")  # noqa: E731  (norms use |)
            out.append("| " + " | ".join(cell(h) for h in block.headers) + " |")
            out.append("|" + "---|" * len(block.headers))
            for index, row in enumerate(block.rows):
                cells = [f"**{cell(c)}**" if index == block.highlight else cell(c) for c in row]
                out.append("| " + " | ".join(cells) + " |")
            out.append("")
        out += [f"{line}  " for line in block.after] + ([""] if block.after else [])
    out += [f"**{summary}**", ""]
    return "\n".join(out)
