"""The interactive workbench (ipywidgets): portfolio explorer, project drill-down, what-if and
grade robustness. Labels are Chinese; the logic lives in the pure modules beside this one.

Each panel displays as a live widget in JupyterLab and carries a static HTML rendering (tables
and inline PNG charts) in the same display bundle, which exports (nbconvert HTML/PDF without
widget state) show instead.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd

from perfeval.display import fmt_pct
from perfeval.errors import PerfevalError, SheetError
from perfeval.notation import unit_factor
from perfeval.rules import RULE_LABELS
from perfeval.scoring.evaluate import Evaluation
from perfeval.scoring.understood import for_evaluation
from perfeval.workbench import drilldown, plots, robustness, whatif
from perfeval.workbench.portfolio import (
    FAILED_LABELS,
    FINDINGS_CHOICES,
    SUMMARY_LABELS,
    Filters,
    Portfolio,
    apply_filters,
    filter_choices,
    grade_colours,
    grade_counts,
    level_column,
    load_portfolio,
    sort_summary,
)
from perfeval.workbench.tables import TABLE_CSS, html_table, num, pct, png_img, signed
from perfeval.workbench.userpath import paste_path

SORT_CHOICES = ("total", "id", "grade", "execution_rate", "errors", "warnings", "department", "year")
ROW_CHOICES = (("20 行", 20), ("50 行", 50), ("100 行", 100), ("200 行", 200))
WIDE = w.Layout(width="auto")


def _guarded(method: Callable[..., None]) -> Callable[..., None]:
    """Run a widget callback; show input problems in the panel instead of losing them in the
    kernel log (widget callbacks have nowhere else to report)."""

    @functools.wraps(method)
    def run(self: Panel, *args: Any, **kwargs: Any) -> None:
        try:
            method(self, *args, **kwargs)
        except SheetError as exc:
            self.show_message("；".join(str(p) for p in exc.problems), error=True)
        except PerfevalError as exc:
            self.show_message(str(exc), error=True)

    return run


def _scroll(inner: str, height: int = 420) -> str:
    return f'<div style="max-height:{height}px;overflow:auto">{inner}</div>'


class Panel:
    """A widget with a static rendering for exports."""

    widget: w.Widget
    message: w.HTML

    def static_html(self) -> str:
        raise NotImplementedError

    def show_message(self, text: str, error: bool = False) -> None:
        colour = "#C62828" if error else "#2E7D32"
        self.message.value = f'<span style="color:{colour}">{html.escape(text)}</span>' if text else ""

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/html"] = TABLE_CSS + self.static_html()
        return bundle


def _grade_html(grade: object, colours: dict[str, str]) -> str:
    """A grade label in its scheme's colour (escaped)."""
    text = html.escape("" if grade is None or grade != grade else str(grade))
    colour = colours.get(str(grade))
    return f'<span style="color:{html.escape(colour)};font-weight:bold">{text}</span>' if colour and text else text


def _image(png: bytes = b"") -> w.Image:
    return w.Image(value=png, format="png", layout=w.Layout(max_width="100%", height="auto"))


# ---------------------------------------------------------------- portfolio

