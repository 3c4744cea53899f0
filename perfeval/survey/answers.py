"""Read a survey tool's export (.xlsx or .csv, one row per respondent) into coded answers — the I/O edge.

Each mapped answer becomes its scale point 1…5 (5 = most satisfied), blank → NaN. Everything is done per
distinct value, so 10⁵ respondents read in well under a second. An answer that is neither blank, a scale word
nor a number 1–5, and a time that is not a date, are located errors (file, sheet, row, column, value).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from perfeval.errors import Problem, SheetError
from perfeval.notation import EMPTY_TOKENS, normalise
from perfeval.sheets.read import read_workbook
from perfeval.sheets.xlsx_guard import CellFault
from perfeval.survey.mapping import SurveyMapping, scale_point

#: blanks as survey tools export them (问卷星: (空) / (跳过)), and the sheet's placeholders (— / * 无 …)
BLANK_ANSWERS = frozenset({"(空)", "(跳过)", "跳过", "空", "未作答", "未答"})
_BLANKS = BLANK_ANSWERS | EMPTY_TOKENS | {"（空）", "（跳过）", "N/A", "NA"}
#: at most this many unreadable cells are listed one by one (then one line says how many more)
MAX_LISTED = 50
HEADER_SCAN_ROWS = 10


@dataclass(frozen=True)
class Answers:
    """Coded answers: one row per respondent row of the file (fully blank rows dropped)."""

    file: str
    sheet: str | None
    columns: tuple[str, ...]  # mapped item columns, the order of `points`' columns
    points: np.ndarray  # float (n, k): scale point 1…5, NaN for a blank answer
    rows: np.ndarray  # int (n,): the Excel row number of each respondent
    respondent: np.ndarray | None  # object (n,): id as written, "" blank (None without an id column)
    time: np.ndarray | None  # datetime64[ns] (n,), NaT blank (None without a time column)

    def __len__(self) -> int:
        return len(self.rows)


def _fold(text: object) -> str:
    return normalise(text).replace(" ", "").replace("\n", "")


def _blank(value: object) -> bool:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return True
    text = value.strip() if type(value) is str else normalise(value)
    return text in _BLANKS or _fold(text) in _BLANKS


def _texts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(text, blank) per value: strings stripped (the common case, no per-cell folding), other cells as
    `normalise` writes them; a placeholder or blank-looking cell is blank."""
    texts = np.array([v.strip() if type(v) is str else ("" if v is None or v != v else normalise(v))
                      for v in values], dtype=object)
    blank = np.fromiter((t in _BLANKS for t in texts), dtype=bool, count=len(texts))
    odd = np.flatnonzero(~blank & np.fromiter((not t.isascii() and len(t) < 8 for t in texts), dtype=bool,
                                              count=len(texts)))
    for i in odd:  # short non-ASCII texts may be full-width placeholders (（空）, ／)
        blank[i] = _fold(texts[i]) in _BLANKS
    return texts, blank


def _grid(path: Path, mapping: SurveyMapping) -> tuple[pd.DataFrame, str | None]:
    raw = read_workbook(path)
    if path.suffix.lower() == ".csv":
        return raw.sheets["指标"], None
    if mapping.sheet:
        if mapping.sheet not in raw.grids:
            raise SheetError([Problem(str(path), mapping.sheet, None, None, None,
                                      f"答卷文件中没有该工作表；现有：{'、'.join(raw.grids)}")])
        return raw.grids[mapping.sheet], mapping.sheet
    visible = [name for name, grid in raw.grids.items() if not grid.attrs.get("hidden")]
    if not visible:
        raise SheetError([Problem(str(path), None, None, None, None, "答卷文件没有可读的工作表")])
    return raw.grids[visible[0]], visible[0]


def _header(grid: pd.DataFrame, wanted: dict[str, str], file: str, sheet: str | None, mapping: SurveyMapping
            ) -> tuple[int, dict[str, int]]:
    """The header row (0-based) holding every wanted column, and where each is."""
    best_row, best = 0, {}
    for i in range(min(HEADER_SCAN_ROWS, len(grid))):
        cells = [_fold(c) for c in grid.iloc[i].to_numpy(dtype=object)]
        found = {key: cells.index(_fold(name)) for key, name in wanted.items() if _fold(name) in cells}
        if len(found) > len(best):
            best_row, best = i, found
        if len(found) == len(wanted):
            return i, found
    present = [normalise(c) for c in grid.iloc[best_row].to_numpy(dtype=object) if normalise(c)] if len(grid) else []
    shown = "、".join(present[:30]) + ("…" if len(present) > 30 else "")
    problems = []
    for key, name in wanted.items():
        if key not in best:
            problems.append(Problem(mapping.source, None, None, key, name,
                                    f"答卷文件「{Path(file).name}」{f'工作表「{sheet}」' if sheet else ''}"
                                    f"第{best_row + 1}行没有这一列；现有列：{shown}"))
    raise SheetError(problems)


