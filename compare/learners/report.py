"""The learner check laid out: one file's tables, one line per file of a class, CSV rows and JSON documents.

Returns strings, Blocks and plain dicts; catnet/commands/compare.py prints and writes them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict

from compare.environment import Environment
from compare.learners.conventions import INIT_NAMES
from compare.learners.protocol import GRADED, TRAINING
from compare.learners.verdict import NOT_FOUND, LearnerReport
from compare.report import Block, num, verdict

NOTHING = "NOTHING TO CHECK"
CSV_COLUMNS = ("path", "verdict", "counted", "first_divergence", "mistake", "assignment", "release", "dA_keys",
               "initialisation", "returns", "seconds") + GRADED[:10] + (TRAINING,) + GRADED[10:]


def file_verdict(report: LearnerReport, counted: bool = True) -> str:
    if not counted and not report.passed:
        return NOTHING
    return report.verdict


def learner_blocks(report: LearnerReport, environment: Environment) -> list[Block]:
    """One file, in full: what was read and skipped, the conventions found, every function, the differing tensors."""
    header = Block(
        f"catnet compare --against {report.path} — its graded functions against the torch twin",
        before=[f"NumPy {environment.numpy} | torch {environment.torch} | device {environment.device} | float64 "
                f"| tolerance {num(report.step_tolerance.normwise, 0)} normwise per tensor, "
                f"{num(report.training_tolerance.normwise, 0)} over {report.training_steps} training steps "
                f"| {report.timeout:g} s per function, in a child process"],
    )
    if report.problem is not None:
        header.after.append(f"the file {report.problem}")
        return [header]
    header.before += about(report)
    rows, first = [], None
    for index, check in enumerate(report.checks):
        name = f"{TRAINING} ({report.training_steps} steps)" if check.function == TRAINING else check.function
        rows.append([name, check.status, check.detail])
        if first is None and check.failed:
            first = index
    blocks = [header, Block("", ["function", "status", "detail"], rows, highlight=first)]
    for check in report.checks:
        if check.failed and check.comparisons:
            blocks.append(tensor_block(check))
    return blocks


def about(report: LearnerReport) -> list[str]:
    """The lines above the table: how the file was read, which course it follows, what catnet supplied."""
    lines = []
    if report.kind == "notebook" or report.skipped:
        kinds = Counter(s.category for s in report.skipped)
        listed = ", ".join(f"{count} {category}" for category, count in kinds.most_common())
        lines.append(f"read as a {'notebook' if report.kind == 'notebook' else 'Python file'}: imports, definitions "
                     f"and constants kept" + (f"; {len(report.skipped)} top-level statements skipped ({listed})"
                                              if report.skipped else ""))
    for cell in report.broken:
        lines.append(f"{cell.label} does not parse ({cell.error}) and was left out")
    if report.context is not None:
        context = report.context
        course = context.assignment + (f", release {context.release}" if context.release else "")
        init = (f"initialize_parameters_deep must follow {INIT_NAMES[context.expected_init]}: {context.reason}"
                if context.expected_init else "either initialisation convention is accepted: " + context.reason)
        lines.append(f"course: {course}; {init}")
    for function, text in report.found().items():
        if function.startswith("initialize"):
            lines.append(f"found: {function} follows {text} initialisation")
        elif function == "L_model_backward":
            lines.append(f"found: {function} keys its dA as {text}")
        else:
            lines.append(f"found: {function} {text}")
    lines += [f"note: {note}" for note in report.notes]
    return lines


def tensor_block(check) -> Block:
    rows = [[c.name, str(c.shape) if c.shape or c.dtype != "-" else "-", c.dtype, num(c.max_abs), num(c.max_rel),
             num(c.normwise), "-" if c.max_ulp is None else str(c.max_ulp),
             "-" if c.mismatched is None else f"{c.mismatched}/{c.total}",
             verdict(c.passed) + (f" ({c.problem})" if c.problem else "")] for c in check.comparisons]
    first = next((i for i, c in enumerate(check.comparisons) if not c.passed), None)
    return Block(f"{check.function}, tensor by tensor", ["tensor", "shape", "dtype", "max abs", "max rel", "normwise",
                                                          "max ULP", "mismatched", "verdict"], rows, highlight=first)


def summary(report: LearnerReport) -> str:
    if report.passed:
        names = ", ".join(c.function for c in report.checked)
        return f"AGREES: every graded function in the file agrees with the torch twin ({names})"
    return f"DIFFERS: {report.first_failure}"


def file_line(report: LearnerReport, counted: bool = True) -> str:
    """One line for a file of a class: its verdict, its path, and what differs or how much agrees."""
    label = file_verdict(report, counted)
    if report.passed:
        count = len(report.checked)
        said = f"{count} graded function{'s agree' if count != 1 else ' agrees'}"
    elif label == NOTHING:
        said = f"{report.first_failure} (not counted)"
    else:
        said = report.first_failure
    return f"{label:<16} {report.path}  {said}"


def class_summary(reports: list[tuple[LearnerReport, bool]], seconds: float, jobs: str) -> str:
    counted = [r for r, c in reports if c]
    agree = sum(r.passed for r in counted)
    nothing = len(reports) - len(counted)
    text = f"{len(reports)} files: {agree} agree, {len(counted) - agree} differ"
    if nothing:
        text += f", {nothing} with no graded function (not counted)"
    return f"{'ALL AGREE' if agree == len(counted) else 'DIFFERS'}: {text} ({seconds:.1f} s, {jobs})"


def class_block(reports: list[tuple[LearnerReport, bool]]) -> Block:
    rows = [[file_verdict(r, c), r.path, (r.first_failure or "") if not r.passed else f"{len(r.checked)} agree"]
            for r, c in reports]
    return Block("catnet compare --against, file by file", ["verdict", "file", "first divergence"], rows)


def csv_row(report: LearnerReport, counted: bool) -> dict[str, str]:
    failed = report.first_failed
    context = report.context
    found = report.found()
    row = {
        "path": report.path, "verdict": file_verdict(report, counted), "counted": "yes" if counted else "no",
        "first_divergence": report.first_failure or "", "mistake": (failed.mistake_title or "") if failed else "",
        "assignment": context.assignment if context else "", "release": context.release if context else "",
        "dA_keys": found.get("L_model_backward", ""), "initialisation": found.get("initialize_parameters_deep", ""),
        "returns": found.get("L_layer_model", found.get("two_layer_model", "")), "seconds": f"{report.seconds:.2f}",
    }
    row.update({check.function: check.status for check in report.checks})
    return {column: row.get(column, "") for column in CSV_COLUMNS}


def file_document(report: LearnerReport, counted: bool) -> dict:
    failed = report.first_failed
    return {
        "path": report.path, "kind": report.kind, "verdict": file_verdict(report, counted), "passed": report.passed,
        "counted": counted, "summary": summary(report), "first_failure": report.first_failure,
        "mistake": failed.mistake if failed else None, "mistake_title": failed.mistake_title if failed else None,
        "problem": report.problem, "context": asdict(report.context) if report.context else None,
        "found": report.found(), "notes": list(report.notes),
        "skipped": [asdict(s) for s in report.skipped], "broken": [asdict(b) for b in report.broken],
        "functions": [{"function": c.function, "status": c.status, "detail": c.detail, "mistake": c.mistake,
                       "mistake_title": c.mistake_title, "found": c.found,
                       "tensors": [asdict(t) for t in c.comparisons]} for c in report.checks],
        "not_found": {c.function: c.detail for c in report.checks if c.status == NOT_FOUND},
        "tolerance": {"step": asdict(report.step_tolerance), "training": asdict(report.training_tolerance)},
        "training_steps": report.training_steps, "timeout_seconds": report.timeout, "seconds": report.seconds,
    }


def class_document(reports: list[tuple[LearnerReport, bool]], environment: Environment, settings: dict) -> dict:
    counted = [r for r, c in reports if c]
    return {"passed": all(r.passed for r in counted), "files": [file_document(r, c) for r, c in reports],
            "counts": {"files": len(reports), "agree": sum(r.passed for r in counted),
                       "differ": sum(not r.passed for r in counted), "not_counted": len(reports) - len(counted)},
            "environment": asdict(environment), "settings": settings}
