"""Sphinx directives that put the package's own tables into the site at build time.

Every table here is read from the code or from a file a script wrote, never typed:

``.. curvopt-status-table::``
    :class:`curvopt.Status`: code, value, ``success`` and ``message`` of every member.
``.. curvopt-cli-help:: [check]``
    The ``--help`` text of the command line (``curvopt.cli.build_parser``).
``.. curvopt-option-defaults::``
    Every option of :class:`curvopt.options.Options` with its default value.
``.. curvopt-benchmarks::``
    One section per ``benchmarks/results/*.txt``: the script's title and description
    (its docstring), the command that wrote the file, the file as printed, and any
    ``benchmarks/results/<same name>*.png`` figure the script drew.
``.. curvopt-toctree-if-exists::`` (entries as content, ``Title <doc>`` or ``doc``)
    A hidden toctree of the entries whose source exists (pages other developers are
    still writing join the navigation when they land).
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import io
import re
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"


def _table(headers, rows, widths=None, classes=()):
    """A docutils table node from strings (cells may be nodes)."""
    table = nodes.table(classes=list(classes))
    group = nodes.tgroup(cols=len(headers))
    table += group
    for w in widths or [1] * len(headers):
        group += nodes.colspec(colwidth=w)
    head = nodes.thead()
    group += head
    head += _row(headers)
    body = nodes.tbody()
    group += body
    for r in rows:
        body += _row(r)
    return table


def _row(cells):
    row = nodes.row()
    for c in cells:
        entry = nodes.entry()
        if isinstance(c, nodes.Node):
            entry += c
        else:
            entry += nodes.paragraph(text=str(c))
        row += entry
    return row


def _literal(text):
    return nodes.literal(text=text)


class StatusTable(SphinxDirective):
    """Every :class:`curvopt.Status` code with its value, success flag and message."""

    def run(self):
        from curvopt.status import Status
        self.env.note_dependency(str(ROOT / "curvopt" / "status.py"))
        rows = [(_literal(s.name), str(int(s)), "yes" if s.success else "no", s.message)
                for s in Status]
        return [_table(("Status", "value", "success", "message"), rows, (22, 6, 7, 65),
                       classes=("curvopt-status",))]


class CliHelp(SphinxDirective):
    """``python -m curvopt [SUBCOMMAND] --help``, as argparse prints it."""

    optional_arguments = 1

    def run(self):
        from curvopt import cli
        self.env.note_dependency(str(ROOT / "curvopt" / "cli.py"))
        parser = cli.build_parser()
        if self.arguments:
            sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
            parser = sub.choices[self.arguments[0]]
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            parser.print_help()
        block = nodes.literal_block(buf.getvalue(), buf.getvalue())
        block["language"] = "text"
        return [block]


class OptionDefaults(SphinxDirective):
    """Every field of :class:`curvopt.options.Options` and its default value."""

    def run(self):
        from curvopt.options import Options
        self.env.note_dependency(str(ROOT / "curvopt" / "options.py"))
        rows = []
        for f in dataclasses.fields(Options):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            rows.append((_literal(f.name), _literal(repr(default))))
        return [_table(("option", "default"), rows, (30, 30))]


def _module_doc(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text())) or ""


class Benchmarks(SphinxDirective):
    """A section per results file: title, description, command, output."""

    def run(self):
        out = []
        files = sorted(RESULTS.glob("*.txt"))
        if not files:
            return [nodes.paragraph(text="No results files in benchmarks/results/ yet.")]
        for path in files:
            self.env.note_dependency(str(path))
            script = ROOT / "benchmarks" / (path.stem + ".py")
            doc = _module_doc(script) if script.is_file() else ""
            if script.is_file():
                self.env.note_dependency(str(script))
            title = doc.splitlines()[0].rstrip(".") if doc else path.stem
            section = nodes.section(ids=[nodes.make_id("bench-" + path.stem)])
            section += nodes.title(text=title)
            para = nodes.paragraph()
            para += nodes.Text("Made by ")
            para += _literal(f"python benchmarks/{script.name}")
            para += nodes.Text(" (a full run, from the repository root), saved in ")
            para += _literal(f"benchmarks/results/{path.name}")
            para += nodes.Text(".")
            section += para
            if doc:
                body = "\n".join(doc.splitlines()[1:]).strip()
                if body:
                    details = nodes.container(classes=["curvopt-bench-doc"])
                    details += nodes.rubric(text=f"What {script.name} measures (its docstring)")
                    block = nodes.literal_block(body, body)
                    block["language"] = "text"
                    details += block
                    section += details
            text = path.read_text()
            block = nodes.literal_block(text, text, classes=["curvopt-bench-output"])
            block["language"] = "text"
            section += nodes.rubric(text=f"Output ({path.name})")
            section += block
            for png in sorted(RESULTS.glob(path.stem + "*.png")):   # figures the script drew
                self.env.note_dependency(str(png))
                figure = nodes.figure(classes=["curvopt-figure"])
                figure += nodes.image(uri=f"../benchmarks/results/{png.name}",
                                      alt=f"{png.name}, drawn by benchmarks/{script.name}")
                figure += nodes.caption(text=f"benchmarks/results/{png.name}")
                section += figure
            out.append(section)
        return out


class ToctreeIfExists(SphinxDirective):
    """A hidden toctree of the entries (one a line, ``doc`` or ``Title <doc>``) whose
    source file exists."""

    has_content = True

    def run(self):
        src = Path(self.env.srcdir)
        present = []
        for entry in (line.strip() for line in self.content):
            m = re.fullmatch(r"(?:.*<)?([^<>]+?)>?", entry)
            if entry and any((src / (m.group(1) + s)).is_file() for s in (".md", ".rst")):
                present.append(entry)
        if not present:
            return []
        lines = [".. toctree::", "   :hidden:", ""] + [f"   {d}" for d in present]
        node = nodes.container()
        self.state.nested_parse(StringList(lines, source=""), self.content_offset, node)
        return node.children


def setup(app):
    app.add_directive("curvopt-status-table", StatusTable)
    app.add_directive("curvopt-cli-help", CliHelp)
    app.add_directive("curvopt-option-defaults", OptionDefaults)
    app.add_directive("curvopt-benchmarks", Benchmarks)
    app.add_directive("curvopt-toctree-if-exists", ToctreeIfExists)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