_CN_TIME = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?\s*(.*)")


def _times(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """datetime64 per value and a mask of values that are not blank but not a time either."""
    dated = np.fromiter((hasattr(v, "year") for v in values), dtype=bool, count=len(values))
    texts, blank = _texts(np.where(dated, "", values))
    blank &= ~dated
    stamps = pd.Series(pd.NaT, index=range(len(values)), dtype="datetime64[ns]")
    if dated.any():
        stamps[dated] = pd.to_datetime(list(values[dated]))
    rest = ~blank & ~dated
    if rest.any():
        strings = pd.Series(texts[rest])
        chinese = strings.str.contains("年", regex=False)
        if chinese.any():
            strings[chinese] = strings[chinese].map(lambda v: _CN_TIME.sub(r"\1-\2-\3 \4", v).strip())
        # one format inferred from the first value (an export writes them all alike), then each odd one alone
        try:
            parsed = pd.to_datetime(strings, errors="coerce")
        except (ValueError, OverflowError):
            parsed = pd.Series(pd.NaT, index=strings.index, dtype="datetime64[ns]")
        again = parsed.isna()
        if again.any():
            parsed[again] = pd.to_datetime(strings[again], errors="coerce", format="mixed")
        stamps[rest] = parsed.to_numpy()
    bad = ~blank & stamps.isna().to_numpy()
    return stamps.to_numpy(dtype="datetime64[ns]"), bad


def read_answers(path: str | Path, mapping: SurveyMapping) -> Answers:
    """The answers of every respondent, coded. Raises SheetError listing unreadable cells (row, column, value)
    and mapped columns the file does not have."""
    path = Path(path)
    file = str(path)
    grid, sheet = _grid(path, mapping)
    wanted = {f"item[{n}].column": item.column for n, item in enumerate(mapping.items, start=1)}
    if mapping.respondent:
        wanted["survey.respondent"] = mapping.respondent
    if mapping.time:
        wanted["survey.time"] = mapping.time
    if grid.empty:
        raise SheetError([Problem(file, sheet, None, None, None, "答卷文件为空")])
    header, where = _header(grid, wanted, file, sheet, mapping)
    body = grid.iloc[header + 1:]
    headers = {key: normalise(grid.iat[header, j]) for key, j in where.items()}
    rows = body.index.to_numpy(dtype=int) + 1
    empty = np.ones(len(body), dtype=bool)  # rows where every mapped cell is blank (dropped at the end)
    problems: list[Problem] = []
    extra = 0

    def complain(mask: np.ndarray, key: str, values: np.ndarray, expected: str) -> None:
        nonlocal extra
        for i in np.flatnonzero(mask):
            if len(problems) >= MAX_LISTED:
                extra += 1
                continue
            problems.append(Problem(file, sheet, int(rows[i]), headers[key], str(values[i]), expected))

    columns = mapping.columns
    points = np.empty((len(body), len(columns)), dtype=float)
    for k, column in enumerate(columns):
        key = next(key for key, name in wanted.items() if name == column and key.startswith("item"))
        values = body.iloc[:, where[key]].to_numpy(dtype=object)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        lut = np.empty(len(uniques) + 1, dtype=float)
        faulty = np.zeros(len(uniques) + 1, dtype=bool)
        for u, value in enumerate(uniques):
            if isinstance(value, CellFault):
                lut[u], faulty[u] = np.nan, True
            elif _blank(value):
                lut[u] = np.nan
            else:
                point = scale_point(value, mapping.scale, mapping.one_best)
                lut[u] = np.nan if point is None else point
                faulty[u] = point is None
        lut[-1] = np.nan
        points[:, k] = lut[codes]
        empty &= np.isnan(points[:, k]) & ~faulty[codes]
        words = "、".join(sorted(mapping.scale, key=lambda w: -mapping.scale[w])[:6])
        complain(faulty[codes], key, values, f"无法识别的答案；应为 {words} 等答案文字，或 1–5 的分值")
    respondent = None
    if mapping.respondent:
        values = body.iloc[:, where["survey.respondent"]].to_numpy(dtype=object)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        texts, blank = _texts(np.asarray(uniques, dtype=object))
        respondent = np.append(np.where(blank, "", texts), "").astype(object)[codes]
        empty &= respondent == ""
    time = None
    if mapping.time:
        values = body.iloc[:, where["survey.time"]].to_numpy(dtype=object)
        time, bad = _times(values)
        empty &= np.isnat(time) & ~bad
        complain(bad, "survey.time", values, "作答时间无法识别；应为日期时间，如 2022-11-03 10:25:00")
    if problems:
        if extra:
            problems.append(Problem(file, sheet, None, None, None, f"另有 {extra} 处同类问题未逐一列出"))
        raise SheetError(problems)
    keep = ~empty  # a fully blank row (the end of an export) is no response
    return Answers(file, sheet, columns, points[keep], rows[keep],
                   respondent[keep] if respondent is not None else None, time[keep] if time is not None else None)
