"""Similarity leads as HTML: each pair's files side by side, with the evidence (``grader.similarity``).

Trusted side, instructor-facing (English, like the class report). Every
student-controlled string (names, code, values) is escaped; the page runs no script.
"""

from __future__ import annotations

from grader.feedback import escape
from grader.feedback.explain import apart
from grader.similarity import RARE_GROUP, CodeMatch, SharedOutput, Similarity

MAX_SHOWN = 20_000
"""Characters of a file shown; the rest is cut (a report must open, whatever a file holds)."""

CAVEAT = ("These are leads for a person to look at, never findings. Alike code can come from a shared "
          "tutorial, a study group or the one natural way to write a short function; the same wrong values "
          "from the same misunderstanding. Read the files before drawing any conclusion.")

STYLE = (".pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(22em,1fr));gap:1em}"
         ".pair pre{overflow:auto;font-size:.8em;background:#f6f6f6;padding:.5em;max-height:40em}"
         ".values{white-space:pre-wrap}mark{background:#ffe08a}details{margin:1em 0}"
         "summary{cursor:pointer;font-weight:bold}")


def code_evidence(match: CodeMatch) -> str:
    a, b = match.shares
    return f"{a:.0%} and {b:.0%} of their code alike (stub and common passages excluded)"


def behaviour_evidence(shared: SharedOutput) -> str:
    return (f"bit-identical wrong values on {len(shared.checks)} check(s), "
            "and no known mistake explains them")


def leads_html(similarity: Similarity) -> list[str]:
    """One block per lead: the evidence and the files side by side."""
    parts = []
    if not similarity.code_checked:
        parts.append("<p>Code was not compared: copydetect is not installed "
                     "(pip install 'seqgrade[class]').</p>")
    for match in similarity.code:
        sources = [_highlighted(similarity.sources.get((s, match.exercise), ""), regions)
                   for s, regions in zip(match.students, match.regions, strict=True)]
        parts.append(_block(match.exercise, match.students, code_evidence(match), "", sources))
    for shared in similarity.behaviour:
        if shared.common:
            continue
        sources = [_highlighted(similarity.sources.get((s, shared.exercise), ""), ())
                   for s in shared.students[:RARE_GROUP]]
        parts.append(_block(shared.exercise, shared.students, behaviour_evidence(shared),
                            _shared_values(shared), sources))
    if not similarity.code and not any(not s.common for s in similarity.behaviour):
        parts.append("<p>No leads.</p>")
    return parts


def _block(exercise: str, students: tuple[str, ...], evidence: str, detail: str, sources: list[str]) -> str:
    e = escape.html_text
    names = " ↔ ".join(e(s) for s in students)
    columns = "".join(f"<div><h4>{e(s)}</h4><pre>{code}</pre></div>"
                      for s, code in zip(students, sources, strict=False))
    return (f'<details open><summary>{e(exercise)}: {names}: {e(evidence)}</summary>{detail}'
            f'<div class="pair">{columns}</div></details>')


def _shared_values(shared: SharedOutput) -> str:
    """The failure they share: the call, its input and what they returned against the reference."""
    e, failure = escape.html_text, shared.failure
    lines = ["identical on:", *(f"    {check}" for check in shared.checks)]
    if failure.call:
        lines.append(f"on {failure.call} with")
        lines += [f"    {name} = {value}" for name, value in failure.inputs]
    if failure.mismatch is not None:
        m = failure.mismatch
        got, want = apart(m.obtained, m.expected)
        lines.append(f"each returned {got} at {list(m.index)} where the reference gives "
                     f"{want} ({m.mismatched} of {m.total} values differ)")
    return f'<pre class="values">{e(chr(10).join(lines))}</pre>'


def _highlighted(source: str, regions: tuple[tuple[int, int], ...]) -> str:
    """``source`` escaped, its matched ``regions`` (character offsets) marked, cut at ``MAX_SHOWN``."""
    shown, cut = source[:MAX_SHOWN], len(source) > MAX_SHOWN
    out, at = [], 0
    for start, end in sorted(regions):
        start, end = max(start, at), min(end, len(shown))
        if start >= end:
            continue
        out += [escape.html_text(shown[at:start]), f"<mark>{escape.html_text(shown[start:end])}</mark>"]
        at = end
    out.append(escape.html_text(shown[at:]))
    if cut:
        out.append(escape.html_text(f"\n... ({len(source) - MAX_SHOWN} more characters not shown)"))
    return "".join(out)
