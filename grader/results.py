"""What grading found, as data: statuses, failures, check and exercise results.

Trusted side. Nothing here builds a sentence: ``feedback/`` renders these
objects for the terminal, for Gradescope's results.json and for Markdown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Status(Enum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"  # the grader itself could not run the check (a course bug)


class Kind(Enum):
    """Why a check failed; each has an English and a Korean message."""

    MISSING_FILE = "missing-file"
    UNSAFE_FILE = "unsafe-file"
    NOT_A_NOTEBOOK = "not-a-notebook"
    IMPORT_ERROR = "import-error"
    SYNTAX_ERROR = "syntax-error"
    MISSING_FUNCTION = "missing-function"
    NOT_IMPLEMENTED = "not-implemented"
    RAISED = "raised"
    TIMEOUT = "timeout"
    EXERCISE_TIME = "exercise-time"
    CRASHED = "crashed"
    MEMORY_LIMIT = "memory-limit"
    OUTPUT_LIMIT = "output-limit"
    DISK_LIMIT = "disk-limit"
    MALFORMED = "malformed"
    GAVE_UP = "gave-up"
    NOT_A_TENSOR = "not-a-tensor"
    TENSOR_SUBCLASS = "tensor-subclass"
    WRONG_STRUCTURE = "wrong-structure"
    WRONG_DTYPE = "wrong-dtype"
    WRONG_SHAPE = "wrong-shape"
    WRONG_DEVICE = "wrong-device"
    WRONG_LAYOUT = "wrong-layout"
    WRONG_VALUE = "wrong-value"
    NON_FINITE = "non-finite"
    OUT_OF_RANGE = "out-of-range"
    MODIFIED_INPUT = "modified-input"
    NOT_DIFFERENTIABLE = "not-differentiable"
    WRONG_GRADIENT = "wrong-gradient"
    NO_VALUE_ERROR = "no-value-error"
    FORBIDDEN_CALL = "forbidden-call"
    INCONSISTENT = "inconsistent"
    GRADER_ERROR = "grader-error"


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The numbers pytest.approx prints, kept as numbers."""

    index: tuple[int, ...]
    """The worst element: where obtained and expected differ most."""
    obtained: float
    expected: float
    max_abs_diff: float
    max_rel_diff: float
    mismatched: int
    """How many elements are off ..."""
    total: int
    """... out of how many."""
    atol: float
    rtol: float


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed check: what went wrong, on which (shrunk) input."""

    kind: Kind
    detail: dict[str, str] = field(default_factory=dict)
    """Values for the message template (types, shapes, names), already as text."""
    call: str = ""
    """The call as Python source, e.g. ``forget_gate(h_prev, x_t, W_f, b_f)``."""
    inputs: tuple[tuple[str, str], ...] = ()
    """(name, Python literal) for each argument of the shrunk input."""
    mismatch: Mismatch | None = None
    output: str = ""
    """What the student's code printed, trimmed (shown escaped)."""
    suspected_mistake: str | None = None
    """The id of the known mistake that reproduces the student's output."""
    replay: str = ""
    """A token for ``grade exercise-NN --replay``: this check on this input, again."""
    pattern: dict[str, str] | None = None
    """When no known mistake fits: how the output relates to the reference's (``checks.patterns``)."""
    behaviour: str = ""
    """A digest of the student's values on the inputs every submission meets, when no known mistake
    explains them (``diagnose.signature``): equal for two students whose wrong values are bit-identical."""
    origin: str = "shrunk"
    """Where the input comes from: ``shrunk`` (the smallest hypothesis found), ``bank`` (the smallest
    failing input of a release's bank, not shrunk) or ``replay`` (the input a token held)."""


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A line of a notebook's code cell that was not graded, and why
    (``magic``, ``shell``, ``help``: IPython only; ``unparsable``: not Python)."""

    cell: int
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    """Stable English name, e.g. ``forget_gate: matches the reference (float32)``."""
    kind: str
    """The check's kind (``matches-reference``, ...): the key of its localized title."""
    function: str
    variant: str
    """What the check is about beyond its kind: a dtype, an edge case, a rule (English)."""
    status: Status
    score: float
    max_score: float
    examples: int = 0
    """How many inputs were tried."""
    failure: Failure | None = None
    variant_ko: str = ""
    """The variant in Korean, when it has words."""
    same_cause_as: str = ""
    """The name of an earlier check whose failure has the same root cause (a crash, a stub, a wrong
    dtype...): that failure is explained once, there, and this check says only that."""
    credited: bool = True
    """False when the check held but earns nothing yet: a check that does not compare values
    pays only once the function's values match the reference (see ``engine.GUARD_KINDS``)."""
    withheld_for: str = ""
    """Why ``credited`` is False: ``values-first`` (the function's values never matched) or
    ``forbidden-call`` (a built-in the exercise forbids did the work)."""


@dataclass(frozen=True, slots=True)
class ExerciseResult:
    exercise: str
    title: str
    file: str
    checks: tuple[CheckResult, ...]
    seconds: float
    problem: Failure | None = None
    """Set when the file could not be run at all (missing, syntax error...)."""
    student: str = ""
    device: str = "cpu"
    """Where the student's functions got their inputs."""
    digest: str = ""
    """What identifies the graded file's content (``gradebook.file_digest``)."""
    sandbox: str = ""
    """The confinement tier the student's code ran under (``confine.TIERS``; "trusted" for references)."""
    given_file: str = ""
    """The file as the student named it with ``--file`` (so a replay command names it too); "" otherwise."""
    left_out: tuple[LeftOut, ...] = ()
    """A notebook's lines that were not graded (magics, shell escapes): the feedback says so."""

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 6)

    @property
    def passed(self) -> bool:
        return self.problem is None and all(c.status is Status.PASSED for c in self.checks)


# --- as plain data (the gradebook stores results as JSON) -------------------------------


def to_data(result: ExerciseResult) -> dict[str, Any]:
    """``result`` as JSON-ready data; ``from_data`` rebuilds it exactly."""
    data: dict[str, Any] = plain(asdict(result))
    return data


def plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def from_data(data: dict[str, Any]) -> ExerciseResult:
    checks = tuple(CheckResult(**{**c, "status": Status(c["status"]), "failure": _failure(c["failure"])})
                   for c in data["checks"])
    left_out = tuple(LeftOut(**x) for x in data.get("left_out", ()))
    problem = _failure(data["problem"])
    return ExerciseResult(**{**data, "checks": checks, "problem": problem, "left_out": left_out})


def _failure(data: dict[str, Any] | None) -> Failure | None:
    if data is None:
        return None
    mismatch = data["mismatch"]
    return Failure(**{
        **data, "kind": Kind(data["kind"]),
        "inputs": tuple(tuple(pair) for pair in data["inputs"]),
        "mismatch": None if mismatch is None else Mismatch(**{**mismatch, "index": tuple(mismatch["index"])}),
    })
