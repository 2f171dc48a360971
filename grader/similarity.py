"""Which students' files are alike: leads for a human to look at, never a verdict.

Trusted side. Two kinds of evidence, per exercise:

- **Code.** copydetect's winnowing (the MOSS algorithm) over each file's tokens,
  with names, comments and strings normalized away, so renamed variables,
  reordered functions and new comments do not hide a copy. What the course
  gave (the stub) is base code and never counts, and neither does a passage
  that many files share (the one natural way to write a line, as MOSS's ``-m``).
- **Behaviour.** A failure no known mistake explains carries a signature of the
  student's values on the inputs every submission meets (``diagnose.signature``).
  Two students whose wrong values are bit-identical there are rare by chance;
  many students sharing one are a common mistake the course does not name yet.

Results are data (``Similarity``); ``feedback/class_report`` and the terminal render them.
"""

from __future__ import annotations

import importlib
import io
import itertools
import sys
import types
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from grader.course import Course
from grader.errors import UsageError
from grader.results import ExerciseResult, Failure, plain

NOISE = 25
"""copydetect's k: matches shorter than this many normalized characters are noise."""
WINDOW = 1
"""Winnowing's window: 1 keeps every k-gram (copydetect's default). A wider one keeps each window's
smallest hash, which depends on Python's per-process string hashing: shares would vary by run."""
THRESHOLD = 0.5
"""A pair is listed when at least this share of one file's code is found in the other."""
MIN_OVERLAP = 100
"""...and the matched passages add up to at least this many normalized characters: two one-line
answers that agree are what a short exercise asks for, not a lead."""
COMMON_FILES = 10
"""A passage found in more files than this is the usual way to write it, not a lead (MOSS's -m)."""
RARE_GROUP = 3
"""Students sharing one unexplained wrong output: up to this many is a lead; more, a common mistake."""
MOST_PAIRS = 20
"""Code matches listed per exercise, most alike first."""


@dataclass(frozen=True, slots=True)
class CodeMatch:
    """Two files of one exercise whose code is alike."""

    exercise: str
    students: tuple[str, str]
    shares: tuple[float, float]
    """For each file: the share of its (non-stub) code found in the other."""
    regions: tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]
    """For each file: the matched passages, as (start, end) character offsets in its source."""

    @property
    def share(self) -> float:
        return max(self.shares)


@dataclass(frozen=True, slots=True)
class SharedOutput:
    """Students whose wrong values on one exercise are bit-identical, and no known mistake explains them."""

    exercise: str
    students: tuple[str, ...]
    checks: tuple[str, ...]
    """The checks on which their values are identical."""
    failure: Failure
    """One of them's failure (the others' are the same): the input, the expected and obtained values."""

    @property
    def common(self) -> bool:
        """Shared by more students than a coincidence explains: a mistake for the course to name."""
        return len(self.students) > RARE_GROUP


@dataclass(slots=True)
class Similarity:
    code: list[CodeMatch] = field(default_factory=list)
    behaviour: list[SharedOutput] = field(default_factory=list)
    sources: dict[tuple[str, str], str] = field(default_factory=dict)
    """(student, exercise) -> the file's text, for each file a lead names (shown side by side)."""
    code_checked: bool = True
    """False when copydetect is not installed (only behaviour was compared)."""

    def pairs(self, exercise: str) -> list[tuple[str, ...]]:
        """Every group of students listed for ``exercise``, code and behaviour."""
        return ([m.students for m in self.code if m.exercise == exercise]
                + [s.students for s in self.behaviour if s.exercise == exercise])


def find(course: Course, files: Mapping[str, Mapping[str, str]], results: Iterable[ExerciseResult],
         threshold: float = THRESHOLD, require_code: bool = False) -> Similarity:
    """Leads for every exercise: ``files`` is exercise -> student -> source text.

    ``require_code``: fail with one line when copydetect is missing, instead of comparing behaviour only.
    """
    found = Similarity(behaviour=shared_outputs(results))
    try:
        _copydetect()
    except ImportError:
        if require_code:
            raise UsageError("grade similarity needs copydetect: pip install 'seqgrade[class]'") from None
        found.code_checked = False
    else:
        for entry in course.exercises:
            stub = course.student_file(entry)
            base = stub.read_text(encoding="utf-8", errors="replace") if stub.is_file() else ""
            found.code += code_matches(entry.id, base, files.get(entry.id, {}), threshold)
    leads: list[CodeMatch | SharedOutput] = [*found.code, *found.behaviour]
    for lead in leads:
        for student in lead.students:
            text = files.get(lead.exercise, {}).get(student)
            if text is not None:
                found.sources[student, lead.exercise] = text
    return found


