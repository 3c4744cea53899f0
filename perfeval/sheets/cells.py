"""Small helpers for reading cell values column by column."""

from __future__ import annotations

import gc
import math
import operator
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise, repeat

import numpy as np
import pandas as pd

from perfeval.notation import normalise
from perfeval.sheets.xlsx_guard import CellFault

#: a number beyond this (in 分值, 扣分, 报告得分, 万元 amounts …) is a typing or overflow error, not a value
MAX_CELL_NUMBER = 1e12
NOT_FINITE = "数值无法使用（溢出、无穷大或非数值 NaN）；请填写实际的数字"


def cell_number(value: object) -> float | None:
    """A numeric cell ('4.5', '4.5分', 4.5) as a float; None when it is not a finite number of sane size."""
    if isinstance(value, CellFault):
        return None
    text = normalise(value)
    if not text:
        return None
    try:
        number = float(text.replace(",", "").rstrip("分"))
    except ValueError:
        return None
    return number if math.isfinite(number) and abs(number) <= MAX_CELL_NUMBER else None


def unreadable(value: object, numeric: bool = True) -> str | None:
    """Why a cell cannot be read although it does not look empty: a formula without a saved result or an
    error value (`CellFault`), or (where a number belongs) a float that is not finite — NaN would otherwise
    read as a blank. None when the cell is fine."""
    if isinstance(value, CellFault):
        return value.message
    if numeric and isinstance(value, float) and not math.isfinite(value):
        return NOT_FINITE
    return None


def unreadable_cells(frame: pd.DataFrame, columns, numeric=()) -> dict[tuple[object, str], str]:
    """{(index, column): message} for every unreadable cell of `columns`; non-finite numbers count only in
    the `numeric` columns (elsewhere NaN is pandas' blank). Checked once per distinct value."""
    found: dict[tuple[object, str], str] = {}
    for column in columns:
        if column not in frame:
            continue
        values, as_number = frame[column], column in numeric
        if not any(unreadable(u, as_number) for u in pd.unique(values.to_numpy(dtype=object))):
            continue
        for index, value in values.items():
            if message := unreadable(value, as_number):
                found[(index, column)] = message
    return found


def codes_of(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, the value each code stands for): equal values share a code the way a dict keys them
    (1, 1.0 and True are one value, the first seen stands for them), missing values one code per type (None apart
    from NaN). A function of a cell is then computed once per code."""
    values = np.asarray(values, dtype=object)
    codes, uniques = pd.factorize(values)
    uniques = np.asarray(uniques, dtype=object)
    missing = np.flatnonzero(codes < 0)
    if len(missing) and all(map(operator.is_, values[missing], repeat(None))):  # blanks: all None (usual)
        codes = codes.copy()
        codes[missing] = len(uniques)
        return codes, np.concatenate([uniques, np.full(1, None, dtype=object)])
    if len(missing):
        kinds = pd.factorize(np.fromiter((id(type(v)) for v in values[missing]), dtype=np.int64,
                                         count=len(missing)))[0]
        firsts = np.unique(kinds, return_index=True)[1]  # kinds count up from 0 in order of appearance
        codes = codes.copy()
        codes[missing] = len(uniques) + kinds
        uniques = np.concatenate([uniques, values[missing[firsts]]])
    return codes, uniques


def combine(*codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, first row of each code) for rows taken as tuples of dense codes (each 0 … k−1, as `Coded`
    holds them): equal tuples share a code, codes numbered in order of first appearance."""
    n = len(codes[0])
    if n == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    key, size = np.zeros(n, dtype=np.int64), 1
    for c in codes:
        k = int(c.max()) + 1
        if size * k >= 2 ** 62:  # renumber before the key would overflow
            key = pd.factorize(key)[0].astype(np.int64)
            size = int(key.max()) + 1
        key, size = key * k + c, size * k
    out = pd.factorize(key)[0]
    seen = np.maximum.accumulate(out)
    first = np.flatnonzero(np.concatenate(([True], out[1:] > seen[:-1])))
    return out, first


class Coded:
    """A column as a code per row into the values it holds (`codes_of`): work per distinct value, gathers per
    row. `values` may repeat after `map` (two texts read the same); `compact` merges them."""

    __slots__ = ("codes", "values")

    def __init__(self, codes: np.ndarray, values: np.ndarray) -> None:
        self.codes, self.values = codes, values

    @classmethod
    def of(cls, column: pd.Series | np.ndarray) -> Coded:
        values = column.to_numpy(dtype=object) if isinstance(column, pd.Series) else column
        if len(values) and pd.api.types.infer_dtype(values, skipna=False) == "string":
            codes, uniques = pd.factorize(values)
            return cls(codes, np.asarray(uniques, dtype=object))
        return cls(*codes_of(values))

    def map(self, func) -> Coded:
        """`func` of each distinct value (results kept as objects, a tuple too)."""
        return Coded(self.codes, np.fromiter(map(func, self.values), dtype=object, count=len(self.values)))

    def compact(self) -> Coded:
        """Equal values (after `map`) under one code, so codes compare like values."""
        codes, uniques = codes_of(self.values)
        return Coded(codes[self.codes], uniques)

    def test(self, pred) -> np.ndarray:
        """`pred` of each row's value, as booleans."""
        return np.fromiter((bool(pred(v)) for v in self.values), dtype=bool, count=len(self.values))[self.codes]

    def floats(self, func) -> np.ndarray:
        """`func` of each row's value as floats (None → NaN)."""
        table = np.fromiter((np.nan if (x := func(v)) is None else x for v in self.values), dtype=float,
                            count=len(self.values))
        return table[self.codes]

    def take(self, rows: np.ndarray) -> Coded:
        return Coded(self.codes[rows], self.values)

    def array(self) -> np.ndarray:
        return self.values[self.codes]

    def at(self, position: int) -> object:
        return self.values[self.codes[position]]


