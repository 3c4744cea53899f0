"""Property tests: every spelling of the same quantity reads to the same (op, value, unit)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import cn2an
from hypothesis import given, settings
from hypothesis import strategies as st

from perfeval.notation import parse_value

SETTINGS = settings(max_examples=200, deadline=None)

UNITS = ["", "人", "人次", "个", "次", "户", "亩", "项", "场", "家", "吨", "公里"]
#: canonical op -> ways to write it (format strings around the quantity text)
OPERATORS = {
    None: ["{}"],
    "≥": ["≥{}", "≧{}", "⩾{}", ">={}", "＞＝{}", "≮{}", "不低于{}", "不少于{}", "大于等于{}", "达到{}", "{}以上",
          "{}及以上", "不得低于{}"],
    "≤": ["≤{}", "≦{}", "⩽{}", "<={}", "≯{}", "不超过{}", "不高于{}", "小于等于{}", "{}以内", "{}以下",
          "控制在{}以内"],
    "=": ["={}", "＝{}", "═{}", "﹦{}", "等于{}"],
    ">": [">{}", "＞{}", "﹥{}", "大于{}", "超过{}"],
    "<": ["<{}", "＜{}", "﹤{}", "小于{}", "低于{}"],
}
FULL_WIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")


def spellings(q: int, unit: str) -> list[str]:
    """Every way a sheet writes the integer quantity q with its unit."""
    out = [f"{q}{unit}", f"{q:,}{unit}", f"{q}{unit}".translate(FULL_WIDTH), f"{q:,}{unit}".translate(FULL_WIDTH),
           f"{cn2an.an2cn(q)}{unit}"]
    wan = format(Decimal(q).scaleb(-4).normalize(), "f")
    out.append(f"{wan}万{unit}")
    out.append(f"{wan}万{unit}".translate(FULL_WIDTH))
    return out


@SETTINGS
@given(q=st.integers(min_value=0, max_value=10**9), unit=st.sampled_from(UNITS),
       op=st.sampled_from(list(OPERATORS)), data=st.data())
def test_every_spelling_of_a_quantity_reads_the_same(q, unit, op, data):
    form = data.draw(st.sampled_from(OPERATORS[op]))
    for text in spellings(q, unit):
        m = parse_value(form.format(text))
        assert (m.kind, m.op, m.value, m.unit) == ("number", op, float(q), unit), form.format(text)


@SETTINGS
@given(whole=st.integers(min_value=0, max_value=100), tenths=st.integers(min_value=0, max_value=9),
       op=st.sampled_from(list(OPERATORS)), data=st.data())
def test_percentages_read_the_same(whole, tenths, op, data):
    form = data.draw(st.sampled_from(OPERATORS[op]))
    number = f"{whole}.{tenths}" if tenths else f"{whole}"
    texts = [f"{number}%", f"{number}％", f"{number}百分比", f"{number}﹪"]
    if not tenths:
        texts += [f"百分之{cn2an.an2cn(whole)}", f"{cn2an.an2cn(whole)}%"]
    for text in texts:
        m = parse_value(form.format(text))
        assert (m.kind, m.op, m.value, m.unit) == ("number", op, float(number), "%"), form.format(text)


@SETTINGS
@given(yuan=st.integers(min_value=0, max_value=10**12))
def test_money_reads_into_wanyuan_whatever_the_unit(yuan):
    d = Decimal(yuan)
    texts = [f"{yuan}元", f"{yuan:,}元", f"{format((d / 10**4).normalize(), 'f')}万元",
             f"{format((d / 10**8).normalize(), 'f')}亿元", f"{format((d / 10**3).normalize(), 'f')}千元"]
    expected = float(d / 10**4)
    for text in texts:
        m = parse_value(text)
        assert (m.kind, m.value, m.unit) == ("number", expected, "万元"), text


@SETTINGS
@given(digits=st.integers(min_value=310, max_value=2000))
def test_absurd_magnitudes_are_invalid(digits):
    assert parse_value("9" * digits).kind == "invalid"
    assert parse_value(f"≥{'1' * digits}人").kind == "invalid"


def _cn_date(d) -> str:
    digits = "〇一二三四五六七八九"
    year = "".join(digits[int(c)] for c in str(d.year))
    return f"{year}年{cn2an.an2cn(d.month)}月{cn2an.an2cn(d.day)}日"


@SETTINGS
@given(d=st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)),
       before=st.sampled_from(["", "前", "之前", "以前", "前完成"]))
def test_every_spelling_of_a_date_reads_the_same(d, before):
    texts = [f"{d.year}年{d.month}月{d.day}日", f"{d.year}年{d.month:02d}月{d.day:02d}日", d.isoformat(),
             f"{d.year}.{d.month}.{d.day}", f"{d.year}/{d.month}/{d.day}", f"{d.year}年{d.month}月{d.day}号",
             f"{d.year}年{d.month}月{d.day}日".translate(FULL_WIDTH), _cn_date(d)]
    for text in texts:
        m = parse_value(text + before)
        assert (m.kind, m.op, m.value, m.low, m.high) == ("date", "≤" if before else None, float(d.toordinal()),
                                                          float(d.toordinal()), float(d.toordinal())), text + before
