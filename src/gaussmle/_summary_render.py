"""The summary's object and its renderers: blocks of text as plain text, HTML and LaTeX.

A :class:`Summary` is a title and a sequence of blocks (:class:`Paragraph`
and :class:`Table`, cells already formatted); ``as_text``, ``as_html`` and
``as_latex`` render the same blocks. :func:`table_of_tests` turns the tests
of :mod:`gaussmle.inference` into a :class:`Table`. The builders that fill a
summary from a fitted model are in :mod:`gaussmle.summary` (which imports
this module, never the other way round).

Examples
--------
>>> s = Summary("demo", {}, (), (), (Paragraph(("one line",)), Table("T", ("a",), (("1",),), "r")))
>>> print(s.as_text())
one line
<BLANKLINE>
T
  a
  1
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from ._text import fmt_num, render_table, wrap
from .inference import TestRow

__all__ = [
    "Paragraph",
    "Summary",
    "Table",
    "block_text",
    "latex_escape",
    "table_of_tests",
]


# ---------------------------------------------------------------------- the object
@dataclass(frozen=True)
class Paragraph:
    """Lines of prose; ``wrapped`` lines are wrapped to 78 columns in text.

    ``joined``: the lines are one sentence broken for the terminal, one
    paragraph in HTML and LaTeX.
    """

    lines: tuple[str, ...]
    wrapped: bool = False
    joined: bool = False


@dataclass(frozen=True)
class Table:
    """A titled table of text cells (already formatted) with per-column alignment."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Summary:
    """A fitted model described: fit statistics, estimates and tests, in several formats.

    Attributes
    ----------
    title : str
        What is described (a file name or the model's class).
    fit : dict
        The fit statistics as numbers: ``rows``, ``features``, ``classes``,
        ``n_parameters``, ``loglik``, ``aic``, ``bic`` (None where unknown),
        ``estimator``, ``var_smoothing``, ``epsilon``, ``prior`` (a sentence,
        None for the MLE), ``covariance_type``; with data also ``data``.
    estimates : tuple of dict
        One dict per class and feature: ``class``, ``feature``, ``mean``,
        ``mean_se``, ``mean_ci``, ``variance``, ``variance_se``, ``variance_ci``.
    tests : tuple of TestRow
        The hypothesis tests (see :func:`gaussmle.inference.model_tests`).
    blocks : tuple of Paragraph and Table
        What the renderers show, in order.

    Examples
    --------
    >>> import gaussmle
    >>> s = gaussmle.fit([[1.0], [2.0], [4.0]]).summary()
    >>> print(s.as_text().splitlines()[0])
    Gaussian: one Gaussian (covariance diag) of 1 features, estimated from 3 rows.
    >>> round(s.estimates[0]["mean"], 4), s.as_html().count("<table>")
    (2.3333, 3)
    """

    title: str
    fit: dict[str, Any]
    estimates: tuple[dict[str, Any], ...]
    tests: tuple[TestRow, ...]
    blocks: tuple[Paragraph | Table, ...] = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"<Summary of {self.title}: {len(self.estimates)} estimates, {len(self.tests)} tests>"
        )

    def as_text(self) -> str:
        """Plain text, as ``gaussmle describe`` prints it."""
        return "\n".join(block_text(b) for b in self.blocks)

    def as_html(self, heading: int = 2) -> str:
        """An HTML fragment (no scripts, no styles beyond class names ``gm-*``).

        ``heading`` is the level of the title (``<h2>``); tables get the next level.
        """
        h = max(1, min(5, int(heading)))
        parts = [f'<div class="gm-summary"><h{h}>{html.escape(self.title)}</h{h}>']
        parts += [_html_block(b, h + 1) for b in self.blocks]
        return "\n".join(parts) + "\n</div>"

    def as_latex(self) -> str:
        """LaTeX: paragraphs and ``tabular`` environments (booktabs rules)."""
        return "\n\n".join(_latex_block(b) for b in self.blocks)

    def to_frame(self) -> Any:
        """The estimates as a pandas DataFrame, one row per class and feature."""
        import pandas as pd

        rows = []
        for e in self.estimates:
            row = {k: v for k, v in e.items() if not k.endswith("_ci")}
            for key in ("mean", "variance"):
                if f"{key}_ci" in e:  # a mixture's estimates have no intervals
                    row[f"{key}_low"], row[f"{key}_high"] = e[f"{key}_ci"]
            rows.append(row)
        return pd.DataFrame(rows)

    def tests_frame(self) -> Any:
        """The tests as a pandas DataFrame, one row per test."""
        import pandas as pd

        return pd.DataFrame([r.to_dict() for r in self.tests])

    def _repr_html_(self) -> str:
        return self.as_html()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.as_text(), "text/html": self.as_html()}


