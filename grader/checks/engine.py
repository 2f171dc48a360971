"""Runs each check under hypothesis and turns what it found into a CheckResult.

Trusted side. Grading is deterministic, the way hypothesis's ``minimal()``
is: derandomized, no example database, no deadline, one bug reported. The
same file therefore always meets the same examples and gets the same score.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Flaky

from grader.checks import patterns, replay
from grader.checks.catalog import DTYPE_LABELS, standard_checks
from grader.checks.diagnose import diagnose, signature
from grader.checks.properties import Check
from grader.checks.snippets import call_source, literal
from grader.checks.store import ReplayStore
from grader.checks.strategies import map_tensors
from grader.checks.target import Memo, Target
from grader.errors import UsageError
from grader.exercise import Case, Exercise
from grader.results import CheckResult, Failure, Kind, Status
from grader.sandbox.messages import WorkerGone
from grader.sandbox.runner import Runner

SETTINGS = settings(
    database=None, derandomize=True, deadline=None, report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False,
)

GONE_KINDS = {
    "timeout": Kind.TIMEOUT, "crashed": Kind.CRASHED, "output-limit": Kind.OUTPUT_LIMIT,
    "memory-limit": Kind.MEMORY_LIMIT, "malformed": Kind.MALFORMED, "gave-up": Kind.GAVE_UP,
    "disk-limit": Kind.DISK_LIMIT, "exercise-time": Kind.EXERCISE_TIME,
}


class _Stop(BaseException):  # noqa: N818 - BaseException: hypothesis must not shrink further
    """Stop the search now with this failure and the input that showed it.

    Without an input the failure is reported as it is: one any input shows, one already
    explained (``Replays``), or a root cause an earlier check explained (``grade_checks``
    points to that check), which needs neither a smaller input nor a diagnosis here.
    """

    def __init__(self, failure: Failure, case: Case | None = None) -> None:
        super().__init__(failure.kind.value)
        self.failure, self.case = failure, case


Known = frozenset[tuple[str, ...]]
"""Root causes (``root_cause``) an earlier check of the same file has explained."""

MetBefore = Callable[[Case], "Failure | None"]
"""Given a submission's first failing input: its failure on an earlier submission's smallest failing
input, explained, when one fails too (``Replays``); None to search and shrink as usual."""

UNCONDITIONAL = {Kind.NOT_IMPLEMENTED, Kind.MISSING_FUNCTION}
"""Failures any input shows: reported at once, with no input to shrink."""

SHRINK_CALLS = 150
SHRINK_SECONDS = 3.0
"""Shrinking stops after this many extra calls or seconds: the input is small by then,
and a class of wrong submissions must not each spend a minute shrinking."""


DIAGNOSIS_CASES = 6
"""Failing inputs a diagnosis must explain: the shrunk one and the first few found."""

SHARED_FAILURES = 3
"""How many earlier submissions' smallest failing inputs a class run tries first, per check."""


class _Found(Exception):
    def __init__(self, failure: Failure, case: Case) -> None:
        super().__init__(failure.kind.value)
        self.failure, self.case = failure, case


