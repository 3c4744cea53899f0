"""Parse what evaluators type into 指标值 and 实际完成值 cells.

Real sheets mix half- and full-width symbols (＝ ═ ﹦ ≥ ＞ ≧ ⩾ ％), word operators (不低于, 不超过,
控制在…以内), ranges (80%-90%, 3~5个), magnitude words (3.65万人次, 0.5亿元), Chinese numerals
(三万六千五百人次, 百分之九十五), thousands separators (36,500), units (人, 人次, 万元, %), dates
(2024年12月31日前, 年底前, 第三季度 — see `perfeval.deadline`) and placeholders for "nothing" (—, /, *).
`parse_value` turns one cell into a `Measure`; `parse_series` does a whole column, parsing each
distinct text once so a portfolio of many projects costs no more than its distinct notations.

Quantities are read into one form, so every spelling of the same quantity compares equal:
a magnitude word joins the number (3.65万人次 -> 36500 人次, 1.2万亩 -> 12000 亩) and money reads
into 万元 (0.5亿元 -> 5000 万元, 334600元 -> 33.46 万元). A text that tries to be a number and
cannot be read (a 400-digit number, 95%%, 约95%, ###) is ``invalid``, never ``text``.
"""

from __future__ import annotations

import ctypes
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import numpy as np
import pandas as pd

from perfeval.deadline import DATE_UNIT, DATELESS, read_date

#: cell texts that mean "empty"
EMPTY_TOKENS = frozenset({"", "—", "——", "-", "--", "－", "–", "/", "／", "*", "＊", "\\", "n/a", "na", "无"})

_WIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}  # full-width ASCII -> ASCII
_WIDTH.update({0x3000: 0x20, ord("≧"): ord("≥"), ord("≦"): ord("≤"), ord("⩾"): ord("≥"),
               ord("⩽"): ord("≤"), ord("≮"): ord("≥"), ord("≯"): ord("≤"), ord("═"): ord("="),
               ord("﹦"): ord("="), ord("⩵"): ord("="), ord("﹤"): ord("<"), ord("﹥"): ord(">"),
               ord("～"): ord("~"), ord("〜"): ord("~"), ord("–"): ord("-"),
               ord("—"): ord("-"), ord("－"): ord("-"), ord("﹪"): ord("%"), ord("﹐"): ord(","),
               ord("﹒"): ord(".")})

#: word operators that stand before the number
_PREFIX_WORDS: tuple[tuple[str, str], ...] = (
    ("大于或等于", "≥"), ("大于等于", "≥"), ("不得低于", "≥"), ("不得少于", "≥"), ("不应低于", "≥"),
    ("不低于", "≥"), ("不少于", "≥"), ("不小于", "≥"), ("至少", "≥"), ("达到", "≥"),
    ("小于或等于", "≤"), ("小于等于", "≤"), ("不得高于", "≤"), ("不得超过", "≤"), ("不应超过", "≤"),
    ("不高于", "≤"), ("不超过", "≤"), ("不多于", "≤"), ("不大于", "≤"), ("至多", "≤"), ("控制在", "≤"),
    ("等于", "="), ("大于", ">"), ("高于", ">"), ("超过", ">"), ("小于", "<"), ("低于", "<"),
)
#: word operators that stand after the number
_SUFFIX_WORDS: tuple[tuple[str, str], ...] = (
    ("(含)以上", "≥"), ("及以上", "≥"), ("以上", "≥"), ("(含)以下", "≤"), ("及以下", "≤"), ("以下", "≤"),
    ("以内", "≤"), ("之内", "≤"),
)
#: words that make a number approximate: a target cannot be "about" a number
_HEDGE_PREFIX = ("大约", "约为", "约", "接近", "将近", "近")
_HEDGE_SUFFIX = ("左右", "上下", "多")
_SYMBOL_OPS = {">=": "≥", "=>": "≥", "<=": "≤", "=<": "≤", "≥": "≥", "≤": "≤", ">": ">", "<": "<",
               "=": "=", "==": "="}

