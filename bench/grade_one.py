"""Wall time of grading one exercise, as a multiple of `python -c "import torch"`.

Runs both commands interleaved (so machine noise hits both alike) and prints
the medians and their ratio. Target (issue: the whole course, graded end to
end): at most 1.5, reached by a torch-once worker and no per-example process.

    python bench/grade_one.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRADE = [sys.executable, "-m", "grader", "exercise-05", "--file", "solutions/ex05_forget_gate.py"]
TORCH = [sys.executable, "-c", "import torch"]


def wall(command: list[str], expect: int) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - start
    if done.returncode != expect:
        sys.exit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    wall(GRADE, 0)  # warm the page cache for both
    wall(TORCH, 0)
    grade, torch = [], []
    for _ in range(rounds):
        grade.append(wall(GRADE, 0))
        torch.append(wall(TORCH, 0))
    g, t = statistics.median(grade), statistics.median(torch)
    print(f"grade exercise-05 (reference file): median {g:.2f} s over {rounds} runs")
    print(f"python -c 'import torch':           median {t:.2f} s over {rounds} runs")
    print(f"ratio: {g / t:.2f}  (target <= 1.5)")


if __name__ == "__main__":
    main()
