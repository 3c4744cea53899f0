"""Audit: recompute every figure a report states and flag what does not hold together.

Each finding has a code, a severity (error / warning / info), a Chinese message that gives both
numbers, and where it is. Works on the frames of many projects at once (keyed by `pidx`).

Codes: stated_item_score, stated_subtotal, stated_total, stated_grade, stated_rate, stated_amount,
conflicting_statements, unit_mismatch, suspicious_operator, weights, unexplained_deviation,
over_achievement, qualitative_unclassified, funding_breakdown, overspend.
"""

from __future__ import annotations

from itertools import groupby

import numpy as np
import pandas as pd

from perfeval.notation import MONEY_UNITS, decimals_of, unit_factor, unit_in_name
from perfeval.scheme import Scheme, ScoringOptions

COLUMNS = ("pidx", "code", "severity", "message", "where")

#: words that mark a cost indicator (a ceiling: ≤) and a rate that should be a floor (≥)
COST_WORDS = ("成本", "费用", "单价", "造价")
FLOOR_WORDS = ("满意度", "覆盖率", "达标率", "及时率", "完成率", "合格率", "到位率", "知晓率", "参与率")


def _fmt(x: float, places: int = 2) -> str:
    """12.50 -> '12.5', 20.0 -> '20', NaN -> '—'."""
    if x is None or not np.isfinite(x):
        return "—"
    text = f"{x:.{places}f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def pct(x: float, places: int = 1) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x * 100:.{places}f}%"


def _where(row: pd.Series) -> str:
    return f"指标表第{int(row.row)}行「{row.level1}/{row.name}」"


def _records(rows: pd.DataFrame, code: str, severity: str, message, where=_where) -> list[dict]:
    return [{"pidx": r.pidx, "code": code, "severity": severity, "message": message(r),
             "where": where(r)} for r in rows.itertuples()]


