"""Expert panels: score sheets for each expert, read back with located errors, merged by the scheme's
rule, and applied to the project as its judged scores.

    from perfeval.panel import write_templates, merge_sheets
    paths = write_templates(project, 5, "专家评分/")             # one workbook per expert
    result = merge_sheets(project, sorted(Path("专家评分/").glob("*.xlsx")))   # SheetError lists every problem
    result.project          # the project with the panel scores (evaluate / save_project / report it)
    result.table            # indicators × experts, with 专家组得分, 极差, 标准差, 意见分歧
    result.findings         # panel_disagreement / panel_no_reason findings
    result.what_if(exclude=["E03"], rule="trimmed_mean").evaluate().total
"""

from perfeval.panel.apply import PanelResult, apply_panel, merge_sheets, panel_result, panel_table
from perfeval.panel.merge import PANEL_RULES, PanelMerge, merge_panel, merge_reasons, panel_scores
from perfeval.panel.read import (
    ExpertSheet,
    PanelSheets,
    expert_sheets_in,
    is_expert_sheet,
    read_expert_sheet,
    read_panel,
)
from perfeval.panel.template import JUDGED_RULES, indicator_hash, judged_indicators, write_templates

__all__ = [
    "JUDGED_RULES",
    "PANEL_RULES",
    "ExpertSheet",
    "PanelMerge",
    "PanelResult",
    "PanelSheets",
    "apply_panel",
    "expert_sheets_in",
    "indicator_hash",
    "is_expert_sheet",
    "judged_indicators",
    "merge_panel",
    "merge_reasons",
    "merge_sheets",
    "panel_result",
    "panel_scores",
    "panel_table",
    "read_expert_sheet",
    "read_panel",
    "write_templates",
]
