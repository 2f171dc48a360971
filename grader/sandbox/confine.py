"""Which confinement this machine offers, probed once, and the command line that applies it.

Trusted side. Tiers, strongest first (sandbox-notes §6):

* ``bubblewrap``: a private mount, PID, network, IPC and user namespace with
  every capability dropped; only the Python install, three grader files and
  the one student file are visible, read-only; /tmp and the work folder are
  small tmpfs; no network, not even loopback. Plus everything below.
* ``landlock``: where bubblewrap cannot make namespaces, the kernel's Landlock
  lets the student's process read only the Python install (and /usr, /proc,
  a few devices) and write only its own work folder; no TCP. Plus seccomp.
* ``uid``: where neither works but the grader runs as root (Gradescope's
  container): the student's process runs as an unprivileged user with no
  capabilities, and the course files it must not read are sealed off from
  that user (``seal``) before any student code runs. Plus seccomp.
* ``seccomp``: the student's process may not fork, exec, open sockets, ptrace,
  mount, raise its limits or signal other processes. Plus everything below.
* ``rlimits``: a fresh process with address-space, CPU, file-size and
  open-file limits, wall-clock limits and capped output: robust, not confined.

In every tier the student's process gives up every capability before its
file is imported (``privilege.py``). ``FENCED`` tiers keep student code off the
course's files; official grades (a class run, the Gradescope autograder,
``--json``) refuse to grade below them unless told to.

``GRADER_SANDBOX=bubblewrap|landlock|uid|seccomp|rlimits`` caps the tier (tests use it to
prove each fallback still holds).
"""

from __future__ import annotations

import functools
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TIERS = ("bubblewrap", "landlock", "uid", "seccomp", "rlimits")
FENCED = ("bubblewrap", "landlock", "uid")
"""The tiers in which student code cannot read the solutions or other students' files."""
NOBODY = 65534
"""The unprivileged user (and group) of the ``uid`` tier: nobody/nogroup on Debian and its kin."""
HERE = Path(__file__).resolve().parent
WORKER_FILES = ("worker.py", "protocol.py", "evaluate.py", "privilege.py", "seccomp.py", "landlock.py")
INSIDE = Path("/opt/grader")  # where the worker's files appear inside bubblewrap
WORK = Path("/sandbox")       # the student's work folder inside bubblewrap
TMPFS_BYTES = 64 << 20


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    bwrap: str | None
    seccomp: bool
    landlock: bool
    missing: tuple[tuple[str, str], ...] = ()
    """Why each stronger tier is not in force, as (key, detail) pairs; the words are the catalog's
    (``feedback.messages.SANDBOX``). Empty when the strongest tier is in force."""
    uid: int | None = None
    """The unprivileged user the student's process runs as (the ``uid`` tier), or None."""

    def describe(self) -> str:
        """The tier and its missing keys, for logs and test reasons (students read the catalog's words)."""
        keys = ", ".join(f"{key}={detail}" if detail else key for key, detail in self.missing)
        return self.name + (f" ({keys})" if keys else "")

    @property
    def fenced(self) -> bool:
        return self.name in FENCED


def _cap() -> int:
    wanted = os.environ.get("GRADER_SANDBOX", "bubblewrap")
    return TIERS.index(wanted) if wanted in TIERS else 0


