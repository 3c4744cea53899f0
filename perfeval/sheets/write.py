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
from perfeval.scheme import Scheme, load_scheme
from perfeval.sheets.placeholders import example, fill_in
from perfeval.sheets.read import INDICATOR_LABELS

INDICATOR_ORDER = ("level1", "level2", "level3", "name", "weight", "target", "actual", "method",
                   "deduction", "deduction_reason", "stated_score", "reason", "measure")
#: optional evidence-ledger columns: written only when some indicator has a value there
LEDGER_ORDER = ("evidence", "data_source")
INFO_ORDER = (("项目编号", "id"), ("项目名称", "name"), ("主管部门", "department"),
              ("实施单位", "unit"), ("年度", "year"), ("评价方式", "method"),
              ("预算数", "budget"), ("到位数", "allocated"), ("执行数", "spent"))
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
    """One project's workbook; with `with_help`, the template's extras (填写提示, 填表说明)."""
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
        levels = level_choices(scheme)
        if levels:
            names = "、".join(lv.name for lv in scheme.levels)
            sheet.data_validation(1, 0, last, 0, {
                "validate": "list", "source": levels, "error_type": "information",
                "error_title": "一级指标", "ignore_blank": True,
                "error_message": f"一级指标通常为 {names} 之一（可带分值，如「{levels[-1]}」）；"
                                 "其他写法由 perfeval validate 检查"})
        sheet.data_validation(1, INDICATOR_ORDER.index("method"), last, INDICATOR_ORDER.index("method"), {
            "validate": "list", "source": list(RULE_LABELS.values()), "error_type": "stop",
            "error_title": "评分方法", "error_message": "请从下拉列表选择评分方法，或留空自动判断",
            "ignore_blank": True})
        sheet.data_validation(1, INDICATOR_ORDER.index("weight"), last, INDICATOR_ORDER.index("weight"), {
            "validate": "decimal", "criteria": ">=", "value": 0, "error_title": "分值",
            "error_message": "分值应为非负数字"})
        stated = [[r["item"], r["text"], r["where"]] for r in project.stated.to_dict(orient="records")]
        _write_rows(book, "报告数值", ["数据项", "报告值", "出处"], stated, [14, 14, 20])
        if with_help:  # every section the report uses, listed with what to write (blank = not written)
            text = [[name, project.narrative.get(name, ""), hint] for name, hint in TEXT_SECTIONS]
            _write_rows(book, "文字", ["章节", "内容", "填写提示"], text, [16, 80, 50])
        else:
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
            rows = help_rows(scheme)
            _write_rows(book, "填表说明", list(rows[0]), [list(r) for r in rows[1:]], [18, 110])
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


#: the 文字 sections the report reproduces (perfeval/report/compose.py), in report order, with what each holds
TEXT_SECTIONS: tuple[tuple[str, str], ...] = (
    ("项目背景", "一(一)1：项目立项的政策依据、背景和必要性"),
    ("主要内容", "一(一)2：项目的主要建设或服务内容、资金用途"),
    ("实施情况", "一(一)2：项目组织实施、进度和完成情况"),
    ("项目实施主体", "一(一)3：主管部门、实施单位的职责分工（两单位名称已在项目信息中填写，此处可补充）"),
    ("总体目标", "一(二)1：项目的总体绩效目标"),
    ("阶段性目标", "一(二)2：本年度的阶段性绩效目标（各指标的指标值由指标表自动列出）"),
    ("评价目的", "二(一)1：本次绩效评价的目的"),
    ("评价工作过程", "二(三)：前期准备、组织实施、分析评价、撰写报告等工作过程"),
    ("综合评价结论", "三：对项目绩效的总体结论（总分和等级由 perfeval 计算并写入）"),
    ("经验做法", "六(一)：项目实施中的主要经验及做法"),
    ("存在问题", "六(二)：存在的问题及原因分析"),
    ("建议", "七：针对存在问题的改进建议"),
    ("其他需要说明的问题", "八：其他需要说明的事项"),
)
TEMPLATE_YEAR = 2024
#: the template's 评价依据 placeholder (an example of what the field holds)
BASIS_HINT = ("评价依据，如《中共中央 国务院关于全面实施预算绩效管理的意见》、《项目支出绩效评价管理办法》"
              "（财预〔2020〕10号）及项目立项、预算批复文件")


def level_choices(scheme: Scheme) -> list[str]:
    """The 一级指标 drop-down: each level's name and its header-with-weight spelling
    ("产出指标(40分)", as 填表说明 recommends); [] when the list would exceed Excel's 255 characters."""
    plain = [lv.name for lv in scheme.levels]
    weighted = [f"{lv.name}指标({lv.weight:g}分)" if f"{lv.name}指标" in lv.aliases
                else f"{lv.name}({lv.weight:g}分)" for lv in scheme.levels]
    for choices in (plain + weighted, plain):
        if len(",".join(choices)) <= 255:
            return choices
    return []


