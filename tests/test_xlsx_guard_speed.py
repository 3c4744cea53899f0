"""The single-pass sheet scan of perfeval.sheets.xlsx_guard decides exactly as the multi-pass definition
(`_scan_sheet_in_passes`): the same extents, faults, refusals and errors, whatever the chunk boundaries cut
(a row, a `<c` tag, a formula), for columns beyond Z, sheets larger than their `<dimension>`, long rows,
the total budget and damaged parts. Chunks are made tiny so that every boundary case occurs in small files."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest

import perfeval.sheets.xlsx_guard as guard
from perfeval.errors import SheetError

NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _book(path: Path, *sheets: bytes, full_calc: bool = False) -> Path:
    workbook = (b'<workbook ' + NS + b' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                b'<sheets>' + b"".join(b'<sheet name="S%d" sheetId="%d" r:id="rId%d"/>' % (i, i + 1, i + 1)
                                      for i in range(len(sheets)))
                + b'</sheets>' + (b'<calcPr fullCalcOnLoad="1"/>' if full_calc else b"") + b'</workbook>')
    rels = (b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + b"".join(b'<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                       b'relationships/worksheet" Target="worksheets/sheet%d.xml"/>' % (i + 1, i + 1)
                       for i in range(len(sheets))) + b'</Relationships>')
    root = (b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            b'officeDocument" Target="xl/workbook.xml"/></Relationships>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("_rels/.rels", root)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        for i, data in enumerate(sheets):
            z.writestr(f"xl/worksheets/sheet{i + 1}.xml", data)
    return path


def _sheet(rows: list[bytes], dimension: bytes = b"A1:B2") -> bytes:
    return (b'<?xml version="1.0"?>\n<worksheet ' + NS + b'><dimension ref="' + dimension + b'"/><sheetData>'
            + b"".join(rows) + b"</sheetData></worksheet>")


def _row(number: int, cells: list[tuple[str, bytes]]) -> bytes:
    return b'<row r="%d">' % number + b"".join(
        b'<c r="%s%d">%s</c>' % (col.encode(), number, body) for col, body in cells) + b"</row>"


def _outcome(path: Path):
    try:
        return [(s.name, s.rows, s.cols, sorted((k, f.kind, f.text, f.ref) for k, f in s.faults.items()), s.problem)
                for s in guard.scan_xlsx(path).sheets]
    except SheetError as exc:
        return ("refused", exc.problems)


def _both(path: Path, monkeypatch) -> tuple[object, object]:
    """(single pass, multi-pass definition) on the same file and limits."""
    single = _outcome(path)
    with monkeypatch.context() as m:
        m.setattr(guard, "_scan_sheet", guard._scan_sheet_in_passes)
        passes = _outcome(path)
    return single, passes


@pytest.fixture(params=[(97, 0), (160, 0), (333, 1 << 16), (1 << 20, 0)], ids=lambda p: f"chunk{p[0]}-vec{p[1]}")
def chunking(request, monkeypatch):
    """Tiny chunks (numpy on every chunk, or re) so boundaries fall inside rows, tags and formulas."""
    chunk, vector = request.param
    monkeypatch.setattr(guard, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(guard, "VECTOR_MIN_BYTES", vector)
    return chunk


def _numbers(n: int, start: int = 1) -> list[bytes]:
    return [_row(r, [(c, b"<v>%d</v>" % (r * 3 + i)) for i, c in enumerate("ABCDEFGHIJKLMN")])
            for r in range(start, start + n)]


def test_plain_sheet_split_everywhere(tmp_path, monkeypatch, chunking):
    path = _book(tmp_path / "plain.xlsx", _sheet(_numbers(60)))
    single, passes = _both(path, monkeypatch)
    assert single == passes == [("S0", guard.SIMPLE_MAX_ROW, guard.SIMPLE_MAX_COL, [], None)]


def test_formula_split_across_chunks_is_found(tmp_path, monkeypatch, chunking):
    rows = _numbers(30)
    rows[17] = _row(18, [("A", b"<v>1</v>"), ("F", b"<f>SUM(A1:A2)</f><v></v>"), ("G", b"<v>#REF!</v>")])
    rows[18] = rows[18].replace(b'<c r="B19">', b'<c r="B19" t="e">').replace(b"<v>58</v>", b"<v>#N/A</v>", 1)
    path = _book(tmp_path / "formula.xlsx", _sheet(rows))
    single, passes = _both(path, monkeypatch)
    assert single == passes
    ((_, _, _, faults, _),) = single
    assert [(ref, kind) for _, kind, _, ref in faults] == [("F18", "formula"), ("B19", "error")]


@pytest.mark.parametrize("columns", [["Z", "AA"], ["AB", "AZ", "BA"], ["ZZ", "AAA"], ["XFD"]])
def test_columns_beyond_z_give_the_exact_extent(tmp_path, monkeypatch, chunking, columns):
    rows = _numbers(20)
    rows[7] = rows[7].replace(b"</row>", b"".join(b'<c r="%s8"><v>1</v></c>' % c.encode() for c in columns)
                              + b"</row>")
    path = _book(tmp_path / "wide.xlsx", _sheet(rows))
    single, passes = _both(path, monkeypatch)
    assert single == passes
    assert single[0][1:3] == (20, max(guard._column_number(c.encode()) for c in columns))


def test_extent_beyond_the_dimension(tmp_path, monkeypatch, chunking):
    rows = [*_numbers(10), _row(150000, [("C", b"<v>1</v>")]), _row(120000, [("D", b"<v>2</v>")])]
    path = _book(tmp_path / "far.xlsx", _sheet(rows, b"A1:N10"))
    single, passes = _both(path, monkeypatch)
    assert single == passes == [("S0", 150_000, 14, [], None)]
    # one column more than the limit allows: cell by cell, and refused with its place
    monkeypatch.setattr(guard, "MAX_SHEET_CELLS", 150_000 * 14 - 1)
    single, passes = _both(path, monkeypatch)
    assert single == passes
    problem = single[0][4]
    assert problem is not None and problem.row == 150_000 and "数据范围过大" in problem.expected


@pytest.mark.parametrize("pad", [0, 40, 300])
def test_reference_at_the_very_end_is_left_out_as_before(tmp_path, monkeypatch, chunking, pad):
    # a truncated part ending in a cell tag: the extent never counted the reference at the last "<"
    data = _sheet([*_numbers(5), _row(100000, [("B", b"<v>1</v>")])]) + b'<c r="Z9000000">7' + b" " * pad
    path = _book(tmp_path / "tail.xlsx", data)
    single, passes = _both(path, monkeypatch)
    assert single == passes == [("S0", 100_000, 14, [], None)]


def test_long_row_in_a_large_sheet_is_refused_as_before(tmp_path, monkeypatch, chunking):
    long_text = b"<is><t>" + b"x" * 900 + b"</t></is>"
    rows = [*_numbers(3), _row(4, [("A", long_text)]), _row(100001, [("A", b"<v>1</v>")])]
    path = _book(tmp_path / "long.xlsx", _sheet(rows))
    monkeypatch.setattr(guard, "MAX_ROW_BYTES", 500)
    single, passes = _both(path, monkeypatch)
    assert single == passes
    if chunking < 500:  # the row only exceeds the limit while it is being collected from several chunks
        assert single[0] == "refused" and "一行的内容超过" in single[1][0].expected
    # rows within A1:Z99999: the row is never collected, nothing is refused
    path = _book(tmp_path / "long_small.xlsx", _sheet(rows[:-1]))
    single, passes = _both(path, monkeypatch)
    assert single == passes == [("S0", guard.SIMPLE_MAX_ROW, guard.SIMPLE_MAX_COL, [], None)]


@pytest.mark.parametrize("total", [900, 2_000, 3_000, 6_000, 12_000])
def test_total_budget_counts_what_the_first_search_read(tmp_path, monkeypatch, chunking, total):
    big = _sheet([*_numbers(40), _row(100000, [("A", b"<v>1</v>")]), *_numbers(40, 100001)])
    path = _book(tmp_path / "budget.xlsx", _sheet(_numbers(8)), big, _sheet(_numbers(30)))
    monkeypatch.setattr(guard, "MAX_TOTAL_BYTES", total)
    single, passes = _both(path, monkeypatch)
    assert single == passes


def test_cells_without_references_and_prefixes(tmp_path, monkeypatch, chunking):
    rows = _numbers(12)
    rows[4] = b'<row r="5"><c><v>1</v></c><c r="C5"><v>2</v></c><c t="n"><v>3</v></c></row>'
    rows[9] = b'<x:row r="10"><x:c r="A10"><x:f>1+1</x:f><x:v></x:v></x:c></x:row>'
    path = _book(tmp_path / "odd.xlsx", _sheet(rows))
    single, passes = _both(path, monkeypatch)
    assert single == passes
    assert [f[3] for f in single[0][3]] == ["A10"]


def test_damaged_part_fails_as_before(tmp_path, monkeypatch, chunking):
    path = _book(tmp_path / "damaged.xlsx", _sheet([*_numbers(50), _row(100000, [("A", b"<v>1</v>")])]))
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for where in (0.2, 0.6, 0.95):
        damaged = bytearray(raw)
        damaged[start + int(info.compress_size * where)] ^= 0x5A
        (tmp_path / "d.xlsx").write_bytes(bytes(damaged))
        try:
            single = _outcome(tmp_path / "d.xlsx")
        except Exception as exc:  # zlib errors are not turned into located problems (as before)
            single = (type(exc), str(exc))
        with monkeypatch.context() as m:
            m.setattr(guard, "_scan_sheet", guard._scan_sheet_in_passes)
            try:
                passes = _outcome(tmp_path / "d.xlsx")
            except Exception as exc:
                passes = (type(exc), str(exc))
        assert single == passes


def test_local_header_naming_another_part_is_read_by_zipfile(tmp_path, monkeypatch):
    path = _book(tmp_path / "renamed.xlsx", _sheet(_numbers(5)))
    raw = path.read_bytes()
    at = raw.index(b"xl/worksheets/sheet1.xml")  # the first occurrence: the local header
    path.write_bytes(raw[:at] + b"xl/worksheets/sheetX.xml" + raw[at + 24:])
    single, passes = _both(path, monkeypatch)
    assert single == passes
    assert single[0] == "refused" and "differ" in single[1][0].expected


def _random_sheet(rng: random.Random) -> bytes:
    rows = []
    row = 0
    for _ in range(rng.choice([2, 15, 60])):
        row += rng.choice([1, 1, 1, 3, 99_990])
        cells = []
        col = 0
        for _ in range(rng.choice([1, 3, 14, 30])):
            col += rng.choice([1, 1, 1, 5, 400])
            body = rng.choice([b"<v>1</v>", b"<v>1</v>", b"<f>A1</f><v></v>", b"<f>A1</f><v>0</v>", b"",
                               b"<is><t>" + b"y" * rng.randint(0, 200) + b"</t></is>"])
            cells.append((guard.column_letters(col), body))
        rows.append(_row(row, cells))
    return _sheet(rows)


@pytest.mark.parametrize("seed", range(6))
def test_random_sheets_decide_as_the_passes(tmp_path, monkeypatch, chunking, seed):
    rng = random.Random(seed)
    path = _book(tmp_path / f"r{seed}.xlsx", *[_random_sheet(rng) for _ in range(2)], full_calc=seed % 2 == 0)
    monkeypatch.setattr(guard, "MAX_SHEET_CELLS", rng.choice([1_000, 100_000, 5_000_000]))
    single, passes = _both(path, monkeypatch)
    assert single == passes
