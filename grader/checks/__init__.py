"""Checks: input strategies, comparison, the checks themselves, and the engine that runs them.

Trusted side: references are computed and verdicts decided here, never in
the student's process.
"""

import os
import tempfile

from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis caches into ./.hypothesis by default: grading must not write into the
# student's (or the course's) folder, so its cache lives in the temp folder instead.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), f"seqgrade-hypothesis-{os.getuid()}"))
