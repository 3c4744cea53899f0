"""Charts: pure functions of an Evaluation; every Chinese character has a glyph.

pyproject.toml turns matplotlib's "Glyph … missing from font" warnings into errors, so drawing a
chart whose text the CJK face cannot show fails the test that draws it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from matplotlib.figure import Figure

import perfeval
from perfeval.report import charts

REFERENCE_CSV = Path(__file__).resolve().parents[1] / "data" / "reference" / "csv" / "AKT2022-001.csv"


@pytest.fixture(scope="module")
def ev():
    return perfeval.evaluate(perfeval.load_project(REFERENCE_CSV))


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


@pytest.mark.parametrize("name", list(charts.CHARTS))
def test_each_chart_draws_without_missing_glyphs(ev, name):
    fig = charts.CHARTS[name](ev)
    assert isinstance(fig, Figure)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any font warning fails, not only the configured ones
        png = charts.figure_png(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == round(fig.get_figwidth() * charts.DPI)


def test_missing_glyph_warning_is_a_failure(ev):
    fig = charts.score_rate_chart(ev)
    fig.axes[0].set_title("\U0001F600")  # no font perfeval registers has this emoji
    with pytest.raises(UserWarning, match="missing from font"):
        charts.figure_png(fig)


def test_score_rate_chart_shows_each_level_rate(ev):
    fig = charts.score_rate_chart(ev)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    ticks = sorted(zip(ax.get_yticks(), labels, strict=True), reverse=True)
    assert [label for _, label in ticks] == list(ev.levels["name"])  # scheme order, top down
    drawn = sorted(p.get_width() for p in ax.patches)
    expected = sorted([100.0] * len(ev.levels) + list(ev.levels["score_rate"] * 100))
    assert drawn == pytest.approx(expected)
    assert any("19.78/20分（98.9%）" in t for t in _texts(fig))
    assert "98.94" in ax.get_title()


def test_budget_chart_bars_are_the_amounts(ev):
    ax = charts.budget_chart(ev).axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx([ev.budget.budget, ev.budget.allocated, ev.budget.spent])
    assert any("预算执行率 95.6%" in t for t in _texts(ax.figure))


def test_points_lost_chart_is_sorted_largest_first(ev):
    ax = charts.points_lost_chart(ev).axes[0]
    widths = [p.get_width() for p in sorted(ax.patches, key=lambda p: -p.get_y())]
    lost = ev.indicators.loc[ev.indicators["lost"] > 0.005, "lost"].sort_values(ascending=False)
    assert widths == pytest.approx(list(lost))
    top = max(zip(ax.get_yticks(), ax.get_yticklabels(), strict=True), key=lambda t: t[0])[1]
    assert top.get_text().startswith("社保金缴费（万元）")  # the largest loss, 0.44


def test_points_lost_chart_when_nothing_is_lost(ev):
    ind = ev.project.indicators.copy()
    has_target = ind["target"].astype(str).str.strip() != ""
    ind.loc[has_target, "actual"] = ind.loc[has_target, "target"]  # every target met exactly
    perfect = perfeval.evaluate(ev.project.replace(indicators=ind, spent=ev.project.budget))
    assert float(perfect.indicators["lost"].max()) == pytest.approx(0, abs=0.005)
    fig = charts.points_lost_chart(perfect)
    assert any("均得满分" in t for t in _texts(fig))
    charts.figure_png(fig)
