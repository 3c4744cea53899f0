import math

import pytest

from perfeval.notation import (
    fold_unit,
    parse_amount,
    parse_rate,
    parse_value,
    split_weight,
    unit_factor,
    unit_in_name,
)


@pytest.mark.parametrize(
    ("text", "op", "value", "unit"),
    [
        ("≥24人", "≥", 24, "人"),
        ("＝100%", "=", 100, "%"),
        ("=100％", "=", 100, "%"),
        ("≤33.46万元", "≤", 33.46, "万元"),
        ("＞90%", ">", 90, "%"),
        ("≧95%", "≥", 95, "%"),
        ("≦10次", "≤", 10, "次"),
        ("不低于95%", "≥", 95, "%"),
        ("不少于17人", "≥", 17, "人"),
        ("达到100%", "≥", 100, "%"),
        ("不高于5%", "≤", 5, "%"),
        ("不超过10次", "≤", 10, "次"),
        ("控制在90万元以内", "≤", 90, "万元"),
        ("95%以上", "≥", 95, "%"),
        (">=2年", "≥", 2, "年"),
        ("≤12个月", "≤", 12, "月"),
        ("≥100百分比", "≥", 100, "%"),
        ("24名", None, 24, "人"),
        ("１２次", None, 12, "次"),
        ("1,200户", None, 1200, "户"),
    ],
)
def test_operators_numbers_and_units(text, op, value, unit):
    m = parse_value(text)
    assert m.kind == "number"
    assert (m.op, m.value, m.unit) == (op, value, unit)


@pytest.mark.parametrize(
    ("text", "low", "high", "unit"),
    [("80%-90%", 80, 90, "%"), ("3~5个", 3, 5, "个"), ("3～5个", 3, 5, "个"), ("[80,90]", 80, 90, "")],
)
def test_ranges(text, low, high, unit):
    m = parse_value(text)
    assert (m.kind, m.low, m.high, m.unit) == ("range", low, high, unit)


@pytest.mark.parametrize("text", ["", "—", "——", "/", "*", "-", "  ", "N/A"])
def test_placeholders_are_empty(text):
    assert parse_value(text).kind == "empty"


@pytest.mark.parametrize("text", ["有效提升", "达成预期指标", "在项目计划完成时间内完成", "一般", "十分满意", "三同时"])
def test_qualitative_text(text):
    assert parse_value(text).kind == "text"


@pytest.mark.parametrize("text", ["≈24人", "≥很多", "≠5次", "不低于若干"])
def test_unknown_or_broken_operators_are_invalid(text):
    assert parse_value(text).kind == "invalid"


def test_checklist_fraction():
    m = parse_value("4/5")
    assert m.kind == "checklist" and m.value == pytest.approx(0.8)


def test_units_fold_and_convert():
    assert fold_unit("百分比") == "%"
    assert unit_factor("元", "万元") == pytest.approx(1e-4)
    assert unit_factor("人", "次") is None
    assert unit_factor("", "次") == 1.0
    assert unit_in_name("社会化人员社保金缴费人数（人）") == "人"


def test_header_weights_amounts_and_rates():
    assert split_weight("产出指标(40分)") == ("产出指标", 40.0)
    assert split_weight("产出指标（40分）") == ("产出指标", 40.0)
    assert split_weight("决策") == ("决策", None)
    assert parse_amount("33.46万元") == (pytest.approx(33.46), "")
    assert parse_amount("334600元")[0] == pytest.approx(33.46)
    assert parse_amount("很多")[1]
    assert parse_rate("95.6%") == pytest.approx(0.956)
    assert parse_rate(0.956) == pytest.approx(0.956)
    assert parse_rate("abc") is None
    assert math.isnan(parse_value("有效提升").value)


def test_numeric_cells_keep_their_digits():
    from perfeval.notation import normalise

    assert normalise(1234567.5) == "1234567.5"  # no exponent, no lost digits
    assert normalise(28 / 3) == "9.33333333333333"
    assert normalise(33.46) == "33.46" and normalise(0.1 + 0.2) == "0.3"
    assert parse_amount(1234567.5)[0] == pytest.approx(1234567.5)


