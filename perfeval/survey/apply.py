"""Feed a survey into a project: the 满意度 indicators' 实际完成值 become the computed values, and a stated
figure the survey does not support is a finding (code ``survey_unsupported``)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

from perfeval.display import fmt_num
from perfeval.errors import Problem, SheetError
from perfeval.model import Project
from perfeval.notation import normalise, parse_value
from perfeval.survey.compute import SurveyResult

_ROW_REF = re.compile(r"^(?:第)?\s*(\d+)\s*(?:行)?$")
DECIMALS = 2  # the computed value is written with two decimals (94.96%)


def _written(x: float) -> str:
    """A survey figure as written into the sheet and messages: DECIMALS decimals kept, 四舍五入 ('80.13' for 80.125)."""
    return fmt_num(x, DECIMALS, trim=False)


@dataclass(frozen=True)
class SurveyApplication:
    """The project with the survey's values, the findings, and one row per indicator fed
    (indicator row, name, stated text, new text, value, n, margin, low, high, supported)."""

    project: Project
    findings: tuple[Problem, ...]
    table: pd.DataFrame

    def findings_frame(self) -> pd.DataFrame:
        """The findings in the audit's shape (code, severity, message, where)."""
        return pd.DataFrame.from_records(
            [{"code": q.code, "severity": q.severity, "message": q.expected, "where": q.place or q.location}
             for q in self.findings], columns=["code", "severity", "message", "where"])


def resolve_indicators(project: Project, result: SurveyResult) -> dict[str, int]:
    """mapping indicator (as written) → index in `project.indicators`. Raises SheetError (located in the
    mapping) for an indicator the project does not have, an ambiguous name or two names for one row."""
    ind = project.indicators
    names = ind["name"].map(normalise)
    level3 = ind["level3"].map(normalise)
    found: dict[str, int] = {}
    problems: list[Problem] = []
    keys = {}
    for n, item in enumerate(result.mapping.items, start=1):
        keys.setdefault(item.indicator, f"item[{n}].indicator")
    satisfaction = "、".join(ind.loc[names.str.contains("满意") | level3.str.contains("满意"), "name"]) or "（无）"
    for ref, key in keys.items():
        match = _ROW_REF.match(normalise(ref))
        if match:
            hits = ind.index[ind["row"] == int(match.group(1))]
        else:
            hits = ind.index[names == normalise(ref)]
            if not len(hits):
                hits = ind.index[level3 == normalise(ref)]
        if len(hits) == 1:
            found[ref] = int(hits[0])
        elif not len(hits):
            problems.append(Problem(result.mapping.source, None, None, key, ref,
                                    f"项目「{project.id}」的指标表中没有该指标；含「满意」的指标有：{satisfaction}"))
        else:
            rows = "、".join(str(r) for r in ind.loc[hits, "row"])
            first = ind.loc[hits[0], "row"]
            problems.append(Problem(result.mapping.source, None, None, key, ref,
                                    f"指标名称不唯一（指标表第 {rows} 行）；请写行号，如 indicator = \"第{first}行\""))
    seen: dict[int, str] = {}
    for ref, index in found.items():
        if index in seen:
            problems.append(Problem(result.mapping.source, None, None, keys[ref], ref,
                                    f"与「{seen[index]}」指向指标表同一行（第{ind.loc[index, 'row']}行）"))
        seen[index] = ref
    if problems:
        raise SheetError(problems)
    return found


def _decimals(text: str) -> int:
    match = re.search(r"\d+(?:\.(\d+))?", text)
    return len(match.group(1) or "") if match else 0


def stated_value(text: str, mode: str) -> tuple[float, float] | None:
    """(value, half a unit of its last written digit) of a stated satisfaction figure; rates in percent
    (a bare 0.95 is 95%). None when the text is not a single number."""
    parsed = parse_value(normalise(text))
    if parsed.kind != "number" or parsed.value is None or not math.isfinite(parsed.value):
        return None
    value, half = float(parsed.value), 0.5 * 10.0 ** -_decimals(normalise(text))
    if mode == "rate" and parsed.unit == "" and abs(value) <= 1.5:
        return value * 100, half * 100
    return value, half