class PortfolioExplorer(Panel):
    """Filters (年度, 主管部门, 等级, 总分范围, 核查发现, 搜索), a sortable table and charts
    that follow the filters."""

    def __init__(self, portfolio: Portfolio, picker: w.Dropdown | None = None) -> None:
        self.portfolio = portfolio
        self.picker = picker
        #: the scheme's grade table (labels best first, cut points, colours) the view draws, looked up once
        self.grades = portfolio.grade_table
        choices = filter_choices(portfolio.summary, self.grades)
        box = w.Layout(width="180px")
        self.year = w.SelectMultiple(options=choices["years"], description="年度", rows=3, layout=box)
        self.department = w.SelectMultiple(options=choices["departments"], description="主管部门",
                                           rows=4, layout=w.Layout(width="260px"))
        self.grade = w.SelectMultiple(options=choices["grades"], description="等级", rows=4, layout=box)
        self.score = w.FloatRangeSlider(value=(0.0, 100.0), min=0.0, max=100.0, step=1.0,
                                        description="总分范围", continuous_update=False,
                                        readout_format=".0f", layout=w.Layout(width="380px"))
        self.findings = w.Dropdown(options=[(label, key) for key, label in FINDINGS_CHOICES.items()],
                                   value="all", description="核查发现", layout=w.Layout(width="240px"))
        self.search = w.Text(description="搜索", placeholder="项目编号或名称", continuous_update=False,
                             layout=w.Layout(width="240px"))
        self.sort_by = w.Dropdown(options=[(SUMMARY_LABELS[c], c) for c in SORT_CHOICES], value="total",
                                  description="排序", layout=w.Layout(width="200px"))
        self.order = w.ToggleButtons(options=[("降序", False), ("升序", True)], value=False,
                                     style={"button_width": "56px"})
        self.rows = w.Dropdown(options=ROW_CHOICES, value=50, description="显示",
                               layout=w.Layout(width="170px"))
        self.clear = w.Button(description="清除筛选", icon="times")
        self.status = w.HTML()
        self.table = w.HTML()
        self.chart = _image()
        self.message = w.HTML()
        self.failed = w.HTML()
        for control in (self.year, self.department, self.grade, self.score, self.findings,
                        self.search, self.sort_by, self.order, self.rows):
            control.observe(self._changed, names="value")
        self.clear.on_click(lambda _: self.reset_filters())
        self._holding = False  # True while several filters are reset at once
        self.shown = portfolio.summary
        self.table.add_class("perfeval-portfolio-table")
        self.status.add_class("perfeval-portfolio-status")
        filters = w.VBox([
            w.HBox([self.year, self.department, self.grade]),
            w.HBox([self.score, self.findings]),
            w.HBox([self.search, self.sort_by, self.order, self.rows, self.clear]),
        ])
        parts: list[w.Widget] = [w.HTML(TABLE_CSS + "<b>项目组合</b>"), filters, self.status, self.message,
                                 self.chart, self.table]
        if picker is not None:
            parts.append(w.HBox([w.HTML("查看项目明细："), picker]))
        parts.append(self.failed)
        self.widget = w.VBox(parts)
        self.failed.value = self._failed_html()
        self.refresh()

    @property
    def filters(self) -> Filters:
        return Filters(years=tuple(self.year.value), departments=tuple(self.department.value),
                       grades=tuple(self.grade.value), score_range=tuple(self.score.value),
                       findings=self.findings.value, text=self.search.value)

    def reset_filters(self) -> None:
        self._holding = True
        try:
            self.year.value, self.department.value, self.grade.value = (), (), ()
            self.score.value, self.findings.value, self.search.value = (0.0, 100.0), "all", ""
        finally:
            self._holding = False
        self.refresh()

    def _changed(self, _change: dict) -> None:
        if not self._holding:
            self.refresh()

    @_guarded
    def refresh(self) -> None:
        """Apply the filters; update the status line, the table and the charts."""
        summary = self.portfolio.summary
        frame = sort_summary(apply_filters(summary, self.filters), self.sort_by.value,
                             self.order.value, self.grades)
        self.shown = frame
        self.status.value = self._status_html(frame)
        self.table.value = _scroll(self.table_html(frame, self.rows.value), 460)
        self.chart.value = plots.render(plots.portfolio_figure, frame, grades=self.grades)
        self.show_message("")

    def _status_html(self, frame: pd.DataFrame) -> str:
        counts = grade_counts(frame, self.grades)
        colours = grade_colours(self.portfolio.summary, self.grades)
        mean = num(frame["total"].mean()) if len(frame) else "—"
        grades = "，".join(f"{_grade_html(g, colours)} {n}" for g, n in counts.items())
        return (f"共 {len(self.portfolio)} 个项目，符合筛选 <b>{len(frame)}</b> 个；平均总分 {mean}；"
                f"{grades}；有核查错误的 {int((frame['errors'] > 0).sum())} 个")

    def table_html(self, frame: pd.DataFrame, max_rows: int | None = None) -> str:
        shown = frame if max_rows is None else frame.iloc[:max_rows]
        colours = grade_colours(self.portfolio.summary, self.grades)
        levels = [lv for lv in self.portfolio.levels if level_column(lv) in shown]
        table = pd.DataFrame({
            "项目编号": shown["id"].to_numpy(),
            "项目名称": shown["name"].to_numpy(),
            "主管部门": shown["department"].to_numpy(),
            "年度": shown["year"].astype(str).to_numpy(),
            "总分": [num(x) for x in shown["total"]],
            "等级": [_grade_html(g, colours) for g in shown["grade"]],
            **{f"{lv}得分": [num(x) for x in shown[level_column(lv)]] for lv in levels},
            "预算执行率": [pct(x) for x in shown["execution_rate"]],
            "错误": shown["errors"].astype(str).to_numpy(),
            "警告": shown["warnings"].astype(str).to_numpy(),
        })
        numeric = ["总分", *(f"{lv}得分" for lv in levels), "预算执行率", "错误", "警告"]
        out = html_table(table, numeric=numeric, raw_html=("等级",))
        if max_rows is not None and len(frame) > max_rows:
            out += f'<div class="perfeval-note">共 {len(frame)} 个项目，显示前 {max_rows} 个（可改排序或筛选）</div>'
        return out

    def _failed_html(self) -> str:
        failed = self.portfolio.failed
        if failed is None or failed.empty:
            return ""
        frame = failed.rename(columns=FAILED_LABELS)
        return (f"<details><summary>未能读取的文件/项目：{failed['file'].nunique()} 个文件，"
                f"{len(failed)} 个问题</summary>{_scroll(html_table(frame), 240)}</details>")

    def static_html(self) -> str:
        return (f"<h4>项目组合</h4><p>{self._status_html(self.shown)}</p>"
                f"{png_img(self.chart.value, '项目组合图表')}"
                f"{self.table_html(self.shown, 100)}{self._failed_html()}")


