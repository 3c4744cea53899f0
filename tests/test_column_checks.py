"""Validation column by column (issue 10, part 3): a portfolio's 项目信息 and 指标 sheets are checked once per
distinct cell value, and every problem still names the row, column and value it did when each project was
checked on its own."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import perfeval
import perfeval.sheets.load as load
from perfeval.notation import plain_text
from perfeval.sheets.cells import Coded, codes_of, unique_map, unreadable
from perfeval.sheets.indicators import ffill_merged
from perfeval.sheets.info import build_info, info_records
from perfeval.sheets.read import read_workbook
from perfeval.sheets.write import save_portfolio

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"


@pytest.fixture(scope="module")
def reference() -> perfeval.Project:
    return perfeval.load_project(REFERENCE, field_data=False)


def _portfolio(tmp_path: Path, reference, edit, n: int = 5) -> Path:
    """A portfolio of `n` copies of the reference (P0 … P{n-1}, 项目信息 rows 2 … n+1) with `edit` applied to its
    项目信息 sheet (given the sheet and {header: column})."""
    path = save_portfolio([reference.replace(id=f"P{i}", name=f"项目{i}") for i in range(n)], tmp_path / "组合.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["项目信息"]
    edit(sheet, {c.value: c.column for c in sheet[1]})
    book.save(path)
    return path


def _problems(reads, key):
    (read,) = [r for r in reads if r.key == key]
    return read.problems


def test_one_bad_info_cell_names_its_own_row_and_column(tmp_path, reference) -> None:
    path = _portfolio(tmp_path, reference, lambda s, h: (s.cell(4, h["年度"], "二〇二二"),
                                                         s.cell(5, h["预算数"], "abc")))
    reads = perfeval.read_projects(path)
    assert [(r.key, r.project is not None) for r in reads] == [
        ("P0", True), ("P1", True), ("P2", False), ("P3", False), ("P4", True)]
    (year,) = _problems(reads, "P2")
    assert (year.sheet, year.row, year.column, year.value) == ("项目信息", 4, "年度", "二〇二二")
    assert year.expected == "应为四位年份，如 2022"
    (budget,) = _problems(reads, "P3")
    assert (budget.row, budget.column, budget.value) == (5, "预算数", "abc")
    assert "应为金额" in budget.expected


def test_mixed_types_in_one_column_are_each_read_as_written(tmp_path, reference) -> None:
    def edit(sheet, h):
        for row, value in ((2, "2022"), (3, 2022), (4, "2022年"), (5, True), (6, 2022.0)):
            sheet.cell(row, h["年度"], value)
        sheet.cell(2, h["预算数"], "33.46万元")
        sheet.cell(3, h["预算数"], 1)
        sheet.cell(2, h["项目名称"], 123)

    reads = perfeval.read_projects(_portfolio(tmp_path, reference, edit))
    by_key = {r.key: r for r in reads}
    assert by_key["P0"].project.year == 2022 and by_key["P0"].project.budget == 33.46
    assert by_key["P0"].project.name == "123"
    assert by_key["P1"].project.year == 2022 and by_key["P1"].project.budget == 1.0
    assert [(p.row, p.column, p.value) for p in by_key["P2"].problems] == [(4, "年度", "2022年")]
    # a TRUE cell is a yes, never the year 1 (nor a number equal to it)
    assert [(p.row, p.column, p.value) for p in by_key["P3"].problems] == [(5, "年度", "是")]
    assert by_key["P4"].project.year == 2022


def test_empty_cells_are_missing_values_at_their_row(tmp_path, reference) -> None:
    def edit(sheet, h):
        sheet.cell(3, h["项目名称"]).value = None
        sheet.cell(4, h["年度"], "—")
        sheet.cell(5, h["主管部门"]).value = None

    reads = perfeval.read_projects(_portfolio(tmp_path, reference, edit))
    by_key = {r.key: r for r in reads}
    assert [(p.row, p.column, p.value, p.expected) for p in by_key["P1"].problems] == [
        (3, "项目名称", None, "缺少必填项「项目名称」")]
    assert [(p.row, p.column, p.expected) for p in by_key["P2"].problems] == [(4, "年度", "缺少必填项「年度」")]
    assert by_key["P3"].project is not None and by_key["P3"].project.department == ""
    assert by_key["P0"].project.department == reference.department


def test_two_spellings_and_funding_are_checked_per_project(tmp_path, reference) -> None:
    def edit(sheet, h):
        last = sheet.max_column
        for offset, header in enumerate(("全年预算数", "本级财政资金", "备注")):
            sheet.cell(1, last + 1 + offset, header)
        for row in range(2, 7):
            sheet.cell(row, last + 1, 99 if row == 3 else sheet.cell(row, h["预算数"]).value)
            sheet.cell(row, last + 2, "x" if row == 4 else 10)
            sheet.cell(row, last + 3).value = "（填写备注）" if row == 6 else ("说明" if row == 5 else None)

    reads = perfeval.read_projects(_portfolio(tmp_path, reference, edit))
    by_key = {r.key: r for r in reads}
    (twice,) = by_key["P1"].problems
    assert (twice.row, twice.column, twice.value) == (3, "全年预算数", "99")
    assert twice.expected.startswith("「预算数」填写了两次且不一致：第3行「预算数」为 ")
    (funding,) = by_key["P2"].problems
    assert (funding.row, funding.column, funding.value) == (4, "本级财政资金", "x")
    # the sheet already has a 本级财政资金 column: the last column of a header counts
    assert by_key["P0"].project.funding == {"本级财政资金": 10.0, "上级财政资金": 0.0, "上年结转资金": 0.0,
                                            "其他资金": 0.0}
    assert by_key["P3"].project.info["备注"] == "说明" and "备注" not in by_key["P0"].project.info
    (placeholder,) = by_key["P4"].problems
    assert (placeholder.row, placeholder.column, placeholder.code) == (6, "备注", "placeholder")


def test_table_records_build_the_same_facts_as_one_record_at_a_time(tmp_path, reference) -> None:
    """Each record's facts, built column by column, equal what `build_info` builds from its cells alone."""
    def edit(sheet, h):
        sheet.cell(2, h["年度"], True)
        sheet.cell(3, h["预算数"], "-3")
        sheet.cell(4, h["执行数"], "5亿元")
        sheet.cell(5, h["项目编号"], "P\t3")
        sheet.cell(6, h["项目名称"], "（填写项目名称）")
        sheet.cell(7, h["到位数"], float("nan"))

    path = _portfolio(tmp_path, reference, edit, n=7)
    raw = read_workbook(path)
    records, is_portfolio = info_records(raw.sheets["项目信息"], str(path), "项目信息")
    assert is_portfolio and len(records) == 7
    for rec in records:
        built, alone = [], []
        fast = build_info(rec, str(path), "项目信息", built)
        slow = build_info({"_pairs": rec["_pairs"], "_rows": rec["_rows"]}, str(path), "项目信息", alone)
        assert built == alone
        assert list(fast) == list(slow) and all(
            fast[k] == slow[k] or (isinstance(fast[k], float) and math.isnan(fast[k]) and math.isnan(slow[k]))
            for k in fast)
    # built facts are copies: changing one project's facts leaves the record as read
    first = build_info(records[0], str(path), "项目信息", [])
    first["info"]["x"] = "y"
    assert "x" not in build_info(records[0], str(path), "项目信息", [])["info"]


