"""Read filled expert score sheets back, every problem located (file, sheet, row, column, value).

`read_panel` checks each sheet against the project it is merged into — same 项目编号, same indicator set
(指标校验码 and each row's 指标表行号 / 指标名称 / 分值) — and the sheets against each other: every expert the
template set was made for is present once. A 得分 that is blank, not a number, or outside 0 … 分值 is an
error at its cell. Nothing is guessed: any problem raises `SheetError` with all of them.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from python_calamine import CalamineWorkbook

from perfeval.display import fmt_num
from perfeval.errors import Problem, SheetError
from perfeval.model import Project
from perfeval.notation import normalise, plain_text
from perfeval.panel.template import (
    INFO_SHEET,
    KEY_EXPERT,
    KEY_EXPERT_NAME,
    KEY_EXPERTS,
    KEY_HASH,
    KEY_PROJECT,
    SCORE_COLUMNS,
    SCORE_SHEET,
    expert_ids,
    indicator_hash,
    judged_indicators,
)
from perfeval.scheme import Scheme
from perfeval.sheets.cells import MAX_CELL_NUMBER, cell_number, unique_map, unreadable
from perfeval.sheets.read import locate_table, read_workbook

_SPEC = {("ind_row" if key == "row" else key): (header,) for key, header in SCORE_COLUMNS.items()}
_SPEC["reason"] = ("扣分理由", "扣分原因", "理由")
_SPEC["score"] = ("得分", "评分", "专家评分")


@dataclass(frozen=True)
class ExpertSheet:
    """One expert's sheet as read: the info fields and the score rows (Excel row numbers kept)."""

    path: Path
    project_id: str
    indicator_hash: str
    expert_id: str
    expert_name: str
    experts_expected: int | None
    rows: pd.DataFrame  # row (指标表行号), name, weight, score, reason, excel_row
    info_rows: dict[str, int]  # key -> Excel row in 评分说明

    @property
    def label(self) -> str:
        return f"{self.expert_id} {self.expert_name}".strip()


@dataclass(frozen=True)
class PanelSheets:
    """A panel read and checked against its project: the judged indicators, the experts and their scores.

    `scores` and `reasons` have one row per judged indicator (index = its position in
    `project.indicators`, as in `indicators.position`) and one column per expert id."""

    project_id: str
    indicators: pd.DataFrame  # judged_indicators(project)
    experts: pd.DataFrame  # id, name, file
    scores: pd.DataFrame
    reasons: pd.DataFrame

    @property
    def labels(self) -> dict[str, str]:
        """expert id -> 'E01 王建国' (the id alone when no name was written)."""
        return {r.id: f"{r.id} {r.name}".strip() for r in self.experts.itertuples()}


def _info(grid: pd.DataFrame) -> dict[str, tuple[object, int]]:
    """key -> (value, Excel row) of a two-column 字段 | 值 sheet."""
    out: dict[str, tuple[object, int]] = {}
    for i in range(len(grid)):
        key = normalise(grid.iat[i, 0]) if grid.shape[1] else ""
        if key and key not in out:
            out[key] = (grid.iat[i, 1] if grid.shape[1] > 1 else None, i + 1)
    return out


