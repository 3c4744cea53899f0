"""The evidence ledger (佐证材料): which evidence backs each indicator, what lacks it, what to collect.

Optional inputs (see docs/evidence.md):

* 指标 sheet columns 证据编号 (ids of 佐证材料 rows, several separated by 、，,；; or spaces) and 数据来源
  (where the figure came from) — `Project.indicators["evidence"]`, `["data_source"]`;
* a 佐证材料 sheet: 编号 | 名称 | 来源 | 日期 — `Project.materials`.

A project *uses the ledger* (`Project.ledger`) when its 指标 sheet has a 证据编号 column or its workbook a
佐证材料 sheet. Only then are evidence findings raised; a project without either is left silent.

Findings (the audit's shape: code, severity, message, where):

* ``evidence_missing`` — an indicator that lost points (score below its weight: a deduction, or a target not
  met, which loses points by the scoring rules) has no evidence id;
* ``evidence_unknown`` — an evidence id that the 佐证材料 sheet does not list (checked only when the sheet exists).

"Lost points > 0" is the same test the report's 失分 uses (`Evaluation.indicators["lost"]`).

`materials_checklist(project)` lists, per indicator, the 佐证材料 an evaluator should collect before the site
visit, from the indicator's kind (rules in `CHECKLIST_RULES`, after the usual lists of the field: 立项/申报/批复,
资金下达与拨付, 支出明细与决算, 实施与验收, 问卷与统计).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from perfeval.notation import normalise, plain_text
from perfeval.sheets.cells import unique_map
from perfeval.sheets.materials import MATERIAL_COLUMNS, read_materials  # noqa: F401  (read at the sheets level)

if TYPE_CHECKING:
    from perfeval.model import Project
    from perfeval.scoring.evaluate import Evaluation

FINDING_COLUMNS = ("code", "severity", "message", "where")
_ID_SEPARATORS = re.compile(r"[、,，;；\s]+")


def split_ids(text: object) -> tuple[str, ...]:
    """Evidence ids written in one cell: 'Z-01、Z-02' → ('Z-01', 'Z-02'); blank → ()."""
    value = plain_text(text)
    if not value:
        return ()
    return tuple(dict.fromkeys(normalise(part) for part in _ID_SEPARATORS.split(value) if part.strip()))


def _where(row) -> str:
    return f"指标表第{int(row.row)}行「{row.level1}/{row.name}」"


def needs_evidence(evaluation: Evaluation) -> pd.Series:
    """True for each indicator that lost points (score below weight at the scheme's score precision)."""
    return _losing(evaluation.indicators, evaluation.options.decimals)


def _losing(ind: pd.DataFrame, decimals: int) -> pd.Series:
    lost = ind["lost"].to_numpy(dtype=float)
    return pd.Series(np.nan_to_num(lost) > 0.5 * 10.0 ** -decimals, index=ind.index)


def evidence_findings(evaluation: Evaluation) -> pd.DataFrame:
    """``evidence_missing`` and ``evidence_unknown`` findings (empty unless the project uses the ledger).
    `evaluate()` already lists them among the evaluation's findings; this is the same computation on its own."""
    return ledger_findings(evaluation.indicators, evaluation.project, evaluation.options.decimals)


def ledger_findings(ind: pd.DataFrame, project: Project, decimals: int) -> pd.DataFrame:
    """The evidence findings of one project from its scored indicator rows (see `evidence_findings`)."""
    if not project.ledger:
        return pd.DataFrame(columns=list(FINDING_COLUMNS))
    ids = unique_map(ind["evidence"] if "evidence" in ind else pd.Series("", index=ind.index), split_ids)
    records: list[dict[str, str]] = []
    missing = _losing(ind, decimals) & (ids.map(len) == 0)
    for row in ind[missing].itertuples():
        lost = float(row.lost)
        records.append({"code": "evidence_missing", "severity": "warning", "where": _where(row),
                        "message": f"指标「{row.name}」失分 {lost:.{decimals}f} 分"
                                   f"（得分 {float(row.score):g} / 分值 {float(row.weight):g}），但未填写证据编号；"
                                   "扣分或未达标须有佐证材料"})
    materials = project.materials
    if materials is not None:
        known = set(materials["id"])
        for (_, row), cited in zip(ind.iterrows(), ids, strict=True):
            unknown = [i for i in cited if i not in known]
            if unknown:
                records.append({"code": "evidence_unknown", "severity": "warning",
                                "where": f"指标表第{int(row['row'])}行「{row['level1']}/{row['name']}」",
                                "message": f"指标「{row['name']}」引用的证据编号 {'、'.join(unknown)} "
                                           "不在「佐证材料」表中"})
    return pd.DataFrame.from_records(records, columns=list(FINDING_COLUMNS))


#: (test, materials): the first rule whose test matches an indicator gives its checklist. A test looks at the
#: indicator's rule, 二级 and name (keywords); the lists follow the field's usual 佐证材料 (立项申报与批复,
#: 预算批复与资金下达, 支出明细账与会计凭证, 实施与验收资料, 问卷原件与统计).
CHECKLIST_RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    # (kind, keywords in rule/二级/三级/name, materials)
    ("满意度", ("满意",), ("调查问卷原件（或电子问卷导出数据）", "问卷统计表",
                         "调查方案（抽样方法、样本量、调查时间）")),
    ("预算执行", ("execution", "预算执行"), ("预算批复文件（含调整批复）", "资金拨付凭证", "支出明细账及会计凭证",
                                        "年度决算报表")),
    ("资金到位", ("arrival", "资金到位", "到位率", "到位及时"), ("预算批复文件", "资金下达（拨付）文件",
                                                          "资金到账凭证")),
    ("资金使用合规", ("合规",), ("财务管理制度及专项资金管理办法", "支出审批单及会计凭证、原始票据",
                          "审计报告或财政监督检查报告（如有）")),
    ("项目立项", ("项目立项", "立项"), ("立项依据文件（政策、规划、部门职责文件）", "项目申报书",
                                "可行性研究报告或立项论证材料", "立项审批文件及集体决策会议纪要")),
    ("绩效目标", ("绩效目标", "绩效指标"), ("绩效目标申报表及批复", "项目实施方案（目标及任务分解）")),
    ("资金投入", ("资金投入", "预算编制", "资金分配"), ("预算测算依据及标准", "预算申报及批复文件",
                                             "资金分配方案及分配依据")),
    ("资金管理", ("资金管理",), ("预算批复文件", "资金拨付凭证", "支出明细账及会计凭证")),
    ("组织实施", ("组织实施", "制度", "管理"), ("项目管理制度、财务管理制度", "制度执行记录（会议纪要、审批单）",
                                         "合同、验收及档案资料")),
    ("产出数量", ("数量", "完成率"), ("项目实施情况报告", "完成工作量统计台账（名册、清单）", "验收报告或完成证明")),
    ("产出质量", ("质量", "达标", "合格"), ("质量验收报告", "检查、检测记录", "合格证明或质量评定资料")),
    ("产出时效", ("deadline", "时效", "及时"), ("项目计划进度表", "完成（验收）时间证明",
                                          "资金支付时间记录")),
    ("产出成本", ("成本", "节约"), ("成本测算依据及预算批复", "支出明细账", "结算或决算报告")),
    ("可持续影响", ("可持续", "长效"), ("长效管理机制文件", "后续运行维护安排及资金保障")),
    ("效益", ("效益", "效果", "影响"), ("效益统计数据及其来源说明", "相关部门出具的证明材料",
                                  "实施前后对比资料、影像资料")),
)
DEFAULT_MATERIALS = ("指标完成情况说明及原始数据", "数据来源证明材料")
CHECKLIST_COLUMNS = ("行", "一级指标", "二级指标", "三级指标", "指标名称", "材料类别", "所需佐证材料", "已登记证据编号",
                     "证据状态")


