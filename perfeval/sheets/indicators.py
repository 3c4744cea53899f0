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
from perfeval.sheets.cells import Coded, cell_number, codes_of, combine, unreadable
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
    return ffill_merged_coded(frame, columns, group)[0]


def ffill_merged_coded(frame: pd.DataFrame, columns: Iterable[str], group: str | None
                       ) -> tuple[pd.DataFrame, dict[str, Coded]]:
    """`ffill_merged`, and the columns it looked at as `Coded` (per row a code into the cells as written; the
    filled columns as filled): `check_indicators(coded=…)` takes them instead of coding each column again."""
    frame = frame.copy()
    columns = [c for c in columns if c in frame]
    coded: dict[str, Coded] = {}
    content = np.zeros(len(frame), dtype=bool)
    for column in ("name", "weight", "target", "actual"):
        if column in frame:
            coded[column] = Coded.of(frame[column])
            content |= ~coded[column].test(is_empty)
    groups = None
    if group and group in frame:
        coded[group] = Coded.of(frame[group])
        groups = coded[group].map(plain_text).compact().codes
    inherit = _Inheritance(groups, len(frame))
    for column in columns:
        values = (coded[column] if column in coded else Coded.of(frame[column])).map(
            lambda v: None if is_empty(v) else v)
        present = ~values.test(pd.isna)
        source = inherit.last_present(present)  # the row each row inherits from (-1: none)
        keep = (content | present) & (source >= 0)
        nothing = len(values.values)  # the code of None, the cell of a row that inherits nothing
        codes = np.full(len(frame), nothing, dtype=np.intp)
        codes[keep] = values.codes[source[keep]]
        filled = Coded(codes, np.append(values.values, np.full(1, None, dtype=object)))
        frame[column] = pd.Series(filled.array(), index=frame.index, dtype=object)
        coded[column] = filled
    return frame, coded


class _Inheritance:
    """Rows in groups (None: one group), ordered once so that each column's inheritance is a running maximum."""

    def __init__(self, groups: np.ndarray | None, n: int) -> None:
        self.n = n
        if groups is None or n == 0 or not (groups[1:] < groups[:-1]).any():  # groups come in blocks: no sort
            self.order = None
            g = groups if groups is not None and n else np.zeros(n, dtype=np.intp)
        else:
            self.order = np.argsort(groups, kind="stable")
            g = groups[self.order]
        start = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if n else np.zeros(0, dtype=np.intp)
        self.group_start = start[np.cumsum(np.r_[False, g[1:] != g[:-1]])] if n else start

    def last_present(self, present: np.ndarray) -> np.ndarray:
        """For each row the last row at or above it, in its own group, where `present` holds; -1 when none."""
        n, order = self.n, self.order
        if n == 0:
            return np.zeros(0, dtype=np.intp)
        last = np.maximum.accumulate(np.where(present if order is None else present[order], np.arange(n), -1))
        last = np.where(last >= self.group_start, last, -1)
        if order is None:
            return last
        out = np.empty(n, dtype=np.intp)
        out[order] = np.where(last >= 0, order[np.maximum(last, 0)], -1)
        return out


#: a row that is a note under (or inside) the table: 注：…, 说明：…, 填表人：…, 审核人：…, 联系电话：…
NOTE_ROW = re.compile(r"^\s*(?:注|说明|备注|附注|填表说明|填报说明|填表人|填报人|审核人|复核人|制表人|"
                      r"单位负责人|负责人|项目负责人|财务负责人|联系人|联系电话|电话|填报日期|填表日期|"
                      r"数据来源|资料来源|单位盖章|盖章)\s*\d*\s*[：:]")


def _total_label(text: str) -> bool:
    return any(part in TOTAL_ROW_NAMES or part.startswith("合计") for part in text.split("|"))


