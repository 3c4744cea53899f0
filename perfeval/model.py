"""The validated project: what every later stage trusts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from perfeval.errors import Problem
from perfeval.notation import plain_text
from perfeval.rules import indicator_rules, resolve_method

#: columns of `Project.indicators`, in order
INDICATOR_COLUMNS = (
    "row", "level1", "level2", "level3", "name", "weight", "target", "actual", "method",
    "stated_score", "deduction", "deduction_reason", "reason", "measure", "evidence", "data_source",
)
TEXT_COLUMNS = ("level1", "level2", "level3", "name", "target", "actual", "method",
                "deduction_reason", "reason", "measure", "evidence", "data_source")
#: columns of `Project.stated`
STATED_COLUMNS = ("item", "value", "text", "where")



@dataclass(frozen=True)
class Project:
    """One funded project after validation. Amounts are in 万元; texts are as written."""

    id: str
    name: str
    department: str
    unit: str
    year: int
    method: str
    scheme_id: str  # what `load_scheme` takes: a built-in id or a scheme file's path
    budget: float
    allocated: float
    spent: float
    funding: dict[str, float] = field(default_factory=dict)
    indicators: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=INDICATOR_COLUMNS))
    stated: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=STATED_COLUMNS))
    narrative: dict[str, str] = field(default_factory=dict)
    source: Path | None = None
    sha256: str | None = None
    info: dict[str, str] = field(default_factory=dict)
    #: what is wrong with the table as written but did not stop it being read (weights that do not
    #: match the scheme, a repeated indicator row …): located problems with an auditable `code`,
    #: reported as error findings by `evaluate` (`load_project(strict=True)` refuses such a table)
    sheet_findings: tuple[Problem, ...] = ()
    #: the evidence ledger is used: the 指标 sheet has a 证据编号 column or the workbook a 佐证材料 sheet
    #: (`perfeval.evidence` checks evidence only then)
    ledger: bool = False
    #: the 佐证材料 sheet (columns id, name, source, date, row); None when the workbook has none
    materials: pd.DataFrame | None = None
    #: the expert panel's per-expert table (专家组评分 sheet, `perfeval.panel`): one row per judged indicator
    #: (指标表行号, 指标名称, 分值, one column per expert, 专家组得分, 极差, 标准差, 意见分歧, 扣分理由（合并）,
    #: 核查说明); None when the project was not scored by a panel
    panel: pd.DataFrame | None = None

    @property
    def rules(self) -> np.ndarray:
        """The rule id of each row of `indicators` (`perfeval.rules.indicator_rules`: the 评分方法 as written, else
        the rule its texts imply), worked out once and kept with the project (read-only). A what-if edit builds a
        new Project (`with_indicator`, `replace`), whose rules are worked out afresh; `evaluate` fills them for
        many projects in one pass (`keep_rules`)."""
        known = known_rules(self)
        if known is None:
            known = keep_rules(self, indicator_rules(self.indicators))
        return known

    def replace(self, **changes: object) -> Project:
        """A copy with some fields changed (projects are never mutated)."""
        return replace(self, **changes)

    def with_indicator(self, index: int, **values: object) -> Project:
        """A copy with one indicator row's columns changed (e.g. actual="23人", weight=5)."""
        frame = self.indicators.copy()
        for column, value in values.items():
            if column not in frame.columns:
                raise KeyError(column)
            if column in TEXT_COLUMNS:
                value = plain_text(value)
                if column == "method":
                    value = resolve_method(value) or ""
                frame[column] = frame[column].astype(object)
            else:
                value = float(value)
            frame.loc[index, column] = value
        return replace(self, indicators=frame)



_RULES = "_rules_of_indicators"  # where a Project keeps (its indicators frame, their rules); not a dataclass field


def known_rules(project: Project) -> np.ndarray | None:
    """The rules kept with `project` for its current indicators frame; None when not yet worked out."""
    kept = project.__dict__.get(_RULES)
    return kept[1] if kept is not None and kept[0] is project.indicators else None


def keep_rules(project: Project, rules: np.ndarray, *, checked: bool = True) -> np.ndarray:
    """Keep `rules` (`indicator_rules(project.indicators)`, e.g. a slice of a stacked portfolio's) with `project`:
    a cache beside the frozen fields, so `dataclasses.replace` and equality ignore it. Returns them read-only.
    `checked=False` skips the length check (for a caller that sliced them by the frame's own length)."""
    if checked:
        rules = np.array(rules, dtype=object)
        if len(rules) != len(project.indicators):
            raise ValueError(f"{len(rules)} rules for {len(project.indicators)} indicators")
    rules.flags.writeable = False
    object.__setattr__(project, _RULES, (project.indicators, rules))
    return rules


def keep_rules_in_runs(projects: Sequence[Project], rules: np.ndarray, bounds: Sequence[int]) -> None:
    """`keep_rules(projects[k], rules[bounds[k]:bounds[k + 1]], checked=False)` for every k, in one pass: `rules`
    (a new array, the rows of the projects' indicators one project after the other) is made read-only once, and
    each project keeps its run of it (a portfolio has 10⁴ projects)."""
    rules.flags.writeable = False
    for project, start, stop in zip(projects, bounds[:-1], bounds[1:], strict=True):
        object.__setattr__(project, _RULES, (project.indicators, rules[start:stop]))
