"""What perfeval understood a target or actual cell to say — shown wherever a score is shown.

An evaluator signs what perfeval prints, so every value that changes a score is shown back as it
was read: operator, value and unit after conversion (`≥3.6万人次` → "≥36,000 人次", `0.5亿元` →
"5,000 万元", a bare 0.96 under a % target → "96%", a deadline → "2024-12-31 前"), the level a
qualitative actual was classified to, the 扣分 a manual rule used, or "无法识别「…」" when a number
was needed and none could be read. `perfeval score`, the report's 附表 and the workbench all call
`understood` on `Evaluation.indicators`, so they cannot disagree.

Pure functions; the frame version formats each distinct combination of parsed values once.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from perfeval.display import finite, fmt_amount, fmt_pct, fmt_read
from perfeval.notation import UNIT_SCALES, normalise, parse_value, unit_factor

if TYPE_CHECKING:
    from perfeval.scoring.evaluate import Evaluation

#: the unit the notation reader gives dates (value = proleptic ordinal day)
DATE_UNIT = "日期"
#: money is shown in 万元, perfeval's amount unit
MONEY_UNIT = "万元"
#: rules scored by comparing a number with the target
NUMBER_RULES = frozenset({"positive", "negative", "exact", "range", "zero"})
#: rules whose fraction comes from the project's funds, not from the row's actual cell
FUNDS_RULES = {"execution": ("执行率", "执行数"), "arrival": ("到位率", "到位数")}
UNREADABLE = "无法识别"
NOT_FILLED = "未填写"
UNCLASSIFIED = "无法判断"
#: output columns of `understood`
COLUMNS = ("target_understood", "actual_understood", "understood")


# ---------------------------------------------------------------- single values

_finite = finite
#: a number as read (thousands separators, up to six significant digits): perfeval.display.fmt_read
fmt_number = fmt_read


def fmt_date(ordinal: object) -> str:
    """A proleptic ordinal day as 'YYYY-MM-DD' ('—' when it is not a day)."""
    if not _finite(ordinal):
        return "—"
    day = int(float(ordinal))  # type: ignore[arg-type]
    if not 1 <= day <= dt.date.max.toordinal():
        return "—"
    return dt.date.fromordinal(day).isoformat()


def fmt_quantity(value: object, unit: str) -> str:
    """A value with its unit as perfeval reads it: '96%', '36,500 人次', money in 万元
    ('0.5亿元' → '5,000 万元'; amounts under 1 万元 in 元: '75 元'), dates as days."""
    unit = unit or ""
    if unit == DATE_UNIT:
        return fmt_date(value)
    if unit in UNIT_SCALES and unit != MONEY_UNIT and _finite(value):
        value, unit = float(value) * UNIT_SCALES[unit][1], MONEY_UNIT  # type: ignore[arg-type]
    if unit == MONEY_UNIT:
        return fmt_amount(value)  # 75 元, not 0.0075 万元
    number = fmt_number(value)
    if not unit or number == "—":
        return number
    return f"{number}%" if unit == "%" else f"{number} {unit}"


_DATE_OPS = {"≤": "{} 前", "<": "{} 前（不含当日）", "≥": "{} 后", ">": "{} 后（不含当日）", "=": "{}"}


def fmt_operated(op: object, value: object, unit: str) -> str:
    """An operator with its value: '≥36,000 人次', '=100%', '2024-12-31 前'."""
    op = op if isinstance(op, str) and op != "range" else ""
    if unit == DATE_UNIT:
        return _DATE_OPS.get(op, "{}").format(fmt_date(value))
    return f"{op}{fmt_quantity(value, unit)}"


def fmt_range(low: object, high: object, unit: str) -> str:
    """'80%–90%', '3–5 个', '2024-07-01 至 2024-09-30'."""
    if unit == DATE_UNIT:
        return f"{fmt_date(low)} 至 {fmt_date(high)}"
    if unit in UNIT_SCALES:
        return f"{fmt_quantity(low, unit).removesuffix(' ' + MONEY_UNIT)}–{fmt_quantity(high, unit)}"
    if unit == "%":
        return f"{fmt_quantity(low, unit)}–{fmt_quantity(high, unit)}"
    return f"{fmt_number(low)}–{fmt_quantity(high, unit)}"


def fmt_checklist(done: object, total: object) -> str:
    """A checklist count: '4/5 项'."""
    return f"{fmt_number(done)}/{fmt_number(total)} 项"


def fmt_rate(rate: object) -> str:
    """A fraction as a percentage with up to two decimals: 0.955768 → '95.58%'."""
    return fmt_pct(rate, 2)


def unreadable(text: object) -> str:
    shown = normalise(text)
    return f"{UNREADABLE}「{shown}」" if shown else UNREADABLE


# ---------------------------------------------------------------- one row

class Row(NamedTuple):
    """The parsed columns of one evaluated indicator that its reading depends on (NaN as None)."""

    rule: str
    target_kind: str
    target_op: str | None
    target_value: float | None
    target_low: float | None
    target_high: float | None
    target_unit: str
    target: str
    actual_kind: str
    actual_value: float | None
    actual_unit: str
    actual: str
    qualitative_level: str | None
    deduction: float | None
    completion: float | None


def target_reading(r: Row) -> str:
    """The target as understood ('' when the row has none)."""
    kind, unit = r.target_kind, r.target_unit or ""
    if kind == "empty":
        return ""
    if kind == "range":
        return fmt_range(r.target_low, r.target_high, unit)
    if kind == "checklist":
        return fmt_checklist(r.target_low, r.target_high)
    if kind in ("number", "date"):
        return fmt_operated(r.target_op, r.target_value, DATE_UNIT if kind == "date" else unit)
    if kind == "invalid":
        return unreadable(r.target)
    return normalise(r.target)


def _actual_unit(r: Row) -> str:
    """The unit `actual_value` is in: `evaluate` converts a compatible actual (万元 ↔ 元 ↔ 亿元, a
    bare number) into the target's unit and leaves an incompatible one as written."""
    a, t = r.actual_unit or "", r.target_unit or ""
    if r.actual_kind == "date" or a == DATE_UNIT:
        return DATE_UNIT
    if not a:
        return t if r.target_kind in ("number", "range") else ""
    if t and a != t and unit_factor(a, t) is not None:
        return t
    return a


