"""Read a file's sheets, check them, and build `Project` objects, collecting every problem at once.

The checks live beside this module, one per sheet: `info_sheet` (项目信息), `indicator_checks` (指标),
`stated_checks` (报告数值, 文字).
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from perfeval.errors import Problem, SchemeError, SheetError
from perfeval.model import STATED_COLUMNS, Project
from perfeval.notation import is_empty, plain_text
from perfeval.scheme import Scheme, load_scheme
from perfeval.sheets.cells import Coded, collection_paused, cut_rows, unique_map
from perfeval.sheets.indicators import check_indicators, check_weights, ffill_merged_coded
from perfeval.sheets.info import build_info, info_records
from perfeval.sheets.read import (
    INDICATOR_HEADERS,
    INDICATOR_LABELS,
    MATERIAL_HEADERS,
    NARRATIVE_HEADERS,
    STATED_HEADERS,
    RawWorkbook,
    Table,
    locate_table,
    read_workbook,
)
from perfeval.sheets.stated import check_stated, narratives


@dataclass
class ProjectRead:
    """One project read from a file: the project (None when it was refused) and every problem found.

    A project whose problems are all auditable (`Problem.auditable`: weights, a repeated row …) is
    read and scored as written, its problems carried as `Project.sheet_findings`; any other problem,
    or any problem at all under `strict`, refuses it."""

    key: str
    project: Project | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def refusing(self) -> list[Problem]:
        """The problems that stop this project being scored (all of them when it was refused)."""
        return list(self.problems) if self.project is None else []

    @property
    def findings(self) -> list[Problem]:
        """The auditable problems a read project carries into its evaluation."""
        return [] if self.project is None else list(self.problems)


def settle(reads: list[ProjectRead], strict: bool = False) -> list[ProjectRead]:
    """Apply the reading policy to what a reader returned: a project with only auditable problems
    keeps them as `sheet_findings`; one with any other problem (or any problem under `strict`) is
    refused."""
    for read in reads:
        if read.project is None or not read.problems:
            continue
        if strict or not all(p.auditable for p in read.problems):
            read.project = None
        else:
            notes = tuple(q for q in read.project.sheet_findings  # a reader's notes, each once
                          if q.severity != "error" and q not in read.problems)
            read.project = read.project.replace(sheet_findings=(*read.problems, *notes))
    return reads


def _table(raw: RawWorkbook, canon: str, spec: dict, problems: list[Problem],
           required: bool) -> Table | None:
    file = str(raw.path)
    grid = raw.sheets.get(canon)
    sheet = raw.sheet_names.get(canon, canon)
    if grid is None:
        if required:
            problems.append(Problem(file, canon, None, None, None,
                                    f"缺少工作表「{canon}」（新建模板：perfeval template 模板.xlsx）"))
        return None
    if all(is_empty(v) for v in grid.to_numpy().ravel()):  # stops at the first cell with content
        if required:
            problems.append(Problem(file, sheet, None, None, None, "工作表为空：没有任何数据"))
        return None
    table = locate_table(grid, sheet, spec)
    if table is None and required:
        names = "、".join(v[0] for k, v in spec.items() if k != "project_id")
        problems.append(Problem(file, sheet, 1, None, None, f"找不到表头行；应包含列：{names}"))
    return table


def _missing_info_hint(path: Path) -> str:
    if path.suffix.lower() == ".csv":
        return f"缺少项目信息：CSV 指标表旁应有同名的「{path.stem}.项目信息.csv」（字段 | 值）"
    return "缺少工作表「项目信息」（新建模板：perfeval template 模板.xlsx）"


def _scheme_beside(method: str | None, workbook: Path) -> str | None:
    """A 评价方式 naming a .toml scheme file is read relative to the workbook's own folder."""
    if method and method.lower().endswith(".toml") and not Path(method).is_absolute():
        return str(workbook.parent / method)
    return method or None


