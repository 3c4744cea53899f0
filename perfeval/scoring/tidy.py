"""Tidy frames for an analyst: a portfolio of files and folders → projects, levels, indicators, findings.

    import perfeval
    res = perfeval.evaluate_portfolio(["data/synthetic", "data/reference/AKT2022-001.xlsx"])
    res.projects            # one row per project: project_id, name, year, total, grade, rates …
    res.indicators          # one row per indicator, keyed by project_id
    res.problems            # the projects that could not be read, located (file, sheet, row, column)
    res.to_chinese().projects   # the same frames with Chinese column labels, for display

Every row is keyed by 项目编号 (`project_id`, the first column of every frame). Two inputs that use the same
项目编号 would make that key ambiguous: the first one read is scored, every later one is listed in
`problems` naming both files. Columns, units and Chinese labels are documented in docs/data-dictionary.md
and given here as `LABELS` (frame -> {column: label}). Scoring is `evaluate_frames`: one vectorised pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from perfeval.model import Project
from perfeval.scheme import Scheme, ScoringOptions, load_scheme
from perfeval.scoring.evaluate import evaluate_frames
from perfeval.scoring.understood import understood
from perfeval.sheets.load import ProjectRead, read_inputs

#: frame -> {English column: Chinese label}, in column order (docs/data-dictionary.md has meaning and unit)
LABELS: dict[str, dict[str, str]] = {
    "projects": {
        "project_id": "项目编号", "name": "项目名称", "year": "年度", "department": "主管部门",
        "unit": "实施单位", "scheme": "评价方案", "total": "总分", "grade": "等级",
        "budget": "预算数（万元）", "allocated": "到位数（万元）", "spent": "执行数（万元）",
        "funding_total": "资金来源合计（万元）", "execution_rate": "预算执行率", "arrival_rate": "资金到位率",
        "deviation_rate": "偏差率", "errors": "错误", "warnings": "警告", "infos": "提示", "file": "文件",
    },
    "levels": {
        "project_id": "项目编号", "level": "一级指标", "weight": "分值", "scheme_weight": "方案分值",
        "score": "得分", "score_rate": "得分率",
    },
    "indicators": {
        "project_id": "项目编号", "row": "行号", "level1": "一级指标", "level2": "二级指标",
        "level3": "三级指标", "name": "指标名称", "weight": "分值", "target": "指标值",
        "actual": "实际完成值", "method": "评分方法（表内）", "stated_score": "报告得分", "deduction": "扣分",
        "deduction_reason": "扣分原因", "reason": "偏差原因", "measure": "改进措施",
        "evidence": "证据编号", "data_source": "数据来源",
        "target_kind": "指标值类型", "target_op": "指标值运算符", "target_value": "指标值（数值）",
        "target_low": "指标值下限", "target_high": "指标值上限", "target_unit": "指标值单位",
        "actual_kind": "实际值类型", "actual_unit": "实际值单位", "actual_low": "实际值下限",
        "actual_high": "实际值上限", "actual_value": "实际值（数值）", "rule": "评分规则",
        "rule_label": "评分规则（中文）", "execution_rate": "预算执行率", "arrival_rate": "资金到位率",
        "fraction": "得分比例", "completion": "完成率", "deviation": "偏差", "qualitative_level": "定性等级",
        "over_achieved": "目标设定偏低", "late_days": "逾期天数", "late_months": "逾期月数",
        "score": "得分", "lost": "失分", "target_understood": "指标值理解为", "actual_understood": "实际值理解为",
    },
    "findings": {
        "project_id": "项目编号", "code": "代码", "severity": "严重程度", "message": "说明", "where": "位置",
    },
    "problems": {
        "project_id": "项目编号", "file": "文件", "sheet": "工作表", "row": "行", "column": "列",
        "value": "值", "message": "问题", "code": "代码", "severity": "严重程度",
    },
}
FRAMES = tuple(LABELS)


@dataclass(frozen=True)
class PortfolioResult:
    """The tidy frames of `evaluate_portfolio` (column lists: `LABELS`)."""

    projects: pd.DataFrame
    levels: pd.DataFrame
    indicators: pd.DataFrame
    findings: pd.DataFrame
    problems: pd.DataFrame

    def frames(self) -> dict[str, pd.DataFrame]:
        """{frame name: frame}, in `FRAMES` order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_chinese(self) -> PortfolioResult:
        """The same frames with Chinese column labels (for display; keep the English names for code)."""
        return PortfolioResult(**{name: to_chinese(frame, name) for name, frame in self.frames().items()})


