"""The public API: __all__ lists exactly what grader exports, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import grader


def test_all_is_complete_and_importable() -> None:
    public = {name for name in vars(grader) if not name.startswith("_")
              and not isinstance(getattr(grader, name), type(sys))}
    assert set(grader.__all__) == public
    for name in grader.__all__:
        assert getattr(grader, name) is not None


def test_importing_the_cli_does_not_import_torch() -> None:
    """The student's process is started before torch loads here, so the two imports overlap."""
    code = "import sys, grader.cli, grader.grading; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
