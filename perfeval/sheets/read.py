"""Read indicator workbooks (.xlsx) and CSV files into raw tables — the I/O edge.

A project workbook has these sheets (names in Chinese, aliases accepted):

* 项目信息 — 字段 | 值 pairs (项目编号, 项目名称, 主管部门, 实施单位, 年度, 评价方式, 预算数, 到位数, 执行数,
  资金来源 …); in a *portfolio* workbook it is a table with one row per project instead.
* 指标 — one row per 三级 indicator (一级/二级/三级指标, 指标名称, 分值, 指标值, 实际完成值, 评分方法,
  扣分, 扣分原因, 报告得分, 偏差原因, 改进措施; portfolio: plus 项目编号).
* 报告数值 (optional) — figures the report states: 数据项 | 报告值 | 出处.
* 文字 (optional) — narrative sections: 章节 | 内容.

A CSV file holds the 指标 table; the other sheets may sit beside it as ``<stem>.<sheet>.csv``.
Nothing here judges the content: `perfeval.validate` does.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd
from python_calamine import CalamineWorkbook

from perfeval.errors import Problem, SheetError
from perfeval.notation import normalise
from perfeval.sheets.xlsx_guard import CellFault, scan_xlsx

SHEET_ALIASES: dict[str, tuple[str, ...]] = {
    "项目信息": ("项目信息", "项目", "基本信息", "项目基本信息", "项目概况"),
    "指标": ("指标", "绩效指标", "指标体系", "评分表", "绩效评价指标", "指标表", "评价指标"),
    "报告数值": ("报告数值", "报告陈述", "报告数据", "陈述数值"),
    "文字": ("文字", "报告文字", "文本", "叙述"),
    "佐证材料": ("佐证材料", "佐证材料清单", "证据清单", "证据材料"),
    "专家组评分": ("专家组评分", "专家组评分表"),
}

#: 指标 sheet: canonical column -> accepted header spellings
INDICATOR_HEADERS: dict[str, tuple[str, ...]] = {
    "project_id": ("项目编号", "项目代码"),
    "level1": ("一级指标", "一级"),
    "level2": ("二级指标", "二级"),
    "level3": ("三级指标", "三级"),
    "name": ("指标名称", "指标内容", "具体指标", "四级指标"),
    "weight": ("分值", "权重", "指标分值", "分数", "标准分值", "权重分"),
    "target": ("指标值", "年度指标值", "目标值", "预期指标值", "年度目标值", "绩效目标值", "年初目标值"),
    "actual": ("实际完成值", "实际值", "完成值", "全年实际完成值", "实际完成情况", "全年实际值"),
    "method": ("评分方法", "评分规则", "计分方法", "评分方式"),
    "stated_score": ("报告得分", "得分", "自评得分", "评价得分"),
    "deduction": ("扣分",),
    "deduction_reason": ("扣分原因", "扣分理由", "评分依据", "扣分说明"),
    "reason": ("偏差原因", "偏差原因分析", "偏差原因分析及改进措施", "偏差大或目标未完成原因分析"),
    "measure": ("改进措施", "整改措施"),
    # optional evidence ledger (perfeval.evidence): ids of the 佐证材料 rows and where the figure came from
    "evidence": ("证据编号", "佐证材料编号", "佐证编号", "证据材料编号"),
    "data_source": ("数据来源", "指标数据来源"),
}
#: Chinese header each canonical column is reported under
INDICATOR_LABELS = {key: names[0] for key, names in INDICATOR_HEADERS.items()}
STATED_HEADERS: dict[str, tuple[str, ...]] = {
    "project_id": ("项目编号",),
    "item": ("数据项", "项目", "指标", "名称"),
    "text": ("报告值", "数值", "值", "报告数值"),
    "where": ("出处", "位置", "章节", "来源"),
}
NARRATIVE_HEADERS: dict[str, tuple[str, ...]] = {
    "project_id": ("项目编号",),
    "section": ("章节", "标题", "部分"),
    "content": ("内容", "正文", "文字"),
}
#: 佐证材料 sheet (optional evidence ledger)
MATERIAL_HEADERS: dict[str, tuple[str, ...]] = {
    "project_id": ("项目编号",),
    "id": ("编号", "证据编号", "材料编号", "佐证材料编号"),
    "name": ("名称", "材料名称", "证据名称"),
    "source": ("来源", "提供单位", "材料来源"),
    "date": ("日期", "取得日期", "形成日期"),
}
INFO_KEY_HEADERS = ("字段", "项目", "名称", "键")


@dataclass
class Table:
    """One sheet's table with canonical column names and the Excel row number of each row."""

    sheet: str
    frame: pd.DataFrame  # canonical columns + "row"
    header_row: int | None
    headers: dict[str, str] = field(default_factory=dict)  # canonical -> header as written


