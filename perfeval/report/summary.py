"""A readable Chinese text summary of an evaluation (what `perfeval score` prints)."""

from __future__ import annotations

import unicodedata

from perfeval.display import SEVERITY_LABELS, fmt_num, fmt_pct
from perfeval.scoring.evaluate import Evaluation
from perfeval.scoring.understood import for_evaluation


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(width - _width(text), 0)
    return gap + text if right else text + gap


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(_width(str(r[j])) for r in [header, *rows]) for j in range(len(header))]
    line = lambda r: "  ".join(_pad(str(c), widths[j], j in right) for j, c in enumerate(r))  # noqa: E731
    return [line(header), "  ".join("─" * w for w in widths), *[line(r) for r in rows]]


def _n(x: float) -> str:
    return fmt_num(x, 2)


def pct(rate: float) -> str:
    """Rates with one decimal kept: '95.6%', '100.0%'."""
    return fmt_pct(rate, 1, trim=False)


def summary_text(ev: Evaluation) -> str:
    p, b = ev.project, ev.budget
    out = [f"{p.name}（{p.id}，{p.year}年度，{ev.scheme.name}）",
           f"实施单位：{p.unit or '—'}    主管部门：{p.department or '—'}", ""]
    out.append(f"总分 {_n(ev.total)} 分    等级 {ev.grade}")
    out.append(f"预算数 {_n(b.budget)} 万元  到位数 {_n(b.allocated)} 万元  执行数 {_n(b.spent)} 万元")
    out.append(f"预算执行率 {pct(b.execution_rate)}（执行数/{b.denominator_label}）  "
               f"资金到位率 {pct(b.arrival_rate)}  偏差率 {pct(b.deviation_rate)}")
    out.append("")
    out += _table(["一级指标", "分值", "得分", "得分率"],
                  [[r.name, _n(r.weight), _n(r.score), pct(r.score_rate)] for r in ev.levels.itertuples()],
                  {1, 2, 3})
    out.append("")
    read = for_evaluation(ev)
    rows = [[r.level1, r.name, _n(r.weight), r.target or "—", r.actual or "—", t or "—", a or "—", r.rule_label,
             pct(r.completion), _n(r.score), _n(r.stated_score)]
            for r, t, a in zip(ev.indicators.itertuples(), read["target_understood"], read["actual_understood"],
                               strict=True)]
    out += _table(["一级", "指标名称", "分值", "指标值", "实际完成值", "指标值解读", "实际值解读", "评分方法",
                   "完成率", "得分", "报告得分"], rows, {2, 8, 9, 10})
    out.append("（指标值解读、实际值解读：perfeval 读到并用于评分的数值与单位；可换算的单位已换算到指标值的单位）")
    out.append("")
    counts = ev.findings_by_severity
    out.append(f"数据核查：错误 {counts['error']} 项，警告 {counts['warning']} 项，提示 {counts['info']} 项")
    for r in ev.findings.itertuples():
        out.append(f"  [{SEVERITY_LABELS.get(r.severity, r.severity)}] {r.message}（{r.where}；{r.code}）")
    return "\n".join(out)