class _Search:
    """The test function hypothesis calls: it counts, remembers and bounds the shrinking."""

    def __init__(self, check: Check, target: Target, wanted: frozenset[Kind] | None = None,
                 known: Known = frozenset(), met_before: MetBefore | None = None) -> None:
        self.check, self.target = check, target
        self.met_before = met_before
        """At the first failure: the failure as earlier submissions' smallest inputs show it, if one does."""
        self.wanted = wanted
        """Only failures of these kinds count (the others pass); None: every failure counts."""
        self.known = known
        """Root causes earlier checks explained: met first, they stop the search at once."""
        self.seen = 0
        self.best_at = 0
        self.current: Case | None = None
        self.best: _Found | None = None
        self.passed: list[Case] = []
        """Every input met before the first failure, in order (see ``Replays``)."""
        self.failing: list[Case] = []
        """The first failing inputs seen: larger than the shrunk one, so they tell mistakes apart."""
        self.shrink_start = 0.0

    def __call__(self, case: Case) -> None:
        self.seen, self.current = self.seen + 1, case
        if self.best is None:
            self.passed.append(case)
        if self.best is not None and (self.seen - self.best_at > SHRINK_CALLS
                                      or time.monotonic() - self.shrink_start > SHRINK_SECONDS):
            raise _Stop(self.best.failure, self.best.case)
        failure = self.check.verify(self.target, case)
        if failure is None or (self.wanted is not None and failure.kind not in self.wanted):
            return
        if failure.kind in UNCONDITIONAL:
            raise _Stop(failure)
        if self.best is None and root_cause(failure) in self.known:
            raise _Stop(failure)
        if self.best is None and self.met_before is not None:
            shared = self.met_before(case)
            if shared is not None:
                raise _Stop(shared)
        if self.best is None:
            self.best_at, self.shrink_start = self.seen, time.monotonic()
        if len(self.failing) < DIAGNOSIS_CASES:
            self.failing.append(case)
        # The shrinker only tries inputs smaller than its best, so the latest failure is the smallest.
        self.best = _Found(failure, case)
        raise self.best


def gone_failure(gone: WorkerGone) -> Failure:
    kind = GONE_KINDS.get(gone.reason, Kind.CRASHED)
    named = {Kind.DISK_LIMIT: "limit_mb", Kind.EXERCISE_TIME: "seconds"}.get(kind, "detail")
    detail = {named: gone.detail}
    return Failure(kind, detail, output=gone.output[-2000:])


def gone_at(target: Target, case: Case | None, gone: WorkerGone, check: str) -> Failure:
    """The student's process stopped on ``case``: the failure, with that input to reproduce it.

    A process the grader gave up restarting never met the input, and the exercise's time runs out
    whatever the input: neither shows one (nor a token).
    """
    failure = gone_failure(gone)
    if case is None or failure.kind in (Kind.GAVE_UP, Kind.EXERCISE_TIME):
        return failure
    return describe(target, case, failure, check)


def describe(target: Target, case: Case, failure: Failure, check: str) -> Failure:
    """Attach the input, as Python source, the call and a replay token to a failure.

    For a failure met in a gradient check, float tensors are shown requiring grad, wherever they
    are nested: the snippet then meets what the check met (an in-place write to a leaf that
    requires grad raises), and its backward call fills the very gradient the failure names.
    """
    args, kwargs = target.function.split(case)
    names = [p.name for p in target.function.parameters if p.name in case]
    positional = tuple(names[: len(args)])
    if "grad_out" in failure.detail or failure.detail.get("requires_grad"):
        case = map_tensors(case, lambda t: t.detach().requires_grad_(t.is_floating_point()))
    inputs = tuple((name, literal(case[name])) for name in names)
    call = call_source(target.function.name, positional, {k: k for k in kwargs})
    return dataclasses.replace(failure, inputs=inputs, call=call, replay=replay.encode(check, case))


