"""Published scoring tables (评分表): a header block, an optional funds block and indicator rows with 分值 and 得分.

A scoring table has no 项目信息 sheet; its header row holds 一级指标 (or 项目权重) with lower levels, a score column
(得分, 自评分, 评价得分, 复核分) and weights in a 分值/权重 column or in the labels ('相关性(5 分)'). A table may hold
several header rows (one per block, e.g. 项目决策/项目管理 then 项目绩效 with 年初指标值/年终完成值); each header
applies to the rows below it. What the table says is read and scored on the table's own weights:

* header block — 项目名称, 主管部门, 实施单位, 年度 (a 年度 cell, a title such as '…(2021年)', or the file name),
  自评得分/自评总分 (a stated total), and the funds rows (调整预算数(A)/全年预算数/合计 → budget, 全年执行数(B) →
  spent, 执行率 → a stated 预算执行率). Amounts the table does not state are NaN ("not stated").
* indicator rows — levels inherited down merged cells; rows with neither 分值 nor 得分 nor values ('指标2:', '指标L')
  are template placeholders and skipped; 总分/合计 rows give stated totals.
* weights — the 分值 column, else the weight in the row's own label, else (no 分值 column) the weight of the
  parent label ('数量指标 15 分') shared equally by the rows under it, as the Hubei tables' 评价标准 prescribe.
  A row with a 得分 but a blank 分值 below a row with a 分值 shares that 分值 (a merged cell): the rows are one item.
* rule — an item with neither 指标值 nor 实际完成值 (or only a judgement text as 实际完成值) is the evaluator's
  judgement: rule 扣分 with deduction = 分值 − 得分 and reason "按表内得分"; with values the normal inference applies.
  '一' alone in a 指标值/实际完成值 cell is a dash (OCR reads '—' as '一') and means empty.

When the table's 一级指标 are not the chosen scheme's levels (or their printed weights differ), the table's own
system is used (`table_scheme.choose_scheme`) and an info note says so. Notes (info/warning findings about the
table) travel in `ScoringTableRead.notes` as dicts with the audit's finding columns (code, severity, message, where).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from python_calamine import CalamineWorkbook

from perfeval.errors import Problem, SchemeError
from perfeval.model import INDICATOR_COLUMNS, STATED_COLUMNS, Project
from perfeval.notation import EMPTY_TOKENS, normalise, parse_amount, parse_rate, parse_value
from perfeval.rules import infer_rule
from perfeval.scheme import Scheme, load_scheme
from perfeval.sheets.cells import cell_number
from perfeval.sheets.indicators import TOTAL_ROW_NAMES, check_indicators
from perfeval.sheets.layouts.selfeval import year_from_fill_date
from perfeval.sheets.load import ProjectRead
from perfeval.sheets.read import INDICATOR_HEADERS, RawWorkbook, Table, fold_header
from perfeval.table_scheme import choose_scheme, split_label

#: header cell (folded) -> role
_HIERARCHY = {"项目权重": 0, "一级指标": 1, "一级": 1, "二级指标": 2, "二级": 2, "三级指标": 3, "三级": 3,
              "指标名称": 4, "指标内容": 4, "评价内容": 4, "具体指标": 4, "四级指标": 4, "评价指标": 4}
_TOP = {"项目权重", "一级指标", "一级"}
_ROLES: dict[str, tuple[str, ...]] = {
    "weight": (*INDICATOR_HEADERS["weight"], "标准分", "分值(分)"),
    "target": (*INDICATOR_HEADERS["target"], "年初指标值", "预期目标值", "年度指标"),
    "actual": (*INDICATOR_HEADERS["actual"], "年终完成值", "全年完成值", "实际完成", "完成情况"),
    "stated_score": ("得分", "自评分", "评价得分", "自评得分", "实际得分", "评分", "得分(分)"),
    "review": ("复核分", "复核得分", "财政复核分", "复核评分", "审核得分"),
}
#: columns of perfeval's own 指标 sheet that a published scoring table does not have
_OWN_FORMAT = {"报告得分", "评分方法", "评分规则", "扣分", "扣分原因"}
#: header cells a scoring table may have that perfeval does not use
_IGNORED = {"评价标准", "评价标准及依据", "评分标准", "评分依据", "备注", "指标解释", "指标说明", "评价要点",
            "指标性质", "度量单位", "计量单位"}
_INFO_KEYS: dict[str, tuple[str, ...]] = {
    "name": ("项目名称",),
    "department": ("主管部门", "主管单位", "项目主管单位", "项目主管部门"),
    "unit": ("实施单位", "项目实施单位", "项目单位"),
    "year": ("年度", "项目年度", "评价年度", "预算年度"),
    "total": ("自评得分", "自评总分", "评价得分", "总得分", "综合得分", "评价总分"),
}
_KEY_OF = {name: key for key, names in _INFO_KEYS.items() for name in names}
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
#: '一' alone in a value cell is a dash read by OCR or typed for '—'
_DASHES = frozenset({"一", "一一"})
#: the first header row of a scoring table stands within these rows (title, header block and funds above it)
HEADER_SCAN_ROWS = 60


@dataclass
class ScoringTableRead(ProjectRead):
    """One project read from a scoring table, plus the reader's notes as dicts (code, severity, message, where);
    the project carries the same notes as `sheet_findings`."""

    notes: list[dict] = field(default_factory=list)


@dataclass
class ParsedTable:
    """What a scoring table says, before it becomes a `Project`."""

    sheet: str
    header_rows: list[int]  # Excel rows of the header rows
    info: dict[str, object]  # name, department, unit, year, title
    info_rows: dict[str, int]
    budget: float
    spent: float
    stated: list[dict[str, object]]  # STATED_COLUMNS
    frame: pd.DataFrame  # indicator rows: row, level1..name (folded), weight, target, actual, stated_score, …
    headers: dict[str, str]  # canonical -> header as written
    levels: list[tuple[str, float]]  # 一级 names (folded), with weight (label, else items' sum)
    problems: list[Problem] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)
    printed: dict[str, float] = field(default_factory=dict)  # 一级 name -> weight printed in its label
    checked: pd.DataFrame | None = None  # the indicator rows as `check_indicators` returns them
    total_weights: list[tuple[int, float]] = field(default_factory=list)  # (row, 分值) printed on 总分/合计 rows


def _fold(text: object) -> str:
    return fold_header(normalise(text).rstrip(":："))


def _role(cell: str) -> str | None:
    folded = _fold(cell)
    if folded in _HIERARCHY:
        return "hier"
    for role, names in _ROLES.items():
        if folded in names or normalise(cell).replace(" ", "") in names:
            return role
    if "原因" in folded:
        return "reason"
    if folded in _IGNORED:
        return "ignored"
    return None


def _header_columns(row: list[str]) -> dict[str, list[int]] | None:
    """Column roles of a header row, or None when the row is not a scoring-table header."""
    roles: dict[str, list[int]] = {}
    for j, cell in enumerate(row):
        if not cell:
            continue
        if _fold(cell) in _OWN_FORMAT:
            return None
        role = _role(cell)
        if role:
            roles.setdefault(role, []).append(j)
    hier = roles.get("hier", [])
    has_top = any(_fold(row[j]) in _TOP for j in hier)
    if len(hier) < 2 or not has_top or not (roles.get("stated_score") or roles.get("review")):
        return None
    return roles


def _texts(grid: pd.DataFrame) -> list[list[str]]:
    return [[normalise(v) for v in row] for row in grid.itertuples(index=False)]


def _note(code: str, severity: str, message: str, sheet: str, row: int | None = None,
          column: str | None = None) -> dict:
    """A reader's note on how it read the table (becomes a finding of the project; never refuses it)."""
    where = f"{sheet}第{row}行" if row is not None else f"{sheet}{column or ''}"
    return {"code": code, "severity": severity, "message": message, "where": where, "sheet": sheet, "row": row,
            "column": column}


