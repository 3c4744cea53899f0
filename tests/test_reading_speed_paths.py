"""The faster paths of reading (issue 10): each decides exactly what the general path decides.

* the sheet scan's plain-segment shortcut (`xlsx_guard._plain_segment`) against the full array look of a segment;
* a reading worker's sheets kept whole (`cells.keeping_rows_whole`) and cut in the parent against frames cut
  in the worker;
* the 指标 columns coded once (`indicators.ffill_merged_coded`) against coding them again in `check_indicators`.
"""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import perfeval
import perfeval.sheets.xlsx_guard as guard
from perfeval.sheets import cells, pool
from perfeval.sheets.load import _read_files, read_inputs
from perfeval.sheets.write import save_portfolio

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"

#: pieces of worksheet XML: plain cells and rows, and every way a tag can fall outside A1:Z99999 or lack its reference
_PLAIN = [b'<c r="B7"><v>1</v></c>', b'<c r="Z99999" t="s"><v>3</v></c>', b'<c r="a12"/>', b'<row r="12">',
          b'<row r="99999" spans="1:3">', b"</row>", b'<c r="C3" t="inlineStr"><is><t>x:y</t></is></c>']
_ODD = [b'<c r="AA7"><v>1</v></c>', b'<c r="B100000"/>', b'<c><v>1</v></c>', b'<c t="n" r="B2"/>', b'<row>',
        b'<row r="100000">', b"<x:c r=\"B2\"/>", b'<x:row r="2">', b'<c r="B"/>', b'<c r="7"/>', b"<c r='B2'/>",
        b'<c  r="B2"/>', b'<c r="B2 "/>', b'<c\nr="B2"/>', b'<c r="XFD1048576"/>', b'<c r="B0123456"/>',
        b'<c r="B1234567"/>', b'<row r="">', b'<c/>', b'<c>', b'<row/>', b'<row r="12345678">', b'<c r="112"/>',
        b'<c r="_12"/>', b'<c r="\xe4\xb8\x80"/>', b'<c r="B12x"/>', b'<row r="x12">', b'<row r="12x">',
        b'<c r="B12>', b'<c r=B12/>', b'<c r="B123456"/>', b'<row r="123456">', b'<c R="B2"/>']


def _segment(rng: random.Random, odd: bool) -> bytes:
    pieces = [rng.choice(_PLAIN) for _ in range(rng.randint(1, 60))]
    for _ in range(rng.randint(1, 3) if odd else 0):
        pieces.insert(rng.randrange(len(pieces) + 1), rng.choice(_ODD))
    return b"".join(pieces) + b" " * guard._OVERLAP


