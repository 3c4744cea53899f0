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
