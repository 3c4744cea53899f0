"""One project's detail: headline, level subtotals, indicator table, audit findings (pure).

Every figure comes from the `Evaluation`; these functions only choose columns, name them in
Chinese and format numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from perfeval.scoring.evaluate import Evaluation
from perfeval.scoring.understood import for_evaluation
from perfeval.workbench.tables import SEVERITY_LABELS, num, pct, signed

INDICATOR_HEADERS = ("行", "一级指标", "二级指标", "三级指标", "指标名称", "分值", "指标值", "实际完成值",
                     "指标值解读", "实际值解读", "评分方法", "得分", "失分", "完成率", "偏差率", "偏差原因/扣分原因")
INDICATOR_NUMERIC = ("行", "分值", "得分", "失分", "完成率", "偏差率")


def headline(ev: Evaluation) -> dict[str, str]:
    """The figures a reader looks at first, formatted."""
    p, b = ev.project, ev.budget
    counts = ev.findings_by_severity
    return {
        "项目": f"{p.id} {p.name}",
        "年度": str(p.year),
        "主管部门": p.department or "—",
        "评价方案": ev.scheme.name,
        "总分": num(ev.total),
        "等级": ev.grade,
        "预算执行率": f"{pct(b.execution_rate)}（执行数/{b.denominator_label}）",
        "偏差率": pct(b.deviation_rate),
        "核查发现": f"错误 {counts['error']} 项，警告 {counts['warning']} 项，提示 {counts['info']} 项",
    }


def level_table(ev: Evaluation, base: Evaluation | None = None) -> pd.DataFrame:
    """一级指标 subtotals; with `base`, the original score and the change beside each."""
    lv = ev.levels
    out = pd.DataFrame({
        "一级指标": lv["name"].to_numpy(),
        "分值": [num(w) for w in lv["weight"]],
        "得分": [num(s) for s in lv["score"]],
        "得分率": [pct(r) for r in lv["score_rate"]],
    })
    total_row = {"一级指标": "合计", "分值": num(lv["weight"].sum()), "得分": num(ev.total),
                 "得分率": pct(ev.total / lv["weight"].sum()) if lv["weight"].sum() else "—"}
    if base is not None:
        before = base.levels.set_index("name")["score"].reindex(lv["name"]).to_numpy(dtype=float)
        out["原得分"] = [num(x) for x in before]
        out["变化"] = [signed(a - b) for a, b in zip(lv["score"].to_numpy(dtype=float), before,
                                                   strict=True)]
        total_row["原得分"] = num(base.total)
        total_row["变化"] = signed(ev.total - base.total)
    return pd.concat([out, pd.DataFrame([total_row])], ignore_index=True)


def indicator_table(ev: Evaluation) -> pd.DataFrame:
    """One row per 三级 indicator: target and actual as written and as understood (the parsed
    value and unit the score used), rule, score, points lost, completion, deviation, and the
    reason given (偏差原因 or 扣分原因)."""
    ind = ev.indicators
    read = for_evaluation(ev)
    reason = [" ".join(x for x in (str(r or ""), str(d or "")) if x and x != "nan")
              for r, d in zip(ind["reason"], ind["deduction_reason"], strict=True)]
    return pd.DataFrame({
        "行": ind["row"].astype(int).astype(str).to_numpy(),
        "一级指标": ind["level1"].to_numpy(),
        "二级指标": ind["level2"].fillna("").to_numpy(),
        "三级指标": ind["level3"].fillna("").to_numpy(),
        "指标名称": ind["name"].to_numpy(),
        "分值": [num(w) for w in ind["weight"]],
        "指标值": [t or "—" for t in ind["target"].fillna("")],
        "实际完成值": [a or "—" for a in ind["actual"].fillna("")],
        "指标值解读": [t or "—" for t in read["target_understood"]],
        "实际值解读": [a or "—" for a in read["actual_understood"]],
        "评分方法": ind["rule_label"].to_numpy(),
        "得分": [num(s) for s in ind["score"]],
        "失分": [num(x) for x in ind["lost"]],
        "完成率": [pct(c) for c in ind["completion"]],
        "偏差率": [pct(d) for d in ind["deviation"]],
        "偏差原因/扣分原因": [r or "—" for r in reason],
    }, columns=list(INDICATOR_HEADERS))


def findings_table(ev: Evaluation) -> pd.DataFrame:
    """Audit findings, errors first."""
    f = ev.findings
    order = np.argsort(f["severity"].map({"error": 0, "warning": 1, "info": 2}).fillna(3).to_numpy(),
                       kind="stable")
    f = f.iloc[order]
    return pd.DataFrame({
        "级别": [SEVERITY_LABELS.get(s, s) for s in f["severity"]],
        "内容": f["message"].to_numpy(),
        "位置": f["where"].to_numpy(),
        "代码": f["code"].to_numpy(),
    })


def lost_points(ev: Evaluation, top: int = 5) -> pd.DataFrame:
    """Indicators that lost the most points (where to look first)."""
    ind = ev.indicators
    lost = ind.loc[ind["lost"] > 0].sort_values("lost", ascending=False, kind="stable").head(top)
    return pd.DataFrame({
        "指标名称": lost["name"].to_numpy(),
        "一级指标": lost["level1"].to_numpy(),
        "失分": [num(x) for x in lost["lost"]],
        "指标值": lost["target"].to_numpy(),
        "实际完成值": lost["actual"].to_numpy(),
    })
