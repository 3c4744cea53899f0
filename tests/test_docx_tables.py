"""Word tables: merged cells where the document's tables span them, one style lookup per name.

The writer merges through each row's cells (python-docx's `Table.cell` lays out the whole table on
every call, which made large scoring tables quadratic) and sets style ids looked up once per
document; what Word shows must stay what the document says.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document

import perfeval
from perfeval.report import compose
from perfeval.report.document import Table
from perfeval.report.docx import render_docx

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"


@pytest.fixture(scope="module")
def rendered():
    doc = compose.compose(perfeval.evaluate(perfeval.load_project(REFERENCE)), "2024-01-01 00:00:00+08:00")
    return doc, Document(io.BytesIO(render_docx(doc, {})))


def _word_table(word, table: Table):
    """The Word table showing `table` (same header row, same number of rows)."""
    for candidate in word.tables:
        header = tuple(c.text for c in candidate.rows[0].cells)
        if header == table.columns and len(candidate.rows) == len(table.rows) + 1:
            return candidate
    raise AssertionError(f"no Word table for {table.key}")


def test_merged_runs_and_subtotal_labels_are_merged_cells(rendered):
    doc, word = rendered
    merged = [b for b in doc.blocks() if isinstance(b, Table) and b.merge and b.style != "kv"]
    assert merged, "the reference report has scoring tables with merged 一级/二级 runs"
    checked_rows = checked_cols = 0
    for table in merged:
        grid = _word_table(word, table)
        spans, colspans = table.spans(), table.colspans()
        for i, row in enumerate(table.rows):
            for j, value in enumerate(row):
                top = grid.cell(i + 1, j)
                if spans[i][j] > 1:  # every covered row resolves to the run's first cell
                    checked_rows += 1
                    assert all(grid.cell(i + 1 + k, j)._tc is top._tc for k in range(spans[i][j]))
                if colspans[i][j] > 1:  # a subtotal label covers the empty cells after it
                    checked_cols += 1
                    assert grid.cell(i + 1, j + colspans[i][j] - 1)._tc is top._tc
                if spans[i][j] and colspans[i][j]:
                    assert top.text == value
        assert all(len(tr.tc_lst) == len(table.columns) - sum(c - 1 for c in colspans[i] if c > 1)
                   for i, tr in enumerate(grid._tbl.tr_lst[1:]))
    assert checked_rows and checked_cols


def test_styles_are_set_by_name_as_python_docx_would(rendered):
    _, word = rendered
    assert word.paragraphs[0].style.name == "Title"
    assert {t.style.name for t in word.tables} == {"Table Grid"}
    headings = [p.text for p in word.paragraphs if p.style.name == "Heading 1"]
    assert headings[0].startswith("一、") and headings[-1] == "生成信息"
    body = [p for p in word.paragraphs if p.text and p.style.name == "Normal"]
    assert body  # the default paragraph style: no w:pStyle, exactly as `paragraph.style = "Normal"` leaves it
    assert all(p._p.pPr is None or p._p.pPr.pStyle is None for p in body)


def test_a_report_is_the_same_bytes_each_time_with_its_parts_dated_by_the_report(rendered):
    """python-docx dates the package's parts with the clock; the report dates them with its own time
    (SOURCE_DATE_EPOCH when set), so the same report is the same bytes (reproducible builds)."""
    import time
    import zipfile

    doc, _ = rendered
    first = render_docx(doc, {})
    time.sleep(2.1)  # the zip format's clock ticks in 2-second steps
    assert render_docx(doc, {}) == first
    with zipfile.ZipFile(io.BytesIO(first)) as package:
        assert {info.date_time for info in package.infolist()} == {(2024, 1, 1, 0, 0, 0)}
        assert package.testzip() is None
    assert Document(io.BytesIO(first)).paragraphs  # still a document Word and python-docx open
