"""Deadlines (时效): read dates and completion statuses as evaluators write them.

A date is a span of days, as proleptic ordinals (`datetime.date.toordinal`):

- a day (`2024年11月20日`, `2024-12-31`, `2024.12.31`) spans that one day;
- a month (`2024年11月`, `12月底`, `11月份`) spans the month, a quarter (`第三季度`) the quarter,
  a half year (`上半年`) or a year (`年内`, `2024年`) likewise; `年底`/`年末` is 12月31日.

A *target* date is a deadline: it is met by any completion up to the span's last day (`high`), so
`12月底前`, `第三季度` and `三季度末前` all mean "by the last day of that period". An *actual* date is
the earliest day its text allows (`low`): `11月` reads as completed in November, so a month-only actual
is compared with a deadline by month (on time when its month is not after the deadline's month) and,
when late, is late by the days from the deadline to the first of that month.

A date written without a year (`12月底前`, `年底前`, `11月20日`) is resolved with the year of the
project (`read_date(text, year)`; without a year its span is NaN). A bare month (`11月`) is a duration
of 11 months unless the target is a date (`bare_month=True`); `≤12个月` is always a duration.

Deadline words without a date (`按期`, `按时`, `及时`, `如期`) are deadlines whose day the sheet does
not state; such a target is scored from the actual's status (`按期完成`, `延期2个月` …).

Months late: `ceil(days late / 30)` — "不足一个月按一个月计", the usual wording of per-month deductions.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

#: unit of a date Measure
DATE_UNIT = "日期"
#: deadline words that state no date (a target "按期" is met by 按期完成)
DATELESS = frozenset({"按期", "按时", "及时", "如期", "准时", "按计划", "按期完成", "按时完成", "及时完成",
                      "如期完成", "按计划完成", "按计划进度完成", "按进度完成"})
#: days per month when a delay in days is turned into months (不足一个月按一个月计)
DAYS_PER_MONTH = 30

_CN_DIGITS = "零〇一二两三四五六七八九十"
_CN_RUN = re.compile(rf"[{_CN_DIGITS}]+(?=[年月日号季])")
_PREFIX = re.compile(r"^(?:已于|已在|已|于|在|截至|截止|截止到|截至到|到)")
_VERB = re.compile(r"(?:全部|全面|按期|如期)?(?:完成|完工|竣工|办结|结束|实施完毕|完毕|验收|到位|拨付|发放|交付|上线)$")
_BEFORE = re.compile(r"(?:之前|以前|前|以内|之内|内|止|为止)$")
_YEAR = r"(?P<y>(?:19|20|21)\d{2})"
_SEP = r"[.\-/]"

_DAY = re.compile(rf"^{_YEAR}(?:年(?P<m>\d{{1,2}})月(?P<d>\d{{1,2}})[日号]?"
                  rf"|{_SEP}(?P<m2>\d{{1,2}}){_SEP}(?P<d2>\d{{1,2}}))$")
_MONTH_DAY = re.compile(r"^(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号]$")
_MONTH = re.compile(rf"^(?:{_YEAR}(?:年|{_SEP}))?(?P<m>\d{{1,2}})(?:月(?P<part>底|末|份|上旬|中旬|下旬)?)$")
_QUARTER = re.compile(rf"^(?:{_YEAR}年)?(?:第)?(?P<q>[1-4])季度(?P<end>末|底)?$")
_HALF = re.compile(rf"^(?:{_YEAR}年)?(?:度)?(?P<h>上半年|下半年|年中)(?P<end>末|底)?$")
_YEAR_ONLY = re.compile(rf"^{_YEAR}年(?:度)?(?P<part>底|末|年底|年末|内|度内)?$")
_THIS_YEAR = re.compile(r"^(?:本|当|今)?(?:年度?)(?:底|末|内)$|^(?:本|当|今)年度?$")

_STATUS_LATE = ("未按期", "未按时", "未如期", "未及时", "不及时", "延期", "延迟", "逾期", "推迟", "滞后",
                "超期", "拖延", "晚于")
_STATUS_PARTIAL = ("部分完成", "基本完成", "大部分完成")
_STATUS_MISSED = ("未完成", "尚未完成", "未实施", "未开工", "未启动", "未交付", "未验收")
_STATUS_ON_TIME = ("提前", "按期", "按时", "如期", "准时", "及时", "已完成", "全部完成", "完成")
_DELAY = re.compile(r"(?P<n>\d+(?:\.\d+)?|半)(?P<u>个月|月|天|日|周|年)")


@dataclass(frozen=True)
class DateRead:
    """A date as the sheet writes it: op (≤ for 前/之前/底前/内, None for a bare date) and the span of
    days it covers (NaN when it needs a year it was not given, or states no date at all)."""

    op: str | None
    low: float = math.nan
    high: float = math.nan
    dateless: bool = False

    @property
    def resolved(self) -> bool:
        return not math.isnan(self.high)


def _cn_digits(m: re.Match) -> str:
    """The Chinese numeral `m` matched, in Arabic digits (unchanged when cn2an cannot read it)."""
    import cn2an  # 0.1 s to import: only when a date is spelled in Chinese numerals

    try:
        return str(int(cn2an.cn2an(m.group(0), "normal")))
    except (ValueError, KeyError):
        return m.group(0)


def _cn_to_digits(text: str) -> str:
    """二〇二四年十二月三十一日 -> 2024年12月31日 (numerals before 年/月/日/号/季 only)."""
    if not any(c in _CN_DIGITS for c in text):
        return text

    return _CN_RUN.sub(_cn_digits, text)


def _span(year: int, first: tuple[int, int], last: tuple[int, int]) -> tuple[float, float]:
    (m1, d1), (m2, d2) = first, last
    d1, d2 = min(d1, calendar.monthrange(year, m1)[1]), min(d2, calendar.monthrange(year, m2)[1])
    return float(date(year, m1, d1).toordinal()), float(date(year, m2, d2).toordinal())


def _month_span(year: int, month: int, part: str | None) -> tuple[float, float]:
    end = calendar.monthrange(year, month)[1]
    first, last = {"上旬": (1, 10), "中旬": (11, 20), "下旬": (21, end)}.get(part or "", (1, end))
    if part in ("底", "末", "末前"):
        first = end
    return _span(year, (month, first), (month, last))


def _core(body: str, year: int | None, bare_month: bool) -> tuple[float, float] | None:
    """The span of a date text without prefix/verb/op words; (nan, nan) when a year is needed;
    None when the text is not a date."""
    need = (math.nan, math.nan)
    if m := _DAY.match(body):
        y, mo, d = int(m["y"]), int(m["m"] or m["m2"]), int(m["d"] or m["d2"])
        try:
            day = float(date(y, mo, d).toordinal())
        except ValueError:
            return None
        return day, day
    if m := _MONTH_DAY.match(body):
        mo, d = int(m["m"]), int(m["d"])
        if not (1 <= mo <= 12 and 1 <= d <= 31):
            return None
        if year is None:
            return need
        try:
            day = float(date(year, mo, d).toordinal())
        except ValueError:
            return None
        return day, day
    if m := _MONTH.match(body):
        mo = int(m["m"])
        # a bare "11月" is a duration unless the target is a date; "2024.11" needs its year too
        if not 1 <= mo <= 12 or (m["y"] is None and m["part"] is None and not bare_month):
            return None
        y = int(m["y"]) if m["y"] else year
        return need if y is None else _month_span(y, mo, m["part"])
    if m := _QUARTER.match(body):
        q = int(m["q"])
        y = int(m["y"]) if m["y"] else year
        first = (3 * q, 31) if m["end"] else (3 * q - 2, 1)
        return need if y is None else _span(y, first, (3 * q, 31))
    if m := _HALF.match(body):
        y = int(m["y"]) if m["y"] else year
        first, last = {"上半年": ((1, 1), (6, 30)), "下半年": ((7, 1), (12, 31)),
                       "年中": ((6, 30), (6, 30))}[m["h"]]
        return need if y is None else _span(y, last if m["end"] else first, last)
    if m := _YEAR_ONLY.match(body):
        y = int(m["y"])
        return _span(y, (12, 31), (12, 31)) if m["part"] in ("底", "末", "年底", "年末") else _span(
            y, (1, 1), (12, 31))
    if _THIS_YEAR.match(body):
        if year is None:
            return need
        end = body.endswith(("底", "末"))
        return _span(year, (12, 31) if end else (1, 1), (12, 31))
    return None


@lru_cache(maxsize=1 << 14)
def read_date(text: str, year: int | None = None, bare_month: bool = False) -> DateRead | None:
    """A date or deadline text (already `normalise`d) -> DateRead; None when it is not one.

    `year` resolves texts without a year; `bare_month` reads "11月" as November (when the target
    is a date) rather than a duration of 11 months.
    """
    body = re.sub(r"[ T]00:00(?::00)?$", "", text).replace(" ", "")  # a date cell exported with its time
    if body in DATELESS:
        return DateRead("≤", dateless=True)
    if not re.search(r"[年月日号季]|\d[.\-/]\d", body):
        return None
    body = _cn_to_digits(body)
    body = _PREFIX.sub("", body)
    body = _VERB.sub("", body)
    op = None
    if (m := _BEFORE.search(body)) and body != m.group(0):
        core = body[: m.start()]
        # "年内"/"年底前": the op word belongs to the date only when what is left is still a date
        if _core(core, year, bare_month) is not None or core in ("年", "年度", "本年", "本年度", "当年"):
            op, body = "≤", core + ("内" if core in ("年", "年度", "本年", "本年度", "当年") else "")
    span = _core(body, year, bare_month)
    if span is None:
        return None
    return DateRead(op, *span)


def date_text(low: float, high: float) -> str:
    """How a date span reads back: '2024年12月31日', '2024年11月', '2024年第三季度', '2024年'; '' for NaN."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    a, b = date.fromordinal(int(low)), date.fromordinal(int(high))
    if a == b:
        return f"{a.year}年{a.month}月{a.day}日"
    last = calendar.monthrange(b.year, b.month)[1]
    if a.day == 1 and b.day == last and a.year == b.year:
        if a.month == b.month:
            return f"{a.year}年{a.month}月"
        if (a.month, b.month) == (1, 12):
            return f"{a.year}年"
        if b.month - a.month == 2 and a.month % 3 == 1:
            return f"{a.year}年第{'一二三四'[a.month // 3]}季度"
        if b.month - a.month == 5 and a.month in (1, 7):
            return f"{a.year}年{'上' if a.month == 1 else '下'}半年"
    return f"{a.isoformat()}至{b.isoformat()}"


