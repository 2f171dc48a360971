"""A Jupyter notebook -> the Python file a grader grades: the cells that define an exercise's functions.

Trusted side; nothing here runs the notebook. nbformat reads it; each code cell
is parsed; IPython magics (``%...``, ``%%...``) and shell escapes (``!...``) are
left out and noted, never run. Of the rest, only definitions are kept: the
exercise's functions as last defined (a later cell wins, as in the kernel) and,
transitively, the imports, helpers, classes and constants they use. Calls at the
top level (a training loop, a plot, ``check(...)``) are not taken.

The program carries its own line map as comments: a ``# seqgrade:cell C L`` line
says the next line is line L of code cell C. ``LineMap.of`` reads it back, so a
line number from the student's process names "cell 7, line 3", wherever the
program was graded (a class run, Gradescope), with no side table to keep.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader.results import Failure, Kind, LeftOut

if TYPE_CHECKING:
    from grader.course import Course, ExerciseEntry

SUFFIX = ".ipynb"
MAX_NOTEBOOK_BYTES = 64 << 20
"""A notebook may carry megabytes of outputs (plots as base64); only its code is graded."""
MAX_CODE_CHARS = 4 << 20
MAX_CELLS = 10_000
"""Bounds on what the trusted side parses: a course's notebook holds far less code than this."""
HEADER = "# seqgrade:notebook"
SCRIPT_HEADER = "# seqgrade:script"
"""The header of a notebook saved as a script (``exported``): its lines are the file's, not cells'."""
MARK = "# seqgrade:cell "
LEFT_OUT = "# seqgrade:left-out "

UNPARSABLE = (SyntaxError, ValueError, RecursionError, MemoryError)
"""What ``ast.parse`` raises on a cell it cannot read: a syntax error, a NUL byte, nesting too deep
for the parser (a student's cell must never crash the trusted side that reads it)."""

_MARK_LINE = re.compile(r"# seqgrade:cell (\d{1,6}) (\d{1,6})")
_LEFT_OUT_LINE = re.compile(r"# seqgrade:left-out (\d{1,6}) (\d{1,6}) (magic|shell|help|unparsable)")
_HELP = re.compile(r"^\s*[\w.]+\?\??\s*$|^\s*\?")


@dataclass(frozen=True, slots=True)
class Statement:
    cell: int
    line: int
    """Where it starts: cell ``cell`` (1-based, every cell counted, as a reader counts), line ``line``."""
    source: str
    defines: frozenset[str]
    uses: frozenset[str]
    future: bool = False


@dataclass(slots=True)
class LineMap:
    """Program line -> (cell, line in that cell), and the lines left out, as the program's comments say."""

    lines: dict[int, tuple[int, int]] = field(default_factory=dict)
    left_out: list[LeftOut] = field(default_factory=list)
    script: bool = False
    """A notebook saved as a script, as one cell: its lines are named as the file's lines."""

    @classmethod
    def of(cls, program: str) -> LineMap | None:
        """The map a converted notebook's program carries; None for a plain Python file."""
        first = program.partition("\n")[0].rstrip("\r")
        if first not in (HEADER, SCRIPT_HEADER):  # every graded file comes here: split only a program
            return None
        rows = program.splitlines()
        found = cls(script=first == SCRIPT_HEADER)
        at: tuple[int, int] | None = None
        for number, row in enumerate(rows, start=1):
            # Student text can hold such comments too: only exact ones count, and notes only come first
            # (a forged mark can at most misnumber the student's own lines, never break the grader).
            mark, note = _MARK_LINE.fullmatch(row), _LEFT_OUT_LINE.fullmatch(row)
            if mark:
                at = (int(mark[1]), int(mark[2]) - 1)
            elif note and at is None:
                found.left_out.append(LeftOut(int(note[1]), int(note[2]), note[3]))
            elif at is not None:
                at = (at[0], at[1] + 1)
                found.lines[number] = at
        return found


def convert(data: bytes, functions: Iterable[str], name: str = "notebook.ipynb") -> bytes | Failure:
    """The program to grade for the exercise whose functions are ``functions``, or why there is none."""
    cells = code_cells(data, name)
    if isinstance(cells, Failure):
        return cells
    return program(cells, functions)


def exported(data: bytes) -> bool:
    """Whether a Python file is a notebook saved as a script (Jupyter's "Download as .py", nbconvert).

    Such a file calls ``get_ipython()`` at the top level, where its magics and shell
    escapes were (``%matplotlib inline``, ``!pip install``): only a kernel defines it, so
    the file cannot be imported as it is. It is graded as the notebook would be.
    """
    if b"get_ipython" not in data:
        return False
    try:
        tree = ast.parse(data)
    except UNPARSABLE:
        return False
    return any(isinstance(node, ast.Expr | ast.Assign) and any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "get_ipython"
        for n in ast.walk(node)) for node in tree.body)


