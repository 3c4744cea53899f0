"""Report charts: pure functions from an `Evaluation` to a matplotlib `Figure`.

Figures are built with the object API (no pyplot state), so they can be made in many threads
or processes and garbage-collected normally. Text is drawn in the CJK face perfeval ships.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np

from perfeval.display import fmt_num, fmt_pct
from perfeval.fonts import register_cjk_font

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from perfeval.scoring.evaluate import Evaluation

WIDTH_IN = 6.4
#: resolution of report PNGs; renderers size images as pixels / DPI inches
DPI = 200
COLORS = {"main": "#2f5d8a", "light": "#dbe4ee", "accent": "#c0504d", "mid": "#6f9fcf",
          "grey": "#7f7f7f"}
#: points-lost chart: at most this many bars (the rest are summed in a note)
MAX_LOST_BARS = 15
LABEL_CHARS = 18


def _figure(height: float, width: float = WIDTH_IN) -> Figure:
    from matplotlib.figure import Figure

    register_cjk_font()
    return Figure(figsize=(width, height), layout="constrained")


def _short(label: str, limit: int = LABEL_CHARS) -> str:
    label = " ".join(str(label).split())
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _plain_axes(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)


def score_rate_chart(evaluation: Evaluation, title: bool = True) -> Figure:
    """得分率 per 一级 dimension (scheme order, top to bottom), with score / weight labels."""
    levels = evaluation.levels
    names = list(levels["name"])
    rates = levels["score_rate"].to_numpy(dtype=float)
    shown = np.nan_to_num(rates) * 100
    fig = _figure(0.42 * len(names) + 0.9)
    ax = fig.add_subplot()
    y = np.arange(len(names))[::-1]
    ax.barh(y, [100] * len(names), color=COLORS["light"], height=0.55)
    ax.barh(y, shown, color=COLORS["main"], height=0.55)
    for yi, row, rate in zip(y, levels.itertuples(), rates, strict=True):
        ax.text(101, yi, f"{fmt_num(row.score)}/{fmt_num(row.weight)}分（{fmt_pct(rate)}）",
                va="center", ha="left", fontsize=9)
    ax.set_yticks(y, [f"{name}" for name in names])
    ax.set_xlim(0, 135)
    ax.set_xticks([0, 25, 50, 75, 100], ["0", "25%", "50%", "75%", "100%"])
    ax.set_xlabel("得分率")
    _plain_axes(ax)
    if title:
        ax.set_title(f"各一级指标得分率（总分 {fmt_num(evaluation.total)} 分，{evaluation.grade}）",
                     fontsize=11)
    return fig


def budget_chart(evaluation: Evaluation, title: bool = True) -> Figure:
    """预算数 / 到位数 / 执行数 (万元), with 资金到位率 and 预算执行率."""
    b = evaluation.budget
    labels = ["预算数", "到位数", "执行数"]
    values = np.array([b.budget, b.allocated, b.spent], dtype=float)
    fig = _figure(2.5, width=5.2)
    ax = fig.add_subplot()
    x = np.arange(3)
    ax.bar(x, np.nan_to_num(values), color=[COLORS["light"], COLORS["mid"], COLORS["main"]],
           width=0.55, edgecolor=COLORS["main"], linewidth=0.6)
    top = float(np.nanmax(values)) if np.isfinite(values).any() else 0.0
    for xi, value in zip(x, values, strict=True):
        ax.text(xi, np.nan_to_num(value) + top * 0.02, f"{fmt_num(value)}万元", ha="center",
                va="bottom", fontsize=9)
    ax.set_xticks(x, labels)
    ax.set_ylim(0, top * 1.22 if top > 0 else 1)
    ax.set_ylabel("金额（万元）")
    _plain_axes(ax)
    note = (f"资金到位率 {fmt_pct(b.arrival_rate)}　预算执行率 {fmt_pct(b.execution_rate)}"
            f"　偏差率 {fmt_pct(b.deviation_rate)}")
    ax.text(0.99, 0.98, note, transform=ax.transAxes, ha="right", va="top", fontsize=9,
            color=COLORS["grey"])
    if title:
        ax.set_title("预算资金到位与执行情况", fontsize=11)
    return fig


def points_lost_chart(evaluation: Evaluation, title: bool = True) -> Figure:
    """失分 (weight − score) per indicator that lost points, largest first."""
    ind = evaluation.indicators
    lost = ind.loc[ind["lost"] > 0.5 * 10.0 ** -evaluation.options.decimals,
                   ["level1", "name", "lost"]]
    lost = lost.sort_values("lost", ascending=False, kind="stable")
    shown, rest = lost.head(MAX_LOST_BARS), lost.iloc[MAX_LOST_BARS:]
    fig = _figure(max(1.6, 0.42 * len(shown) + 1.2))
    ax = fig.add_subplot()
    if shown.empty:
        ax.text(0.5, 0.5, "各项指标均得满分，无失分", ha="center", va="center", fontsize=11,
                transform=ax.transAxes)
        ax.set_axis_off()
    else:
        y = np.arange(len(shown))[::-1]
        values = shown["lost"].to_numpy(dtype=float)
        ax.barh(y, values, color=COLORS["accent"], height=0.6)
        for yi, value in zip(y, values, strict=True):
            ax.text(value + values.max() * 0.02, yi, f"{fmt_num(value)}分", va="center",
                    fontsize=9)
        ax.set_yticks(y, [f"{_short(r.name)}（{r.level1}）" for r in shown.itertuples()])
        ax.set_xlim(0, values.max() * 1.25)
        ax.set_xlabel("失分（分）")
        _plain_axes(ax)
        if len(rest):
            ax.text(0.99, 0.02, f"另有{len(rest)}项共失{fmt_num(rest['lost'].sum())}分未列出",
                    transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
                    color=COLORS["grey"])
    if title:
        ax.set_title(f"各指标失分（合计 {fmt_num(lost['lost'].sum())} 分）", fontsize=11)
    return fig


#: chart id -> function, in the order the report shows them
CHARTS = {
    "budget": budget_chart,
    "score_rate": score_rate_chart,
    "points_lost": points_lost_chart,
}


def figure_png(fig: Figure, dpi: int = DPI) -> bytes:
    """PNG bytes of a figure (Agg), without keeping any global pyplot reference."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=dpi, facecolor="white")
    return out.getvalue()


def warm_up() -> None:
    """Draw one small chart with CJK text and throw it away: matplotlib's Agg backend, the registered CJK face
    and its glyph cache load here, so that a kept notebook kernel (a batch's) draws its first report's charts
    at the speed of later ones. Pure set-up: no state a later chart reads changes what it draws."""
    fig = _figure(1.0)
    ax = fig.add_subplot()
    ax.barh([0], [1.0], color=COLORS["main"])
    ax.set_title("得分率 100.0%")
    ax.text(0.5, 0, "预算执行率 1 2 3")
    figure_png(fig)
