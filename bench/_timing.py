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


def timed_tree(command: list[str], every: float = 0.2) -> tuple[float, float, float]:
    """``timed``, sampling the process tree meanwhile: (seconds, peak PSS MB, peak summed RSS MB).

    PSS (proportional set size, from /proc/PID/smaps_rollup) counts a page shared by n
    processes as 1/n in each, so torch's pages, shared by a zygote and its children, count once.
    """
    import threading

    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks = [0.0, 0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(every):
            pss, rss = _tree_memory(proc.pid)
            peaks[0], peaks[1] = max(peaks[0], pss), max(peaks[1], rss)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    _, err = proc.communicate()
    done.set()
    watcher.join()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} exited {proc.returncode}: {err.decode()[-800:]}")
    return seconds, peaks[0] / 1024, peaks[1] / 1024


def _tree_memory(root: int) -> tuple[float, float]:
    """Summed PSS and RSS (KiB) of ``root`` and every process under it (those we may read)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    pss = rss = 0.0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith(("Pss:", "Rss:")):
                    kib = float(line.split()[1])
                    pss, rss = (pss + kib, rss) if line.startswith("Pss:") else (pss, rss + kib)
        except OSError:
            continue
    return pss, rss
