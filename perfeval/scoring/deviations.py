"""Deviations, defined once: which indicators deviate, in which direction, and whether the
deviation is explained.

Used identically by the report's 五 (its text and 表3) and by the audit's `unexplained_deviation`
check, so the two always count the same indicators.

- An indicator **deviates** when it lost points or did not meet its target (its scoring fraction is
  below 1). A favourable result — 满意度 93.5% against ≥90%, a cost under its ceiling, 0 points
  lost — is not a deviation, however far it is from the target.
- **Explained** means a filled 偏差原因 or 扣分原因.
- The funds rows (预算执行率, 资金到位率) deviate like any other, but the 自评表 gives them no reason
  cell: their explanation is the report's budget paragraph, so they are never counted unexplained.
- **偏差率** of an indicator is (实际完成值 − 指标值) / |指标值|, signed: negative below the target,
  positive above it (`signed_pct` writes it the same way everywhere). The budget's own 偏差率
  (1 − 预算执行率) is a different figure and is labelled as such where it is stated.

Works on the indicator frame of one project or of many at once (vectorised).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from perfeval.display import half_up, signed_pct  # noqa: F401  (one formatter, re-exported here)
from perfeval.notation import distinct_rows

FUNDS_RULES = ("execution", "arrival")
#: words that mark a cost indicator (lower is better: a ceiling)
COST_WORDS = ("成本", "费用", "单价", "造价")
#: words that mark money coming in (an income target is a floor, not a cost ceiling)
INCOME_WORDS = ("收入", "增收", "营收", "效益", "产值", "销售额")

#: direction of an indicator, shown in the narrative
DIRECTIONS = ("正向", "反向", "成本", "等于", "区间", "零目标", "时效", "定性", "评价", "资金")


def _text(series: pd.Series) -> pd.Series:
    """series.fillna("").astype(str).str.strip(), worked out once per distinct value."""
    values = series.to_numpy(dtype=object)
    codes, first = distinct_rows(values)
    table = pd.Series(values[first], dtype=object).fillna("").astype(str).str.strip()
    return pd.Series(table.to_numpy(dtype=object)[codes], index=series.index, dtype=table.dtype)


def _per_row(func, *columns: pd.Series) -> np.ndarray:
    """func(*values) per row as a bool array, called once per distinct combination of the columns' values."""
    arrays = [c.to_numpy(dtype=object) for c in columns]
    codes, first = distinct_rows(*arrays)
    table = np.array([bool(func(*(a[i] for a in arrays))) for i in first], dtype=bool)
    return table[codes]


def _filled(value: object) -> bool:
    """A cell that is not blank once stripped (what `_text(...) != ""` tells)."""
    return not pd.isna(value) and str(value).strip() != ""


def tolerance(decimals: int) -> float:
    """Points below this are rounding noise at the scheme's score precision."""
    return 0.5 * 10.0 ** -decimals


def is_cost(ind: pd.DataFrame) -> pd.Series:
    """Cost indicators: in a 成本 group or named as a cost, not an income, not a rate."""
    level2, level3, name = (_text(ind[c]) for c in ("level2", "level3", "name"))

    def cost(a: str, b: str, n: str) -> bool:
        group = a + b
        return (("成本" in group or any(w in n for w in COST_WORDS))
                and not any(w in group + n for w in INCOME_WORDS) and "率" not in n)

    return pd.Series(_per_row(cost, level2, level3, name), index=ind.index)


def direction(ind: pd.DataFrame) -> pd.Series:
    """正向 / 反向 / 成本 / 等于 / 区间 / 零目标 / 时效 / 定性 / 评价 / 资金 per indicator."""
    rule = ind["rule"].to_numpy()
    cost = is_cost(ind).to_numpy()
    out = np.select(
        [rule == "positive", (rule == "negative") & cost, rule == "negative", rule == "exact",
         rule == "range", rule == "zero", rule == "deadline", rule == "qualitative",
         np.isin(rule, ("manual", "checklist")), np.isin(rule, FUNDS_RULES)],
        ["正向", "成本", "反向", "等于", "区间", "零目标", "时效", "定性", "评价", "资金"], default="评价")
    return pd.Series(out, index=ind.index, dtype=object)


def _flags(ind: pd.DataFrame, decimals: int) -> dict[str, pd.Series]:
    """met, deviating, explained, reason_expected, unexplained per indicator (same index as `ind`)."""
    tol = tolerance(decimals)
    weight = ind["weight"].astype(float).fillna(0.0)
    lost = ind["lost"].astype(float).fillna(0.0) > tol
    fraction = ind["fraction"].astype(float)
    short = (fraction < 1 - 1e-9) & (weight > 0)
    deviating = lost | short
    explained = pd.Series(_per_row(lambda a, b: _filled(a) or _filled(b), ind["reason"], ind["deduction_reason"]),
                          index=ind.index)
    codes, first = distinct_rows(ind["rule"])  # Series.isin, once per distinct rule
    reason_expected = pd.Series(~ind["rule"].iloc[first].isin(FUNDS_RULES).to_numpy()[codes], index=ind.index,
                                name=ind["rule"].name)
    return {"met": ~deviating, "deviating": deviating, "explained": explained, "reason_expected": reason_expected,
            "unexplained": deviating & reason_expected & ~explained}


def classify(ind: pd.DataFrame, decimals: int) -> pd.DataFrame:
    """Per indicator (same index as `ind`): direction, met, deviating, explained, reason_expected,
    unexplained."""
    return pd.DataFrame({"direction": direction(ind), **_flags(ind, decimals)}, index=ind.index)


def unexplained(ind: pd.DataFrame, decimals: int) -> pd.Series:
    """`classify(ind, decimals)["unexplained"]` without working out the directions."""
    return _flags(ind, decimals)["unexplained"]


def deviating(ind: pd.DataFrame, decimals: int, funds: bool = False) -> pd.DataFrame:
    """The deviating indicators with their classification columns; funds rows only if `funds`."""
    c = classify(ind, decimals)
    keep = c["deviating"] & (funds | c["reason_expected"])
    return ind[keep].join(c[keep].drop(columns=[x for x in c.columns if x in ind.columns]))


