"""Portfolio charts: grade distribution, score histogram, budget execution rate against score.

Pure functions from the batch summary frame (one row per scored project: 总分, 等级, 预算执行率)
to a matplotlib `Figure`, drawn in the CJK face perfeval ships.

Legibility: index.html shows each chart at its natural size (`display_size`: one figure inch is 96 CSS px),
so a font of N pt in the figure is N pt on screen; every text is at least `MIN_FONT_PT`. Counts are drawn on
integer axes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from perfeval.display import fmt_num, fmt_pct, grade_key
from perfeval.fonts import register_cjk_font
from perfeval.report.charts import COLORS, figure_png
from perfeval.scheme import OTHER_GRADE_COLOUR, GradeBand, load_scheme

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: the grades, their cut points and colours come from the scheme (`Scheme.grade_table`; None: the default
#: scheme's); a portfolio whose projects grade differently passes () and its charts draw no cut points
GradeTable = tuple[GradeBand, ...]
#: figure size in inches; shown in index.html at CSS_PX_PER_INCH px per inch (its natural size)
WIDTH_IN, HEIGHT_IN = 5.0, 3.4
CSS_PX_PER_INCH = 96
#: PNG resolution: twice the CSS size, sharp on high-density screens
DPI = 192
#: smallest text at the size index.html shows a chart (pt)
MIN_FONT_PT = 10.0
FONT_PT = 10.0
TITLE_PT = 12.0


def _figure(width: float = WIDTH_IN, height: float = HEIGHT_IN) -> Figure:
    from matplotlib.figure import Figure

    register_cjk_font()
    return Figure(figsize=(width, height), layout="constrained")


def _tidy(ax: Axes, integer_y: bool = False) -> None:
    """Open frame, every label at FONT_PT; whole numbers only on a count axis."""
    from matplotlib.ticker import MaxNLocator

    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=FONT_PT)
    ax.xaxis.label.set_size(FONT_PT)
    ax.yaxis.label.set_size(FONT_PT)
    ax.title.set_size(TITLE_PT)
    if integer_y:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def display_size(png: bytes, dpi: float = DPI) -> tuple[int, int]:
    """The CSS size (px) index.html shows a chart PNG at: its natural size, one figure inch = 96 px."""
    width, height = png_size(png)
    return round(width * CSS_PX_PER_INCH / dpi), round(height * CSS_PX_PER_INCH / dpi)


def rendered_points(font_pt: float, png_width: int, css_width: float, dpi: float = DPI) -> float:
    """A figure font's size on screen (CSS pt) when its PNG (`png_width` px at `dpi`) is shown `css_width` px
    wide: pt → PNG px (× dpi/72) → CSS px (× css_width/png_width) → CSS pt (× 72/96)."""
    return font_pt * dpi / 72 * css_width / png_width * 72 / CSS_PX_PER_INCH


def default_grades() -> GradeTable:
    return load_scheme("third_party").grade_table


def grade_colours(grades: GradeTable | None, present: Iterable[object] = ()) -> dict[str, str]:
    """Grade label -> colour, best grade first: the table's grades, then any other label the projects carry
    (`present`). When the projects grade differently (`grades` ()), only the labels they carry, coloured as
    the default scheme colours them where it has them."""
    return grade_key(grades or default_grades(), present, other=OTHER_GRADE_COLOUR, keep_absent=grades != ())


def _grade_colours(scored: pd.DataFrame, grades: GradeTable | None) -> dict[str, str]:
    return grade_colours(grades, scored["等级"].dropna().unique())


def grade_distribution(scored: pd.DataFrame, grades: GradeTable | None = None) -> Figure:
    """Projects per grade (bars), with counts and shares written on the bars."""
    fig = _figure()
    ax = fig.add_subplot()
    colours = _grade_colours(scored, grades)
    labels = list(colours)
    counts = scored["等级"].value_counts().reindex(labels, fill_value=0)
    total = int(counts.sum())
    bars = ax.bar(labels, counts.to_numpy(), color=list(colours.values()), width=0.6)
    for bar, n in zip(bars, counts.to_numpy(), strict=True):
        share = fmt_pct(n / total, 1, trim=False) if total else "—"
        ax.annotate(f"{n} 个\n{share}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=FONT_PT, xytext=(0, 2), textcoords="offset points")
    ax.set_ylabel("项目数")
    ax.set_title(f"等级分布（共 {total} 个项目）")
    ax.set_ylim(0, max(1, int(counts.max())) * 1.3)  # room for the two-line labels
    _tidy(ax, integer_y=True)
    return fig


def score_histogram(scored: pd.DataFrame, grades: GradeTable | None = None) -> Figure:
    """Distribution of total scores in 2.5-point bins, with the scheme's grade cut points (none when the
    projects' schemes grade differently: `grades` ())."""
    fig = _figure()
    ax = fig.add_subplot()
    scores = pd.to_numeric(scored["总分"], errors="coerce").dropna().to_numpy()
    low = min(60.0, float(np.floor(scores.min() / 5) * 5)) if len(scores) else 60.0
    bins = np.arange(low, 100.0 + 2.5, 2.5)
    ax.hist(scores, bins=bins, color=COLORS["main"], edgecolor="white", linewidth=0.6)
    for cut in _cuts(grades):
        if cut > low:
            ax.axvline(cut, color=COLORS["grey"], linestyle="--", linewidth=0.8)
    for grade, lower, upper, colour in reversed(_table(grades)):
        if upper > low:
            ax.text((max(lower, low) + upper) / 2, 1.0, grade, transform=ax.get_xaxis_transform(),
                    ha="center", va="top", color=colour, fontsize=FONT_PT)
    mean = f"，平均 {fmt_num(scores.mean(), 2, trim=False)} 分" if len(scores) else ""
    ax.set_title(f"总分分布{mean}")
    ax.set_xlabel("总分")
    ax.set_ylabel("项目数")
    ax.set_xlim(low, 100)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.12)  # room for the grade letters above the bars
    _tidy(ax, integer_y=True)
    return fig