#: unit spellings folded to one name
UNIT_ALIASES = {"百分比": "%", "百分点": "%", "个百分点": "%", "个月": "月", "名": "人", "平方米": "㎡",
                "m2": "㎡", "m²": "㎡", "平米": "㎡", "周岁": "岁", "公斤": "千克", "立方米": "m³",
                "台(套)": "台套", "台/套": "台套"}
#: units that convert into each other: unit -> (family, factor to the family's base)
UNIT_SCALES = {"元": ("money", 1e-4), "千元": ("money", 1e-1), "万元": ("money", 1.0),
               "十万元": ("money", 10.0), "百万元": ("money", 1e2), "千万元": ("money", 1e3),
               "亿元": ("money", 1e4)}
MONEY_UNITS = frozenset(UNIT_SCALES)
_MONEY_FACTOR = {"元": Decimal("0.0001"), "千元": Decimal("0.1"), "万元": Decimal(1), "十万元": Decimal(10),
                 "百万元": Decimal(100), "千万元": Decimal(1000), "亿元": Decimal(10000)}
#: the unit money reads into
MONEY_BASE = "万元"
#: magnitude words that join the number when they stand before a unit (3.65万人次 = 36500 人次)
MAGNITUDES = {"万": 10_000, "亿": 100_000_000, "千": 1_000, "百": 100, "十": 10}
#: units seen in published indicator tables (after folding); a name's "(…)" is a unit only if it is one
KNOWN_UNITS = frozenset({
    "%", "‰", "人", "人次", "户", "户次", "家", "个", "次", "项", "场", "场次", "期", "班", "批", "份", "篇",
    "册", "本", "件", "套", "台", "台套", "部", "辆", "艘", "架", "座", "所", "处", "条", "栋", "间", "张",
    "床", "张床", "株", "棵", "头", "只", "羽", "匹", "口", "眼", "宗", "起", "例", "支", "队", "组", "村",
    "乡", "镇", "县", "校", "种", "类", "幅", "块", "根", "盏", "门", "节", "课", "课时", "学时", "人天",
    "天", "日", "周", "月", "季度", "年", "小时", "时", "分钟", "岁", "元", "分", "点", "星", "级", "倍",
    "公里", "千米", "米", "厘米", "毫米", "亩", "㎡", "m³", "公顷", "平方公里", "吨", "千克", "克", "斤",
    "升", "毫升", "千瓦", "千瓦时", "度", "兆瓦", "℃", "GB", "TB", "M", "km", "m", "t", "kg", "个点",
    "人/次", "元/人", "元/亩", "元/吨", "元/㎡", "元/人·月", "人·次", "家次", "网点", "站", "台次",
    *UNIT_SCALES,
})

_NUM = r"[-+]?(?:\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)"
_OP = r"≥|≤|>=|<=|=>|=<|==|>|<|="
_SINGLE = re.compile(rf"^(?P<op>{_OP})?\s*(?P<num>{_NUM})\s*(?P<unit>[^\d\s].*?)?$")
_RANGE = re.compile(
    rf"^(?P<lo>{_NUM})\s*(?P<u1>[^\d\s~\-至到]*?)\s*(?:~|-|至|到)\s*(?P<hi>{_NUM})\s*(?P<u2>[^\d\s]*?)$"
)
_INTERVAL = re.compile(rf"^[\[(]\s*(?P<lo>{_NUM})\s*,\s*(?P<hi>{_NUM})\s*[\])]\s*(?P<u2>[^\d\s]*)$")
_CHECKLIST = re.compile(rf"^(?P<k>{_NUM})\s*/\s*(?P<n>{_NUM})$")
_BAD_OP = re.compile(r"^[≈≠±≒∽~!?？]")
_EXCEL_DISPLAY = re.compile(r"^#+$|^#(?:REF!|DIV/0!|N/A|VALUE!|NAME\?|NUM!|NULL!|SPILL!|CALC!|GETTING_DATA)$"
                            r"|^[-+]?(?:inf|infinity|nan)$",
                            re.IGNORECASE)
