"""Scoring rules: pure, vectorised functions over an indicator frame.

Notation (domain notes §7): a = 实际完成值, t = 年度指标值, W = 分值.
Every rule yields a *fraction* of W in [0, 1]; `score_frame` multiplies, rounds and clamps,
so a score never exceeds its weight nor goes below 0. The frame may hold the indicators of
many projects at once — nothing here loops over rows.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from perfeval.deadline import read_status
from perfeval.notation import Measure, distinct_rows, normalise, parse_value
from perfeval.scheme import QualitativeScale, ScoringOptions

#: rule id -> Chinese name shown to users
RULE_LABELS: dict[str, str] = {
    "positive": "正向",
    "negative": "反向",
    "exact": "等于",
    "range": "区间",
    "zero": "零目标",
    "qualitative": "定性",
    "manual": "扣分",
    "checklist": "评价要点",
    "execution": "预算执行率",
    "arrival": "资金到位率",
    "deadline": "时效",
}
#: spellings accepted in the 评分方法 column
METHOD_ALIASES: dict[str, str] = {
    "正向": "positive", "正向指标": "positive", "越高越好": "positive", "比率": "positive",
    "完成率": "positive", "定量": "positive",
    "反向": "negative", "反向指标": "negative", "越低越好": "negative",
    "等于": "exact", "精确": "exact", "等值": "exact",
    "区间": "range", "范围": "range",
    "零目标": "zero", "零容忍": "zero",
    "定性": "qualitative", "等级": "qualitative", "定性评价": "qualitative", "分档": "qualitative",
    "扣分": "manual", "扣分制": "manual", "评价打分": "manual", "人工评分": "manual",
    "专家评分": "manual", "评分": "manual", "打分": "manual",
    "评价要点": "checklist", "要点": "checklist", "清单": "checklist", "检查要点": "checklist",
    "预算执行率": "execution", "执行率": "execution",
    "资金到位率": "arrival", "到位率": "arrival",
    "时效": "deadline", "时限": "deadline", "完成时限": "deadline", "按期": "deadline", "按时": "deadline",
    "时效性": "deadline", "时效指标": "deadline", "期限": "deadline",
}
METHOD_ALIASES.update({rule: rule for rule in RULE_LABELS})
METHOD_ALIASES.update({label: rule for rule, label in RULE_LABELS.items()})

RULES_NEEDING_TARGET = frozenset({"positive", "negative", "exact", "range", "zero", "qualitative", "deadline"})
NUMERIC_RULES = frozenset({"positive", "negative", "exact", "range", "zero"})
RULES_NEEDING_ACTUAL = frozenset({"positive", "negative", "exact", "range", "zero", "qualitative",
                                  "checklist", "deadline"})


def resolve_method(value: object) -> str | None:
    """The rule id for a 评分方法 cell; None when blank (the rule is then inferred)."""
    text = normalise(value).replace(" ", "")
    if text in ("", "—", "-", "/", "*"):
        return None
    if text in METHOD_ALIASES:
        return METHOD_ALIASES[text]
    known = "、".join(RULE_LABELS.values())
    raise ValueError(f"未知的评分方法；应为 {known} 之一，或留空按指标值自动判断")


def infer_rule(name: str, level3: str, target: Measure, actual: Measure) -> str:
    """The rule the operator implies when the sheet names none."""
    label = f"{level3}{name}"
    if "预算执行率" in label or "资金执行率" in label:
        return "execution"
    if "资金到位率" in label:
        return "arrival"
    if target.kind == "date":
        return "deadline"
    if target.kind == "range":
        return "range"
    if target.kind == "number":
        if target.op in ("≤", "<"):
            return "zero" if target.value == 0 else "negative"
        if target.op == "=" and target.value == 0:
            return "zero"
        if target.op in ("≥", ">"):
            return "positive"
        return "exact"
    if target.kind == "text":
        return "qualitative"
    if actual.kind == "checklist":
        return "checklist"
    return "manual"


@lru_cache(maxsize=1 << 16)
def rule_of(name: str, level3: str, target: str, actual: str) -> str:
    """The inferred rule of an indicator written as these texts (name, 三级指标, 指标值, 实际完成值): worked out once
    per distinct combination in a process, so validation infers it and scoring takes the same answer; an
    edited target or actual (a what-if) is a different combination and is inferred afresh."""
    return infer_rule(name, level3, parse_value(target), parse_value(actual))


#: the columns an indicator's rule is worked out from (the explicit 评分方法, else inferred from the others)
RULE_KEYS = ("method", "name", "level3", "target", "actual")


def indicator_rules(frame: pd.DataFrame) -> np.ndarray:
    """The rule id of each row of an indicator frame (`Project.indicators`, or many projects' stacked): the
    explicit 评分方法 where there is one, else the rule its name, 三级指标, 指标值 and 实际完成值 imply
    (`rule_of`, once per distinct combination). An object array in row order."""
    explicit = frame["method"].fillna("").to_numpy(dtype=object) if "method" in frame \
        else np.full(len(frame), "", dtype=object)
    rules = explicit.copy()
    need = np.flatnonzero(explicit == "")
    if not len(need):
        return rules
    keys = [frame[c].to_numpy(dtype=object)[need] for c in ("name", "level3", "target", "actual")]
    codes, first = distinct_rows(*keys)
    inferred = np.empty(len(first), dtype=object)
    inferred[:] = [rule_of(*(k[i] for k in keys)) for i in first]  # validation inferred them: cached
    rules[need] = inferred[codes]
    return rules


def classify_text(text: str, target_text: str, scale: QualitativeScale) -> str | None:
    """The qualitative level of an actual-value text (None when it cannot be told)."""
    text = normalise(text)
    if not text:
        return None
    levels = list(scale.fractions)
    if text == normalise(target_text) or text in levels:
        return levels[0] if text == normalise(target_text) else text
    for level, words in scale.keywords.items():
        for word in words:
            if (len(word) == 1 and text == word) or (len(word) > 1 and word in text):
                return level
    return None


def qualitative_fractions(actual: pd.Series, target: pd.Series, scale: QualitativeScale,
                          mask: np.ndarray | None = None) -> tuple[pd.Series, pd.Series]:
    """(level, fraction) per row (rows outside `mask` get None/NaN); each distinct
    (actual, target) pair is classified once."""
    rows = np.flatnonzero(mask) if mask is not None else np.arange(len(actual))
    texts, targets = actual.to_numpy()[rows], target.to_numpy()[rows]
    codes, first = distinct_rows(texts, targets)
    levels = np.empty(len(first), dtype=object)
    levels[:] = [classify_text(texts[i], targets[i], scale) for i in first]
    values = np.full(len(actual), None, dtype=object)
    values[rows] = levels[codes]
    level = pd.Series(values, index=actual.index, dtype=object)
    fractions = np.full(len(actual), np.nan)
    fractions[rows] = pd.Series(levels, dtype=object).map(scale.fractions).to_numpy(dtype=float)[codes]
    return level, pd.Series(fractions, index=actual.index)


def deadline_status(actual: pd.Series, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(status, months late) per row from completion texts (按期完成, 延期2个月 …), each distinct
    text read once; rows outside `mask` or saying nothing about timing get '' / NaN."""
    rows = np.flatnonzero(mask)
    texts = actual.to_numpy()[rows]
    codes, first = distinct_rows(texts)
    read = [read_status(normalise(texts[i])) for i in first]
    status = np.full(len(actual), "", dtype=object)
    months = np.full(len(actual), np.nan)
    table = np.empty(len(first), dtype=object)
    table[:] = [r[0] if r else "" for r in read]
    status[rows] = table[codes]
    months[rows] = np.array([r[1] if r else np.nan for r in read], dtype=float)[codes]
    return status, months


def deadline_fractions(frame: pd.DataFrame, options: ScoringOptions, rule: np.ndarray,
                       rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """时效: on time -> 1; late by m months -> 1 − m × late_deduction_per_month (``per_month``) or 0
    (``zero``); late by an unstated delay -> late_unknown_fraction (``per_month``) or 0; not completed
    -> 0. Dates are day ordinals: target_value is the deadline (the last day its text allows),
    actual_value the completion (the first day its text allows). Returns fraction (NaN where the
    actual says nothing about timing), status, late_days and late_months. `rows`: where rule is "deadline", when
    the caller knows."""
    if rows is None:
        rows = np.flatnonzero(rule == "deadline")  # worked out for these rows only: the others say nothing
    a = frame["actual_value"].to_numpy(dtype=float)[rows]
    t = frame["target_value"].to_numpy(dtype=float)[rows]
    dated = (frame["actual_kind"].to_numpy()[rows] == "date") & np.isfinite(a) & np.isfinite(t)
    status, months = deadline_status(frame["actual"].iloc[rows], ~dated)
    with np.errstate(invalid="ignore"):
        days = np.where(dated, a - t, np.nan)
        status = np.where(dated, np.where(days <= 0, "on_time", "late"), status)
        months = np.where(dated, np.where(days > 0, np.ceil(days / 30.0), 0.0), months)
    if options.late_rule == "zero":
        late = np.zeros(len(a))
    else:
        late = np.where(np.isnan(months), options.late_unknown_fraction,
                        _clamp(1.0 - months * options.late_deduction_per_month))
    fraction = np.select([status == "on_time", status == "late", status == "missed"], [1.0, late, 0.0],
                         default=np.nan)
    out = {"fraction": np.full(len(rule), np.nan), "status": np.full(len(rule), "", dtype=object),
           "late_days": np.full(len(rule), np.nan), "late_months": np.full(len(rule), np.nan)}
    out["fraction"][rows], out["status"][rows], out["late_months"][rows] = fraction, status, months
    out["late_days"][rows] = np.where(dated & (days > 0), days, np.where(dated, 0.0, np.nan))
    return out


def round_scores(values: np.ndarray | pd.Series, mode: str, decimals: int | np.ndarray) -> np.ndarray:
    """Round non-negative scores: half_up (四舍五入, the field's default), half_even, truncate.
    `decimals` may be one per value (a stated score held to the precision it was written with)."""
    x = np.asarray(values, dtype=float)
    scale = 10.0 ** decimals
    scaled = np.round(x * scale, 6)  # kill binary noise such as 9.5549999999
    if mode == "half_up":
        return np.floor(scaled + 0.5) / scale
    if mode == "truncate":
        return np.floor(scaled) / scale
    return np.round(scaled) / scale


def _clamp(x: np.ndarray) -> np.ndarray:
    return np.clip(np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)


def _coded_names(column: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the column of rule ids as objects, a code per row, the row holding each code first): rows are compared
    with a rule id through their codes (`_rule_masks`), once per distinct rule."""
    values = column.to_numpy(dtype=object)
    codes, first = distinct_rows(values)
    return values, codes, first


def fractions(frame: pd.DataFrame, options: ScoringOptions, scale: QualitativeScale) -> pd.DataFrame:
    """Fraction of W each indicator earns, with completion (a/t) and deviation ((a−t)/t).

    For 时效 (deadline) rows completion and deviation are NaN (a date has no ratio); late_days (days
    after the deadline, 0 when on time, NaN when the actual is not a date) and late_months (whole
    months late, 不足一个月按一个月计; NaN when not stated) say how late.

    Required columns: weight, rule, target_value, target_low, target_high, actual_value,
    actual_kind, actual, target, deduction, execution_rate, arrival_rate.
    """
    return pd.DataFrame(_fraction_columns(frame, options, scale), index=frame.index)


def _rule_masks(rule: np.ndarray, codes: np.ndarray, first: np.ndarray):
    """is_(name): rule == name per row, compared once per distinct rule (a portfolio has a few); `codes` and
    `first` tell the rows' rules apart (`_coded_names`)."""
    names = rule[first]

    def is_(*choices: str) -> np.ndarray:
        hit = np.zeros(len(first), dtype=bool)
        for choice in choices:
            hit |= names == choice
        return hit[codes]

    return is_


def _fraction_columns(frame: pd.DataFrame, options: ScoringOptions, scale: QualitativeScale) -> dict[str, object]:
    """`fractions`' columns. Each rule's fraction is worked out on that rule's rows only (elementwise, as over
    every row and then chosen by rule)."""
    rule, codes, first = _coded_names(frame["rule"])
    is_ = _rule_masks(rule, codes, first)
    w = frame["weight"].to_numpy(dtype=float)
    a = frame["actual_value"].to_numpy(dtype=float)
    t = frame["target_value"].to_numpy(dtype=float)
    lo = frame["target_low"].to_numpy(dtype=float)
    hi = frame["target_high"].to_numpy(dtype=float)
    deduction = np.nan_to_num(frame["deduction"].to_numpy(dtype=float), nan=0.0)
    execution_rate = frame["execution_rate"].to_numpy(dtype=float)
    arrival_rate = frame["arrival_rate"].to_numpy(dtype=float)
    fraction = np.zeros(len(rule))  # a rule not listed here earns 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(t != 0, a / t, np.where(a >= 0, np.inf, 0.0))

        def positive(r):
            return np.where(a[r] >= t[r] - 1e-12, 1.0, _clamp(ratio[r]))

        def negative(r):
            met = a[r] <= t[r] + 1e-12
            if options.negative_rule == "linear":
                return np.where(met, 1.0, _clamp(2.0 - ratio[r]))
            return np.where(met, 1.0, _clamp(np.where(a[r] != 0, t[r] / a[r], 1.0)))

        def exact(r):
            close = np.abs(a[r] - t[r]) <= options.exact_tolerance * np.maximum(np.abs(t[r]), 1.0)
            if options.exact_rule == "symmetric":
                return np.where(close, 1.0, _clamp(1.0 - np.abs(a[r] - t[r]) / np.abs(t[r])))
            return np.where(close | (a[r] > t[r]), 1.0, _clamp(ratio[r]))

        def in_range(r):
            below = _clamp(1.0 - (lo[r] - a[r]) / np.abs(lo[r]))
            above = _clamp(1.0 - (a[r] - hi[r]) / np.abs(hi[r]))
            return np.where(a[r] < lo[r], below, np.where(a[r] > hi[r], above, 1.0))

        def zero(r):
            if options.zero_target_deduction > 0:
                return np.where(a[r] == 0, 1.0, _clamp((w[r] - options.zero_target_deduction * a[r]) / w[r]))
            return np.where(np.abs(a[r]) <= 1e-12, 1.0, 0.0)

        def manual(r):
            return _clamp(np.where(w[r] > 0, (w[r] - deduction[r]) / w[r], 1.0))

        def checklist(r):
            return _clamp(a[r]) * manual(r)

        for name, compute in (("positive", positive), ("negative", negative), ("exact", exact),
                              ("range", in_range), ("zero", zero), ("manual", manual), ("checklist", checklist),
                              ("execution", lambda r: _clamp(execution_rate[r])),
                              ("arrival", lambda r: _clamp(arrival_rate[r]))):
            rows = np.flatnonzero(is_(name))
            if len(rows):
                fraction[rows] = compute(rows)
    timely = deadline_fractions(frame, options, rule, np.flatnonzero(is_("deadline")))
    # a deadline whose actual says nothing about timing ("达成预期指标") is graded as a qualitative text
    is_qualitative, is_deadline = is_("qualitative"), is_("deadline")
    by_text = is_qualitative | (is_deadline & np.isnan(timely["fraction"]))
    qual_level, qual_fraction = qualitative_fractions(frame["actual"], frame["target"], scale, by_text)
    qualitative = np.nan_to_num(qual_fraction.to_numpy(dtype=float), nan=0.0)
    fraction[is_qualitative] = qualitative[is_qualitative]
    fraction[is_deadline] = np.where(np.isnan(timely["fraction"]), qualitative, timely["fraction"])[is_deadline]

    over = is_("positive", "exact") & (t > 0) & (ratio >= options.over_achievement_threshold)
    if options.over_achievement_penalty > 0:
        fraction = np.where(over, fraction - options.over_achievement_penalty, fraction)
    numeric = is_("positive", "negative", "exact", "zero")
    with np.errstate(divide="ignore", invalid="ignore"):
        completion = np.where(numeric & (t != 0), a / t, np.nan)
        deviation = np.where(numeric & (t != 0), (a - t) / np.abs(t), np.nan)
        range_dev = np.where(a < lo, (a - lo) / np.abs(lo), np.where(a > hi, (a - hi) / np.abs(hi), 0.0))
    deviation = np.where(is_("range"), range_dev, deviation)
    for r, value in (("execution", execution_rate), ("arrival", arrival_rate)):
        rows = is_(r)
        completion = np.where(rows, value, completion)
        deviation = np.where(rows, value - 1.0, deviation)
    return {
        "fraction": np.clip(fraction, 0.0, 1.0),
        "completion": completion,
        "deviation": deviation,
        "qualitative_level": qual_level.where(is_qualitative),
        "over_achieved": over,
        "late_days": timely["late_days"],
        "late_months": timely["late_months"],
    }


def score_frame(frame: pd.DataFrame, options: ScoringOptions, scale: QualitativeScale) -> pd.DataFrame:
    """Add fraction, completion, deviation, score and lost to an indicator frame (a copy)."""
    parts = _fraction_columns(frame, options, scale)
    w = frame["weight"].to_numpy(dtype=float)
    score = np.clip(round_scores(w * parts["fraction"], options.rounding, options.decimals), 0.0, w)
    parts["score"] = score
    parts["lost"] = round_scores(w - score, "half_up", options.decimals)
    return with_columns(frame, parts)


def with_columns(frame: pd.DataFrame, columns: dict[str, object]) -> pd.DataFrame:
    """`frame` (unchanged) with `columns` set in order, as `out[name] = values` one by one on a copy gives; new
    columns are joined to it without copying their values (the caller's new arrays) or inferring the dtype of the
    columns twice (a frame of 10⁶ rows)."""
    if not columns or any(name in frame.columns for name in columns) or frame.columns.has_duplicates:
        out = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
        for name, values in columns.items():
            out[name] = values
        return out
    added = pd.DataFrame(columns, index=frame.index, copy=False)
    return pd.concat([frame, added], axis=1)