def program(cells: list[str | None], functions: Iterable[str], header: str = HEADER) -> bytes:
    """The program for ``functions`` from ``cells`` (code, or None for a cell that holds none)."""
    statements, left_out = parse(cells)
    kept = needed(statements, set(functions))
    rows = [header, *(f"{LEFT_OUT}{n.cell} {n.line} {n.reason}" for n in left_out)]
    for s in sorted(kept, key=lambda s: (not s.future, s.cell, s.line)):
        rows += [f"{MARK}{s.cell} {s.line}", s.source]
    return ("\n".join(rows) + "\n").encode("utf-8")


def code_cells(data: bytes, name: str) -> list[str | None] | Failure:
    """Each cell's source (None for a Markdown or raw cell, so numbers count every cell, as a reader
    does); a notebook nbformat cannot read is a failure with the reason."""
    import nbformat

    try:
        notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(notebook)
    except UnicodeDecodeError:
        return Failure(Kind.NOT_A_NOTEBOOK, {"file": name, "reason": "not UTF-8 text"})
    except Exception as exc:  # NotJSONError, ValidationError, a missing key: nbformat's own words
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        return Failure(Kind.NOT_A_NOTEBOOK, {"file": name, "reason": reason})
    cells = [(c.source if isinstance(c.source, str) else "".join(c.source)) if c.cell_type == "code" else None
             for c in notebook.cells]
    if len(cells) > MAX_CELLS or sum(len(c) for c in cells if c) > MAX_CODE_CHARS:
        reason = f"more than {MAX_CELLS} cells or {MAX_CODE_CHARS >> 20} MiB of code"
        return Failure(Kind.NOT_A_NOTEBOOK, {"file": name, "reason": reason})
    return cells


def parse(cells: list[str | None]) -> tuple[list[Statement], list[LeftOut]]:
    """Every top-level statement of every code cell, with the names it defines and uses."""
    statements: list[Statement] = []
    left_out: list[LeftOut] = []
    for number, source in enumerate(cells, start=1):
        if source is None:
            continue
        lines = source.splitlines()
        if lines and lines[0].lstrip().startswith("%%"):  # a cell magic: the whole cell is not Python
            left_out.append(LeftOut(number, 1, "magic"))
            continue
        kept, dropped, tree = _python_lines(lines)
        left_out += [LeftOut(number, i, reason) for i, reason in dropped]
        if not isinstance(tree, ast.Module):
            broken = _broken(number, kept)
            if not broken:  # kept whole, its syntax error is reported; else it is only noted
                line = tree.lineno if isinstance(tree, SyntaxError) else None
                left_out.append(LeftOut(number, line or 1, "unparsable"))
            statements += broken
            continue
        for node in tree.body:
            first = node.lineno - _decorators(node)
            statements.append(Statement(number, first, "\n".join(kept[first - 1: node.end_lineno]),
                                        _defines(node), _uses(node),
                                        isinstance(node, ast.ImportFrom) and node.module == "__future__"))
    return statements, left_out


def _python_lines(lines: list[str]) -> tuple[list[str], list[tuple[int, str]], ast.Module | Exception]:
    """The cell with its IPython-only lines blanked (numbers stay true), which those were, and
    its syntax tree (or why it has none).

    Only a cell that is not Python as it stands is touched: a ``%`` that continues an
    expression, or a "!" inside a string, is Python and stays.
    """
    as_is = _parsed(lines)
    if isinstance(as_is, ast.Module):
        return lines, [], as_is
    kept, dropped = [], []
    for i, line in enumerate(lines, start=1):
        reason = _not_python(line)
        kept.append("" if reason else line)
        if reason:
            dropped.append((i, reason))
    return kept, dropped, _parsed(kept) if dropped else as_is


def _parsed(lines: list[str]) -> ast.Module | Exception:
    try:
        return ast.parse("\n".join(lines))
    except UNPARSABLE as exc:
        return exc


def _not_python(line: str) -> str:
    stripped = line.lstrip()
    if stripped.startswith("%"):
        return "magic"
    if stripped.startswith("!"):
        return "shell"
    if _HELP.match(line):
        return "help"
    return ""


def _decorators(node: ast.stmt) -> int:
    """How many lines above ``def`` or ``class`` its decorators start (0 without)."""
    decorated = getattr(node, "decorator_list", [])
    return node.lineno - min(d.lineno for d in decorated) if decorated else 0