def _as_problem(file: str, note: dict) -> Problem:
    return Problem(file, note["sheet"], note["row"], note["column"], None, note["message"], note["code"],
                   note["severity"])


def _is_blank(text: str) -> bool:
    return text.lower() in EMPTY_TOKENS or text in _DASHES


def _header_block(cells: list[list[str]], end: int, path: Path, sheet: str, parsed: ParsedTable) -> None:
    """项目名称, 主管部门, 实施单位, 年度, stated total, title and funds from the rows above the first header."""
    info, rows = parsed.info, parsed.info_rows
    titles: list[tuple[int, str]] = []
    for i in range(end):
        row = cells[i]
        filled = [(j, c) for j, c in enumerate(row) if c]
        if len(filled) == 1 and not re.search(r"[:：]", filled[0][1]) and _KEY_OF.get(_fold(filled[0][1])) is None:
            titles.append((i, filled[0][1]))
        for pos, (_, cell) in enumerate(filled):
            m = re.match(r"^([^:：]+)[:：]\s*(.*)$", cell, flags=re.S)
            key_text, inline = (m.group(1), m.group(2).strip()) if m else (cell, "")
            key = _KEY_OF.get(_fold(key_text))
            if key is None or key in info:
                continue
            value = inline
            if not value and pos + 1 < len(filled) and _KEY_OF.get(_fold(filled[pos + 1][1])) is None:
                value = filled[pos + 1][1]
            if value:
                info[key], rows[key] = value, i + 1
    if "total" in info:
        value = cell_number(info["total"])
        if value is None:
            parsed.problems.append(Problem(str(path), sheet, rows["total"], "自评得分", str(info["total"]),
                                           "总分应为数字"))
        else:
            parsed.stated.append({"item": "总分", "value": value, "text": str(info["total"]),
                                  "where": f"{sheet}第{rows['total']}行（表头）"})
    if titles:
        info["title"], rows["title"] = titles[0][1], titles[0][0] + 1
    if "year" in info:
        m = _YEAR.search(str(info["year"])) or re.fullmatch(r"((?:19|20)\d{2})", str(info["year"]))
        info["year"] = int(m.group(1)) if m else info["year"]
    else:
        for i, text in titles:
            m = _YEAR.search(text)
            if m and "日期" not in text:
                info["year"], rows["year"] = int(m.group(1)), i + 1
                break
        else:
            m = _YEAR.search(path.stem)
            if m:
                info["year"] = int(m.group(1))
            else:
                _year_from_fill_date(cells, end, sheet, info, rows, parsed)
    _funds(cells, end, path, sheet, parsed)


