"""Hostile submissions through the real ``grade`` entry point (sandbox-notes §7).

Each case runs ``grade exercise-05 --file <hostile file> --json`` against a
temporary copy of the course with short limits, and asserts: the verdict (no
points, exit 1, valid JSON), that nothing outside the scratch folder changed,
that no process it started survives, that a loopback listener saw no
connection, and that the run ended within its limit plus a margin. Cases that
need bubblewrap skip, with the reason, only where ``grade doctor``'s probe
finds none; CI installs it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.sandbox.confine import probe
from tests.conftest import ROOT, Run, copy_course, grade

LIMITS = "call_seconds: 2\n    exercise_seconds: 20\n    memory_mb: 4096\n    output_kb: 256"
MARGIN = 25  # seconds on top of exercise_seconds: interpreter starts on a busy 2-core machine
BWRAP = probe().bwrap is not None
needs_bwrap = pytest.mark.skipif(not BWRAP, reason=f"bubblewrap unavailable: {probe().describe()}")


def _landlock() -> bool:
    from grader.sandbox import landlock

    return landlock.abi() >= 1


LANDLOCK = _landlock()
# The cases that need a confined filesystem run under each tier that gives one.
needs_landlock = pytest.mark.skipif(not LANDLOCK, reason="no Landlock in this kernel")
FENCED = [pytest.param("bubblewrap", marks=needs_bwrap), pytest.param("landlock", marks=needs_landlock)]


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("course")
    for name in ("exercises", "solutions"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    text = (ROOT / "course.yaml").read_text()
    start = text.index("call_seconds")
    end = text.index("exercises:\n  - id")
    (root / "course.yaml").write_text(text[:start] + LIMITS + "\n" + text[end:])
    (root / "students" / "bob").mkdir(parents=True)
    (root / "students" / "bob" / "ex05_forget_gate.py").write_text("# bob's work\n")
    return root


class Listener:
    """A TCP server on loopback that records whether anyone connected."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        self.stop = True
        self.thread.join()
        self.sock.close()


def tree_digest(root: Path) -> dict[str, str]:
    """Each file's content, mode, owner and times: what a student with root's privileges could change."""
    out = {}
    for path in sorted([root, *root.rglob("*")]):
        if "__pycache__" in path.parts or path.is_symlink():
            continue
        info = path.stat()
        meta = f"{info.st_mode:o} {info.st_uid}:{info.st_gid} {info.st_mtime_ns}"
        content = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        out[str(path)] = f"{meta} {content}"
    return out


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@dataclass
class Outcome:
    run: Run
    result: dict[str, object]
    seconds: float
    listener: Listener


@pytest.fixture
def attack(course: Path, tmp_path: Path) -> Iterator[object]:
    """Run a hostile file; check the invariants every case shares; hand back what happened."""
    listener = Listener()
    marker = f"hostile-{uuid.uuid4().hex[:12]}"
    watched = [course, ROOT / "grader", ROOT / "solutions", Path.home() / "results.json"]
    before = {str(p): tree_digest(p) if p.is_dir() else p.exists() for p in watched}
    # This run's own temporary folder: what another grader on the machine leaves in /tmp is not ours to judge.
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()

    def run(source: str, env: dict[str, str] | None = None, name: str = "ex05_forget_gate.py") -> Outcome:
        env = {**(env or {}), "TMPDIR": str(private_tmp)}
        student = tmp_path / "submission" / name
        student.parent.mkdir(exist_ok=True)
        body = source.replace("MARKER", marker).replace("PORT", str(listener.port))
        text = textwrap.dedent(body).replace("COURSE", str(course))
        student.write_text(as_notebook(text) if name.endswith(".ipynb") else text)
        start = time.monotonic()
        # A recorded grade (--json) below the fenced tiers needs the explicit flag.
        unfenced = (env or {}).get("GRADER_SANDBOX") in ("seccomp", "rlimits")
        done = grade("exercise-05", "--file", str(student), "--json", *["--allow-unsandboxed"] * unfenced,
                     cwd=course, env=env, timeout=120)
        seconds = time.monotonic() - start
        assert done.code == 1, (done.code, done.err[-2000:])
        result = json.loads(done.out)  # exactly one valid JSON document, whatever was printed
        assert result["score"] < result["max_score"]
        assert seconds < 20 + MARGIN
        return Outcome(done, result, seconds, listener)

    yield run
    time.sleep(0.2)
    survivors = processes_with(marker)
    listener.close()
    after = {str(p): tree_digest(p) if p.is_dir() else p.exists() for p in watched}
    assert survivors == [], "processes outlived the grading"
    assert listener.connections == 0, "the submission reached a loopback listener"
    assert after == before, "a file outside the scratch folder changed"
    assert list(private_tmp.glob("grade-*")) == [], "a scratch folder was left"