# ---------------------------------------------------------------------- rendering
def block_text(block: Paragraph | Table) -> str:
    """One block as plain text (a table with its title and notes)."""
    if isinstance(block, Paragraph):
        lines = [wrap(line, indent=0) if block.wrapped else line for line in block.lines]
        return "\n".join(lines)
    out = ["", block.title] if block.title else []
    out.append(render_table(block.header, block.rows, align=block.align))
    out += list(block.notes)
    return "\n".join(out)


def _html_block(block: Paragraph | Table, level: int = 3) -> str:
    esc = html.escape
    if isinstance(block, Paragraph):
        lines = [" ".join(block.lines)] if block.joined else block.lines
        return "\n".join(f"<p>{esc(line.strip())}</p>" for line in lines if line.strip())
    side = {"l": "left", "r": "right"}
    head = "".join(
        f'<th class="gm-{side[a]}">{esc(h)}</th>'
        for h, a in zip(block.header, block.align, strict=True)
    )
    body = "\n".join(
        "<tr>"
        + "".join(
            f'<td class="gm-{side[a]}">{esc(c)}</td>' for c, a in zip(row, block.align, strict=True)
        )
        + "</tr>"
        for row in block.rows
    )
    title = f"<h{level}>{esc(block.title)}</h{level}>\n" if block.title else ""
    notes = "".join(f'<p class="gm-note">{esc(n.strip())}</p>' for n in block.notes)
    return (
        f'<section class="gm-table">{title}<div class="gm-scroll"><table>\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table></div>{notes}</section>"
    )


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    """Text with LaTeX's special characters escaped.

    Examples
    --------
    >>> latex_escape("T^2 & 50% of x_1")
    'T\\\\textasciicircum{}2 \\\\& 50\\\\% of x\\\\_1'
    """
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def _latex_block(block: Paragraph | Table) -> str:
    if isinstance(block, Paragraph):
        if block.joined:
            return latex_escape(" ".join(line.strip() for line in block.lines))
        return "\n\n".join(latex_escape(line.strip()) for line in block.lines if line.strip())
    cols = "".join(block.align)
    head = " & ".join(latex_escape(h) for h in block.header) + r" \\"
    body = "\n".join(" & ".join(latex_escape(c) for c in row) + r" \\" for row in block.rows)
    title = f"\\paragraph{{{latex_escape(block.title)}}}\n" if block.title else ""
    notes = "".join(f"\n{latex_escape(n.strip())}" for n in block.notes)
    return (
        f"{title}\\begin{{tabular}}{{{cols}}}\n\\toprule\n{head}\n\\midrule\n{body}\n"
        f"\\bottomrule\n\\end{{tabular}}{notes}"
    )


# ---------------------------------------------------------------------- tests as a table
def _p_text(p: float) -> str:
    if p != p:
        return "-"
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"


def _df_text(df: Any) -> str:
    if df is None:
        return "-"
    if isinstance(df, tuple | list):
        return ", ".join(f"{float(v):.4g}" for v in df)
    return f"{float(df):.4g}"


def table_of_tests(rows: list[TestRow] | tuple[TestRow, ...], title: str = "Tests") -> Table:
    """The tests as a :class:`Table`; tests that could not run become notes.

    Examples
    --------
    >>> import gaussmle
    >>> from gaussmle.inference import model_tests
    >>> g = gaussmle.fit([[0.0, 1.0], [1.0, 3.0], [2.0, 2.0], [4.0, 1.0]], "full")
    >>> print(block_text(table_of_tests(model_tests(g))).strip())
    Tests
      test              about         statistic  df  p-value  reference
      spherical < diag  the Gaussian      1.271   1     0.26  chi-square (Wilks, asymptotic)
      diag < full       the Gaussian     0.2686   1      0.6  chi-square (Wilks, asymptotic)
    """
    cells = []
    notes = []
    for r in rows:
        if r.result is None:
            notes.append(wrap(f"{r.test} ({r.group}): not run: {r.note}", indent=2))
            continue
        res = r.result
        cells.append(
            (
                r.test,
                r.group,
                fmt_num(res.statistic),
                _df_text(res.df),
                _p_text(res.pvalue),
                res.approximation,
            )
        )
    header = ("test", "about", "statistic", "df", "p-value", "reference")
    return Table(title, header, tuple(cells), "llrrrl", tuple(notes))