def help_rows(scheme: Scheme) -> tuple[tuple[str, str], ...]:
    """The 填表说明 sheet for a template of `scheme`."""
    weights = "、".join(f"{lv.name}{lv.weight:g}分" for lv in scheme.levels)
    first = scheme.levels[-1] if scheme.levels else None
    header = level_choices(scheme)[len(scheme.levels):] if first else []
    sections = "、".join(name for name, _ in TEXT_SECTIONS)
    return (
        ("工作表", "说明"),
        ("本模板", f"评价方案：{scheme.name}；一级指标及分值：{weights}，合计 {scheme.total_weight:g} 分。"
                "换用另一方案的模板：perfeval template 模板.xlsx --scheme self（单位自评）"
                "或 --scheme third_party。"),
        ("占位与示例", "「（填写…）」为占位文字，以「示例：」开头的为示例内容（指标行为示例行）："
                  "请替换为本项目的实际内容，保留的示例行删去「示例：」字样，不用的示例行整行删除。"
                  "未替换的单元格在 perfeval validate 中逐格列为警告（工作表、行、列），报告的数据核查中也会列出。"),
        ("项目信息", "字段 | 值。必填：项目编号、项目名称、年度、预算数、到位数、执行数"
                 "（万元，可写 33.46 或 33.46万元）。"
                 "评价方式：第三方评价/部门评价/财政评价（决策20/过程20/产出40/效益20）"
                 "或 单位自评（预算执行率10/产出50/效益30/满意度10）。"
                 "资金来源可填：本级财政资金、上级财政资金、上年结转资金、其他资金。"),
        ("评价依据", "项目信息中的「评价依据」：本次评价依据的政策文件、管理办法和项目批复文件，"
                 "报告「二、（二）1.评价依据」照录。"),
        ("评价机构", "项目信息中的「评价机构」：实施评价的机构（第三方机构名称，或单位自评的本单位），"
                 "显示在报告基本情况表中。"
                 "可另加「评价组」（评价组成员）等字段，均显示在报告中。"),
        ("指标", "每行一个三级指标。一级/二级指标可合并单元格（自动向下继承）。一级指标可带分值，如"
               f"「{header[0] if header else '产出指标(40分)'}」（下拉列表中已列出），"
               "其下各指标分值之和应等于所标分值。"
               "分值为数字；各指标分值合计应为 100。"),
        ("指标值 / 实际完成值", "可写 ≥24人、＝100%、≤33.46万元、不低于95%、不超过10次、80%-90%、3~5个、有效提升、"
                         "2024年12月31日前；「—」「/」「*」或空白表示无。"),
        ("评分方法", "留空则按指标值自动判断：≥/> 正向，≤/< 反向，= 等于，区间，0 目标，日期为时效，文字为定性；"
                 "决策、过程类无指标值的指标按「扣分」评分（分值 − 扣分，请写扣分原因）。"
                 "预算执行率、资金到位率按项目信息中的金额计算。评价要点：实际完成值写「通过数/要点数」，如 4/5。"),
        ("偏差原因 / 扣分原因", "未达到指标值或被扣分的指标，请在「偏差原因」或「扣分原因」中说明，"
                         "报告的偏差分析照录。"),
        ("报告得分", "报告中写明的该指标得分（可选），用于核查报告数字。"),
        ("报告数值", "数据项 | 报告值 | 出处：报告中写明的总分、等级、预算执行率、执行数、"
                 "各一级指标得分/得分率等，逐处填写，同一数据项在报告不同位置出现几次就填几行。"),
        ("文字", f"章节 | 内容：报告各章节的文字，共 {len(TEXT_SECTIONS)} 节（{sections}），已逐节列出，"
               "「填写提示」列说明各节内容。内容留空的章节在报告中标明未填写。"),
    )


def _row(level1: str, level2: str, level3: str, name: str, weight: float, target: str = "", actual: str = "",
         method: str = "", deduction: float = math.nan, deduction_reason: str = "", reason: str = "",
         measure: str = "") -> dict[str, object]:
    return {"row": 0, "level1": level1, "level2": level2, "level3": level3, "name": name, "weight": weight,
            "target": target, "actual": actual, "method": method, "stated_score": math.nan,
            "deduction": deduction, "deduction_reason": deduction_reason, "reason": reason, "measure": measure}