# ---------------------------------------------------------------- project drill-down

def project_picker(portfolio: Portfolio) -> w.Dropdown:
    """The project selector shared by the project panels."""
    options = [(portfolio.label(k), k) for k in portfolio.keys if portfolio.has_project(k)]
    picker = w.Dropdown(options=options, description="项目", layout=w.Layout(width="520px"))
    picker.add_class("perfeval-project-picker")
    return picker


def _headline_html(ev: Evaluation) -> str:
    items = drilldown.headline(ev)
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in items.items())
    return f'<table class="perfeval-table">{cells}</table>'


class ProjectDrillDown(Panel):
    """The selected project's subtotals, indicators (scores, deviations, reasons), findings and
    charts."""

    def __init__(self, portfolio: Portfolio, picker: w.Dropdown) -> None:
        self.portfolio, self.picker = portfolio, picker
        self.head = w.HTML()
        self.levels = w.HTML()
        self.indicators = w.HTML()
        self.findings = w.HTML()
        self.charts = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.message = w.HTML()
        self.evaluation: Evaluation | None = None
        picker.observe(lambda _: self.refresh(), names="value")
        self.widget = w.VBox([w.HTML(TABLE_CSS + "<b>项目明细</b>"), picker, self.message, self.head,
                              w.HTML("<b>一级指标得分</b>"), self.levels, self.charts,
                              w.HTML("<b>指标明细</b>"), self.indicators,
                              w.HTML("<b>数据核查发现</b>"), self.findings])
        self.refresh()

    @_guarded
    def refresh(self) -> None:
        if self.picker.value is None:
            self.show_message("没有可查看明细的项目")
            return
        ev = self.portfolio.evaluation(self.picker.value)
        self.evaluation = ev
        self.head.value = _headline_html(ev)
        self.levels.value = html_table(drilldown.level_table(ev), numeric=("分值", "得分", "得分率"))
        self.indicators.value = _scroll(self._indicator_html(ev))
        self.findings.value = _scroll(self._findings_html(ev), 300)
        self.charts.children = [w.VBox([w.HTML(f"<i>{t}</i>"), _image(png)])
                                for t, png in plots.project_charts(ev)]
        self.show_message("")

    @staticmethod
    def _indicator_html(ev: Evaluation) -> str:
        table = drilldown.indicator_table(ev)
        lost = ev.indicators["lost"].to_numpy(dtype=float) > 0
        return html_table(table, numeric=drilldown.INDICATOR_NUMERIC, highlight=lost)

    @staticmethod
    def _findings_html(ev: Evaluation) -> str:
        table = drilldown.findings_table(ev)
        return html_table(table) if len(table) else "<p>无核查发现</p>"

    def static_html(self) -> str:
        ev = self.evaluation
        if ev is None:
            return "<p>没有可查看明细的项目</p>"
        charts = "".join(png_img(c.children[1].value, c.children[0].value) for c in self.charts.children)
        return (f"<h4>项目明细</h4>{_headline_html(ev)}"
                f"{html_table(drilldown.level_table(ev), numeric=('分值', '得分', '得分率'))}{charts}"
                f"<h4>指标明细</h4>{self._indicator_html(ev)}"
                f"<h4>数据核查发现</h4>{self._findings_html(ev)}")


