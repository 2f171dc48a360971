"""Wall time of grading one exercise, as a multiple of `python -c "import torch"`.

Runs both commands interleaved (so machine noise hits both alike) and prints
the medians and their ratio. Target (issue: the whole course, graded end to
end): at most 1.5, reached by a torch-once worker and no per-example process.

    python bench/grade_one.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys

from _timing import timed

GRADE = [sys.executable, "-m", "grader", "exercise-05", "--file", "solutions/ex05_forget_gate.py"]
TORCH = [sys.executable, "-c", "import torch"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    timed(GRADE)  # warm the page cache for both
    timed(TORCH)
    grade, torch = [], []
    for _ in range(rounds):
        grade.append(timed(GRADE))
        torch.append(timed(TORCH))
    g, t = statistics.median(grade), statistics.median(torch)
    print(f"grade exercise-05 (reference file): median {g:.2f} s over {rounds} runs")
    print(f"python -c 'import torch':           median {t:.2f} s over {rounds} runs")
    print(f"ratio: {g / t:.2f}  (target <= 1.5)")


if __name__ == "__main__":
    main()