def _year_from_fill_date(cells: list[list[str]], end: int, sheet: str, info: dict, rows: dict,
                         parsed: ParsedTable) -> None:
    """No year anywhere else: the 填报日期 tells it (the same rule as the 自评表 reader), said as a warning."""
    for i, row in enumerate(cells[:end]):
        for text in row:
            label, _, value = _fold(text).partition(":")
            if label in ("填报日期", "填表日期") and (year := year_from_fill_date(value)) is not None:
                info["year"], rows["year"] = year, i + 1
                said = f"表中未写年度，按填报日期「{value}」推定为 {year} 年度，请核对"
                parsed.notes.append(_note("year_inferred", "warning", said, sheet, i + 1, label))
                return


def _funds(cells: list[list[str]], end: int, path: Path, sheet: str, parsed: ParsedTable) -> None:
    """Budget, spent and the stated 执行率 from the funds rows (header with 执行数, amounts on a row below)."""
    for i in range(end):
        folded = [_fold(c) for c in cells[i]]
        spent_col = next((j for j, c in enumerate(folded) if "执行数" in c or c.startswith("全年执行")), None)
        if spent_col is None:
            continue
        budget_col = None
        for words in (("调整预算", "调整后预算", "全年预算"), ("预算数", "年初预算", "预算"), ("合计",)):
            budget_col = next((j for j, c in enumerate(folded) if j != spent_col and any(w in c for w in words)),
                              None)
            if budget_col is not None:
                break
        rate_col = next((j for j, c in enumerate(folded) if "执行率" in c), None)
        scale = 1e-4 if any(c.endswith("(元)") or c.endswith("（元）") for c in cells[i]) else 1.0
        for k in range(i + 1, end):
            spent, err = parse_amount(cells[k][spent_col]) if spent_col < len(cells[k]) else (None, "")
            if spent is None and not err:
                continue
            where = f"{sheet}第{k + 1}行"
            if err:
                parsed.problems.append(Problem(str(path), sheet, k + 1, cells[i][spent_col], cells[k][spent_col],
                                               err))
                return
            parsed.spent = spent * scale
            if budget_col is not None:
                budget, err = parse_amount(cells[k][budget_col])
                if err:
                    parsed.problems.append(Problem(str(path), sheet, k + 1, cells[i][budget_col],
                                                   cells[k][budget_col], err))
                elif budget is not None:
                    parsed.budget = budget * scale
            if rate_col is not None and not _is_blank(cells[k][rate_col]):
                rate = parse_rate(cells[k][rate_col])
                if rate is None:
                    parsed.problems.append(Problem(str(path), sheet, k + 1, cells[i][rate_col], cells[k][rate_col],
                                                   "应为百分比，如 95.6%"))
                else:
                    parsed.stated.append({"item": "预算执行率", "value": rate, "text": cells[k][rate_col],
                                          "where": where})
            return
        return