def _indicator_findings(ind: pd.DataFrame, options: ScoringOptions) -> list[dict]:
    out: list[dict] = []
    d = options.decimals
    stated = ind["stated_score"]
    diff = (stated - ind["score"]).abs() > 0.5 * 10.0 ** -d
    out += _records(
        ind[stated.notna() & diff], "stated_item_score", "warning",
        lambda r: (f"指标「{r.name}」报告得分 {_fmt(r.stated_score)} 分，按{r.rule_label}规则"
                   f"（指标值 {r.target or '—'}，实际完成值 {r.actual or '—'}）计算应为 {_fmt(r.score)} 分"))

    # units: target vs actual vs the unit the indicator's name declares
    name_units = ind["name"].map(unit_in_name)
    triples = list(zip(name_units, ind["target_unit"], ind["actual_unit"], strict=True))
    clash = np.array([
        any(unit_factor(x, y) is None for x, y in ((t, a), (n, t), (n, a)))
        for n, t, a in triples
    ], dtype=bool)
    rows = ind.assign(name_unit=name_units)[clash]
    out += _records(rows, "unit_mismatch", "warning", lambda r: (
        f"指标「{r.name}」单位不一致："
        + "，".join(f"{label}为「{u}」" for label, u in (("名称标注", r.name_unit),
                                                      ("指标值", r.target_unit),
                                                      ("实际完成值", r.actual_unit)) if u)
        + f"（指标值 {r.target}，实际完成值 {r.actual}）；请核对计量口径"))

    label = ind["level2"].fillna("") + ind["level3"].fillna("") + ind["name"]
    in_cost_group = (ind["level2"].fillna("") + ind["level3"].fillna("")).str.contains("成本")
    is_cost = (in_cost_group | ind["name"].map(lambda s: any(w in s for w in COST_WORDS))
               | ind["target_unit"].isin(MONEY_UNITS)) & ~ind["name"].str.contains("率")
    cost_floor = is_cost & ind["target_op"].isin(["≥", ">"]) & ind["rule"].isin(["positive", "exact"])
    rows = ind[cost_floor]

    def cost_message(r) -> str:
        alt = r.weight if r.actual_value <= r.target_value else r.weight * r.target_value / r.actual_value
        return (f"成本类指标「{r.name}」的指标值写作「{r.target}」（下限）：成本指标通常应为上限（≤）。"
                f"按所写的「{r.target_op}」计 {_fmt(r.score)} 分；若按上限计为 {_fmt(alt)} 分")

    out += _records(rows, "suspicious_operator", "warning", cost_message)
    floor = label.map(lambda s: any(w in s for w in FLOOR_WORDS)) & ind["target_op"].isin(["≤", "<"])
    out += _records(ind[floor], "suspicious_operator", "warning", lambda r: (
        f"指标「{r.name}」的指标值写作「{r.target}」（上限）：此类比率指标通常应为下限（≥），请核对"))

    short = (ind["fraction"] < 1 - 1e-9) & (ind["reason"].fillna("") == "") & (ind["weight"] > 0)
    short &= ~ind["rule"].isin(["manual"])
    out += _records(ind[short], "unexplained_deviation", "warning", lambda r: (
        f"指标「{r.name}」未完全达到目标（指标值 {r.target or '—'}，实际完成值 {r.actual or '—'}，"
        f"得 {_fmt(r.score)}/{_fmt(r.weight)} 分），但未填写偏差原因"))
    manual_no_reason = (ind["rule"] == "manual") & (ind["deduction"].fillna(0) > 0) & \
        (ind["deduction_reason"].fillna("") == "")
    out += _records(ind[manual_no_reason], "unexplained_deviation", "warning", lambda r: (
        f"指标「{r.name}」扣 {_fmt(r.deduction)} 分，但未填写扣分原因"))
    big = (ind["deviation"].abs() > options.deviation_threshold) & ~short & \
        (ind["reason"].fillna("") == "") & ~ind["over_achieved"]
    out += _records(ind[big], "unexplained_deviation", "info", lambda r: (
        f"指标「{r.name}」偏差率 {pct(r.deviation)} 超过 {pct(options.deviation_threshold, 0)}，"
        f"应说明原因"))

    out += _records(ind[ind["over_achieved"]], "over_achievement", "warning", lambda r: (
        f"指标「{r.name}」实际完成值为目标的 {pct(r.completion, 0)}"
        f"（≥{pct(options.over_achievement_threshold, 0)}），目标可能设定偏低；"
        f"按10号文应说明原因，并可按偏离度调减得分"))
    unknown = (ind["rule"] == "qualitative") & ind["qualitative_level"].isna()
    out += _records(ind[unknown], "qualitative_unclassified", "warning", lambda r: (
        f"定性指标「{r.name}」的实际完成值「{r.actual}」无法判断等级，按 0 分计；"
        f"请写明 达成/部分达成/未达成（或 优/良/中/差）"))
    return out


def _stated_where(r) -> str:
    return f"报告{r.where}" if r.where else "报告"


AMOUNT_FIELDS = {"预算数": "budget", "到位数": "allocated", "执行数": "spent"}
RATE_FIELDS = {"预算执行率": "execution_rate", "资金到位率": "arrival_rate", "偏差率": "deviation_rate"}


