"""The one stopwatch the benchmarks share: wall time of a command that must exit as expected."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str], expect: int = 0, env: dict[str, str] | None = None) -> float:
    """Seconds ``command`` took (run in the project root); exits the benchmark if it failed."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - start
    if done.returncode != expect:
        sys.exit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()[-800:]}")
    return seconds