class Replays:
    """The inputs each check met on a submission that passed it, to meet again on the next one.

    Grading is derandomized, so hypothesis draws the same inputs, in the same
    order, for every submission until one fails. A class run therefore draws
    them once per grading process: the next submission meets the recorded
    inputs directly, and only at its first failure does hypothesis run (from
    the start, meeting the same inputs again) to find and shrink the failure.
    The result is the one a plain run gives; drawing and hypothesis's own
    bookkeeping, about half of a passing check's time, are spent once.

    Failures repeat across a class too (the same mistake, the same check), and
    shrinking is most of a failing check's time. So the smallest failing inputs
    of earlier submissions are tried first: when one fails this submission as
    well, it is reported (and diagnosed) without a search of its own. That
    input is small, though not always the smallest for this submission.
    """

    def __init__(self, only: bool = False, store: ReplayStore | None = None) -> None:
        self.cases: dict[tuple[int, str], list[Case]] = {}
        self.memo = Memo()
        """Reference outputs by input (``Target.memo``): the same inputs, so the same outputs."""
        self.only = only
        """Meet the recorded inputs and nothing else (a student release grading from a bank)."""
        self.shrunk: dict[tuple[int, str], list[Case]] = {}
        """Per check, the smallest failing inputs of earlier submissions, newest first."""
        self.drawn: dict[tuple[int, str], list[Case]] = {}
        """Per check, the inputs drawn afresh for a diagnosis (the same ones every time)."""
        self.store = store
        """Where other grading processes of the same class run share what they found."""

    def preload(self, exercise: Exercise, check: Check, cases: list[Case]) -> None:
        self.cases[id(exercise), check.name] = cases

    def run(self, check: Check, target: Target, examples: int,
            shrink: bool = True, known: Known = frozenset()) -> tuple[Status, int, Failure | None]:
        key = (id(target.exercise), check.name)  # specs are loaded once per process
        recorded = self._shared(self.cases, key, target, check, "passed")
        try:
            with target.answering_once():  # explaining a failure asks about the input that showed it
                found = self._replay(check, target, key, recorded, known) if recorded else None
        finally:
            target.forget_ahead()
        if found is not None:
            return found
        met_before = None if self.only else lambda case: self._known_failure(check, target, key, case)
        search = _Search(check, target, known=known, met_before=met_before)
        status, seen, failure = _run(search, examples, shrink, fresh=lambda: self._fresh(key, target, check))
        if status is Status.PASSED:
            self._share(self.cases, key, target, check, "passed", search.passed)
        elif search.best is not None and shrink:
            shrunk = [search.best.case, *self.shrunk.get(key, [])][:SHARED_FAILURES]
            self._share(self.shrunk, key, target, check, "shrunk", shrunk)
        return status, seen, failure

    def _replay(self, check: Check, target: Target, key: tuple[int, str], recorded: list[Case],
                known: Known) -> tuple[Status, int, Failure | None] | None:
        """Meet the recorded inputs, sent ahead in growing windows: the result, or None to search.

        A window's calls cost one exchange with the student's process instead of one each;
        it starts small because a failing submission usually fails early.
        """
        flags = check.first_call()
        windows = dict(_windows(len(recorded))) if flags is not None else {}
        for seen, case in enumerate(recorded, start=1):
            if seen - 1 in windows:
                assert flags is not None
                target.send_ahead(recorded[seen - 1: windows[seen - 1]], flags)
            try:
                failure = check.verify(target, case)
            except WorkerGone as gone:
                return Status.FAILED, seen, gone_at(target, case, gone, check.name)
            if failure is not None and (failure.kind in UNCONDITIONAL or root_cause(failure) in known):
                return Status.FAILED, seen, failure
            if failure is not None and self.only:  # no search: the recorded input is the example
                explained = explain(target, [case], failure, check.name)
                return Status.FAILED, seen, dataclasses.replace(explained, origin="bank")
            if failure is not None:
                shared = self._known_failure(check, target, key, case)
                return (Status.FAILED, seen, shared) if shared is not None else None
        return Status.PASSED, len(recorded), None

    def _known_failure(self, check: Check, target: Target, key: tuple[int, str],
                       first: Case) -> Failure | None:
        """This submission's failure on an earlier submission's smallest failing input, explained.

        What other grading processes found since is read again: a mistake one of them
        shrank is then not shrunk here too. Called within the caller's ``answering_once``, so
        the diagnosis gets the answers ``small`` and ``drawn`` already got.
        """
        for small in self._shared(self.shrunk, key, target, check, "shrunk", again=True) or []:
            try:
                failure = check.verify(target, small)
            except WorkerGone as gone:
                return gone_at(target, small, gone, check.name)
            if failure is not None and failure.kind not in UNCONDITIONAL:
                drawn = self._fresh(key, target, check)
                more = more_failing(check, target, drawn)
                cases = [small, first, *(case for case, _ in more)]
                return explain(target, cases, failure, check.name, drawn, [f for _, f in more])
        return None

    def _fresh(self, key: tuple[int, str], target: Target, check: Check) -> list[Case]:
        drawn = self._shared(self.drawn, key, target, check, "drawn")
        if drawn is None:
            drawn = self._share(self.drawn, key, target, check, "drawn", fresh_inputs(check))
        return drawn

    def _shared(self, kept: dict[tuple[int, str], list[Case]], key: tuple[int, str], target: Target,
                check: Check, what: str, again: bool = False) -> list[Case] | None:
        """What this process has for ``key``, or else (or ``again``: first) what the store holds now."""
        if (again or key not in kept) and self.store is not None:
            found = self.store.load(target.exercise.id, check.name, what)
            if found is not None:
                kept[key] = _merged(found, kept.get(key, [])) if again else found
        return kept.get(key)

    def _share(self, kept: dict[tuple[int, str], list[Case]], key: tuple[int, str], target: Target,
               check: Check, what: str, cases: list[Case]) -> list[Case]:
        kept[key] = cases
        if self.store is not None:
            self.store.save(target.exercise.id, check.name, what, cases)
        return cases