def _split_by_key(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """{key: rows of that key without the `_key` column, in their order}: a slice per key of the rows (after one
    stable sort by key when the keys interleave), each with its own 0 … n−1 index (in a reading worker a `RowRun`
    per key, `cells.keeping_rows_whole`)."""
    if frame.empty:
        return {}
    codes, uniques = pd.factorize(frame["_key"], sort=False)
    body = frame.drop(columns="_key")
    if (codes[1:] < codes[:-1]).any():  # codes number keys by first appearance: sorted unless keys interleave
        order = np.argsort(codes, kind="stable")
        body, codes = body.take(order), codes[order]
    bounds = np.searchsorted(codes, np.arange(len(uniques) + 1)).tolist()
    return dict(zip(uniques.tolist(), cut_rows(body, list(pairwise(bounds))), strict=True))


def read_projects(path: str | Path, scheme: str | Path | Scheme | None = None, *,
                  strict: bool = False) -> list[ProjectRead]:
    """Read every project in a file; problems are kept per project so one bad project
    in a portfolio does not stop the others. Raises SheetError only when the file itself is unusable.

    A workbook in another recognised layout (a 项目支出绩效自评表 or a published scoring table,
    `perfeval.layouts`) is detected and read by that layout's reader. A table whose only problems are
    auditable (weights that do not match the scheme, a repeated row) is read and scored as written;
    `strict=True` refuses it instead."""
    from perfeval.sheets.layouts import read_layout  # the layouts build on this module

    with collection_paused():  # see `_read_files`
        raw = read_workbook(path)
        other = read_layout(raw, scheme)
        return settle(other if other is not None else _read_indicator_workbook(raw, scheme), strict)


def _read_indicator_workbook(raw: RawWorkbook, scheme: str | Path | Scheme | None) -> list[ProjectRead]:
    """perfeval's own layout (项目信息 / 指标 / 报告数值 / 文字, or a portfolio of them)."""
    prepared = _prepare(raw, scheme)
    _check_batch([prepared])
    return _finish(prepared)


@dataclass
class _Prepared:
    """One workbook in perfeval's own layout, its tables located and its 项目信息 read, before the row checks."""

    raw: RawWorkbook
    ind: Table
    info_sheet: str
    is_portfolio: bool
    heads: list  # (key, info, problems, scheme | None)
    stated_t: Table | None
    text_t: Table | None
    materials_t: Table | None
    panel_table: pd.DataFrame | None
    #: merged cells filled down, and each row's project key (set by `_check_one`; one-project workbooks checked
    #: together in `_check_singles` do not keep them: only a portfolio's orphan rows need them)
    ind_frame: pd.DataFrame | None = None
    ind_keys: pd.Series | None = None
    checked: dict[str, pd.DataFrame] = field(default_factory=dict)
    stated_by: dict[str, pd.DataFrame] = field(default_factory=dict)
    row_problems: dict[str, list[Problem]] = field(default_factory=dict)

    def keys_of(self, frame: pd.DataFrame, coded: Coded | None = None) -> pd.Series:
        """Each row's project key (`coded`: the frame's 项目编号 column already coded)."""
        if not self.is_portfolio:
            return pd.Series(self.heads[0][0] if self.heads else "", index=frame.index, dtype=object)
        if "project_id" not in frame:
            return pd.Series("", index=frame.index, dtype=object)
        if coded is not None:
            return pd.Series(coded.map(plain_text).array(), index=frame.index, dtype=object)
        return unique_map(frame["project_id"], plain_text)


def _prepare(raw: RawWorkbook, scheme: str | Path | Scheme | None) -> _Prepared:
    """The tables located and every project's 项目信息 read and its scheme chosen. Raises SheetError."""
    file = str(raw.path)
    problems: list[Problem] = []
    ind = _table(raw, "指标", INDICATOR_HEADERS, problems, required=True)
    info_grid = raw.sheets.get("项目信息")
    if info_grid is None:
        problems.append(Problem(file, "项目信息", None, None, None,
                                _missing_info_hint(raw.path)))
    if ind is not None:
        missing = [c for c in ("weight", "target", "actual") if c not in ind.headers]
        if "name" not in ind.headers and "level3" not in ind.headers:
            missing.insert(0, "name")
        for column in missing:
            problems.append(Problem(file, ind.sheet, ind.header_row, INDICATOR_LABELS[column], None,
                                    f"缺少必需的列「{INDICATOR_LABELS[column]}」"))
        frame = ind.frame
        if not missing and all(is_empty(v) for column in frame.columns[1:] for v in frame[column].to_numpy()):
            problems.append(Problem(file, ind.sheet, None, None, None, "指标表没有任何指标行"))
    if problems:
        raise SheetError(problems)
    assert ind is not None and info_grid is not None
    info_sheet = raw.sheet_names["项目信息"]
    records, is_portfolio = info_records(info_grid, file, info_sheet)
    stated_t = _table(raw, "报告数值", STATED_HEADERS, problems, required=False)
    text_t = _table(raw, "文字", NARRATIVE_HEADERS, problems, required=False)
    materials_t = _table(raw, "佐证材料", MATERIAL_HEADERS, problems, required=False)
    panel_table = _panel_table(raw)
    heads = []  # (key, info, problems, scheme | None)
    schemes: dict[object, Scheme | SchemeError] = {}  # what each 评价方式 of the workbook names, read once
    for rec in records:
        p: list[Problem] = []
        info = build_info(rec, file, info_sheet, p)
        key = info.get("id") or raw.path.stem
        spec = scheme if scheme is not None else _scheme_beside(info.get("method"), raw.path)
        chosen = schemes.get(spec) if isinstance(spec, str | Path | None) else None
        if chosen is None:
            try:
                chosen = load_scheme(spec)
            except SchemeError as exc:
                chosen = exc
            if isinstance(spec, str | Path | None):
                schemes[spec] = chosen
        if isinstance(chosen, SchemeError):
            p.append(Problem(file, info_sheet, rec["_rows"].get("评价方式"), "评价方式", info.get("method"),
                             str(chosen)))
            chosen = None
        heads.append((key, info, p, chosen))
    return _Prepared(raw, ind, info_sheet, is_portfolio, heads, stated_t, text_t, materials_t, panel_table)


#: joins a workbook's position in a batch and a project key into one key (never in a cell: a control character)
_BATCH_SEP = "\x1f"


def _check_batch(batch: list[_Prepared]) -> None:
    """The row checks of many workbooks: a portfolio on its own; one-project workbooks whose 指标 sheets share
    sheet name, headers, columns and scheme checked together in one vectorised pass (each keeps its own
    problems, located in its own file)."""
    groups: dict[tuple, list[_Prepared]] = {}
    for prep in batch:
        if _alone(prep):
            _check_one(prep)
            continue
        chosen = prep.heads[0][3]
        ind = prep.ind
        shape = (id(chosen), ind.sheet, ind.header_row, tuple(ind.headers.items()), tuple(ind.frame.columns))
        groups.setdefault(shape, []).append(prep)
    for members in groups.values():
        if len(members) == 1:
            _check_one(members[0])
        else:
            _check_singles(members)


def _alone(prep: _Prepared) -> bool:
    """A workbook `_check_batch` checks on its own whatever else the batch holds: a portfolio, or a project whose
    scheme could not be read."""
    return prep.is_portfolio or len(prep.heads) != 1 or prep.heads[0][3] is None


def _check_one(prep: _Prepared) -> None:
    """The row checks of one workbook (each scheme its projects use)."""
    file, ind, stated_t = str(prep.raw.path), prep.ind, prep.stated_t
    prep.ind_frame, coded = ffill_merged_coded(ind.frame, ("level1", "level2", "level3"),
                                               "project_id" if prep.is_portfolio else None)
    ind_keys = prep.ind_keys = prep.keys_of(prep.ind_frame, coded.get("project_id"))
    stated_keys = prep.keys_of(stated_t.frame) if stated_t is not None else None
    by_scheme: dict[int, tuple[Scheme, set[str]]] = {}
    for key, _, _, chosen in prep.heads:
        if chosen is not None:
            by_scheme.setdefault(id(chosen), (chosen, set()))[1].add(key)
    for chosen, members in by_scheme.values():
        mask = ind_keys.isin(members)
        every = len(by_scheme) == 1 and bool(mask.all())  # one scheme for every row (the usual portfolio)
        rows = mask.to_numpy()
        result = check_indicators(Table(ind.sheet, prep.ind_frame if every else prep.ind_frame[mask],
                                        ind.header_row, ind.headers), file, chosen,
                                  ind_keys if every else ind_keys[mask],
                                  coded=coded if every else {c: v.take(rows) for c, v in coded.items()})
        found = result.problems + check_weights(result.frame, file, ind.sheet, chosen, result.declared,
                                                 ind.headers.get("weight", "分值"))
        prep.checked.update(_split_by_key(result.frame))
        if stated_t is not None and stated_keys is not None:
            found += _stated_of(prep, stated_t.frame, stated_keys, members, chosen)
        for k, problem in found:
            prep.row_problems.setdefault(k, []).append(problem)


def _stated_of(prep: _Prepared, frame: pd.DataFrame, keys: pd.Series, members: set[str],
               chosen: Scheme) -> list[tuple[str, Problem]]:
    stated_t = prep.stated_t
    assert stated_t is not None
    smask = keys.isin(members)
    stated_frame, stated_problems = check_stated(
        Table(stated_t.sheet, frame[smask], stated_t.header_row, stated_t.headers), str(prep.raw.path), chosen,
        keys[smask])
    prep.stated_by.update(_split_by_key(stated_frame))
    return stated_problems


def _check_singles(members: list[_Prepared]) -> None:
    """One-project workbooks of one shape checked as one table keyed by (position, project key); each problem is
    then located in its own file."""
    ind, chosen = members[0].ind, members[0].heads[0][3]
    keys = [f"{n}{_BATCH_SEP}{prep.heads[0][0]}" for n, prep in enumerate(members)]
    sizes = [len(prep.ind.frame) for prep in members]
    frame = pd.concat([prep.ind.frame for prep in members], ignore_index=True)
    frame["_batch"] = np.repeat(np.asarray(keys, dtype=object), sizes)
    filled, coded = ffill_merged_coded(frame, ("level1", "level2", "level3"), "_batch")
    batch_keys = filled.pop("_batch")
    result = check_indicators(Table(ind.sheet, filled, ind.header_row, ind.headers), "", chosen, batch_keys,
                              one_project_per_key=True, coded=coded)
    found = result.problems + check_weights(result.frame, "", ind.sheet, chosen, result.declared,
                                             ind.headers.get("weight", "分值"))
    checked = _split_by_key(result.frame)
    for prep, key in zip(members, keys, strict=True):
        if key in checked:
            prep.checked[prep.heads[0][0]] = checked[key]
    _located(members, found)
    _check_singles_stated(members, keys, chosen)


def _located(members: list[_Prepared], found: list[tuple[str, Problem]]) -> None:
    """Problems of a batch keyed by (position, project key), each given to its workbook, located in its file."""
    for key, problem in found:
        n, own = key.split(_BATCH_SEP, 1)
        prep = members[int(n)]
        prep.row_problems.setdefault(own, []).append(replace(problem, file=str(prep.raw.path)))


def _check_singles_stated(members: list[_Prepared], keys: list[str], chosen: Scheme) -> None:
    """The 报告数值 sheets of one-project workbooks checked together (those of one sheet name and header layout in
    one pass, keyed like `_check_singles`); each workbook keeps its own figures and problems, in its rows' order."""
    groups: dict[tuple, list[int]] = {}
    for n, prep in enumerate(members):
        stated_t = prep.stated_t
        if stated_t is not None:
            shape = (stated_t.sheet, stated_t.header_row, tuple(stated_t.headers.items()),
                     tuple(stated_t.frame.columns))
            groups.setdefault(shape, []).append(n)
    for positions in groups.values():
        first = members[positions[0]].stated_t
        assert first is not None
        tables = [members[n].stated_t.frame for n in positions]  # type: ignore[union-attr]
        frame = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0].reset_index(drop=True)
        batch_keys = pd.Series(np.repeat(np.asarray([keys[n] for n in positions], dtype=object),
                                         [len(t) for t in tables]), index=frame.index, dtype=object)
        stated_frame, found = check_stated(Table(first.sheet, frame, first.header_row, first.headers), "", chosen,
                                           batch_keys)
        for key, part in _split_by_key(stated_frame).items():
            n, own = key.split(_BATCH_SEP, 1)
            members[int(n)].stated_by[own] = part
        _located(members, found)


