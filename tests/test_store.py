"""ReplayStore: grading processes of one class run share the inputs they met, through a folder.

What comes back is the same input (values, dtypes, shapes, layouts); a second process
meets it without a search of its own and gives the same results; a damaged or foreign
file is ignored, never trusted.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.checks import engine
from grader.checks.catalog import standard_checks
from grader.checks.engine import Replays, grade_checks
from grader.checks.store import ReplayStore, key_for
from grader.checks.target import digest
from grader.course import Course, load_course
from grader.exercise import Case, Exercise, load_spec
from grader.sandbox.evaluate import tensors_in
from grader.sandbox.runner import LocalRunner
from tests.conftest import ROOT

KEY = bytes(range(32))


def _spec(course: Course, number: str) -> Exercise:
    entry = course.resolve(number)
    return load_spec(course.spec_file(entry), entry.id)


COURSE = load_course(ROOT / "course.yaml")
CHECKS = [(number, check) for number in ("03", "09", "11", "12")
          for check in standard_checks(_spec(COURSE, number))]


def _layouts(cases: list[Case]) -> list[list[tuple[bool, tuple[int, ...]]]]:
    return [[(t.is_contiguous(), tuple(t.shape)) for t in tensors_in(c)] for c in cases]


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), which=st.sampled_from(range(len(CHECKS))), count=st.integers(1, 4))
def test_saved_inputs_come_back_the_same(tmp_path_factory, data, which: int, count: int) -> None:  # type: ignore[no-untyped-def]
    number, check = CHECKS[which]
    cases = [data.draw(check.strategy) for _ in range(count)]
    store = ReplayStore(tmp_path_factory.mktemp("store"), KEY)
    store.save(f"exercise-{number}", check.name, "passed", cases)
    loaded = store.load(f"exercise-{number}", check.name, "passed")
    assert loaded is not None
    assert [digest(c) for c in loaded] == [digest(c) for c in cases]
    assert _layouts(loaded) == _layouts(cases)
    assert store.load(f"exercise-{number}", check.name, "shrunk") is None  # another list, not there


def test_a_damaged_or_foreign_file_is_ignored(tmp_path: Path) -> None:
    import torch

    store = ReplayStore(tmp_path, KEY)
    store.save("exercise-09", "softmax: matches the reference", "passed", [{"x": torch.ones(2)}])
    (written,) = tmp_path.glob("*.frame")
    good = written.read_bytes()
    written.write_bytes(good[: len(good) // 2])
    assert store.load("exercise-09", "softmax: matches the reference", "passed") is None
    store.save("exercise-10", "other", "passed", [{"x": torch.ones(2)}])
    (other,) = [p for p in tmp_path.glob("*.frame") if p != written]
    written.write_bytes(other.read_bytes())  # a frame recorded for another check, under this name
    assert store.load("exercise-09", "softmax: matches the reference", "passed") is None
    assert not list(tmp_path.glob("*.part"))


@given(st.sampled_from(["empty", "other-key", "no-tag", "garbage"]))
def test_only_frames_this_grader_wrote_count(kind: str) -> None:
    """A "passed" frame with no inputs, or one not signed with this run's key, is ignored (fails closed)."""
    import torch

    with tempfile.TemporaryDirectory() as folder:
        store = ReplayStore(Path(folder), KEY)
        name = ("exercise-05", "forget_gate: matches the reference (float32)", "passed")
        if kind == "empty":
            store.save(*name, [])
        elif kind == "other-key":
            ReplayStore(Path(folder), bytes(32)).save(*name, [{"x": torch.ones(1)}])
        else:
            store.save(*name, [{"x": torch.ones(1)}])
            (written,) = Path(folder).glob("*.frame")
            data = written.read_bytes()
            written.write_bytes(data[:-32] if kind == "no-tag" else b"\0" * len(data))
        assert store.load(*name) is None


def test_the_key_is_made_once_private_and_then_kept(tmp_path: Path) -> None:
    first = key_for(tmp_path / "shared")
    assert key_for(tmp_path / "shared") == first and len(first) == 32
    assert ((tmp_path / "shared" / ".key").stat().st_mode & 0o777) == 0o600


@pytest.mark.parametrize("number", ["05", "11"])
def test_a_second_process_meets_the_shared_inputs_without_a_search(course: Course, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   number: str) -> None:
    exercise = _spec(course, number)
    reference = LocalRunner(exercise.references())
    first = grade_checks(exercise, reference, 10, replays=Replays(store=ReplayStore(tmp_path, KEY)))

    def no_search(*args: object, **kwargs: object) -> None:
        raise AssertionError("searched although another process had recorded the inputs")

    monkeypatch.setattr(engine, "_run", no_search)
    store = ReplayStore(tmp_path, KEY)
    second = grade_checks(_spec(course, number), reference, 10, replays=Replays(store=store))
    assert [(c.name, c.status, c.examples) for c in second] == [(c.name, c.status, c.examples) for c in first]


@pytest.mark.parametrize("number", ["05", "13"])
def test_a_mistake_another_process_shrank_is_not_shrunk_again_even_before_any_check_passed(
        course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, number: str) -> None:
    """The first process meets the mistake before any submission passed a check (nothing recorded):
    the second finds its smallest inputs in the store at its first failure and stops there."""
    exercise = _spec(course, number)
    mistake = exercise.mistakes[0]
    functions = {**exercise.references(), mistake.function: mistake.impl}
    first = grade_checks(exercise, LocalRunner(functions), 10,
                         replays=Replays(store=ReplayStore(tmp_path, KEY)))
    shrinks = []
    real_hypothesis = engine._hypothesis

    def counting(search: engine._Search, examples: int, shrink: bool, seed: int | None = None) -> None:
        try:
            real_hypothesis(search, examples, shrink, seed)
        finally:
            shrinks.append(search.best is not None)  # a failure of its own found: it was shrunk here

    monkeypatch.setattr(engine, "_hypothesis", counting)
    second = grade_checks(_spec(course, number), LocalRunner(functions), 10,
                          replays=Replays(store=ReplayStore(tmp_path, KEY)))
    failed = [(a, b) for a, b in zip(first, second, strict=True)
              if a.failure is not None and a.failure.inputs]
    assert failed  # the mistake shows
    for a, b in failed:
        assert (a.status, a.score) == (b.status, b.score)
        assert b.failure is not None and a.failure is not None
        assert b.failure.inputs == a.failure.inputs
        assert b.failure.suspected_mistake == a.failure.suspected_mistake
        assert b.examples <= a.examples
    assert [c.status for c in second] == [c.status for c in first]
    assert shrinks and not any(shrinks)
