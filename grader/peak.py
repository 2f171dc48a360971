"""The grader's own peak memory, for the tests that attack it.

Trusted side. When ``SEQGRADE_PEAK_FILE`` names a file, every grading
process (the ``grade`` command and each process of a class run's pool)
appends one line to it as it exits: its pid and its peak resident memory in
KiB (``getrusage(RUSAGE_SELF)``: this process alone, never the student
processes it started). Nothing is written otherwise.
"""

from __future__ import annotations

import os

VARIABLE = "SEQGRADE_PEAK_FILE"


def report() -> None:
    path = os.environ.get(VARIABLE)
    if not path:
        return
    import resource

    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        with open(path, "a") as file:
            file.write(f"{os.getpid()} {peak_kib}\n")
    except OSError:
        pass


def report_at_exit() -> None:
    """In a pool's process: report when multiprocessing finalizes it (atexit does not run there)."""
    if os.environ.get(VARIABLE):
        from multiprocessing import util

        util.Finalize(None, report, exitpriority=0)