def _broken(cell: int, lines: list[str]) -> list[Statement]:
    """A cell that does not parse: kept whole when it defines a needed function, so its
    syntax error is what the student reads (else it is only noted as left out)."""
    defined = frozenset(re.findall(r"^\s*def\s+(\w+)", "\n".join(lines), re.MULTILINE))
    return [Statement(cell, 1, "\n".join(lines), defined, frozenset())] if defined else []


def _defines(node: ast.stmt) -> frozenset[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return frozenset({node.name})
    if isinstance(node, ast.Import | ast.ImportFrom):
        return frozenset((a.asname or a.name.split(".")[0]) for a in node.names if a.name != "*")
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return frozenset(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return frozenset()


def _uses(node: ast.stmt) -> frozenset[str]:
    """The global names ``node`` reads: a function's own arguments and locals are not among them."""
    loads = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        local = {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
        local |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        loads -= local - {node.name}
    return frozenset(loads)


def needed(statements: list[Statement], functions: set[str]) -> list[Statement]:
    """The last definition of each wanted name and, transitively, of each name it uses.

    Only definitions are candidates (def, class, import, assignment): a call at the top
    level defines nothing, so it is never taken. ``__future__`` imports always are.
    """
    last: dict[str, Statement] = {}
    for s in statements:
        for name in s.defines:
            last[name] = s
    kept: dict[int, Statement] = {id(s): s for s in statements if s.future}
    todo = [name for name in sorted(functions) if name in last]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        s = last[name]
        if id(s) not in kept:
            kept[id(s)] = s
            todo += [n for n in s.uses | s.defines if n in last and n not in seen]
    return list(kept.values())


def exercise_notebook(entry: ExerciseEntry, stub: str) -> str:
    """A release's notebook for one exercise: the stub's docstrings (English and Korean) as Markdown,
    the stub as a code cell, and a cell that checks it (``grader.check``). Only the stub: no reference."""
    import nbformat

    tree = ast.parse(stub)
    about = ast.get_docstring(tree) or ""
    code = stub
    if about and tree.body and isinstance(tree.body[0], ast.Expr):  # the module docstring: it is the Markdown
        code = "\n".join(stub.splitlines()[tree.body[0].end_lineno or 0:]).strip() + "\n"
    docs = [(node.name, ast.get_docstring(node) or "") for node in tree.body
            if isinstance(node, ast.FunctionDef)]
    intro = "\n\n".join([f"# {entry.id}: {entry.title}", about.split("\n\n")[0], *(
        f"## `{name}`\n\n```text\n{doc}\n```" for name, doc in docs if doc),
        "Fill in the code cell below and run it, then run the check cell. "
        "Run both again after every change.\n\n"
        "아래 코드 셀을 채워 실행한 뒤, 검사 셀을 실행하세요. 고칠 때마다 두 셀을 다시 실행하세요."])
    cells = [nbformat.v4.new_markdown_cell(intro, id=f"{entry.module}-about"),
             nbformat.v4.new_code_cell(code, id=f"{entry.module}-code"),
             nbformat.v4.new_code_cell(f'from grader import check\n\ncheck("{entry.id}")',
                                       id=f"{entry.module}-check")]
    made = nbformat.v4.new_notebook(cells=cells)
    made.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return str(nbformat.writes(made))


def in_cells(failure: Failure, lines: LineMap) -> Failure:
    """``failure`` with a program line number as the notebook's cell and line ("cell 7, line 3")."""
    line = failure.detail.get("line", "")
    if not line.isdigit() or int(line) not in lines.lines:
        return failure
    cell, at = lines.lines[int(line)]
    where = {"line": str(at)} if lines.script else {"cell": str(cell), "line": str(at)}
    return dataclasses.replace(failure, detail={**failure.detail, **where})


def defined(data: bytes) -> set[str]:
    """Every name the notebook's cells define at the top level (empty for a notebook nbformat cannot read)."""
    cells = code_cells(data, "notebook.ipynb")
    if isinstance(cells, Failure):
        return set()
    statements, _ = parse(cells)
    return {name for s in statements for name in s.defines}


def exercises_in(path: Path, course: Course) -> list[ExerciseEntry]:
    """The exercises a notebook holds: named for one (``ex05_forget_gate.ipynb``), or each exercise
    whose functions it defines (``homework.ipynb``). Read as ``Submission`` reads: no symlink, bounded."""
    from grader.submission import Submission

    for entry in course.exercises:
        if path.name == entry.module + SUFFIX:
            return [entry]
    data = Submission("", path).source_bytes(MAX_NOTEBOOK_BYTES)
    names = defined(data) if isinstance(data, bytes) else set()
    return [e for e in course.exercises if names & set(e.functions)]
