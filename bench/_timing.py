"""The one stopwatch the benchmarks share: wall time of a command that must exit as expected."""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class TreeRun:
    """What a command and every process under it took: wall time, CPU time, peak memory."""

    seconds: float
    cpu: float
    """CPU seconds (user and system) of the whole tree (``CpuMeter``)."""
    pss: float
    """Peak summed PSS, MB (proportional set size: a page shared by n processes counts 1/n in each)."""
    rss: float
    """Peak summed RSS, MB (a shared page counts once per process)."""
    cpu_exact: bool = True
    """False where no cgroup could be made: ``cpu`` then misses what orphans' orphans used."""

    @property
    def cores(self) -> float:
        """How many cores the run kept busy on average."""
        return self.cpu / self.seconds


def timed_tree(command: list[str], every: float | None = None) -> TreeRun:
    """``timed``, with the process tree's CPU time at the end and, ``every`` so many seconds, its memory.

    PSS comes from /proc/PID/smaps_rollup, so torch's pages, shared by a zygote and its
    children, count once. Reading it walks every page of every process: a tenth of a core
    at 5 looks a second, taken from the command on a busy machine. Time runs without it.
    """
    import threading

    meter = CpuMeter()
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=meter.enter)
    peaks = [0.0, 0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(every):
            pss, rss = _tree_memory(proc.pid)
            peaks[0], peaks[1] = max(peaks[0], pss), max(peaks[1], rss)

    watcher = threading.Thread(target=sample, daemon=True)
    if every is not None:
        watcher.start()
    _, err = proc.communicate()
    done.set()
    if every is not None:
        watcher.join()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} exited {proc.returncode}: {err.decode()[-800:]}")
    return TreeRun(seconds, meter.read(), peaks[0] / 1024, peaks[1] / 1024, meter.group is not None)


class CpuMeter:
    """CPU seconds of a command and every process under it, those that outlive it included.

    A cgroup of its own counts them all (a fork server outlives the command; a sandbox's
    processes are killed, not awaited). Where none can be made (no write access to the
    cgroup file system), this process adopts the orphans and reaps them instead; their
    time then joins ``RUSAGE_CHILDREN``, but an orphan's own unawaited children's does not.
    """

    def __init__(self) -> None:
        self.group = _new_cgroup()
        if self.group is None:
            _become_subreaper()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.before = usage.ru_utime + usage.ru_stime

    def enter(self) -> None:
        """In the command's process, before exec: join the cgroup."""
        if self.group is not None:
            (self.group / "cgroup.procs").write_text(str(os.getpid()))

    def read(self, patience: float = 10.0) -> float:
        """Wait (at most ``patience`` seconds) for what the command left behind; its CPU seconds."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline and self._left():
            time.sleep(0.02)
        if self.group is None:
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            return usage.ru_utime + usage.ru_stime - self.before
        seconds = _cgroup_cpu(self.group)
        with contextlib.suppress(OSError):  # a zombie not yet reaped keeps it busy: left, empty
            self.group.rmdir()
        return seconds

    def _left(self) -> bool:
        if self.group is not None:
            return bool((self.group / "cgroup.procs").read_text().strip())
        try:
            os.waitpid(-1, os.WNOHANG)  # reaps one that has exited, if any: others may be left
        except ChildProcessError:
            return False
        return True


def _new_cgroup() -> Path | None:
    """A fresh cgroup beside this process's (cgroup v2, else v1's cpuacct), or None where not allowed."""
    mounts = [line.split() for line in Path("/proc/self/mounts").read_text().splitlines()]
    lines = Path("/proc/self/cgroup").read_text().splitlines()
    own = {name: path for _, name, path in (line.split(":", 2) for line in lines)}
    for _, where, kind, options, *_ in mounts:
        if kind == "cgroup2" and "" in own:
            parent = Path(where) / own[""].lstrip("/")
        elif kind == "cgroup" and "cpuacct" in options.split(","):
            name = next((k for k in own if "cpuacct" in k.split(",")), None)
            if name is None:
                continue
            parent = Path(where) / own[name].lstrip("/")
        else:
            continue
        group = parent / f"bench-{os.getpid()}-{time.monotonic_ns()}"
        try:
            group.mkdir()
        except OSError:
            continue
        if os.access(group / "cgroup.procs", os.W_OK) and _cgroup_cpu(group) == 0:
            return group
        group.rmdir()
    return None


def _cgroup_cpu(group: Path) -> float:
    """CPU seconds a cgroup has used: v2's ``cpu.stat`` (microseconds), v1's ``cpuacct.usage`` (ns)."""
    stat = group / "cpu.stat"
    if stat.is_file():
        fields = dict(line.split() for line in stat.read_text().splitlines())
        if "usage_usec" in fields:
            return int(fields["usage_usec"]) / 1e6
    return int((group / "cpuacct.usage").read_text()) / 1e9


def _become_subreaper() -> None:
    """Adopt the command's orphans, so that their CPU time joins ``RUSAGE_CHILDREN`` when reaped here."""
    import ctypes

    pr_set_child_subreaper = 36
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_child_subreaper, 1, 0, 0, 0)


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