# ---------------------------------------------------------------- what-if

def _indicator_options(ev: Evaluation) -> list[tuple[str, int]]:
    ind = ev.project.indicators
    return [(f"第{int(r.row)}行 {r.level1}/{r.name}", int(i)) for i, r in zip(ind.index, ind.itertuples(),
                                                                           strict=True)]


SAVE_LABEL, OVERWRITE_LABEL = "保存情景", "确认覆盖"


class WhatIfPanel(Panel):
    """Change an indicator's actual value, weight or scoring rule, or the qualitative scale; the
    score, grade, subtotals and chart update at once beside the original; reset; save."""

    def __init__(self, portfolio: Portfolio, picker: w.Dropdown, save_dir: str | Path = "情景") -> None:
        self.portfolio, self.picker = portfolio, picker
        self.save_dir = Path(save_dir)
        self.indicator = w.Dropdown(description="指标", layout=w.Layout(width="520px"))
        self.actual = w.Text(description="实际完成值", continuous_update=False,
                             layout=w.Layout(width="300px"))
        self.actual_status = w.HTML(layout=w.Layout(width="300px"))  # the reading, or why it was refused
        self.weight = w.BoundedFloatText(description="分值", min=0.0, max=100.0, step=0.5,
                                         layout=w.Layout(width="180px"))
        self.keep_level = w.Checkbox(value=True, description="同级其他指标按比例调整（保持一级指标分值）",
                                     indent=False, layout=WIDE)
        methods = [(whatif.method_label(whatif.AUTO_METHOD), whatif.AUTO_METHOD)]
        methods += [(label, rule) for rule, label in RULE_LABELS.items()]
        self.method = w.Dropdown(options=methods, description="评分方法", layout=w.Layout(width="300px"))
        self.scale = w.Dropdown(options=[(label, key) for key, label in whatif.SCALE_LABELS.items()],
                                description="定性等级", layout=w.Layout(width="420px"))
        self.reset_button = w.Button(description="重置", icon="undo")
        self.save_path = w.Text(description="保存为", layout=w.Layout(width="420px"))
        self.save_button = w.Button(description=SAVE_LABEL, icon="save", button_style="primary")
        self._overwrite: str | None = None  # the existing file a second click on save replaces
        self.total = w.HTML()
        self.levels = w.HTML()
        self.changes = w.HTML()
        self.chart = w.HTML()
        self.message = w.HTML()
        for name in ("indicator", "actual", "actual_status", "weight", "method", "scale", "total"):
            getattr(self, name).add_class(f"perfeval-whatif-{name}")  # stable hooks for browser tests
        self._loading = False
        self.scenario: whatif.Scenario | None = None
        self.base: Evaluation | None = None
        self.evaluation: Evaluation | None = None
        self.saved: whatif.SavedScenario | None = None
        self.refused: str | None = None  # why the actual typed last was not scored

        picker.observe(lambda _: self.load(), names="value")
        self.indicator.observe(lambda _: self._show_indicator(), names="value")
        self.actual.observe(self._on_actual, names="value")
        self.weight.observe(self._on_weight, names="value")
        self.method.observe(self._on_method, names="value")
        self.scale.observe(self._on_scale, names="value")
        self.reset_button.on_click(lambda _: self.reset())
        self.save_button.on_click(lambda _: self.save())
        self.save_path.observe(lambda _: self._cancel_overwrite(), names="value")
        self.widget = w.VBox([
            w.HTML(TABLE_CSS + "<b>情景模拟</b>"), picker,
            w.HBox([self.indicator]),
            w.HBox([w.VBox([self.actual, self.actual_status]), self.weight, self.method]),
            w.HBox([self.keep_level]),
            w.HBox([self.scale, self.reset_button]),
            self.message, self.total, w.HBox([self.levels, self.chart]), self.changes,
            w.HBox([self.save_path, self.save_button]),
        ])
        self.load()

    # -------------------------------------------------------- state

    @_guarded
    def load(self) -> None:
        """Start from the selected project's original values."""
        if self.picker.value is None:
            self.show_message("没有可模拟的项目")
            return
        key = self.picker.value
        base = self.portfolio.evaluation(key)
        self.base, self.scenario = base, whatif.Scenario(self.portfolio.project(key))
        self._cancel_overwrite()
        self._loading = True
        try:
            self.indicator.options = _indicator_options(base)
            lost = base.indicators["lost"].to_numpy(dtype=float)
            self.indicator.value = int(base.indicators.index[int(np.argmax(lost))]) if lost.max() > 0 \
                else int(base.indicators.index[0])
            self.scale.value = base.options.qualitative_scale
            self.save_path.value = str(self.save_dir / f"{base.project.id}-情景.xlsx")
        finally:
            self._loading = False
        self._show_indicator()
        self.update()

    def _show_indicator(self) -> None:
        if self.scenario is None or self.indicator.value is None:
            return
        i = self.indicator.value
        self._loading = True
        try:
            self.actual.value = str(self.scenario.current(i, "actual") or "")
            self.weight.value = float(self.scenario.current(i, "weight"))
            self.method.value = str(self.scenario.current(i, "method") or whatif.AUTO_METHOD)
        finally:
            self._loading = False
        self.refused = None
        self._show_reading()

    def _show_reading(self) -> None:
        """Under the actual-value box: how perfeval read the selected indicator and what it
        scored, or — in red — why the value typed last was refused (the score shown is then
        still that of the last readable scenario)."""
        self.actual_status.value = self._refused_html() if self.refused else self._reading_html()

    def _refused_html(self) -> str:
        kept = "—"
        if self.scenario is not None and self.indicator.value is not None:
            kept = str(self.scenario.current(self.indicator.value, "actual") or "（空）")
        return (f'<span class="perfeval-whatif-refused" style="color:#C62828">{html.escape(self.refused or "")}'
                f"。未计分：情景得分仍按上一个有效值「{html.escape(kept)}」计算</span>")

    def _reading_html(self) -> str:
        ev, index = self.evaluation, self.indicator.value
        if ev is None or index is None or index not in ev.project.indicators.index:
            return ""
        pos = ev.project.indicators.index.get_loc(index)
        row = ev.indicators.iloc[pos]
        reading = for_evaluation(ev)["understood"].iat[pos]
        note = ""
        a_unit, t_unit = str(row["actual_unit"] or ""), str(row["target_unit"] or "")
        if row["actual_kind"] == "number" and unit_factor(a_unit, t_unit) is None:
            note = f"；注意：实际值单位「{a_unit}」与指标值单位「{t_unit}」不同，按数值直接比较"
        return (f'<span class="perfeval-note">解读：{html.escape(reading)}；'
                f"得分 {num(row['score'])}/{num(row['weight'])}{html.escape(note)}</span>")

    def _apply(self, scenario: whatif.Scenario) -> None:
        self.scenario = scenario
        self._cancel_overwrite()
        self.update()

    @_guarded
    def _on_actual(self, change: dict) -> None:
        if self._loading or self.scenario is None:
            return
        text = str(change["new"]).strip()
        try:
            scenario = self.scenario.edit(self.indicator.value, actual=text)
        except whatif.UnreadableValue as exc:
            # not scored: the typed text stays in the box with the reason beside it, and the
            # score, grade and tables keep showing the last readable scenario
            self.refused = str(exc)
            self._show_reading()
            return
        self.refused = None
        self._apply(scenario)

    @_guarded
    def _on_weight(self, change: dict) -> None:
        if self._loading or self.scenario is None:
            return
        try:
            scenario = self.scenario.set_weight(self.indicator.value, float(change["new"]),
                                                keep_level=self.keep_level.value)
        except PerfevalError:
            self._show_indicator()
            raise
        self._apply(scenario)

    @_guarded
    def _on_method(self, change: dict) -> None:
        if self._loading or self.scenario is None:
            return
        try:
            scenario = self.scenario.edit(self.indicator.value, method=change["new"])
        except PerfevalError:
            self._show_indicator()
            raise
        self._apply(scenario)

    @_guarded
    def _on_scale(self, change: dict) -> None:
        if self._loading or self.scenario is None:
            return
        self._apply(self.scenario.with_options(qualitative_scale=change["new"]))

    @_guarded
    def reset(self) -> None:
        """Back to the original values."""
        if self.scenario is None or self.base is None:
            return
        self.scenario = self.scenario.reset()
        self._cancel_overwrite()
        self._loading = True
        try:
            self.scale.value = self.base.options.qualitative_scale
        finally:
            self._loading = False
        self._show_indicator()
        self.update()
        self.show_message("已恢复原始数据")

    @_guarded
    def update(self) -> None:
        """Re-evaluate the scenario and refresh every output."""
        if self.scenario is None or self.base is None:
            return
        base = self.base
        ev = self.scenario.evaluate() if self.scenario.changed else base
        self.evaluation = ev
        self.total.value = self._total_html(base, ev)
        self.levels.value = html_table(drilldown.level_table(ev, base),
                                       numeric=("分值", "得分", "得分率", "原得分", "变化"))
        self.changes.value = self._changes_html(base, ev)
        self.chart.value = plots.whatif_bars_html(base, ev)
        self._show_reading()
        if self.scenario.changed:
            self.show_message("")

    def _total_html(self, base: Evaluation, ev: Evaluation) -> str:
        grade = ev.grade if ev.grade == base.grade else f"{ev.grade}（原 {base.grade}）"
        return (f'<div style="font-size:16px">情景总分 <b class="perfeval-score">{num(ev.total)}</b> 分'
                f"（原 {num(base.total)} 分，{signed(ev.total - base.total)}）　等级 "
                f'<b class="perfeval-grade">{html.escape(grade)}</b></div>')

    def _changes_html(self, base: Evaluation, ev: Evaluation) -> str:
        if self.scenario is None or not self.scenario.changed:
            return ('<p class="perfeval-note">尚未修改：选择指标后修改实际完成值、分值或评分方法，'
                    "或切换定性评分等级。</p>")
        lines = "".join(f"<li>{html.escape(line)}</li>" for line in self.scenario.describe())
        table = whatif.changed_indicators(base, ev)
        body = html_table(table, numeric=("原得分", "新得分", "变化")) if len(table) else ""
        return f"<b>修改内容</b><ul>{lines}</ul>{body}"

    @_guarded
    def save(self) -> None:
        """Save the scenario as a workbook (plus a scheme file when scoring options changed). A file
        already there is replaced only on a second click on the same name (the button then reads
        「确认覆盖」); changing the name or the scenario cancels that."""
        if self.scenario is None:
            return
        target = self.save_path.value.strip()
        confirmed, self._overwrite = self._overwrite == target, None
        self.save_button.description = SAVE_LABEL
        try:
            saved = whatif.save_scenario(self.scenario, target, overwrite=confirmed)
        except whatif.ScenarioExists as exc:
            self._overwrite = target
            self.save_button.description = OVERWRITE_LABEL
            self.show_message(f"{exc}。再次点击「{OVERWRITE_LABEL}」将覆盖，或在「保存为」中改用其他文件名", error=True)
            return
        self.saved = saved
        extra = f"，评分方案 {paste_path(saved.scheme)}" if saved.scheme else ""
        self.show_message(f"已保存情景：{paste_path(saved.workbook)}{extra}（总分 {num(saved.total)}，等级 "
                          f"{saved.grade}）。可运行：{saved.command}")

    def _cancel_overwrite(self) -> None:
        if self._overwrite is not None:
            self._overwrite = None
            self.save_button.description = SAVE_LABEL

    def static_html(self) -> str:
        if self.base is None or self.evaluation is None:
            return "<p>没有可模拟的项目</p>"
        base, ev = self.base, self.evaluation
        return (f"<h4>情景模拟：{html.escape(base.project.name)}</h4>{self._total_html(base, ev)}"
                f"<p>{self.actual_status.value}</p>"
                f"{html_table(drilldown.level_table(ev, base))}{self.chart.value}"
                f"{self._changes_html(base, ev)}")


