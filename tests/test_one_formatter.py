"""One formatter for numbers: no module of perfeval writes a number with its own format spec (`:.2f`, `:.1%`,
`:,.2f`, `%.1f` …) — they call perfeval.display, which rounds 四舍五入 on the written decimal, writes '—' for
what is missing and never '-0'. Python's own format rounds the binary float half-even (5.25 -> '5.2',
0.0125 -> '1.2%') and writes 'nan'. The few exceptions are listed with their reason."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "perfeval"

#: a fixed-point or percent format spec in an f-string/format field ({x:.2f}, {x:,.2f}, {p:.1%}, {x:+.1f})
#: with a fixed or variable precision ({x:.{places}f}), or an old-style %-format (%.2f)
FIELD = re.compile(r"\{[^{}]*:[,_+ ]?[,_]?\.\d+[f%]\}|:[,_+ ]?[,_]?\.\{\w+\}[f%]\}|:,\.\d+f\}|%[-+ 0]?\d*\.\d+f")
#: (file, text of the hit) allowed, with why: none of them is a number shown to a reader
ALLOWED = {
    ("perfeval/workbench/plots.py", "{max(share, 0.0) * 260:.1f}"): "a CSS bar width in px, not shown",
    ("perfeval/report/html.py", "{f * 100:.2f}"): "CSS column widths of report tables (%), not shown",
    ("perfeval/report/html.py", "{width:.2f}"): "CSS width of an image (in), not shown",
    ("perfeval/batch/command.py", "{seconds:.1f}"): "elapsed run time on the console (batch helper's file)",
    ("perfeval/errors.py", "{self.elapsed:.1f}"): "elapsed run time in JobTimeout's message (not a figure of a report)",
    ("perfeval/sheets/xlsx_guard.py", "{n / 1024 / 1024:.0f}"): "a file size in MB in a refusal message",
    # display copies in files another helper edits (left to them; see the report of this change)
    ("perfeval/scoring/audit.py", ":.{places}f}"): "audit._fmt/pct, the audit helper's file",
    ("perfeval/scoring/evidence.py", ":.{decimals}f}"): "a 失分 in an evidence finding, not this change's file",
}
#: modules whose every number is for a reader (views): not even `:g` (6 significant digits, '1e+06', 'nan')
VIEWS = ("workbench", "batch/summary.py", "batch/portfolio_charts.py", "report/charts.py", "report/compose.py",
         "report/document.py", "report/summary.py", "devtools/synth.py", "panel", "survey")
GENERAL = re.compile(r"\{[^{}]*:[,_+ ]?\.?\d*g\}")


def _hits(pattern: re.Pattern[str], files: list[Path]) -> set[tuple[str, str]]:
    found = set()
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            code = line.split("  #", 1)[0]
            for hit in pattern.findall(code):
                found.add((path.relative_to(ROOT).as_posix(), hit))
    return found


def test_no_number_format_outside_display() -> None:
    files = sorted(p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "display.py")  # the one formatter
    found = _hits(FIELD, files)
    assert found - set(ALLOWED) == set(), "format numbers with perfeval.display (fmt_num, fmt_pct …)"
    assert set(ALLOWED) - found == set(), "an allowed exception is gone: take it off ALLOWED"


def test_views_write_no_general_format_either() -> None:
    files = sorted(p for view in VIEWS for p in ((PACKAGE / view).rglob("*.py") if (PACKAGE / view).is_dir()
                                                 else [PACKAGE / view]))
    assert len(files) > 20
    assert _hits(GENERAL, files) == set()


def test_the_pattern_catches_what_it_should() -> None:
    def caught(text: str) -> bool:
        return bool(FIELD.search(text))

    for text in ('f"{x:.2f}"', 'f"{p * 100:.1f}%"', 'f"{rate:.1%}"', 'f"{amount:,.2f}"', '"%.2f" % x',
                 'f"{d:+.1f}"', 'f"{x:.{decimals}f}"'):
        assert caught(text), text
    for text in ('f"{n:,}"', 'f"{i:04d}"', 'f"{x}"', '"100%"', 'f"{w:g}"'):
        assert not caught(text), text


def test_replaced_copies_round_as_display_does() -> None:
    """What the replaced copies now write: 四舍五入 on the written decimal and '—' for a missing value
    (the copies wrote Python's half-even '1.2%' for 1.25% and 'nan')."""
    from perfeval.survey.apply import _written
    from perfeval.workbench import robustness, survey_view

    mc = robustness.MonteCarlo(totals=np.array([90.0] * 80), grades=np.array(["优"] * 79 + ["良"]),
                               grade_probability={"优": 0.9875, "良": 0.0125}, base_total=90.0,
                               base_grade="优", spread=0.2, seed=0)
    assert robustness.monte_carlo_table(mc)["概率"].tolist() == ["98.8%", "1.3%"]  # was '98.8%', '1.2%'
    assert survey_view._2(float("nan")) == "—" and survey_view._2(2.675) == "2.68" and survey_view._2(85) == "85.00"
    # a survey's 满意率 written into 实际完成值: 641 of 800 satisfied is 80.125%, a tie Python wrote '80.12'
    assert _written(641 / 800 * 100) == "80.13" and _written(94.96) == "94.96" and _written(100) == "100.00"
