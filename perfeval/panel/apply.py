"""Put a merged panel into the project: the panel score becomes each judged indicator's score.

A judged score is represented the way the indicator sheet represents an evaluator's judgement: 评分方法
扣分 (rule ``manual``, score = 分值 − 扣分) with 扣分 = 分值 − panel score and 扣分原因 = "专家组评分（N位）：" +
the merged reasons. `evaluate()` therefore scores exactly the panel score — for a 定性 indicator too, whose
text would otherwise be classified — and `save_project` / `load_project` keep it (the merged workbook goes
to `perfeval report` and `perfeval batch` as it is). Project.info gains 专家组评分 (who, which rule), and the
panel's findings (disagreements, deductions without a reason) travel as `sheet_findings`, so `evaluate`
lists them with the audit's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from perfeval.errors import Problem
from perfeval.model import Project
from perfeval.panel.merge import PanelMerge, merge_panel
from perfeval.panel.read import PanelSheets, read_panel
from perfeval.scheme import Scheme, ScoringOptions, load_scheme
from perfeval.scoring.evaluate import Evaluation, evaluate

PROVENANCE = "专家组评分（{n}位）"
INFO_KEY = "专家组评分"
PANEL_CODES = frozenset({"panel_disagreement", "panel_no_reason"})
#: the per-expert table's column holding the row's panel findings (kept with the table in the workbook)
NOTE_COLUMN = "核查说明"
NOTE_SEPARATOR = "\n"


def provenance(n: int) -> str:
    return PROVENANCE.format(n=n)


def apply_panel(project: Project, merged: PanelMerge, source: str | None = None) -> Project:
    """A new project whose judged indicators carry the panel score and reasons (see the module docstring).
    Findings of an earlier panel applied to `project` are replaced."""
    frame = project.indicators.copy()
    index = frame.index[merged.frame.index.to_numpy()]
    m = merged.frame
    n = len(merged.experts)
    tag = provenance(n)
    deduction = np.round(m["weight"].to_numpy() - m["score"].to_numpy(), 10)
    for column in ("method", "deduction_reason"):
        frame[column] = frame[column].astype(object)
    frame.loc[index, "method"] = "manual"
    frame.loc[index, "deduction"] = np.where(np.abs(deduction) < 1e-9, 0.0, deduction)
    frame.loc[index, "deduction_reason"] = [f"{tag}：{r}" if r else tag for r in m["reason"]]
    experts = "、".join(merged.labels.get(e, e) for e in merged.experts)
    info = dict(project.info)
    info[INFO_KEY] = f"{n}位专家（{experts}）独立评分，{len(m)}项指标取{merged.rule_label}"
    flagged = m.loc[m["disagreement"], "name"].tolist()
    info["专家组意见分歧"] = "、".join(flagged) if flagged else "无"
    file = str(source or project.source or project.id)
    panel_problems = tuple(
        Problem(file, "指标", _row(f.where), "指标名称", None, f.message, f.code, f.severity)
        for f in merged.findings.itertuples())
    kept = tuple(p for p in project.sheet_findings if p.code not in PANEL_CODES)
    return project.replace(indicators=frame, info=info, sheet_findings=kept + panel_problems)


def panel_findings_from_table(table: pd.DataFrame, file: str, sheet: str = "专家组评分") -> tuple[Problem, ...]:
    """The panel findings written with the table (its 核查说明 column) as located problems, so a merged
    workbook read back lists the same disagreements (`save_project` writes the table, `load_project` reads it)."""
    if table is None or NOTE_COLUMN not in table:
        return ()
    out = []
    for rec in table.to_dict(orient="records"):
        for message in str(rec.get(NOTE_COLUMN) or "").split(NOTE_SEPARATOR):
            if message.strip():
                code = "panel_disagreement" if "意见分歧" in message else "panel_no_reason"
                row = rec.get("指标表行号")
                out.append(Problem(file, "指标", int(row) if pd.notna(row) else None, "指标名称", None,
                                   message.strip(), code, "warning"))
    return tuple(out)


def _row(where: str) -> int | None:
    digits = "".join(ch for ch in where if ch.isdigit())
    return int(digits) if digits else None


@dataclass(frozen=True)
class PanelResult:
    """A panel merged into its project.

    `project`: the project with the panel scores (evaluate it, save it, report it); `base`: the project as
    it was; `panel`: the sheets as read; `merged`: the merge (`merged.frame`, `merged.findings`);
    `scheme` / `options`: what the merge used."""

    project: Project
    base: Project
    panel: PanelSheets
    merged: PanelMerge
    scheme: Scheme
    options: ScoringOptions

    @property
    def findings(self) -> pd.DataFrame:
        return self.merged.findings

    @property
    def table(self) -> pd.DataFrame:
        """Per-expert table for the report: one row per judged indicator (指标表行号, 指标名称, 分值), one column
        per expert (labelled 'E01 王建国'), then 专家组得分, 极差, 标准差 and 意见分歧 (是/'')."""
        return panel_table(self.panel, self.merged)

    def evaluate(self) -> Evaluation:
        return evaluate(self.project, self.scheme, self.options)

    def what_if(self, exclude: Sequence[str] = (), rule: str | None = None) -> PanelResult:
        """The same panel merged again without the experts in `exclude` and/or under another rule."""
        return panel_result(self.base, self.panel, self.scheme, self.options, exclude=exclude, rule=rule)


def panel_table(panel: PanelSheets, merged: PanelMerge) -> pd.DataFrame:
    m = merged.frame
    out = pd.DataFrame({"指标表行号": m["row"].astype(int), "指标名称": m["name"], "分值": m["weight"]}, index=m.index)
    for e in panel.scores.columns:
        out[panel.labels.get(e, e)] = panel.scores[e]
    out["专家组得分"] = m["score"]
    out["极差"] = m["range"]
    out["标准差"] = m["std"].round(4)
    out["意见分歧"] = np.where(m["disagreement"], "是", "")
    out["扣分理由（合并）"] = m["reason"]
    notes: dict[int, list[str]] = {}
    for f in merged.findings.itertuples():
        notes.setdefault(_row(f.where), []).append(f.message)
    out[NOTE_COLUMN] = [NOTE_SEPARATOR.join(notes.get(int(r), [])) for r in m["row"]]
    return out.reset_index(drop=True)


def _setup(project: Project, scheme: str | Path | Scheme | None,
           options: ScoringOptions | dict | None) -> tuple[Scheme, ScoringOptions]:
    chosen = load_scheme(scheme if scheme is not None else project.scheme_id)
    if options is None:
        return chosen, chosen.options
    if isinstance(options, ScoringOptions):
        return chosen, options
    return chosen, chosen.options.updated(**options)


def panel_result(project: Project, panel: PanelSheets, scheme: str | Path | Scheme | None = None,
                 options: ScoringOptions | dict | None = None, exclude: Sequence[str] = (),
                 rule: str | None = None) -> PanelResult:
    """Merge `panel` (already read) into `project`."""
    chosen, opts = _setup(project, scheme, options)
    merged = merge_panel(panel, opts, exclude, rule)
    applied = apply_panel(project, merged).replace(panel=panel_table(panel, merged))
    return PanelResult(applied, project, panel, merged, chosen, opts)


def merge_sheets(project: Project, paths: Sequence[str | Path], scheme: str | Path | Scheme | None = None,
                 options: ScoringOptions | dict | None = None) -> PanelResult:
    """Read the expert sheets (`SheetError` with every located problem) and merge them into `project`."""
    chosen, opts = _setup(project, scheme, options)
    panel = read_panel(project, paths, chosen)
    return panel_result(project, panel, chosen, opts)
