"""Portfolio charts: grade distribution, score histogram, budget execution rate against score.

Pure functions from the batch summary frame (one row per scored project: 总分, 等级, 预算执行率)
to a matplotlib `Figure`, drawn in the CJK face perfeval ships.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from perfeval.charts import COLORS, figure_png
from perfeval.fonts import register_cjk_font

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GRADES = ("优", "良", "中", "差")
GRADE_COLORS = {"优": COLORS["main"], "良": COLORS["mid"], "中": "#e0a040", "差": COLORS["accent"]}
#: grade cut points drawn on score axes (both built-in schemes use 90/80/60)
BANDS = (60, 80, 90)


def _figure(width: float = 6.4, height: float = 3.6) -> Figure:
    from matplotlib.figure import Figure

    register_cjk_font()
    return Figure(figsize=(width, height), layout="constrained")


def _tidy(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def grade_distribution(scored: pd.DataFrame) -> Figure:
    """Projects per grade (bars), with counts and shares written on the bars."""
    fig = _figure()
    ax = fig.add_subplot()
    counts = scored["等级"].value_counts().reindex(GRADES, fill_value=0)
    total = int(counts.sum())
    bars = ax.bar(list(GRADES), counts.to_numpy(), color=[GRADE_COLORS[g] for g in GRADES], width=0.6)
    for bar, n in zip(bars, counts.to_numpy(), strict=True):
        share = f"{100 * n / total:.1f}%" if total else "—"
        ax.annotate(f"{n} 个（{share}）", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=9, xytext=(0, 2), textcoords="offset points")
    ax.set_ylabel("项目数")
    ax.set_title(f"等级分布（共 {total} 个项目）", fontsize=11)
    ax.set_ylim(0, max(1, int(counts.max())) * 1.18)
    _tidy(ax)
    return fig


def score_histogram(scored: pd.DataFrame) -> Figure:
    """Distribution of total scores in 2.5-point bins, with the grade cut points."""
    fig = _figure()
    ax = fig.add_subplot()
    scores = pd.to_numeric(scored["总分"], errors="coerce").dropna().to_numpy()
    low = min(60.0, float(np.floor(scores.min() / 5) * 5)) if len(scores) else 60.0
    bins = np.arange(low, 100.0 + 2.5, 2.5)
    ax.hist(scores, bins=bins, color=COLORS["main"], edgecolor="white", linewidth=0.6)
    for cut in BANDS:
        if cut > low:
            ax.axvline(cut, color=COLORS["grey"], linestyle="--", linewidth=0.8)
    edges = (0, *BANDS, 100)
    for lower, upper, grade in zip(edges, edges[1:], ("差", "中", "良", "优"), strict=False):
        if upper > low:
            ax.text((max(lower, low) + upper) / 2, 1.0, grade, transform=ax.get_xaxis_transform(),
                    ha="center", va="top", color=COLORS["grey"], fontsize=9)
    mean = f"，平均 {scores.mean():.2f} 分" if len(scores) else ""
    ax.set_title(f"总分分布{mean}", fontsize=11)
    ax.set_xlabel("总分")
    ax.set_ylabel("项目数")
    ax.set_xlim(low, 100)
    _tidy(ax)
    return fig


def execution_vs_score(scored: pd.DataFrame) -> Figure:
    """Budget execution rate (x) against total score (y), one dot per project, coloured by grade."""
    fig = _figure()
    ax = fig.add_subplot()
    rate = 100 * pd.to_numeric(scored["预算执行率"], errors="coerce")
    score = pd.to_numeric(scored["总分"], errors="coerce")
    size = 18 if len(scored) <= 500 else 4
    alpha = 0.85 if len(scored) <= 500 else 0.35
    for grade in GRADES:
        mask = (scored["等级"] == grade).to_numpy()
        if mask.any():
            ax.scatter(rate[mask], score[mask], s=size, alpha=alpha, color=GRADE_COLORS[grade],
                       label=grade, linewidths=0)
    ok = rate.notna() & score.notna()
    if ok.sum() >= 3 and rate[ok].std() > 0 and score[ok].std() > 0:
        r = float(np.corrcoef(rate[ok], score[ok])[0, 1])
        ax.set_title(f"预算执行率与总分（相关系数 {r:.2f}）", fontsize=11)
    else:
        ax.set_title("预算执行率与总分", fontsize=11)
    ax.set_xlabel("预算执行率（%）")
    ax.set_ylabel("总分")
    if ax.get_legend_handles_labels()[0]:
        legend = ax.legend(title="等级", fontsize=8, title_fontsize=8, loc="lower right", frameon=False,
                           markerscale=max(1.0, 18 / size) ** 0.5)
        for handle in legend.legend_handles:
            handle.set_alpha(1.0)
    _tidy(ax)
    return fig


CHARTS = {
    "grade_distribution": ("等级分布", grade_distribution),
    "score_histogram": ("总分分布", score_histogram),
    "execution_vs_score": ("预算执行率与总分", execution_vs_score),
}


def chart_pngs(scored: pd.DataFrame, dpi: int = 120) -> dict[str, bytes]:
    """{name: PNG} for every portfolio chart (empty when nothing was scored)."""
    if scored.empty:
        return {}
    return {name: figure_png(make(scored), dpi) for name, (_, make) in CHARTS.items()}
