"""Write indicator workbooks: a project (round-trips through `load_project`) or a blank template."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import xlsxwriter

from perfeval.atomic import atomic_path
from perfeval.model import Project
from perfeval.rules import RULE_LABELS
from perfeval.scheme import load_scheme
from perfeval.sheet import INDICATOR_LABELS

INDICATOR_ORDER = ("level1", "level2", "level3", "name", "weight", "target", "actual", "method",
                   "deduction", "deduction_reason", "stated_score", "reason", "measure")
#: optional evidence-ledger columns: written only when some indicator has a value there
LEDGER_ORDER = ("evidence", "data_source")
INFO_ORDER = (("项目编号", "id"), ("项目名称", "name"), ("主管部门", "department"),
              ("实施单位", "unit"), ("年度", "year"), ("评价方式", "method"),
              ("预算数", "budget"), ("到位数", "allocated"), ("执行数", "spent"))
HELP_ROWS = (
    ("工作表", "说明"),
    ("项目信息", "字段 | 值。必填：项目编号、项目名称、年度、预算数、到位数、执行数（万元，可写 33.46 或 33.46万元）。"
              "评价方式：第三方评价/部门评价/财政评价（决策20/过程20/产出40/效益20）"
              "或 单位自评（预算执行率10/产出50/效益30/满意度10）。"
              "资金来源可填：本级财政资金、上级财政资金、上年结转资金、其他资金。"),
    ("指标", "每行一个三级指标。一级/二级指标可合并单元格（自动向下继承），一级指标可带分值，如「产出指标(40分)」。"
           "分值为数字；各指标分值合计应为 100。"),
    ("指标值 / 实际完成值", "可写 ≥24人、＝100%、≤33.46万元、不低于95%、不超过10次、80%-90%、3~5个、有效提升；"
                     "「—」「/」「*」或空白表示无。"),
    ("评分方法", "留空则按指标值自动判断：≥/> 正向，≤/< 反向，= 等于，区间，0 目标，文字为定性；"
             "决策、过程类无指标值的指标按「扣分」评分（分值 − 扣分，请写扣分原因）。"
             "预算执行率、资金到位率按项目信息中的金额计算。评价要点：实际完成值写「通过数/要点数」，如 4/5。"),
    ("报告得分", "报告中写明的该指标得分（可选），用于核查报告数字。"),
    ("报告数值", "数据项 | 报告值 | 出处：报告中写明的总分、等级、预算执行率、执行数、"
             "各一级指标得分/得分率等，逐处填写，"
             "同一数据项在报告不同位置出现几次就填几行。"),
    ("文字", "章节 | 内容：项目背景、主要内容、实施情况、总体目标、经验做法、存在问题、建议、其他需要说明的问题 等。"),
)


def cell_value(x: object) -> object:
    """A value as a worksheet cell takes it: '' for missing, 3 for 3.0."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def _write_rows(book: xlsxwriter.Workbook, name: str, header: list[str], rows: list[list[object]],
                widths: list[int]) -> xlsxwriter.workbook.Worksheet:
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet = book.add_worksheet(name)
    sheet.write_row(0, 0, header, bold)
    for i, row in enumerate(rows, start=1):
        sheet.write_row(i, 0, [cell_value(v) for v in row], wrap)
    for j, width in enumerate(widths):
        sheet.set_column(j, j, width)
    sheet.freeze_panes(1, 0)
    return sheet


def _order(frames: Sequence[pd.DataFrame], ledger: bool = False) -> tuple[str, ...]:
    """INDICATOR_ORDER, plus 证据编号 / 数据来源 when any indicator has one (证据编号 always for a project that
    uses the evidence ledger, so a blank column still reads back as the ledger)."""
    used = [c for c in LEDGER_ORDER if (ledger and c == "evidence")
            or any(c in f and f[c].map(lambda v: bool(cell_value(v))).any() for f in frames)]
    return (*INDICATOR_ORDER, *used)


def _indicator_rows(frame: pd.DataFrame, order: Sequence[str] = INDICATOR_ORDER) -> list[list[object]]:
    rows = []
    for rec in frame.to_dict(orient="records"):
        method = rec.get("method") or ""
        rec["method"] = RULE_LABELS.get(method, method)
        rows.append([rec.get(c) for c in order])
    return rows