FIRST_WINDOW, LAST_WINDOW = 4, 32
"""Recorded inputs sent ahead at once: 4, then twice as many each time, up to 32."""


def _windows(count: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of each window of ``count`` recorded inputs."""
    start, size = 0, FIRST_WINDOW
    while start < count:
        yield start, min(count, start + size)
        start, size = start + size, min(LAST_WINDOW, 2 * size)


def _merged(first: list[Case], then: list[Case]) -> list[Case]:
    """``first``, then those of ``then`` with other values: the store's newest, and this process's own."""
    from grader.checks.target import digest

    seen = {digest(case) for case in first}
    return [*first, *(case for case in then if digest(case) not in seen)]


def run_check(check: Check, target: Target, examples: int, shrink: bool = True,
              known: Known = frozenset()) -> tuple[Status, int, Failure | None]:
    """Search for an input that breaks ``check``; shrink it (unless told not to); explain it.

    A first failure whose root cause is in ``known`` is returned as it is, unexplained.
    """
    return _run(_Search(check, target, known=known), examples, shrink)


def record(check: Check, target: Target, examples: int, seed: int) -> list[Case]:
    """The inputs a search seeded with ``seed`` meets on ``target`` (a reference: every one passes)."""
    search = _Search(check, target)
    status, _, failure = _run(search, examples, shrink=False, seed=seed)
    if status is not Status.PASSED:
        raise RuntimeError(f"{target.exercise.id} {check.name}: the reference fails ({failure})")
    return search.passed


def _run(search: _Search, examples: int, shrink: bool, seed: int | None = None,
         fresh: Callable[[], list[Case]] | None = None) -> tuple[Status, int, Failure | None]:
    """Run hypothesis with ``search`` as the test; ``fresh`` gives the inputs drawn for a diagnosis."""
    with search.target.answering_once():  # explaining a failure asks about inputs already met
        return _searched(search, examples, shrink, seed, fresh)


def _searched(search: _Search, examples: int, shrink: bool, seed: int | None,
              fresh: Callable[[], list[Case]] | None) -> tuple[Status, int, Failure | None]:
    check, target = search.check, search.target
    try:
        _hypothesis(search, examples, shrink, seed)
    except (_Found, _Stop) as found:
        if found.case is None:
            return Status.FAILED, search.seen, found.failure
        shown = _past_side_symptom(search, found, examples) if shrink else found
        assert shown.case is not None
        drawn = fresh() if fresh is not None else fresh_inputs(check)
        more = more_failing(check, target, drawn)
        cases = [shown.case, *search.failing, *(case for case, _ in more)]
        return Status.FAILED, search.seen, explain(target, cases, shown.failure, check.name, drawn,
                                                   [f for _, f in more])
    except WorkerGone as gone:
        return Status.FAILED, search.seen, gone_at(target, search.current, gone, check.name)
    except Flaky:
        return Status.FAILED, search.seen, Failure(Kind.INCONSISTENT)
    except Exception as exc:  # a bug in the course or the grader, e.g. an unsatisfiable strategy
        return Status.ERROR, search.seen, Failure(Kind.GRADER_ERROR, {"type": type(exc).__name__,
                                                                      "message": str(exc)[:500]})
    if not search.passed:  # a check that met no input has shown nothing: an error, never a pass
        detail = {"type": "NoExamples", "message": f"{check.name}: no input was tried"}
        return Status.ERROR, 0, Failure(Kind.GRADER_ERROR, detail)
    return Status.PASSED, search.seen, None


def _hypothesis(search: _Search, examples: int, shrink: bool, seed: int | None = None) -> None:
    """Run hypothesis with ``search`` as the test: it raises ``_Found`` or ``_Stop`` at a failure."""

    def test(case: Case) -> None:
        search(case)

    # No "explain" phase: it reruns the test dozens of times to annotate a traceback we never show.
    phases = (Phase.explicit, Phase.reuse, Phase.generate) + ((Phase.shrink,) if shrink else ())
    chosen = settings(SETTINGS, max_examples=examples, phases=phases, derandomize=seed is None)
    searched = given(search.check.strategy)(test)
    chosen(searched if seed is None else hypothesis_seed(seed)(searched))()


FINITE = frozenset({Kind.WRONG_VALUE})


def _past_side_symptom(search: _Search, found: _Found | _Stop, examples: int) -> _Found | _Stop:
    """The smallest input with a finite wrong value, when the smallest failing one only shows inf or NaN.

    Shrinking favours degenerate inputs, where a mistake's side symptom shows
    first: with D = 1 an unbiased std is 0/0, and "look for exp overflow" hides
    that the layer norms before each sub-layer. When the same code also gives
    finite wrong values, those show its mistake: search and shrink once more
    for them. Code whose only fault is the inf or NaN keeps the first input.
    """
    if found.failure.kind is not Kind.NON_FINITE:
        return found
    finite = _Search(search.check, search.target, wanted=FINITE)
    try:
        _hypothesis(finite, examples, shrink=True)
    except (_Found, _Stop) as better:
        if better.case is not None and better.failure.kind in FINITE:
            search.failing = finite.failing
            return better
    except WorkerGone:
        pass
    return found


def fresh_inputs(check: Check, examples: int = 12) -> list[Case]:
    """Inputs of varied sizes, generated without shrinking; derandomized, so the same every time."""
    drawn: list[Case] = []

    def collect(case: Case) -> None:
        drawn.append(case)

    settings(SETTINGS, max_examples=examples, phases=(Phase.generate,))(given(check.strategy)(collect))()
    return drawn


def more_failing(check: Check, target: Target, drawn: list[Case]) -> list[tuple[Case, Failure]]:
    """The first few of ``drawn`` that fail too, and how: more inputs to tell mistakes apart."""
    found: list[tuple[Case, Failure]] = []
    try:
        for case in drawn:
            if len(found) == DIAGNOSIS_CASES:
                break
            if (failure := check.verify(target, case)) is not None:
                found.append((case, failure))
    except WorkerGone:
        pass
    return found


def explain(target: Target, cases: list[Case], failure: Failure, check: str,
            drawn: list[Case] | None = None, others: Sequence[Failure] = ()) -> Failure:
    """The failure with its (shrunk) input as source and, when one fits, the known mistake.

    ``others``: how the fresh inputs among ``cases`` failed (a pattern must hold on each).
    """
    failure = describe(target, cases[0], failure, check)
    if failure.kind is Kind.NO_VALUE_ERROR and failure.detail.get("raised") == "AssertionError":
        return dataclasses.replace(failure, pattern={"pattern": "assert"})
    try:
        mistake = diagnose(target, cases, failure)
        if mistake is None:  # no known mistake: maybe a pattern any wrong output can show
            pattern = patterns.likely_cause(target, cases, failure, drawn or [], others)
            failure = dataclasses.replace(failure, pattern=pattern) if pattern else failure
            return dataclasses.replace(failure, behaviour=signature(target, drawn or [], failure))
    except WorkerGone:
        return failure
    found = target.exercise.mistake(mistake)
    detail = {**failure.detail, "mistake_en": found.en, "mistake_ko": found.ko,
              **({"mistakes_together": str(len(found.parts))} if found.parts else {})}
    return dataclasses.replace(failure, suspected_mistake=mistake, detail=detail)


def check_result(check: Check, checks: Sequence[Check], points: float, status: Status,
                 examples: int = 0, failure: Failure | None = None) -> CheckResult:
    """The result of one check, worth its weight's share of the exercise's points."""
    worth = points * check.weight / sum(c.weight for c in checks)
    return CheckResult(name=check.name, kind=check.kind, function=check.function, variant=check.variant,
                       variant_ko=check.variant_ko, status=status, max_score=worth,
                       score=worth if status is Status.PASSED else 0.0, examples=examples, failure=failure)


GUARD_KINDS = frozenset({"keeps-inputs", "raises-value-error", "holds", "no-forbidden-calls"})
"""Checks that do not compare values: a function that computes nothing (a constant of the right
shape, a stub that raises ValueError) passes them, so they earn points only once the function's
values match the reference on one dtype at least (its main ``matches-reference`` check)."""


def _main_values_check(check: Check) -> bool:
    """A function's own value check (per dtype), as opposed to a named edge case."""
    return check.kind == "matches-reference" and check.variant in ("", *DTYPE_LABELS)


def credit(results: list[CheckResult], checks: Sequence[Check]) -> list[CheckResult]:
    """``results`` with what earns nothing yet withheld: the guard checks of a function whose values
    never matched, and every check of one that calls a forbidden built-in (its values are still
    judged and explained, but the built-in did the work)."""
    computes = {c.function for c, r in zip(checks, results, strict=True)
                if _main_values_check(c) and r.status is Status.PASSED}
    forbidden = {r.function for r in results
                 if r.kind == "no-forbidden-calls" and r.status is not Status.PASSED}
    withheld = [r.function in forbidden or (r.kind in GUARD_KINDS and r.function not in computes)
                for r in results]
    return [dataclasses.replace(r, score=0.0, credited=False,
                                withheld_for="forbidden-call" if r.function in forbidden else "values-first")
            if hold and r.score > 0 else r for r, hold in zip(results, withheld, strict=True)]


ROOT_CAUSES = {Kind.NOT_IMPLEMENTED: (), Kind.MISSING_FUNCTION: (), Kind.RAISED: ("type", "line"),
               Kind.WRONG_DTYPE: ("obtained",), Kind.WRONG_STRUCTURE: (),
               Kind.NOT_A_TENSOR: ("type",),
               Kind.TENSOR_SUBCLASS: ("type",), Kind.WRONG_DEVICE: ("obtained",),
               Kind.WRONG_LAYOUT: ("layout",), Kind.TIMEOUT: (), Kind.EXERCISE_TIME: (),
               Kind.CRASHED: (), Kind.GAVE_UP: (), Kind.MEMORY_LIMIT: (), Kind.OUTPUT_LIMIT: (),
               Kind.DISK_LIMIT: (), Kind.MALFORMED: ()}
"""Failures that are one cause whichever check meets them, and what tells two of a kind apart."""


def root_cause(failure: Failure | None) -> tuple[str, ...] | None:
    """What identifies ``failure``'s cause across checks, or None when it is about the check itself."""
    if failure is None or failure.kind not in ROOT_CAUSES:
        return None
    return (failure.kind.value, *(failure.detail.get(k, "") for k in ROOT_CAUSES[failure.kind]))


def same_mistake(failure: Failure | None) -> tuple[str, ...] | None:
    """A known mistake named on one check (float32) is the cause of the next it fails (float64, large
    inputs) too: explained once. Only grouped, never known ahead: a search still finds its own input."""
    named = failure.suspected_mistake if failure is not None else None
    return ("mistake", named) if named else None


def grade_checks(exercise: Exercise, runner: Runner, points: float,
                 on_check: Callable[[CheckResult], None] | None = None,
                 shrink: bool = True, replays: Replays | None = None) -> list[CheckResult]:
    """Run every standard check of ``exercise`` against one runner (meeting ``replays``' inputs first)."""
    if exercise.bank is not None:  # a student release: the bank's inputs, and only those
        replays = exercise.bank.replays
    run = replays.run if replays is not None else run_check
    checks = standard_checks(exercise)
    results: list[CheckResult] = []
    causes: dict[tuple[str, ...], str] = {}  # a root cause already explained -> the check that explains it
    stubbed: dict[str, str] = {}  # a function that any input shows is not there -> the check that said so
    for check in checks:
        if check.function in stubbed:  # not implemented, or missing: no input can tell more
            result = check_result(check, checks, points, Status.FAILED)
            results.append(dataclasses.replace(result, same_cause_as=stubbed[check.function]))
        else:
            memo = replays.memo if replays is not None else None
            target = Target(exercise, exercise.function(check.function), runner, memo)
            examples = max(1, round(exercise.examples * check.effort))
            status, seen, failure = run(check, target, examples, shrink, frozenset(causes))
            result = check_result(check, checks, points, status, seen, failure)
            cause = root_cause(failure) or same_mistake(failure)
            if cause is not None and cause in causes:  # explained once, where it was first met
                result = dataclasses.replace(result, failure=None, same_cause_as=causes[cause])
            elif cause is not None:
                causes[cause] = check.name
                if failure is not None and failure.kind in UNCONDITIONAL:
                    stubbed[check.function] = check.name
            results.append(result)
        # Checks run in order, each function's value checks before its guards: credit what is known.
        results[-1] = credit(results, checks[: len(results)])[-1]
        if on_check is not None:
            on_check(results[-1])
    return credit(results, checks)  # the forbidden-call check comes last: withhold what it decides


def replay_check(exercise: Exercise, runner: Runner, points: float, token: str) -> CheckResult:
    """Run the one check a replay token names on the one input it holds."""
    name, case = replay.decode(token)
    checks = standard_checks(exercise)
    found = next((c for c in checks if c.name == name), None)
    if found is None:
        raise UsageError(key="replay-other-exercise", exercise=exercise.id, check=name)
    memo = exercise.bank.replays.memo if exercise.bank is not None else None  # a release: from its bank
    target = Target(exercise, exercise.function(found.function), runner, memo)
    try:
        failure = found.verify(target, case)
        if failure is not None and failure.kind not in UNCONDITIONAL:
            failure = dataclasses.replace(explain(target, [case], failure, name), origin="replay")
    except WorkerGone as gone:
        failure = gone_at(target, case, gone, name)
    status = Status.PASSED if failure is None else Status.FAILED
    return check_result(found, checks, points, status, 1, failure)


def not_run(exercise: Exercise, points: float) -> list[CheckResult]:
    """Every check, failed without running (the file could not be loaded)."""
    checks = standard_checks(exercise)
    return [check_result(c, checks, points, Status.FAILED) for c in checks]