def _segment_rows(cells: list[list[str]], header: int, stop: int, roles: dict[str, list[int]]) -> list[dict]:
    """The rows of one block under its header, as dicts of raw texts (levels inherited down merged cells)."""
    hier = roles["hier"]
    names, levels = hier[-1], hier[:-1][-3:]

    def get(row: list[str], role: str) -> str:
        cols = roles.get(role)
        return row[cols[0]] if cols and cols[0] < len(row) else ""

    out = []
    carried = [""] * len(levels)
    for i in range(header + 1, stop):
        row = cells[i]
        for n, j in enumerate(levels):
            if j < len(row) and row[j]:
                carried[n] = row[j]
                carried[n + 1:] = [""] * (len(levels) - n - 1)
        labels = dict(zip(("level1", "level2", "level3"), carried, strict=False))
        own = [row[j] for j in hier if j < len(row) and row[j]]
        out.append({
            "row": i + 1, **{k: labels.get(k, "") for k in ("level1", "level2", "level3")},
            "name": row[names] if names < len(row) else "",
            "own_labels": own, "total_label": next((c for c in row if normalise(c).replace(" ", "") in TOTAL_ROW_NAMES),
                                                   ""),
            "weight_text": get(row, "weight"), "target": get(row, "target"), "actual": get(row, "actual"),
            "score_text": get(row, "stated_score"), "review_text": get(row, "review"),
            "reason": get(row, "reason"), "has_weight_column": bool(roles.get("weight")),
            "weight_col": roles["weight"][0] if roles.get("weight") else None,
        })
    return out


def _is_total(rec: dict) -> bool:
    """A 总分/合计 row (the word may stand in any cell of the row, e.g. left of the 一级指标 column)."""
    return bool(rec["total_label"])


def _own_weights(records: list[dict]) -> None:
    """Weight written for the row itself: the 分值 column, else the row's own label ('相关性(5 分)')."""
    for rec in records:
        text = rec["weight_text"]
        rec["weight"], rec["weight_from"] = None, ""
        if text and not _is_blank(text):
            rec["weight"], rec["weight_from"] = cell_number(text), "column"
            if rec["weight"] is None:
                rec["weight"], rec["weight_from"] = text, "bad"
        else:
            _, in_label = split_label(rec["name"])
            if in_label is not None:
                rec["weight"], rec["weight_from"] = in_label, "label"


def _merged_cells(raw: RawWorkbook) -> dict[tuple[int, int], tuple[int, int]] | None:
    """0-based (row, column) of every cell inside a merged range of the 指标 sheet -> its top-left cell; None when
    the file cannot say (a CSV keeps only the top-left text)."""
    if raw.path.suffix.lower() not in (".xlsx", ".xlsm"):
        return None
    try:
        sheet = CalamineWorkbook.from_path(str(raw.path)).get_sheet_by_name(raw.sheet_names["指标"])
        ranges = sheet.merged_cell_ranges or []
    except Exception:  # calamine raises its own types; the grid itself was read, so go on without merges
        return None
    return {(r, c): top for top, (r1, c1) in ranges for r in range(top[0], r1 + 1) for c in range(top[1], c1 + 1)}


def _shared_weights(records: list[dict], merged: dict[tuple[int, int], tuple[int, int]] | None) -> None:
    """A 得分 under a blank 分值, below a row of the same group whose 分值 is set: one merged 分值 cell. In a
    workbook the merge must be there; a CSV keeps no merges, so there the blank is read as one (and noted)."""
    last: dict | None = None
    for rec in records:
        group = (rec["segment"], rec["level1"], rec["level2"])
        if last is not None and (last["segment"], last["level1"], last["level2"]) != group:
            last = None
        if rec["weight_from"] == "column":
            last = rec
        elif rec["weight_from"] == "" and rec["score_text"] and rec["has_weight_column"] and last is not None:
            col = rec["weight_col"]
            if merged is not None and merged.get((rec["row"] - 1, col)) != (last["row"] - 1, col):
                last = None
                continue
            rec["weight_from"], rec["weight"] = "shared", last["weight"]
            last.setdefault("members", []).append(rec)
            last["merge_seen"] = merged is not None
        elif rec["weight_from"]:
            last = None


