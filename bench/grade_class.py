"""Class-wide grading speed: seconds per student per core, 2 workers vs 1, and a rerun.

Builds a seeded class (default 40 students x 13 exercises): most files are the
reference, some carry one bug (the output scaled by 1.5) and some are the
untouched stub. Then, side by side in one run:

1. ``grade class`` with 1 worker, then with 2 workers, each into a fresh
   ``--out`` (nothing carried over), ``--rounds`` times, interleaved; the best
   round of each counts (this machine is shared and noisy);
2. the same command again with nothing changed (must grade nothing);
3. ``python -c "import torch"`` (the unit the per-student cost is divided by).

Targets (issue: class-wide grading): at most 3 s per student per core; at least
1.8x with 2 workers on 2 cores; a rerun at most a quarter of the first run.

    python bench/grade_class.py [--students 40] [--seed 0] [--rounds 2]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from pathlib import Path

from _timing import ROOT, timed

sys.path.insert(0, str(ROOT))

from grader.course import load_course  # noqa: E402

BUG = """

_reference_{name} = {name}


def {name}(*args, **kwargs):  # one bug: the (first) answer scaled by 1.5
    out = _reference_{name}(*args, **kwargs)
    first = out[0] if isinstance(out, tuple) else out
    if hasattr(first, "is_floating_point") and first.is_floating_point():
        first = first * 1.5
    return (first, *out[1:]) if isinstance(out, tuple) else first
"""


def build_class(folder: Path, students: int, seed: int) -> None:
    course = load_course(ROOT / "course.yaml")
    rng = random.Random(seed)
    for i in range(students):
        student = folder / f"student{i:03d}"
        student.mkdir(parents=True)
        for entry in course.exercises:
            kind = rng.choices(["correct", "bug", "stub"], weights=[70, 20, 10])[0]
            if kind == "stub":
                shutil.copy(course.student_file(entry), student / entry.file)
                continue
            source = (course.solutions_dir / entry.file).read_text()
            if kind == "bug":
                source += "".join(BUG.format(name=name) for name in entry.functions)
            (student / entry.file).write_text(source)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grade-class-bench-") as tmp:
        subs = Path(tmp) / "submissions"
        build_class(subs, args.students, args.seed)
        grade = [sys.executable, "-m", "grader", "class", str(subs)]
        torch = timed([sys.executable, "-c", "import torch"])
        ones, twos = [], []
        for round_ in range(args.rounds):
            ones.append(timed([*grade, "--out", f"{tmp}/one{round_}", "--workers", "1"]))
            twos.append(timed([*grade, "--out", f"{tmp}/two{round_}", "--workers", "2"]))
        one, two = min(ones), min(twos)
        rerun = timed([*grade, "--out", f"{tmp}/two0", "--workers", "2"])
        torch = min(torch, timed([sys.executable, "-c", "import torch"]))
    per_student = one / args.students  # one worker: seconds per student per core
    print(f"class: {args.students} students x 13 exercises (seed {args.seed})")
    print(f"1 worker: {one:.1f} s (rounds: {', '.join(f'{t:.1f}' for t in ones)}); "
          f"2 workers: {two:.1f} s (rounds: {', '.join(f'{t:.1f}' for t in twos)}); "
          f"rerun, nothing changed: {rerun:.1f} s")
    print(f"import torch: {torch:.2f} s")
    print(f"seconds per student per core: {per_student:.2f}  (target <= 3)")
    print(f"  ... divided by import torch: {per_student / torch:.2f}")
    print(f"speed-up of 2 workers over 1: {one / two:.2f}x  (target >= 1.8)")
    print(f"rerun / first run: {rerun / twos[0]:.2f}  (target <= 0.25)")


if __name__ == "__main__":
    main()