@dataclass
class RawWorkbook:
    """The sheets of one input file, located but not yet validated."""

    path: Path
    sha256: str
    sheets: dict[str, pd.DataFrame]  # canonical sheet name -> raw grid (object dtype, no header)
    sheet_names: dict[str, str]  # canonical -> name as written
    problems: list[Problem] = field(default_factory=list)
    #: every sheet of an .xlsx by its name as written, in workbook order (``grid.attrs["hidden"]`` marks
    #: hidden sheets); other layouts (`perfeval.layouts`) read sheets whatever their names
    grids: dict[str, pd.DataFrame] = field(default_factory=dict)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _canonical_sheet(name: str) -> str | None:
    text = normalise(name)
    for canon, aliases in SHEET_ALIASES.items():
        if text in aliases:
            return canon
    return None


def _read_csv(path: Path) -> pd.DataFrame:
    last: Exception | None = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, header=None, dtype=object, encoding=encoding,
                               keep_default_na=False, skip_blank_lines=False)
        except UnicodeDecodeError as exc:
            last = exc
        except pd.errors.EmptyDataError:
            return pd.DataFrame(dtype=object)
    raise last  # type: ignore[misc]


CSV_SHEET_SEPARATOR = "."


def csv_siblings(path: Path) -> dict[str, Path]:
    """Sheet CSVs that belong to the 指标 CSV `path` (``<stem>.<sheet>.csv``)."""
    found = {"指标": path}
    for canon, aliases in SHEET_ALIASES.items():
        if canon == "指标":
            continue
        for alias in aliases:
            candidate = path.with_name(f"{path.stem}{CSV_SHEET_SEPARATOR}{alias}.csv")
            if candidate.is_file():
                found[canon] = candidate
                break
    return found


def is_sibling_csv(path: Path) -> bool:
    """True for ``<stem>.<sheet>.csv`` files, which are parts of another project's CSV set."""
    parts = path.name.split(CSV_SHEET_SEPARATOR)
    return len(parts) >= 3 and _canonical_sheet(parts[-2]) not in (None, "指标")


def _with_faults(grid: pd.DataFrame, faults: dict[tuple[int, int], CellFault]) -> pd.DataFrame:
    """Put each unreadable cell (calamine reads it as blank) into the grid as its `CellFault`."""
    if not faults:
        return grid
    rows = max(len(grid), max(r for r, _ in faults) + 1)
    cols = max(grid.shape[1], max(c for _, c in faults) + 1)
    grid = grid.reindex(index=range(rows), columns=range(cols), fill_value="").astype(object)
    for (r, c), fault in faults.items():
        grid.iat[r, c] = fault
    return grid


def _read_xlsx(path: Path) -> tuple[dict[str, pd.DataFrame], dict[str, bool], dict[str, Problem]]:
    """Every worksheet within the limits as a raw grid (calamine: fast, reads cached formula values), after a
    bounded pre-scan (`perfeval.xlsx_guard`). Returns grids, visibility and the sheets refused for their size."""
    scan = scan_xlsx(path)
    book = CalamineWorkbook.from_path(str(path))
    known = set(book.sheet_names)
    grids, visible, refused = {}, {}, {}
    for sheet in scan.sheets:
        if sheet.name not in known:
            continue
        visible[sheet.name] = sheet.visible
        if sheet.problem is not None:
            refused[sheet.name] = sheet.problem
            continue
        rows = book.get_sheet_by_name(sheet.name).to_python(skip_empty_area=False)
        grid = _grid(rows)
        grid = _with_faults(grid, sheet.faults)
        grid.attrs["hidden"] = not sheet.visible
        grids[sheet.name] = grid
    return grids, visible, refused