def test_codes_of_keys_values_as_a_dict_does() -> None:
    values = np.array(["a", 1, 1.0, True, None, float("nan"), "a", None, np.float64("nan"), pd.NaT], dtype=object)
    codes, uniques = codes_of(values)
    assert codes[1] == codes[2] == codes[3] and codes[0] == codes[6] and codes[4] == codes[7]
    assert len({codes[4], codes[5], codes[9]}) == 3  # None, NaN and NaT stay apart
    assert uniques[codes[1]] == 1 and type(uniques[codes[1]]) is int  # the first seen stands for equal values
    assert all(uniques[codes[i]] is values[i] for i in (0, 4))
    empty_codes, empty_uniques = codes_of(np.array([], dtype=object))
    assert len(empty_codes) == 0 and len(empty_uniques) == 0


def test_unique_map_tells_none_from_nan() -> None:
    series = pd.Series([None, float("nan"), "x", None, 2.5], index=[10, 11, 12, 13, 14], dtype=object)
    assert unique_map(series, unreadable).tolist() == [None, unreadable(float("nan")), None, None, None]
    assert unique_map(series, plain_text).tolist() == ["", "", "x", "", "2.5"]
    assert list(unique_map(series, plain_text).index) == [10, 11, 12, 13, 14]
    coded = Coded.of(series)
    assert coded.array().tolist()[2:] == ["x", None, 2.5] and coded.take(np.array([2, 4])).array().tolist() == [
        "x", 2.5]