def code_matches(exercise: str, stub: str, files: Mapping[str, str],
                 threshold: float = THRESHOLD) -> list[CodeMatch]:
    """The pairs of ``files`` (student -> source) alike beyond ``threshold``, most alike first."""
    if len(files) < 2:
        return []
    base = set(_fingerprint(stub).hashes)  # every k-gram of the stub: none of it counts
    made: dict[str, Any] = {}  # by text: files left as the stub, or copied whole, are tokenized once
    prints = {}
    for student, text in sorted(files.items()):
        if text not in made:
            made[text] = _fingerprint(text, base)
        prints[student] = made[text]
    seen: defaultdict[int, int] = defaultdict(int)
    for p in prints.values():  # per file, not per text: a passage in many files is common
        for h in p.hashes:
            seen[h] += 1
    common = {h for h, n in seen.items() if n > COMMON_FILES}
    if common:  # dropped from the fingerprints already made: no file is tokenized twice
        for p in made.values():
            _without(p, common)
    compare_files = _copydetect().compare_files
    matches = []
    for a, b in itertools.combinations(prints, 2):
        overlap, shares, slices = compare_files(prints[a], prints[b])
        if overlap >= MIN_OVERLAP and max(shares) >= threshold:
            regions = tuple(tuple((int(s), int(e)) for s, e in zip(*part, strict=True)) for part in slices)
            matches.append(CodeMatch(exercise, (a, b), (float(shares[0]), float(shares[1])),
                                     (regions[0], regions[1])))
    return sorted(matches, key=lambda m: (-m.share, m.students))[:MOST_PAIRS]


def _fingerprint(text: str, base: set[int] | None = None) -> Any:
    """copydetect's fingerprint of Python source ``text``, without the hashes in ``base``.

    ``base`` is removed here rather than passed as copydetect's ``boilerplate``: that path
    intersects with ``assume_unique`` on hashes that repeat, and so also drops a passage
    a file repeats, stub or not.
    """
    fingerprint = _copydetect().CodeFingerprint
    found = fingerprint("submission.py", NOISE, WINDOW, language="python", fp=io.StringIO(text))
    return _without(found, base) if base else found


def _without(found: Any, drop: set[int]) -> Any:
    """``found`` with the hashes in ``drop`` removed, and its token coverage counted again."""
    from copydetect.utils import get_token_coverage  # imported by _copydetect

    found.hashes = found.hashes - drop
    found.hash_idx = {h: at for h, at in found.hash_idx.items() if h not in drop}
    found.token_coverage = get_token_coverage(found.hash_idx, NOISE, len(found.filtered_code))
    return found


class _OnUse(types.ModuleType):
    """A module's stand-in that imports the real one when an attribute is asked for."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(importlib.import_module(self.__name__), name)


def _copydetect() -> Any:
    """copydetect, without the ``matplotlib.pyplot`` it imports at its top for an HTML report never
    made here: 0.24 of its 0.31 s, paid by every class run. copydetect keeps a stand-in that imports
    the real one if ever used; the stand-ins leave ``sys.modules`` at once, so nothing else sees them."""
    if "copydetect" in sys.modules:
        return sys.modules["copydetect"]
    names = ("matplotlib", "matplotlib.pyplot")
    stand_ins = {name: _OnUse(name) for name in names if name not in sys.modules}
    if len(stand_ins) == 2:  # ``import matplotlib.pyplot as plt`` takes the package's attribute
        vars(stand_ins["matplotlib"])["pyplot"] = stand_ins["matplotlib.pyplot"]
    sys.modules.update(stand_ins)
    try:
        import copydetect
        import copydetect.utils  # noqa: F401
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
    return copydetect


def shared_outputs(results: Iterable[ExerciseResult]) -> list[SharedOutput]:
    """Groups of students whose unexplained wrong values are bit-identical, per exercise.

    Students are grouped by the signatures of all their failing checks together,
    so a group shares every one; the rarest groups (pairs) come first.
    """
    signed: dict[tuple[str, tuple[tuple[str, str], ...]], list[ExerciseResult]] = defaultdict(list)
    for r in results:
        marks = tuple(sorted((c.name, c.failure.behaviour) for c in r.checks
                             if c.failure is not None and c.failure.behaviour))
        if marks:
            signed[r.exercise, marks].append(r)
    groups = []
    for (exercise, marks), alike in signed.items():
        if len(alike) < 2:
            continue
        first = next(c.failure for c in alike[0].checks if c.failure is not None and c.failure.behaviour)
        groups.append(SharedOutput(exercise, tuple(sorted(r.student for r in alike)),
                                   tuple(name for name, _ in marks), first))
    return sorted(groups, key=lambda g: (len(g.students), g.exercise, g.students))


def to_data(similarity: Similarity) -> dict[str, Any]:
    """``grade similarity --json``: the leads as JSON-ready data (no file contents)."""
    return {"code_compared": similarity.code_checked,
            "code": [{**plain(asdict(m)), "share": m.share} for m in similarity.code],
            "behaviour": [{**plain(asdict(s)), "common": s.common} for s in similarity.behaviour]}