def outputs(outcome: Outcome) -> str:
    tests = outcome.result["tests"]
    assert isinstance(tests, list)
    return "\n".join([str(outcome.result["output"])] + [str(t["output"]) for t in tests])


CASES = {
    "write-results-json": """
        import json, os, torch
        for folder in [".", "..", os.path.expanduser("~"), "COURSE"]:
            try:
                with open(os.path.join(folder, "results.json"), "w") as f:
                    json.dump({"score": 5, "max_score": 5, "tests": []}, f)
            except OSError:
                pass
        def forget_gate(h_prev, x_t, W_f, b_f):
            return torch.zeros(h_prev.shape, dtype=h_prev.dtype)
    """,
    "fork-bomb": """
        import os
        def forget_gate(h_prev, x_t, W_f, b_f):
            while True:
                os.fork()
    """,
    "thread-bomb": """
        import threading, time
        def forget_gate(h_prev, x_t, W_f, b_f):
            for _ in range(100000):
                threading.Thread(target=time.sleep, args=(600,)).start()
    """,
    "setsid-daemon": """
        import os, subprocess, sys
        def forget_gate(h_prev, x_t, W_f, b_f):
            try:
                subprocess.Popen(["sleep", "600", "MARKER"], start_new_session=True)
            except OSError:
                pass
            try:
                if os.fork() == 0:
                    os.setsid()
                    if os.fork() == 0:
                        os.execvp("sleep", ["sleep", "600", "MARKER"])
                    os._exit(0)
            except OSError:
                pass
            raise RuntimeError("spawned")
    """,
    "memory-bomb-bytearrays": """
        def forget_gate(h_prev, x_t, W_f, b_f):
            hoard = []
            while True:
                hoard.append(bytearray(64 << 20))
    """,
    "shared-mmap-bomb": """
        import mmap
        def forget_gate(h_prev, x_t, W_f, b_f):
            m = mmap.mmap(-1, 8 << 30, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
            for i in range(0, len(m), 4096):
                m[i] = 1
    """,
    "stderr-flood": """
        import sys
        def forget_gate(h_prev, x_t, W_f, b_f):
            while True:
                sys.stderr.write("y" * 65536)
    """,
    "disk-fill": """
        import os, tempfile
        def forget_gate(h_prev, x_t, W_f, b_f):
            for folder in [".", tempfile.gettempdir()]:
                for i in range(10000):
                    try:
                        with open(os.path.join(folder, f"fill{i}"), "wb") as f:
                            while True:
                                f.write(b"0" * (1 << 20))
                    except OSError:
                        break
            raise RuntimeError("disk is full")
    """,
    "ignores-signals-and-loops": """
        import signal
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGXCPU):
            signal.signal(sig, signal.SIG_IGN)
        def forget_gate(h_prev, x_t, W_f, b_f):
            while True:
                pass
    """,
    "ptrace-and-kill-the-grader": """
        import ctypes, os, signal
        def forget_gate(h_prev, x_t, W_f, b_f):
            libc = ctypes.CDLL(None)
            libc.ptrace(16, os.getppid(), 0, 0)  # PTRACE_ATTACH
            for pid in (os.getppid(), -1):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            raise RuntimeError("still here")
    """,
    "unicode-and-binary-output": """
        import sys
        sys.stdout.buffer.write(b"\\xff\\xfe\\x1b[31mred\\x1b[0m {\\"score\\": 5}\\n")
        def forget_gate(h_prev, x_t, W_f, b_f):
            sys.stdout.buffer.write(b"\\x1b]0;pwned\\x07\\xc3\\x28")
            raise ValueError("\\x1b[2J bad \\udcff")
    """,
    "import-side-effects": """
        import torch
        torch.set_default_dtype(torch.float64)
        print("x" * 1000)
        def forget_gate(h_prev, x_t, W_f, b_f):
            return torch.zeros(3)
    """,
}


