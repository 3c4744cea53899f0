"""Workbench view of an expert panel: experts × indicators heat map with disagreements highlighted, and a
what-if (drop one expert, change the merge rule) showing the effect on the total and grade.

The computing is `perfeval.panel` (merge_panel / PanelResult.what_if) and `perfeval.evaluate`; this module
draws and wires widgets. From a notebook:

    from perfeval.workbench.panel_view import panel_view
    panel_view("data/reference/AKT2022-001.xlsx", "专家评分/")     # or panel_view(result) for a PanelResult
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from perfeval.panel.apply import PanelResult, merge_sheets
from perfeval.panel.merge import PANEL_RULES
from perfeval.scoring.evaluate import evaluate
from perfeval.workbench.plots import render
from perfeval.workbench.tables import TABLE_CSS, delta_html, html_table, num, png_img

DISAGREE = "#C62828"
#: above this many indicators the cells are not annotated with their scores
ANNOTATE_MAX = 40
LABEL_CHARS = 16


def _short(label: str, limit: int = LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def heatmap_figure(result: PanelResult, excluded: Sequence[str] = ()) -> Figure:
    """Experts × indicators, each cell the expert's score as a share of the weight (red = low, green = full),
    the panel's own score in the last column; disagreement rows outlined and labelled in red; an expert
    left out by a what-if drawn hatched."""
    scores = result.panel.scores
    merged = result.merged.frame
    weight = merged["weight"].to_numpy(dtype=float)
    experts = list(scores.columns)
    values = np.column_stack([scores.to_numpy(dtype=float), merged["score"].to_numpy(dtype=float)])
    share = np.divide(values, weight[:, None], out=np.ones_like(values), where=weight[:, None] > 0)
    n_rows, n_cols = share.shape
    labels = result.panel.labels
    height = min(0.8 + 0.32 * n_rows, 40.0)
    width = min(3.2 + 0.55 * n_cols, 30.0)
    fig = Figure(figsize=(width, height))
    left = min(2.4 / width, 0.45)
    ax = fig.add_axes((left, 0.9 / height, 1 - left - 1.0 / width, 1 - 1.5 / height))
    bar_ax = fig.add_axes((1 - 0.8 / width, 0.9 / height, 0.12 / width, 1 - 1.5 / height))
    image = ax.imshow(share, cmap="RdYlGn", vmin=0.5, vmax=1.0, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(n_cols))
    ax.set_xticklabels([labels.get(e, e) for e in experts] + ["专家组"], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n_rows))
    flags = merged["disagreement"].to_numpy()
    ax.set_yticklabels([("⚠ " if f else "") + _short(str(name)) for name, f in zip(merged["name"], flags,
                                                                                     strict=True)], fontsize=8)
    for tick, flag in zip(ax.get_yticklabels(), flags, strict=True):
        if flag:
            tick.set_color(DISAGREE)
    ax.axvline(n_cols - 1.5, color="white", linewidth=3)
    for i in np.flatnonzero(flags):
        ax.add_patch(_rectangle((-0.5, i - 0.5), n_cols - 1, 1, edgecolor=DISAGREE, linewidth=2, fill=False))
    for j, expert in enumerate(experts):
        if expert in excluded:
            ax.add_patch(_rectangle((j - 0.5, -0.5), 1, n_rows, facecolor="white", alpha=0.7, hatch="//",
                                    edgecolor="#888888", linewidth=0))
    if n_rows <= ANNOTATE_MAX and n_cols <= 25:
        for i in range(n_rows):
            for j in range(n_cols):
                ax.text(j, i, num(values[i, j]), ha="center", va="center", fontsize=7)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    bar = fig.colorbar(image, cax=bar_ax)
    bar.set_label("得分/分值", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    ax.set_title(f"专家评分（{len(experts)} 位专家 × {n_rows} 项指标；红框为意见分歧）", fontsize=10, loc="left")
    return fig


def _rectangle(xy: tuple[float, float], w: float, h: float, **kwargs: Any):
    from matplotlib.patches import Rectangle

    return Rectangle(xy, w, h, **kwargs)


def heatmap_png(result: PanelResult, excluded: Sequence[str] = ()) -> bytes:
    return render(heatmap_figure, result, excluded)


@dataclass(frozen=True)
class WhatIf:
    """Totals and grades: the table without the panel, with the panel as merged, and under the what-if."""

    base_total: float
    base_grade: str
    panel_total: float
    panel_grade: str
    total: float
    grade: str
    changes: pd.DataFrame  # 指标名称, 专家组得分, 情景得分, 变化 (the indicators whose panel score moved)
    result: PanelResult


def what_if(result: PanelResult, exclude: Sequence[str] = (), rule: str | None = None) -> WhatIf:
    """Merge the panel again without the experts in `exclude` and/or under `rule`, and evaluate."""
    base = evaluate(result.base, result.scheme, result.options)
    panel = result.evaluate()
    other = result.what_if(exclude=exclude, rule=rule) if (exclude or rule) else result
    ev = other.evaluate()
    a, b = result.merged.frame["score"], other.merged.frame["score"]
    changes = pd.DataFrame({"指标名称": result.merged.frame["name"], "专家组得分": a, "情景得分": b, "变化": b - a})
    changes = changes[(changes["变化"].abs() > 1e-9)].reset_index(drop=True)
    return WhatIf(base.total, base.grade, panel.total, panel.grade, ev.total, ev.grade, changes, other)


def totals_html(outcome: WhatIf) -> str:
    rows = [("指标表原始评分（未合并专家组）", outcome.base_total, outcome.base_grade),
            ("专家组评分（全部专家）", outcome.panel_total, outcome.panel_grade),
            ("情景", outcome.total, outcome.grade)]
    cells = "".join(f"<tr><td>{html.escape(label)}</td><td class='num'>{num(t)}</td><td>{g}</td></tr>"
                    for label, t, g in rows)
    delta = outcome.total - outcome.panel_total
    grade_note = "" if outcome.grade == outcome.panel_grade else \
        f"；等级由 {outcome.panel_grade} 变为 <b>{outcome.grade}</b>"
    return (f'<table class="perfeval-table"><thead><tr><th></th><th>总分</th><th>等级</th></tr></thead>'
            f"<tbody>{cells}</tbody></table>"
            f'<div class="perfeval-note">情景相对专家组评分：总分 {delta_html(delta)}{grade_note}</div>')


def changes_html(outcome: WhatIf) -> str:
    if outcome.changes.empty:
        return '<div class="perfeval-note">各指标的专家组得分不变</div>'
    shown = outcome.changes.assign(**{c: outcome.changes[c].map(num) for c in ("专家组得分", "情景得分")},
                                   变化=[delta_html(x) for x in outcome.changes["变化"]])
    return html_table(shown, numeric=("专家组得分", "情景得分", "变化"), raw_html=("变化",))


def findings_html(result: PanelResult) -> str:
    if result.findings.empty:
        return '<div class="perfeval-note">专家评分无意见分歧</div>'
    return "".join(f'<div style="color:{DISAGREE}">⚠ {html.escape(m)}</div>' for m in result.findings["message"])


class PanelView:
    """ipywidgets: the heat map, the panel's findings, and a what-if (去掉一位专家 / 合并规则) with totals."""

    def __init__(self, result: PanelResult) -> None:
        import ipywidgets as w

        self.result = result
        labels = result.panel.labels
        self.drop = w.Dropdown(options=[("（不去掉）", "")] + [(labels.get(e, e), e) for e in result.merged.experts],
                               value="", description="去掉专家", layout=w.Layout(width="280px"))
        self.rule = w.ToggleButtons(options=[(PANEL_RULES[r], r) for r in PANEL_RULES],
                                    value=result.options.panel_rule, description="合并规则",
                                    style={"button_width": "260px"})
        self.totals = w.HTML()
        self.changes = w.HTML()
        self.image = w.Image(format="png", layout=w.Layout(max_width="100%", height="auto"))
        self.note = w.HTML()
        self.drop.observe(lambda _: self.refresh(), names="value")
        self.rule.observe(lambda _: self.refresh(), names="value")
        self.widget = w.VBox([w.HTML(TABLE_CSS + "<b>专家组评分</b>"), w.HTML(findings_html(result)),
                              w.HBox([self.drop]), self.rule, self.note, self.totals, self.changes, self.image])
        self.outcome: WhatIf | None = None
        self.refresh()

    def refresh(self) -> None:
        exclude = [self.drop.value] if self.drop.value else []
        try:
            self.outcome = what_if(self.result, exclude, self.rule.value)
        except Exception as exc:  # a what-if that cannot be merged is said, never a silent old figure
            self.note.value = f'<span style="color:{DISAGREE}">{html.escape(str(exc))}</span>'
            return
        applied = self.outcome.result.merged
        note = f"专家组得分取{applied.rule_label}（{len(applied.experts)} 位专家）"
        if self.rule.value == "trimmed_mean" and applied.rule != "trimmed_mean":
            note += f"；不足 {self.result.options.panel_trim_min_experts} 位专家，不去掉最高分和最低分"
        self.note.value = f'<div class="perfeval-note">{html.escape(note)}</div>'
        self.totals.value = totals_html(self.outcome)
        self.changes.value = changes_html(self.outcome)
        self.image.value = heatmap_png(self.outcome.result, exclude)

    def static_html(self) -> str:
        assert self.outcome is not None
        return (TABLE_CSS + "<b>专家组评分</b>" + findings_html(self.result) + self.note.value
                + totals_html(self.outcome) + changes_html(self.outcome)
                + png_img(heatmap_png(self.outcome.result, [self.drop.value] if self.drop.value else []),
                          "专家评分热力图"))

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/html"] = self.static_html()
        return bundle


def panel_view(project: PanelResult | str | Path, sheets: str | Path | Sequence[str | Path] | None = None,
               scheme: str | None = None) -> PanelView:
    """The panel view for a `PanelResult`, or for a project file and its expert sheets (a folder or files)."""
    if isinstance(project, PanelResult):
        return PanelView(project)
    from perfeval.panel.read import expert_sheets_in
    from perfeval.sheets.load import load_project

    if sheets is None:
        raise ValueError("给出专家评分表（文件夹或文件列表）")
    items = [sheets] if isinstance(sheets, str | Path) else list(sheets)
    paths: list[Path] = []
    for item in map(Path, items):
        paths += expert_sheets_in(item) if item.is_dir() else [item]
    loaded = load_project(project, scheme, field_data=False)
    return PanelView(merge_sheets(loaded, paths, scheme))