def _parent_weights(records: list[dict], complete: set[int], sheet: str, parsed: ParsedTable) -> None:
    """No 分值 column (every header cell recognised): the parent label's weight ('数量指标 15 分') shared equally
    by the rows under it, when none of them has a weight of its own."""
    by_parent: dict[tuple, list[dict]] = {}
    for rec in records:
        if rec["weight_from"] or rec["segment"] not in complete:
            continue
        for column in ("level3", "level2"):
            weight = split_label(rec[column])[1]
            if weight is not None:
                by_parent.setdefault((rec["segment"], rec["level1"], rec["level2"], column, rec[column], weight),
                                     []).append(rec)
                break
    for (segment, level1, level2, column, label, weight), recs in by_parent.items():
        siblings = [r for r in records if r["segment"] == segment and r["level1"] == level1
                    and r[column] == label and (column == "level2" or r["level2"] == level2)]
        if any(r["weight_from"] for r in siblings):
            continue
        share = weight / len(recs)
        for rec in recs:
            rec["weight"], rec["weight_from"] = share, "parent"
        names = "、".join(split_label(r["name"])[0] for r in recs)
        parsed.notes.append(_note(
            "table_weights", "info",
            f"表中没有分值列：上级指标「{split_label(label)[0]}」的 {weight:g} 分按其下 {len(recs)} 个三级指标平均分配"
            f"（{names}），每个 {share:g} 分", sheet, recs[0]["row"]))


def _combine_shared(records: list[dict], sheet: str, parsed: ParsedTable) -> list[dict]:
    """Rows sharing one merged 分值 become one item (name of the rows with a 分值 or 得分, scores summed)."""
    out = []
    for rec in records:
        if rec["weight_from"] == "shared":
            continue
        members = rec.get("members")
        if members:
            group = [rec, *members]
            scores = [cell_number(r["score_text"]) for r in group if r["score_text"]]
            readable = all(s is not None for s in scores)
            rec = {**rec, "name": "、".join(r["name"] for r in group),
                   "score_text": (f"{sum(scores):g}" if readable and scores else
                                  next((r["score_text"] for r in group if r["score_text"]
                                        and cell_number(r["score_text"]) is None), ""))}
            rows = "、".join(str(r["row"]) for r in group)
            how = ("合并单元格" if rec.get("merge_seen") else
                   "CSV 不保存合并单元格：下方有得分而分值为空的行按与上方共用分值理解，请核对原表")
            parsed.notes.append(_note(
                "table_weights", "info" if rec.get("merge_seen") else "warning",
                f"第{rows}行共用一个分值 {rec['weight']:g} 分（{how}），按一项指标计，得分合计 "
                f"{rec['score_text'] or '—'} 分：{rec['name']}", sheet, group[0]["row"]))
        out.append(rec)
    return out


def _is_placeholder(rec: dict) -> bool:
    """'指标2:', '指标L', empty rows, titles between blocks: no 分值, no 得分, no values."""
    return (rec["weight_from"] == "" and not rec["score_text"] and not rec["review_text"]
            and _is_blank(rec["target"]) and _is_blank(rec["actual"]))


def _value(text: str) -> str:
    return "" if text in _DASHES else text