def _finish(prep: _Prepared) -> list[ProjectRead]:
    """Each project of a checked workbook: its `Project`, or its problems when refused."""
    raw, ind, is_portfolio, info_sheet = prep.raw, prep.ind, prep.is_portfolio, prep.info_sheet
    file = str(raw.path)
    ind_frame, ind_keys = prep.ind_frame, prep.ind_keys  # a portfolio's, for its orphan rows
    assert not is_portfolio or (ind_frame is not None and ind_keys is not None)
    checked, stated_by, row_problems = prep.checked, prep.stated_by, prep.row_problems
    known = {h[0] for h in prep.heads}
    orphans = sorted(set(ind_keys[ind_keys != ""]) - known) if is_portfolio else []
    text_t, materials_t, panel_table = prep.text_t, prep.materials_t, prep.panel_table
    text_by = narratives(text_t, prep.keys_of(text_t.frame)) if text_t is not None else {}
    materials_by, ledger_problems = _materials(materials_t, file, prep.keys_of, is_portfolio)
    ledger = "evidence" in ind.headers or materials_t is not None
    empty_stated = _EMPTY_STATED.copy(deep=False)  # copy-on-write: a project's own frame, no data copied
    reads: list[ProjectRead] = []
    for key, info, p, chosen in prep.heads:
        if chosen is None:
            reads.append(ProjectRead(key, None, p))
            continue
        p.extend(row_problems.get(key, []))
        indicators = checked.get(key)
        if indicators is None and not row_problems.get(key):
            p.append(Problem(file, ind.sheet, None, "项目编号" if is_portfolio else None, key,
                             "该项目没有任何指标行"))
        stated = stated_by.get(key, empty_stated)
        if indicators is None or not all(q.auditable for q in p):
            reads.append(ProjectRead(key, None, p))
            continue
        reads.append(ProjectRead(key, Project(
            id=info["id"], name=info["name"], department=info.get("department") or "",
            unit=info.get("unit") or "", year=info["year"], method=info.get("method") or chosen.name,
            scheme_id=chosen.spec, budget=info["budget"], allocated=info["allocated"],
            spent=info["spent"], funding=info["funding"], indicators=indicators, stated=stated,
            narrative=text_by.get(key, {}), source=raw.path, sha256=raw.sha256, info=info["info"],
            # the ledger's own problems are warnings carried as findings (they never refuse a table)
            sheet_findings=(*p, *ledger_problems.get(key, ledger_problems.get("", [])),
                            *_panel_findings(panel_table, file, is_portfolio)), ledger=ledger,
            materials=_materials_of(materials_by, key) if materials_t is not None else None,
            panel=panel_table if panel_table is not None and not is_portfolio else None,
        ), p))
    for key in orphans:
        first = int(ind_frame.loc[ind_keys == key, "row"].iloc[0])
        reads.append(ProjectRead(key, None, [Problem(file, ind.sheet, first, "项目编号", key,
                                                     "该项目编号在「项目信息」中不存在")]))
    if is_portfolio:
        counts = Counter(r.key for r in reads)
        for dup in {key for key, n in counts.items() if n > 1}:
            for r in reads:
                if r.key == dup:
                    r.problems.append(Problem(file, info_sheet, None, "项目编号", dup, "项目编号重复"))
                    r.project = None
    return reads


