"""Workbench charts: portfolio overview, what-if comparison, Monte-Carlo histogram.

Figures are built with `matplotlib.figure.Figure` (no pyplot state, nothing to close) inside an
rc context that selects the bundled CJK font, and rendered to PNG bytes for image widgets and
static exports. Single-project charts are the reports' own (`perfeval.charts`).
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from perfeval.display import fmt_num, fmt_pct
from perfeval.fonts import register_cjk_font
from perfeval.report import charts
from perfeval.scheme import OTHER_GRADE_COLOUR, GradeBand, load_scheme
from perfeval.scoring.evaluate import Evaluation
from perfeval.workbench.portfolio import grade_colours

BEFORE, AFTER = "#B0BEC5", "#1565C0"
DPI = 96


@contextmanager
def chart_style() -> Iterator[None]:
    with rc_context({"font.family": "sans-serif",
                     "font.sans-serif": [register_cjk_font(), "DejaVu Sans"],
                     "axes.unicode_minus": False, "axes.spines.top": False,
                     "axes.spines.right": False, "font.size": 9,
                     # a fixed title height: placing it above the tick labels costs a layout pass
                     "axes.titley": 1.03}):
        yield


def render(build: Callable[..., Figure], *args: object, **kwargs: object) -> bytes:
    """Build a figure in the chart style and return its PNG at screen resolution. (Our own
    figures use fixed margins: a layout engine or a tight bounding box costs another draw.)"""
    with chart_style():
        fig = build(*args, **kwargs)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def _empty(ax, text: str = "无符合条件的项目") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#888888")
    ax.set_xticks([])
    ax.set_yticks([])


def portfolio_figure(frame: pd.DataFrame, top_departments: int = 8,
                     grades: tuple[GradeBand, ...] | None = None) -> Figure:
    """Grade counts, the distribution of totals with the grade cut points, and the mean total of the largest
    departments — for the projects currently shown. `grades` is the scheme's grade table
    (`Portfolio.grade_table`: cut points, labels, colours; None: the default scheme's; (): the projects
    grade differently, no cut points drawn)."""
    table = load_scheme(None).grade_table if grades is None else grades
    colours = grade_colours(frame, grades)
    labels = list(colours)
    fig = Figure(figsize=(10.5, 3.0))
    fig.subplots_adjust(left=0.05, right=0.97, top=0.88, bottom=0.16, wspace=0.45)
    ax_grade, ax_total, ax_dept = fig.subplots(1, 3, width_ratios=[1, 1.4, 1.6])
    n = len(frame)
    counts = frame["grade"].value_counts()
    values = [int(counts.get(g, 0)) for g in labels]
    bars = ax_grade.bar(labels, values, color=list(colours.values()))
    ax_grade.bar_label(bars, labels=[str(v) for v in values], fontsize=8)
    ax_grade.set_title(f"等级分布（{n} 个项目）")
    ax_grade.set_ylabel("项目数")
    ax_grade.set_ylim(0, max([*values, 1]) * 1.2)
    ax_grade.yaxis.set_major_locator(MaxNLocator(integer=True))

    totals = frame["total"].dropna().to_numpy(dtype=float)
    if len(totals):
        low = float(np.floor(min(totals.min(), 90.0) / 5) * 5)
        ax_total.hist(totals, bins=np.arange(low, 100.01, 2.5 if low >= 50 else 5),
                      color="#5C6BC0", edgecolor="white")
        for band in table:
            if band.lower > 0 and band.lower > low:
                ax_total.axvline(band.lower, color=band.colour, lw=0.8, ls="--")
                ax_total.text(band.lower, 1.0, f" {band.grade}≥{fmt_num(band.lower)}", color=band.colour,
                              fontsize=7, va="top", transform=ax_total.get_xaxis_transform())
        ax_total.set_xlabel("总分")
        ax_total.set_ylabel("项目数")
        ax_total.yaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        _empty(ax_total)
    ax_total.set_title("总分分布")

    if n:
        by = frame.groupby("department")["total"].agg(["mean", "size"])
        by = by.sort_values("size", ascending=False).head(top_departments).sort_values("mean")
        ax_dept.barh([_short(d) for d in by.index], by["mean"], color="#78909C")
        for y, (m, size) in enumerate(zip(by["mean"], by["size"], strict=True)):
            ax_dept.text(m, y, f" {fmt_num(m, 1, trim=False)}（{size}）", va="center", fontsize=7)
        ax_dept.set_xlim(max(0.0, float(by["mean"].min()) - 10), 100)
        ax_dept.set_xlabel("平均总分（项目数）")
    else:
        _empty(ax_dept)
    ax_dept.set_title("主管部门平均总分")
    # fixed axis-label positions: placing them beside the tick labels costs a layout pass
    for ax in (ax_grade, ax_total, ax_dept):
        ax.xaxis.set_label_coords(0.5, -0.13)
    for ax in (ax_grade, ax_total):
        ax.yaxis.set_label_coords(-0.16, 0.5)
    return fig


def _short(text: str, width: int = 10) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def whatif_bars_html(base: Evaluation, ev: Evaluation) -> str:
    """Score rate of each 一级指标, original beside scenario, as an HTML bar chart.

    HTML rather than a PNG so the chart follows every what-if edit without a re-render
    (a matplotlib render alone takes about half of the 100 ms an edit may take); the same
    markup shows in static exports."""
    names = base.levels["name"].tolist()
    before = base.levels["score_rate"].to_numpy(dtype=float)
    after = ev.levels.set_index("name")["score_rate"].reindex(names).to_numpy(dtype=float)
    finite = np.concatenate([before, after])
    finite = finite[np.isfinite(finite)]
    low = max(0.0, min(0.8, float(finite.min()) - 0.05)) if len(finite) else 0.0

    def bar(rate: float, colour: str) -> str:
        share = 0.0 if not np.isfinite(rate) else (min(rate, 1.0) - low) / (1.0 - low)
        label = fmt_pct(rate, 1, trim=False)
        return (f'<div style="display:flex;align-items:center;height:14px">'
                f'<div style="background:{colour};height:11px;width:{max(share, 0.0) * 260:.1f}px"></div>'
                f'<span style="font-size:11px;margin-left:4px">{label}</span></div>')

    rows = "".join(
        f'<tr><td style="padding-right:8px;white-space:nowrap">{html.escape(str(name))}</td>'
        f"<td>{bar(b, BEFORE)}{bar(a, AFTER)}</td></tr>"
        for name, b, a in zip(names, before, after, strict=True))
    legend = (f'<span style="color:{BEFORE}">■</span> 原始（{fmt_num(base.total)} 分，{base.grade}）　'
              f'<span style="color:{AFTER}">■</span> 情景（{fmt_num(ev.total)} 分，{ev.grade}）')
    return (f'<div class="perfeval-whatif-chart" style="font-size:12px"><b>一级指标得分率：原始与情景</b>'
            f'<table style="border-collapse:collapse">{rows}</table>'
            f'<div style="font-size:11px">{legend}（横轴自 {fmt_pct(low, 0)} 起）</div></div>')


def monte_carlo_figure(totals: np.ndarray, base_total: float,
                       bands: tuple[tuple[str, float], ...], spread: float,
                       colours: dict[str, str] | None = None) -> Figure:
    """Histogram of simulated totals, with grade boundaries (in the scheme's grade colours: `colours`, else
    the default scheme's) and the evaluated total."""
    colours = colours or {band.grade: band.colour for band in load_scheme(None).grade_table}
    fig = Figure(figsize=(6.0, 2.6))
    fig.subplots_adjust(left=0.11, right=0.97, top=0.88, bottom=0.18)
    ax = fig.subplots()
    low, high = float(totals.min()), float(totals.max())
    pad = max(0.05, (high - low) * 0.1)
    # totals lie on the 0.01 grid: bins as wide as a whole number of grid steps leave no gaps
    step = max(1, int(np.ceil((high - low) / 0.01 / 40))) * 0.01
    ax.hist(totals, bins=np.arange(low - 0.005, high + step, step), color="#7986CB",
            edgecolor="white", linewidth=0.3)
    for grade, lower in bands:
        if low - pad <= lower <= high + pad and lower > 0:
            ax.axvline(lower, color=colours.get(grade, OTHER_GRADE_COLOUR), lw=1, ls="--")
            ax.text(lower, ax.get_ylim()[1] * 0.95, f" {grade}≥{fmt_num(lower)}", fontsize=7,
                    color=colours.get(grade, OTHER_GRADE_COLOUR), va="top",
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1})
    ax.axvline(base_total, color="#000000", lw=1.2)
    ax.text(base_total, ax.get_ylim()[1] * 0.8, f" 评价总分 {fmt_num(base_total)}", fontsize=7, va="top",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1})
    ax.set_xlim(low - pad, high + pad)
    ax.set_xlabel("总分")
    ax.set_ylabel("抽样次数")
    ax.set_title(f"权重 ±{fmt_pct(spread, 2)} 扰动下的总分分布（{len(totals)} 次抽样）")
    return fig


def project_charts(ev: Evaluation) -> list[tuple[str, bytes]]:
    """(title, PNG) for one project: the single-project charts the reports use."""
    return [(title, render(build, ev)) for title, build in (
        ("一级指标得分率", charts.score_rate_chart), ("预算执行", charts.budget_chart),
        ("失分指标", charts.points_lost_chart))]