def as_notebook(source: str) -> str:
    """``source`` as a notebook: a code cell per blank-line-separated block, then a magic, a shell escape."""
    import nbformat

    cells = [nbformat.v4.new_code_cell("%load_ext autoreload\n!touch MARKER-shell")]
    cells += [nbformat.v4.new_code_cell(block) for block in source.split("\n\n") if block.strip()]
    return str(nbformat.writes(nbformat.v4.new_notebook(cells=cells)))


@pytest.mark.parametrize("name", ["ex05_forget_gate.py", "ex05_forget_gate.ipynb"], ids=["file", "notebook"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_submission(attack: object, case: str, name: str) -> None:
    outcome = attack(CASES[case], name=name)  # type: ignore[operator]
    if case in ("ignores-signals-and-loops",):
        assert "Time limit" in outputs(outcome)
    if case in ("stderr-flood",):
        assert "Output limit" in outputs(outcome)
    if case in ("memory-bomb-bytearrays", "shared-mmap-bomb"):
        # Zeroing gigabytes can take longer than the call limit: either limit may stop it first.
        assert any(s in outputs(outcome) for s in ("Memory limit", "Time limit", "ended during the call"))


FALLBACKS = [(tier, case) for tier in ("landlock", "seccomp", "rlimits")
             for case in ("fork-bomb", "stderr-flood", "ignores-signals-and-loops", "setsid-daemon",
                          "memory-bomb-bytearrays", "unicode-and-binary-output")
             # Without seccomp or namespaces, started processes are bounded only by the time limit.
             if not (tier == "rlimits" and case in ("fork-bomb", "setsid-daemon"))]


@pytest.mark.parametrize(("tier", "case"), FALLBACKS, ids=[f"{t}-{c}" for t, c in FALLBACKS])
def test_fallback_tiers_still_hold(attack: object, tier: str, case: str) -> None:
    """With bubblewrap (and then Landlock, then seccomp) switched off, the same cases still earn nothing."""
    attack(CASES[case], env={"GRADER_SANDBOX": tier})  # type: ignore[operator]


@pytest.mark.parametrize("tier", FENCED)
def test_reading_solutions_and_secrets_finds_nothing(attack: object, tier: str) -> None:
    outcome = attack("""
        import os
        def forget_gate(h_prev, x_t, W_f, b_f):
            found = []
            for path in ["COURSE/solutions/ex05_forget_gate.py", "COURSE/course.yaml",
                         f"/proc/{os.getppid()}/environ", f"/proc/{os.getppid()}/cmdline", "/etc/shadow"]:
                try:
                    found.append(open(path).read()[:300])
                except OSError as e:
                    found.append(type(e).__name__)
            found.append(repr(sorted(os.environ)))
            raise RuntimeError(repr(found))
    """, env={"GRADER_SANDBOX": tier})
    shown = outputs(outcome)
    assert "def forget_gate" not in shown and "gate_preactivation" not in shown
    assert "exercises_dir" not in shown and "PYTEST" not in shown


METADATA = """
    import os, stat, sys
    report = []
    target = "COURSE/solutions/ex05_forget_gate.py"
    for name, change in [("chmod", lambda: os.chmod(target, 0o4777)),
                         ("chown", lambda: os.chown(target, 1, 1)),
                         ("utime", lambda: os.utime(target, (0, 0))),
                         ("xattr", lambda: os.setxattr(target, "user.owned", b"1")),
                         ("chmod-dir", lambda: os.chmod("COURSE/solutions", 0o777)),
                         ("setuid", lambda: os.setuid(0)), ("mknod", lambda: os.mknod("COURSE/node")),
                         ("memfd", lambda: os.memfd_create("hoard"))]:
        try:
            change()
            report.append("CHANGED " + name)
        except (OSError, AttributeError) as e:
            report.append(type(e).__name__)
    caps = [line for line in open("/proc/self/status") if line.startswith(("CapEff", "CapPrm"))]
    def forget_gate(h_prev, x_t, W_f, b_f):
        raise RuntimeError(repr(report) + repr(caps))
"""


@pytest.mark.parametrize("tier", [*FENCED, "seccomp"])
def test_student_code_holds_no_privilege_and_changes_no_metadata(attack: object, tier: str) -> None:
    """As root, student code once set a setuid bit, chmod-ed solutions/ and chowned a solution file."""
    outcome = attack(METADATA, env={"GRADER_SANDBOX": tier})  # type: ignore[operator]
    shown = outputs(outcome)
    assert "CHANGED" not in shown and "RuntimeError" in shown
    assert re.search(r"CapEff[^0-9a-f]*0{16}", shown) and re.search(r"CapPrm[^0-9a-f]*0{16}", shown), shown


@pytest.mark.parametrize("tier", FENCED)
def test_writes_outside_the_scratch_folder_fail(attack: object, tier: str) -> None:
    import site
    outcome = attack(f"""
        import os, sys
        def forget_gate(h_prev, x_t, W_f, b_f):
            report = []
            for path in ["{site.getsitepackages()[0]}/evil.pth", "/opt/grader/sitecustomize.py",
                         "COURSE/students/bob/ex05_forget_gate.py", "COURSE/solutions/ex05_forget_gate.py"]:
                try:
                    with open(path, "w") as f:
                        f.write("import os; os.system('echo owned')")
                    report.append("WROTE " + path)
                except OSError as e:
                    report.append(type(e).__name__)
            raise RuntimeError(repr(report))
    """, env={"GRADER_SANDBOX": tier})
    assert "WROTE" not in outputs(outcome)


@pytest.mark.parametrize("tier", FENCED)
def test_no_network_not_even_loopback(attack: object, tier: str) -> None:
    outcome = attack("""
        import socket
        def forget_gate(h_prev, x_t, W_f, b_f):
            report = []
            for family, kind, address in [(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", PORT)),
                                          (socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", PORT)),
                                          (socket.AF_UNIX, socket.SOCK_STREAM, "/tmp/.X11-unix/X0")]:
                try:
                    s = socket.socket(family, kind)
                    s.settimeout(1)
                    s.connect(address)
                    s.send(b"hello")
                    report.append("CONNECTED")
                except OSError as e:
                    report.append(type(e).__name__)
            raise RuntimeError(repr(report))
    """, env={"GRADER_SANDBOX": tier})
    assert "CONNECTED" not in outputs(outcome)


@needs_bwrap
@pytest.mark.skipif(os.geteuid() != 0, reason="the remount escape only matters when grading as root")
def test_remount_escape_and_nested_namespaces_are_refused(attack: object) -> None:
    outcome = attack("""
        import ctypes, os
        def forget_gate(h_prev, x_t, W_f, b_f):
            libc = ctypes.CDLL(None, use_errno=True)
            MS_REMOUNT, MS_BIND = 32, 4096
            results = [
                libc.mount(None, b"/opt/grader", None, MS_REMOUNT | MS_BIND, None),
                libc.unshare(0x10000000),  # CLONE_NEWUSER
            ]
            try:
                open("/opt/grader/worker.py", "a").write("# owned")
                results.append("WROTE")
            except OSError as e:
                results.append(type(e).__name__)
            raise RuntimeError(repr(results))
    """)
    shown = outputs(outcome)
    assert "WROTE" not in shown and "[-1, -1," in shown


@pytest.mark.parametrize("kind", ["symlink", "fifo", "huge", "directory"])
def test_unsafe_submission_files_are_rejected_before_running(course: Path, tmp_path: Path, kind: str) -> None:
    target = tmp_path / "ex05_forget_gate.py"
    if kind == "symlink":
        target.symlink_to(course / "solutions" / "ex05_forget_gate.py")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "huge":
        with open(target, "wb") as f:
            f.truncate(1 << 30)
    else:
        target.mkdir()
    start = time.monotonic()
    done = grade("exercise-05", "--file", str(target), "--json", cwd=course, timeout=60)
    assert done.code == 1
    result = json.loads(done.out)
    assert result["score"] == 0 and "cannot be graded" in result["output"]
    assert time.monotonic() - start < 30
    if kind == "fifo":
        assert stat.S_ISFIFO(os.lstat(target).st_mode)


def test_shadow_modules_beside_the_submission_are_ignored(course: Path, tmp_path: Path) -> None:
    folder = tmp_path / "student"
    folder.mkdir()
    for name in ("torch.py", "numpy.py", "sitecustomize.py", "usercustomize.py"):
        (folder / name).write_text("raise SystemExit('shadowed')\n")
    (folder / "ex05_forget_gate.py").write_text(
        "import torch\n\ndef forget_gate(h_prev, x_t, W_f, b_f):\n"
        "    return torch.sigmoid(torch.cat([h_prev, x_t], -1) @ W_f.T + b_f)\n")
    done = grade("exercise-05", "--file", str(folder / "ex05_forget_gate.py"), "--json", cwd=course)
    assert done.code == 0, done.out[-2000:]


@pytest.mark.parametrize("cap", ["bubblewrap", "landlock", "seccomp", "rlimits"])
def test_probe_picks_the_strongest_tier_allowed(cap: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a machine with bubblewrap (CI installs it) the probe picks it; the cap lowers it."""
    monkeypatch.setenv("GRADER_SANDBOX", cap)
    probe.cache_clear()
    try:
        tier = probe()
    finally:
        probe.cache_clear()
    available = ["bubblewrap"] * BWRAP + ["landlock"] * LANDLOCK + ["seccomp", "rlimits"]
    expected = next(t for t in available if ["bubblewrap", "landlock", "seccomp", "rlimits"].index(t)
                    >= ["bubblewrap", "landlock", "seccomp", "rlimits"].index(cap))
    assert tier.name == expected, tier.describe()
    assert tier.seccomp == (tier.name != "rlimits")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_doctor_and_the_unconfined_warning_speak_the_students_language(lang: str) -> None:
    """grade doctor names the tier; where only resource limits hold, --json warns on stderr (the
    feedback itself warns beneath the score: tests/test_feedback.py), in en and ko alike."""
    from grader.feedback.messages import SANDBOX, text

    other = "ko" if lang == "en" else "en"
    done = grade("doctor", "--lang", lang)
    assert done.code == 0 and done.out.startswith(text(SANDBOX, "tier", lang, tier=probe().name))
    assert text(SANDBOX, "official", lang, answer="") in done.out
    as_json = grade("exercise-01", "--json", "--allow-unsandboxed", "--lang", lang,
                    env={"GRADER_SANDBOX": "rlimits"})
    on_stderr = " ".join(as_json.err.split())  # stdout is the JSON document alone
    assert text(SANDBOX, "unconfined", lang) in on_stderr
    assert text(SANDBOX, "unconfined", other) not in on_stderr
    assert text(SANDBOX, "capped", lang, detail="rlimits") in on_stderr
    assert json.loads(as_json.out)["score"] == 0


def _uid_tier_unavailable() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "the uid tier is for a grader that runs as root"
    if shutil.which("unshare") is None:
        return "util-linux unshare is not installed"
    if sys.prefix != sys.base_prefix:
        return "a virtual environment cannot be bound elsewhere as a whole"
    return None


@pytest.mark.skipif(_uid_tier_unavailable() is not None, reason=str(_uid_tier_unavailable()))
def test_uid_tier_runs_student_code_as_nobody_with_the_course_sealed() -> None:
    """Gradescope's case: root, no namespaces for bwrap, no Landlock. The Python install and the
    grader are bound where an unprivileged user can read them (as on Gradescope), in a private
    mount namespace of this test; the course is world-readable until the grader seals it."""
    base = Path(tempfile.mkdtemp(prefix="seqgrade-uid-", dir="/tmp"))
    try:
        base.chmod(0o755)
        course = copy_course(base / "course")
        for path in [course, *course.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        (base / "tmp").mkdir(mode=0o755)
        student = base / "ex05_forget_gate.py"
        student.write_text(textwrap.dedent(METADATA).replace("COURSE", str(course)).replace(
            "raise RuntimeError(repr(report) + repr(caps))",
            "raise RuntimeError(repr(report) + repr(caps) + open(COURSE_SOLUTION).read())").replace(
            "import os, stat, sys", f"import os, stat, sys\nCOURSE_SOLUTION = {str(course)!r} + "
                                    "'/solutions/ex05_forget_gate.py'"))
        before = tree_digest(course / "solutions")
        python, repo = base / "py", base / "repo"
        python.mkdir()
        repo.mkdir()
        executable = python / Path(sys.executable).relative_to(sys.prefix)
        script = (f"mount --bind {sys.prefix} {python} && mount --bind {ROOT} {repo} && "
                  f"exec {executable} -m grader exercise-05 --file {student} --json")
        env = {**os.environ, "GRADER_SANDBOX": "uid", "PYTHONPATH": str(repo), "TMPDIR": str(base / "tmp"),
               "LANG": "C.UTF-8"}
        done = subprocess.run(["unshare", "-m", "sh", "-c", script], cwd=course, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 1, done.stderr[-2000:]
        result = json.loads(done.stdout)
        assert result["extra_data"]["sandbox"] == ["uid"] and result["score"] == 0
        shown = "\n".join(t["output"] for t in result["tests"])
        assert "CHANGED" not in shown and "PermissionError" in shown and "gate_preactivation" not in shown
        assert (course / "solutions").stat().st_mode & 0o077 == 0  # sealed before student code ran
        after = tree_digest(course / "solutions")
        assert {k: v for k, v in after.items() if k != str(course / "solutions")} == \
            {k: v for k, v in before.items() if k != str(course / "solutions")}
        assert list((base / "tmp").glob("grade-*")) == []
    finally:
        shutil.rmtree(base, ignore_errors=True)


DISK_FILL = """
    import mmap, os, tempfile
    def forget_gate(h_prev, x_t, W_f, b_f):
        wrote = 0
        for folder in [".", tempfile.gettempdir(), "/tmp", "/dev/shm", "/var/tmp"]:
            for i in range(64):
                try:
                    with open(os.path.join(folder, f"fill-MARKER-{i}"), "wb", buffering=0) as f:
                        for _ in range(16):
                            wrote += f.write(b"0" * (1 << 20))
                except OSError:
                    break
        try:  # writes that would bypass write(2): a shared mapping of a file
            fd = os.open("mapped-MARKER", os.O_RDWR | os.O_CREAT)
            os.ftruncate(fd, 1 << 24)
            mmap.mmap(fd, 1 << 24, mmap.MAP_SHARED)[:] = b"1" * (1 << 24)
            wrote += 1 << 24
        except (OSError, ValueError):
            pass
        raise RuntimeError(f"wrote {wrote >> 20} MiB")
"""


@pytest.mark.parametrize("tier", [*FENCED, "seccomp", "rlimits"])
def test_a_disk_fill_is_bounded_in_every_tier(attack: object, tier: str) -> None:
    """Outside bubblewrap a submission once filled the file system; now every tier bounds the total."""
    outcome = attack(DISK_FILL, env={"GRADER_SANDBOX": tier})  # type: ignore[operator]
    shown = outputs(outcome)
    wrote = [int(n) for n in re.findall(r"wrote (\d+) MiB", shown)]
    assert "Disk limit" in shown or (wrote and max(wrote) <= 192), shown[:2000]
    # The seccomp and rlimits tiers do not fence files: what is left is bounded, and cleaned up here.
    shared = ("/tmp", "/var/tmp", "/dev/shm")
    leftovers = [p for folder in shared for p in Path(folder).glob("fill-hostile-*")]
    left = sum(p.stat().st_size for p in leftovers)
    for path in leftovers:
        path.unlink()
    assert left <= 200 << 20