def _cuts(grades: GradeTable | None) -> tuple[float, ...]:
    return tuple(sorted(band.lower for band in _table(grades) if band.lower > 0))


def _table(grades: GradeTable | None) -> GradeTable:
    return default_grades() if grades is None else grades


def execution_vs_score(scored: pd.DataFrame, grades: GradeTable | None = None) -> Figure:
    """Budget execution rate (x) against total score (y), one dot per project, coloured by grade.

    The grade cut points are labelled dashed lines; the colour key sits outside the plot as squares with
    counts, so no key mark can be taken for a project."""
    from matplotlib.patches import Patch

    fig = _figure()
    ax = fig.add_subplot()
    rate = 100 * pd.to_numeric(scored["预算执行率"], errors="coerce")
    score = pd.to_numeric(scored["总分"], errors="coerce")
    size = 22 if len(scored) <= 500 else 5
    alpha = 0.85 if len(scored) <= 500 else 0.35
    handles = []
    for grade, colour in _grade_colours(scored, grades).items():
        mask = (scored["等级"] == grade).to_numpy()
        if mask.any():
            ax.scatter(rate[mask], score[mask], s=size, alpha=alpha, color=colour, linewidths=0)
            handles.append(Patch(color=colour, label=f"{grade} {int(mask.sum())} 个"))
    ok = rate.notna() & score.notna()
    if ok.sum() >= 3 and rate[ok].std() > 0 and score[ok].std() > 0:
        r = float(np.corrcoef(rate[ok], score[ok])[0, 1])
        ax.set_title(f"预算执行率与总分（相关系数 {fmt_num(r, 2, trim=False)}）")
    else:
        ax.set_title("预算执行率与总分")
    ax.set_xlabel("预算执行率（%）")
    ax.set_ylabel("总分")
    bottom, top = ax.get_ylim()
    for cut in _cuts(grades):
        if bottom < cut < top:
            ax.axhline(cut, color=COLORS["grey"], linestyle="--", linewidth=0.8, zorder=0)
    if handles:
        ax.legend(handles=handles, title="等级", fontsize=FONT_PT, title_fontsize=FONT_PT, loc="upper left",
                  bbox_to_anchor=(1.02, 1.0), frameon=False, handlelength=1.0, handleheight=1.0,
                  borderaxespad=0.0)
    _tidy(ax)
    return fig


CHARTS = {
    "grade_distribution": ("等级分布", grade_distribution),
    "score_histogram": ("总分分布", score_histogram),
    "execution_vs_score": ("预算执行率与总分", execution_vs_score),
}


def chart_pngs(scored: pd.DataFrame, dpi: int = DPI, grades: GradeTable | None = None) -> dict[str, bytes]:
    """{name: PNG} for every portfolio chart (empty when nothing was scored), with the grade table the
    projects' schemes share (`perfeval.scheme.shared_grade_table`; (): no cut points drawn)."""
    if scored.empty:
        return {}
    return {name: figure_png(make(scored, grades), dpi) for name, (_, make) in CHARTS.items()}