def _computed(stated: pd.DataFrame, levels: pd.DataFrame, head: pd.DataFrame) -> pd.DataFrame:
    """Each stated figure beside the value perfeval computes for it (vectorised over projects)."""
    out = stated.copy()
    h = head.set_index("pidx")
    item = out["item"]
    kind = np.select(
        [item == "总分", item == "等级", item.isin(list(AMOUNT_FIELDS)), item.isin(list(RATE_FIELDS)),
         item.str.endswith("得分率"), item.str.endswith("得分")],
        ["total", "grade", "amount", "rate", "level_rate", "level_score"], default="")
    out["kind"] = kind
    computed = np.full(len(out), np.nan)
    for name, column in (("total", None), *((k, v) for k, v in {**AMOUNT_FIELDS, **RATE_FIELDS}.items())):
        mask = (kind == "total") if column is None else (item == name).to_numpy()
        if mask.any():
            field = "total" if column is None else column
            computed[mask] = h[field].reindex(out.loc[mask, "pidx"]).to_numpy(dtype=float)
    lv = levels.set_index(["pidx", "name"])
    for suffix, column in (("得分率", "score_rate"), ("得分", "score")):
        mask = kind == ("level_rate" if suffix == "得分率" else "level_score")
        if mask.any():
            keys = pd.MultiIndex.from_arrays([out.loc[mask, "pidx"], item[mask].str.removesuffix(suffix)])
            computed[mask] = lv[column].reindex(keys).to_numpy(dtype=float)
    out["computed"] = computed
    for column in ("grade", "total", "budget", "allocated", "spent"):
        out[column] = h[column].reindex(out["pidx"]).to_numpy()
    places = out["text"].map(decimals_of).to_numpy() + np.where(
        np.isin(kind, ["rate", "level_rate"]) & out["text"].str.contains("%").to_numpy(), 2, 0)
    out["agrees"] = np.abs(out["computed"] - out["value"]) <= 0.5 * 10.0 ** -places.astype(float) + 1e-9
    return out


def _stated_findings(stated: pd.DataFrame, levels: pd.DataFrame, head: pd.DataFrame,
                     scheme: Scheme, options: ScoringOptions) -> list[dict]:
    if stated.empty:
        return []
    out: list[dict] = []
    tolerance = 0.5 * 10.0 ** -options.decimals
    c = _computed(stated, levels, head)
    differs = (c["computed"] - c["value"]).abs() > tolerance
    base = "到位数" if options.execution_denominator == "allocated" else "预算数"
    how = {"预算执行率": f"执行数/{base}", "资金到位率": "到位数/预算数", "偏差率": "1 − 预算执行率"}

    def add(rows: pd.DataFrame, code: str, message) -> None:
        out.extend({"pidx": r.pidx, "code": code, "severity": "error", "message": message(r),
                    "where": _stated_where(r)} for r in rows.itertuples())

    add(c[(c["kind"] == "total") & differs], "stated_total", lambda r: (
        f"报告总分 {r.text} 分，各指标得分合计为 {_fmt(r.computed)} 分（差 {_fmt(r.value - r.computed)} 分"
        + ("；按报告所写精度取整后相同，但总分应为各项得分之和）" if r.agrees else "）")))
    add(c[(c["kind"] == "grade") & (c["text"] != c["grade"])], "stated_grade", lambda r: (
        f"报告绩效等级为「{r.text}」，按计算总分 {_fmt(float(r.total))} 分应为「{r.grade}」"))
    add(c[(c["kind"] == "amount") & ((c["computed"] - c["value"]).abs() > 0.005)], "stated_amount",
        lambda r: f"报告{r.item} {_fmt(r.value, 4)} 万元，与项目信息中的{r.item} {_fmt(r.computed, 4)} 万元不符")

    def rate_message(r) -> str:
        amounts = (f"执行数 {_fmt(float(r.spent), 4)}、到位数 {_fmt(float(r.allocated), 4)}、"
                   f"预算数 {_fmt(float(r.budget), 4)} 万元")
        return f"报告{r.item}为 {r.text}，按{how[r.item]}（{amounts}）计算为 {pct(r.computed)}"

    add(c[(c["kind"] == "rate") & ~c["agrees"]], "stated_rate", rate_message)
    add(c[(c["kind"] == "level_rate") & ~c["agrees"]], "stated_rate", lambda r: (
        f"报告「{r.item.removesuffix('得分率')}」类指标得分率为 {r.text}，按各指标得分合计计算为 {pct(r.computed, 2)}"))
    add(c[(c["kind"] == "level_score") & differs], "stated_subtotal", lambda r: (
        f"报告「{r.item.removesuffix('得分')}」类指标得分 {r.text} 分，其下各三级指标得分合计为 {_fmt(r.computed)} 分"))

    # the same quantity stated with different values in different places
    key = c["text"].where(c["kind"] == "grade", c["value"].round(6).astype(str))
    counts = key.groupby([c["pidx"], c["item"]], sort=False).transform("nunique")
    conflicts = c.loc[counts > 1, ["pidx", "item", "text", "where"]]
    for (pidx, item), rows in groupby(conflicts.sort_values(["pidx", "item"], kind="stable")
                                      .itertuples(index=False), key=lambda r: (r.pidx, r.item)):
        by_text: dict[str, list[str]] = {}
        for r in rows:
            by_text.setdefault(r.text, []).append(r.where)
        parts = [f"{text}（{'、'.join(wheres)}）" for text, wheres in by_text.items()]
        out.append({"pidx": pidx, "code": "conflicting_statements", "severity": "error",
                    "message": f"报告对「{item}」给出了不同的数值：" + "；".join(parts),
                    "where": "报告" + "、".join(w for ws in by_text.values() for w in ws)})
    return out


