"""The 指标 sheet: every indicator row checked column by column, and the weights."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from perfeval.deadline import read_date, read_status
from perfeval.errors import Problem
from perfeval.notation import is_empty, normalise, parse_value, plain_text, split_weight
from perfeval.rules import (
    NUMERIC_RULES,
    RULE_LABELS,
    RULES_NEEDING_ACTUAL,
    RULES_NEEDING_TARGET,
    classify_text,
    resolve_method,
    rule_of,
)
from perfeval.scheme import Scheme
from perfeval.sheets.cells import cell_number, unique_map, unreadable_cells
from perfeval.sheets.placeholders import PLACEHOLDER_CODE, is_placeholder, placeholder_message
from perfeval.sheets.read import INDICATOR_HEADERS, INDICATOR_LABELS, Table

#: columns whose value scoring reads (an unreadable cell there is an error)
SCORED_COLUMNS = ("level1", "level2", "level3", "name", "weight", "target", "actual", "method", "deduction",
                  "stated_score")
#: the evidence ledger's optional columns (perfeval.evidence)
LEDGER = ("evidence", "data_source")
TOTAL_ROW_NAMES = ("合计", "总计", "总分", "小计", "合  计")
#: text columns where a template's placeholder ("示例：…", "（填写…）") left in place is a warning
PLACEHOLDER_COLUMNS = ("level2", "level3", "name", "target", "actual", "deduction_reason", "reason", "measure")


def ffill_merged(frame: pd.DataFrame, columns: Iterable[str], group: str | None) -> pd.DataFrame:
    """Merged 一级/二级/三级 cells arrive as one value then blanks: inherit downwards — into rows that
    have content of their own (名称, 分值, 指标值 or 实际完成值); a blank row inside the table stays blank
    and is skipped."""
    frame = frame.copy()
    columns = [c for c in columns if c in frame]
    content = pd.Series(False, index=frame.index)
    for column in ("name", "weight", "target", "actual"):
        if column not in frame:
            continue
        content |= unique_map(frame[column], lambda v: not is_empty(v)).astype(bool)
    for column in columns:
        values = unique_map(frame[column], lambda v: None if is_empty(v) else v)
        grouped = values.groupby(unique_map(frame[group], plain_text)) if group and group in frame else values
        frame[column] = grouped.ffill().where(content | values.notna(), None)
    return frame


#: a row that is a note under (or inside) the table: 注：…, 说明：…, 填表人：…, 审核人：…, 联系电话：…
NOTE_ROW = re.compile(r"^\s*(?:注|说明|备注|附注|填表说明|填报说明|填表人|填报人|审核人|复核人|制表人|"
                      r"单位负责人|负责人|项目负责人|财务负责人|联系人|联系电话|电话|填报日期|填表日期|"
                      r"数据来源|资料来源|单位盖章|盖章)\s*\d*\s*[：:]")


def _table_rows(text: dict[str, pd.Series], keys: pd.Series, one_project_per_key: bool = False) -> pd.Series:
    """Rows that belong to the indicator table, as people lay it out: blank rows are skipped; total rows
    (合计/小计/总分 …) and notes (注：…, 填表人：…) are not indicators; in a one-project table the table ends
    at the first total row or note after which no indicator row carries a weight."""
    blank = {c: text[c] == "" for c in text}
    keep = ~(blank["name"] & blank["level3"] & blank["weight"] & blank["target"] & blank["actual"])
    labels = text["level1"].str.replace(" ", "") + "|" + text["level2"] + "|" + text["level3"] + "|" + text["name"]
    total_row = unique_map(labels, lambda s: any(part in TOTAL_ROW_NAMES or part.startswith("合计")
                                                 for part in s.split("|"))).astype(bool)
    note_row = pd.Series(False, index=keep.index)
    for column in ("level1", "level2", "level3", "name", "weight", "target", "actual"):
        note_row |= unique_map(text[column], lambda t: bool(NOTE_ROW.match(t))).astype(bool)
    keep &= ~total_row & ~note_row
    if len(keep) and one_project_per_key:  # many one-project tables at once: each ends on its own
        position = keys.groupby(keys, sort=False).cumcount()
        last_weight = position.where(~blank["weight"] & keep).groupby(keys, sort=False).transform("max")
        after = (total_row | note_row) & (position > last_weight.fillna(-1))
        first_end = position.where(after).groupby(keys, sort=False).transform("min")
        keep &= ~(position >= first_end.fillna(np.inf))
    elif len(keep) and keys.nunique() <= 1:
        position = pd.Series(range(len(keep)), index=keep.index)
        weighted = position[~blank["weight"] & keep]
        last_weight = int(weighted.iloc[-1]) if len(weighted) else -1
        ends = position[(total_row | note_row) & (position > last_weight)]  # 小计 rows between blocks stay
        if len(ends):
            keep &= position < int(ends.iloc[0])
    return keep


def _resolve_or_flag(value: object) -> str | None:
    try:
        return resolve_method(value)
    except ValueError:
        return "!"


INVALID_TARGET = ("无法识别的指标值写法；应为如 ≥24人、＝100%、≤33.46万元、80%-90%、3~5个、2024年12月31日前 "
                  "或 有效提升（不能写约数，数字不能带多余符号）")
INVALID_ACTUAL = ("无法识别的实际完成值写法；应为数字加单位（如 24人、96%）、完成日期（如 2024年11月20日）"
                  "或文字（如 达成预期指标）")
DEADLINE_TARGET = "评分方法「时效」需要写明期限的指标值，如 2024年12月31日前、12月底前、年底前、第三季度 或 按期"
DEADLINE_ACTUAL = ("时效指标的实际完成值应为完成日期（如 2024年11月20日、11月）或完成情况"
                   "（如 按期完成、提前完成、延期2个月）")


def _deadline_actual(actual: str, target: str, scheme: Scheme) -> str:
    """'' when a 时效 actual can be scored, else what is wrong (target and actual as written)."""
    target_read = read_date(normalise(target))
    actual_read = read_date(normalise(actual), None, True)
    if actual_read is not None and not actual_read.dateless:
        if target_read is not None and target_read.dateless:
            return (f"指标值「{target}」未写明期限，无法与完成日期比较；请在指标值写明期限"
                    "（如 2024年12月31日前），或把实际完成值写为 按期完成/延期完成")
        return ""
    if read_status(normalise(actual)) is not None or classify_text(actual, target, scheme.scale()) is not None:
        return ""
    return DEADLINE_ACTUAL


@dataclass
class CheckedIndicators:
    """Validated indicator rows of one or many projects, with their problems, keyed by project."""

    frame: pd.DataFrame  # INDICATOR_COLUMNS + "_key"
    problems: list[tuple[str, Problem]]
    declared: dict[str, dict[str, tuple[float, int]]]  # key -> level -> (weight in header, row)


def check_indicators(table: Table, file: str, scheme: Scheme, keys: pd.Series, *,
                     one_project_per_key: bool = False) -> CheckedIndicators:
    """Validate indicator rows column by column (vectorised; a portfolio has 10⁵ rows).

    `one_project_per_key`: the rows are many one-project tables (each key one workbook), each ending at its own
    first total row or note after its last weighted row, as a one-project table does alone."""
    sheet, frame = table.sheet, table.frame
    n = len(frame)

    def raw(column: str) -> pd.Series:
        return frame[column] if column in frame else pd.Series([None] * n, index=frame.index, dtype=object)

    text = {c: unique_map(raw(c), plain_text) for c in INDICATOR_HEADERS if c not in ("project_id", *LEDGER)}
    for c in LEDGER:  # optional columns other layouts may carry as missing values (NaN)
        text[c] = unique_map(raw(c).astype(object).where(raw(c).notna(), None), plain_text)
    keep = _table_rows(text, keys, one_project_per_key)
    frame, keys = frame[keep], keys[keep]
    text = {c: v[keep] for c, v in text.items()}
    rows = frame["row"].astype(int)
    problems: list[tuple[str, Problem]] = []
    # formulas without a result, error values, NaN where scoring reads: never blanks (the text columns
    # 扣分原因/偏差原因/改进措施 keep what the cell shows)
    unread = unreadable_cells(frame, SCORED_COLUMNS, ("weight", "target", "actual", "deduction", "stated_score"))
    for (i, column), message in unread.items():
        header = table.headers.get(column, INDICATOR_LABELS[column])
        problems.append((keys[i], Problem(file, sheet, int(rows[i]), header, str(frame.at[i, column]), message)))

    def bad(mask: pd.Series, column: str, expected, value: pd.Series | None = None, code: str = "",
            severity: str = "error") -> None:
        header = table.headers.get(column, INDICATOR_LABELS[column])
        shown = text[column] if value is None else value
        for i in mask[mask].index:
            if (i, column) in unread:
                continue  # already reported as unreadable
            message = expected(i) if callable(expected) else expected
            problems.append((keys[i], Problem(file, sheet, int(rows[i]), header, shown[i], message, code,
                                              severity)))

    split1 = unique_map(text["level1"], split_weight)
    level1 = unique_map(text["level1"], lambda v: scheme.level_of(v) if v else None)
    bad(text["level1"] == "", "level1", "一级指标不能为空（合并单元格会自动向下继承）")
    names = "、".join(lv.name for lv in scheme.levels)
    bad((text["level1"] != "") & level1.isna(), "level1", f"一级指标应为评价方案「{scheme.name}」中的 {names} 之一")
    declared: dict[str, dict[str, tuple[float, int]]] = {}
    header_weight = split1.map(lambda t: t[1])
    marked = (header_weight.notna() & level1.notna()).to_numpy(dtype=bool)
    for key, level, weight_, row in zip(keys.to_numpy(dtype=object)[marked], level1.to_numpy(dtype=object)[marked],
                                        header_weight.to_numpy(dtype=object)[marked], rows.to_numpy()[marked],
                                        strict=True):
        declared.setdefault(key, {}).setdefault(level, (float(weight_), int(row)))
    level2 = unique_map(text["level2"], lambda v: split_weight(v)[0])
    level3 = unique_map(text["level3"], lambda v: split_weight(v)[0])
    name = text["name"].where(text["name"] != "", level3)
    bad(name == "", "name", "指标名称不能为空")
    weight = pd.to_numeric(unique_map(text["weight"], cell_number), errors="coerce").astype(float)
    bad(weight.isna() | (weight < 0), "weight", "分值应为非负数字，如 10 或 4.5")
    method = unique_map(text["method"], _resolve_or_flag)
    bad(method == "!", "method", lambda i: _method_error(text["method"][i]))
    target = unique_map(text["target"], parse_value)
    actual = unique_map(text["actual"], parse_value)
    t_kind, a_kind = target.map(lambda m: m.kind), actual.map(lambda m: m.kind)
    bad(t_kind == "invalid", "target", INVALID_TARGET)
    bad(a_kind == "invalid", "actual", INVALID_ACTUAL)
    combos = pd.Series(list(zip(name, level3, text["target"], text["actual"], strict=True)), index=name.index)
    inferred = unique_map(combos, lambda k: rule_of(*k))
    rule = method.where(method.notna() & (method != "!"), inferred)
    bad(rule.isin(RULES_NEEDING_TARGET) & (t_kind == "empty"), "target",
        lambda i: f"评分方法「{rule[i]}」需要指标值（目标值）")
    no_actual = rule.isin(RULES_NEEDING_ACTUAL) & (a_kind == "empty")
    bad(no_actual, "actual", "实际完成值为空；请填写实际完成情况")
    # a number is needed: never a text or a date scored 0 behind a ✓
    numeric_rule = rule.isin(NUMERIC_RULES)
    bad(numeric_rule & t_kind.isin(["text", "date"]), "target",
        lambda i: f"评分方法「{RULE_LABELS[rule[i]]}」需要数值形式的指标值（如 ≥24人、≥95%、80%-90%）")
    bad(~no_actual & numeric_rule & target.map(lambda m: m.is_numeric) & a_kind.isin(["text", "date"]), "actual",
        lambda i: f"指标值「{text['target'][i]}」是数值，实际完成值也应写数值（如 24人、96%）")
    deadline = (rule == "deadline") & (t_kind != "empty")
    bad(deadline & (t_kind != "date") & (t_kind != "invalid"), "target", DEADLINE_TARGET)
    checkable = deadline & (t_kind == "date") & ~no_actual & (a_kind != "invalid")
    pairs = pd.Series(list(zip(text["actual"], text["target"], strict=True)), index=name.index)[checkable]
    deadline_problem = unique_map(pairs, lambda k: _deadline_actual(k[0], k[1], scheme)) if len(pairs) else pairs
    bad((deadline_problem != "").reindex(name.index, fill_value=False), "actual", lambda i: deadline_problem[i])
    stated = pd.to_numeric(unique_map(text["stated_score"], cell_number), errors="coerce").astype(float)
    bad((text["stated_score"] != "") & stated.isna(), "stated_score", "报告得分应为数字")
    deduction = pd.to_numeric(unique_map(text["deduction"], cell_number), errors="coerce").astype(float)
    bad((text["deduction"] != "") & (deduction.isna() | (deduction < 0)), "deduction", "扣分应为非负数字")
    bad(deduction > weight, "deduction", lambda i: f"扣分不能超过该指标分值 {weight[i]:g}")
    ident = pd.DataFrame({"k": keys, "l1": level1.fillna(""), "l2": level2, "n": name})
    dup = ident.duplicated(keep="first") & (name != "")
    first_row = rows.groupby([ident["k"], ident["l1"], ident["l2"], ident["n"]]).transform("first")
    bad(dup, "name", lambda i: f"指标重复：与第{first_row[i]}行的同一指标（{level1[i]}/{level2[i]}/{name[i]}）重复"
        f"；两行均按表内所写计分", value=name, code="duplicate_indicator")
    for column in PLACEHOLDER_COLUMNS:  # a template's example or placeholder left in place: a warning
        if column in frame:
            left = unique_map(text[column], is_placeholder).astype(bool)
            bad(left, column, lambda i, c=column: placeholder_message(text[c][i]), code=PLACEHOLDER_CODE,
                severity="warning")

    out = pd.DataFrame({
        "row": rows, "level1": level1.where(level1.notna(), split1.map(lambda t: t[0])).astype(object),
        "level2": level2.astype(object), "level3": level3.astype(object), "name": name.astype(object),
        "weight": weight, "target": text["target"].astype(object), "actual": text["actual"].astype(object),
        "method": method.where(method.notna() & (method != "!"), "").astype(object),
        "stated_score": stated, "deduction": deduction,
        "deduction_reason": text["deduction_reason"].astype(object), "reason": text["reason"].astype(object),
        "measure": text["measure"].astype(object), "evidence": text["evidence"].astype(object),
        "data_source": text["data_source"].astype(object), "_key": keys,
    })
    return CheckedIndicators(out.reset_index(drop=True), problems, declared)


def _method_error(value: str) -> str:
    try:
        resolve_method(value)
    except ValueError as exc:
        return str(exc)
    return ""


def check_weights(frame: pd.DataFrame, file: str, sheet: str, scheme: Scheme,
                   declared: dict[str, dict[str, tuple[float, int]]], weight_label: str) -> list[tuple[str, Problem]]:
    """Weights of many projects (`_key` column): declared level weights ("level_weight") and the
    total against the scheme ("weights", naming each level whose sum differs from the scheme's).

    Both are auditable: the table is still scored on its own weights (see `errors.AUDITABLE_CODES`)."""
    problems: list[tuple[str, Problem]] = []
    unusable = set(frame.loc[frame["weight"].isna(), "_key"])
    valid = frame[~frame["_key"].isin(unusable)]
    sums = valid.groupby(["_key", "level1"], sort=False)["weight"].sum()
    for key, levels in declared.items():
        if key in unusable:
            continue
        for level, (weight, row) in levels.items():
            got = float(sums.get((key, level), 0.0))
            if abs(got - weight) > 1e-6:
                message = f"一级指标「{level}」标注 {weight:g} 分，但其下各指标分值合计为 {got:g} 分；按各指标分值评分"
                problems.append((key, Problem(file, sheet, row, "一级指标", f"{level}({weight:g}分)", message,
                                              "level_weight")))
    totals = valid.groupby("_key", sort=False)["weight"].sum()
    off = totals[(totals - scheme.total_weight).abs() > 1e-6]
    for key, rows in valid[valid["_key"].isin(off.index)].groupby("_key", sort=False):
        # point at the first level whose items do not add up to its weight
        culprit = rows["row"]
        for level in scheme.levels:
            level_rows = rows.loc[rows["level1"] == level.name, "row"]
            expected = declared.get(key, {}).get(level.name, (level.weight, 0))[0]
            if abs(float(sums.get((key, level.name), 0.0)) - expected) > 1e-6 and len(level_rows):
                culprit = level_rows
                break
        total = float(off[key])
        got = {lv.name: float(sums.get((key, lv.name), 0.0)) for lv in scheme.levels}
        detail = "、".join(f"{name}{weight:g}" for name, weight in got.items())
        against = "；".join(f"{lv.name} {got[lv.name]:g} 分，方案为 {lv.weight:g} 分" for lv in scheme.levels
                           if abs(got[lv.name] - lv.weight) > 1e-6)
        problems.append((key, Problem(file, sheet, int(culprit.iloc[-1]), weight_label, f"合计 {total:g}",
                                      f"各指标分值合计应为 {scheme.total_weight:g} 分，实际为 {total:.10g} 分"
                                      f"（各一级指标合计：{detail}" + (f"；{against}" if against else "")
                                      + "）；按表内分值评分",
                                      "weights")))
    return problems
