"""Audit: recompute every figure a report states and flag what does not hold together.

Each finding has a code, a severity (error / warning / info), a Chinese message that gives both
numbers, and where it is. Works on the frames of many projects at once (keyed by `pidx`).

Codes: stated_item_score, stated_subtotal, stated_total, stated_grade, stated_rate, stated_amount,
conflicting_statements, stated_inconsistent (the report against itself),
unit_mismatch, suspicious_operator, weights, unexplained_deviation,
over_achievement, qualitative_unclassified, funding_breakdown, overspend.
"""

from __future__ import annotations

import re
from collections import namedtuple
from functools import lru_cache

import numpy as np
import pandas as pd

from perfeval.notation import decimals_of, distinct_rows, normalise, unit_factor, unit_in_name
from perfeval.rules import round_scores
from perfeval.scheme import Scheme, ScoringOptions
from perfeval.scoring.deviations import unexplained as deviation_unexplained

COLUMNS = ("pidx", "code", "severity", "message", "where")

#: words that mark a cost indicator (a ceiling: ≤) and a rate that should be a floor (≥)
COST_WORDS = ("成本", "费用", "单价", "造价")
#: words that mark money coming in (an income or benefit target is a floor, not a cost ceiling)
INCOME_WORDS = ("收入", "增收", "营收", "效益", "产值", "销售额")
FLOOR_WORDS = ("满意度", "覆盖率", "达标率", "及时率", "完成率", "合格率", "到位率", "知晓率", "参与率")


def _fmt(x: float, places: int = 2) -> str:
    """12.50 -> '12.5', 20.0 -> '20', NaN -> '—'."""
    if x is None or not np.isfinite(x):
        return "—"
    text = f"{x:.{places}f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def pct(x: float, places: int = 1) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x * 100:.{places}f}%"


