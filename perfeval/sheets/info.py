"""The 项目信息 sheet: key-value pairs (one project) or a table (a portfolio) → project facts."""

from __future__ import annotations

import math
import unicodedata
from functools import lru_cache

import pandas as pd

from perfeval.errors import Problem
from perfeval.notation import is_empty, normalise, parse_amount, plain_text
from perfeval.sheets.cells import MAX_CELL_NUMBER, cell_number, unreadable
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

    A record maps each key as written to its value ("_pairs") and to its Excel row ("_rows")."""
    table = locate_table(grid, sheet, INFO_KEYS, scan_rows=5)
    if table is not None and {"id", "name"} <= set(table.headers) and len(table.headers) >= 3:
        header_cells = [normalise(c) for c in grid.iloc[table.header_row - 1].tolist()]
        records = []
        for excel_row in table.frame["row"]:
            values = grid.iloc[int(excel_row) - 1].tolist()
            if all(is_empty(v) for v in values):
                continue
            pairs = {key: value for key, value in zip(header_cells, values, strict=False) if key}
            records.append({"_pairs": pairs, "_rows": dict.fromkeys(pairs, int(excel_row))})
        return records, True
    rec: dict = {"_rows": {}, "_pairs": {}, "_repeats": {}}
    for i, raw in enumerate(grid.itertuples(index=False)):
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
    pairs, rows = rec["_pairs"], rec["_rows"]
    out: dict = {"funding": {}, "info": {}}
    used: set[str] = set()
    for field_name, names in INFO_KEYS.items():
        key, value = _lookup(pairs, names)
        if key is not None:
            used.add(key)
        label = INFO_LABELS[field_name]
        where = rows.get(key) if key else None
        problems.extend(_repeated(rec, label, names, file, sheet))
        if key is not None and (message := unreadable(value)):
            problems.append(Problem(file, sheet, where, key, plain_text(value), message))
            out[field_name] = None
            continue
        if key is None or is_empty(value):
            if field_name in REQUIRED_INFO:
                problems.append(Problem(file, sheet, where, label, None,
                                        f"缺少必填项「{label}」"))
            out[field_name] = None
            continue
        if field_name in ("budget", "allocated", "spent"):
            out[field_name] = _amount(value, file, sheet, where, label, problems)
        elif field_name == "year":
            number = cell_number(value)
            if number is None or not number.is_integer() or not 1990 <= number <= 2100:
                problems.append(Problem(file, sheet, where, label, plain_text(value),
                                        "应为四位年份，如 2022"))
                out[field_name] = None
            else:
                out[field_name] = int(number)
        else:
            out[field_name] = plain_text(value)
            if field_name == "id" and (problem := id_problem(out["id"], file, sheet, where, key)):
                problems.append(problem)  # the id is kept (a portfolio's rows still find it), refused
    for source, names in FUNDING_KEYS.items():
        key, value = _lookup(pairs, names)
        if key is None:
            continue
        used.add(key)
        problems.extend(_repeated(rec, source, names, file, sheet))
        if message := unreadable(value):
            problems.append(Problem(file, sheet, rows.get(key), key, plain_text(value), message))
            continue
        count = len(problems)
        amount = _amount(value, file, sheet, rows.get(key), key, problems)
        if amount is not None and len(problems) == count:
            out["funding"][source] = amount
    for key, value in pairs.items():
        if key not in used and not is_empty(value):
            out["info"][key] = plain_text(value)
    problems.extend(placeholder_problems(rec, file, sheet))
    return out


def placeholder_problems(rec: dict, file: str, sheet: str) -> list[Problem]:
    """A located warning for every field still holding a template's placeholder ("（填写项目名称）")."""
    rows = rec["_rows"]
    return [Problem(file, sheet, rows.get(key), key, plain_text(value), placeholder_message(value),
                    PLACEHOLDER_CODE, "warning")
            for key, value in rec["_pairs"].items() if is_placeholder(value)]
