"""Save to verdict in ``grade watch``, as a multiple of `python -c "import torch"`.

``grade watch`` keeps a confined zygote (torch imported, no student code run)
between saves, and each regrade forks a fresh child from it. This script starts
``grade watch 05`` on a copy of the course, saves the reference file again and
again (a changed comment each time, so each save is new content) and times each
save until the verdict is printed, interleaved with `import torch` runs.
Target (issue 16): at most 0.5 s for a correct file. For a notebook's second
``check()``, see ``bench/notebook_check.py``.

    python bench/watch_latency.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import ROOT, timed

TORCH = [sys.executable, "-c", "import torch"]
FILE = "ex05_forget_gate.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as folder:
        course = Path(folder)
        shutil.copy(ROOT / "course.yaml", course)
        for part in ("exercises", "solutions"):
            shutil.copytree(ROOT / part, course / part)
        reference = (ROOT / "solutions" / FILE).read_text()
        (course / "exercises" / FILE).write_text(reference)
        command = [sys.executable, "-m", "grader", "watch", "05", "--interval", "0.1", "--lang", "en"]
        env = {**os.environ, "COLUMNS": "120"}
        with subprocess.Popen(command, cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True) as watch:
            assert watch.stdout is not None

            def verdict() -> str:
                while True:
                    line = watch.stdout.readline()
                    if not line:
                        sys.exit("grade watch ended early")
                    if line.startswith("Score:"):
                        return line

            start = time.perf_counter()
            verdict()
            first = time.perf_counter() - start
            saves, torch = [], []
            for n in range(rounds):
                time.sleep(0.3)  # watching again
                start = time.perf_counter()
                saved = course / "exercises" / f".{FILE}.tmp"  # as editors save: whole, then renamed
                saved.write_text(f"{reference}\n# save {n}\n")
                os.replace(saved, course / "exercises" / FILE)
                said = verdict()
                saves.append(time.perf_counter() - start)
                if "5 / 5" not in said:
                    sys.exit(f"the reference did not pass: {said}")
                torch.append(timed(TORCH))
            watch.terminate()
    s, t = statistics.median(saves), statistics.median(torch)
    print(f"first grading (starts the zygote): {first:.2f} s")
    print(f"save to verdict:          median {s:.2f} s over {rounds} saves (target <= 0.5 s)")
    print(f"python -c 'import torch': median {t:.2f} s over {rounds} runs")
    print(f"ratio: {s / t:.2f}")


if __name__ == "__main__":
    main()