def is_expert_sheet(path: str | Path) -> bool:
    """Whether `path` is an expert score sheet (a workbook with the 评分说明 and 专家评分 sheets), judged from
    the sheet names alone — cheap, for telling expert sheets from indicator tables in a project folder."""
    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm") or not zipfile.is_zipfile(path):
        return False
    try:
        names = set(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception:  # a damaged workbook is not recognised here; reading it says what is wrong
        return False
    return {INFO_SHEET, SCORE_SHEET} <= names


def expert_sheets_in(folder: str | Path) -> list[Path]:
    """The expert score sheets in `folder` (not its subfolders), by name; Excel's lock files skipped."""
    return sorted(p for p in Path(folder).glob("*.xls[xm]")
                  if not p.name.startswith((".", "~$")) and is_expert_sheet(p))


def _score_table(grid: pd.DataFrame) -> tuple[pd.DataFrame, str] | None:
    """(canonical columns + Excel `row`, the 得分 header as written) of the 专家评分 sheet: the template's own
    header row read directly, any other layout (title rows added, headers renamed) located by meaning."""
    headers = [normalise(v) for v in grid.iloc[0]] if len(grid) else []
    if headers[:len(SCORE_COLUMNS)] == list(SCORE_COLUMNS.values()):
        body = grid.iloc[1:]
        frame = pd.DataFrame({("ind_row" if key == "row" else key): body.iloc[:, j].to_numpy()
                              for j, key in enumerate(SCORE_COLUMNS)})
        frame.insert(0, "row", body.index.to_numpy() + 1)
        return frame, SCORE_COLUMNS["score"]
    table = locate_table(grid, SCORE_SHEET, _SPEC, scan_rows=6)
    if table is None:
        return None
    return table.frame, table.headers.get("score", SCORE_COLUMNS["score"])


def _texts(series: pd.Series) -> pd.Series:
    """`plain_text` of each cell; a string with more than three non-space characters cannot be a placeholder
    such as 「—」 or 「n/a」, so it is only stripped (the common case, without the per-cell folding)."""
    out = [v.strip() if type(v) is str and len("".join(v.split())) > 3 else plain_text(v)
           for v in series.to_numpy(dtype=object)]
    return pd.Series(out, index=series.index, dtype=object)


def _blank(series: pd.Series) -> np.ndarray:
    """True where a cell is empty (None, NaN, blank text or a placeholder such as 「—」)."""
    return np.array([v is None or (type(v) is float and v != v) or (type(v) is str and not plain_text(v))
                     for v in series.to_numpy(dtype=object)], dtype=bool)


def _numbers(series: pd.Series) -> np.ndarray:
    """`cell_number` of each cell (NaN where it is not a usable number); plain finite numbers taken as they are."""
    out = np.empty(len(series))
    for k, v in enumerate(series.to_numpy(dtype=object)):
        if type(v) in (float, int) and math.isfinite(v) and abs(v) <= MAX_CELL_NUMBER:
            out[k] = v
        else:
            number = cell_number(v)
            out[k] = np.nan if number is None else number
    return out


def read_expert_sheet(path: str | Path) -> tuple[ExpertSheet | None, list[Problem]]:
    """One sheet and the problems that concern it alone (its own cells)."""
    path = Path(path)
    try:
        raw = read_workbook(path)
    except SheetError as exc:
        return None, list(exc.problems)
    file = str(path)
    grids = raw.grids
    missing = [name for name in (INFO_SHEET, SCORE_SHEET) if name not in grids]
    if missing:
        return None, [Problem(file, None, None, None, None,
                              f"不是 perfeval 专家评分表：缺少工作表「{'」「'.join(missing)}」"
                              f"（请用 perfeval panel template 生成评分表）")]
    problems: list[Problem] = []
    info = _info(grids[INFO_SHEET])

    def field(key: str, required: bool = True) -> str:
        value, row = info.get(key, (None, None))
        text = plain_text(value)
        if required and not text:
            problems.append(Problem(file, INFO_SHEET, row, "值" if row else None, None,
                                    f"「{key}」为空或缺失；请勿修改评分说明表"))
        return text

    project_id, digest, expert = field(KEY_PROJECT), field(KEY_HASH), field(KEY_EXPERT)
    name = field(KEY_EXPERT_NAME, required=False)
    count_text = field(KEY_EXPERTS)
    count = cell_number(count_text)
    expected = int(count) if count is not None and count >= 1 and float(count).is_integer() else None
    if count_text and expected is None:
        problems.append(Problem(file, INFO_SHEET, info[KEY_EXPERTS][1], "值", count_text, "专家人数应为正整数"))

    located = _score_table(grids[SCORE_SHEET])
    need = ("ind_row", "name", "weight", "score")
    if located is None or any(c not in located[0] for c in need):
        problems.append(Problem(file, SCORE_SHEET, None, None, None,
                                "找不到表头（应有 指标表行号、指标名称、分值、得分、扣分理由 列）；请勿修改表头"))
        return None, problems
    frame, column = located
    names = _texts(frame["name"])
    filled = ~(_blank(frame["ind_row"]) & (names == "").to_numpy() & _blank(frame["score"]))
    frame, names = frame[filled], names[filled]
    faults = unique_map(frame["score"], unreadable)
    numbers = _numbers(frame["score"])
    bad = faults.notna().to_numpy() | np.isnan(numbers)
    for k in np.flatnonzero(bad):
        value = frame["score"].iat[k]
        shown = plain_text(value)
        message = faults.iat[k] or ("得分为空：请填写该指标的得分" if not shown else "得分应为数字（如 4.5）")
        problems.append(Problem(file, SCORE_SHEET, int(frame["row"].iat[k]), column, shown or None, message))
    rows = pd.DataFrame({
        "row": _numbers(frame["ind_row"]),
        "name": names.to_numpy(),
        "weight": _numbers(frame["weight"]),
        "score": np.where(bad, np.nan, numbers),
        "reason": _texts(frame["reason"]).to_numpy() if "reason" in frame else "",
        "excel_row": frame["row"].astype(int).to_numpy(),
    })
    sheet = ExpertSheet(path, project_id, digest, expert, name, expected, rows,
                        {k: r for k, (_, r) in info.items()})
    return sheet, problems


def _against_project(sheet: ExpertSheet, project: Project, judged: pd.DataFrame, digest: str) -> list[Problem]:
    """A sheet made for this project's indicator set, and scores within each indicator's weight."""
    file, problems = str(sheet.path), []
    if sheet.project_id and sheet.project_id != project.id:
        problems.append(Problem(file, INFO_SHEET, sheet.info_rows.get(KEY_PROJECT), "值", sheet.project_id,
                                f"这是项目「{sheet.project_id}」的专家评分表，而要合并的项目是「{project.id}」"))
        return problems
    if sheet.indicator_hash and sheet.indicator_hash != digest:
        problems.append(Problem(file, INFO_SHEET, sheet.info_rows.get(KEY_HASH), "值", sheet.indicator_hash,
                                f"指标校验码与项目当前的指标表（{digest}）不一致：评分表生成后指标的名称、分值或顺序已改动，"
                                f"或评分表不是由本项目的指标表生成；请重新生成评分模板"))
    rows = sheet.rows
    expected = judged.set_index("row")
    seen = rows["row"].dropna().astype(int)
    ind_row = rows["row"].to_numpy(dtype=float)
    known = np.isfinite(ind_row) & np.isin(ind_row, expected.index.to_numpy())
    want = expected.reindex(np.where(known, ind_row, -1).astype(int))
    names, wanted = rows["name"].to_numpy(dtype=object), want["name"].to_numpy(dtype=object)
    equal = names == wanted
    for k in np.flatnonzero(known & ~equal):  # written with other widths or spaces
        equal[k] = normalise(names[k]) == normalise(wanted[k])
    same = known & equal & np.isclose(rows["weight"].to_numpy(dtype=float), want["weight"].to_numpy(dtype=float))
    score = rows["score"].to_numpy(dtype=float)
    outside = same & np.isfinite(score) & ((score < -1e-9) | (score > want["weight"].to_numpy(dtype=float) + 1e-9))
    for k in np.flatnonzero(~known | ~same | outside):
        r, where = rows.iloc[k], dict(file=file, sheet=SCORE_SHEET, row=int(rows["excel_row"].iat[k]))
        if not known[k]:
            problems.append(Problem(**where, column="指标表行号", value=normalise(r["row"]) or None,
                                    expected="该行不是本项目需要专家评判的指标；请勿增删行或修改指标表行号"))
        elif not same[k]:
            w = want.iloc[k]
            problems.append(Problem(**where, column="指标名称", value=f"{r['name']}（{normalise(r['weight'])}分）",
                                    expected=f"指标表第{int(r['row'])}行为「{w['name']}」（{fmt_num(w['weight'])}分）；"
                                             "评分表与项目指标表不一致"))
        else:
            problems.append(Problem(**where, column="得分", value=normalise(r["score"]),
                                    expected=f"得分应在 0 至 {fmt_num(want['weight'].iat[k])} 分（该指标分值）之间"))
    dup = seen[seen.duplicated()]
    for row in dup.unique():
        problems.append(Problem(file, SCORE_SHEET, None, "指标表行号", str(row), "同一指标在评分表中出现了多次"))
    for r in expected.index.difference(seen):
        problems.append(Problem(file, SCORE_SHEET, None, "指标表行号", None,
                                f"缺少指标「{expected.loc[r, 'name']}」（指标表第{r}行）的评分行"))
    return problems


def read_panel(project: Project, paths: Sequence[str | Path], scheme: str | Path | Scheme | None = None,
               judged: pd.DataFrame | None = None) -> PanelSheets:
    """Read every expert sheet for `project` and check them together. Raises `SheetError` listing every
    problem: unreadable files, sheets of another project or indicator set, blank / non-numeric / out-of-range
    scores, an expert present twice, and experts of the template set whose sheet is missing."""
    if not paths:
        raise SheetError([Problem(str(project.source or project.id), None, None, None, None,
                                  "没有给出专家评分表")])
    judged = judged_indicators(project, scheme) if judged is None else judged
    digest = indicator_hash(judged)
    problems: list[Problem] = []
    sheets: list[ExpertSheet] = []
    for path in paths:
        sheet, found = read_expert_sheet(path)
        problems += found
        if sheet is not None:
            problems += _against_project(sheet, project, judged, digest)
            sheets.append(sheet)
    by_id: dict[str, ExpertSheet] = {}
    for sheet in sheets:
        if not sheet.expert_id:
            continue
        if sheet.expert_id in by_id:
            first = by_id[sheet.expert_id]
            problems.append(Problem(str(sheet.path), INFO_SHEET, sheet.info_rows.get(KEY_EXPERT), "值",
                                    sheet.expert_id, f"专家编号 {sheet.expert_id} 重复：与 {first.path.name} 相同；"
                                                     "每位专家只应有一份评分表"))
        else:
            by_id[sheet.expert_id] = sheet
    counts = {s.experts_expected for s in sheets if s.experts_expected is not None}
    if len(counts) > 1:
        problems.append(Problem(str(sheets[0].path.parent), None, None, None, None,
                                f"各评分表的专家人数不一致（{'、'.join(str(c) for c in sorted(counts))}）："
                                "评分表来自不同批次的模板"))
    elif counts:
        n = counts.pop()
        ids = expert_ids(n)
        for sheet in by_id.values():
            if sheet.expert_id not in ids:
                problems.append(Problem(str(sheet.path), INFO_SHEET, sheet.info_rows.get(KEY_EXPERT), "值",
                                        sheet.expert_id, f"专家编号不在模板的 {ids[0]}–{ids[-1]} 之中"))
        missing = [e for e in ids if e not in by_id]
        if missing:
            folder = str(sheets[0].path.parent) if sheets else str(project.source or project.id)
            problems.append(Problem(folder, None, None, None, None,
                                    f"缺少专家 {'、'.join(missing)} 的评分表：模板共 {n} 位专家，"
                                    f"收到 {len(by_id)} 份（{'、'.join(by_id) or '无'}）"))
    if problems:
        raise SheetError(problems)
    ordered = sorted(by_id.values(), key=lambda s: s.expert_id)
    index = pd.Index(judged["position"].to_numpy(), name="position")
    pos_of_row = dict(zip(judged["row"], judged["position"], strict=True))
    scores, reasons = {}, {}
    for sheet in ordered:
        rows = sheet.rows.assign(position=sheet.rows["row"].astype(int).map(pos_of_row)).set_index("position")
        scores[sheet.expert_id] = rows["score"].reindex(index).astype(float)
        reasons[sheet.expert_id] = rows["reason"].reindex(index).fillna("").astype(str)
    experts = pd.DataFrame({"id": [s.expert_id for s in ordered], "name": [s.expert_name for s in ordered],
                            "file": [str(s.path) for s in ordered]})
    return PanelSheets(project.id, judged, experts, pd.DataFrame(scores, index=index),
                       pd.DataFrame(reasons, index=index))
