"""The survey view: answer distribution per item (stacked bars), satisfied share with its 95% interval (error
bars), the screening counts and the excluded responses — as figures (for reports and exports) and as an
ipywidgets panel built from the same functions.

    from perfeval.workbench.survey_view import SurveyPanel
    SurveyPanel("答卷.xlsx", "映射.toml", project)       # display it in JupyterLab
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from perfeval.display import fmt_num, fmt_read
from perfeval.errors import PerfevalError, SheetError
from perfeval.fonts import register_cjk_font
from perfeval.survey.compute import POINT_LABELS, SurveyResult, run_survey

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from perfeval.model import Project

#: answer colours, 非常满意 … 非常不满意 (a diverging blue-to-red scale)
ANSWER_COLOURS = ("#1f5f99", "#5b9bd5", "#c9d6e3", "#f4a582", "#c0504d")
LABEL_CHARS = 22
SHOWN_EXCLUDED = 50


def _short(label: str, limit: int = LABEL_CHARS) -> str:
    label = " ".join(str(label).split())
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _figure(height: float, width: float = 6.4) -> Figure:
    from matplotlib.figure import Figure

    register_cjk_font()
    return Figure(figsize=(width, height), layout="constrained")


def _plain(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)


def distribution_frame(result: SurveyResult) -> pd.DataFrame:
    """Share (%) of each answer per item among the valid responses; items as rows, answers 非常满意 … 非常不满意."""
    labels = [POINT_LABELS[p] for p in sorted(POINT_LABELS, reverse=True)]
    counts = result.items.set_index("column")[labels].astype(float)
    totals = counts.sum(axis=1).replace(0, np.nan)
    return counts.div(totals, axis=0) * 100


def distribution_figure(result: SurveyResult) -> Figure:
    """Stacked horizontal bars: the answer distribution of every item (valid responses)."""
    shares = distribution_frame(result)
    fig = _figure(0.45 * len(shares) + 1.2)
    ax = fig.add_subplot()
    y = np.arange(len(shares))[::-1]
    left = np.zeros(len(shares))
    for label, colour in zip(shares.columns, ANSWER_COLOURS, strict=True):
        values = np.nan_to_num(shares[label].to_numpy(dtype=float))
        ax.barh(y, values, left=left, color=colour, height=0.6, label=label)
        for yi, x0, v in zip(y, left, values, strict=True):
            if v >= 7:
                ax.text(x0 + v / 2, yi, fmt_num(v, 0), ha="center", va="center", fontsize=7,
                        color="white" if colour in ANSWER_COLOURS[:2] + ANSWER_COLOURS[4:] else "#333333")
        left += values
    ax.set_yticks(y, [_short(c) for c in shares.index])
    ax.set_xlim(0, 100)
    ax.set_xlabel(f"占有效答卷的比例（%），n={int(result.screening.valid.sum())}")
    ax.legend(ncols=5, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=8)
    _plain(ax)
    return fig


def interval_frame(result: SurveyResult, project: Project | None = None) -> pd.DataFrame:
    """One row per item (rate mode) and per indicator: label, value, margin, kind, and the indicator's target
    (when a project is given and its target is a number)."""
    from perfeval.notation import normalise, parse_value

    rows = []
    for rec in result.items.to_dict(orient="records"):
        if math.isfinite(rec["satisfied"]):
            rows.append({"label": rec["column"], "value": rec["satisfied"], "margin": rec["margin"], "kind": "题目",
                         "target": math.nan})
    targets: dict[str, float] = {}
    if project is not None:
        ind = project.indicators
        for ref in result.indicators["indicator"]:
            hit = ind[(ind["name"] == ref) | (ind["level3"] == ref)]
            if len(hit):
                parsed = parse_value(normalise(hit.iloc[0]["target"]))
                if parsed.is_numeric and math.isfinite(parsed.value):
                    targets[ref] = parsed.value * (100 if parsed.unit == "" and parsed.value <= 1.5 else 1)
    for rec in result.indicators.itertuples():
        if rec.mode == "rate":
            rows.append({"label": f"指标：{rec.indicator}", "value": rec.value, "margin": rec.margin, "kind": "指标",
                         "target": targets.get(rec.indicator, math.nan)})
    return pd.DataFrame(rows, columns=["label", "value", "margin", "kind", "target"])


def interval_figure(result: SurveyResult, project: Project | None = None) -> Figure:
    """Satisfied share (%) per item and per indicator with its 95% interval as error bars; the indicator's
    target as a tick when a project is given."""
    frame = interval_frame(result, project)
    fig = _figure(0.45 * max(len(frame), 1) + 1.0)
    ax = fig.add_subplot()
    if frame.empty:
        ax.text(0.5, 0.5, "无满意率题目（加权得分）", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    y = np.arange(len(frame))[::-1]
    colours = np.where(frame["kind"] == "指标", "#1f5f99", "#7f7f7f")
    margin = np.nan_to_num(frame["margin"].to_numpy(dtype=float))
    for yi, v, m, c in zip(y, frame["value"], margin, colours, strict=True):
        ax.errorbar(v, yi, xerr=m, fmt="o", color=c, ecolor=c, capsize=4, markersize=5)
        ax.text(v, yi + 0.18, f"{fmt_num(v, 1, trim=False)}% ±{fmt_num(m, 1, trim=False)}", ha="center",
                va="bottom", fontsize=7, color=c)
    targets = frame["target"].to_numpy(dtype=float)
    for yi, t in zip(y, targets, strict=True):
        if math.isfinite(t):
            ax.plot([t, t], [yi - 0.3, yi + 0.3], color="#c0504d", lw=2)
            ax.text(t, yi - 0.42, f"目标 {fmt_read(t)}%", ha="center", va="top", fontsize=7, color="#c0504d")
    low = np.nanmin(np.append(frame["value"].to_numpy(dtype=float) - margin, targets[np.isfinite(targets)]))
    ax.set_xlim(max(0.0, math.floor(low / 5) * 5 - 5), 106)
    ax.set_ylim(-0.8, len(frame) - 0.4)
    ax.set_yticks(y, [_short(label) for label in frame["label"]])
    ax.set_xlabel("满意率（%），误差线为 95% 置信区间")
    _plain(ax)
    return fig


def png(fig: Figure, dpi: int = 96) -> bytes:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _2(x: object) -> str:
    """A survey figure in the table: two decimals kept ('85.00'), '—' when missing."""
    return fmt_num(x, 2, trim=False)


def summary_html(result: SurveyResult) -> str:
    """Screening counts and the per-indicator figures as HTML tables."""
    c = result.screening.counts
    head = (f"<p>答卷 {c['total']} 份，有效 <b>{c['valid']}</b> 份，剔除 {c['excluded']} 份"
            f"（不完整 {c['incomplete']}，编号重复 {c['duplicate']}，直线作答 {c['straightlining']}，"
            f"不在调查期间 {c['out_of_period']}）</p>")
    rows = "".join(
        f"<tr><td>{html.escape(r.indicator)}</td><td>{'满意率' if r.mode == 'rate' else '加权得分'}</td>"
        f"<td>{_2(r.value)}</td><td>{r.n}</td><td>±{_2(r.margin)}</td><td>{_2(r.low)}–{_2(r.high)}</td>"
        f"<td>{html.escape(r.formula)}</td></tr>" for r in result.indicators.itertuples())
    table = ("<table><tr><th>指标</th><th>口径</th><th>实际值</th><th>有效样本 n</th><th>误差（95%）</th>"
             f"<th>置信区间</th><th>公式</th></tr>{rows}</table>")
    return head + table


def excluded_html(result: SurveyResult, limit: int = SHOWN_EXCLUDED) -> str:
    excluded = result.excluded
    rows = "".join(f"<tr><td>{r[0]}</td><td>{html.escape(str(r[1] or ''))}</td><td>{html.escape(r[3])}</td></tr>"
                   for r in excluded.head(limit).itertuples(index=False))
    more = f"<p>（共 {len(excluded)} 份，仅列前 {limit} 份）</p>" if len(excluded) > limit else ""
    return f"<table><tr><th>行</th><th>答卷编号</th><th>剔除原因</th></tr>{rows}</table>{more}"


class SurveyPanel:
    """The survey view in JupyterLab: answers and mapping paths, a 计算 button, the two figures, the figures per
    indicator and the excluded responses. Input problems are shown in the panel (located), never raised."""

    def __init__(self, answers: str | Path | None = None, mapping: str | Path | None = None,
                 project: Project | None = None):
        import ipywidgets as w

        self.project = project
        self.result: SurveyResult | None = None
        self.answers = w.Text(value=str(answers or ""), description="答卷文件", layout=w.Layout(width="60%"))
        self.mapping = w.Text(value=str(mapping or ""), description="问卷映射", layout=w.Layout(width="60%"))
        self.run = w.Button(description="计算", button_style="primary")
        self.message = w.HTML()
        self.summary = w.HTML()
        self.distribution = w.Image(format="png", layout=w.Layout(max_width="100%", height="auto"))
        self.intervals = w.Image(format="png", layout=w.Layout(max_width="100%", height="auto"))
        self.excluded = w.HTML()
        self.run.on_click(lambda _: self.compute())
        self.widget = w.VBox([w.HBox([self.answers, self.run]), self.mapping, self.message, self.summary,
                              w.HBox([self.distribution, self.intervals]), self.excluded])
        if answers and mapping:
            self.compute()

    def show_message(self, text: str, error: bool = False) -> None:
        colour = "#C62828" if error else "#2E7D32"
        self.message.value = f'<span style="color:{colour}">{html.escape(text)}</span>' if text else ""

    def compute(self) -> None:
        try:
            self.result = run_survey(self.answers.value.strip(), self.mapping.value.strip())
        except SheetError as exc:
            self.show_message("；".join(str(p) for p in exc.problems), error=True)
            return
        except PerfevalError as exc:
            self.show_message(str(exc), error=True)
            return
        self.show_message("")
        self.summary.value = summary_html(self.result)
        self.distribution.value = png(distribution_figure(self.result))
        self.intervals.value = png(interval_figure(self.result, self.project))
        self.excluded.value = excluded_html(self.result)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        return self.widget._repr_mimebundle_(**kwargs)