# ---------------------------------------------------------------- robustness

class RobustnessPanel(Panel):
    """Total and grade under alternative rule choices, and a Monte-Carlo over the weights."""

    def __init__(self, portfolio: Portfolio, picker: w.Dropdown, draws: int = 2000,
                 spread_percent: int = 20, seed: int = 0) -> None:
        self.portfolio, self.picker = portfolio, picker
        self.seed = seed
        self.spread = w.IntSlider(value=spread_percent, min=0, max=50, step=5, description="权重扰动 ±%",
                                  continuous_update=False, style={"description_width": "initial"})
        self.draws = w.BoundedIntText(value=draws, min=1000, max=100_000, step=1000,
                                      description="抽样次数", layout=w.Layout(width="200px"))
        self.alternatives = w.HTML()
        self.summary = w.HTML()
        self.grades = w.HTML()
        self.chart = _image()
        self.message = w.HTML()
        self.table: pd.DataFrame | None = None
        self.monte_carlo: robustness.MonteCarlo | None = None
        self.alternatives.add_class("perfeval-robustness-alternatives")
        self.summary.add_class("perfeval-robustness-summary")
        picker.observe(lambda _: self.refresh(), names="value")
        self.spread.observe(lambda _: self.simulate(), names="value")
        self.draws.observe(lambda _: self.simulate(), names="value")
        self.widget = w.VBox([
            w.HTML(TABLE_CSS + "<b>等级稳健性</b>"), picker, self.message,
            w.HTML("<b>替代评分口径</b>（每次只换一项，最后一行同时采用全部替代口径）"), self.alternatives,
            w.HTML("<b>权重蒙特卡洛模拟</b>（各指标分值随机浮动后在一级指标内重新归一）"),
            w.HBox([self.spread, self.draws]), self.summary, w.HBox([self.grades, self.chart]),
        ])
        self.refresh()

    @_guarded
    def refresh(self) -> None:
        if self.picker.value is None:
            self.show_message("没有可分析的项目")
            return
        project = self.portfolio.project(self.picker.value)
        self.table = robustness.alternatives(project)
        self.alternatives.value = self._alternatives_html()
        self.simulate()

    @_guarded
    def simulate(self) -> None:
        if self.picker.value is None:
            return
        ev = self.portfolio.evaluation(self.picker.value)
        mc = robustness.weight_monte_carlo(ev, draws=int(self.draws.value),
                                           spread=self.spread.value / 100, seed=self.seed)
        self.monte_carlo = mc
        self.summary.value = self._summary_html(mc)
        self.grades.value = html_table(robustness.monte_carlo_table(mc), numeric=("抽样次数", "概率"))
        self.chart.value = plots.render(plots.monte_carlo_figure, mc.totals, mc.base_total,
                                        ev.scheme.grade_bands, mc.spread,
                                        {band.grade: band.colour for band in ev.scheme.grade_table})

    def _alternatives_html(self) -> str:
        if self.table is None:
            return ""
        table = self.table.assign(总分=[num(x) for x in self.table["总分"]],
                                  与基准相比=[signed(x) for x in self.table["与基准相比"]])
        changed = (self.table["等级变化"] != "不变").to_list()
        return html_table(table, numeric=("总分", "与基准相比"), highlight=changed)

    @staticmethod
    def _summary_html(mc: robustness.MonteCarlo) -> str:
        q = mc.quantiles()
        same = mc.probability_same_grade
        return (f"<p>{mc.draws} 次抽样，权重 ±{fmt_pct(mc.spread, 2)}：总分均值 {num(float(mc.totals.mean()))}，"
                f"5%–95% 区间 {num(q[0.05])}–{num(q[0.95])}，最低 {num(float(mc.totals.min()))}，"
                f"最高 {num(float(mc.totals.max()))}；保持「{mc.base_grade}」的概率 "
                f"<b>{pct(same)}</b>。</p>")

    def static_html(self) -> str:
        if self.monte_carlo is None:
            return "<p>没有可分析的项目</p>"
        mc = self.monte_carlo
        return (f"<h4>等级稳健性</h4>{self._alternatives_html()}{self._summary_html(mc)}"
                f"{html_table(robustness.monte_carlo_table(mc))}{png_img(self.chart.value, '总分分布')}")