#: a project's 报告数值 when its workbook states nothing (copied per workbook)
_EMPTY_STATED = pd.DataFrame({c: pd.Series(dtype=float if c == "value" else object) for c in STATED_COLUMNS})


def read_inputs(paths: str | Path | Iterable[str | Path], scheme: str | Path | Scheme | None = None, *,
                strict: bool = False, workers: int | None = None) -> list[ProjectRead]:
    """Every project in files and folders (a folder is searched recursively for .xlsx/.xlsm/.csv sets
    the way `perfeval batch` finds its inputs), in a stable order. A file that cannot be read at all
    becomes one refused `ProjectRead` keyed by its file name, so one bad file never hides the others.
    Raises PerfevalError for a path that does not exist and SheetError for a folder without any sheet.

    `workers`: processes that read the files (None: one per core when there are several files and enough to
    read, `perfeval.sheets.pool`; 1: in this process). The result is the same whatever the number."""
    from perfeval.sheets import pool
    from perfeval.sheets.inputs import input_files

    items = [paths] if isinstance(paths, str | Path) else list(paths)
    files = input_files(items)
    if not files:
        folders = "、".join(str(p) for p in items)
        raise SheetError([Problem(folders, None, None, None, None,
                                  "没有找到指标表（.xlsx、.xlsm 或 .csv）")])
    count = pool.pool_size(workers, files, scheme)
    if count > 1:
        return pool.run(partial(_read_files, scheme=scheme, strict=strict),
                        pool.chunks(files, count, _BATCH_FILES), count)
    reads: list[ProjectRead] = []
    for start in range(0, len(files), _BATCH_FILES):
        reads.extend(_read_files(files[start:start + _BATCH_FILES], scheme, strict))
    return reads