def _grid(rows: list[list]) -> pd.DataFrame:
    """calamine's rows as an object grid: one 2-D object block (cheaper than a frame built from nested lists)."""
    if not rows:
        return pd.DataFrame(dtype=object)
    width = len(rows[0])
    if width == 0 or len(set(map(len, rows))) != 1:  # rows of different lengths (calamine pads them)
        return pd.DataFrame(rows, dtype=object)
    # the cells one after another into one array (faster than np.array's look into each nested row)
    cells = np.fromiter(chain.from_iterable(rows), dtype=object, count=len(rows) * width).reshape(len(rows), width)
    return pd.DataFrame(cells, dtype=object, copy=False)


def _pick_sheets(names: list[str], visible: dict[str, bool]) -> dict[str, str]:
    """canonical -> sheet name: the first visible sheet of each kind; a hidden one only when no visible one
    exists (a hidden 评分表 never shadows a visible 指标)."""
    chosen: dict[str, str] = {}
    for name in sorted(names, key=lambda n: not visible.get(n, True)):  # stable: visible first, in order
        canon = _canonical_sheet(name)
        if canon and canon not in chosen:
            chosen[canon] = name
    return chosen


def read_workbook(path: str | Path) -> RawWorkbook:
    """Read every sheet of an .xlsx/.xlsm/.csv file as a raw grid. Raises SheetError."""
    path = Path(path)
    if not path.exists():
        raise SheetError([Problem(str(path), None, None, None, None, "文件不存在")])
    if path.is_dir():
        raise SheetError([Problem(str(path), None, None, None, None,
                                  "这是一个文件夹；请给出 .xlsx 或 .csv 文件（批量处理请用 perfeval batch）")])
    suffix = path.suffix.lower()
    sheets: dict[str, pd.DataFrame] = {}
    names: dict[str, str] = {}
    grids: dict[str, pd.DataFrame] = {}
    if suffix == ".csv":
        for canon, file in csv_siblings(path).items():
            try:
                sheets[canon] = _read_csv(file)
            except (UnicodeDecodeError, pd.errors.ParserError) as exc:
                raise SheetError([Problem(str(file), None, None, None, None,
                                          f"无法读取 CSV（应为 UTF-8 或 GBK 编码的逗号分隔文件）：{exc}")]) from None
            names[canon] = file.name
    elif suffix in (".xlsx", ".xlsm"):
        if not zipfile.is_zipfile(path):
            raise SheetError([Problem(str(path), None, None, None, None,
                                      "不是有效的 Excel 工作簿（.xlsx）：文件内容不是 Excel 格式，"
                                      "请在 Excel 中另存为 .xlsx 后重试")])
        try:
            grids, visible, refused = _read_xlsx(path)
        except SheetError:
            raise
        except Exception as exc:  # calamine raises its own error types for damaged files
            raise SheetError([Problem(str(path), None, None, None, None,
                                      f"无法读取 Excel 工作簿：{exc}")]) from None
        names = _pick_sheets(list(visible), visible)
        if len(visible) == 1 and "指标" not in names:
            names["指标"] = next(iter(visible))
        blocked = [refused[n] for n in names.values() if n in refused]
        if blocked or ("指标" not in names and refused):
            raise SheetError(blocked or list(refused.values()))
        sheets = {canon: grids[name] for canon, name in names.items()}
    else:
        raise SheetError([Problem(str(path), None, None, None, None,
                                  f"不支持的文件类型「{path.suffix}」，应为 .xlsx 或 .csv")])
    return RawWorkbook(path, file_sha256(path), sheets, names, grids={str(k): v for k, v in grids.items()})


_HEADER_NOTE = re.compile(r"[（(][^（）()]*[）)]\s*$")


def fold_header(text: object) -> str:
    """A header cell for matching: widths folded, spaces and line breaks removed, a trailing (note) dropped."""
    return _fold_text(text) if isinstance(text, str) else _fold(text)


@lru_cache(maxsize=8192)
def _fold_text(text: str) -> str:  # header texts repeat across the files of a batch: fold each once
    return _fold(text)


def _fold(text: object) -> str:
    value = normalise(text).replace("\n", "").replace(" ", "")
    return _HEADER_NOTE.sub("", value) or value


@lru_cache(maxsize=8192)
def _normalised(text: str) -> str:
    return normalise(text)