def parse(raw: RawWorkbook) -> ParsedTable | None:
    """What the 指标 grid of `raw` says, when it is a published scoring table; None for anything else."""
    if "项目信息" in raw.sheets or "指标" not in raw.sheets:
        return None
    grid = raw.sheets["指标"]
    sheet = raw.sheet_names.get("指标", "指标")
    file = str(raw.path)
    if not any(_header_columns(row) is not None for row in _texts(grid.iloc[:HEADER_SCAN_ROWS])):
        return None
    cells = _texts(grid)
    headers = [(i, roles) for i, row in enumerate(cells) if (roles := _header_columns(row)) is not None]
    if not headers:
        return None
    parsed = ParsedTable(sheet, [i + 1 for i, _ in headers], {}, {}, math.nan, math.nan, [], pd.DataFrame(), {},
                         [])
    _header_block(cells, headers[0][0], raw.path, sheet, parsed)
    records: list[dict] = []
    for n, (i, roles) in enumerate(headers):
        stop = headers[n + 1][0] if n + 1 < len(headers) else len(cells)
        for rec in _segment_rows(cells, i, stop, roles):
            rec["segment"] = n
            records.append(rec)
            if _is_total(rec):  # what follows a block's 总分/合计 row is the table's footer (评价结论, signatures)
                break
        for role, cols in roles.items():
            key = "name" if role == "hier" else role
            parsed.headers.setdefault(key, cells[i][cols[-1] if role == "hier" else cols[0]])
        for level, j in zip(("level1", "level2", "level3"), roles["hier"][:-1][-3:], strict=False):
            parsed.headers.setdefault(level, cells[i][j])
    _totals(records, file, sheet, parsed)
    records = [r for r in records if not _is_total(r)]
    _own_weights(records)
    records = [r for r in records if not _is_placeholder(r)]
    _shared_weights(records, _merged_cells(raw))
    complete = {n for n, (i, roles) in enumerate(headers) if not _unknown_headers(cells[i], roles)}
    _parent_weights(records, complete, sheet, parsed)
    records = _combine_shared(records, sheet, parsed)
    _missing_weights(records, headers, cells, file, sheet, parsed)
    _review_column(records, sheet, parsed)
    parsed.frame = _frame(records)
    _unscored(parsed, file)
    parsed.levels = _levels(records)
    parsed.printed = {name: w for r in records for name, w in [split_label(r["level1"])] if w is not None}
    if not any(r["weight_from"] in ("", "bad") for r in records):
        _declared_subtotals(records, sheet, parsed)
        items = sum(r["weight"] for r in records)
        for row, weight in parsed.total_weights:
            if abs(weight - items) > 1e-6:
                parsed.notes.append(_note("level_weight", "warning", f"合计行分值为 {weight:g} 分，但各指标分值合计为 "
                                          f"{items:g} 分", sheet, row))
    return parsed


def _unknown_headers(row: list[str], roles: dict[str, list[int]]) -> list[str]:
    known = {j for cols in roles.values() for j in cols}
    return [c for j, c in enumerate(row) if c and j not in known]


def _unscored(parsed: ParsedTable, file: str) -> None:
    """An item judged by the evaluator (no 指标值/实际完成值) with a 分值 but no 得分 cannot be scored; a 指标值
    with digits that is not a number (OCR 'M.8万元') beside a numeric 实际完成值 cannot be compared."""
    frame = parsed.frame
    if frame.empty:
        return
    for r in frame.itertuples():
        target, actual = parse_value(normalise(r.target)), parse_value(normalise(r.actual))
        if target.kind == "text" and re.search(r"\d", r.target) and actual.is_numeric:
            parsed.problems.append(Problem(file, parsed.sheet, int(r.row), parsed.headers.get("target", "指标值"),
                                           r.target, f"指标值无法识别为数值，而实际完成值「{r.actual}」是数值；"
                                           "请核对指标值（如 14.8万元）"))
    blank = (frame["rule"] == "manual") & (frame["stated_score"] == "") & (frame["weight"].map(
        lambda w: isinstance(w, float) and w > 0))
    for r in frame[blank].itertuples():
        parsed.problems.append(Problem(file, parsed.sheet, int(r.row), parsed.headers.get("stated_score", "得分"), None,
                                       f"指标「{r.name}」有分值 {r.weight:g} 分，但没有得分，也没有指标值和实际完成值，"
                                       "无法评分"))


def _totals(records: list[dict], file: str, sheet: str, parsed: ParsedTable) -> None:
    for rec in records:
        if not _is_total(rec):
            continue
        text = rec["score_text"] or rec["review_text"]
        if text:
            value = cell_number(text)
            if value is None:
                parsed.problems.append(Problem(file, sheet, rec["row"],
                                               parsed.headers.get("stated_score", "得分"), text, "总分应为数字"))
            else:
                parsed.stated.append({"item": "总分", "value": value, "text": text,
                                      "where": f"{sheet}第{rec['row']}行（{rec['total_label']}）"})
        weight = cell_number(rec["weight_text"])
        if weight is not None:
            parsed.total_weights.append((rec["row"], weight))