_CN_START = "零〇一二两三四五六七八九十壹贰叁肆伍陆柒捌玖拾"
_CN_NUMERAL = re.compile(rf"^(?P<op>{_OP})?\s*(?P<num>[{_CN_START}][{_CN_START}百千万亿佰仟]*)(?P<unit>.*)$")
_PERCENT_WORDS = re.compile(rf"^(?P<op>{_OP})?\s*百分之(?P<num>.+)$")
_SYMBOLS_ONLY = re.compile(r"^[^\w\u4e00-\u9fff]+$")
_NUM_MORE = re.compile(rf"^{_NUM}多")
_OP_START = re.compile(rf"^(?:{_OP})")
_NUMBER_START = re.compile(r"^[-+]?[\d.]")
_DIGIT = re.compile(r"\d")
_DATE_OP = re.compile(r"^(≤|<|=)\s*")
#: a date or deadline may be in the text (cheap test before `read_date`)
_DATE_HINT = re.compile(r"[年月日号季期时]|\d[.\-/]\d")
_PREFIX_FIRST = frozenset(w[0] for w, _ in _PREFIX_WORDS)
_SUFFIX_LAST = frozenset(w[-1] for w, _ in _SUFFIX_WORDS)
_HEDGE_FIRST = frozenset(w[0] for w in _HEDGE_PREFIX)
_HEDGE_LAST = frozenset(w[-1] for w in _HEDGE_SUFFIX)


