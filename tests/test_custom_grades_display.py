"""A scheme with its own grade labels, cut points and colours is drawn with them everywhere: the workbench
portfolio (filters, sorting, counts, table, status line, charts) and the batch summary (index.html and its
charts). Before: the workbench hard-coded 优良中差 (a 5-band scheme's grades were counted nowhere) and
index.html coloured only 优 and 差 and offered 优/良/中/差 as the grade filter whatever the scheme."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from perfeval.batch import portfolio_charts, run_batch
from perfeval.devtools import synth
from perfeval.scheme import load_scheme
from perfeval.workbench import plots
from perfeval.workbench import portfolio as pf

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LABELS = ("优", "良", "中", "差")

#: (label, lower bound, colour), best first
SCHEMES = {
    "five_letters": (("A", 95, "#1b5e20"), ("B", 85, "#43a047"), ("C", 75, "#f9a825"), ("D", 60, "#ef6c00"),
                     ("E", 0, "#b71c1c")),
    "four_words": (("优秀", 96, "#0d47a1"), ("良好", 92, "#26a69a"), ("合格", 80, "#8d6e63"),
                   ("不合格", 0, "#d81b60")),
}


def _write_scheme(folder: Path, name: str) -> Path:
    """third_party with the grade bands of SCHEMES[name] (each with its own colour)."""
    text = (ROOT / "perfeval" / "schemes" / "third_party.toml").read_text(encoding="utf-8")
    start = text.index("bands = [")
    end = text.index("]", start) + 1
    bands = "".join(f'    {{ grade = "{g}", lower = {lower}, colour = "{c}" }},\n' for g, lower, c in SCHEMES[name])
    path = folder / f"{name}.toml"
    path.write_text(text[:start] + "bands = [\n" + bands + "]" + text[end:], encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=sorted(SCHEMES))
def case(request, tmp_path_factory) -> tuple[str, Path, Path]:
    """(scheme name, scheme file, folder of 10 synthetic projects)."""
    root = tmp_path_factory.mktemp(request.param)
    synth.write_portfolio(root / "in", 10, seed=23, broken_share=0.0)
    return request.param, _write_scheme(root, request.param), root / "in"


@pytest.fixture(scope="module")
def portfolio(case) -> pf.Portfolio:
    _, scheme, inputs = case
    return pf.load_portfolio(inputs, scheme=scheme)


def _labels(name: str) -> list[str]:
    return [g for g, _, _ in SCHEMES[name]]


def _colours(name: str) -> dict[str, str]:
    return {g: c for g, _, c in SCHEMES[name]}


def test_the_scheme_file_carries_the_table(case) -> None:
    name, scheme, _ = case
    table = load_scheme(scheme).grade_table
    assert [(b.grade, b.lower, b.colour) for b in table] == list(SCHEMES[name])
    assert load_scheme(scheme).grade_cuts == tuple(sorted(lower for _, lower, _ in SCHEMES[name] if lower))


def test_workbench_portfolio_functions_use_the_schemes_grades(case, portfolio: pf.Portfolio) -> None:
    name, scheme, _ = case
    labels, colours = _labels(name), _colours(name)
    summary = portfolio.summary
    assert set(summary["grade"]) <= set(labels) and summary["grade"].nunique() >= 2
    assert portfolio.grade_table == load_scheme(scheme).grade_table
    grades = portfolio.grade_table
    assert pf.grade_colours(summary, grades) == colours
    assert pf.filter_choices(summary, grades)["grades"] == labels
    counts = pf.grade_counts(summary, grades)
    assert list(counts) == labels and sum(counts.values()) == len(summary)
    assert counts == {g: int((summary["grade"] == g).sum()) for g in labels}
    best_first = pf.sort_summary(summary, "grade", ascending=False, grades=grades)["grade"].tolist()
    assert best_first == sorted(best_first, key=labels.index)
    worst_first = pf.sort_summary(summary, "grade", ascending=True, grades=grades)["grade"].tolist()
    assert worst_first == sorted(worst_first, key=labels.index, reverse=True) and worst_first != best_first


def _dashed(ax, axis: str = "x") -> list[tuple[float, str]]:
    data = (lambda ln: ln.get_xdata()) if axis == "x" else (lambda ln: ln.get_ydata())
    return sorted((float(data(ln)[0]), to_hex(ln.get_color())) for ln in ax.lines
                  if len(set(data(ln))) == 1 and ln.get_linestyle() == "--")


def test_workbench_charts_draw_labels_cut_points_and_colours(case, portfolio: pf.Portfolio) -> None:
    name, _, _ = case
    labels, colours = _labels(name), _colours(name)
    frame = portfolio.summary.assign(total=np.linspace(55.0, 99.0, len(portfolio.summary)))
    with plots.chart_style():
        fig = plots.portfolio_figure(frame, grades=portfolio.grade_table)
    ax_grade, ax_total, _ = fig.axes
    assert [t.get_text() for t in ax_grade.get_xticklabels()] == labels
    assert [to_hex(bar.get_facecolor()) for bar in ax_grade.patches] == [colours[g] for g in labels]
    cuts = sorted((float(lower), colour) for _, lower, colour in SCHEMES[name] if lower)
    assert _dashed(ax_total) == cuts
    shown = {t.get_text().strip() for t in ax_total.texts}
    assert shown == {f"{g}≥{lower}" for g, lower, _ in SCHEMES[name] if lower}
    assert not shown & set(DEFAULT_LABELS)


def test_workbench_explorer_table_and_status_show_the_schemes_grades(case, portfolio: pf.Portfolio) -> None:
    from perfeval.workbench.widgets import PortfolioExplorer

    name, _, _ = case
    explorer = PortfolioExplorer(portfolio)
    assert list(explorer.grade.options) == _labels(name)
    status = explorer._status_html(portfolio.summary)
    table = explorer.table_html(portfolio.summary)
    for grade, colour in _colours(name).items():
        span = f'<span style="color:{colour};font-weight:bold">{grade}</span>'
        assert span in status  # every grade of the scheme is counted, absent ones as 0
        assert (span in table) == (grade in set(portfolio.summary["grade"]))
    for text in (status, table):
        assert not re.search(r">(优|良|中|差)<", text)


@pytest.fixture(scope="module")
def batch(case) -> Path:
    _, scheme, inputs = case
    out = inputs.parent / "out"
    result = run_batch([inputs], out, formats=(), workers=1, scheme=str(scheme))
    # a synthetic 单位自评 project does not fit the third_party levels: refused, the rest scored
    assert len(result.statuses) - len(result.failed) >= 8
    return out


def test_batch_index_html_draws_each_label_in_its_colour(case, batch: Path) -> None:
    name, _, _ = case
    page = (batch / "index.html").read_text("utf-8")
    css = dict(re.findall(r"\.(grade-\d+)\{color:(#[0-9a-f]{6});font-weight:bold\}", page))
    summary = pd.read_excel(batch / "summary.xlsx", sheet_name="项目汇总", engine="calamine")
    for grade, colour in _colours(name).items():
        [cls] = [c for c, value in css.items() if value == colour]
        assert f'<option value="{grade}">{grade}</option>' in page
        assert (f'<span class="{cls}">{grade}</span>' in page) == (grade in set(summary["等级"]))
    # the filter offers the scheme's labels in its order, and only them
    select = re.search(r'<select data-col="5">(.*?)</select>', page, re.S)[1]
    assert re.findall(r'<option value="([^"]*)">', select) == ["", *_labels(name)]
    assert not re.search(r">(优|良|中|差)<", page)
    # a grade sorts by the scheme's order, not alphabetically: the best grade has the highest key
    keys = {m[1]: int(m[2]) for m in re.finditer(r'data-v="([^"]+)" data-s="(\d+)"', page)}
    labels = _labels(name)
    assert keys and all(keys[g] == len(labels) - labels.index(g) for g in keys)


def test_batch_charts_draw_the_schemes_labels_and_colours(case, batch: Path) -> None:
    name, scheme, _ = case
    labels, colours = _labels(name), _colours(name)
    grades = load_scheme(scheme).grade_table
    scored = pd.read_excel(batch / "summary.xlsx", sheet_name="项目汇总", engine="calamine")
    scored = scored[scored["总分"].notna()]
    scored = scored.assign(总分=np.linspace(50.0, 99.0, len(scored)))  # totals across every band
    bars = portfolio_charts.grade_distribution(scored, grades).axes[0]
    assert [t.get_text() for t in bars.get_xticklabels()] == labels
    assert [to_hex(p.get_facecolor()) for p in bars.patches] == [colours[g] for g in labels]
    hist = portfolio_charts.score_histogram(scored, grades).axes[0]
    assert sorted(float(v) for v, _ in _dashed(hist)) == sorted(lower for _, lower, _ in SCHEMES[name] if lower)
    letters = {t.get_text(): to_hex(t.get_color()) for t in hist.texts}
    assert letters == {g: colours[g] for g in letters} and set(letters) <= set(labels) and len(letters) >= 3
    scatter = portfolio_charts.execution_vs_score(scored, grades).axes[0]
    keys = [t.get_text().split()[0] for t in scatter.get_legend().get_texts()]
    assert keys == [g for g in labels if g in keys] and not set(keys) & set(DEFAULT_LABELS)
    assert sorted(float(v) for v, _ in _dashed(scatter, "y")) == [
        c for c in sorted(lower for _, lower, _ in SCHEMES[name] if lower) if 50 < c < 99.5]


def test_projects_grading_differently_show_only_their_own_labels() -> None:
    """A portfolio mixing two schemes (grade table ()): no empty 优/良/中/差 bars or filters of a scheme no
    project uses; labels the default scheme knows keep its colours."""
    frame = pd.DataFrame({"grade": ["A", "优秀", "B", "良"], "total": [96.0, 92.0, 88.0, 84.0],
                          "department": ["甲"] * 4, "scheme": ["x", "y", "x", "third_party"]})
    colours = pf.grade_colours(frame, ())
    assert list(colours) == ["良", "A", "B", "优秀"]
    assert colours["良"] == load_scheme(None).grade_colour("良")
    assert pf.filter_choices(frame.assign(year=2024), ())["grades"] == list(colours)
    scored = frame.rename(columns={"grade": "等级", "total": "总分"}).assign(预算执行率=0.9)
    ax = portfolio_charts.grade_distribution(scored, ()).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["良", "A", "B", "优秀"]