#: workbooks validated together by `read_inputs` (bounds the memory a batch of one-project workbooks holds)
_BATCH_FILES = 2000


def _read_files(files: list[Path], scheme: str | Path | Scheme | None, strict: bool) -> list[ProjectRead]:
    """What `read_projects` gives for each file, in order, the one-project workbooks of one shape validated in
    one pass (`_check_batch`)."""
    from perfeval.sheets.layouts import read_layout  # the layouts build on this module

    done: list[list[ProjectRead] | _Prepared] = []
    for file in files:
        try:
            with collection_paused():  # a sheet's rows are 10⁵ lists: the collector would walk them over and over
                raw = read_workbook(file)
                other = read_layout(raw, scheme)
                prep = None if other is not None else _prepare(raw, scheme)
        except SheetError as exc:
            done.append([ProjectRead(file.stem, None, list(exc.problems))])
            continue
        if prep is not None and _alone(prep):  # checked now, as `_check_batch` would: its sheets let go at once
            with collection_paused():
                _check_one(prep)
                other, prep = _finish(prep), None
        done.append(settle(other, strict) if prep is None else prep)
    with collection_paused():
        _check_batch([d for d in done if isinstance(d, _Prepared)])
        return [r for d in done for r in (settle(_finish(d), strict) if isinstance(d, _Prepared) else d)]