def test_merged_cells_are_inherited_within_each_project_only() -> None:
    """Projects whose rows interleave inherit only from their own rows (as a groupby forward fill does)."""
    frame = pd.DataFrame({
        "project_id": ["A", "B", "A", "B", "A", "B", "A"],
        "level1": ["决策", "产出", None, None, "", "效益", None],
        "name": ["n1", "n2", "n3", "n4", None, "n6", "n7"],
        "weight": [1, 2, 3, 4, None, 6, 7],
    }, dtype=object)
    frame.insert(0, "row", range(2, 9))
    filled = ffill_merged(frame, ("level1", "level2"), "project_id")
    # row 6 has no content of its own: it stays blank and does not stop row 8 inheriting
    assert filled["level1"].tolist() == ["决策", "产出", "决策", "产出", None, "效益", "决策"]
    alone = ffill_merged(frame.drop(columns="project_id"), ("level1",), None)
    assert alone["level1"].tolist() == ["决策", "产出", "产出", "产出", None, "效益", "效益"]


def _edit_indicators(path: Path, project_id: str | None) -> Path:
    """The 4th row of `project_id` (every row when None: a one-project sheet) with 分值 abc, its 6th 指标值 ≈5种."""
    book = openpyxl.load_workbook(path)
    sheet = book["指标"]
    h = {c.value: c.column for c in sheet[1]}
    mine = [r for r in range(2, sheet.max_row + 1)
            if project_id is None or sheet.cell(r, h["项目编号"]).value == project_id]
    sheet.cell(mine[3], h["分值"], "abc")
    sheet.cell(mine[5], h["指标值"], "≈5种")
    book.save(path)
    return path


def test_bad_indicator_cell_in_one_project_of_a_portfolio(tmp_path, reference) -> None:
    from perfeval.sheets.write import save_project

    projects = [reference.replace(id=f"P{i}", name=f"项目{i}") for i in range(3)]
    path = _edit_indicators(save_portfolio(projects, tmp_path / "组合.xlsx"), "P1")
    reads = perfeval.read_projects(path)
    assert [(r.key, r.project is not None) for r in reads] == [("P0", True), ("P1", False), ("P2", True)]
    alone = perfeval.read_projects(_edit_indicators(save_project(projects[1], tmp_path / "P1.xlsx"), None))
    offset = len(reference.indicators)  # P1's rows follow P0's in the portfolio's 指标 sheet
    got = [(p.row, p.column, p.value, p.expected) for p in reads[1].problems]
    assert got == [(p.row + offset, p.column, p.value, p.expected) for p in alone[0].problems]
    assert [(p.column, p.value) for p in reads[1].problems] == [("分值", "abc"), ("指标值", "≈5种")]


