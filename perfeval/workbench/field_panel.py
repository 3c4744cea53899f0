"""The workbench's 专家组与问卷 tab: the selected project's expert panel (heat map, disagreements, what-if over
the panel) and satisfaction survey (answers per item, satisfied share with its interval, excluded responses),
from the field data kept beside its indicator sheet (`perfeval.field_data`). Both views are the ones
`perfeval.workbench.panel_view` and `perfeval.workbench.survey_view` build; this tab only finds their inputs."""

from __future__ import annotations

import html

import ipywidgets as w

from perfeval.errors import PerfevalError, SheetError
from perfeval.workbench.portfolio import Portfolio
from perfeval.workbench.widgets import Panel

HOW_TO = ("把专家评分表（perfeval panel template 生成、专家填写）和问卷答卷及其映射（answers = \"答卷.xlsx\"）"
          "放在项目指标表所在的文件夹中，即由评分、报告和批量评价自动合并；格式见 docs/panel.md、docs/survey.md。")


class FieldDataPanel(Panel):
    """专家组与问卷 for the project chosen in the shared picker."""

    def __init__(self, portfolio: Portfolio, picker: w.Dropdown) -> None:
        self.data = portfolio
        self.picker = picker
        self.message = w.HTML()
        self.body = w.VBox()
        self.views: list = []
        self.widget = w.VBox([self.message, self.body])
        picker.observe(lambda _: self.refresh(), names="value")
        self.refresh()

    def refresh(self) -> None:
        self.views = []
        self.body.children = ()
        key = self.picker.value
        try:
            self.views = self._views(key)
        except (SheetError, PerfevalError) as exc:
            problems = exc.problems if isinstance(exc, SheetError) else [exc]
            self.show_message("；".join(str(p) for p in problems), error=True)
            return
        if not self.views:
            self.show_message(f"项目「{key}」没有专家评分表或问卷数据。{HOW_TO}")
            return
        self.show_message("")
        self.body.children = tuple(v.widget for v in self.views)

    def _views(self, key: str) -> list:
        from perfeval.sheets.field_data import field_data_for
        from perfeval.sheets.load import load_project

        if not self.data.has_project(key):
            return []
        merged = self.data.project(key)
        if merged.source is None:
            return []
        base = load_project(merged.source, self.data.scheme, merged.id, field_data=False)
        found = field_data_for(base, shared=False)
        views: list = []
        if found.mapping is not None:
            from perfeval.workbench.survey_view import SurveyPanel

            views.append(SurveyPanel(found.answers, found.mapping, base))
        if found.expert_sheets:
            from perfeval.panel.apply import merge_sheets
            from perfeval.sheets.field_data import FieldData, with_field_data
            from perfeval.workbench.panel_view import PanelView

            # the panel's what-if starts from the project with its survey but before the panel
            before = with_field_data(base, FieldData((), found.mapping, found.answers), self.data.scheme)[0]
            views.append(PanelView(merge_sheets(before, list(found.expert_sheets), self.data.scheme)))
        return views

    def static_html(self) -> str:
        if not self.views:
            return ("<h4>专家组与问卷</h4><table><tr><th>现场数据</th><th>所选项目</th></tr>"
                    "<tr><td>专家评分表</td><td>无</td></tr><tr><td>满意度问卷</td><td>无</td></tr></table>"
                    f"<p>{html.escape(HOW_TO)}</p>")
        parts = []
        for view in self.views:
            if hasattr(view, "static_html"):
                parts.append(view.static_html())
            elif getattr(view, "result", None) is not None:
                from perfeval.workbench.survey_view import excluded_html, summary_html

                parts.append(summary_html(view.result) + excluded_html(view.result))
        return "<h4>专家组与问卷</h4>" + "".join(parts)
