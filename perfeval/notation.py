"""Parse what evaluators type into 指标值 and 实际完成值 cells.

Real sheets mix half- and full-width symbols (＝ ≥ ＞ ≧ ％), word operators (不低于, 不超过, 以内),
ranges (80%-90%, 3~5个), units (人, 人次, 万元, %) and placeholders for "nothing" (—, /, *).
`parse_value` turns one cell into a `Measure`; `parse_series` does a whole column, parsing each
distinct text once so a portfolio of many projects costs no more than its distinct notations.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

#: cell texts that mean "empty"
EMPTY_TOKENS = frozenset({"", "—", "——", "-", "--", "－", "–", "/", "／", "*", "＊", "\\", "n/a", "na", "无"})

_WIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}  # full-width ASCII -> ASCII
_WIDTH.update({0x3000: 0x20, ord("≧"): ord("≥"), ord("≦"): ord("≤"), ord("⩾"): ord("≥"),
               ord("⩽"): ord("≤"), ord("～"): ord("~"), ord("〜"): ord("~"), ord("–"): ord("-"),
               ord("—"): ord("-"), ord("－"): ord("-"), ord("﹪"): ord("%"), ord("≈"): ord("≈")})

#: word operators that stand before the number
_PREFIX_WORDS: tuple[tuple[str, str], ...] = (
    ("大于或等于", "≥"), ("大于等于", "≥"), ("不低于", "≥"), ("不少于", "≥"), ("不小于", "≥"),
    ("至少", "≥"), ("达到", "≥"), ("小于或等于", "≤"), ("小于等于", "≤"), ("不高于", "≤"),
    ("不超过", "≤"), ("不多于", "≤"), ("不大于", "≤"), ("至多", "≤"), ("控制在", "≤"),
    ("等于", "="), ("大于", ">"), ("高于", ">"), ("超过", ">"), ("小于", "<"), ("低于", "<"),
)
#: word operators that stand after the number
_SUFFIX_WORDS: tuple[tuple[str, str], ...] = (
    ("及以上", "≥"), ("以上", "≥"), ("及以下", "≤"), ("以下", "≤"), ("以内", "≤"), ("之内", "≤"),
)
_SYMBOL_OPS = {">=": "≥", "=>": "≥", "<=": "≤", "=<": "≤", "≥": "≥", "≤": "≤", ">": ">", "<": "<",
               "=": "=", "==": "="}

#: unit spellings folded to one name
UNIT_ALIASES = {"百分比": "%", "百分点": "%", "个月": "月", "名": "人", "平方米": "㎡", "m2": "㎡",
                "平米": "㎡", "公顷": "公顷", "万人次": "万人次", "周岁": "岁"}
#: units that convert into each other: unit -> (family, factor to the family's base)
UNIT_SCALES = {"元": ("money", 1e-4), "千元": ("money", 1e-1), "万元": ("money", 1.0),
               "亿元": ("money", 1e4)}
MONEY_UNITS = frozenset(UNIT_SCALES)

_NUM = r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?"
_OP = r"≥|≤|>=|<=|=>|=<|==|>|<|="
_SINGLE = re.compile(rf"^(?P<op>{_OP})?\s*(?P<num>{_NUM})\s*(?P<unit>[^\d\s].*?)?$")
_RANGE = re.compile(
    rf"^(?P<lo>{_NUM})\s*(?P<u1>[^\d\s~\-至到]*?)\s*(?:~|-|至|到)\s*(?P<hi>{_NUM})\s*(?P<u2>[^\d\s]*?)$"
)
_INTERVAL = re.compile(rf"^[\[(]\s*(?P<lo>{_NUM})\s*,\s*(?P<hi>{_NUM})\s*[\])]\s*(?P<u2>[^\d\s]*)$")
_CHECKLIST = re.compile(rf"^(?P<k>{_NUM})\s*/\s*(?P<n>{_NUM})$")
_BAD_OP = re.compile(r"^[≈≠±≒∽~!?？]")


@dataclass(frozen=True)
class Measure:
    """One parsed cell.

    kind: ``empty`` | ``number`` | ``range`` | ``text`` | ``checklist`` | ``invalid``.
    For ``number``, ``op`` is one of ≥ ≤ > < = or None (a bare number).
    """

    kind: str
    op: str | None = None
    value: float = math.nan
    low: float = math.nan
    high: float = math.nan
    unit: str = ""
    text: str = ""

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("number", "range", "checklist")


@lru_cache(maxsize=1 << 16)
def _fold(text: str) -> str:
    return text.translate(_WIDTH).strip().replace("\u00a0", " ")


def normalise(text: object) -> str:
    """Fold widths and spaces; return '' for None/NaN."""
    if isinstance(text, str):
        return _fold(text)
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    if isinstance(text, bool):
        return "是" if text else "否"
    if isinstance(text, int | float):
        # 15 significant digits: what Excel itself keeps, and no exponent for ordinary amounts
        return format(text, ".15g") if not float(text).is_integer() else str(int(text))
    return _fold(str(text))


def plain_text(value: object) -> str:
    """Cell text as written (widths kept), stripped; '' for blanks and placeholders."""
    text = normalise(value)
    if text.lower() in EMPTY_TOKENS and text != "无":
        return ""
    if value is None or isinstance(value, int | float | bool):
        return text
    return str(value).strip()


def is_empty(text: object) -> bool:
    return normalise(text).lower() in EMPTY_TOKENS


def fold_unit(unit: str) -> str:
    unit = unit.strip().strip("()（）")
    return UNIT_ALIASES.get(unit, unit)


def _number(text: str) -> float:
    return float(text.replace(",", ""))


@lru_cache(maxsize=65536)
def parse_value(raw: str) -> Measure:
    """Parse one 指标值 / 实际完成值 text (already a str; `normalise` any other cell first)."""
    text = normalise(raw)
    if text.lower() in EMPTY_TOKENS:
        return Measure("empty")
    body = text
    op: str | None = None
    for word, sym in _PREFIX_WORDS:
        if body.startswith(word):
            op, body = sym, body[len(word):].strip()
            break
    for word, sym in _SUFFIX_WORDS:
        if body.endswith(word):
            if op is None:
                op = sym
            body = body[: -len(word)].strip()
            break
    m = _CHECKLIST.match(body)
    if m and op is None:
        k, n = _number(m["k"]), _number(m["n"])
        if n > 0:
            return Measure("checklist", value=k / n, low=k, high=n, text=text)
    m = _RANGE.match(body) or _INTERVAL.match(body)
    if m and op is None:
        lo, hi = _number(m["lo"]), _number(m["hi"])
        u1, u2 = fold_unit(m.groupdict().get("u1") or ""), fold_unit(m["u2"] or "")
        if lo <= hi and (not u1 or not u2 or u1 == u2):
            return Measure("range", op="range", low=lo, high=hi, unit=u2 or u1, text=text)
    m = _SINGLE.match(body)
    if m:
        sym = _SYMBOL_OPS.get(m["op"] or "")
        if op is not None and sym is not None and sym != op:
            return Measure("invalid", text=text)
        unit = fold_unit(m["unit"] or "")
        if re.search(r"\d", unit):
            return Measure("invalid", text=text)
        return Measure("number", op=sym or op, value=_number(m["num"]), unit=unit, text=text)
    if _BAD_OP.match(body) or (op is not None) or re.match(rf"^(?:{_OP})", body):
        # an operator we do not know, or a known operator followed by something that is not a number
        return Measure("invalid", text=text)
    return Measure("text", text=text)


def parse_series(values: pd.Series) -> pd.DataFrame:
    """Parse a column; returns columns kind, op, value, low, high, unit, text (index kept)."""
    texts = values.map(normalise)
    uniques = pd.unique(texts)
    parsed = {u: parse_value(u) for u in uniques}
    cols = ("kind", "op", "value", "low", "high", "unit", "text")
    table = pd.DataFrame([[getattr(parsed[u], c) for c in cols] for u in uniques],
                         columns=list(cols), index=uniques)
    out = table.reindex(texts.to_numpy())
    out.index = values.index
    return out


def unit_factor(unit_from: str, unit_to: str) -> float | None:
    """Factor converting a number in `unit_from` into `unit_to`; None when incompatible.

    Units that are equal, or where one side has no unit, convert with factor 1.
    """
    if unit_from == unit_to or not unit_from or not unit_to:
        return 1.0
    a, b = UNIT_SCALES.get(unit_from), UNIT_SCALES.get(unit_to)
    if a and b and a[0] == b[0]:
        return a[1] / b[1]
    return None


_NAME_UNIT = re.compile(r"[（(]([^（）()]{1,4})[）)]\s*$")


def unit_in_name(name: str) -> str:
    """The unit an indicator name declares, e.g. '缴费人数（人）' -> '人'."""
    m = _NAME_UNIT.search(normalise(name))
    return fold_unit(m.group(1)) if m else ""


_WEIGHT_IN_HEADER = re.compile(r"^(?P<name>.*?)\s*[（(]\s*(?P<w>\d+(?:\.\d+)?)\s*分?\s*[）)]\s*$")


def split_weight(label: object) -> tuple[str, float | None]:
    """'产出指标(40分)' -> ('产出指标', 40.0); '决策' -> ('决策', None)."""
    text = normalise(label)
    m = _WEIGHT_IN_HEADER.match(text)
    if m:
        return m["name"].strip(), float(m["w"])
    return text, None


def parse_amount(value: object) -> tuple[float | None, str]:
    """Parse a money cell into 万元. Returns (amount, error message or '')."""
    text = normalise(value)
    if text.lower() in EMPTY_TOKENS:
        return None, ""
    m = _SINGLE.match(text)
    if not m or m["op"]:
        return None, "应为金额（万元），如 33.46 或 33.46万元"
    unit = fold_unit(m["unit"] or "") or "万元"
    if unit not in MONEY_UNITS:
        return None, f"金额单位「{unit}」无法识别，应为 元、万元 或 亿元"
    amount = _number(m["num"]) * UNIT_SCALES[unit][1]
    if not math.isfinite(amount) or abs(amount) > 1e12:  # overflow or a typing error, never a figure
        return None, "金额大得不合理（超过 1e+12 万元）或溢出；请检查是否多打了数字"
    return amount, ""


def parse_rate(value: object) -> float | None:
    """'95.6%' -> 0.956; 0.956 -> 0.956; 95.6 -> 0.956 (numbers above 1.5 read as percent)."""
    text = normalise(value)
    m = _SINGLE.match(text)
    if not m or m["op"]:
        return None
    number = _number(m["num"])
    if not math.isfinite(number) or abs(number) > 1e12:
        return None
    unit = fold_unit(m["unit"] or "")
    if unit == "%":
        return number / 100
    if unit:
        return None
    return number / 100 if abs(number) > 1.5 else number


def decimals_of(text: object) -> int:
    """Decimals written in a stated figure ('95.6%' -> 1, '99' -> 0)."""
    m = re.search(r"\d+(?:\.(\d+))?", normalise(text))
    return len(m.group(1) or "") if m else 0