def _table_rows(text: dict[str, Coded], keys: pd.Series, one_project_per_key: bool = False) -> np.ndarray:
    """Rows that belong to the indicator table, as people lay it out: blank rows are skipped; total rows
    (合计/小计/总分 …) and notes (注：…, 填表人：…) are not indicators; in a one-project table the table ends
    at the first total row or note after which no indicator row carries a weight."""
    blank = {c: text[c].test(lambda v: v == "") for c in ("name", "level3", "weight", "target", "actual")}
    keep = ~(blank["name"] & blank["level3"] & blank["weight"] & blank["target"] & blank["actual"])
    # a label part (一级|二级|三级|名称, split at "|") naming a total; 一级 read without its spaces
    total_row = text["level1"].test(lambda v: _total_label(v.replace(" ", "")))
    for column in ("level2", "level3", "name"):
        total_row |= text[column].test(_total_label)
    note_row = np.zeros(len(keep), dtype=bool)
    for column in ("level1", "level2", "level3", "name", "weight", "target", "actual"):
        note_row |= text[column].test(lambda t: NOTE_ROW.match(t))
    keep &= ~total_row & ~note_row
    if len(keep) and one_project_per_key:  # many one-project tables at once: each ends on its own
        index = keys.index
        position = keys.groupby(keys, sort=False).cumcount()
        last_weight = position.where(pd.Series(~blank["weight"] & keep, index=index)).groupby(
            keys, sort=False).transform("max")
        after = pd.Series(total_row | note_row, index=index) & (position > last_weight.fillna(-1))
        first_end = position.where(after).groupby(keys, sort=False).transform("min")
        keep &= ~(position >= first_end.fillna(np.inf)).to_numpy(dtype=bool)
    elif len(keep) and keys.nunique() <= 1:
        position = np.arange(len(keep))
        weighted = position[~blank["weight"] & keep]
        last_weight = int(weighted[-1]) if len(weighted) else -1
        ends = position[(total_row | note_row) & (position > last_weight)]  # 小计 rows between blocks stay
        if len(ends):
            keep &= position < int(ends[0])
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
                     one_project_per_key: bool = False, coded: dict[str, Coded] | None = None) -> CheckedIndicators:
    """Validate indicator rows column by column (vectorised; a portfolio has 10⁵ rows).

    `one_project_per_key`: the rows are many one-project tables (each key one workbook), each ending at its own
    first total row or note after its last weighted row, as a one-project table does alone. `coded`: columns of
    `table.frame` already coded (`ffill_merged_coded`), row for row."""
    sheet, frame = table.sheet, table.frame
    n = len(frame)

    def raw(column: str) -> Coded:
        if column not in frame:
            return Coded(np.zeros(n, dtype=np.intp), np.full(1, None, dtype=object))
        if coded is not None and column in coded and column not in LEDGER:
            return coded[column]
        if column in LEDGER:  # optional columns other layouts may carry as missing values (NaN)
            return Coded.of(frame[column].astype(object).where(frame[column].notna(), None))
        return Coded.of(frame[column])

    cells = {c: raw(c) for c in INDICATOR_HEADERS if c != "project_id"}
    text = {c: v.map(plain_text).compact() for c, v in cells.items()}
    keep = _table_rows(text, keys, one_project_per_key)
    keys = keys[keep]
    cells = {c: v.take(keep) for c, v in cells.items()}
    text = {c: v.take(keep) for c, v in text.items()}
    n = len(keys)
    rows = frame["row"].astype(int)[keep]
    row_at = rows.to_numpy()
    key_at = keys.to_numpy(dtype=object)
    labels = frame.index[keep]
    problems: list[tuple[str, Problem]] = []
    # formulas without a result, error values, NaN where scoring reads: never blanks (the text columns
    # 扣分原因/偏差原因/改进措施 keep what the cell shows)
    numeric = ("weight", "target", "actual", "deduction", "stated_score")
    unread: dict[tuple[object, str], str] = {}
    for column in SCORED_COLUMNS:
        if column not in frame:
            continue
        messages = cells[column].map(lambda v, c=column: unreadable(v, c in numeric))
        for p in np.flatnonzero(messages.test(lambda m: m is not None)):
            unread[(labels[p], column)] = messages.at(p)
    for (i, column), message in unread.items():
        header = table.headers.get(column, INDICATOR_LABELS[column])
        problems.append((keys[i], Problem(file, sheet, int(rows[i]), header, str(frame.at[i, column]), message)))

    def bad(mask: np.ndarray, column: str, expected, value: Coded | None = None, code: str = "",
            severity: str = "error") -> None:
        header = table.headers.get(column, INDICATOR_LABELS[column])
        shown = text[column] if value is None else value
        for p in np.flatnonzero(mask):
            if (labels[p], column) in unread:
                continue  # already reported as unreadable
            message = expected(p) if callable(expected) else expected
            problems.append((key_at[p], Problem(file, sheet, int(row_at[p]), header, shown.at(p), message, code,
                                                severity)))

    empty = {c: v.test(lambda t: t == "") for c, v in text.items()}
    split1 = text["level1"].map(split_weight)
    level1 = text["level1"].map(lambda v: scheme.level_of(v) if v else None)
    level1_na = level1.test(pd.isna)
    bad(empty["level1"], "level1", "一级指标不能为空（合并单元格会自动向下继承）")
    names = "、".join(lv.name for lv in scheme.levels)
    bad(~empty["level1"] & level1_na, "level1", f"一级指标应为评价方案「{scheme.name}」中的 {names} 之一")
    declared: dict[str, dict[str, tuple[float, int]]] = {}
    header_weight = split1.map(lambda t: t[1])
    marked = ~header_weight.test(pd.isna) & ~level1_na
    for key, level, weight_, row in zip(key_at[marked], level1.array()[marked], header_weight.array()[marked],
                                        row_at[marked], strict=True):
        declared.setdefault(key, {}).setdefault(level, (float(weight_), int(row)))
    level2 = text["level2"].map(lambda v: split_weight(v)[0]).compact()
    level3 = text["level3"].map(lambda v: split_weight(v)[0]).compact()
    name = _name(text["name"], empty["name"], level3)
    name_empty = name.test(lambda v: v == "")
    bad(name_empty, "name", "指标名称不能为空")
    weight = text["weight"].floats(cell_number)
    with np.errstate(invalid="ignore"):
        bad(np.isnan(weight) | (weight < 0), "weight", "分值应为非负数字，如 10 或 4.5")
    method = text["method"].map(_resolve_or_flag)
    method_bad = method.test(lambda m: m == "!")
    bad(method_bad, "method", lambda p: _method_error(text["method"].at(p)))
    method_ok = ~method_bad & ~method.test(pd.isna)
    target = text["target"].map(parse_value)
    actual = text["actual"].map(parse_value)
    t_kind, a_kind = target.map(lambda m: m.kind), actual.map(lambda m: m.kind)

    def kind_is(kinds: Coded, *wanted: str) -> np.ndarray:
        return kinds.test(lambda k: k in wanted)

    bad(kind_is(t_kind, "invalid"), "target", INVALID_TARGET)
    bad(kind_is(a_kind, "invalid"), "actual", INVALID_ACTUAL)
    combo, first = combine(name.codes, level3.codes, text["target"].codes, text["actual"].codes)
    inferred = Coded(combo, np.fromiter((rule_of(name.at(p), level3.at(p), text["target"].at(p), text["actual"].at(p))
                                         for p in first), dtype=object, count=len(first)))

    def rule_at(p: int) -> object:
        return method.at(p) if method_ok[p] else inferred.at(p)

    def rule_in(rules) -> np.ndarray:
        return np.where(method_ok, method.test(lambda r: r in rules), inferred.test(lambda r: r in rules))

    bad(rule_in(RULES_NEEDING_TARGET) & kind_is(t_kind, "empty"), "target",
        lambda p: f"评分方法「{rule_at(p)}」需要指标值（目标值）")
    no_actual = rule_in(RULES_NEEDING_ACTUAL) & kind_is(a_kind, "empty")
    bad(no_actual, "actual", "实际完成值为空；请填写实际完成情况")
    # a number is needed: never a text or a date scored 0 behind a ✓
    numeric_rule = rule_in(NUMERIC_RULES)
    bad(numeric_rule & kind_is(t_kind, "text", "date"), "target",
        lambda p: f"评分方法「{RULE_LABELS[rule_at(p)]}」需要数值形式的指标值（如 ≥24人、≥95%、80%-90%）")
    bad(~no_actual & numeric_rule & target.test(lambda m: m.is_numeric) & kind_is(a_kind, "text", "date"), "actual",
        lambda p: f"指标值「{text['target'].at(p)}」是数值，实际完成值也应写数值（如 24人、96%）")
    deadline = rule_in(("deadline",)) & ~kind_is(t_kind, "empty")
    bad(deadline & ~kind_is(t_kind, "date", "invalid"), "target", DEADLINE_TARGET)
    checkable = np.flatnonzero(deadline & kind_is(t_kind, "date") & ~no_actual & ~kind_is(a_kind, "invalid"))
    deadline_problem = np.full(n, "", dtype=object)
    if len(checkable):
        pair, at = combine(text["actual"].codes[checkable], text["target"].codes[checkable])
        found = [_deadline_actual(text["actual"].at(checkable[i]), text["target"].at(checkable[i]), scheme)
                 for i in at]
        deadline_problem[checkable] = np.asarray(found, dtype=object)[pair]
    bad(deadline_problem != "", "actual", lambda p: deadline_problem[p])
    stated = text["stated_score"].floats(cell_number)
    bad(~empty["stated_score"] & np.isnan(stated), "stated_score", "报告得分应为数字")
    deduction = text["deduction"].floats(cell_number)
    with np.errstate(invalid="ignore"):
        bad(~empty["deduction"] & (np.isnan(deduction) | (deduction < 0)), "deduction", "扣分应为非负数字")
        bad(deduction > weight, "deduction", lambda p: f"扣分不能超过该指标分值 {weight[p]:g}")
    key_codes = codes_of(key_at)[0]
    level1_filled = level1.map(lambda v: "" if pd.isna(v) else v).compact()
    same, first = combine(key_codes, level1_filled.codes, level2.codes, name.codes)
    dup = np.ones(n, dtype=bool)
    dup[first] = False
    first_row = row_at[first][same]
    bad(dup & ~name_empty, "name",
        lambda p: f"指标重复：与第{first_row[p]}行的同一指标（{level1.at(p)}/{level2.at(p)}/{name.at(p)}）重复"
        f"；两行均按表内所写计分", value=name, code="duplicate_indicator")
    for column in PLACEHOLDER_COLUMNS:  # a template's example or placeholder left in place: a warning
        if column in frame:
            bad(text[column].test(is_placeholder), column, lambda p, c=column: placeholder_message(text[c].at(p)),
                code=PLACEHOLDER_CODE, severity="warning")

    def objects(values: np.ndarray) -> pd.Series:
        return pd.Series(values, dtype=object)

    level1_shown = np.where(level1_na, split1.map(lambda t: t[0]).array(), level1.array())
    out = pd.DataFrame({
        "row": rows.to_numpy(), "level1": objects(level1_shown), "level2": objects(level2.array()),
        "level3": objects(level3.array()), "name": objects(name.array()), "weight": weight,
        "target": objects(text["target"].array()), "actual": objects(text["actual"].array()),
        "method": objects(np.where(method_ok, method.array(), "").astype(object)),
        "stated_score": stated, "deduction": deduction,
        "deduction_reason": objects(text["deduction_reason"].array()), "reason": objects(text["reason"].array()),
        "measure": objects(text["measure"].array()), "evidence": objects(text["evidence"].array()),
        "data_source": objects(text["data_source"].array()), "_key": objects(key_at),
    })
    return CheckedIndicators(out, problems, declared)


def _name(written: Coded, empty: np.ndarray, level3: Coded) -> Coded:
    """指标名称 as written, else the 三级指标 (without its weight), under codes that compare like the names."""
    both = np.concatenate([written.values, level3.values])
    codes, uniques = codes_of(both)
    return Coded(np.where(empty, codes[len(written.values) + level3.codes], codes[written.codes]), uniques)


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