def _write(path: Path, project: Project, scheme_id: str, with_help: bool,
           validation_rows: int) -> None:
    scheme = load_scheme(scheme_id)
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False,
                                              "strings_to_urls": False})
        info_rows = [[label, getattr(project, attr)] for label, attr in INFO_ORDER]
        info_rows += [[k, v] for k, v in project.funding.items()]
        info_rows += [[k, v] for k, v in project.info.items()]
        _write_rows(book, "项目信息", ["字段", "值"], info_rows, [16, 60])
        order = _order([project.indicators], project.ledger)
        header = [INDICATOR_LABELS[c] for c in order]
        sheet = _write_rows(book, "指标", header, _indicator_rows(project.indicators, order),
                            [10, 12, 14, 30, 6, 14, 14, 10, 6, 20, 8, 24, 24, 14, 30][:len(order)])
        last = max(validation_rows, len(project.indicators) + 1)
        levels = [lv.name for lv in scheme.levels]
        sheet.data_validation(1, 0, last, 0, {
            "validate": "list", "source": levels, "error_type": "warning",
            "error_title": "一级指标", "error_message": f"一级指标应为 {'、'.join(levels)} 之一"})
        sheet.data_validation(1, INDICATOR_ORDER.index("method"), last, INDICATOR_ORDER.index("method"), {
            "validate": "list", "source": list(RULE_LABELS.values()), "error_type": "stop",
            "error_title": "评分方法", "error_message": "请从下拉列表选择评分方法，或留空自动判断",
            "ignore_blank": True})
        sheet.data_validation(1, INDICATOR_ORDER.index("weight"), last, INDICATOR_ORDER.index("weight"), {
            "validate": "decimal", "criteria": ">=", "value": 0, "error_title": "分值",
            "error_message": "分值应为非负数字"})
        stated = [[r["item"], r["text"], r["where"]] for r in project.stated.to_dict(orient="records")]
        _write_rows(book, "报告数值", ["数据项", "报告值", "出处"], stated, [14, 14, 20])
        text = [[k, v] for k, v in project.narrative.items()]
        _write_rows(book, "文字", ["章节", "内容"], text, [16, 100])
        if project.materials is not None:
            rows = [[r["id"], r["name"], r["source"], r["date"]] for r in project.materials.to_dict(orient="records")]
            _write_rows(book, "佐证材料", ["编号", "名称", "来源", "日期"], rows, [12, 40, 20, 14])
        if project.panel is not None:
            panel = project.panel
            rows = [[None if isinstance(v, float) and v != v else v for v in r]
                    for r in panel.itertuples(index=False)]
            _write_rows(book, "专家组评分", [str(c) for c in panel.columns], rows,
                        [10, 30] + [12] * (len(panel.columns) - 2))
        if with_help:
            _write_rows(book, "填表说明", list(HELP_ROWS[0]), [list(r) for r in HELP_ROWS[1:]], [18, 110])
        book.close()


def save_project(project: Project, path: str | Path) -> Path:
    """Write `project` as a workbook that `load_project` reads back to the same evaluation."""
    path = Path(path)
    _write(path, project, project.scheme_id, with_help=False, validation_rows=200)
    return path


def save_portfolio(projects: Sequence[Project], path: str | Path) -> Path:
    """Write many projects into one portfolio workbook: 项目信息 as a table (one row per project) and the
    指标 / 报告数值 / 文字 sheets keyed by 项目编号. `load_projects` reads it back."""
    path = Path(path)
    info, indicators, stated, text = [], [], [], []
    order = _order([p.indicators for p in projects], any(p.ledger for p in projects))
    for p in projects:
        row = {label: getattr(p, attr) for label, attr in INFO_ORDER}
        row.update(p.funding)
        row.update(p.info)
        info.append(row)
        for values in _indicator_rows(p.indicators, order):
            indicators.append([p.id, *values])
        stated += [[p.id, r["item"], r["text"], r["where"]] for r in p.stated.to_dict(orient="records")]
        text += [[p.id, k, v] for k, v in p.narrative.items()]
    info_header = list(dict.fromkeys(k for row in info for k in row))
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False,
                                              "strings_to_urls": False, "constant_memory": True})
        _write_rows(book, "项目信息", info_header, [[row.get(k) for k in info_header] for row in info],
                    [14] * len(info_header))
        _write_rows(book, "指标", ["项目编号", *(INDICATOR_LABELS[c] for c in order)], indicators,
                    [14, 10, 12, 14, 30, 6, 14, 14, 10, 6, 20, 8, 24, 24, 14, 30][:len(order) + 1])
        _write_rows(book, "报告数值", ["项目编号", "数据项", "报告值", "出处"], stated, [14, 14, 14, 20])
        _write_rows(book, "文字", ["项目编号", "章节", "内容"], text, [14, 16, 100])
        book.close()
    return path


def example_project(scheme_id: str = "third_party") -> Project:
    """The one filled example row a template carries."""
    scheme = load_scheme(scheme_id)
    level = next((lv.name for lv in scheme.levels if lv.name == "产出"), scheme.levels[0].name)
    indicators = pd.DataFrame([{
        "row": 2, "level1": level, "level2": "产出数量", "level3": "实际完成率",
        "name": "示例：培训人数（人）", "weight": 10.0, "target": "≥100人", "actual": "96人",
        "method": "", "stated_score": math.nan, "deduction": math.nan, "deduction_reason": "",
        "reason": "示例：部分学员因疫情未能参训", "measure": "示例：下半年补训",
    }])
    return Project(id="示例-2024-001", name="（项目名称）", department="（主管部门）", unit="（实施单位）",
                   year=2024, method=scheme.aliases[0] if scheme.aliases else scheme.name,
                   scheme_id=scheme.id, budget=100.0, allocated=100.0, spent=95.0,
                   funding={"本级财政资金": 100.0, "上级财政资金": 0.0, "上年结转资金": 0.0},
                   indicators=indicators,
                   narrative={"项目背景": "（项目立项背景）", "主要内容": "（项目主要内容）"})


def write_template(path: str | Path, scheme: str | None = "third_party") -> Path:
    """A blank workbook: headers, drop-downs for 一级指标 and 评分方法, one filled example row,
    and a 填表说明 sheet documenting the format."""
    path = Path(path)
    scheme_id = load_scheme(scheme).id
    _write(path, example_project(scheme_id), scheme_id, with_help=True, validation_rows=500)
    return path