def to_chinese(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """`frame` (one of `FRAMES`) with its columns renamed to their Chinese labels."""
    if kind not in LABELS:
        raise KeyError(f"未知的数据表「{kind}」，应为 {'、'.join(FRAMES)} 之一")
    return frame.rename(columns=LABELS[kind])


def evaluate_portfolio(paths_or_folders: str | Path | Iterable[str | Path],
                       scheme: str | Path | Scheme | None = None, strict: bool = False,
                       options: ScoringOptions | Mapping | None = None) -> PortfolioResult:
    """Read every project in files and folders (folders searched recursively, as `perfeval batch` does),
    score them in one vectorised pass and return tidy frames keyed by `project_id`.

    A project that cannot be read (or, under `strict`, one whose weights do not match its scheme) is not
    scored: its located problems are rows of `problems`. `scheme` defaults to each project's 评价方式;
    `options` overrides the scheme's scoring options. Raises PerfevalError for a path that does not exist,
    SheetError when no sheet is found, SchemeError for a bad scheme or option."""
    chosen = load_scheme(scheme) if scheme is not None else None  # a scheme file is read once
    reads = read_inputs(paths_or_folders, chosen, strict=strict)
    projects, refused = _unique(reads)
    frames = evaluate_frames(projects, chosen, options)
    problems = _problems(refused)
    if not projects:
        return PortfolioResult(*(_empty(name) for name in ("projects", "levels", "indicators", "findings")),
                               problems)
    ids = np.array([p.id for p in projects], dtype=object)
    severity = (pd.crosstab(frames.findings["pidx"], frames.findings["severity"]) if len(frames.findings)
                else pd.DataFrame())
    severity = severity.reindex(index=range(len(projects)), columns=["error", "warning", "info"], fill_value=0)
    head = frames.projects.set_index("pidx").reindex(range(len(projects)))
    project_frame = pd.DataFrame({
        "project_id": ids,
        "name": [p.name for p in projects],
        "year": pd.array([p.year for p in projects], dtype="Int64"),
        "department": [p.department for p in projects],
        "unit": [p.unit for p in projects],
        **{c: head[c].to_numpy() for c in ("scheme", "total", "grade", "budget", "allocated", "spent",
                                           "funding_total", "execution_rate", "arrival_rate", "deviation_rate")},
        "errors": severity["error"].to_numpy(dtype=int),
        "warnings": severity["warning"].to_numpy(dtype=int),
        "infos": severity["info"].to_numpy(dtype=int),
        "file": [str(p.source) if p.source else "" for p in projects],
    })
    levels = _in_order(frames.levels).rename(columns={"name": "level"})
    indicators = _in_order(frames.indicators)
    denominators = np.array([frames.setups[i][1].execution_denominator for i in range(len(projects))])
    readings = _readings(indicators, denominators[indicators["pidx"].to_numpy(dtype=int)])
    indicators = pd.concat([indicators, readings], axis=1)
    findings = _in_order(frames.findings)
    return PortfolioResult(_columns(project_frame, "projects"), _columns(levels, "levels"),
                           _columns(indicators, "indicators"), _columns(findings, "findings"), problems)


def _unique(reads: list[ProjectRead]) -> tuple[list[Project], list[ProjectRead]]:
    """The projects to score (the first of each 项目编号) and the reads that were refused, a later project
    with an id already taken among them."""
    from perfeval.errors import Problem

    projects: list[Project] = []
    refused: list[ProjectRead] = []
    first: dict[str, Project] = {}
    for read in reads:
        project = read.project
        if project is None:
            refused.append(read)
        elif project.id in first:
            other = first[project.id].source
            refused.append(ProjectRead(project.id, None, [Problem(
                str(project.source or ""), "项目信息", None, "项目编号", project.id,
                f"项目编号重复：已由 {other} 中的同编号项目使用，本项目未评分（请改正其中一个项目编号）")]))
        else:
            first[project.id] = project
            projects.append(project)
    return projects, refused


def _problems(refused: list[ProjectRead]) -> pd.DataFrame:
    rows = [{"project_id": read.key, "file": q.file, "sheet": q.sheet, "row": q.row, "column": q.column,
             "value": q.value, "message": q.expected, "code": q.code, "severity": q.severity}
            for read in refused for q in read.problems]
    frame = pd.DataFrame.from_records(rows, columns=list(LABELS["problems"]))
    frame["row"] = frame["row"].astype("Int64")
    return frame


def _readings(indicators: pd.DataFrame, denominators: np.ndarray) -> pd.DataFrame:
    """target_understood / actual_understood of every indicator, with each project's 执行率 denominator."""
    out = pd.DataFrame(index=indicators.index, columns=["target_understood", "actual_understood"], dtype=object)
    for denominator in np.unique(denominators):
        mask = denominators == denominator
        label = "到位数" if denominator == "allocated" else "预算数"
        read = understood(indicators.loc[mask], label)
        out.loc[mask, "target_understood"] = read["target_understood"].to_numpy()
        out.loc[mask, "actual_understood"] = read["actual_understood"].to_numpy()
    return out


def _in_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in input order (evaluate_frames groups them by scheme), stable within a project."""
    return frame.sort_values("pidx", kind="stable", ignore_index=True) if len(frame) else frame


def _columns(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Exactly the documented columns of `kind`, in order (`pidx` dropped); a missing one is a KeyError."""
    return frame.loc[:, list(LABELS[kind])].reset_index(drop=True)


def _empty(kind: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in LABELS[kind]})


__all__ = ["FRAMES", "LABELS", "PortfolioResult", "evaluate_portfolio", "to_chinese"]