@functools.cache
def probe() -> Tier:
    """The strongest tier that works here (about 10 ms, once per process)."""
    cap = _cap()
    seccomp_ok = _seccomp_works()
    missing: list[tuple[str, str]] = []
    bwrap = shutil.which("bwrap")
    if cap == 0 and bwrap is not None:
        trial = subprocess.run([bwrap, *_namespace_flags(), "--ro-bind", "/", "/", "true"],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        if trial.returncode == 0:
            return Tier("bubblewrap", bwrap, seccomp_ok, False, () if seccomp_ok else (("no-seccomp", ""),))
        missing.append(("no-namespaces", ""))
    elif cap == 0:
        missing.append(("no-bwrap", ""))
    else:
        missing.append(("capped", TIERS[cap]))
    if cap <= 1 and _landlock_abi() >= 1:
        return Tier("landlock", None, seccomp_ok, True, tuple(missing))
    if cap <= 1:
        missing.append(("no-landlock", ""))
    if cap <= 2 and _is_root() and (unreachable := _unreachable_for(NOBODY)) is None:
        return Tier("uid", None, seccomp_ok, False, tuple(missing), uid=NOBODY)
    if cap <= 2:
        missing.append(("not-root", "") if not _is_root() else ("unreadable", str(unreachable)))
    if cap <= 3 and seccomp_ok:
        return Tier("seccomp", None, True, False, tuple(missing))
    if cap <= 3:
        missing.append(("no-seccomp", ""))
    return Tier("rlimits", None, False, False, tuple(missing))


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def reachable(path: Path, uid: int, gid: int | None = None, need: int = 0o4) -> bool:
    """Whether ``uid`` (group ``gid``) could reach ``path`` and read (``need``) it, by its permission bits.

    Every folder above it must let that user in (x); ``path`` itself must grant ``need``.
    """
    gid = uid if gid is None else gid
    try:
        path = path.resolve()
        chain = [*reversed(path.parents), path]
        for i, step in enumerate(chain):
            info = step.stat()
            want = 0o1 if i < len(chain) - 1 else need | (0o1 if stat.S_ISDIR(info.st_mode) else 0)
            shift = 6 if info.st_uid == uid else 3 if info.st_gid == gid else 0
            if (info.st_mode >> shift) & want != want:
                return False
    except OSError:
        return False
    return True


def _unreachable_for(uid: int) -> str | None:
    """The first folder the worker needs that ``uid`` cannot read (the ``uid`` tier needs none), or None."""
    for root in (*python_roots(), HERE, Path(sys.executable)):
        if not reachable(root, uid, need=0o5 if root.is_dir() else 0o4):
            return str(root)
    return None


def seal(paths: Sequence[Path], tier: Tier | None = None) -> list[Path]:
    """In the ``uid`` tier, take group and other permissions off each of ``paths`` its user could read.

    PrairieLearn's model: secrets out of the grading user's reach before any
    student code runs. A folder stays usable by its owner (the grader). In
    other tiers nothing changes (the fence keeps these paths out of reach).
    Returns what was sealed.
    """
    tier = tier or probe()
    sealed: list[Path] = []
    if tier.uid is None:
        return sealed
    for path in paths:
        if path.exists() and reachable(path, tier.uid, need=0):
            try:
                path.chmod(path.stat().st_mode & 0o7700)
                sealed.append(path)
            except OSError:
                pass
    return sealed


def scratch_folder(tier: Tier) -> Path:
    """A fresh folder for one student's process, owned by the user it runs as."""
    base = None
    if tier.uid is not None and not reachable(Path(tempfile.gettempdir()), tier.uid, need=0o1):
        base = "/tmp"  # TMPDIR lies behind a private folder: the unprivileged user could not enter
    folder = Path(tempfile.mkdtemp(prefix="grade-", dir=base))
    if tier.uid is not None:
        os.chown(folder, tier.uid, tier.uid)
    return folder


def _landlock_abi() -> int:
    from grader.sandbox import landlock

    return landlock.abi()


def gpu_files() -> list[str]:
    """The NVIDIA device files and driver folders a CUDA worker needs (none on a CPU machine)."""
    devices = sorted(str(p) for p in Path("/dev").glob("nvidia*"))
    driver = ("/proc/driver/nvidia", "/sys/bus/pci", "/sys/devices")
    return [*devices, *(p for p in driver if Path(p).exists())]


def landlock_paths(scratch: Path, gpu: bool = False) -> dict[str, list[str]]:
    """What a Landlock-confined worker may read, and the one folder it may write.

    With ``gpu``, the NVIDIA device files may be opened for writing (the driver's ioctls need it).
    """
    fence = _fence(HERE, gpu)
    return {"read": fence["read"], "write": [str(scratch), *fence["write"]]}


def _fence(worker_files: Path, gpu: bool) -> dict[str, list[str]]:
    read = ["/usr", "/bin", "/lib", "/lib64", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
            # /proc/self is opened by the worker itself: its own entries, not the grader's environ.
            "/proc/self", "/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/sys/devices/system/cpu",
            "/dev/null", "/dev/zero", "/dev/urandom", "/dev/random",
            str(worker_files), *(str(root) for root in python_roots())]
    gpu_paths = gpu_files() if gpu else []
    read += [p for p in gpu_paths if not p.startswith("/dev/")]
    return {"read": read, "write": [p for p in gpu_paths if p.startswith("/dev/")]}


def child_fence(tier: Tier, gpu: bool = False) -> dict[str, list[str]] | None:
    """What a zygote's child may read and write (its own folder is added to the writable); None: no Landlock.

    Under bubblewrap too: the zygote's folders and /tmp are shared by its children over time,
    so each child may write its own folder only.
    """
    if not fences_children(tier):
        return None
    return _fence(INSIDE if tier.bwrap is not None else HERE, gpu)


def fences_children(tier: Tier) -> bool:
    """Whether a zygote's children fence themselves into their own folders (so students may share one)."""
    return tier.name in ("bubblewrap", "landlock") and _landlock_abi() >= 1


def _seccomp_works() -> bool:
    # Cheap: the worker installs the filter and says in its greeting whether it took.
    from grader.sandbox import seccomp

    return seccomp.supported() is not None


def _namespace_flags() -> list[str]:
    # --cap-drop ALL is what makes bwrap a sandbox when the grader runs as root (sandbox-notes §0.3).
    return ["--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL",
            "--die-with-parent", "--new-session"]


def python_roots() -> list[Path]:
    """The folders the interpreter and its packages live in (bound read-only into the sandbox)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             *(sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")),
             str(Path(sys.executable).resolve().parent)}
    roots = sorted({Path(p).resolve() for p in paths if p and Path(p).exists()})
    # Keep only the outermost folders, and nothing /usr already covers.
    kept = [r for r in roots if not any(o != r and o in r.parents for o in roots)]
    return [r for r in kept if r != Path("/usr") and Path("/usr") not in r.parents]


def worker_command(tier: Tier, scratch: Path, files: Sequence[str], args: list[str], gpu: bool = False,
                   zygote: bool = False) -> list[str]:
    """The argv that starts the worker on ``scratch/files[0]`` under ``tier`` (``gpu``: with the GPU).

    A ``zygote`` is started in the work folder itself, with no file: each child's file comes over its socket.
    """
    python = [sys.executable, "-I", "-B", "-u"]
    if tier.uid is not None:  # some builds' frozen ``site`` misses site-packages for another user
        python += ["-X", "frozen_modules=off"]
    if tier.bwrap is None:
        target = scratch if zygote else scratch / files[0]
        return [*python, str(HERE / "worker.py"), *args[:2], str(target), *args[2:]]
    flags = [tier.bwrap, *_namespace_flags(), "--hostname", "sandbox", "--uid", "65534", "--gid", "65534",
             "--ro-bind", "/usr", "/usr"]
    for top in ("bin", "lib", "lib64", "sbin"):
        path = Path("/") / top
        if path.is_symlink():
            flags += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            flags += ["--ro-bind", str(path), str(path)]
    for extra in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/sys/devices/system/cpu"):
        flags += ["--ro-bind-try", extra, extra]
    # The tmpfs folders come first: a Python install under /tmp (a venv) is then bound on top.
    # /dev is a tmpfs of bubblewrap's own, with no size: read-only, so /dev/shm holds nothing.
    flags += ["--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev",
              "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp",
              "--size", str(TMPFS_BYTES), "--tmpfs", str(WORK)]
    for root in python_roots():
        flags += ["--ro-bind", str(root), str(root)]
    for device in gpu_files() if gpu else []:  # (the fresh /proc already shows the driver's entries)
        if not device.startswith("/proc/"):
            flags += ["--dev-bind-try" if device.startswith("/dev/") else "--ro-bind-try", device, device]
    for name in WORKER_FILES:
        flags += ["--ro-bind", str(HERE / name), str(INSIDE / name)]
    for name in files:
        flags += ["--ro-bind", str(scratch / name), str(WORK / name)]
    flags += ["--remount-ro", "/",  # the namespace's own root too: only /tmp and the work folder are writable
              "--chdir", str(WORK), "--clearenv",
              "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", str(WORK),
              "--setenv", "TMPDIR", "/tmp", "--setenv", "LANG", "C.UTF-8"]
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE",
                "OPENBLAS_L2_SIZE"):
        value = "1" if key.endswith("NUM_THREADS") else os.environ.get(key)
        if value is not None:
            flags += ["--setenv", key, value]
    target = WORK if zygote else WORK / files[0]
    return [*flags, *python, str(INSIDE / "worker.py"), *args[:2], str(target), *args[2:]]
