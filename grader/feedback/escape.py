"""Student text made inert for where it lands: a terminal, Markdown, HTML, a CSV cell.

Trusted side. A student controls their folder name, their exception messages
and what their code prints; none of it may become structure in a file an
instructor opens (a formula in a spreadsheet, a link or heading in Markdown,
a tag in HTML) or reorder and recolour an instructor's terminal. Names that
only look alike (a Cyrillic "а" for a Latin "a", full-width letters) are
found by ``look_alike``, so a report can flag them.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))}
"""C0 and C1 control characters (ANSI escapes; CSI U+009B and its kin) are spelled out ..."""
CONTROL |= {c: f"\\u{c:04x}" for c in (0x061C, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2028, 0x2029,
                                       *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF)}
"""... and so are the invisible marks that reorder or hide text (bidi overrides and isolates, zero-widths)."""


def terminal(text: str) -> str:
    """Safe to print: valid UTF-8, no control character or bidi mark left raw."""
    return text.encode("utf-8", "replace").decode("utf-8").translate(CONTROL)


# Not "_": names keep their underscores (ex05_forget_gate.py); intraword "_" is no emphasis anyway.
_STRUCTURE = re.compile(r"([\\`*\[\]<>#|!~&:@])|(?<![\w.])(www)\.", re.IGNORECASE)


def markdown(text: str) -> str:
    """Literal text in Markdown, on one line: what could make a link, image, tag, emphasis, code,
    heading, table cell or autolink (``:`` of a URL, ``@`` of an address, ``www.``) is backslash-escaped."""
    flat = " ".join(terminal(text).splitlines())
    return _STRUCTURE.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\.", flat)


def html_text(text: str) -> str:
    return html.escape(terminal(text), quote=True)


_FORMULA = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(text: str) -> str:
    """A cell no spreadsheet runs as a formula (OWASP: a leading ' before = + - @ tab CR)."""
    text = terminal(text)
    return "'" + text if text.startswith(_FORMULA) else text


@functools.cache
def _prototype(character: str) -> str:
    from confusable_homoglyphs import confusables

    found = confusables.is_confusable(character, greedy=True, preferred_aliases=["latin"])
    for item in found or []:
        for glyph in item.get("homoglyphs", []):
            if glyph["c"].isascii():
                return str(glyph["c"])
    return character


def skeleton(name: str) -> str:
    """What ``name`` looks like: compatibility-normalized, case-folded, each confusable as its Latin twin."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(_prototype(c) if not c.isascii() else c for c in folded)


def look_alike(names: Iterable[str]) -> list[tuple[str, ...]]:
    """Groups of different names that look the same on screen (homoglyphs, Unicode normalization)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for name in names:
        groups[skeleton(name)].append(name)
    return [tuple(sorted(g)) for g in groups.values() if len(g) > 1]