def _missing_weights(records: list[dict], headers: list, cells: list[list[str]], file: str, sheet: str,
                     parsed: ParsedTable) -> None:
    """Rows whose weight cannot be read: one problem at the header when the 分值 column is missing (naming the
    header cells that were not recognised), else one per row."""
    missing = [r for r in records if r["weight_from"] == ""]
    bad = [r for r in records if r["weight_from"] == "bad"]
    for rec in bad:
        parsed.problems.append(Problem(file, sheet, rec["row"], parsed.headers.get("weight", "分值"),
                                       rec["weight_text"], "分值应为非负数字，如 10 或 4.5"))
    by_segment: dict[int, list[dict]] = {}
    for rec in missing:
        by_segment.setdefault(rec["segment"], []).append(rec)
    for segment, recs in by_segment.items():
        i, roles = headers[segment]
        if roles.get("weight"):
            for rec in recs:
                parsed.problems.append(Problem(file, sheet, rec["row"], parsed.headers.get("weight", "分值"), None,
                                               f"指标「{rec['name']}」有得分或指标值，但分值为空"))
            continue
        unknown = _unknown_headers(cells[i], roles)
        shown = "、".join(f"「{c}」" for c in unknown)
        parsed.problems.append(Problem(
            file, sheet, i + 1, unknown[0] if len(unknown) == 1 else None, "、".join(unknown) or None,
            "找不到分值列（表头应有「分值」或「权重」），指标名称中也没有标注分值（如「相关性(5分)」）"
            + (f"；无法识别的表头：{shown}" if unknown else "")
            + f"；第{recs[0]['row']}行起 {len(recs)} 个指标无法确定分值"))
    for rec in missing + bad:
        rec["weight"] = 0.0


def _review_column(records: list[dict], sheet: str, parsed: ParsedTable) -> None:
    """得分/自评分 is the stated score; a 复核分 column is used only when the table has no other score column."""
    for rec in records:
        if not rec["score_text"] and rec["review_text"]:
            rec["score_text"] = rec["review_text"]
            rec["score_from_review"] = True
    reviewed = [r for r in records if r["review_text"] and not r.get("score_from_review")]
    if reviewed:
        parsed.notes.append(_note("table_review", "info",
                                  f"表中有 {len(reviewed)} 个指标填写了复核分；评分与核对以自评分为准",
                                  sheet, reviewed[0]["row"]))


def _frame(records: list[dict]) -> pd.DataFrame:
    rows = []
    for rec in records:
        target, actual = _value(rec["target"]), _value(rec["actual"])
        stated = cell_number(rec["score_text"]) if rec["score_text"] else None
        name, _ = split_label(rec["name"])
        level3 = split_label(rec["level3"])[0] or name  # a 三级 column that is also the name column
        weight = rec["weight"]
        rule = infer_rule(name, level3, parse_value(normalise(target)), parse_value(normalise(actual)))
        deduction, reason = "", ""  # text, as a sheet cell (check_indicators parses it)
        if rule == "manual" and stated is not None and isinstance(weight, float):
            deduction, reason = f"{max(weight - stated, 0.0):.10g}", "按表内得分"
        rows.append({
            "row": rec["row"], "level1": split_label(rec["level1"])[0], "level2": split_label(rec["level2"])[0],
            "level3": level3, "name": name, "weight": weight, "target": target, "actual": actual, "method": "",
            "stated_score": rec["score_text"], "deduction": deduction, "deduction_reason": reason,
            "reason": rec["reason"], "measure": "", "rule": rule,
        })
    columns = [*INDICATOR_COLUMNS, "rule"]
    return pd.DataFrame(rows, columns=columns).astype({"row": int}) if rows else pd.DataFrame(columns=columns)


def _levels(records: list[dict]) -> list[tuple[str, float]]:
    """一级 labels in order with their weight: printed in the label, else the sum of their items."""
    order: dict[str, float] = {}
    sums: dict[str, float] = {}
    for rec in records:
        label = rec["level1"]
        name, printed = split_label(label)
        if not name:
            continue
        w = rec["weight"] if isinstance(rec["weight"], float) else 0.0
        sums[name] = sums.get(name, 0.0) + w
        if printed is not None:
            order.setdefault(name, printed)
        else:
            order.setdefault(name, math.nan)
    return [(name, sums[name] if math.isnan(w) else w) for name, w in order.items()]


