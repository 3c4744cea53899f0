"""Numbers and labels as perfeval writes them, in one place (reports, `perfeval score`, the workbench, the batch).

Every formatter rounds 四舍五入 on the number as written in decimal (`half_up`: 5.25 → '5.3', not the binary
float's '5.2'), writes a missing or infinite value as '—' and never writes '-0'. Pure functions, no I/O, no
dependency on the rest of perfeval: anything may import this module.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

#: what is written where a number is missing (None, NaN, ±inf, not a number)
MISSING = "—"
#: finding severities (`Evaluation.findings.severity`, `Problem.severity`) in Chinese
SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}
#: the unit amounts are kept in (Project.budget, allocated, spent)
MONEY_UNIT = "万元"
#: 1 元 in 万元
YUAN = 1e-4


def finite(x: object) -> bool:
    """True for a value that reads as a finite number (ints, floats, numpy scalars, numeric strings)."""
    try:
        return x is not None and math.isfinite(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def half_up(x: float, places: int) -> str:
    """`x` with `places` decimals rounded 四舍五入 as written in decimal (5.25 -> '5.3', not the
    binary float's '5.2')."""
    exact = Decimal(repr(round(x, 9)))
    return str(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _trimmed(text: str) -> str:
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def fmt_num(x: object, places: int = 2, trim: bool = True) -> str:
    """A score or an amount: 20.0 -> '20', 19.780 -> '19.78', -0.001 -> '0', NaN -> '—'.

    `trim=False` keeps the trailing zeros (tables with aligned decimals: 98.9 -> '98.90')."""
    if not finite(x):
        return MISSING
    text = half_up(float(x), places)  # type: ignore[arg-type]
    if trim:
        return _trimmed(text)
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text  # '-0.00' -> '0.00'


def fmt_pct(rate: object, places: int = 1, trim: bool = True) -> str:
    """A fraction as a percentage: 0.95577 -> '95.6%', 1.0 -> '100%' ('100.0%' with `trim=False`)."""
    if not finite(rate):
        return MISSING
    return fmt_num(float(rate) * 100, places, trim) + "%"  # type: ignore[arg-type]


def fmt_money(x: object, places: int = 2) -> str:
    """An amount in 万元: 150 -> '150万元', NaN -> '—'."""
    return MISSING if not finite(x) else f"{fmt_num(x, places)}{MONEY_UNIT}"


def fmt_money_spaced(x: object, places: int = 2) -> str:
    """An amount in 万元 with a space before the unit, as tables and the text summary write it: '150 万元'."""
    return MISSING if not finite(x) else f"{fmt_num(x, places)} {MONEY_UNIT}"


def signed_pct(rate: object, places: int = 1) -> str:
    """A signed 偏差率 as the report writes it, in the table and in the text alike:
    -0.044 -> '-4.4%', 0.053 -> '+5.3%', 0 -> '0%', NaN -> '—'."""
    if not finite(rate):
        return MISSING
    x = float(rate)  # type: ignore[arg-type]
    text = _trimmed(half_up(abs(x) * 100, places))
    if text == "0":
        return "0%"
    return ("+" if x > 0 else "-") + text + "%"


def fmt_change(x: object, places: int = 2) -> str:
    """A change in points (what-if, panel, robustness): '+0.4', '−0.22' (U+2212), '0' for no change or NaN."""
    if not finite(x):
        return "0"
    value = float(x)  # type: ignore[arg-type]
    text = fmt_num(abs(value), places)
    if text == "0":
        return "0"
    return f"+{text}" if value > 0 else f"−{text}"


def severity_label(severity: object) -> str:
    """'error' -> '错误', 'warning' -> '警告', 'info' -> '提示'; anything else as written."""
    return SEVERITY_LABELS.get(str(severity), str(severity))


def fmt_read(x: object) -> str:
    """A number as perfeval read it from a cell, with thousands separators and up to six significant digits:
    36500 → '36,500', 33.46 → '33.46', 0.955768 → '0.955768', 1e20 → '1×10^20'; NaN/inf → '—'."""
    if not finite(x):
        return MISSING
    value = float(x)  # type: ignore[arg-type]
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude >= 15:
        return f"{value:.6g}".replace("e+", "×10^")
    places = min(6, max(0, 5 - magnitude))
    text = f"{value:,.{places}f}"
    return _trimmed(text)


def fmt_amount(wan: object) -> str:
    """An amount given in 万元 as read: '5,000 万元', '33.46 万元'; under 1 万元 in 元 ('75 元', not
    '0.0075 万元'); NaN → '—'."""
    if not finite(wan):
        return MISSING
    value = float(wan)  # type: ignore[arg-type]
    if 0 < abs(value) < 1:
        return f"{fmt_read(value / YUAN)} 元"
    return f"{fmt_read(value)} {MONEY_UNIT}"


def grade_key(table: Iterable, present: Iterable[object] = (), *, other: str,
              keep_absent: bool = True) -> dict[str, str]:
    """Grade label -> colour, best grade first, for a view of graded projects (charts, tables, index.html).

    `table` is a scheme's grade table (`Scheme.grade_table`: bands with `.grade` and `.colour`, best first):
    its labels in its order (with `keep_absent=False` only those among `present`, for a portfolio whose
    projects grade differently), then every other label in `present`, sorted, in the colour `other`."""
    seen = {str(g) for g in present if g is not None and g == g and str(g) != ""}
    key = {str(band.grade): str(band.colour) for band in table if keep_absent or str(band.grade) in seen}
    for grade in sorted(seen - set(key)):
        key[grade] = other
    return key