@pytest.mark.parametrize("seed", range(20))
def test_plain_segment_shortcut_sees_what_the_full_look_sees(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    for _ in range(150):
        block = _segment(rng, odd=rng.random() < 0.7)
        end = max(1, len(block) - guard._OVERLAP - rng.randint(0, 8))
        for flags in ((True, True, True, True), (True, True, False, True), (True, True, True, False)):
            fast = guard._seen_by_numpy(block, end, *flags)
            with monkeypatch.context() as m:
                m.setattr(guard, "_plain_segment", lambda *args: False)
                full = guard._seen_by_numpy(block, end, *flags)
            assert fast == full, (block, end, flags)


def test_plain_segment_extent_counts_every_reference_but_the_last_tag() -> None:
    block = b'<row r="9"><c r="C12"/><c r="b99999"/><c r="Z5"/></row><c r="Y88888"/>' + b" " * guard._OVERLAP
    end = block.rindex(b"<c") + 1  # the last cell starts before end: it is the last "<" and kept apart
    seen = guard._seen_by_numpy(block, end, True, True, False, True)
    assert (seen.odd, seen.no_ref, seen.rows, seen.cols, seen.at_last_lt) == (None, None, 99999, 26, (88888, 25))


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("portfolio")
    base = perfeval.load_project(REFERENCE, field_data=False)
    first = save_portfolio([base.replace(id=f"P{i:02d}", name=f"项目{i}", spent=round(base.spent - i, 2))
                            for i in range(6)], folder / "组合1.xlsx")
    second = save_portfolio([base.replace(id=f"Q{i:02d}", name=f"项目{i}") for i in range(3)], folder / "组合2.xlsx")
    return [first, REFERENCE, second]


def test_a_worker_keeps_each_sheet_whole_and_the_parent_cuts_it(portfolio: list[Path]) -> None:
    """Before: a worker cut every project's frames out of its sheet, then concatenated them again to pickle them
    (a third of a 5,000-project workbook's reading time). Now the sheet travels whole, cut once in the parent."""
    serial = read_inputs(portfolio, workers=1)
    with cells.keeping_rows_whole():
        reads = _read_files(portfolio, None, False)
    runs = [r.project.indicators for r in reads if r.project is not None]
    assert all(isinstance(run, cells.RowRun) for run in runs)
    assert len({id(run.body) for run in runs}) == len(portfolio)  # one frame per workbook's sheet
    back = pool.unpack(pickle.loads(pickle.dumps(pool.pack(reads))))
    assert [r.key for r in back] == [r.key for r in serial]
    for x, y in zip(serial, back, strict=True):
        assert x.problems == y.problems
        for attr in ("indicators", "stated"):
            pd.testing.assert_frame_equal(getattr(x.project, attr), getattr(y.project, attr), check_exact=True)
    assert not cells._KEEP_WHOLE  # only within the block


def test_cut_rows_outside_a_worker_gives_frames() -> None:
    body = pd.DataFrame({"row": np.arange(5), "name": pd.Series(list("abcde"), dtype=object)})
    parts = cells.cut_rows(body, [(0, 2), (2, 5)])
    assert [p["name"].tolist() for p in parts] == [["a", "b"], ["c", "d", "e"]]
    with cells.keeping_rows_whole():
        runs = cells.cut_rows(body, [(0, 2), (2, 5)])
    assert [(r.start, r.stop) for r in runs] == [(0, 2), (2, 5)]
    assert runs[0].body is runs[1].body and runs[0].body.equals(body)


def test_coded_columns_check_as_columns_coded_again() -> None:
    """`check_indicators(coded=…)` on the codes `ffill_merged_coded` made: the same rows, frame and problems as
    coding every column again (mixed cells: numbers, 1 and 1.0 and '1', blanks, NaN, merged levels)."""
    from perfeval.scheme import load_scheme
    from perfeval.sheets.indicators import check_indicators, ffill_merged_coded
    from perfeval.sheets.read import Table

    frame = pd.DataFrame({
        "row": np.arange(2, 10),
        "project_id": pd.Series(["A", "A", "A", "B", "B", "B", "B", 1.0], dtype=object),
        "level1": pd.Series(["决策", None, "过程", "决策", "", None, "产出", "效益"], dtype=object),
        "level2": pd.Series(["项目立项", None, "资金管理", "项目立项", None, np.nan, "数量", "效益"], dtype=object),
        "level3": pd.Series(["立项依据", "程序", None, "立项依据", None, "x", "数量", "y"], dtype=object),
        "name": pd.Series(["立项依据", "", "资金到位率", "立项依据", "立项依据", None, 1, "1"], dtype=object),
        "weight": pd.Series([3, 3.0, "4", 1, 1.0, True, "abc", None], dtype=object),
        "target": pd.Series(["充分", None, "100%", "充分", "充分", "", "≥24人", "≈5"], dtype=object),
        "actual": pd.Series(["充分", "", "98%", "充分", "充分", "", "24人", "5"], dtype=object),
    })
    filled, coded = ffill_merged_coded(frame, ("level1", "level2", "level3"), "project_id")
    keys = filled["project_id"].map(str)
    table = Table("指标", filled, 1, {})
    scheme = load_scheme(None)
    shared = check_indicators(table, "f.xlsx", scheme, keys, coded=coded)
    again = check_indicators(table, "f.xlsx", scheme, keys)
    pd.testing.assert_frame_equal(shared.frame, again.frame, check_exact=True)
    assert shared.problems == again.problems and shared.declared == again.declared
    assert shared.problems  # something was checked


def _collector_state(part: list[Path]) -> list:
    import gc

    from perfeval.sheets.load import ProjectRead

    return [ProjectRead(f"{gc.isenabled()}", None, [])]


def test_the_parent_pauses_its_collector_but_not_the_workers() -> None:
    """The parent receives the results with its collector paused (each collection would walk every project
    received so far); the workers, started before the pause, keep theirs; afterwards the parent's runs again."""
    import gc

    reads = pool.run(_collector_state, [[Path("a")], [Path("b")], [Path("c")]], 2)
    assert [r.key for r in reads] == ["True"] * 3
    assert gc.isenabled()


def test_grid_of_rows_as_numpy_builds_it() -> None:
    """calamine's rows (each as long as the sheet is wide) into one object block: numpy's own array of them, the
    very cell objects."""
    from datetime import datetime

    from perfeval.sheets.read import _grid

    rows = [["项目编号", 1, 2.5, None], [True, "", datetime(2022, 1, 1), "x"], ["a", "b", 3, 4.0]]
    grid = _grid(rows)
    assert grid.shape == (3, 4) and all(t == np.dtype(object) for t in grid.dtypes)
    assert np.array_equal(grid.to_numpy(), np.array(rows, dtype=object))
    assert all(a is b for a, b in zip(grid.to_numpy().ravel(), [c for row in rows for c in row], strict=True))
    assert _grid([]).empty and _grid([[], []]).shape == (2, 0)


def test_a_located_table_owns_its_cells() -> None:
    """The table is copied out of the grid once, column by column: changing the grid afterwards leaves it as read."""
    from perfeval.sheets.read import INDICATOR_HEADERS, locate_table

    grid = pd.DataFrame(np.array([["说明", None, None], ["一级指标", "指标名称", "分值"], ["决策", "立项", 3.0],
                                  ["过程", "资金", 4.0]], dtype=object), dtype=object)
    table = locate_table(grid, "指标", INDICATOR_HEADERS)
    assert table is not None and list(table.frame.columns) == ["row", "level1", "name", "weight"]
    assert table.frame["row"].tolist() == [3, 4] and table.frame["name"].tolist() == ["立项", "资金"]
    grid.iat[2, 1] = "改了"
    assert table.frame["name"].tolist() == ["立项", "资金"]
    assert table.frame["level1"].to_numpy().flags["C_CONTIGUOUS"]  # a column's cells one after another
