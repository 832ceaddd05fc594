"""Run every ```python block of docs/*.md and README.md.

Each block runs in a fresh namespace (statement by statement, in a temporary working
directory) and must not raise. A statement whose last line ends in a comment
``# -> EXPECTED`` is checked: EXPECTED is a Python literal (``ast.literal_eval``) and the
statement's value (an expression's value, or an assignment's first target) must equal it:
strings, bools and ints exactly, floats and arrays to ``rtol=1e-4, atol=1e-6`` (the
digits a page shows), tuples and lists element by element. A block whose first line is
``# doctest: skip`` is not run (allowed only for blocks that need files or take > 5 s).
"""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:          # the blocks run in a temporary directory
    sys.path.insert(0, str(ROOT))
import curvopt  # noqa: E402,F401  (imported before the blocks change directory)
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```", re.M | re.S)
EXPECT = re.compile(r"#\s*->\s*(.+?)\s*$")
RTOL, ATOL = 1e-4, 1e-6


def _blocks():
    out = []
    for page in PAGES:
        if not page.is_file():
            continue
        text = page.read_text()
        for k, m in enumerate(FENCE.finditer(text)):
            line = text.count("\n", 0, m.start()) + 2
            rel = page.relative_to(ROOT).as_posix()
            out.append(pytest.param(rel, line, m.group(1), id=f"{rel}:{line}"))
    return out


BLOCKS = _blocks()


def _same(value, expected) -> bool:
    """Equality of a computed value and a literal written in the docs (see module doc)."""
    if isinstance(expected, (str, bool)) or expected is None:
        return (type(value) is type(expected) or isinstance(value, np.bool_)) and value == expected
    if isinstance(expected, (tuple, list)):
        if isinstance(value, np.ndarray) and all(isinstance(e, (int, float)) for e in expected):
            return value.shape == (len(expected),) and np.allclose(value, expected, rtol=RTOL,
                                                                   atol=ATOL)
        return (isinstance(value, (tuple, list, np.ndarray)) and len(value) == len(expected)
                and all(_same(v, e) for v, e in zip(value, expected)))
    if isinstance(expected, int) and isinstance(value, (int, np.integer)) \
            and not isinstance(value, (bool, np.bool_)):
        return int(value) == expected
    if isinstance(expected, (int, float)):
        arr = np.asarray(value, dtype=float) if not isinstance(value, (str, bool)) else None
        return arr is not None and arr.size == 1 and bool(
            np.isclose(arr.reshape(()), expected, rtol=RTOL, atol=ATOL))
    raise AssertionError(f"unsupported expected literal {expected!r}")


def _expected(source_lines, stmt):
    m = EXPECT.search(source_lines[stmt.end_lineno - 1])
    if m is None:
        return None
    try:
        return (ast.literal_eval(m.group(1)),)
    except (ValueError, SyntaxError) as exc:
        raise AssertionError(f"line {stmt.end_lineno}: '# -> {m.group(1)}' is not a "
                             "Python literal") from exc


def _value(stmt, ns, name):
    if isinstance(stmt, ast.Expr):
        return eval(compile(ast.Expression(stmt.value), name, "eval"), ns)
    if isinstance(stmt, ast.Assign):
        exec(compile(ast.Module([stmt], []), name, "exec"), ns)
        return eval(ast.unparse(stmt.targets[0]), ns)
    raise AssertionError(f"line {stmt.lineno}: '# ->' needs an expression or an assignment")


def run_block(source: str, path: Path | None = None):
    """Execute a block; return the number of checked '# ->' values.

    With ``path`` the source is also written there and compiled under that file name, so
    that numba's ``cache=True`` finds a file to cache next to.
    """
    lines = source.splitlines()
    name = "<doc>"
    if path is not None:
        path.write_text(source)
        name = str(path)
    ns = {"__name__": "__doc_block__", "__file__": name}
    checked = 0
    for stmt in ast.parse(source).body:
        want = _expected(lines, stmt)
        if want is None:
            exec(compile(ast.Module([stmt], []), name, "exec"), ns)
            continue
        value = _value(stmt, ns, name)
        assert _same(value, want[0]), (f"line {stmt.end_lineno}: got {value!r}, "
                                       f"the page says {want[0]!r}")
        checked += 1
    return checked


def test_pages_have_python_blocks():
    pages = {p for p, _, _ in (b.values for b in BLOCKS)}
    assert {"docs/index.md", "docs/finite_differences.md", "docs/certificates.md",
            "docs/solver.md"} <= pages


@pytest.mark.parametrize("page,line,source", BLOCKS)
def test_block_runs(page, line, source, tmp_path, monkeypatch):
    first = source.lstrip().splitlines()[0] if source.strip() else ""
    if first.strip() == "# doctest: skip":
        pytest.skip("marked '# doctest: skip' (needs files or takes > 5 s)")
    monkeypatch.chdir(tmp_path)
    run_block(source, tmp_path / "doc_block.py")


def test_checker_rejects_wrong_values():
    """The '# ->' checker can fail: a wrong literal is an AssertionError."""
    run_block("x = 1 + 1  # -> 2\n'a' + 'b'  # -> 'ab'\n(1.0, [0.5, 2.0], True)  # -> (1.0, [0.5, 2.0], True)")
    for bad in ("1 + 1  # -> 3", "'a'  # -> 'b'", "True  # -> 1",
                "import numpy as np\nnp.array([1.0, 2.0])  # -> [1.0, 2.1]"):
        with pytest.raises(AssertionError):
            run_block(bad)
