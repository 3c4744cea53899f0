"""A bounded pre-scan of an .xlsx file before the xlsx reader (calamine) touches it.

calamine allocates the dense grid of a sheet's used extent and reads the whole shared-strings table into
memory: a 13 KB file with one cell at XFD1048576 asks for 512 GB and aborts the process, and a small file with
a highly compressible string table takes gigabytes. This module streams the zip parts in chunks (constant
memory) and refuses, with a located `Problem`, anything beyond the limits below. It also finds what calamine
reads as blank although it is not: formula cells without a saved result and error values (#REF!, #DIV/0!,
#N/A …). Those come back as `CellFault` objects which `perfeval.sheet.read_workbook` puts into the grid at
their positions, so the checks turn them into located errors instead of reading them as empty cells.

Each worksheet is decompressed once and every chunk is looked at once, with numpy array operations on large
chunks and a few byte searches on small ones; a sheet is parsed cell by cell only when that finds something
out of the ordinary (a cell without its reference, a namespace prefix, an extent beyond the limit), and rows
are parsed only around a formula or an error value. The single pass decides exactly as the multi-pass
definition (`_scan_sheet_in_passes`, kept as the reference and as the fallback for parts that fail to
decompress midway). Small parts are read with one seek and one inflate when their zip entry is ordinary.
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from perfeval.errors import Problem, SheetError

#: rows × columns of a sheet's used extent (from A1); calamine allocates this grid densely (32 bytes a cell).
#: 5,000,000 holds a portfolio of 10⁵ indicator rows × 26 columns with room to spare.
MAX_SHEET_CELLS = 5_000_000
#: entries in the shared-strings table
MAX_SHARED_STRINGS = 1_000_000
#: uncompressed size of the shared-strings table
MAX_SHARED_STRINGS_BYTES = 50 * 1024 * 1024
#: uncompressed size of one worksheet part
MAX_SHEET_BYTES = 512 * 1024 * 1024
#: uncompressed size of any other XML part calamine reads (workbook, styles, relationships …)
MAX_OTHER_PART_BYTES = 64 * 1024 * 1024
#: uncompressed size of all parts together
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
#: compression ratio beyond which a part larger than 1 MB is a zip bomb (real sheets compress 5–50×)
MAX_COMPRESSION_RATIO = 1000
#: one row of XML longer than this (the scan keeps a row whole) is refused
MAX_ROW_BYTES = 32 * 1024 * 1024

CHUNK_BYTES = 1 << 20
SIMPLE_MAX_ROW = 99_999  # rows with at most five digits
SIMPLE_MAX_COL = 26  # single-letter columns

FORMULA_HINT = "公式没有保存计算结果：请在 Excel 中打开并保存后重新导入"
ERROR_HINT = "单元格为错误值「{value}」：请修正公式或改为数值后重新导入"
RECALC_HINT = ("公式的计算结果未经计算（文件由程序生成，要求打开时重新计算）：请在 Excel 中打开并保存后重新导入")


@dataclass(frozen=True)
class CellFault:
    """A cell whose value cannot be read: a formula without a saved result, or an error value.

    ``str()`` is what the cell shows a person (the formula with "=", or the error value)."""

    kind: str  # "formula" | "error" | "recalc"
    text: str
    ref: str  # Excel reference, e.g. "F7"

    def __str__(self) -> str:
        return self.text

    @property
    def message(self) -> str:
        if self.kind == "error":
            return f"单元格 {self.ref} " + ERROR_HINT.format(value=self.text)
        return f"单元格 {self.ref} 为公式「{self.text}」，" + (FORMULA_HINT if self.kind == "formula" else RECALC_HINT)


@dataclass
class SheetScan:
    """What the scan found in one worksheet (positions are 0-based (row, column) of the grid)."""

    name: str
    part: str
    visible: bool
    rows: int = 0
    cols: int = 0
    faults: dict[tuple[int, int], CellFault] = field(default_factory=dict)
    problem: Problem | None = None


@dataclass
class BookScan:
    sheets: list[SheetScan]  # worksheets in workbook order (chart sheets are left out)


def column_letters(col: int) -> str:
    """1 -> 'A', 16384 -> 'XFD'."""
    letters = ""
    while col > 0:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - 64
    return number


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _is(tag: str, local: str) -> bool:
    """`_local(tag) == local` for a local name without "}"."""
    return tag == local or tag.endswith("}" + local)


def _problem(path: Path, sheet: str | None, expected: str, value: str | None = None) -> Problem:
    return Problem(str(path), sheet, None, None, value, expected)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


class _Budget:
    """Counts uncompressed bytes over the whole file."""

    def __init__(self, path: Path):
        self.path, self.total = path, 0

    def add(self, n: int) -> None:
        self.total += n
        if self.total > MAX_TOTAL_BYTES:
            raise SheetError([_problem(self.path, None, f"工作簿解压后超过 {_mb(MAX_TOTAL_BYTES)}，"
                                                        "疑似压缩炸弹或过大的文件；请删除多余内容后另存")])


class _Charge:
    """Forwards byte counts to the budget until `stop()`: the single-pass sheet scan counts exactly the chunks
    that the first of the multi-pass searches counted (it stopped at its first match)."""

    def __init__(self, budget: _Budget):
        self.budget, self.active = budget, True

    def add(self, n: int) -> None:
        if self.active:
            self.budget.add(n)


def _prechecks(info: zipfile.ZipInfo, limit: int, path: Path, what: str) -> None:
    if info.file_size > limit:
        raise SheetError([_problem(path, None, f"{what}解压后为 {_mb(info.file_size)}，超过上限 {_mb(limit)}；"
                                               "请删除多余内容后另存")])
    if info.file_size > (1 << 20) and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
        raise SheetError([_problem(path, None, f"{what}的压缩比异常（{info.file_size // max(info.compress_size, 1)}"
                                               "倍），疑似压缩炸弹；请在 Excel 中另存后重试")])


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile.structFileHeader
_LOCAL_MAGIC = b"PK\003\004"
_UNREADABLE_FLAGS = 0x1 | 0x20 | 0x40  # encrypted, compressed patch data, strong encryption


def _read_direct(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    """A small part's bytes read straight from the archive (one seek, one read, one decompression), when its
    entry is ordinary (stored or deflated, not encrypted, local header naming it) and the bytes check out
    (the stated size and CRC-32): then they are exactly what zipfile returns. None otherwise: zipfile then
    reads the part and raises what it raises."""
    if info.flag_bits & _UNREADABLE_FLAGS or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None
    if info.compress_size > info.file_size + (info.file_size >> 6) + 1024:  # more than deflate ever adds: the
        return None  # compressed bytes are not read whole (zipfile reads them in small pieces)
    try:
        zf.fp.seek(info.header_offset)
        head = zf.fp.read(_LOCAL_HEADER.size)
        if len(head) != _LOCAL_HEADER.size:
            return None
        fields = _LOCAL_HEADER.unpack(head)
        magic, flags, name_length, extra_length = fields[0], fields[3], fields[10], fields[11]
        if magic != _LOCAL_MAGIC or flags & _UNREADABLE_FLAGS:
            return None
        name = zf.fp.read(name_length)
        if name.decode("utf-8" if flags & 0x800 else "cp437") != info.orig_filename:
            return None
        zf.fp.seek(extra_length, 1)
        raw = zf.fp.read(info.compress_size)
        if len(raw) != info.compress_size:
            return None
        if info.compress_type == zipfile.ZIP_STORED:
            data = raw
        else:
            inflate = zlib.decompressobj(-15)
            data = inflate.decompress(raw) + inflate.flush()
            if not inflate.eof:
                return None
    except (OSError, ValueError, UnicodeDecodeError, zlib.error, struct.error):
        return None
    if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
        return None
    return data


def _stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, budget: _Budget | _Charge | None, path: Path,
            what: str) -> Iterator[bytes]:
    """The part's bytes in chunks, refusing it once it grows beyond `limit` (headers can lie). A part read
    a second time passes no budget: its bytes were counted the first time. (zipfile never returns more than
    the size the directory states, so `seen > limit` is a second line of defence.)"""
    _prechecks(info, limit, path, what)
    seen = 0
    if info.file_size <= CHUNK_BYTES and (data := _read_direct(zf, info)) is not None:  # one chunk
        if data:
            if budget is not None:
                budget.add(len(data))
            yield data
        return
    with zf.open(info) as handle:
        while chunk := handle.read(CHUNK_BYTES):
            seen += len(chunk)
            if budget is not None:
                budget.add(len(chunk))
            if seen > limit:
                raise SheetError([_problem(path, None, f"{what}解压后超过上限 {_mb(limit)}；请删除多余内容后另存")])
            yield chunk


def _read_small(zf: zipfile.ZipFile, name: str, budget: _Budget, path: Path) -> bytes | None:
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    what = f"部件 {name} "
    if budget.total + info.file_size > MAX_TOTAL_BYTES:  # the budget may run out inside this part: in chunks
        return b"".join(_stream(zf, info, MAX_OTHER_PART_BYTES, budget, path, what))
    _prechecks(info, MAX_OTHER_PART_BYTES, path, what)
    data = _read_direct(zf, info)
    if data is None:
        data = zf.read(info)  # at most info.file_size bytes, so within both limits
    budget.add(len(data))
    return data


def _rels(zf: zipfile.ZipFile, part: str, budget: _Budget, path: Path) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type suffix, target part path) of `part`."""
    folder, name = posixpath.split(part)
    data = _read_small(zf, posixpath.join(folder, "_rels", f"{name}.rels"), budget, path)
    out: dict[str, tuple[str, str]] = {}
    if not data:
        return out
    for el in ElementTree.fromstring(data).iter():
        if _is(el.tag, "Relationship"):
            target = el.get("Target", "")
            full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            out[el.get("Id", "")] = (el.get("Type", "").rsplit("/", 1)[-1], full)
    return out