def _reverse(spec: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {name: canon for canon, names in reversed(spec.items()) for name in names}


class _Naming:
    """The canonical column each header text names under one spec, each text worked out once (the texts of a
    sheet's first rows repeat across the files of a batch)."""

    __slots__ = ("known", "lookup", "spec")

    def __init__(self, spec: dict[str, tuple[str, ...]]) -> None:
        self.spec, self.lookup = spec, _reverse(spec)
        self.known: dict[str, str | None] = {}

    def __call__(self, cell: object) -> str | None:
        """The canonical column `cell` names (None: not a known header, or not a text)."""
        if not isinstance(cell, str):
            return None
        known = self.known.get(cell, _UNSEEN)
        if known is _UNSEEN:
            if len(self.known) >= 1 << 16:  # bounded: a batch of odd files starts afresh
                self.known.clear()
            lookup = self.lookup
            known = self.known[cell] = lookup.get(fold_header(cell)) or lookup.get(_normalised(cell)) or None
        return known


_UNSEEN = object()
#: the naming of each spec seen (keyed by identity: the specs are constants; the spec is kept, so its id is too)
_NAMINGS: dict[int, _Naming] = {}


def _naming(spec: dict[str, tuple[str, ...]]) -> _Naming:
    naming = _NAMINGS.get(id(spec))
    if naming is None or naming.spec is not spec:
        if len(_NAMINGS) >= 64:  # specs made on the fly: kept bounded
            _NAMINGS.clear()
        naming = _NAMINGS[id(spec)] = _Naming(spec)
    return naming


def _mapping(canons: list[list[str | None]]) -> dict[str, int]:
    """`_header_map` of cells already named (`_canon`): per column the first candidate naming a column."""
    mapping: dict[str, int] = {}
    for j, candidates in enumerate(canons):
        for canon in candidates:
            if canon:
                if canon not in mapping:
                    mapping[canon] = j
                break
    return mapping


def _is_header_like(row) -> bool:
    """A row that can be the lower half of a two-row header: text only, no numbers."""
    return not any(isinstance(c, int | float) and not isinstance(c, bool) and c == c for c in row)


def locate_table(grid: pd.DataFrame, sheet: str, spec: dict[str, tuple[str, ...]],
                 scan_rows: int = 15) -> Table | None:
    """Find the header row (the row matching most known headers) and return the table below it.

    A header spread over two rows — a group cell merged over its columns (指标 over 一级/二级/三级指标)
    with the other headers merged down — is folded into one: each column takes the lower cell when it is
    a known header, else the upper one. The fold is used only when the lower row is text, names at least
    two known headers itself, and the fold recognises more columns than either row alone."""
    name = _naming(spec)
    lookup = name.lookup
    cells = grid.iloc[:scan_rows + 1].to_numpy()
    canons = [list(map(name, row)) for row in cells.tolist()]  # each cell named once
    best_row, best_map, best_depth = None, {}, 1
    for i, row in enumerate(canons[:scan_rows]):
        mapping = _mapping([[c] for c in row])
        if len(mapping) > len(best_map):
            best_row, best_map, best_depth = i, mapping, 1
        if i + 1 < len(cells) and _is_header_like(cells[i + 1]):
            lower = _mapping([[c] for c in canons[i + 1]])
            folded = _mapping([[low, up] for up, low in zip(row, canons[i + 1], strict=True)])
            if len(lower) >= 2 and len(folded) > max(len(mapping), len(lower), len(best_map)):
                best_row, best_map, best_depth = i, folded, 2
    if best_row is None or len(best_map) < 2:
        return None
    start = best_row + best_depth
    values = grid.to_numpy(dtype=object)  # an object grid's one block: no copy
    # one 2-D object block (a frame built column by column costs more than the table's cells), copied once into
    # the frame's own layout (a column's cells one after another)
    block = values.T[list(best_map.values()), start:]
    frame = pd.DataFrame(block.T, columns=list(best_map), dtype=object, copy=False)
    frame.insert(0, "row", grid.index.to_numpy()[start:] + 1)

    def written(j: int) -> str:
        lower = normalise(values[start - 1, j])
        return lower if best_depth == 2 and lookup.get(fold_header(lower)) else normalise(values[best_row, j])

    headers = {canon: written(j) for canon, j in best_map.items()}
    return Table(sheet, frame, start, headers)
