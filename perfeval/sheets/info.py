"""The 项目信息 sheet: key-value pairs (one project) or a table (a portfolio) → project facts."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import replace
from functools import lru_cache
from itertools import repeat

import numpy as np
import pandas as pd

from perfeval.errors import Problem
from perfeval.notation import distinct_rows, is_empty, normalise, parse_amount, plain_text
from perfeval.sheets.cells import MAX_CELL_NUMBER, cell_number, collection_paused, unreadable
from perfeval.sheets.placeholders import PLACEHOLDER_CODE, is_placeholder, placeholder_message
from perfeval.sheets.read import INFO_KEY_HEADERS, locate_table
from perfeval.sheets.xlsx_guard import CellFault

INFO_KEYS: dict[str, tuple[str, ...]] = {
    "id": ("项目编号", "项目代码", "编号"),
    "name": ("项目名称",),
    "department": ("主管部门", "主管单位"),
    "unit": ("实施单位", "项目单位", "预算单位"),
    "year": ("年度", "评价年度", "预算年度", "项目年度"),
    "method": ("评价方式", "评价类型", "评价方案"),
    "budget": ("预算数", "全年预算数", "预算资金", "预算金额", "项目预算", "预算数（万元）"),
    "allocated": ("到位数", "到位资金", "实际到位资金", "到位金额", "资金到位数"),
    "spent": ("执行数", "全年执行数", "实际支出", "支出数", "执行金额", "实际支出资金"),
}
FUNDING_KEYS: dict[str, tuple[str, ...]] = {
    "本级财政资金": ("本级财政资金", "本级财政拨款", "当年财政拨款", "本级资金", "本级"),
    "上级财政资金": ("上级财政资金", "上级补助资金", "上级资金", "上级", "中央及上级财政资金"),
    "上年结转资金": ("上年结转资金", "上年结转", "上年结余", "结转资金", "结转"),
    "其他资金": ("其他资金", "其他"),
}
REQUIRED_INFO = ("id", "name", "year", "budget", "allocated", "spent")
#: a 项目编号 names the report's folder and files: longer ones are refused (file-name limits)
MAX_ID_LENGTH = 64
INFO_LABELS = {key: names[0] for key, names in INFO_KEYS.items()}

def info_records(grid: pd.DataFrame, file: str, sheet: str) -> tuple[list[dict], bool]:
    """Key-value rows -> one record; a table with 项目编号/项目名称 headers -> one record per row.

    A record maps each key as written to its value ("_pairs") and to its Excel row ("_rows"). The records of a
    table are read column by column: each record also carries its facts as `build_info` would build them
    ("_built", computed once per distinct cell of each column), so `build_info` on it costs a dict copy."""
    table = locate_table(grid, sheet, INFO_KEYS, scan_rows=5)
    if table is not None and {"id", "name"} <= set(table.headers) and len(table.headers) >= 3:
        with collection_paused():
            return _table_records(grid, table.header_row, table.frame["row"].to_numpy(), file, sheet), True
    rec: dict = {"_rows": {}, "_pairs": {}, "_repeats": {}}
    for i, raw in enumerate(grid.to_numpy(dtype=object).tolist()):  # rows as lists (no class or Series per sheet)
        nonempty = [c for c in raw if isinstance(c, CellFault) or normalise(c) != ""]
        if not nonempty:
            continue
        key = normalise(nonempty[0]).rstrip(":：")
        if key in INFO_KEY_HEADERS:
            continue
        if key in rec["_pairs"]:  # the first row counts; every repeat is reported
            rec["_repeats"].setdefault(key, []).append((i + 1, nonempty[1] if len(nonempty) > 1 else None))
            continue
        rec["_pairs"][key] = nonempty[1] if len(nonempty) > 1 else None
        rec["_rows"][key] = i + 1
    return [rec], False


class _Distinct:
    """One column as a code per row into its distinct values (told apart as Python sees them: 1 and 1.0 and
    '1', None and NaN apart), so that any function of a cell is computed once per distinct value."""

    __slots__ = ("codes", "values")

    def __init__(self, column: np.ndarray) -> None:
        self.codes, first = distinct_rows(column)
        self.values = column[first]

    def each(self, func) -> list:
        """`func` of each distinct value (index by `codes`)."""
        return [func(v) for v in self.values]


#: the row a per-value check is given in place of the record's own (replaced per record afterwards)
_ROW = -1


def _table_records(grid: pd.DataFrame, header_row: int, excel_rows: np.ndarray, file: str, sheet: str) -> list[dict]:
    """The records of a 项目信息 table (one per non-blank row), each with its facts built ("_built"): every
    check runs once per distinct value of its column and is then placed on the rows holding that value."""
    cells = grid.to_numpy(dtype=object)
    header_cells = [normalise(c) for c in cells[header_row - 1].tolist()]
    columns: dict[str, int] = {}  # key -> the column its value comes from (the last of that header)
    for j, key in enumerate(header_cells):
        if key:
            columns[key] = j
    rows = np.asarray(excel_rows, dtype=np.int64)
    body = cells[rows - 1] if len(rows) else cells[:0]
    distinct = [_Distinct(body[:, j]) for j in range(body.shape[1])]
    filled = np.zeros(len(body), dtype=bool)
    for d in distinct:
        filled |= ~np.asarray(d.each(is_empty), dtype=bool)[d.codes]
    body, rows = body[filled], rows[filled]
    for d in distinct:
        d.codes = d.codes[filled]
    keys = list(columns)
    steps = [_column_step(step, columns, distinct, len(body), file, sheet) for step in _plan(keys)]
    # the facts of every record, gathered column by column; the problems only for records that have any
    flagged = np.zeros(len(body), dtype=bool)
    for kind, _, _, codes, _, found in steps:
        if kind == "repeated":
            flagged[:] = True
        else:
            flagged |= np.fromiter(map(bool, found), dtype=bool, count=len(found))[codes]
    gathered = {kind: [(name, values[codes]) for k, name, _, codes, values, _ in steps if k == kind]
                for kind in ("field", "funding", "info")}
    names = {kind: [name for name, _ in gathered[kind]] for kind in gathered}
    per_row = {kind: zip(*(v.tolist() for _, v in gathered[kind]), strict=True) if gathered[kind] else repeat(())
               for kind in gathered}
    records = []
    for r, (values, row, fields, funding, info) in enumerate(zip(
            body[:, list(columns.values())].tolist(), rows.tolist(), per_row["field"], per_row["funding"],
            per_row["info"], strict=False)):
        pairs = dict(zip(keys, values, strict=True))
        out = {"funding": {k: v for k, v in zip(names["funding"], funding, strict=True) if v is not _NOTHING},
               "info": {k: v for k, v in zip(names["info"], info, strict=True) if v is not _NOTHING},
               **dict(zip(names["field"], fields, strict=True))}
        problems: list[Problem] = []
        if flagged[r]:
            for kind, name, key, codes, _, found in steps:
                if kind == "repeated":  # name: the field's label, key: its spellings
                    problems.extend(_repeated({"_pairs": pairs, "_rows": dict.fromkeys(pairs, row)}, name, key,
                                              file, sheet))
                elif found[codes[r]]:
                    problems.extend(_at_row(found[codes[r]], row))
        records.append({"_pairs": pairs, "_rows": dict.fromkeys(pairs, row), "_built": (file, sheet, out, problems)})
    return records


#: a funding source or an extra field that the record does not take (unreadable, or empty)
_NOTHING = object()


def _plan(keys: list[str]) -> list[tuple[str, str, object]]:
    """What `build_info` does with a record whose keys are `keys`, in its order: (kind, name, key or names)."""
    present = set(keys)
    plan: list[tuple[str, str, object]] = []
    used: set[str] = set()
    for field_name, names in INFO_KEYS.items():
        key = next((k for k in _spellings(names) if k in present), None)
        if key is not None:
            used.add(key)
            if sum(k in present for k in _spellings(names)) > 1:
                plan.append(("repeated", INFO_LABELS[field_name], names))
        plan.append(("field", field_name, key))
    for source, names in FUNDING_KEYS.items():
        key = next((k for k in _spellings(names) if k in present), None)
        if key is None:
            continue
        used.add(key)
        if sum(k in present for k in _spellings(names)) > 1:
            plan.append(("repeated", source, names))
        plan.append(("funding", source, key))
    # kinds "funding" and "info" name the dict of the facts they fill
    plan.extend(("info", key, key) for key in keys if key not in used)
    plan.extend(("placeholder", key, key) for key in keys)
    return plan


def _column_step(step: tuple[str, str, object], columns: dict[str, int], distinct: list[_Distinct], rows: int,
                 file: str, sheet: str) -> tuple[str, str, object, np.ndarray, np.ndarray, list]:
    """(kind, name, key, code per row, value per distinct cell, problems per distinct cell at row `_ROW`) of one
    plan step."""
    kind, name, key = step
    if kind == "repeated":  # two spellings of one field: compared per record (`_repeated`), rarely present
        return kind, name, key, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object), []
    if key is None:  # a field without a column: the same outcome for every record
        found: list[Problem] = []
        value = _field(name, None, None, file, sheet, None, found)
        return kind, name, key, np.zeros(rows, dtype=np.int64), _objects([value]), [found]
    d = distinct[columns[key]]
    values, problems = [], []
    for cell in d.values:
        found: list[Problem] = []
        if kind == "field":
            values.append(_field(name, key, cell, file, sheet, _ROW, found))
        elif kind == "funding":
            values.append(_funding(key, cell, file, sheet, _ROW, found))
        elif kind == "info":
            values.append(_NOTHING if is_empty(cell) else plain_text(cell))
        else:
            values.append(None)
            if is_placeholder(cell):
                found = placeholder_problems({"_pairs": {key: cell}, "_rows": {key: _ROW}}, file, sheet)
        problems.append(found or ())
    return kind, name, key, d.codes, _objects(values), problems


def _objects(values: list) -> np.ndarray:
    return np.fromiter(values, dtype=object, count=len(values))


def _at_row(found: list[Problem], row: int) -> list[Problem]:
    return [replace(p, row=row) if p.row == _ROW else p for p in found]


@lru_cache(maxsize=64)
def _spellings(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(key for name in names for key in (name, f"{name}（万元）", f"{name}(万元)")))


def _lookup(pairs: dict, names: tuple[str, ...]) -> tuple[str | None, object]:
    for key in _spellings(names):
        if key in pairs:
            return key, pairs[key]
    return None, None


def _repeated(rec: dict, label: str, names: tuple[str, ...], file: str, sheet: str) -> list[Problem]:
    """A field given twice — the same key on a second row, or two spellings (预算数, 全年预算数) with
    different values — is ambiguous: name both rows."""
    pairs, rows, repeats = rec["_pairs"], rec["_rows"], rec.get("_repeats", {})
    present = [key for key in _spellings(names) if key in pairs]
    if not present:
        return []
    first = present[0]
    problems = [Problem(file, sheet, row, key, plain_text(value),
                        f"「{key}」重复：第{rows[key]}行和第{row}行都填写了（{plain_text(pairs[key]) or '空'} / "
                        f"{plain_text(value) or '空'}）；请只保留一行")
                for key in present for row, value in repeats.get(key, [])]
    for other in present[1:]:
        if normalise(pairs[other]) != normalise(pairs[first]):
            problems.append(Problem(file, sheet, rows[other], other, plain_text(pairs[other]),
                                    f"「{label}」填写了两次且不一致：第{rows[first]}行「{first}」为 "
                                    f"{plain_text(pairs[first]) or '空'}，第{rows[other]}行「{other}」为 "
                                    f"{plain_text(pairs[other]) or '空'}；请只保留一行"))
    return problems


def _amount(value: object, file: str, sheet: str, row: int | None, label: str,
            problems: list[Problem]) -> float | None:
    """A money cell in 万元; a located problem (and None) when it cannot be used."""
    amount, err = parse_amount(value)
    if not err and amount is not None and not (math.isfinite(amount) and abs(amount) <= MAX_CELL_NUMBER):
        err = f"金额大得不合理（超过 {MAX_CELL_NUMBER:.0e} 万元）或溢出；请检查是否多打了数字"
    if err:
        problems.append(Problem(file, sheet, row, label, plain_text(value), err))
        return None
    if amount is not None and amount < 0:
        problems.append(Problem(file, sheet, row, label, plain_text(value), "金额不能为负数"))
    return amount


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def visible_id(value: str) -> str:
    """`value` with control and other invisible characters spelled as \\uXXXX (for messages and pages)."""
    return "".join(f"\\u{ord(ch):04x}" if _invisible(ch) else ch for ch in value)


def id_problem(value: str, file: str, sheet: str, row: int | None, key: str) -> Problem | None:
    """A 项目编号 that cannot name a folder and be shown as written: control characters (a tab,
    a line break, NUL …) or more than `MAX_ID_LENGTH` characters. Located, code "project_id"."""
    if value.isprintable() and len(value) <= MAX_ID_LENGTH:  # no Cc/Cf/Zl/Zp character (the usual id, fast)
        return None
    controls = sorted({f"U+{ord(ch):04X}" for ch in value if _invisible(ch)})
    shown = visible_id(value)
    if controls:
        return Problem(file, sheet, row, key, shown[:80],
                       f"项目编号含控制字符（{'、'.join(controls)}）；请删去换行、制表符等不可见字符",
                       code="project_id")
    if len(value) > MAX_ID_LENGTH:
        return Problem(file, sheet, row, key, shown[:80] + "…",
                       f"项目编号过长（{len(value)} 个字符，最多 {MAX_ID_LENGTH} 个）；"
                       "项目编号用作报告的文件夹名和文件名",
                       code="project_id")
    return None


def build_info(rec: dict, file: str, sheet: str, problems: list[Problem]) -> dict:
    """A record's facts (id, name, year, amounts, funding, other fields as "info"); what cannot be used is added to
    `problems`, located. A record `info_records` read from a table carries them already built."""
    built = rec.get("_built")
    if built is not None and built[:2] == (file, sheet):
        out = built[2]
        problems.extend(built[3])
        return {**out, "funding": dict(out["funding"]), "info": dict(out["info"])}
    pairs, rows = rec["_pairs"], rec["_rows"]
    out: dict = {"funding": {}, "info": {}}
    used: set[str] = set()
    for field_name, names in INFO_KEYS.items():
        key, value = _lookup(pairs, names)
        if key is not None:
            used.add(key)
        problems.extend(_repeated(rec, INFO_LABELS[field_name], names, file, sheet))
        out[field_name] = _field(field_name, key, value, file, sheet, rows.get(key) if key else None, problems)
    for source, names in FUNDING_KEYS.items():
        key, value = _lookup(pairs, names)
        if key is None:
            continue
        used.add(key)
        problems.extend(_repeated(rec, source, names, file, sheet))
        amount = _funding(key, value, file, sheet, rows.get(key), problems)
        if amount is not _NOTHING:
            out["funding"][source] = amount
    for key, value in pairs.items():
        if key not in used and not is_empty(value):
            out["info"][key] = plain_text(value)
    problems.extend(placeholder_problems(rec, file, sheet))
    return out


def _field(field_name: str, key: str | None, value: object, file: str, sheet: str, where: int | None,
           problems: list[Problem]) -> object:
    """One of `INFO_KEYS` read from the cell under `key` (None: the record lacks it)."""
    label = INFO_LABELS[field_name]
    if key is not None and (message := unreadable(value)):
        problems.append(Problem(file, sheet, where, key, plain_text(value), message))
        return None
    if key is None or is_empty(value):
        if field_name in REQUIRED_INFO:
            problems.append(Problem(file, sheet, where, label, None, f"缺少必填项「{label}」"))
        return None
    if field_name in ("budget", "allocated", "spent"):
        return _amount(value, file, sheet, where, label, problems)
    if field_name == "year":
        number = cell_number(value)
        if number is None or not number.is_integer() or not 1990 <= number <= 2100:
            problems.append(Problem(file, sheet, where, label, plain_text(value), "应为四位年份，如 2022"))
            return None
        return int(number)
    text = plain_text(value)
    if field_name == "id" and (problem := id_problem(text, file, sheet, where, key)):
        problems.append(problem)  # the id is kept (a portfolio's rows still find it), refused
    return text


def _funding(key: str, value: object, file: str, sheet: str, where: int | None, problems: list[Problem]) -> object:
    """A funding source's amount, or `_NOTHING` when the cell cannot be used (the problem added)."""
    if message := unreadable(value):
        problems.append(Problem(file, sheet, where, key, plain_text(value), message))
        return _NOTHING
    count = len(problems)
    amount = _amount(value, file, sheet, where, key, problems)
    return amount if amount is not None and len(problems) == count else _NOTHING


def placeholder_problems(rec: dict, file: str, sheet: str) -> list[Problem]:
    """A located warning for every field still holding a template's placeholder ("（填写项目名称）")."""
    rows = rec["_rows"]
    return [Problem(file, sheet, rows.get(key), key, plain_text(value), placeholder_message(value),
                    PLACEHOLDER_CODE, "warning")
            for key, value in rec["_pairs"].items() if is_placeholder(value)]