@dataclass(frozen=True)
class Measure:
    """One parsed cell.

    kind: ``empty`` | ``number`` | ``range`` | ``text`` | ``checklist`` | ``date`` | ``invalid``.
    For ``number``, ``op`` is one of ≥ ≤ > < = or None (a bare number).
    For ``date`` (unit ``日期``), low/high are the first and last day the text covers and value the
    last (the deadline), as proleptic ordinals (`datetime.date.toordinal`); op is ≤ for 前/之前/底前/内.
    They are NaN when the date needs the project's year (12月底前, 年底前) or states no day (按期):
    `perfeval.deadline.read_date(text, year)` resolves them.
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
    if isinstance(text, datetime) and (text.hour, text.minute, text.second) == (0, 0, 0):
        return text.date().isoformat()  # an Excel date cell: 2024-12-31
    if isinstance(text, date | datetime):
        return text.isoformat(sep=" ") if isinstance(text, datetime) else text.isoformat()
    if isinstance(text, int | float):
        if not math.isfinite(text):
            return str(text)
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


def split_magnitude(unit: str) -> tuple[int, str]:
    """'万人次' -> (10000, '人次'); '千米' -> (1, '千米') (a unit of its own); money is left whole."""
    unit = fold_unit(unit)
    factor = 1
    while unit and unit not in KNOWN_UNITS and unit[0] in MAGNITUDES:
        factor *= MAGNITUDES[unit[0]]
        unit = fold_unit(unit[1:])
    return factor, unit


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _quantity(num: str, unit: str) -> tuple[float, str]:
    """A number and the unit written after it, in the one form quantities compare in:
    money in 万元, a magnitude word joined to the number. The value may be inf/nan (caller checks)."""
    unit = fold_unit(unit)
    if not unit or (unit in KNOWN_UNITS and unit not in MONEY_UNITS):
        return _number(num), unit
    factor, base = split_magnitude(unit)
    if base in MONEY_UNITS:
        exact = Decimal(num.replace(",", "")) * factor * _MONEY_FACTOR[base]
        return float(exact), MONEY_BASE
    if factor == 1:
        return _number(num), base
    return float(Decimal(num.replace(",", "")) * factor), base


def _cn_number(run: str) -> int | None:
    import cn2an  # 0.1 s to import: only when a value is spelled in Chinese numerals

    try:
        value = cn2an.cn2an(run, "normal")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return int(value) if float(value).is_integer() else None


def _arabic(body: str) -> str:
    """Chinese numerals as digits: '三万六千五百人次' -> '36500人次', '百分之九十五' -> '95%'.

    Only when what follows the numeral is a known unit (so '一般', '十分满意', '三同时' stay text)."""
    if m := _PERCENT_WORDS.match(body):
        rest = m["num"].strip()
        if not re.fullmatch(_NUM, rest):
            n = _cn_number(rest)
            if n is None:
                return body
            rest = str(n)
        return f"{m['op'] or ''}{rest}%"
    if body == "百分百":
        return "100%"
    m = _CN_NUMERAL.match(body)
    if not m:
        return body
    unit = m["unit"].strip()
    if unit and split_magnitude(unit)[1] not in KNOWN_UNITS:
        return body
    n = _cn_number(m["num"])
    return body if n is None else f"{m['op'] or ''}{n}{unit}"


def _strip_words(body: str) -> tuple[str | None, str]:
    op: str | None = None
    if not body or (body[0] not in _PREFIX_FIRST and body[-1] not in _SUFFIX_LAST):
        return op, body
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
    return op, body


def _hedged(body: str) -> bool:
    """'约95%', '95%左右', '100多人': an approximate number."""
    if "多" not in body and not (body[:1] in _HEDGE_FIRST or body[-1:] in _HEDGE_LAST):
        return False
    for word in _HEDGE_PREFIX:
        if body.startswith(word) and _SINGLE.match(_arabic(body[len(word):].strip())):
            return True
    for word in _HEDGE_SUFFIX:
        if body.endswith(word) and _SINGLE.match(_arabic(body[: -len(word)].strip())):
            return True
    return bool(_NUM_MORE.match(body))


def _range(m: re.Match, text: str) -> Measure | None:
    u1, u2 = (m.groupdict().get("u1") or ""), (m["u2"] or "")
    if not u1 and split_magnitude(u2)[0] != 1:  # 3-5万人次: both ends in 万
        lo, unit1 = _quantity(m["lo"], u2)
    else:
        lo, unit1 = _quantity(m["lo"], u1)
    hi, unit2 = _quantity(m["hi"], u2)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return Measure("invalid", text=text)
    if lo <= hi and (not unit1 or not unit2 or unit1 == unit2):
        return Measure("range", op="range", low=lo, high=hi, unit=unit2 or unit1, text=text)
    return None


def _date(text: str) -> Measure | None:
    if not _DATE_HINT.search(text) and text not in DATELESS:
        return None
    body, op = text, None
    if m := _DATE_OP.match(body):
        op, body = "≤", body[m.end():]
    read = read_date(body)
    if read is None:
        return None
    return Measure("date", op=read.op or op, value=read.high, low=read.low, high=read.high, unit=DATE_UNIT,
                   text=text)


@lru_cache(maxsize=65536)
def parse_value(raw: str) -> Measure:
    """Parse one 指标值 / 实际完成值 text (already a str; `normalise` any other cell first)."""
    text = normalise(raw)
    if text.lower() in EMPTY_TOKENS:
        return Measure("empty")
    if _EXCEL_DISPLAY.match(text):  # ### (column too narrow) or an Excel error value: not a value
        return Measure("invalid", text=text)
    if (dated := _date(text)) is not None:
        return dated
    op, body = _strip_words(text)
    body = _arabic(body)
    try:
        return _parse_body(op, body, text)
    except (InvalidOperation, OverflowError, ValueError):
        return Measure("invalid", text=text)


def _parse_body(op: str | None, body: str, text: str) -> Measure:
    if _hedged(body):
        return Measure("invalid", text=text)  # 约95%, 95%左右, 100多人: a target cannot be "about" a number
    m = _CHECKLIST.match(body)
    if m and op is None:
        k, n = _number(m["k"]), _number(m["n"])
        if n > 0 and math.isfinite(k / n):
            return Measure("checklist", value=k / n, low=k, high=n, text=text)
    m = _RANGE.match(body) or _INTERVAL.match(body)
    if m and op is None and (ranged := _range(m, text)) is not None:
        return ranged
    m = _SINGLE.match(body)
    if m:
        sym = _SYMBOL_OPS.get(m["op"] or "")
        if op is not None and sym is not None and sym != op:
            return Measure("invalid", text=text)
        raw_unit = (m["unit"] or "").strip()
        if _DIGIT.search(raw_unit) or (_SYMBOLS_ONLY.match(raw_unit) and fold_unit(raw_unit) not in KNOWN_UNITS):
            return Measure("invalid", text=text)  # 1、2、3项, 95%%, 95#
        value, unit = _quantity(m["num"], raw_unit)
        if not math.isfinite(value):
            return Measure("invalid", text=text)  # 400 digits overflow to inf
        return Measure("number", op=sym or op, value=value, unit=unit, text=text)
    if (_BAD_OP.match(body) or op is not None or _OP_START.match(body)
            or _NUMBER_START.match(body)):
        # an operator we do not know, a known operator followed by something that is not a number,
        # or a number attempt we cannot read (1 200人)
        return Measure("invalid", text=text)
    return Measure("text", text=text)


class _Null:
    """A stand-in for one kind of missing value (None, float NaN, pd.NA …) in a distinctness key."""

    def __init__(self, kind: type) -> None:
        self.kind = kind


_NULLS: dict[type, _Null] = {}


def _key_codes(values: np.ndarray) -> np.ndarray:
    """Codes (0 … k−1) telling apart the values of one column exactly as Python sees them: None, NaN and pd.NA
    apart, 1 and 1.0 and '1' apart, -0.0 and 0.0 apart. Two rows with the same code hold equal values of one
    type, so any function of them gives the same answer. Codes count up in order of first appearance."""
    if values.dtype.kind == "f":
        return pd.factorize(np.ascontiguousarray(values, dtype=np.float64).view(np.int64))[0]
    if values.dtype.kind != "O":
        return pd.factorize(values)[0]
    if len(values) < _BY_OBJECT_FROM:
        return _object_codes(values)
    # a sheet's texts are shared objects (a loader keeps one object per distinct text): the rows are told apart by
    # object first (machine words, hashed ~10× faster than strings), then the few distinct objects by value
    values = np.ascontiguousarray(values)  # alive while its words are hashed
    by_object, addresses = pd.factorize(_addresses(values, copy=False))
    if len(addresses) <= max(_BY_OBJECT_FROM, len(values) // 256):
        objects = _objects_at(addresses)  # each distinct object, in order of first appearance
    else:
        seen = np.maximum.accumulate(by_object)
        objects = values[np.flatnonzero(np.concatenate(([True], by_object[1:] > seen[:-1])))]
    codes = _object_codes(objects)
    if (codes == np.arange(len(codes))).all():
        return by_object  # no two of the objects hold equal values (the loader's texts): the objects' codes
    return codes[by_object]


#: below this many rows an object column is hashed by value directly
_BY_OBJECT_FROM = 4096


def _addresses(values: np.ndarray, copy: bool = True) -> np.ndarray:
    """The object references of an object array as integers: equal exactly where the rows hold the very same
    object. A copy, or with `copy=False` and a contiguous `values` a read-only view of its own words, valid only
    while `values` is alive: for a caller that reads them at once."""
    contiguous = np.ascontiguousarray(values)
    words = np.ctypeslib.as_array((ctypes.c_ssize_t * len(contiguous)).from_address(contiguous.ctypes.data))
    if copy or contiguous is not values:
        return words.copy()
    words.flags.writeable = False
    return words


def _objects_at(addresses: np.ndarray) -> np.ndarray:
    """The objects at `addresses` (`_addresses` of an array that holds them, alive while this runs) as an object
    array."""
    return np.fromiter((ctypes.cast(a, ctypes.py_object).value for a in addresses.tolist()), dtype=object,
                       count=len(addresses))


def _object_codes(values: np.ndarray) -> np.ndarray:
    """`_key_codes` of an object array, hashed by value."""
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        return pd.factorize(values)[0]
    null = pd.isna(values)
    if null.any():
        values = values.copy()
        values[null] = [_NULLS.setdefault(type(v), _Null(type(v))) for v in values[null]]
    kinds = np.fromiter((id(type(v)) for v in values), dtype=np.int64, count=len(values))
    return _combine(pd.factorize(values)[0], pd.factorize(kinds)[0])


def _combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return pd.factorize(a.astype(np.int64) * (int(b.max(initial=0)) + 1) + b)[0]


def distinct_rows(*columns: np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, first row of each code) for the rows of these columns taken together: rows with the same
    code hold the same values (in the sense of `_key_codes`), codes numbered in order of first appearance."""
    n = len(columns[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key, size = None, 1
    for column in columns:
        values = column.to_numpy(dtype=object) if isinstance(column, pd.Series) and column.dtype.kind not in "fiub" \
            else np.asarray(column)
        c = _key_codes(values).astype(np.int64, copy=False)  # a new array: `key` may be it
        k = int(c.max()) + 1
        if key is None:
            key, size = c, k
        elif size * k < 2 ** 62:
            key, size = key * k + c, size * k
        else:
            key = pd.factorize(key)[0].astype(np.int64)
            key, size = key * k + c, (int(key.max()) + 1) * k
    if len(columns) > 1 and n >= _BY_OBJECT_FROM and 4 * size <= n:  # tables smaller than the rows
        return _dense_codes(key, size)
    codes = pd.factorize(key)[0] if len(columns) > 1 else key
    # codes count up in order of appearance: a row starts a code when it exceeds every code before it
    seen = np.maximum.accumulate(codes)
    first = np.flatnonzero(np.concatenate(([True], codes[1:] > seen[:-1])))
    return codes, first


def _dense_codes(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """`distinct_rows`' (codes, first) for keys 0 … size−1 (a quarter of the rows at most): each key's first row
    found in a table of every key instead of by hashing the rows."""
    n = len(key)
    first_at = np.full(size, n, dtype=np.int64)
    np.minimum.at(first_at, key, np.arange(n, dtype=np.int64))
    present = np.flatnonzero(first_at < n)
    order = present[np.argsort(first_at[present], kind="stable")]  # the keys in order of first appearance
    rank = np.empty(size, dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return rank[key], first_at[order]


def parse_series(values: pd.Series) -> pd.DataFrame:
    """Parse a column; returns columns kind, op, value, low, high, unit, text (index kept).
    Each distinct cell is normalised once and each distinct normalised text parsed once."""
    raw = values.to_numpy(dtype=object)
    codes, first = distinct_rows(raw)
    texts = pd.Series([normalise(raw[i]) for i in first], dtype=object) if len(first) else \
        values.iloc[:0].map(normalise)
    uniques = pd.unique(texts)
    parsed = {u: parse_value(u) for u in uniques}
    cols = ("kind", "op", "value", "low", "high", "unit", "text")
    table = pd.DataFrame([[getattr(parsed[u], c) for c in cols] for u in uniques],
                         columns=list(cols), index=uniques)
    out = table.iloc[table.index.get_indexer(texts.to_numpy())[codes]] if len(raw) else table.reindex(texts)
    out.index = values.index
    return out


def unit_factor(unit_from: str, unit_to: str) -> float | None:
    """Factor converting a number in `unit_from` into `unit_to`; None when incompatible.

    Units that are equal, or where one side has no unit, convert with factor 1; money units convert
    within their family (元 -> 万元: 1e-4) and a magnitude word scales its unit (万人次 -> 人次: 1e4).
    """
    if unit_from == unit_to or not unit_from or not unit_to:
        return 1.0
    a, b = UNIT_SCALES.get(unit_from), UNIT_SCALES.get(unit_to)
    if a and b and a[0] == b[0]:
        return a[1] / b[1]
    (fa, ua), (fb, ub) = split_magnitude(unit_from), split_magnitude(unit_to)
    if ua == ub and ua not in MONEY_UNITS:
        return fa / fb
    return None


_NAME_UNIT = re.compile(r"[（(]([^（）()]{1,8})[）)]\s*$")


def is_unit(token: str) -> bool:
    """A known unit, a magnitude word before one (万人次, 万亩), or a per-unit (元/人)."""
    factor, unit = split_magnitude(token)
    if unit in KNOWN_UNITS or (factor != 1 and unit == ""):
        return bool(unit) or factor != 1
    parts = unit.split("/")
    return len(parts) == 2 and all(split_magnitude(p)[1] in KNOWN_UNITS for p in parts)


def unit_in_name(name: str) -> str:
    """The unit an indicator name declares, e.g. '缴费人数（人）' -> '人'; '' when the brackets hold
    something else ('(总收入)', '（含补贴）')."""
    m = _NAME_UNIT.search(normalise(name))
    if not m:
        return ""
    token = fold_unit(m.group(1))
    return token if is_unit(token) else ""


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