def _panel_table(raw: RawWorkbook) -> pd.DataFrame | None:
    """The 专家组评分 sheet a panel merge wrote (`perfeval.panel`), as written: header row, then one row per judged
    indicator. Shown in the report; its 核查说明 column carries the panel's findings."""
    grid = raw.sheets.get("专家组评分")
    if grid is None or grid.dropna(how="all").empty:
        return None
    grid = grid.dropna(how="all")
    header = [str(h).strip() for h in grid.iloc[0]]
    body = grid.iloc[1:].reset_index(drop=True)
    body.columns = header
    return body.loc[:, [h for h in header if h and h != "nan"]]


def _panel_findings(table: pd.DataFrame | None, file: str, is_portfolio: bool) -> tuple[Problem, ...]:
    if table is None or is_portfolio:
        return ()
    from perfeval.panel.apply import panel_findings_from_table

    return panel_findings_from_table(table, file)


def _materials(table: Table | None, file: str, keys_of, is_portfolio: bool
               ) -> tuple[dict[str, pd.DataFrame], dict[str, list[Problem]]]:
    """The 佐证材料 sheet per project key (in a portfolio without a 项目编号 column, shared by all: key "")."""
    if table is None:
        return {}, {}
    from perfeval.sheets.materials import read_materials

    keys = keys_of(table.frame)  # a portfolio sheet without 项目编号: "" (shared by all projects)
    frames: dict[str, pd.DataFrame] = {}
    problems: dict[str, list[Problem]] = {}
    for key, rows in table.frame.groupby(keys, sort=False):
        frame, found = read_materials(Table(table.sheet, rows, table.header_row, table.headers), file)
        frames[key], problems[key] = frame, found
    return frames, problems


def _materials_of(by_key: dict[str, pd.DataFrame], key: str) -> pd.DataFrame:
    from perfeval.sheets.materials import MATERIAL_COLUMNS

    found = by_key.get(key, by_key.get(""))
    return found if found is not None else pd.DataFrame(columns=list(MATERIAL_COLUMNS))


def load_projects(path: str | Path | Iterable[str | Path], scheme: str | Path | Scheme | None = None, *,
                  strict: bool = False, field_data: bool = True, workers: int | None = None) -> list[Project]:
    """All projects in a file (a project workbook, a portfolio workbook or a CSV set), a folder of
    them (searched recursively, like `perfeval batch`) or a list of files and folders.

    Raises SheetError listing every problem of every refused project. Auditable problems (weights,
    repeated rows) do not refuse a project unless `strict`; they travel as `Project.sheet_findings`.
    `field_data`: merge the expert sheets and survey kept beside each project (`perfeval.field_data`).
    `workers`: processes reading several files (None: automatic, 1: in this process; see `read_inputs`)."""
    single = isinstance(path, str | Path) and not Path(path).is_dir()
    reads = (read_projects(path, scheme, strict=strict) if single
             else read_inputs(path, scheme, strict=strict, workers=workers))
    problems = [q for r in reads for q in r.refusing]
    if problems:
        raise SheetError(problems)
    projects = [r.project for r in reads if r.project is not None]
    return _with_field_data(projects, scheme) if field_data else projects