def unique_map(series: pd.Series, func) -> pd.Series:
    """Apply `func` once per distinct value (sheets repeat the same texts across many rows)."""
    coded = Coded.of(series).map(func)
    return pd.Series(coded.array(), index=series.index, dtype=object)


@contextmanager
def collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while many small objects are made (a sheet's records and frames,
    scoring's texts and messages): they hold few reference cycles (collected once the collector runs again), and
    each full collection would walk every object already in memory. Restored as it was, even on an error."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def row_slices(body: pd.DataFrame, bounds: list[int]) -> list[pd.DataFrame]:
    """`body.iloc[a:b]` with index 0 … b−a−1 for each consecutive pair (a, b) of `bounds`. Sliced block by block:
    pandas' own slicing without its per-call label and metadata work (a portfolio has 10⁴ projects)."""
    return row_runs(body, list(pairwise(bounds)))


def row_runs(body: pd.DataFrame, runs: list[tuple[int, int]], *, copy: bool = True) -> list[pd.DataFrame]:
    """`body.iloc[a:b]` with index 0 … b−a−1 for each (a, b) of `runs` (as `row_slices`, runs in any order).
    `copy=False`: `body` is the caller's to give away (fresh from a pickle), numbered 0 … n−1, and consolidated
    (one block per dtype, as `cut_rows` leaves it)."""
    if copy:
        body = body.copy()  # one block per dtype: each part slices fewer blocks
        body.index = pd.RangeIndex(len(body))
    with collection_paused():
        return _row_runs(body, runs)


def _row_runs(body: pd.DataFrame, runs: list[tuple[int, int]]) -> list[pd.DataFrame]:
    parts = []
    indexes: dict[int, pd.RangeIndex] = {}  # an index is immutable: parts of one length share one
    try:
        mgr, make = body._mgr, pd.DataFrame._from_mgr
        for start, stop in runs:
            index = indexes.get(stop - start)
            if index is None:
                index = indexes[stop - start] = pd.RangeIndex(stop - start)
            part = mgr.get_slice(slice(start, stop), axis=1, new_index=index)
            parts.append(make(part, axes=part.axes))
    except (AttributeError, TypeError):  # a pandas without these internals
        parts = []
        for start, stop in runs:
            part = body.iloc[start:stop]
            part.index = pd.RangeIndex(stop - start)
            parts.append(part)
    return parts


class RowRun:
    """Rows `start` … `stop`−1 of `body`, not cut out yet: what `cut_rows` gives in a reading worker
    (`keeping_rows_whole`), where the rows of every project of a sheet travel to the parent as one frame and are
    cut there (`perfeval.sheets.pool`). Never seen outside a worker."""

    __slots__ = ("body", "start", "stop")

    def __init__(self, body: pd.DataFrame, start: int, stop: int) -> None:
        self.body, self.start, self.stop = body, start, stop


#: set in a reading worker while it reads (`keeping_rows_whole`): `cut_rows` then leaves the rows uncut
_KEEP_WHOLE = False


@contextmanager
def keeping_rows_whole() -> Iterator[None]:
    """Within: `cut_rows` gives `RowRun`s instead of frames (a reading worker, whose projects' frames are packed
    for the trip to the parent anyway: cutting them only to concatenate them again costs more than reading)."""
    global _KEEP_WHOLE
    before, _KEEP_WHOLE = _KEEP_WHOLE, True
    try:
        yield
    finally:
        _KEEP_WHOLE = before


def cut_rows(body: pd.DataFrame, runs: list[tuple[int, int]]) -> list[pd.DataFrame] | list[RowRun]:
    """`row_runs(body, runs)`; `RowRun`s of `body` (its rows numbered 0 … n−1) within `keeping_rows_whole`."""
    if not _KEEP_WHOLE:
        return row_runs(body, runs)
    if not is_consolidated(body):
        body = body.copy()  # one block per dtype (pickles faster; the parent cuts it without copying it again)
    body = body.set_axis(pd.RangeIndex(len(body)), axis=0)  # a new frame over the same blocks
    return [RowRun(body, start, stop) for start, stop in runs]


def is_consolidated(frame: pd.DataFrame) -> bool:
    """One block per dtype already (`DataFrame.copy` would make it so): a frame that can be cut without a copy."""
    check = getattr(frame._mgr, "is_consolidated", None)
    return bool(check()) if check is not None else False
