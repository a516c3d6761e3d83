"""Which assignment and course release a file follows, from what it imports and defines (never from running it).

The course changed between releases in ways a correct file shows: the dA
keys of L_model_backward (dA1..dAL up to v5 and in dnn_app_utils_v2,
dA0..dA(L-1) from v6 and in dnn_app_utils_v3), the return of the training
loops (parameters up to v8, (parameters, costs) from 2021), and the two
notebooks initialise differently. The first two are read off what the
file's functions return (judge.py); this module says which assignment and
release the file looks like, and which initialisation it must therefore
follow, if any.
"""

from __future__ import annotations

from dataclasses import dataclass

from compare.learners import protocol as p
from compare.learners.course import APPLICATION_INIT, STEP_BY_STEP_INIT, TWO_LAYER_INIT
from compare.learners.source import LearnerSource

STEP_BY_STEP_ID, APPLICATION_ID = "c4HO0", "TSPse"  # the notebooks' metadata.coursera.graded_item_id
INIT_NAMES = {APPLICATION_INIT: "the Application helpers' (seed 1, randn / sqrt(n_prev))",
              STEP_BY_STEP_INIT: "the Step-by-Step notebook's (seed 3, randn * 0.01)",
              TWO_LAYER_INIT: "the course's two-layer (seed 1, randn * 0.01)"}
DA_KEY_NAMES = {p.OLD_KEYS: "dA1..dAL (releases up to v5, dnn_app_utils_v2)",
                p.NEW_KEYS: "dA0..dA(L-1) (v6 and later, dnn_app_utils_v3)"}
RETURN_NAMES = {"parameters": "parameters (releases up to v8)", "pair": "(parameters, costs) (the 2021+ release)"}

_RELEASES = (  # (module imported, release) in the order that decides
    ("testCases_v4a", "v8a"),
    ("testCases_v4", "v8"),
    ("testCases_v3", "v5-v7"),
    ("testCases_v2", "v3"),
    ("dnn_app_utils_v2", "v3-v7"),
)


@dataclass(frozen=True)
class Context:
    """What a file is, read from its source."""

    assignment: str  # protocol.STEP_BY_STEP, APPLICATION, or both joined with " and "
    release: str  # "v8a (imports testCases_v4a)", or "" when nothing tells
    expected_init: tuple[int, str] | None  # the deep initialisation it must follow, None when either will do
    reason: str  # why that initialisation ("it trains L_layer_model", ...)


def context_of(source: LearnerSource) -> Context:
    imports, defines = set(source.imports), set(source.defines)
    item = source.metadata.graded_item_id
    application = bool(defines & set(p.APPLICATION_FUNCTIONS)) or item == APPLICATION_ID or bool(
        imports & set(p.APPLICATION_HELPERS))
    step_by_step = bool(defines & set(p.STEP_BY_STEP_FUNCTIONS[2:])) or item == STEP_BY_STEP_ID or any(
        p.is_test_module(name) for name in imports) and not application
    assignment = " and ".join(name for name, found in ((p.STEP_BY_STEP, step_by_step), (p.APPLICATION, application))
                              if found) or p.STEP_BY_STEP
    if "L_layer_model" in defines:
        expected, reason = APPLICATION_INIT, "its L_layer_model trains from it, as the Application notebook does"
    elif item == APPLICATION_ID or (application and not step_by_step):
        expected, reason = APPLICATION_INIT, "it is the Application notebook"
    elif item == STEP_BY_STEP_ID or any(p.is_test_module(name) for name in imports):
        expected, reason = STEP_BY_STEP_INIT, "it is the Step-by-Step notebook (it imports the course's test cases)"
    else:
        expected, reason = None, "nothing in the file says which notebook it is"
    return Context(assignment, _release(source, imports), expected, reason)


def _release(source: LearnerSource, imports: set[str]) -> str:
    if "public_tests" in imports or source.metadata.version_marker:
        marker = f" v{source.metadata.version_marker}" if source.metadata.version_marker else ""
        return f"2021+{marker} (imports public_tests)" if "public_tests" in imports else f"2021+{marker}"
    for module, release in _RELEASES:
        if module in imports:
            return f"{release} (imports {module})"
    if "dnn_app_utils_v3" in imports:
        return "v8 (imports dnn_app_utils_v3)"
    if imports & {"testCases", "dnn_utils", "dnn_app_utils"}:
        names = ", ".join(sorted(imports & {"testCases", "dnn_utils", "dnn_app_utils"}))
        return f"the first release, 2017 (imports {names})"
    return ""
