"""Expert score sheets: one workbook per expert, written from a project's indicator table.

The sheet lists the indicators that need judgement (评分方法 定性, 扣分, 评价要点) with their weight,
评分标准, 指标值 and 实际完成情况, and leaves 得分 and 扣分理由 to the expert. A 评分说明 sheet names
the project (项目编号), the indicator set (指标校验码: a hash of the judged rows' position, names and
weights, so a sheet made for another version of the table is recognised), the expert and how many
experts the panel has (so a missing sheet is noticed when merging).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from perfeval.atomic import atomic_path
from perfeval.display import fmt_num as _fmt
from perfeval.errors import PerfevalError
from perfeval.model import Project
from perfeval.rules import RULE_LABELS
from perfeval.scheme import Scheme, load_scheme
from perfeval.sheets.cells import unique_map
from perfeval.sheets.write import cell_value

#: rules whose score is an evaluator's judgement (the indicators an expert panel scores)
JUDGED_RULES = ("manual", "qualitative", "checklist")
INFO_SHEET = "评分说明"
SCORE_SHEET = "专家评分"
#: columns of the score sheet: canonical name -> header
SCORE_COLUMNS = {
    "seq": "序号", "row": "指标表行号", "level1": "一级指标", "level2": "二级指标", "level3": "三级指标",
    "name": "指标名称", "rule": "评分方法", "weight": "分值", "standard": "评分标准", "target": "指标值",
    "actual": "实际完成情况", "score": "得分", "reason": "扣分理由",
}
WIDTHS = {"seq": 5, "row": 8, "level1": 7, "level2": 10, "level3": 12, "name": 24, "rule": 8, "weight": 6,
          "standard": 44, "target": 12, "actual": 30, "score": 8, "reason": 36}
#: keys of the 评分说明 sheet
KEY_PROJECT, KEY_NAME, KEY_YEAR = "项目编号", "项目名称", "年度"
KEY_HASH, KEY_EXPERT, KEY_EXPERT_NAME = "指标校验码", "专家编号", "专家姓名"
KEY_EXPERTS, KEY_COUNT = "专家人数", "评分指标数"
INSTRUCTIONS = ("请在「专家评分」表中为每项指标填写得分（0 至该指标分值之间的数字，可保留两位小数）；"
                "未得满分的指标请在「扣分理由」中写明理由。请勿修改其他单元格、项目编号和指标校验码，"
                "也不要增删行。")

#: 评价要点 of the 10号 附件1 三级 indicators (domain notes §1.3), shown in 评分标准
CHECKPOINTS: dict[str, tuple[str, ...]] = {
    "立项依据充分性": (
        "符合国家法律法规、国民经济发展规划和相关政策",
        "符合行业发展规划和政策要求",
        "与部门职责范围相符",
        "属于公共财政支持范围，符合中央、地方事权支出责任划分原则",
        "与相关部门同类项目或部门内部相关项目不重复",
    ),
    "立项程序规范性": (
        "按照规定的程序申请设立",
        "审批文件、材料符合相关要求",
        "事前已经过必要的可行性研究、专家论证、风险评估、绩效评估、集体决策",
    ),
    "绩效目标合理性": (
        "有明确的绩效目标",
        "与实际工作内容具有相关性",
        "预期产出效益和效果符合正常的业绩水平",
        "与预算确定的投资额或资金量相匹配",
    ),
    "绩效指标明确性": (
        "将项目绩效目标细化分解为具体的绩效指标",
        "通过清晰、可衡量的指标值予以体现",
        "与项目目标任务数或计划数相对应",
    ),
    "预算编制科学性": (
        "预算编制经过科学论证",
        "预算内容与项目内容匹配",
        "预算额度测算依据充分，按照标准编制",
        "预算确定的项目投资额或资金量与工作任务相匹配",
    ),
    "资金分配合理性": (
        "预算资金分配依据充分",
        "资金分配额度合理，与项目单位或地方实际相适应",
    ),
    "资金使用合规性": (
        "符合国家财经法规和财务管理制度以及有关专项资金管理办法的规定",
        "资金的拨付有完整的审批程序和手续",
        "符合项目预算批复或合同规定的用途",
        "不存在截留、挤占、挪用、虚列支出等情况",
    ),
    "管理制度健全性": (
        "已制定或具有相应的财务和业务管理制度",
        "财务和业务管理制度合法、合规、完整",
    ),
    "制度执行有效性": (
        "遵守相关法律法规和相关管理规定",
        "项目调整及支出调整手续完备",
        "项目合同书、验收报告、技术鉴定等资料齐全并及时归档",
        "项目实施的人员条件、场地设备、信息支撑等落实到位",
    ),
}


_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"


def standard_text(rule: str, name: str, level3: str, target: str, weight: float, scheme: Scheme) -> str:
    """The 评分标准 an expert scores against."""
    if rule == "qualitative":
        scale = scheme.scale()
        bands = "；".join(f"{level} {_fmt(weight * f)} 分" for level, f in scale.fractions.items())
        return f"对照指标值「{target}」判断完成程度：{bands}；可在档内酌情给分"
    points = CHECKPOINTS.get(level3) or CHECKPOINTS.get(name)
    checkpoints = "；".join(f"{_CIRCLED[i]}{p}" for i, p in enumerate(points)) if points else ""
    if rule == "checklist":
        head = "按评价要点完成比例计分：得分 = 分值 × 完成要点数 / 要点总数"
        return f"{head}。评价要点：{checkpoints}" if checkpoints else head
    head = f"满分 {_fmt(weight)} 分，按评价要点逐项核查，发现问题酌情扣分并写明扣分理由"
    return f"评价要点：{checkpoints}。{head}" if checkpoints else head


def judged_indicators(project: Project, scheme: str | Path | Scheme | None = None) -> pd.DataFrame:
    """The indicators an expert panel scores: those whose rule (the one the project keeps, `Project.rules`, which
    `evaluate` scores by) is 定性, 扣分 or 评价要点. Columns: position (row position in `project.indicators`), row,
    level1 (as the scheme names it, as `evaluate` shows it), level2, level3, name, weight, rule, target, actual,
    standard."""
    chosen = load_scheme(scheme if scheme is not None else project.scheme_id)
    ind = project.indicators.assign(rule=project.rules).reset_index(drop=True)
    ind["level1"] = unique_map(ind["level1"], lambda label: (chosen.level_of(label) if isinstance(label, str)
                                                             else None) or label)
    mask = ind["rule"].isin(JUDGED_RULES).to_numpy()
    out = pd.DataFrame({
        "position": np.flatnonzero(mask),
        "row": ind.loc[mask, "row"].astype(int).to_numpy(),
        **{c: ind.loc[mask, c].fillna("").astype(str).to_numpy()
           for c in ("level1", "level2", "level3", "name", "rule", "target", "actual")},
        "weight": ind.loc[mask, "weight"].astype(float).to_numpy(),
    })
    out["standard"] = [standard_text(r.rule, r.name, r.level3, r.target, r.weight, chosen)
                       for r in out.itertuples()]
    return out


def indicator_hash(judged: pd.DataFrame) -> str:
    """12 hex digits identifying the judged indicator set (position, row, names, weight); the rule is left out
    so a project whose panel scores were applied (定性 → 扣分) still matches its sheets."""
    items = [[int(r.position), int(r.row), r.level1, r.level2, r.level3, r.name, round(float(r.weight), 6)]
             for r in judged.itertuples()]
    return hashlib.sha256(json.dumps(items, ensure_ascii=False).encode("utf-8")).hexdigest()[:12]


def expert_ids(n: int) -> list[str]:
    """E01, E02, … (three digits from 100 experts on)."""
    width = max(2, len(str(n)))
    return [f"E{i:0{width}d}" for i in range(1, n + 1)]


def sheet_name(project_id: str, expert_id: str) -> str:
    safe = re.sub(r'[\\/:*?"<>|\s]+', "_", project_id).strip("_") or "项目"
    return f"{safe}_专家评分_{expert_id}.xlsx"


def write_expert_sheet(path: str | Path, project: Project, judged: pd.DataFrame, expert_id: str,
                       n_experts: int, expert_name: str = "", scores: Sequence[float] | None = None,
                       reasons: Sequence[str] | None = None) -> Path:
    """One expert's workbook (atomically). `scores`/`reasons` (one per judged row) fill it in — for
    generated panels; a template leaves them blank."""
    path = Path(path)
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False,
                                              "strings_to_urls": False})
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                "valign": "vcenter"})
        locked = book.add_format({"text_wrap": True, "valign": "top", "border": 1})
        entry = book.add_format({"text_wrap": True, "valign": "top", "border": 1, "locked": False,
                                 "bg_color": "#FFF9E5"})
        info = book.add_worksheet(INFO_SHEET)
        rows = [("字段", "值"), (KEY_PROJECT, project.id), (KEY_NAME, project.name), (KEY_YEAR, project.year),
                (KEY_HASH, indicator_hash(judged)), (KEY_EXPERT, expert_id), (KEY_EXPERT_NAME, expert_name),
                (KEY_EXPERTS, n_experts), (KEY_COUNT, len(judged)), ("填写说明", INSTRUCTIONS)]
        for i, (key, value) in enumerate(rows):
            fmt = head if i == 0 else entry if key == KEY_EXPERT_NAME else locked
            info.write_row(i, 0, [key, cell_value(value)], fmt)
        info.set_column(0, 0, 14)
        info.set_column(1, 1, 90)
        info.protect("", {"format_columns": True, "format_rows": True})

        sheet = book.add_worksheet(SCORE_SHEET)
        keys = list(SCORE_COLUMNS)
        sheet.write_row(0, 0, list(SCORE_COLUMNS.values()), head)
        score_col, reason_col = keys.index("score"), keys.index("reason")
        for i, r in enumerate(judged.itertuples(), start=1):
            values = {"seq": i, "rule": RULE_LABELS.get(r.rule, r.rule), **{
                k: getattr(r, k) for k in ("row", "level1", "level2", "level3", "name", "weight", "standard",
                                           "target", "actual")}}
            for j, key in enumerate(keys[:score_col]):
                sheet.write(i, j, cell_value(values[key]), locked)
            score = scores[i - 1] if scores is not None else None
            reason = reasons[i - 1] if reasons is not None else ""
            sheet.write(i, score_col, cell_value(score), entry)
            sheet.write(i, reason_col, reason or "", entry)
            sheet.data_validation(i, score_col, i, score_col, {
                "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": float(r.weight),
                "error_title": "得分", "error_message": f"得分应在 0 至 {_fmt(r.weight)} 分之间"})
        for j, key in enumerate(keys):
            sheet.set_column(j, j, WIDTHS[key])
        sheet.freeze_panes(1, 0)
        sheet.protect("", {"format_columns": True, "format_rows": True})
        sheet.activate()
        book.close()
    return path


def write_templates(project: Project, n_experts: int, out_dir: str | Path, names: Sequence[str] = (),
                    scheme: str | Path | Scheme | None = None, force: bool = False) -> list[Path]:
    """One blank expert workbook per expert in `out_dir`. Refuses (before writing anything) when the
    project has no judged indicator, when `n_experts` < 1, or when a sheet exists and `force` is not set."""
    if n_experts < 1:
        raise PerfevalError(f"专家人数应为正整数，而不是 {n_experts}")
    if len(names) > n_experts:
        raise PerfevalError(f"给出了 {len(names)} 位专家姓名，但专家人数为 {n_experts}")
    judged = judged_indicators(project, scheme)
    if judged.empty:
        raise PerfevalError(f"项目 {project.id} 没有需要专家评判的指标（评分方法为定性、扣分或评价要点的指标）")
    out = Path(out_dir)
    ids = expert_ids(n_experts)
    paths = [out / sheet_name(project.id, e) for e in ids]
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise PerfevalError(f"{existing[0]} 已存在（共 {len(existing)} 个）；如需覆盖请加 --force")
    full_names = [*names, *[""] * (n_experts - len(names))]
    for path, expert, name in zip(paths, ids, full_names, strict=True):
        write_expert_sheet(path, project, judged, expert, n_experts, name)
    return paths