def _unit(target: str, mode: str) -> str:
    if mode == "rate":
        return "%"
    parsed = parse_value(normalise(target))
    return parsed.unit if parsed.unit in ("%", "分") else ""


def apply_survey(project: Project, result: SurveyResult) -> SurveyApplication:
    """A new project whose mapped indicators' 实际完成值 are the survey's values (数据来源: 问卷调查 n=…，误差±…),
    carrying a ``survey_unsupported`` finding (in `sheet_findings`, so `evaluate` reports it) for each stated
    figure (the indicator's 实际完成值 as written) outside the survey's 95% interval."""
    where = resolve_indicators(project, result)
    frame = project.indicators.copy()
    for column in ("actual", "data_source"):
        frame[column] = frame[column].astype(object)
    file = str(project.source or project.id)
    problems: list[Problem] = []
    findings: list[Problem] = []
    records = []
    for rec in result.indicators.itertuples():
        index = where[rec.indicator]
        row = frame.loc[index]
        target = parse_value(normalise(row["target"]))
        if not target.is_numeric:
            problems.append(Problem(file, "指标", int(row["row"]), "指标值", str(row["target"]),
                                    "问卷结果是数值，该指标的指标值应为数值目标（如 ≥90%）才能评分"))
            continue
        if rec.mode == "rate" and target.unit not in ("%", ""):
            problems.append(Problem(file, "指标", int(row["row"]), "指标值", str(row["target"]),
                                    f"满意率以 % 计，与指标值单位「{target.unit}」不一致；"
                                    "按分值计的满意度请在问卷映射中用 weights（加权得分）"))
            continue
        if rec.n == 0 or not math.isfinite(rec.value):
            problems.append(Problem(result.answers.file, result.answers.sheet, None, None, None,
                                    f"指标「{rec.indicator}」没有有效答卷，无法计算满意度"))
            continue
        unit = _unit(str(row["target"]), rec.mode)
        points = "个百分点" if rec.mode == "rate" else ("分" if unit == "分" else "")
        new_text = f"{_written(rec.value)}{unit}"
        margin = f"±{_written(rec.margin)}{points}" if math.isfinite(rec.margin) else "无法估计（有效答卷过少）"
        kind = "满意率" if rec.mode == "rate" else "加权得分"
        stated_text = str(row["actual"] or "")
        source = (f"问卷调查 n={rec.n}，{kind}，误差{margin}（95%置信）"
                  + (f"；表内原填 {stated_text}" if stated_text else ""))
        stated = stated_value(stated_text, rec.mode) if stated_text else None
        supported = None
        if stated is not None and math.isfinite(rec.margin):
            value, half = stated
            supported = not (value + half < rec.low or value - half > rec.high)
            if not supported:
                findings.append(Problem(
                    file, "指标", int(row["row"]), "实际完成值", stated_text,
                    f"指标「{row['name']}」表内所写 {stated_text} 不被问卷支持："
                    f"问卷{kind} {_written(rec.value)}{unit}"
                    f"（n={rec.n}，95%置信区间 {_written(rec.low)}–{_written(rec.high)}{unit}）",
                    "survey_unsupported", "error"))
        frame.at[index, "actual"] = new_text
        frame.at[index, "data_source"] = source
        records.append({"row": int(row["row"]), "name": row["name"], "stated": stated_text, "actual": new_text,
                        "value": rec.value, "n": rec.n, "margin": rec.margin, "low": rec.low, "high": rec.high,
                        "mode": rec.mode, "supported": supported, "data_source": source})
    if problems:
        raise SheetError(problems)
    fed = project.replace(indicators=frame, sheet_findings=(*project.sheet_findings, *findings))
    return SurveyApplication(fed, tuple(findings), pd.DataFrame.from_records(records))
