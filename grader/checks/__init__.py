"""Checks: input strategies, comparison, the checks themselves, and the engine that runs them.

Trusted side: references are computed and verdicts decided here, never in
the student's process.
"""
