"""Small helpers for reading cell values column by column."""

from __future__ import annotations

import math

import pandas as pd

from perfeval.notation import normalise


def cell_number(value: object) -> float | None:
    """A numeric cell ('4.5', '4.5分', 4.5) as a float; None when it is not a finite number."""
    text = normalise(value)
    if not text:
        return None
    try:
        number = float(text.replace(",", "").rstrip("分"))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def unique_map(series: pd.Series, func) -> pd.Series:
    """Apply `func` once per distinct value (sheets repeat the same texts across many rows)."""
    uniques = pd.unique(series.to_numpy(dtype=object))
    table = {u: func(u) for u in uniques}
    return pd.Series([table[v] for v in series.to_numpy(dtype=object)], index=series.index, dtype=object)