def _declared_subtotals(records: list[dict], sheet: str, parsed: ParsedTable) -> None:
    """二级/三级 labels with a printed weight ('科学决策(10 分)') against the sum of their items' weights."""
    seen: dict[tuple[str, str, str], tuple[float, float, int]] = {}
    for rec in records:
        w = rec["weight"] if isinstance(rec["weight"], float) else 0.0
        for column in ("level2", "level3"):
            printed = split_label(rec[column])[1]
            if printed is None or rec["weight_from"] == "parent":
                continue
            key = (rec["level1"], column, rec[column])
            declared, got, row = seen.get(key, (printed, 0.0, rec["row"]))
            seen[key] = (declared, got + w, row)
    for (_, _, label), (declared, got, row) in seen.items():
        if abs(declared - got) > 1e-6:
            parsed.notes.append(_note(
                "level_weight", "warning",
                f"指标「{split_label(label)[0]}」标注 {declared:g} 分，但其下各指标分值合计为 {got:g} 分", sheet, row))


def _project(raw: RawWorkbook, parsed: ParsedTable, scheme: Scheme, problems: list[Problem],
             notes: list[dict[str, str]]) -> Project | None:
    file, sheet, info = str(raw.path), parsed.sheet, parsed.info
    name = info.get("name") or ""
    if not name and info.get("title"):
        name = str(info["title"])
        notes.append(_note("table_info", "info", f"表中没有「项目名称」，以表格标题「{name}」作为名称",
                           sheet, parsed.info_rows["title"]))
    if not name:
        problems.append(Problem(file, sheet, None, "项目名称", None, "表中没有「项目名称」，也没有表格标题"))
    year = info.get("year")
    if not isinstance(year, int):
        problems.append(Problem(file, sheet, parsed.info_rows.get("year"), "年度", None if year is None else str(year),
                                "表中没有可读的年度：应有「年度」栏、标题中的年份（如「…（2021年）」）或文件名中的年份"))
    frame = parsed.frame
    needs_funds = frame["rule"].isin(["execution", "arrival"])
    if needs_funds.any() and (math.isnan(parsed.budget) or math.isnan(parsed.spent)):
        row = int(frame.loc[needs_funds, "row"].iloc[0])
        problems.append(Problem(file, sheet, row, parsed.headers.get("name", "指标名称"),
                                str(frame.loc[needs_funds, "name"].iloc[0]),
                                "该指标按预算执行率计分，但表中资金栏缺少可读的预算数或执行数"))
    if not all(p.auditable for p in problems):
        return None
    stated = pd.DataFrame(parsed.stated, columns=list(STATED_COLUMNS)).astype({"value": float})
    return Project(
        id=raw.path.stem, name=name, department=str(info.get("department") or ""),
        unit=str(info.get("unit") or ""), year=int(year), method=scheme.name, scheme_id=scheme.spec,
        budget=parsed.budget, allocated=math.nan, spent=parsed.spent, indicators=parsed.checked,
        stated=stated, source=raw.path, sha256=raw.sha256,
        sheet_findings=tuple(_as_problem(file, note) for note in notes),
    )


def read(raw: RawWorkbook, scheme: str | Path | Scheme | None = None) -> list[ScoringTableRead] | None:
    """The project in a published scoring table, or None when `raw` is not one (perfeval's own workbook, a CSV
    set with 项目信息, a 自评表 whose 一级 are 产出/效益/满意度 — those keep their readers)."""
    parsed = parse(raw)
    if parsed is None or not parsed.levels:
        return None
    self_scheme = load_scheme("self")
    if all(self_scheme.level_of(name.replace(" ", "")) for name, _ in parsed.levels):
        return None
    file = str(raw.path)
    problems = list(parsed.problems)
    notes = list(parsed.notes)
    try:
        chosen = load_scheme(scheme)
    except SchemeError as exc:
        return [ScoringTableRead(raw.path.stem, None, [Problem(file, None, None, None, str(scheme), str(exc))])]
    labels = [(f"{name}({parsed.printed[name]:g}分)" if name in parsed.printed else name, weight)
              for name, weight in parsed.levels]
    used, why = choose_scheme(labels, chosen)
    if why:
        notes.insert(0, _note("table_scheme", "info", why, parsed.sheet, column="一级指标"))
    frame = parsed.frame.drop(columns="rule")
    table = Table(parsed.sheet, frame, parsed.header_rows[0], parsed.headers)
    keys = pd.Series(raw.path.stem, index=frame.index, dtype=object)
    checked = check_indicators(table, file, used, keys)
    problems += [p for _, p in checked.problems]
    parsed.checked = checked.frame.drop(columns="_key")
    project = _project(raw, parsed, used, problems, notes)
    return [ScoringTableRead(raw.path.stem, project, problems, notes)]