#: a cell without a plain reference within A1:Z99999 (no reference, a far one, single quotes …)
_ODD_CELL = re.compile(rb'<c(?! r="[A-Za-z]\d{1,5}")[\s/>]')
#: a row without a plain number up to 99999
_ODD_ROW = re.compile(rb'<row(?! r="\d{1,5}")[\s/>]')
#: a row or cell element with a namespace prefix
_PREFIXED = re.compile(rb':(?:c|row)[\s/>]')
#: the same, allowing any reference (the sheet is plain but large or wide: its exact extent is computed)
_NO_REF_CELL = re.compile(rb'<c(?! r="[A-Za-z]{1,3}\d{1,7}")[\s/>]')
_NO_REF_ROW = re.compile(rb'<row(?! r="\d{1,7}")[\s/>]')
_CELL_REF = re.compile(rb'<c r="([A-Za-z]{1,3})(\d{1,7})"')
_ROW_END = re.compile(rb"</(?:[\w.-]+:)?row\s*>")
#: a formula (its element, or a shared-formula child) or an error value
_FAULT_HINT = (b"<f", b't="e"')
_OVERLAP = 32
_ELEMENT = re.compile(rb"<((?:[\w.-]+:)?)(row|c)\b([^>]*?)(/?)>", re.S)
_ATTR = re.compile(rb'([\w:.-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
_REF = re.compile(rb"^\s*([A-Za-z]*)(\d*)\s*$")
_FORMULA = re.compile(rb"<(?:[\w.-]+:)?f\b[^>]*?(?:/>|>(.*?)</(?:[\w.-]+:)?f\s*>)", re.S)
_VALUE = re.compile(rb"<(?:[\w.-]+:)?v\b[^>]*?(?:/>|>(.*?)</(?:[\w.-]+:)?v\s*>)", re.S)
_INLINE = re.compile(rb"<(?:[\w.-]+:)?is\b")


def _unescape(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")):
        text = text.replace(entity, char)
    return text


def _row_cut(data: bytes, new: int) -> int | None:
    """Where the last row ending in `data` ends (its last `new` bytes are new since the previous cut)."""
    cut: int | None = data.rfind(b"</row>") + 6
    if cut == 5:  # none plain: a prefixed row end, or none at all
        cut = None
        for m in _ROW_END.finditer(data, max(0, len(data) - new - 16)):
            cut = m.end()
    return cut


def _row_too_long(path: Path, sheet: str) -> SheetError:
    return SheetError([_problem(path, sheet, f"工作表中有一行的内容超过 {_mb(MAX_ROW_BYTES)}，无法读取；"
                                             "请删除多余内容后另存")])


def _rows_of(chunks: Iterator[bytes], path: Path, sheet: str) -> Iterator[bytes]:
    """Regroup a part's chunks so that no row (and so no cell) is split between two pieces."""
    carry = b""
    for chunk in chunks:
        data = carry + chunk
        cut = _row_cut(data, len(chunk))
        if cut is None:
            if len(data) > MAX_ROW_BYTES:
                raise _row_too_long(path, sheet)
            carry = data
            continue
        yield data[:cut]
        carry = data[cut:]
    if carry:
        yield carry


def _cell_fault(attrs: dict[bytes, bytes], body: bytes, ref: str, full_calc: bool) -> CellFault | None:
    kind = attrs.get(b"t", b"n")
    value_match = _VALUE.search(body)
    value = (value_match.group(1) or b"") if value_match else b""
    if kind == b"e":
        return CellFault("error", _unescape(value).strip() or "#错误", ref)
    formula = _FORMULA.search(body)
    if formula is None:
        return None
    text = "=" + (_unescape(formula.group(1) or b"").strip() or "（共享公式）")
    if value_match is not None and (kind in (b"str", b"inlineStr", b"s") or _INLINE.search(body)):
        return None  # a text result (possibly empty) was saved
    if not value.strip():
        return CellFault("formula", text, ref)
    if full_calc and value.strip() == b"0" and kind == b"n":
        # generators (xlsxwriter) store 0 as the result and ask Excel to recalculate on opening
        return CellFault("recalc", text, ref)
    return None


def _parse_cells(pieces: Iterator[bytes], full_calc: bool, scan: SheetScan) -> tuple[str, str] | None:
    """Cell by cell: the exact extent of cells with content, and every fault (cells without a
    reference take the next position, as calamine does)."""
    row, col, max_row, max_col = 0, 0, 0, 0
    for piece in pieces:
        pos = 0
        while m := _ELEMENT.search(piece, pos):
            prefix, name, raw_attrs, closed = m.groups()
            pos = m.end()
            attrs = {a: (v1 if v1 is not None else v2) for a, v1, v2 in _ATTR.findall(raw_attrs)}
            attrs = {k.rsplit(b":", 1)[-1]: v for k, v in attrs.items()}
            ref = _REF.match(attrs.get(b"r", b""))
            if name == b"row":
                row = int(ref.group(2)) if ref and ref.group(2) else row + 1
                col = 0
                continue
            if ref and ref.group(1) and ref.group(2):
                row, col = int(ref.group(2)), _column_number(ref.group(1))
            else:
                col += 1
            if closed:
                continue
            end = piece.find(b"</" + prefix + b"c>", pos)
            body = piece[pos:end] if end >= 0 else piece[pos:]
            pos = end if end >= 0 else len(piece)
            if not body.strip():
                continue
            max_row, max_col = max(max_row, row), max(max_col, col)
            if max_row * max_col > MAX_SHEET_CELLS:
                scan.rows, scan.cols = max_row, max_col
                return column_letters(col), str(row)
            fault = _cell_fault(attrs, body, f"{column_letters(col)}{row}", full_calc)
            if fault is not None:
                scan.faults[(row - 1, col - 1)] = fault
    scan.rows, scan.cols = max_row, max_col
    return None


def _searches(chunks: Iterator[bytes], patterns: tuple[re.Pattern, ...]) -> tuple[bool, bool]:
    """(no pattern matches anywhere, a formula or an error value appears). Byte searches over the raw
    chunks; a match is only trusted with `_OVERLAP` bytes of context after it, so the last bytes of each
    chunk are searched again together with the start of the next one."""

    def found(block: bytes, before: int) -> bool:
        return any((m := p.search(block)) is not None and m.start() < before for p in patterns)

    tail, hinted = b"", False
    for chunk in chunks:
        boundary = tail + chunk[:2 * _OVERLAP]
        if found(boundary, len(tail)) or found(chunk, len(chunk) - _OVERLAP):
            return False, True
        hinted = hinted or any(h in chunk or h in boundary for h in _FAULT_HINT)
        tail = chunk[-_OVERLAP:]
    return not found(tail, len(tail)), hinted


def _extent(chunks: Iterator[bytes]) -> tuple[int, int]:
    """Exact (rows, columns) of a sheet whose every cell carries a plain reference."""
    letters: set[bytes] = set()
    max_row = 0
    tail = b""
    for chunk in chunks:
        block = tail + chunk
        cut = block.rfind(b"<")
        refs = _CELL_REF.findall(block, 0, cut)
        tail = block[cut:]
        if refs:
            letters.update(c for c, _ in refs)
            max_row = max(max_row, max(int(r) for _, r in refs))
    return max_row, max((_column_number(c) for c in letters), default=0)


# --- the single pass ---------------------------------------------------------------------------------------
#
# `_scan_sheet_in_passes` reads a sheet up to four times: a search for anything beyond A1:Z99999 (stopping at
# the first match and counting the bytes it read against the budget), a search for cells or rows without a
# reference, the exact extent, and the rows around formulas. `_scan_sheet` decompresses the sheet once and
# answers all of these questions together, then decides exactly as the passes would.
#
# Each chunk is looked at in two segments that together cover every position once, as the searches did:
# the last `_OVERLAP` bytes of the previous chunk (with the first bytes of this one as context), and this
# chunk up to its last `_OVERLAP` bytes; after the last chunk, its last `_OVERLAP` bytes. Every pattern needs
# at most 18 bytes after its start, so each position is judged on the same bytes as in the whole part.

_SPACE = frozenset(b" \t\n\r\f\v/>")  # what `[\s/>]` accepts (bytes patterns: ASCII whitespace)
_IS_DELIM = np.zeros(256, dtype=bool)
_IS_DELIM[list(_SPACE)] = True
#: segments at least this long are looked at with numpy (one array pass per question), shorter ones with re
VECTOR_MIN_BYTES = 64 * 1024
_PLAIN_PATTERNS = (_ODD_CELL, _ODD_ROW, _PREFIXED)
_REF_PATTERNS = (_NO_REF_CELL, _NO_REF_ROW, _PREFIXED)


@dataclass
class _Seen:
    """What one segment holds (positions are relative to the segment's bytes)."""

    odd: int | None = None  # first start of a match of `_PLAIN_PATTERNS`
    no_ref: int | None = None  # first start of a match of `_REF_PATTERNS`
    hint: bool = False  # a formula or an error value (`_FAULT_HINT`)
    rows: int = 0  # extent of the `_CELL_REF` matches, the one at `last_lt` left out
    cols: int = 0
    last_lt: int | None = None  # the last "<"
    at_last_lt: tuple[int, int] | None = None  # (row, column) of a `_CELL_REF` match starting at `last_lt`


def _first(patterns: tuple[re.Pattern, ...], block: bytes, end: int) -> int | None:
    starts = [m.start() for p in patterns if (m := p.search(block)) is not None and m.start() < end]
    return min(starts, default=None)


def _hint_in(block: bytes, end: int) -> bool:
    return any(block.find(h, 0, end + len(h) - 1) >= 0 for h in _FAULT_HINT)


def _seen_by_re(block: bytes, end: int, odd: bool, no_ref: bool, hint: bool, extent: bool) -> _Seen:
    """Matches starting before `end` (block holds their context, or the part ends with it). `odd`: look for
    the first odd match; `no_ref`: for the first match without a reference, which can only be where an odd
    one is (so it is looked for once one was found)."""
    seen = _Seen()
    if odd:
        seen.odd = _first(_PLAIN_PATTERNS, block, end)
        no_ref = no_ref and seen.odd is not None
    if no_ref:
        seen.no_ref = _first(_REF_PATTERNS, block, end)
    if hint:
        seen.hint = _hint_in(block, end)
    if extent:
        last = block.rfind(b"<", 0, end)
        seen.last_lt = last if last >= 0 else None
        for m in _CELL_REF.finditer(block):
            if m.start() >= end:
                break
            row, col = int(m.group(2)), _column_number(m.group(1))
            if m.start() == last:
                seen.at_last_lt = (row, col)
            else:
                seen.rows, seen.cols = max(seen.rows, row), max(seen.cols, col)
    return seen


def _pairs(block: bytes, end: int, pair: bytes) -> np.ndarray:
    """Positions before `end` where `pair` (two bytes) starts, unordered."""
    value = pair[0] | pair[1] << 8
    even = np.flatnonzero(np.frombuffer(block, dtype="<u2", count=(end + 1) // 2) == value) * 2
    odd = np.flatnonzero(np.frombuffer(block, dtype="<u2", count=end // 2, offset=1) == value) * 2 + 1
    return np.concatenate((even, odd))


def _leading(flags: np.ndarray) -> np.ndarray:
    """Number of leading True values in each row."""
    first_false = flags.argmin(axis=1)
    return np.where(flags[np.arange(len(flags)), first_false], flags.shape[1], first_false)


def _is_alpha(b: np.ndarray) -> np.ndarray:
    return ((b | 32) - 97) < 26  # uint8 arithmetic wraps: [A-Za-z]


def _is_digit(b: np.ndarray) -> np.ndarray:
    return (b - 48) < 10  # [0-9]


def _reference(window: np.ndarray, at: int, letters: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each tag (a row of `window`, its bytes from "<"): whether ' r="' follows at `at`, then [A-Za-z]{1,3}
    (only if `letters`), \\d{1,7} and '"'; the number of letters and of digits (only meaningful where true)."""
    ok = ((window[:, at] == 32) & (window[:, at + 1] == 114) & (window[:, at + 2] == 61)
          & (window[:, at + 3] == 34))
    start = at + 4
    n_letters = _leading(_is_alpha(window[:, start:start + 4])) if letters else np.zeros(len(window), np.int64)
    n_digits = np.zeros(len(window), dtype=np.int64)
    for k in (1, 2, 3) if letters else (0,):  # the digits start after k letters
        these = np.flatnonzero(ok & (n_letters == k)) if letters else slice(None)
        n_digits[these] = _leading(_is_digit(window[these, start + k:start + k + 8]))
    close = window[np.arange(len(window)), np.minimum(start + n_letters + n_digits, window.shape[1] - 1)]
    ok &= (n_digits >= 1) & (n_digits <= 7) & (close == 34)
    if letters:
        ok &= (n_letters >= 1) & (n_letters <= 3)
    return ok, n_letters, n_digits


def _largest(strings: np.ndarray) -> bytes:
    """The largest of equally long byte strings (rows of a uint8 array, at most 8 bytes), compared as bytes."""
    padded = np.zeros((len(strings), 8), dtype=np.uint8)
    padded[:, 8 - strings.shape[1]:] = strings
    return int(padded.view(">u8").max()).to_bytes(8, "big")[8 - strings.shape[1]:]


def _extent_of(window: np.ndarray, these: np.ndarray, n_letters: np.ndarray, n_digits: np.ndarray
               ) -> tuple[int, int]:
    """Largest row and column number of the references in rows `these` of `window` (from "<c", ' r="' at 2).
    References of one shape (number of letters and digits) compare as their bytes (letters lower-cased)."""
    rows = cols = 0
    shapes = n_letters[these] * 8 + n_digits[these]
    for shape in np.flatnonzero(np.bincount(shapes)).tolist():
        k, n = divmod(shape, 8)
        refs = window[these[shapes == shape], 6:6 + k + n]
        rows = max(rows, int(_largest(refs[:, k:])))
        cols = max(cols, _column_number(_largest(refs[:, :k] | 32)))
    return rows, cols


def _seen_by_numpy(block: bytes, end: int, odd: bool, no_ref: bool, hint: bool, extent: bool) -> _Seen:
    """`_seen_by_re` with array operations; needs `end <= len(block) - _OVERLAP`."""
    seen = _Seen()
    a = np.frombuffer(block, dtype=np.uint8)
    if hint:
        quote_e = _pairs(block, end + 2, b'"e')  # 't="e"' starting before end
        quote_e = quote_e[quote_e >= 2]
        seen.hint = _pairs(block, end, b"<f").size > 0 or bool(
            ((a[quote_e - 2] == 116) & (a[quote_e - 1] == 61) & (a[quote_e + 2] == 34)).any())
    last = block.rfind(b"<", 0, end)
    seen.last_lt = last if last >= 0 else None
    no_ref = no_ref or odd
    if not (no_ref or extent):
        return seen
    # cells: "<c" and one of [\s/>]
    cell = _pairs(block, end, b"<c")
    cell = cell[_IS_DELIM[a[cell + 2]]]
    if odd and no_ref and _plain_segment(block, a, end, cell, seen, extent, last):
        return seen
    windows = np.lib.stride_tricks.sliding_window_view(a, _OVERLAP - 1)  # the bytes from each position
    window = windows[cell]
    ref, n_letters, n_digits = _reference(window, 2, True)
    if no_ref:
        # rows: "<row" and one of [\s/>]
        row = _pairs(block, end, b"<r")
        row = row[(a[row + 2] == 111) & (a[row + 3] == 119) & _IS_DELIM[a[row + 4]]]
        row_window = windows[row]
        row_ref, _, row_digits = _reference(row_window, 4, False)
        prefixed = _PREFIXED.search(block) if block.find(b":", 0, end) >= 0 else None
        firsts = [prefixed.start()] if prefixed is not None and prefixed.start() < end else []
        if odd:
            narrow = ref & (n_letters == 1) & (n_digits <= 5)
            seen.odd = min(firsts + [int(x.min()) for x in (cell[~narrow], row[~(row_ref & (row_digits <= 5))])
                                     if x.size], default=None)
        seen.no_ref = min(firsts + [int(x.min()) for x in (cell[~ref], row[~row_ref]) if x.size], default=None)
    if extent and ref.any():
        if (m := _CELL_REF.match(block, last)) is not None:  # the reference at the last "<" is kept apart
            seen.at_last_lt = (int(m.group(2)), _column_number(m.group(1)))
            ref &= cell != last
        seen.rows, seen.cols = _extent_of(window, np.flatnonzero(ref), n_letters, n_digits)
    return seen


def _plain_segment(block: bytes, a: np.ndarray, end: int, cell: np.ndarray, seen: _Seen, extent: bool,
                   last: int) -> bool:
    """The usual segment, decided with a few array operations: every cell ("<c" at `cell`) and every row before
    `end` carries a plain reference within A1:Z99999 (what `_ODD_CELL` and `_ODD_ROW` accept) and nothing is
    prefixed. Then there is no odd match and no match without a reference, and the extent (when asked) is that of
    these references: `seen` is filled and True returned. False (`seen` untouched): anything else, which
    `_seen_by_numpy` then works out in full."""
    windows = np.lib.stride_tricks.sliding_window_view(a, _NARROW_BYTES)
    ok, cells, digits = _narrow(windows, cell + 2, True)
    if not ok.all():
        return False
    row = _pairs(block, end, b"<r")
    row = row[(a[row + 2] == 111) & (a[row + 3] == 119) & _IS_DELIM[a[row + 4]]]
    if not _narrow(windows, row + 4, False)[0].all():
        return False
    if block.find(b":", 0, end) >= 0 and (m := _PREFIXED.search(block)) is not None and m.start() < end:
        return False
    if extent and cell.size:
        if (m := _CELL_REF.match(block, last)) is not None:  # the reference at the last "<" is kept apart
            seen.at_last_lt = (int(m.group(2)), _column_number(m.group(1)))
            keep = cell != last
            cells, digits = cells[keep], digits[keep]
        if digits.size:
            longest = int(digits.max())  # the largest number has the most digits, then the largest digits
            seen.rows = int(_largest(cells[digits == longest, 5:5 + longest]))
            seen.cols = _column_number(bytes([int((cells[:, 4] | 32).max())]))
    return True


#: bytes `_narrow` looks at from ' r="' on: the reference, its closing quote, one more
_NARROW_BYTES = 12
_R_EQ_QUOTE = int(np.frombuffer(b' r="', dtype="<u4")[0])


def _narrow(windows: np.ndarray, at: np.ndarray, letter: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each position in `at` (`windows`: the `_NARROW_BYTES` bytes from each position): whether ' r="' starts
    there, then (if `letter`) one letter, 1 to 5 digits and '"' (the reference `_ODD_CELL` / `_ODD_ROW` accept
    after "<c" / "<row"); the bytes looked at, one row per position; the number of digits."""
    bytes_ = windows[at]  # one row per position (a copy: each row's bytes together)
    ok = np.ascontiguousarray(bytes_[:, :4]).view("<u4")[:, 0] == _R_EQ_QUOTE
    first = 4
    if letter:
        ok &= _is_alpha(bytes_[:, 4])
        first = 5
    run = _is_digit(bytes_[:, first])  # still in the leading run of digits
    n = run.astype(np.int64)
    for k in range(1, 6):  # column by column: cheaper than a reduction along rows of six bytes
        run &= _is_digit(bytes_[:, first + k])
        n += run
    ok &= (n >= 1) & (n <= 5) & (bytes_[np.arange(len(at)), first + np.minimum(n, 5)] == 34)
    return ok, bytes_, n


class _RowCuts:
    """Whether `_rows_of`, fed the same chunks, would refuse a row longer than MAX_ROW_BYTES."""

    def __init__(self, path: Path, sheet: str):
        self.path, self.sheet, self.carry = path, sheet, b""
        self.refusal: SheetError | None = None

    def feed(self, chunk: bytes) -> None:
        if self.refusal is not None:
            return
        end = chunk.rfind(b"</row>")
        if end >= 0:  # the last plain row end of carry + chunk is this one
            self.carry = chunk[end + 6:]
            return
        data = self.carry + chunk
        cut = _row_cut(data, len(chunk))
        if cut is None:
            if len(data) > MAX_ROW_BYTES:
                self.refusal = _row_too_long(self.path, self.sheet)
            self.carry = data
        else:
            self.carry = data[cut:]


@dataclass
class _Pass:
    odd: int | None  # first position beyond A1:Z99999 (or without a reference, or prefixed)
    odd_in_loop: bool  # the chunked search found it before the last `_OVERLAP` bytes (then "hinted")
    no_ref: int | None
    hint: bool
    extent: tuple[int, int] | None  # None: compute from the one chunk when needed
    only_chunk: bytes | None
    row_refusal: SheetError | None


def _one_pass(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, path: Path, scan: SheetScan
              ) -> _Pass | None:
    """Everything the passes need, from one decompression. None when the part fails to decompress after the
    point where the first search would have stopped (then `_scan_sheet_in_passes` decides)."""
    charge = _Charge(budget)
    odd = no_ref = None
    hint = False
    rows = cols = 0
    at_last_lt: tuple[int, int] | None = None
    tail, offset, first, only_chunk = b"", 0, True, None
    cuts = _RowCuts(path, scan.name)

    def look(block: bytes, start: int, end: int, extent: bool, vector: bool) -> None:
        nonlocal odd, no_ref, hint, rows, cols, at_last_lt
        if end <= 0:
            return
        seen = (_seen_by_numpy if vector else _seen_by_re)(block, end, odd is None, no_ref is None, not hint,
                                                            extent)
        if odd is None and seen.odd is not None:
            odd = start + seen.odd
        if no_ref is None and seen.no_ref is not None:
            no_ref = start + seen.no_ref
        hint = hint or seen.hint
        if extent and seen.last_lt is not None:
            if at_last_lt is not None:  # an earlier last "<": no longer the last
                rows, cols = max(rows, at_last_lt[0]), max(cols, at_last_lt[1])
            rows, cols, at_last_lt = max(rows, seen.rows), max(cols, seen.cols), seen.at_last_lt

    chunks = _stream(zf, info, MAX_SHEET_BYTES, charge, path, f"工作表「{scan.name}」")
    try:
        for chunk in chunks:
            eager = not (first and len(chunk) < CHUNK_BYTES)  # one short chunk: the extent later, if needed
            if not eager:
                only_chunk = chunk
            first = False
            look(tail + chunk[:2 * _OVERLAP], offset - len(tail), len(tail), eager, False)
            end = len(chunk) - _OVERLAP
            look(chunk, offset, end, eager, end >= VECTOR_MIN_BYTES)
            if odd is not None:
                charge.active = False
            cuts.feed(chunk)
            tail, offset = chunk[-_OVERLAP:], offset + len(chunk)
    except Exception:
        if charge.active:
            raise
        return None
    odd_in_loop = not charge.active
    look(tail, offset - len(tail), len(tail), only_chunk is None, False)
    return _Pass(odd, odd_in_loop, no_ref, hint, None if only_chunk is not None else (rows, cols), only_chunk,
                 cuts.refusal)


def _scan_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, scan: SheetScan, full_calc: bool,
                budget: _Budget, path: Path) -> None:
    """Plain sheets (every row and cell carries its reference, all within A1:Z99999 — what Excel, WPS and the
    usual libraries write for tables of that size) cost one decompression and a few searches; rows are parsed
    only when a formula or an error value appears. Plain but larger or wider sheets: the extent is computed
    from the cell references in the same pass. Anything else (cells without a reference, namespace prefixes
    …): cell by cell. Decides exactly as `_scan_sheet_in_passes`."""
    before = budget.total
    seen = _one_pass(zf, info, budget, path, scan)
    if seen is None:
        budget.total = before
        _scan_sheet_in_passes(zf, info, scan, full_calc, budget, path)
        return

    def chunks() -> Iterator[bytes]:
        return _stream(zf, info, MAX_SHEET_BYTES, None, path, f"工作表「{scan.name}」")

    plain = seen.odd is None
    if plain:
        scan.rows, scan.cols = SIMPLE_MAX_ROW, SIMPLE_MAX_COL  # a bound, within the limit
    elif seen.no_ref is None:
        scan.rows, scan.cols = seen.extent if seen.extent is not None else _extent(iter([seen.only_chunk]))
        plain = scan.rows * scan.cols <= MAX_SHEET_CELLS
    if plain:
        if seen.hint:
            _parse_hinted(chunks(), path, scan, full_calc)
        elif seen.odd_in_loop and seen.row_refusal is not None:  # the searches then parsed (no) hinted rows
            raise seen.row_refusal
        return
    _parse_all(chunks(), path, scan, full_calc)


def _scan_sheet_in_passes(zf: zipfile.ZipFile, info: zipfile.ZipInfo, scan: SheetScan, full_calc: bool,
                budget: _Budget, path: Path) -> None:
    """The definition of the sheet scan, one pass per question (`_scan_sheet` answers them all in one pass and
    comes here only when a part fails to decompress after the point where this first search would stop).

    Plain sheets (every row and cell carries its reference, all within A1:Z99999 — what Excel, WPS and the
    usual libraries write for tables of that size) cost a few byte searches, and rows are parsed only when a
    formula or an error value appears. Plain but larger or wider sheets: the extent is computed from the
    cell references. Anything else (cells without a reference, namespace prefixes …): cell by cell."""
    what = f"工作表「{scan.name}」"

    def chunks(first: bool = False) -> Iterator[bytes]:
        return _stream(zf, info, MAX_SHEET_BYTES, budget if first else None, path, what)

    plain, hinted = _searches(chunks(first=True), (_ODD_CELL, _ODD_ROW, _PREFIXED))
    if plain:
        scan.rows, scan.cols = SIMPLE_MAX_ROW, SIMPLE_MAX_COL  # a bound, within the limit
    elif _searches(chunks(), (_NO_REF_CELL, _NO_REF_ROW, _PREFIXED))[0]:
        scan.rows, scan.cols = _extent(chunks())
        plain = scan.rows * scan.cols <= MAX_SHEET_CELLS
    if plain:
        if hinted:
            _parse_hinted(chunks(), path, scan, full_calc)
        return
    _parse_all(chunks(), path, scan, full_calc)


def _parse_hinted(chunks: Iterator[bytes], path: Path, scan: SheetScan, full_calc: bool) -> None:
    """The faults of a plain sheet: only the rows around a formula or an error value are parsed."""
    rows, cols = scan.rows, scan.cols
    _parse_cells((p for p in _rows_of(chunks, path, scan.name) if any(h in p for h in _FAULT_HINT)),
                 full_calc, scan)
    scan.rows, scan.cols = rows, cols


def _parse_all(chunks: Iterator[bytes], path: Path, scan: SheetScan, full_calc: bool) -> None:
    """Cell by cell; a sheet beyond the limit gets its `problem`."""
    scan.faults.clear()
    cell = _parse_cells(_rows_of(chunks, path, scan.name), full_calc, scan)
    if cell:
        scan.problem = Problem(
            str(path), scan.name, int(cell[1]), None, "".join(cell),
            f"工作表的数据范围过大（数据区域达到 A1:{column_letters(scan.cols)}{scan.rows}，"
            f"即 {scan.rows:,} 行 × {scan.cols:,} 列，上限 {MAX_SHEET_CELLS:,} 个单元格）；"
            "请删除多余的行列（含远处的零星内容）后另存")


def _check_shared_strings(zf: zipfile.ZipFile, part: str | None, budget: _Budget, path: Path) -> None:
    try:
        info = zf.getinfo(part) if part else None
    except KeyError:
        return
    if info is None:
        return
    if info.file_size > MAX_SHARED_STRINGS_BYTES:
        raise SheetError([_problem(path, None, _sst_message(f"解压后为 {_mb(info.file_size)}"))])
    count, tail = 0, b""
    for chunk in _stream(zf, info, MAX_SHARED_STRINGS_BYTES, budget, path, "共享字符串表"):
        data = tail + chunk
        count += data.count(b"</si>") + data.count(b"<si/>") - tail.count(b"</si>") - tail.count(b"<si/>")
        tail = data[-8:]
        if count > MAX_SHARED_STRINGS:
            raise SheetError([_problem(path, None, _sst_message(f"超过 {MAX_SHARED_STRINGS:,} 条"))])


def _sst_message(detail: str) -> str:
    return (f"工作簿的共享字符串表过大（{detail}，上限 {MAX_SHARED_STRINGS:,} 条、"
            f"{_mb(MAX_SHARED_STRINGS_BYTES)}）；请删除多余的文字内容或在 Excel 中另存后重试")


def scan_xlsx(path: str | Path) -> BookScan:
    """Check an .xlsx file against the limits and find its faulty cells. Raises SheetError for problems
    of the whole workbook; a sheet beyond the limits is returned with its `problem` set."""
    path = Path(path)
    budget = _Budget(path)
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.file_size > MAX_TOTAL_BYTES:
                    raise SheetError([_problem(path, None, f"部件 {info.filename} 解压后为 {_mb(info.file_size)}，"
                                                           "疑似压缩炸弹；请在 Excel 中另存后重试")])
            root_rels = _rels(zf, "", budget, path)
            book_part = next((t for kind, t in root_rels.values() if kind == "officeDocument"), "xl/workbook.xml")
            data = _read_small(zf, book_part, budget, path)
            if data is None:
                raise SheetError([_problem(path, None, "不是有效的 Excel 工作簿：缺少 workbook.xml；"
                                                       "请在 Excel 中另存为 .xlsx 后重试")])
            book = ElementTree.fromstring(data)
            rels = _rels(zf, book_part, budget, path)
            full_calc = any(_is(el.tag, "calcPr") and el.get("fullCalcOnLoad") in ("1", "true")
                            for el in book.iter())
            for kind, target in rels.values():
                if kind not in ("worksheet", "sharedStrings", "chartsheet") and target.endswith(".xml"):
                    _read_small(zf, target, budget, path)  # styles, theme …: only their size matters
            _check_shared_strings(zf, next((t for k, t in rels.values() if k == "sharedStrings"), None),
                                  budget, path)
            sheets = []
            for el in book.iter():
                if not _is(el.tag, "sheet"):
                    continue
                rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), "")
                kind, part = rels.get(rid, ("", ""))
                if kind != "worksheet":
                    continue
                scan = SheetScan(el.get("name", ""), part, el.get("state", "visible") == "visible")
                try:
                    info = zf.getinfo(part)
                except KeyError:
                    continue
                _scan_sheet(zf, info, scan, full_calc, budget, path)
                sheets.append(scan)
    except (zipfile.BadZipFile, ElementTree.ParseError, EOFError, OSError, RuntimeError,
            NotImplementedError) as exc:
        raise SheetError([_problem(path, None, f"无法读取 Excel 工作簿：{exc}")]) from None
    return BookScan(sheets)
