"""Small helpers for reading cell values column by column."""

from __future__ import annotations

import math
from itertools import pairwise

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


def unique_map(series: pd.Series, func) -> pd.Series:
    """Apply `func` once per distinct value (sheets repeat the same texts across many rows)."""
    values = series.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=False) == "string":  # only str: factorize groups as a dict would
        codes, uniques = pd.factorize(values)
        results = np.empty(len(uniques), dtype=object)
        for k, u in enumerate(uniques):
            results[k] = func(u)
        return pd.Series(results[codes], index=series.index, dtype=object)
    table = {u: func(u) for u in pd.unique(values)}
    get = table.get
    out = [get(v, _MISSING) for v in values]
    if any(r is _MISSING for r in out):  # NaN is not equal to itself: a NaN object other than the key misses
        nan: list = []
        for i, (v, r) in enumerate(zip(values, out, strict=True)):
            if r is _MISSING:
                if v != v and not nan:
                    nan.append(func(v))
                out[i] = nan[0] if v != v else func(v)
    return pd.Series(out, index=series.index, dtype=object)


_MISSING = object()


def row_slices(body: pd.DataFrame, bounds: list[int]) -> list[pd.DataFrame]:
    """`body.iloc[a:b]` with index 0 … b−a−1 for each consecutive pair (a, b) of `bounds`. Sliced block by block:
    pandas' own slicing without its per-call label and metadata work (a portfolio has 10⁴ projects)."""
    body = body.copy()  # one block per dtype: each part slices fewer blocks
    body.index = pd.RangeIndex(len(body))
    parts = []
    try:
        mgr, make = body._mgr, pd.DataFrame._from_mgr
        for start, stop in pairwise(bounds):
            part = mgr.get_slice(slice(start, stop), axis=1, new_index=pd.RangeIndex(stop - start))
            parts.append(make(part, axes=part.axes))
    except (AttributeError, TypeError):  # a pandas without these internals
        parts = []
        for start, stop in pairwise(bounds):
            part = body.iloc[start:stop]
            part.index = pd.RangeIndex(stop - start)
            parts.append(part)
    return parts