def _with_field_data(projects: list[Project], scheme: str | Path | Scheme | None) -> list[Project]:
    """Each project with the field data beside its file merged (SheetError listing every piece that cannot
    be read); a file holding several projects takes only field data that names its project."""
    from collections import Counter

    from perfeval.sheets.field_data import folder_index, with_field_data

    per_file = Counter(str(p.source) for p in projects)
    bare: dict[str, bool] = {}  # source -> its folder holds no expert sheet and no survey mapping
    folders: dict[Path, bool] = {}
    for source in per_file:
        if source != "None":
            folder = Path(source).parent
            if folder not in folders:
                index = folder_index(folder.resolve())
                folders[folder] = not index.experts and not index.mappings
            bare[source] = folders[folder]
    out, problems = [], []
    for project in projects:
        if bare.get(str(project.source), False):
            out.append(project)
            continue
        try:
            out.append(with_field_data(project, scheme=scheme, shared=per_file[str(project.source)] > 1)[0])
        except SheetError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SheetError(problems)
    return out


#: the projects of the last few workbooks `load_project(path, project_id=…)` read, keyed by the file's identity
#: (path, inode, size, modification time) and the scheme asked for: a batch taking the projects of one portfolio
#: workbook one by one reads and validates it once per process, not once per project
_READS_CACHE: OrderedDict[tuple, list[ProjectRead]] = OrderedDict()
_READS_CACHE_SIZE = 4


def _portfolio_reads(path: str | Path, scheme: str | Path | Scheme | None, strict: bool) -> list[ProjectRead]:
    """`read_projects(path, scheme, strict=strict)`, kept while the file is unchanged (a changed file, by size,
    inode or modification time, is read again). A `Scheme` object is not a key: then the file is read each time."""
    file = Path(path)
    if not (scheme is None or isinstance(scheme, str | Path)) or not file.is_file():
        return read_projects(path, scheme, strict=strict)
    stat = file.stat()
    key = (str(file.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns, _scheme_key(scheme), strict)
    reads = _READS_CACHE.get(key)
    if reads is None:
        reads = read_projects(path, scheme, strict=strict)
        _READS_CACHE[key] = reads
        while len(_READS_CACHE) > _READS_CACHE_SIZE:
            _READS_CACHE.popitem(last=False)
    else:
        _READS_CACHE.move_to_end(key)
    return reads


def _scheme_key(scheme: str | Path | None) -> tuple | None:
    """A scheme id as given; a scheme file also by its identity (an edited scheme file is read again)."""
    if scheme is None:
        return None
    file = Path(scheme)
    if file.is_file():
        stat = file.stat()
        return str(file.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns
    return (str(scheme),)


def load_project(path: str | Path, scheme: str | Path | Scheme | None = None,
                 project_id: str | None = None, *, strict: bool = False, field_data: bool = True) -> Project:
    """The one project in a workbook or CSV set (or, in a portfolio workbook, the one whose
    项目编号 is `project_id`). Raises SheetError with every problem found that refuses it
    (with `strict`, auditable problems such as weights that do not match the scheme refuse it too).
    `field_data`: merge the expert sheets and survey kept beside it (`perfeval.field_data`)."""
    if project_id:
        all_reads = _portfolio_reads(path, scheme, strict)
        reads = [r for r in all_reads if r.key == str(project_id)]
        if not reads:
            raise SheetError([Problem(str(path), "项目信息", None, "项目编号", str(project_id),
                                      "文件中没有该项目编号的项目")])
        if reads[0].project is None:
            raise SheetError(list(reads[0].problems))
        if not field_data:
            return reads[0].project
        from perfeval.sheets.field_data import with_field_data

        return with_field_data(reads[0].project, scheme=scheme, shared=len(all_reads) > 1)[0]
    projects = load_projects(path, scheme, strict=strict, field_data=field_data)
    if len(projects) != 1:
        raise SheetError([Problem(str(path), "项目信息", None, "项目编号", None,
                                  f"文件包含 {len(projects)} 个项目；请用 perfeval batch 处理项目组合")])
    return projects[0]


def validate_paths(paths: Iterable[str | Path],
                   scheme: str | Path | Scheme | None = None) -> list[Problem]:
    """Every problem in every file (an empty list means all files are valid), auditable ones included
    (`Problem.auditable` tells which of them still let the table be scored)."""
    problems: list[Problem] = []
    for path in paths:
        try:
            for read in read_projects(path, scheme):
                problems.extend(read.problems)
        except SheetError as exc:
            problems.extend(exc.problems)
    return problems
