"""One grade table, taken from the Scheme (cut points, labels, colours): the batch's and the workbench's
charts draw the scheme's cut points and colours, so a scheme with other cut points draws its own lines."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from perfeval.batch import portfolio_charts
from perfeval.batch.summary import portfolio_grades
from perfeval.scheme import DEFAULT_GRADE_COLOURS, load_scheme, shared_grade_table
from perfeval.workbench import plots
from perfeval.workbench.portfolio import Portfolio

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def custom_scheme(tmp_path: Path) -> Path:
    """third_party with bands 优 ≥ 85, 良 ≥ 70, 合格 ≥ 50 (a label of its own, with its own colour), 差."""
    text = (ROOT / "perfeval" / "schemes" / "third_party.toml").read_text(encoding="utf-8")
    start, end = text.index("bands = ["), text.index("]", text.index("bands = [")) + 1
    bands = ('bands = [\n    { grade = "优", lower = 85 },\n    { grade = "良", lower = 70, colour = "#123456" },\n'
             '    { grade = "合格", lower = 50, colour = "#00aa00" },\n    { grade = "差", lower = 0 },\n]')
    path = tmp_path / "custom.toml"
    path.write_text(text[:start] + bands + text[end:], encoding="utf-8")
    return path


def _vertical_lines(ax) -> list[float]:
    return sorted(float(line.get_xdata()[0]) for line in ax.lines
                  if len(set(line.get_xdata())) == 1 and line.get_linestyle() == "--")


def _horizontal_lines(ax) -> list[float]:
    return sorted(float(line.get_ydata()[0]) for line in ax.lines
                  if len(set(line.get_ydata())) == 1 and line.get_linestyle() == "--")


def test_builtin_schemes_carry_the_grade_table() -> None:
    for sid in ("third_party", "self"):
        scheme = load_scheme(sid)
        assert [(b.grade, b.lower, b.upper) for b in scheme.grade_table] == [
            ("优", 90, 100), ("良", 80, 90), ("中", 60, 80), ("差", 0, 60)]
        assert {b.grade: b.colour for b in scheme.grade_table} == DEFAULT_GRADE_COLOURS
        assert scheme.grade_cuts == (60, 80, 90)


def test_a_custom_scheme_has_its_own_cut_points_labels_and_colours(custom_scheme: Path) -> None:
    scheme = load_scheme(custom_scheme)
    assert scheme.grade_cuts == (50, 70, 85)
    colours = {b.grade: b.colour for b in scheme.grade_table}
    assert colours == {"优": DEFAULT_GRADE_COLOURS["优"], "良": "#123456", "合格": "#00aa00",
                       "差": DEFAULT_GRADE_COLOURS["差"]}
    assert scheme.grade(72) == "良" and scheme.grade(55) == "合格"


def test_colours_leave_the_scheme_fingerprint_unchanged(custom_scheme: Path) -> None:
    """Colours change no score and no report: the batch's resume fingerprint ignores them."""
    from dataclasses import replace

    from perfeval.batch.manifest import scheme_digest

    scheme = load_scheme(custom_scheme)
    assert scheme_digest(scheme) == scheme_digest(replace(scheme, grade_colours={}))


SCORED = pd.DataFrame({"总分": [95.0, 86.0, 72.0, 55.0, 40.0], "等级": ["优", "优", "良", "合格", "差"],
                       "预算执行率": [0.99, 0.9, 0.8, 0.7, 0.5]})


def test_batch_charts_draw_the_schemes_cut_points(custom_scheme: Path) -> None:
    grades = load_scheme(custom_scheme).grade_table
    hist = portfolio_charts.score_histogram(SCORED, grades).axes[0]
    assert _vertical_lines(hist) == [50, 70, 85]
    assert {t.get_text() for t in hist.texts} >= {"优", "良", "合格"}
    scatter = portfolio_charts.execution_vs_score(SCORED, grades).axes[0]
    assert _horizontal_lines(scatter) == [50, 70, 85]
    bars = portfolio_charts.grade_distribution(SCORED, grades).axes[0]
    assert [t.get_text() for t in bars.get_xticklabels()] == ["优", "良", "合格", "差"]
    assert bars.patches[2].get_facecolor()[:3] == pytest.approx((0, 0xaa / 255, 0))
    # the default scheme's cut points when no table is given; none when the projects grade differently
    assert _vertical_lines(portfolio_charts.score_histogram(SCORED).axes[0]) == [60, 80, 90]
    assert _vertical_lines(portfolio_charts.score_histogram(SCORED, ()).axes[0]) == []


def test_batch_summary_takes_the_table_of_the_projects_schemes(custom_scheme: Path) -> None:
    class Entry:
        def __init__(self, scheme: str) -> None:
            self.scheme = scheme

    class Status:
        def __init__(self, scheme: str) -> None:
            self.entry = Entry(scheme)

    custom = str(custom_scheme)
    assert portfolio_grades([Status(custom), Status(custom), Status("")]) == load_scheme(custom).grade_table
    assert portfolio_grades([Status("third_party"), Status("self")]) == load_scheme("self").grade_table
    assert portfolio_grades([Status("third_party"), Status(custom)]) == ()   # they grade differently
    assert portfolio_grades([Status("")]) is None
    assert shared_grade_table([]) is None


def test_workbench_charts_draw_the_schemes_cut_points(custom_scheme: Path) -> None:
    frame = pd.DataFrame({"grade": SCORED["等级"], "total": SCORED["总分"], "department": ["甲"] * 5,
                          "scheme": ["custom"] * 5})
    grades = load_scheme(custom_scheme).grade_table
    with plots.chart_style():
        fig = plots.portfolio_figure(frame, grades=grades)
    ax_grade, ax_total, _ = fig.axes
    assert _vertical_lines(ax_total) == [50, 70, 85]
    assert [t.get_text() for t in ax_grade.get_xticklabels()] == ["优", "良", "合格", "差"]
    with plots.chart_style():
        default = plots.portfolio_figure(frame)
    assert _vertical_lines(default.axes[1]) == [60, 80, 90]


def test_workbench_portfolio_names_its_grade_table(custom_scheme: Path) -> None:
    summary = pd.DataFrame({"key": ["a"], "id": ["a"], "scheme": ["custom"], "grade": ["良"], "total": [72.0]})
    empty = pd.DataFrame()
    assert Portfolio(summary, empty, empty, (), scheme=str(custom_scheme)).grade_table == \
        load_scheme(custom_scheme).grade_table
    builtin = summary.assign(scheme=["third_party"])
    assert Portfolio(builtin, empty, empty, ()).grade_table == load_scheme("third_party").grade_table
    assert Portfolio(summary, empty, empty, ()).grade_table == ()   # an unknown scheme: no cut points guessed


def test_monte_carlo_lines_take_the_schemes_colours(custom_scheme: Path) -> None:
    import numpy as np

    scheme = load_scheme(custom_scheme)
    colours = {b.grade: b.colour for b in scheme.grade_table}
    with plots.chart_style():
        fig = plots.monte_carlo_figure(np.array([68.0, 71.0, 72.5]), 71.0, scheme.grade_bands, 0.1, colours)
    line = next(ln for ln in fig.axes[0].lines if ln.get_xdata()[0] == 70)
    assert line.get_color() == "#123456"