# ---------------------------------------------------------------- all together

class Workbench(Panel):
    """The four panels sharing one project selector; display the whole (tabs) or each panel."""

    def __init__(self, portfolio: Portfolio | str | Path | None = None,
                 save_dir: str | Path = "情景", draws: int = 2000, scheme: str | Path | None = None) -> None:
        """`scheme` (a built-in id or a .toml file, whatever its `id`) scores every project on it."""
        if not isinstance(portfolio, Portfolio):
            portfolio = load_portfolio(portfolio, scheme)
        self.data = portfolio
        self.picker = project_picker(portfolio)
        self.portfolio = PortfolioExplorer(portfolio, self.picker)
        self.project = ProjectDrillDown(portfolio, self.picker)
        self.whatif = WhatIfPanel(portfolio, self.picker, save_dir)
        self.robustness = RobustnessPanel(portfolio, self.picker, draws=draws)
        from perfeval.workbench.field_panel import FieldDataPanel

        self.field_data = FieldDataPanel(portfolio, self.picker)
        self.message = w.HTML()
        self.panels: tuple[Panel, ...] = (self.portfolio, self.project, self.whatif, self.robustness,
                                          self.field_data)
        self.widget = w.Tab(children=[p.widget for p in self.panels],
                            titles=("项目组合", "项目明细", "情景模拟", "等级稳健性", "专家组与问卷"))

    def select(self, key: str) -> None:
        """Show project `key` in the project panels."""
        if key not in dict(self.picker.options).values():
            raise PerfevalError(f"没有项目「{key}」")
        self.picker.value = key

    def static_html(self) -> str:
        return "".join(p.static_html() for p in self.panels)