def _measured(r: Row) -> str:
    """A numeric actual as understood, by what was parsed."""
    kind = r.actual_kind
    if kind == "empty":
        return NOT_FILLED
    if kind in ("number", "date"):
        return fmt_quantity(r.actual_value, _actual_unit(r))
    if kind == "checklist":
        parsed = parse_value(normalise(r.actual))
        return fmt_checklist(parsed.low, parsed.high)
    if kind == "range":
        parsed = parse_value(normalise(r.actual))
        return fmt_range(parsed.low, parsed.high, parsed.unit)
    return unreadable(r.actual)


def _funds(r: Row, denominator: str) -> tuple[str, str]:
    """('执行率 95.58%', '（执行数/预算数）'): a funds rule scores the rate from the amounts."""
    name, numerator = FUNDS_RULES[r.rule]
    base = denominator if r.rule == "execution" else "预算数"
    return f"{name} {fmt_rate(r.completion)}", f"（{numerator}/{base}）"


def actual_reading(r: Row, denominator: str = "预算数") -> str:
    """The actual as understood, by the rule that scores it."""
    if r.rule == "manual":
        return "未扣分" if not r.deduction else f"扣 {fmt_number(r.deduction)} 分"
    if r.rule in FUNDS_RULES:
        return "".join(_funds(r, denominator))
    if r.rule == "qualitative":
        if r.actual_kind == "empty":
            return NOT_FILLED
        return f"判定为「{r.qualitative_level}」" if r.qualitative_level else UNCLASSIFIED
    if r.rule in NUMBER_RULES or r.rule == "checklist" or r.actual_kind not in ("text",):
        return _measured(r)
    return normalise(r.actual)


def combined_reading(r: Row, denominator: str = "预算数", sep: str = "；") -> str:
    """One cell for the report: '目标 ≥36,000 人次；实际 36,500 人次' (funds, manual and
    qualitative rules: the actual's reading alone)."""
    if r.rule in FUNDS_RULES:
        rate, basis = _funds(r, denominator)
        return f"{rate}\n{basis}" if sep == "\n" else rate + basis
    actual = actual_reading(r, denominator)
    if r.rule in ("manual", "qualitative"):
        return actual
    if r.rule == "checklist" and r.target_kind == "empty":
        return f"完成 {actual}" + (f"{sep}扣 {fmt_number(r.deduction)} 分" if r.deduction else "")
    return f"目标 {target_reading(r) or '—'}{sep}实际 {actual}"


# ---------------------------------------------------------------- frames

def _cell(x: object) -> Hashable:
    """A hashable key part: NaN and None both become None (NaN never equals itself)."""
    if x is None:
        return None
    if isinstance(x, float | np.floating):
        return None if math.isnan(x) else float(x)
    return x


def _column(frame: pd.DataFrame, name: str, default: object) -> np.ndarray:
    if name in frame.columns:
        return frame[name].to_numpy(dtype=object)
    return np.full(len(frame), default, dtype=object)


def rows_of(frame: pd.DataFrame) -> list[Row]:
    """The `Row` of each indicator of an evaluated frame (`Evaluation.indicators`)."""
    defaults = {"target_unit": "", "actual_unit": "", "target": "", "actual": "", "target_op": None,
                "qualitative_level": None, "deduction": None, "completion": None}
    columns = [_column(frame, f, defaults.get(f)) for f in Row._fields]
    return [Row(*(_cell(x) for x in values)) for values in zip(*columns, strict=True)]


def understood(frame: pd.DataFrame, denominator: str = "预算数", sep: str = "；") -> pd.DataFrame:
    """target_understood, actual_understood and the combined `understood` for each indicator row
    (index kept); `denominator` names the 预算执行率 denominator (`Budget.denominator_label`),
    `sep` separates target and actual in the combined text."""
    rows = rows_of(frame)
    table = {r: (target_reading(r), actual_reading(r, denominator), combined_reading(r, denominator, sep))
             for r in set(rows)}
    values = [table[r] for r in rows]
    return pd.DataFrame(values or None, columns=list(COLUMNS), index=frame.index, dtype=object)


def for_evaluation(ev: Evaluation, sep: str = "；") -> pd.DataFrame:
    """`understood` of an `Evaluation`'s indicators, with its execution-rate denominator."""
    return understood(ev.indicators, ev.budget.denominator_label, sep)
