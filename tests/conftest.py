"""Shared fixtures and the hypothesis profile for the framework's own tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from grader.course import Course, load_course

ROOT = Path(__file__).resolve().parent.parent

# Derandomized so CI and a laptop see the same examples; no deadline on a shared 2-core machine.
settings.register_profile("ci", derandomize=True, deadline=None, database=None, max_examples=50,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, each test process takes its share of the cores for torch, as a class run's
    grading processes do: a thread per core in each would spin on the cores the others need."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:
        import torch

        from grader.classroom import threads_each

        torch.set_num_threads(threads_each(int(workers)))


@pytest.fixture(scope="session")
def course() -> Course:
    return load_course(ROOT / "course.yaml")


NUMBERS = [entry.number for entry in load_course(ROOT / "course.yaml").exercises]
"""Every exercise of the shipped course, from course.yaml: tests parametrized by it cover a new one."""


@dataclass
class Run:
    code: int
    out: str
    err: str


def grade(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
    """Run the real ``grade`` entry point (python -m grader) as a student would."""
    full_env = {**os.environ, "LANG": "C.UTF-8", "COLUMNS": "100", **(env or {})}
    done = subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True,
                          text=True, env=full_env, timeout=timeout)
    return Run(done.returncode, done.stdout, done.stderr)


def copy_course(dest: Path) -> Path:
    """A private copy of the shipped course at ``dest``, so tests can break files freely."""
    for name in ("course.yaml", "exercises", "solutions"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, dest / name)
    return dest