def checklist_kind(rule: str, level2: str, level3: str, name: str) -> tuple[str, tuple[str, ...]]:
    """The checklist rule (kind, materials) for one indicator."""
    # the name decides first (满意度 / 预算执行率 by name), then the 二级 and 三级 headings
    for fields in ((rule, name), (level3,), (level2,)):
        text = " ".join(normalise(f) for f in fields)
        for kind, keys, materials in CHECKLIST_RULES:
            if any(k in text for k in keys):
                return kind, materials
    return "其他", DEFAULT_MATERIALS


def materials_checklist(project: Project, evaluation: Evaluation | None = None) -> pd.DataFrame:
    """Per indicator: what 佐证材料 to collect (`CHECKLIST_COLUMNS`). With an evaluation, indicators that lost
    points are marked (须有佐证); with a ledger, the evidence ids already registered are shown."""
    ind = project.indicators.reset_index(drop=True)
    rules = project.rules  # the rule kept with the project, as evaluate scores it
    kinds = [checklist_kind(str(r), str(a), str(b), str(c))
             for r, a, b, c in zip(rules, ind["level2"], ind["level3"], ind["name"], strict=True)]
    ids = ind["evidence"].map(split_ids) if "evidence" in ind else pd.Series([()] * len(ind))
    need = needs_evidence(evaluation).to_numpy() if evaluation is not None else np.zeros(len(ind), dtype=bool)
    known = set(project.materials["id"]) if project.materials is not None else None

    def status(cited: Sequence[str], lost: bool) -> str:
        if cited:
            if known is not None and any(i not in known for i in cited):
                return "编号不在佐证材料表中"
            return "已登记"
        return "失分，须有佐证" if lost else "待收集"

    return pd.DataFrame({
        "行": ind["row"].astype(int), "一级指标": ind["level1"], "二级指标": ind["level2"], "三级指标": ind["level3"],
        "指标名称": ind["name"], "材料类别": [k for k, _ in kinds], "所需佐证材料": ["；".join(m) for _, m in kinds],
        "已登记证据编号": ["、".join(c) for c in ids],
        "证据状态": [status(c, bool(n)) for c, n in zip(ids, need, strict=True)],
    }, columns=list(CHECKLIST_COLUMNS))


def checklist_text(project: Project, checklist: pd.DataFrame) -> str:
    """The checklist as the text `perfeval materials` prints."""
    lines = [f"{project.id} {project.name}：佐证材料清单（{len(checklist)} 项指标）"]
    for rec in checklist.itertuples(index=False):
        ids = f"（已登记：{rec[7]}）" if rec[7] else ""
        lines.append(f"  第{rec[0]}行 {rec[1]}/{rec[2]}/{rec[4]} [{rec[5]}] {rec[8]}{ids}")
        lines.append(f"      {rec[6]}")
    return "\n".join(lines)
