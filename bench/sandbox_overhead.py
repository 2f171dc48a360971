"""Cost of confinement: grading one exercise confined vs in a bare separate process.

Runs `grade exercise-05 --file solutions/ex05_forget_gate.py` interleaved with
GRADER_SANDBOX=bubblewrap (the strongest tier this machine offers: namespaces,
read-only filesystem, seccomp, rlimits) and GRADER_SANDBOX=rlimits (a separate
process with resource limits only), and prints the medians and their ratio.
Target (issue: hostile submissions earn nothing): at most 1.05.

    python bench/sandbox_overhead.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

from _timing import ROOT, timed

GRADE = [sys.executable, "-m", "grader", "exercise-05", "--file", "solutions/ex05_forget_gate.py"]


def wall(tier: str) -> float:
    return timed(GRADE, env={**os.environ, "GRADER_SANDBOX": tier})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    tier = subprocess.run([sys.executable, "-m", "grader", "doctor"], cwd=ROOT, capture_output=True,
                          text=True).stdout.splitlines()[0]
    wall("bubblewrap")
    wall("rlimits")
    confined, bare = [], []
    for _ in range(rounds):
        confined.append(wall("bubblewrap"))
        bare.append(wall("rlimits"))
    c, b = statistics.median(confined), statistics.median(bare)
    print(tier)
    print(f"confined (strongest tier): median {c:.2f} s over {rounds} runs")
    print(f"bare separate process:     median {b:.2f} s over {rounds} runs")
    print(f"ratio: {c / b:.3f}  (target <= 1.05)")


if __name__ == "__main__":
    main()