_FIRST_NUMBER = re.compile(r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?")


def written_halfwidth(kind: str, text: object, value: float) -> float:
    """Half the last written digit of a stated figure, in the units of its value: the interval
    [value − h, value + h] holds every figure that rounds to what the report wrote.

    Rates are fractions: "95.6%" and "95.6" → ±0.0005 (±0.05 pp); a plain ratio is a rate written in
    hundredths, so "0.956" → ±0.05 pp and "0.1" (10%) → ±0.5 pp, never wider than the whole percent.
    Amounts are in 万元 whatever unit was written ("334600元" → ±0.00005 万元); scores as written ("94" → ±0.5)."""
    half, written = _written(kind, str(text))
    if kind == "amount" and written and np.isfinite(value):
        return half * abs(value / written)
    return half


@lru_cache(maxsize=65536)
def _written(kind: str, text: str) -> tuple[float, float]:
    """(half the last written digit, the first number as written) of one stated text."""
    folded = normalise(text)
    places = decimals_of(folded)
    number = _FIRST_NUMBER.search(folded)
    written = float(number.group(0).replace(",", "")) if number else 0.0
    if kind in ("rate", "level_rate"):
        percent = "%" in folded or "百分" in folded or abs(written) > 1.5
        return 0.5 * 10.0 ** -((places if percent else max(places - 2, 0)) + 2), written
    return 0.5 * 10.0 ** -places, written


def _where(row) -> str:
    return f"指标表第{int(row.row)}行「{row.level1}/{row.name}」"


WHERE_FIELDS = ("row", "level1", "name")
Findings = list[dict[str, object]]  # chunks: pidx (array), code, severity, message (array), where (array)


def _records(rows: pd.DataFrame, code: str, severity: str, message, fields, where=_where,
             where_fields=WHERE_FIELDS) -> Findings:
    """One chunk of findings, a row each: `message(r)` and `where(r)` see the row's `fields` and `where_fields`
    (attributes, as in itertuples) and are called once per distinct combination of them (a portfolio repeats
    the same rows across its projects)."""
    if rows.empty:
        return []
    return [{"pidx": rows["pidx"].to_numpy(dtype=np.int64), "code": code, "severity": severity,
             "message": _per_distinct(rows, message, fields), "where": _places(rows, where, where_fields)}]


def _per_distinct(rows: pd.DataFrame, func, fields) -> np.ndarray:
    """func(r) per row (r: the row's `fields` as attributes), called once per distinct combination of them."""
    fields = list(dict.fromkeys(fields))
    if not fields:
        table = np.empty(1, dtype=object)
        table[0] = func(namedtuple("Row", [])())
        return table[np.zeros(len(rows), dtype=np.int64)]
    codes, first = distinct_rows(*(rows[c] for c in fields))
    table = np.empty(len(first), dtype=object)
    for k, r in enumerate(_tuples(rows[fields].iloc[first])):
        table[k] = func(r)
    return table[codes]


def _places(rows: pd.DataFrame, where, where_fields) -> np.ndarray:
    """where(r) per row. `_where` names the sheet row of each: its label part worked out per distinct
    (level1, name), the row number put in per row (a portfolio's rows are all different)."""
    if where is _where and tuple(where_fields) == WHERE_FIELDS and rows["row"].dtype.kind in "iu":
        labels = _per_distinct(rows, lambda r: f"{r.level1}/{r.name}", ("level1", "name"))
        return np.array([f"指标表第{n}行「{label}」" for n, label in zip(rows["row"].tolist(), labels.tolist(),
                                                                      strict=True)], dtype=object)
    return _per_distinct(rows, where, where_fields)


def _one(pidx: int, code: str, severity: str, message: str, where: str) -> Findings:
    """A chunk of one finding."""
    return [{"pidx": np.array([pidx], dtype=np.int64), "code": code, "severity": severity,
             "message": np.array([message], dtype=object), "where": np.array([where], dtype=object)}]


def _tuples(rows: pd.DataFrame):
    """What `rows.itertuples(index=False)` yields (names that are not identifiers become _1, _2 …), from object
    arrays: iterating pandas' string arrays element by element is slow."""
    fields = namedtuple("Row", list(map(str, rows.columns)), rename=True)
    columns = [rows.iloc[:, j].to_numpy(dtype=object) for j in range(rows.shape[1])]
    return map(fields._make, zip(*columns, strict=True))


def _distinct_table(func, *columns) -> tuple[np.ndarray, list]:
    """(code per row, [func(*values) per code]) over the distinct combinations of the columns' values."""
    arrays = [c.to_numpy(dtype=object) if isinstance(c, pd.Series) and c.dtype.kind not in "fiub"
              else np.asarray(c) for c in columns]
    codes, first = distinct_rows(*arrays)
    return codes, [func(*(a[i] for a in arrays)) for i in first]


def _distinct(func, *columns) -> np.ndarray:
    """func(*values) per row, called once per distinct combination of the columns' values (an object array)."""
    arrays = [c.to_numpy(dtype=object) if isinstance(c, pd.Series) and c.dtype.kind not in "fiub"
              else np.asarray(c) for c in columns]
    codes, first = distinct_rows(*arrays)
    table = np.empty(len(first), dtype=object)
    for k, i in enumerate(first):
        table[k] = func(*(a[i] for a in arrays))
    return table[codes]


def _distinct_as(dtype: type, func, *columns) -> np.ndarray:
    """`_distinct(func, *columns).astype(dtype)`, converted once per distinct combination."""
    codes, table = _distinct_table(func, *columns)
    return np.array(table, dtype=object).astype(dtype)[codes]


def _written_places(value: float) -> int:
    """Decimals a stated score was written with (9 -> 0, 9.6 -> 1, 9.61 -> 2); NaN -> 0."""
    if value is None or not np.isfinite(value):
        return 0
    text = format(float(value), ".10g")
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def _label_flags(level2: object, level3: object, name: object) -> tuple[bool, bool]:
    """(a cost, a floor) by the words of one row's labels:
    a cost is in a 成本 group or named as one, not an income, not a rate; a floor is a 满意度/覆盖率 … label."""
    group = ("" if pd.isna(level2) else level2) + ("" if pd.isna(level3) else level3)
    label = group + name
    cost = ("成本" in group or any(w in name for w in COST_WORDS)) and not any(w in label for w in INCOME_WORDS) \
        and "率" not in name
    return cost, any(w in label for w in FLOOR_WORDS)


def _indicator_findings(ind: pd.DataFrame, options: ScoringOptions) -> Findings:
    out: Findings = []
    d = options.decimals
    stated = ind["stated_score"]
    # compared at the precision the score was written with: a table that writes whole points is not held to 0.01
    places = np.minimum(_distinct_as(float, _written_places, stated), d)
    diff = np.abs(stated.to_numpy(dtype=float) - round_scores(ind["score"], "half_up", places)) > 1e-9
    rule_in = _membership(ind["rule"].to_numpy(dtype=object))
    qualitative = rule_in(("qualitative",))  # read from the wording: a different score is a call to check
    has_stated = stated.notna().to_numpy()
    out += _records(
        _rows(ind, has_stated & diff & ~qualitative, "name", "stated_score", "rule_label", "target", "actual", "score"),
        "stated_item_score", "warning",
        lambda r: (f"指标「{r.name}」报告得分 {_fmt(r.stated_score)} 分，按{r.rule_label}规则"
                   f"（指标值 {r.target or '—'}，实际完成值 {r.actual or '—'}）计算应为 {_fmt(r.score)} 分"),
        ("name", "stated_score", "rule_label", "target", "actual", "score"))
    # a qualitative level is read from the wording by keywords: a different score is the evaluator's call to check
    def level_of(r) -> str:
        return r.qualitative_level if isinstance(r.qualitative_level, str) else "无法判断"

    out += _records(
        _rows(ind, has_stated & diff & qualitative, "name", "stated_score", "actual", "qualitative_level", "score"),
        "stated_item_score", "info",
        lambda r: (f"定性指标「{r.name}」报告得分 {_fmt(r.stated_score)} 分；"
                   f"按实际完成值「{r.actual or '—'}」的措辞判定为「{level_of(r)}」，"
                   f"计 {_fmt(r.score)} 分，请复核"),
        ("name", "stated_score", "actual", "qualitative_level", "score"))

    # units: target vs actual vs the unit the indicator's name declares
    name_units = _distinct(unit_in_name, ind["name"])
    clash = _distinct_as(bool, lambda *k: any(unit_factor(x, y) is None
                                              for x, y in ((k[1], k[2]), (k[0], k[1]), (k[0], k[2]))),
                         name_units, ind["target_unit"], ind["actual_unit"])
    rows = _rows(ind, clash, "name", "target_unit", "actual_unit", "target", "actual").assign(
        name_unit=name_units[clash])
    out += _records(rows, "unit_mismatch", "warning", lambda r: (
        f"指标「{r.name}」单位不一致："
        + "，".join(f"{label}为「{u}」" for label, u in (("名称标注", r.name_unit),
                                                      ("指标值", r.target_unit),
                                                      ("实际完成值", r.actual_unit)) if u)
        + f"（指标值 {r.target}，实际完成值 {r.actual}）；请核对计量口径"),
        ("name", "name_unit", "target_unit", "actual_unit", "target", "actual"))

    # a money unit alone does not make a cost: 项目收入≥500万元 and 带动增收≥200万元 are floors
    codes, flags = _distinct_table(_label_flags, ind["level2"], ind["level3"], ind["name"])
    flags = np.array(flags, dtype=bool).reshape(-1, 2)[codes]
    is_cost, floor_words = flags[:, 0], flags[:, 1]
    op = ind["target_op"].to_numpy(dtype=object)
    op_in = _membership(op)
    cost_floor = is_cost & op_in(("≥", ">")) & rule_in(("positive", "exact"))
    rows = _rows(ind, cost_floor, "weight", "actual_value", "target_value", "name", "target", "target_op", "score")

    def cost_message(r) -> str:
        alt = r.weight if r.actual_value <= r.target_value else r.weight * r.target_value / r.actual_value
        return (f"成本类指标「{r.name}」的指标值写作「{r.target}」（下限）：成本指标通常应为上限（≤）。"
                f"按所写的「{r.target_op}」计 {_fmt(r.score)} 分；若按上限计为 {_fmt(alt)} 分")

    out += _records(rows, "suspicious_operator", "warning", cost_message,
                    ("weight", "actual_value", "target_value", "name", "target", "target_op", "score"))
    floor = floor_words & op_in(("≤", "<"))
    out += _records(_rows(ind, floor, "name", "target"), "suspicious_operator", "warning", lambda r: (
        f"指标「{r.name}」的指标值写作「{r.target}」（上限）：此类比率指标通常应为下限（≥），请核对"),
        ("name", "target"))

    # deviations as perfeval.deviations defines them (the report's 五 and 表3 count the same rows)
    unexplained = _rows(ind, deviation_unexplained(ind, options.decimals).to_numpy(), "rule", "deduction", "name",
                        "target", "actual", "score", "weight")
    judged = unexplained["rule"].isin(["manual", "checklist"]) & (unexplained["deduction"].fillna(0) > 0)
    out += _records(unexplained[~judged], "unexplained_deviation", "warning", lambda r: (
        f"指标「{r.name}」未完全达到目标（指标值 {r.target or '—'}，实际完成值 {r.actual or '—'}，"
        f"得 {_fmt(r.score)}/{_fmt(r.weight)} 分），但未填写偏差原因"),
        ("name", "target", "actual", "score", "weight"))
    out += _records(unexplained[judged], "unexplained_deviation", "warning", lambda r: (
        f"指标「{r.name}」扣 {_fmt(r.deduction)} 分，但未填写扣分原因"), ("name", "deduction"))

    out += _records(_rows(ind, ind["over_achieved"].to_numpy(dtype=bool), "name", "completion"), "over_achievement",
                    "warning", lambda r: (
        f"指标「{r.name}」实际完成值为目标的 {pct(r.completion, 0)}"
        f"（≥{pct(options.over_achievement_threshold, 0)}），目标可能设定偏低；"
        f"按10号文应说明原因，并可按偏离度调减得分"), ("name", "completion"))
    unknown = qualitative & ind["qualitative_level"].isna().to_numpy()
    out += _records(_rows(ind, unknown, "name", "actual"), "qualitative_unclassified", "warning", lambda r: (
        f"定性指标「{r.name}」的实际完成值「{r.actual}」无法判断等级，按 0 分计；"
        f"请写明 达成/部分达成/未达成（或 优/良/中/差）"), ("name", "actual"))
    return out


def _rows(ind: pd.DataFrame, mask: np.ndarray, *fields: str) -> pd.DataFrame:
    """The rows of `ind` in `mask` with only what a finding reads of them: pidx, `fields` and where they are."""
    return ind.loc[mask, [c for c in dict.fromkeys(["pidx", *fields, *WHERE_FIELDS]) if c in ind]]


def _membership(values: np.ndarray):
    """isin(choices): values ∈ choices, elementwise (object arrays compared as Python compares them), worked out
    once per distinct value; the values told apart once for every call."""
    codes, first = distinct_rows(values)
    distinct = values[first]

    def isin(choices: tuple) -> np.ndarray:
        hit = np.zeros(len(first), dtype=bool)
        for choice in choices:
            hit |= distinct == choice
        return hit[codes]

    return isin


def _stated_where(r) -> str:
    return f"报告{r.where}" if r.where else "报告"


AMOUNT_FIELDS = {"预算数": "budget", "到位数": "allocated", "执行数": "spent"}
RATE_FIELDS = {"预算执行率": "execution_rate", "资金到位率": "arrival_rate", "偏差率": "deviation_rate"}


def _computed(stated: pd.DataFrame, levels: pd.DataFrame, head: pd.DataFrame) -> pd.DataFrame:
    """Each stated figure beside the value perfeval computes for it (vectorised over projects)."""
    out = stated.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    h = head.set_index("pidx")
    item = out["item"]
    items = item.to_numpy(dtype=object)
    # each distinct item's kind, worked out once (a missing item, code −1, takes the last: its own kind '')
    item_codes, item_names = pd.factorize(items)
    name_kinds = np.array([*(_item_kind(name) for name in item_names), _item_kind(None)], dtype=object)
    item_kind = name_kinds[item_codes]
    kind = name_kinds.astype(str)[item_codes]  # a fixed-width str array, as np.select over strings gave
    out["kind"] = pd.Series(item_kind, index=out.index, dtype=object)  # compared often: plain objects are fast
    out["item_code"] = item_codes  # the item as a number: grouping by it is grouping by the item
    computed = np.full(len(out), np.nan)
    pidx = out["pidx"].to_numpy()
    for name, column in (("total", None), *((k, v) for k, v in {**AMOUNT_FIELDS, **RATE_FIELDS}.items())):
        mask = (kind == "total") if column is None else (item_codes == _position(item_names, name))
        if mask.any():
            field = "total" if column is None else column
            computed[mask] = h[field].reindex(pidx[mask]).to_numpy(dtype=float)
    for suffix, column in (("得分率", "score_rate"), ("得分", "score")):
        mask = kind == ("level_rate" if suffix == "得分率" else "level_score")
        if mask.any():
            computed[mask] = _level_values(levels, column, pidx[mask],
                                           _distinct(lambda t, s=suffix: t.removesuffix(s), items[mask]))
    out["computed"] = computed
    at = h.index.get_indexer(pidx)
    for column in ("grade", "total", "budget", "allocated", "spent"):
        values = h[column].to_numpy()
        out[column] = values.take(at) if (at >= 0).all() else h[column].reindex(pidx).to_numpy()
    name_kind_of = np.array(["rate" if k in ("rate", "level_rate") else "amount" if k == "amount" else "score"
                             for k in name_kinds], dtype=str)
    kind_of_code = np.searchsorted(np.array(["amount", "rate", "score"]), name_kind_of)[item_codes]
    kind_of = np.array(["amount", "rate", "score"])[kind_of_code]
    codes, written = _distinct_table(lambda k, t: _written(("amount", "rate", "score")[k], str(t)), kind_of_code,
                                     out["text"])
    written = np.array(written, dtype=float).reshape(-1, 2)[codes]
    half, number = written[:, 0], written[:, 1]
    value = out["value"].to_numpy(dtype=float)
    scaled = (kind_of == "amount") & (number != 0) & np.isfinite(value)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["halfwidth"] = np.where(scaled, half * np.abs(value / np.where(scaled, number, 1.0)), half)
    out["agrees"] = np.abs(out["computed"] - out["value"]) <= out["halfwidth"] + 1e-9
    return out


def _position(values: pd.Index | np.ndarray, value: object) -> int:
    """Where `value` is in `values` (−2, which no code is, when it is not)."""
    found = np.flatnonzero(np.asarray(values, dtype=object) == value)
    return int(found[0]) if len(found) else -2


def _item_kind(item: object) -> str:
    """total / grade / amount / rate / level_rate / level_score / '' for a stated item."""
    if item == "总分":
        return "total"
    if item == "等级":
        return "grade"
    if item in AMOUNT_FIELDS:
        return "amount"
    if item in RATE_FIELDS:
        return "rate"
    if isinstance(item, str) and item.endswith("得分率"):
        return "level_rate"
    if isinstance(item, str) and item.endswith("得分"):
        return "level_score"
    return ""


def _level_values(levels: pd.DataFrame, column: str, pidx: np.ndarray, names: np.ndarray) -> np.ndarray:
    """levels[column] at each (pidx, name); NaN where there is no such level."""
    lv = levels.set_index(["pidx", "name"])
    keys = pd.MultiIndex.from_arrays([pidx, names])
    return lv[column].reindex(keys).to_numpy(dtype=float)


def _stated_findings(stated: pd.DataFrame, levels: pd.DataFrame, head: pd.DataFrame,
                     scheme: Scheme, options: ScoringOptions, ind: pd.DataFrame) -> Findings:
    if stated.empty:
        return []
    out: Findings = []
    tolerance = 0.5 * 10.0 ** -options.decimals
    c = _computed(stated, levels, head)
    kinds = c["kind"].to_numpy(dtype=object)
    differs = (c["computed"] - c["value"]).abs() > tolerance
    base = "到位数" if options.execution_denominator == "allocated" else "预算数"
    how = {"预算执行率": f"执行数/{base}", "资金到位率": "到位数/预算数", "偏差率": "1 − 预算执行率"}

    def add(rows: pd.DataFrame, code: str, message, fields) -> None:
        out.extend(_records(rows, code, "error", message, fields, _stated_where, ("where",)))

    # a stated total that is exactly the sum of the report's own item scores differs from perfeval's only
    # through those item scores (each reported as stated_item_score): not a wrong total
    per_project = _stated_item_sums(ind)
    stated_items = c["pidx"].map(per_project.set_index("pidx")["items"]).astype(float)
    explained = (stated_items - c["value"]).abs() <= 1e-6  # NaN (some item states no score) is not explained
    add(c[(kinds == "total") & differs & ~explained], "stated_total", lambda r: (
        f"报告总分 {r.text} 分，按评分规则计算的各指标得分合计为 {_fmt(r.computed)} 分"
        f"（差 {_fmt(r.value - r.computed)} 分"
        + ("；按报告所写精度取整后相同，但总分应为各项得分之和）" if r.agrees else "）")),
        ("text", "computed", "value", "agrees"))
    out.extend(_records(c[(kinds == "total") & differs & explained], "stated_total", "info", lambda r: (
        f"报告总分 {r.text} 分等于报告所列各指标得分之和；按评分规则重算为 {_fmt(r.computed)} 分，"
        f"差异来自单项得分（见各指标得分核查）"), ("text", "computed"), _stated_where, ("where",)))
    add(c[(kinds == "grade") & (c["text"] != c["grade"])], "stated_grade", lambda r: (
        f"报告绩效等级为「{r.text}」，按计算总分 {_fmt(float(r.total))} 分应为「{r.grade}」"),
        ("text", "total", "grade"))
    add(c[(kinds == "amount") & ((c["computed"] - c["value"]).abs() > 0.005)], "stated_amount",
        lambda r: f"报告{r.item} {_fmt(r.value, 4)} 万元，与项目信息中的{r.item} {_fmt(r.computed, 4)} 万元不符",
        ("item", "value", "computed"))

    def rate_message(r) -> str:
        amounts = (f"执行数 {_fmt(float(r.spent), 4)}、到位数 {_fmt(float(r.allocated), 4)}、"
                   f"预算数 {_fmt(float(r.budget), 4)} 万元")
        if not np.isfinite(r.computed):
            return f"报告{r.item}为 {r.text}，但按{how[r.item]}（{amounts}）无法计算：分母为 0 或缺失，请核对资金数"
        return f"报告{r.item}为 {r.text}，按{how[r.item]}（{amounts}）计算为 {pct(r.computed)}"

    add(c[(kinds == "rate") & ~c["agrees"]], "stated_rate", rate_message,
        ("spent", "allocated", "budget", "computed", "item", "text"))
    add(c[(kinds == "level_rate") & ~c["agrees"]], "stated_rate", lambda r: (
        f"报告「{r.item.removesuffix('得分率')}」类指标得分率为 {r.text}，按各指标得分合计计算为 {pct(r.computed, 2)}"),
        ("item", "text", "computed"))
    add(c[(kinds == "level_score") & differs], "stated_subtotal", lambda r: (
        f"报告「{r.item.removesuffix('得分')}」类指标得分 {r.text} 分，其下各三级指标得分合计为 {_fmt(r.computed)} 分"),
        ("item", "text", "computed"))

    # the same quantity stated with different values in different places: grades and scores when they
    # differ at all; rates and amounts only when no figure rounds to both (88.0% and 87.97% agree)
    rounded = c["value"].round(6)
    codes, first = distinct_rows(rounded.to_numpy())
    as_text = rounded.iloc[first].astype(str).to_numpy(dtype=object)[codes]  # astype(str), once per value
    key = c["text"].where(kinds == "grade", pd.Series(as_text, index=c.index, dtype=object))
    group_codes, _ = distinct_rows(c["pidx"].to_numpy(), c["item_code"].to_numpy())
    group = np.where(c["item"].isna().to_numpy(), np.nan, group_codes)  # no group for a missing item
    spans = pd.DataFrame({"low": c["value"] - c["halfwidth"], "high": c["value"] + c["halfwidth"]})
    by_group = spans.groupby(group, sort=False)  # grouped once for the two transforms
    counts = _distinct_per_group(group_codes, ~np.isnan(group), key.to_numpy(dtype=object))
    measured = c["kind"].isin(["rate", "level_rate", "amount"])
    apart = by_group["low"].transform("max") > by_group["high"].transform("min") + 1e-9
    conflicts = c.loc[(counts > 1) & (apart | ~measured), ["pidx", "item", "text", "where"]]
    out += _conflicts(conflicts.sort_values(["pidx", "item"], kind="stable"))
    return out + _self_findings(c, ind, levels, options, per_project)


def _distinct_per_group(groups: np.ndarray, grouped: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Per row, how many distinct keys (NaN and None not counted) the rows of its group hold, as
    `groupby(groups).transform("nunique")` counts them; 0 for a row outside every group (`grouped` False)."""
    codes = pd.factorize(keys)[0]
    counted = grouped & (codes >= 0)
    g = groups[counted]
    _, first = distinct_rows(g, codes[counted])
    per_group = np.bincount(g[first], minlength=int(groups.max(initial=-1)) + 1)
    return np.where(grouped, per_group[groups], 0)


def _conflict(item: object, texts, wheres) -> tuple[str, str]:
    """(message, where) of one quantity stated with different values: each text with the places it is in."""
    by_text: dict[str, list[str]] = {}
    for text, where in zip(texts, wheres, strict=True):
        by_text.setdefault(text, []).append(where)
    parts = [f"{text}（{'、'.join(ws)}）" for text, ws in by_text.items()]
    return (f"报告对「{item}」给出了不同的数值：" + "；".join(parts),
            "报告" + "、".join(w for ws in by_text.values() for w in ws))


def _conflicts(rows: pd.DataFrame, widest: int = 64) -> Findings:
    """A conflicting_statements finding per run of rows with the same (pidx, item); runs that state the same
    (item, text, where) sequence share one message, worked out once."""
    if rows.empty:
        return []
    pidx = rows["pidx"].to_numpy()
    item, text, where = (rows[c].to_numpy(dtype=object) for c in ("item", "text", "where"))
    n = len(rows)
    new = np.ones(n, dtype=bool)
    new[1:] = (pidx[1:] != pidx[:-1]) | (item[1:] != item[:-1])
    starts = np.flatnonzero(new)
    length = np.diff(np.append(starts, n))
    gid = np.cumsum(new) - 1
    row_codes, _ = distinct_rows(item, text, where)
    if length.max() <= widest:
        grid = np.full((len(starts), int(length.max())), -1, dtype=np.int64)
        grid[gid, np.arange(n) - starts[gid]] = row_codes
        codes, first = distinct_rows(*(grid[:, k] for k in range(grid.shape[1])))
    else:
        codes, first = np.arange(len(starts)), np.arange(len(starts))
    messages, places = np.empty(len(first), dtype=object), np.empty(len(first), dtype=object)
    for k, g in enumerate(first):
        span = slice(starts[g], starts[g] + length[g])
        messages[k], places[k] = _conflict(item[starts[g]], text[span], where[span])
    return [{"pidx": pidx[starts].astype(np.int64), "code": "conflicting_statements", "severity": "error",
             "message": messages[codes], "where": places[codes]}]


# ----------------------------------------------------------------------------- the report against itself

def _stated_item_sums(ind: pd.DataFrame) -> pd.DataFrame:
    """pidx, items (sum of the stated item scores), n (how many) — only projects where every item states one."""
    g = ind.groupby("pidx", sort=False)["stated_score"]
    sums = pd.DataFrame({"items": g.sum(), "count": g.count(), "n": g.size()}).reset_index()
    return sums.loc[sums["count"] == sums["n"], ["pidx", "items", "n"]]


def _self_findings(c: pd.DataFrame, ind: pd.DataFrame, levels: pd.DataFrame, options: ScoringOptions,
                   per_project: pd.DataFrame) -> Findings:
    """The report against itself, independent of perfeval's rules (code "stated_inconsistent"):
    stated item scores vs stated subtotals and total, the stated execution score vs 分值 × stated rate,
    stated rates vs stated amounts — each at the precision the report wrote. Where perfeval's own
    figure is the one the report's items give, the finding against perfeval already says it, and
    is not repeated."""
    tol = 0.5 * 10.0 ** -options.decimals
    c = c.assign(sid=np.arange(len(c)))
    kinds, items = c["kind"].to_numpy(dtype=object), c["item"].to_numpy(dtype=object)
    out: Findings = []

    def add(rows: pd.DataFrame, message, fields, where=_stated_where, where_fields=("where",)) -> None:
        out.extend(_records(rows, "stated_inconsistent", "error", message, fields, where, where_fields))

    stated_items = ind[["pidx", "level1", "stated_score"]]
    g = stated_items.groupby(["pidx", "level1"], sort=False)["stated_score"]
    per_level = pd.DataFrame({"items": g.sum(), "count": g.count(), "n": g.size()}).reset_index()
    per_level = per_level[per_level["count"] == per_level["n"]]  # every item of the level states its score

    # a level's stated subtotal vs its items' stated scores
    sub = c[kinds == "level_score"]
    sub = sub.assign(level=pd.Series(_distinct(lambda t: t.removesuffix("得分"), sub["item"]), index=sub.index,
                                     dtype=object))
    m = sub.merge(per_level, left_on=["pidx", "level"], right_on=["pidx", "level1"])
    bad = ((m["value"] - m["items"]).abs() > m["halfwidth"] + 1e-9) & ~((m["computed"] - m["items"]).abs() <= tol)
    add(m[bad], lambda r: (
        f"报告「{r.level}」类指标得分 {r.text} 分，但报告所列其下 {r.n} 项指标的得分合计为 {_fmt(r.items)} 分"
        + (f"（按评分规则计算为 {_fmt(r.computed)} 分）" if np.isfinite(r.computed) else "")),
        ("level", "text", "n", "items", "computed"))

    # the stated total vs all items' stated scores
    totals = c[kinds == "total"]
    m = totals.merge(per_project, on="pidx")
    bad = ((m["value"] - m["items"]).abs() > m["halfwidth"] + 1e-9) & \
        ~((m["total"].astype(float) - m["items"]).abs() <= tol)
    add(m[bad], lambda r: (f"报告总分 {r.text} 分，但报告所列 {r.n} 项指标的得分合计为 {_fmt(r.items)} 分"
                           f"（按评分规则计算为 {_fmt(float(r.total))} 分）"), ("text", "n", "items", "total"))

    # the stated total vs the stated subtotals of every level (a level stated twice gives a range)
    subs = sub[sub["level"].isin(levels["name"].unique())]
    span = subs.groupby(["pidx", "level"], sort=False)["value"].agg(["min", "max"]).reset_index()
    need = levels.loc[levels["weight"] > 0, ["pidx", "name"]].merge(
        span, left_on=["pidx", "name"], right_on=["pidx", "level"], how="left")
    g = need.groupby("pidx", sort=False)
    sums = pd.DataFrame({"lo": g["min"].sum(), "hi": g["max"].sum(),
                         "complete": g["min"].count() == g.size()}).reset_index()
    sums = sums[sums["complete"]].merge(per_project[["pidx", "items"]], on="pidx", how="left")
    m = totals.merge(sums, on="pidx")
    outside = (m["value"] + m["halfwidth"] < m["lo"] - 1e-9) | (m["value"] - m["halfwidth"] > m["hi"] + 1e-9)
    said = (m["lo"] == m["hi"]) & ((m["items"] - m["lo"]).abs() <= tol)  # the same sum as the items': said above
    rows = m[outside & ~said]
    if len(rows):
        detail = {pidx: "、".join(f"{lv} {'/'.join(dict.fromkeys(t))}" for lv, t in
                                 part.groupby("level", sort=False)["text"])
                  for pidx, part in subs[subs["pidx"].isin(rows["pidx"])].groupby("pidx", sort=False)}
        add(rows, lambda r: (
            f"报告总分 {r.text} 分，但报告所列各一级指标得分合计为 "
            + (_fmt(r.lo) if r.lo == r.hi else f"{_fmt(r.lo)}～{_fmt(r.hi)}") + f" 分（{detail[r.pidx]}）"),
            ("text", "lo", "hi", "pidx"))

    # the stated execution score vs 分值 × the stated 预算执行率
    ex = ind.loc[ind["rule"] == "execution", ["pidx", "row", "level1", "name", "weight", "stated_score", "score"]]
    from_rows = ex[ex["stated_score"].notna()].assign(
        s=lambda f: f["stated_score"], perfeval=lambda f: f["score"],
        place=lambda f: _distinct(lambda r, a, b: f"指标表第{int(r)}行「{a}/{b}」", f["row"], f["level1"], f["name"]))
    stated_ex = c[items == "预算执行率得分"].merge(ex.drop_duplicates("pidx")[["pidx", "name", "weight"]],
                                                     on="pidx")
    from_items = stated_ex.assign(s=stated_ex["value"], perfeval=stated_ex["computed"],
                                  place=[_stated_where(r) for r in stated_ex.itertuples()])
    columns = ["pidx", "name", "weight", "s", "perfeval", "place"]
    cand = pd.concat([from_rows[columns], from_items[columns]], ignore_index=True).assign(
        cid=lambda f: np.arange(len(f)))
    rates = c.loc[items == "预算执行率", ["pidx", "value", "text", "halfwidth", "agrees"]]
    m = cand.merge(rates, on="pidx")
    if len(m):
        weight = m["weight"].astype(float)
        lo = weight * (m["value"] - m["halfwidth"]).clip(0, 1)
        hi = weight * (m["value"] + m["halfwidth"]).clip(0, 1)
        # a score is held to the precision it was written with (9 for 8.62 is 8.62 in whole points)
        places = np.minimum(_distinct(_written_places, m["s"]).astype(float), options.decimals)
        stol = 0.5 * 10.0 ** -places
        m["ok"] = (m["s"] + stol >= lo - 1e-9) & (m["s"] - stol <= hi + 1e-9)
        m["expected"] = weight * m["value"].clip(upper=1)
        g = m.groupby("cid", sort=False)
        verdict = pd.DataFrame({"ok": g["ok"].any(), "rate_agrees": g["agrees"].any()})
        flagged = cand.set_index("cid").join(verdict, how="inner")
        own = np.minimum(_distinct(_written_places, flagged["s"]).astype(float), options.decimals)
        rounded = round_scores(flagged["perfeval"], "half_up", own)
        said = flagged["perfeval"].notna() & (np.abs(rounded - flagged["s"].to_numpy(dtype=float)) > 1e-9) \
            & flagged["rate_agrees"]
        flagged = flagged[~flagged["ok"] & ~said]
        if len(flagged):
            shown = {cid: "、".join(f"{t}（应为 {_fmt(e)} 分）" for t, e in
                                    dict.fromkeys(zip(part["text"], part["expected"], strict=True)))
                     for cid, part in m[m["cid"].isin(flagged.index)].groupby("cid", sort=False)}
            add(flagged.reset_index(), lambda r: (
                f"报告预算执行率得分 {_fmt(r.s)} 分（指标「{r.name}」分值 {_fmt(float(r.weight))} 分），"
                f"与报告所写预算执行率 {shown[r.cid]} 不符：得分应为分值 × 执行率"), ("s", "name", "weight", "cid"),
                where=lambda r: r.place, where_fields=("place",))

    # stated rates vs the stated amounts they are computed from
    base = "到位数" if options.execution_denominator == "allocated" else "预算数"
    for item, (num, den) in {"预算执行率": ("执行数", base), "资金到位率": ("到位数", "预算数")}.items():
        rate = c.loc[items == item, ["sid", "pidx", "value", "text", "halfwidth", "agrees", "where"]]
        parts = [_distinct_statements(c.loc[items == name, ["pidx", "value", "text", "halfwidth"]])
                 for name in (num, den)]
        m = rate.merge(parts[0], on="pidx", suffixes=("", "_n")).merge(
            parts[1].rename(columns={"value": "value_d", "text": "text_d", "halfwidth": "halfwidth_d"}), on="pidx")
        m = m[m["value_d"] - m["halfwidth_d"] > 0]
        if m.empty:
            continue
        low = (m["value_n"] - m["halfwidth_n"]) / (m["value_d"] + m["halfwidth_d"])
        high = (m["value_n"] + m["halfwidth_n"]) / (m["value_d"] - m["halfwidth_d"])
        m["ok"] = (m["value"] + m["halfwidth"] >= low - 1e-12) & (m["value"] - m["halfwidth"] <= high + 1e-12)
        m["ratio"] = m["value_n"] / m["value_d"]
        ok = m.groupby("sid", sort=False)["ok"].any()
        flagged = rate[rate["sid"].isin(ok[~ok].index) & rate["agrees"]]  # not already a stated_rate finding
        if flagged.empty:
            continue
        shown = {sid: "、".join(f"{a}/{b} = {pct(x, 2)}" for a, b, x in
                                dict.fromkeys(zip(part["text_n"], part["text_d"], part["ratio"], strict=True)))
                 for sid, part in m[m["sid"].isin(flagged["sid"])].groupby("sid", sort=False)}
        add(flagged, lambda r, item=item, num=num, den=den, shown=shown: (
            f"报告{item}为 {r.text}，但按报告所写{num}/{den}计算为 {shown[r.sid]}"), ("text", "sid"))
    return out


def _distinct_statements(part: pd.DataFrame) -> pd.DataFrame:
    """`part` without the repeats of a statement already made for its project (the same value written the same
    way): a report that states 执行数 in four places pairs each rate with its distinct figures only, not with
    every place. Statements without a value or text are all kept (NaN is not equal to itself)."""
    known = part["value"].notna() & part["text"].notna()
    return part[~(part.duplicated(["pidx", "value", "text", "halfwidth"]) & known)]


def _project_findings(ind: pd.DataFrame, levels: pd.DataFrame, head: pd.DataFrame,
                      scheme: Scheme) -> Findings:
    out: Findings = []
    expected = {lv.name: lv.weight for lv in scheme.levels}
    lv = levels.assign(expected=levels["name"].map(expected))
    lv["sheet_total"] = lv.groupby("pidx", sort=False)["weight"].transform("sum")
    off = lv[(lv["weight"] - lv["expected"]).abs() > 1e-6]
    # levels that move weight between them (total still the scheme's) are a warning; a total that is
    # not the scheme's is an error: the table is scored on its own weights, out of its own total
    wrong_total = (off["sheet_total"] - scheme.total_weight).abs() > 1e-6
    out += _records(off[~wrong_total], "weights", "warning", lambda r: (
        f"一级指标「{r.name}」分值合计 {_fmt(r.weight)} 分，评价方案「{scheme.name}」为 {_fmt(r.expected)} 分"),
        ("name", "weight", "expected"), where=lambda r: f"指标表一级指标「{r.name}」", where_fields=("name",))
    out += _records(off[wrong_total], "weights", "error", lambda r: (
        f"一级指标「{r.name}」分值合计 {_fmt(r.weight)} 分，评价方案「{scheme.name}」为 {_fmt(r.expected)} 分；"
        f"全部指标分值合计 {_fmt(r.sheet_total)} 分，方案为 {_fmt(scheme.total_weight)} 分——"
        f"按表内分值评分（满分 {_fmt(r.sheet_total)} 分），请核对指标表"),
        ("name", "weight", "expected", "sheet_total"), where=lambda r: f"指标表一级指标「{r.name}」",
        where_fields=("name",))
    if scheme.min_output_benefit > 0:
        ob = lv[lv["name"].isin(["产出", "效益"])].groupby("pidx")["weight"].sum()
        low = ob[ob < scheme.min_output_benefit - 1e-9]
        out += _records(pd.DataFrame({"pidx": low.index.to_numpy(), "weight": low.to_numpy()}), "weights", "warning",
                        lambda r: (f"产出与效益指标合计 {_fmt(r.weight)} 分，低于10号文要求的 "
                                   f"{_fmt(scheme.min_output_benefit)} 分（60%）"),
                        ("weight",), where=lambda r: "指标表", where_fields=())
    funded = head[head["funding_total"].notna() & ((head["funding_total"] - head["budget"]).abs() > 0.005)]
    out += _records(funded, "funding_breakdown", "warning", lambda r: (
        f"资金来源合计 {_fmt(r.funding_total, 4)} 万元，与预算数 {_fmt(r.budget, 4)} 万元不符"),
        ("funding_total", "budget"), where=lambda r: "项目信息 资金来源", where_fields=())
    over = head[head["spent"] > head["allocated"] + 1e-9]
    out += _records(over, "overspend", "warning", lambda r: (
        f"执行数 {_fmt(r.spent, 4)} 万元超过到位数 {_fmt(r.allocated, 4)} 万元"),
        ("spent", "allocated"), where=lambda r: "项目信息 执行数", where_fields=())
    return out


def audit(ind: pd.DataFrame, levels: pd.DataFrame, head: pd.DataFrame, stated: pd.DataFrame,
          scheme: Scheme, options: ScoringOptions) -> pd.DataFrame:
    """All findings for the projects in these frames, as one tidy frame."""
    chunks = (_indicator_findings(ind, options)
              + _stated_findings(stated, levels, head, scheme, options, ind)
              + _project_findings(ind, levels, head, scheme))
    if not chunks:
        return pd.DataFrame.from_records([], columns=list(COLUMNS))
    pidx = np.concatenate([c["pidx"] for c in chunks])
    columns = {"pidx": pidx}
    sizes = [len(c["pidx"]) for c in chunks]
    for name in ("code", "severity"):
        labels = np.empty(len(chunks), dtype=object)
        labels[:] = [c[name] for c in chunks]
        columns[name] = np.repeat(labels, sizes)
    for name in ("message", "where"):
        columns[name] = np.concatenate([c[name] for c in chunks])
    # by project, then error / warning / info, each kept in the order the checks found them
    rank = np.select([columns["severity"] == "error", columns["severity"] == "warning"], [0, 1], default=2)
    order = np.lexsort((rank, pidx))
    return pd.DataFrame({name: values[order] for name, values in columns.items()})