def _project_findings(ind: pd.DataFrame, levels: pd.DataFrame, head: pd.DataFrame,
                      scheme: Scheme) -> list[dict]:
    out: list[dict] = []
    expected = {lv.name: lv.weight for lv in scheme.levels}
    lv = levels.assign(expected=levels["name"].map(expected))
    off = lv[(lv["weight"] - lv["expected"]).abs() > 1e-6]
    out += _records(off, "weights", "warning", lambda r: (
        f"一级指标「{r.name}」分值合计 {_fmt(r.weight)} 分，评价方案「{scheme.name}」为 {_fmt(r.expected)} 分"),
        where=lambda r: f"指标表一级指标「{r.name}」")
    if scheme.min_output_benefit > 0:
        ob = lv[lv["name"].isin(["产出", "效益"])].groupby("pidx")["weight"].sum()
        for pidx, weight in ob[ob < scheme.min_output_benefit - 1e-9].items():
            out.append({"pidx": pidx, "code": "weights", "severity": "warning",
                        "message": f"产出与效益指标合计 {_fmt(weight)} 分，低于10号文要求的 "
                                   f"{_fmt(scheme.min_output_benefit)} 分（60%）",
                        "where": "指标表"})
    funded = head[head["funding_total"].notna() & ((head["funding_total"] - head["budget"]).abs() > 0.005)]
    out += _records(funded, "funding_breakdown", "warning", lambda r: (
        f"资金来源合计 {_fmt(r.funding_total, 4)} 万元，与预算数 {_fmt(r.budget, 4)} 万元不符"),
        where=lambda r: "项目信息 资金来源")
    over = head[head["spent"] > head["allocated"] + 1e-9]
    out += _records(over, "overspend", "warning", lambda r: (
        f"执行数 {_fmt(r.spent, 4)} 万元超过到位数 {_fmt(r.allocated, 4)} 万元"),
        where=lambda r: "项目信息 执行数")
    return out


def audit(ind: pd.DataFrame, levels: pd.DataFrame, head: pd.DataFrame, stated: pd.DataFrame,
          scheme: Scheme, options: ScoringOptions) -> pd.DataFrame:
    """All findings for the projects in these frames, as one tidy frame."""
    records = (_indicator_findings(ind, options)
               + _stated_findings(stated, levels, head, scheme, options)
               + _project_findings(ind, levels, head, scheme))
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    order = {"error": 0, "warning": 1, "info": 2}
    if not frame.empty:
        frame = frame.sort_values(["pidx", "severity"], key=lambda s: s.map(order) if s.name == "severity" else s,
                                  kind="stable", ignore_index=True)
    return frame