def _third_party_rows() -> list[dict[str, object]]:
    """决策 20 / 过程 20 / 产出 40 / 效益 20: the 10号 附件1 framework, one example of each kind of row."""
    return [
        _row("决策", "项目立项", "立项依据充分性", example("立项依据充分性"), 5, method="manual", deduction=0),
        _row("决策", "绩效目标", "绩效目标合理性", example("绩效目标合理性"), 5, method="manual", deduction=0),
        _row("决策", "资金投入", "预算编制科学性", example("预算编制科学性"), 10, method="manual", deduction=1,
             deduction_reason=example("部分支出测算依据不够充分")),
        _row("过程", "资金管理", "资金到位率", "资金到位率", 5, "＝100%", method="arrival"),
        _row("过程", "资金管理", "预算执行率", "预算执行率", 10, "＝100%", method="execution"),
        _row("过程", "组织实施", "制度执行有效性", example("制度执行有效性"), 5, method="manual", deduction=0),
        _row("产出", "产出数量", "实际完成率", example("培训人数（人）"), 15, "≥100人", "96人",
             reason=example("部分学员因工作冲突未能参训"), measure=example("下半年组织补训")),
        _row("产出", "产出质量", "质量达标率", example("培训考核合格率"), 10, "≥95%", "97%"),
        _row("产出", "产出时效", "完成及时性", example("培训完成时间"), 5, f"{TEMPLATE_YEAR}年12月31日前",
             f"{TEMPLATE_YEAR}年11月20日"),
        _row("产出", "产出成本", "成本节约率", example("人均培训成本（元）"), 10, "≤800元", "760元"),
        _row("效益", "项目效益", "社会效益", example("学员业务能力提升情况"), 10, "有效提升", "有效提升"),
        _row("效益", "项目效益", "服务对象满意度", example("学员满意度"), 10, "≥90%", "93.5%"),
    ]


def _self_rows() -> list[dict[str, object]]:
    """预算执行率 10 / 产出 50 / 效益 30 / 满意度 10: the 财预〔2020〕10号 附件2 自评表."""
    return [
        _row("预算执行率", "预算执行率", "预算执行率", "预算执行率", 10, "＝100%", method="execution"),
        _row("产出", "数量指标", "培训人数", example("培训人数（人）"), 20, "≥100人", "96人",
             reason=example("部分学员因工作冲突未能参训"), measure=example("下半年组织补训")),
        _row("产出", "质量指标", "培训考核合格率", example("培训考核合格率"), 10, "≥95%", "97%"),
        _row("产出", "时效指标", "培训完成时间", example("培训完成时间"), 10, f"{TEMPLATE_YEAR}年12月31日前",
             f"{TEMPLATE_YEAR}年11月20日"),
        _row("产出", "成本指标", "人均培训成本", example("人均培训成本（元）"), 10, "≤800元", "760元"),
        _row("效益", "社会效益指标", "学员业务能力提升情况", example("学员业务能力提升情况"), 15,
             "有效提升", "有效提升"),
        _row("效益", "可持续影响指标", "培训成果持续应用情况", example("培训成果持续应用情况"), 15,
             "持续发挥作用", "持续发挥作用"),
        _row("满意度", "服务对象满意度指标", "学员满意度", example("学员满意度"), 10, "≥90%", "93.5%"),
    ]


def _scheme_rows(scheme: Scheme) -> list[dict[str, object]]:
    """A scheme of other levels (a .toml file): one qualitative example row per level, at its weight."""
    return [_row(lv.name, "", "", example(f"{lv.name}指标"), lv.weight, "有效提升", "有效提升")
            for lv in scheme.levels]


def example_project(scheme_id: str = "third_party") -> Project:
    """What a template of `scheme_id` carries: placeholder fields ("（填写项目名称）") and example indicator
    rows ("示例：…") in the scheme's own levels, whose weights add up to the scheme's total."""
    scheme = load_scheme(scheme_id)
    rows = {"third_party": _third_party_rows, "self": _self_rows}.get(scheme.id, lambda: _scheme_rows(scheme))()
    indicators = pd.DataFrame(rows)
    indicators["row"] = range(2, len(indicators) + 2)
    agency = "评价机构名称" if scheme.id != "self" else "评价机构名称；单位自评填写本单位"
    return Project(id=fill_in("项目编号"), name=fill_in("项目名称"), department=fill_in("主管部门"),
                   unit=fill_in("实施单位"), year=TEMPLATE_YEAR,
                   method=scheme.aliases[0] if scheme.spec == scheme.id and scheme.aliases else scheme.spec,
                   scheme_id=scheme.spec, budget=100.0, allocated=100.0, spent=95.0,
                   funding={"本级财政资金": 100.0, "上级财政资金": 0.0, "上年结转资金": 0.0},
                   indicators=indicators, info={"评价依据": fill_in(BASIS_HINT), "评价机构": fill_in(agency)})


def write_template(path: str | Path, scheme: str | None = "third_party") -> Path:
    """A workbook to fill in: 项目信息 with placeholder fields (评价依据 and 评价机构 included), 指标 with
    example rows of the scheme's levels and drop-downs for 一级指标 (names and "产出指标(40分)" spellings)
    and 评分方法, 文字 listing every section the report uses, and a 填表说明 sheet.

    `perfeval validate` on the untouched template reports only its placeholders (warnings)."""
    path = Path(path)
    chosen = load_scheme(scheme)
    _write(path, example_project(chosen.spec), chosen.spec, with_help=True, validation_rows=500)
    return path