@lru_cache(maxsize=1 << 14)
def read_status(text: str) -> tuple[str, float] | None:
    """A completion status written as text -> (status, months late).

    status: ``on_time`` (提前/按期/按时完成, 已完成), ``late`` (延期/逾期/未按期 …; months from
    "延期2个月", "逾期15天" → 1, NaN when not stated) or ``missed`` (未完成). None when the text
    says nothing about timing.
    """
    body = text.replace(" ", "")
    if not body:
        return None
    if any(w in body for w in _STATUS_LATE):
        m = _DELAY.search(_cn_delay(body))
        if not m:
            return "late", math.nan
        n = 0.5 if m["n"] == "半" else float(m["n"])
        days = {"天": n, "日": n, "周": 7 * n}.get(m["u"])
        months = 12 * n if m["u"] == "年" else math.ceil(days / DAYS_PER_MONTH) if days is not None else n
        return "late", float(math.ceil(months - 1e-9)) if months > 0 else 0.0
    if any(w in body for w in _STATUS_PARTIAL):
        return "late", math.nan
    if any(w in body for w in _STATUS_MISSED):
        return "missed", math.nan
    if any(w in body for w in _STATUS_ON_TIME):
        return "on_time", 0.0
    return None


def _cn_delay(body: str) -> str:
    """延期两个月 -> 延期2个月."""
    return re.sub(rf"[{_CN_DIGITS}]+(?=个?月|天|日|周|年)", _cn_digits, body)


def months_late(days_late: float) -> float:
    """Days late -> whole months late (不足一个月按一个月计); 0 when on time."""
    return float(math.ceil(days_late / DAYS_PER_MONTH)) if days_late > 0 else 0.0