def test_split_by_key_of_keys_in_blocks_takes_no_copy_of_order() -> None:
    frame = pd.DataFrame({"row": [2, 3, 4, 5], "name": ["a", "b", "c", "d"], "weight": [1.0, 2.0, 3.0, 4.0],
                          "_key": pd.Series(["x", "x", "y", "z"], dtype=object)})
    parts = load._split_by_key(frame)
    assert list(parts) == ["x", "y", "z"]
    for key, part in parts.items():
        expected = frame[frame["_key"] == key].drop(columns="_key").reset_index(drop=True)
        pd.testing.assert_frame_equal(part, expected)


def test_portfolio_problems_of_many_projects_keep_their_order(tmp_path, reference) -> None:
    def edit(sheet, h):
        for row in range(2, 12):
            sheet.cell(row, h["年度"], ["二〇二二", 2022, dt.datetime(2022, 1, 1), "", 2022][row % 5])

    reads = perfeval.read_projects(_portfolio(tmp_path, reference, edit, n=10))
    located = [(p.row, p.column, p.value) for r in reads for p in r.problems]
    assert located == [(row, "年度", "2022-01-01") if row % 5 == 2 else
                       (row, "年度", None) if row % 5 == 3 else (row, "年度", "二〇二二")
                       for row in range(2, 12) if row % 5 in (0, 2, 3)]


def test_stated_figures_of_a_portfolio_are_located_per_row(tmp_path, reference) -> None:
    path = save_portfolio([reference.replace(id=f"P{i}", name=f"项目{i}") for i in range(3)], tmp_path / "组合.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["报告数值"]
    h = {c.value: c.column for c in sheet[1]}
    sheet.cell(3, h["数据项"], "乱七八糟")
    sheet.cell(4, h["报告值"], "abc%")
    sheet.cell(5, h["出处"]).value = None
    book.save(path)
    reads = perfeval.read_projects(path)
    assert [(p.row, p.column, p.value) for p in reads[0].problems] == [(3, "数据项", "乱七八糟"), (4, "报告值", "abc%")]
    assert reads[0].project is None
    # P1 and P2 read as written; a blank 出处 reads as the figure's own row (P0's rows 2 … 29: row 5 is its 4th)
    pd.testing.assert_frame_equal(reads[1].project.stated, reference.stated)
    book = openpyxl.load_workbook(path)
    sheet = book["报告数值"]
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row, h["数据项"], "等级" if row == 3 else sheet.cell(row, h["数据项"]).value)
        sheet.cell(row, h["报告值"], "99" if row == 4 else sheet.cell(row, h["报告值"]).value)
    book.save(path)
    again = perfeval.read_projects(path)[0]
    assert again.project is not None, again.problems
    stated = again.project.stated
    assert stated["where"].tolist()[3] == "报告数值第5行" and stated["where"].tolist()[:3] == ["三(一)"] * 3
    assert stated["value"].dtype == float and stated["item"].tolist()[:3] == ["总分", "等级", "决策得分"]


def test_collection_paused_restores_the_collector_even_on_error() -> None:
    import gc

    from perfeval.sheets.cells import collection_paused

    assert gc.isenabled()
    with pytest.raises(ValueError), collection_paused():
        assert not gc.isenabled()
        raise ValueError
    assert gc.isenabled()
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


def test_row_slices_equal_pandas_slices() -> None:
    from perfeval.sheets.cells import row_slices

    body = pd.DataFrame({"row": np.arange(2, 9), "name": list("abcdefg"), "weight": np.linspace(0, 1, 7)})
    body["name"] = body["name"].astype(object)
    parts = row_slices(body, [0, 3, 3, 7])
    assert [len(p) for p in parts] == [3, 0, 4]
    for part, (start, stop) in zip(parts, [(0, 3), (3, 3), (3, 7)], strict=True):
        pd.testing.assert_frame_equal(part, body.iloc[start:stop].reset_index(drop=True))