# --- issue 8: numbers as people write them -------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "op", "value", "unit"),
    [
        # magnitude words join the number, whatever the unit
        ("3.65万人次", None, 36500, "人次"),
        ("≥3.6万人次", "≥", 36000, "人次"),
        ("1.2万亩", None, 12000, "亩"),
        ("3千人", None, 3000, "人"),
        ("2万", None, 20000, ""),
        ("1.5亿人次", None, 150_000_000, "人次"),
        # money reads into 万元, exactly
        ("0.5亿元", None, 5000, "万元"),
        ("334600元", None, 33.46, "万元"),
        ("≤33.46万元", "≤", 33.46, "万元"),
        ("五千万元", None, 5000, "万元"),
        # units that begin with a magnitude character stay units
        ("5千米", None, 5, "千米"),
        ("20千克", None, 20, "千克"),
        ("≥100百分比", "≥", 100, "%"),
        ("3个百分点", None, 3, "%"),
        # Chinese numerals
        ("三万六千五百人次", None, 36500, "人次"),
        ("九十五%", None, 95, "%"),
        ("百分之九十五", None, 95, "%"),
        ("不低于百分之九十五", "≥", 95, "%"),
        ("两千", None, 2000, ""),
        ("一百二十个", None, 120, "个"),
        ("零", None, 0, ""),
        ("≥三万人次", "≥", 30000, "人次"),
        ("不少于十二次", "≥", 12, "次"),
        # separators and full width
        ("36,500", None, 36500, ""),
        ("3，650", None, 3650, ""),
        ("３６５００人次", None, 36500, "人次"),
        ("３．６５万人次", None, 36500, "人次"),
        # every operator glyph seen in published tables
        ("═100%", "=", 100, "%"),
        ("﹦100%", "=", 100, "%"),
        ("＝100%", "=", 100, "%"),
        ("≧95%", "≥", 95, "%"),
        ("≦5次", "≤", 5, "次"),
        ("⩾95%", "≥", 95, "%"),
        ("⩽5次", "≤", 5, "次"),
        ("＞90%", ">", 90, "%"),
        ("＜5%", "<", 5, "%"),
        ("﹥90%", ">", 90, "%"),
        ("≮95%", "≥", 95, "%"),
        ("≯5次", "≤", 5, "次"),
        ("大于等于95%", "≥", 95, "%"),
        ("不得低于95%", "≥", 95, "%"),
        ("95%(含)以上", "≥", 95, "%"),
        ("95%（含）以上", "≥", 95, "%"),
        ("不超过10次", "≤", 10, "次"),
        ("控制在90万元以内", "≤", 90, "万元"),
    ],
)
def test_numbers_as_people_write_them(text, op, value, unit):
    m = parse_value(text)
    assert m.kind == "number", m
    assert (m.op, m.unit) == (op, unit)
    assert m.value == pytest.approx(value, rel=1e-12)


def test_same_quantity_spelled_two_ways_is_equal():
    assert parse_value("3.65万人次").value == parse_value("36500人次").value == parse_value("三万六千五百人次").value
    assert parse_value("0.5亿元").value == parse_value("5000万元").value == parse_value("50000000元").value


def test_ranges_with_magnitude_words():
    m = parse_value("3-5万人次")
    assert (m.kind, m.low, m.high, m.unit) == ("range", 30000, 50000, "人次")


@pytest.mark.parametrize(
    "text",
    [
        "1" + "0" * 400,  # overflows to inf
        "≥" + "9" * 400 + "人",
        "###",  # Excel's "column too narrow"
        "#REF!", "#DIV/0!", "#N/A",
        "inf", "nan",
        "95%%",  # stray symbol after the number
        "95#",
        "1 200人",  # a number attempt that cannot be read
        "约95%", "95%左右", "100多人",  # a target is not "about" a number
    ],
)
def test_unreadable_number_attempts_are_invalid(text):
    assert parse_value(text).kind == "invalid"


def test_unit_in_name_accepts_units_only():
    assert unit_in_name("营业收入（总收入）") == ""
    assert unit_in_name("营业收入(总收入)") == ""
    assert unit_in_name("补助发放（含补贴）") == ""
    assert unit_in_name("培训人数（人）") == "人"
    assert unit_in_name("参观人数(人次)") == "人次"
    assert unit_in_name("观众人数（万人次）") == "万人次"
    assert unit_in_name("覆盖率（%）") == "%"
    assert unit_in_name("覆盖率（％）") == "%"
    assert unit_in_name("资金（万元）") == "万元"
    assert unit_in_name("改造面积（㎡）") == "㎡"
    assert unit_in_name("改造面积（平方米）") == "㎡"
    assert unit_in_name("种植面积（万亩）") == "万亩"
    assert unit_in_name("补助标准（元/人）") == "元/人"
    assert unit_in_name("缴费种类（种）") == "种"


def test_magnitude_units_convert():
    assert unit_factor("万人次", "人次") == 1e4
    assert unit_factor("人次", "万人次") == pytest.approx(1e-4)
    assert unit_factor("亿元", "万元") == 1e4
    assert unit_factor("万亩", "人") is None
