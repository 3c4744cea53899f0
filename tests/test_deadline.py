"""时效 (deadline) indicators: dates and completion statuses read, resolved with the project's year,
scored by date arithmetic, and located errors where a deadline cannot be scored."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import openpyxl
import pytest

import perfeval
from perfeval.deadline import date_text, read_date, read_status
from perfeval.notation import parse_value
from perfeval.rules import infer_rule, resolve_method
from perfeval.sheets.indicators import DEADLINE_ACTUAL, DEADLINE_TARGET

ROW = 11  # 社会化人员社保金缴费人数（人）, weight 4, in the reference project (year 2022)
W = 4.0


def day(y: int, m: int, d: int) -> float:
    return float(date(y, m, d).toordinal())


@pytest.mark.parametrize(
    ("text", "op", "low", "high"),
    [
        ("2024年12月31日前", "≤", day(2024, 12, 31), day(2024, 12, 31)),
        ("2024年12月31日之前", "≤", day(2024, 12, 31), day(2024, 12, 31)),
        ("2024.12.31前", "≤", day(2024, 12, 31), day(2024, 12, 31)),
        ("2024-12-31", None, day(2024, 12, 31), day(2024, 12, 31)),
        ("２０２４年１２月３１日前", "≤", day(2024, 12, 31), day(2024, 12, 31)),
        ("二〇二四年十二月三十一日前", "≤", day(2024, 12, 31), day(2024, 12, 31)),
        ("2024年12月31日前完成", "≤", day(2024, 12, 31), day(2024, 12, 31)),
        ("2024年11月20日", None, day(2024, 11, 20), day(2024, 11, 20)),
        ("于2024年11月20日完成", None, day(2024, 11, 20), day(2024, 11, 20)),
        ("2024年11月", None, day(2024, 11, 1), day(2024, 11, 30)),
        ("2024年底前", "≤", day(2024, 12, 31), day(2024, 12, 31)),
        ("2024年第三季度", None, day(2024, 7, 1), day(2024, 9, 30)),
    ],
)
def test_dates_with_a_year(text, op, low, high):
    m = parse_value(text)
    assert (m.kind, m.op, m.low, m.high, m.value, m.unit) == ("date", op, low, high, high, "日期")


@pytest.mark.parametrize(
    ("text", "op", "low", "high"),
    [
        ("12月底前", "≤", day(2022, 12, 31), day(2022, 12, 31)),
        ("年底前", "≤", day(2022, 12, 31), day(2022, 12, 31)),
        ("年内", "≤", day(2022, 1, 1), day(2022, 12, 31)),
        ("第三季度", None, day(2022, 7, 1), day(2022, 9, 30)),
        ("三季度末前", "≤", day(2022, 9, 30), day(2022, 9, 30)),
        ("上半年", None, day(2022, 1, 1), day(2022, 6, 30)),
        ("11月20日", None, day(2022, 11, 20), day(2022, 11, 20)),
        ("11月份", None, day(2022, 11, 1), day(2022, 11, 30)),
    ],
)
def test_dates_without_a_year_take_the_projects_year(text, op, low, high):
    m = parse_value(text)
    assert m.kind == "date" and m.op == op and math.isnan(m.value)  # resolved in evaluate
    r = read_date(text, 2022)
    assert (r.op, r.low, r.high) == (op, low, high)


def test_bare_month_is_a_duration_unless_the_target_is_a_date():
    assert (parse_value("11月").kind, parse_value("11月").unit) == ("number", "月")
    assert read_date("11月", 2022) is None
    r = read_date("11月", 2022, bare_month=True)
    assert (r.low, r.high) == (day(2022, 11, 1), day(2022, 11, 30))
    m = parse_value("≤12个月")
    assert (m.kind, m.op, m.value, m.unit) == ("number", "≤", 12, "月")


@pytest.mark.parametrize("text", ["按期", "按时", "及时", "如期", "按期完成"])
def test_deadline_words_without_a_date(text):
    m = parse_value(text)
    assert m.kind == "date" and m.op == "≤" and math.isnan(m.value)
    assert read_date(text, 2022).dateless


@pytest.mark.parametrize(
    ("text", "status", "months"),
    [
        ("提前完成", "on_time", 0.0), ("按时完成", "on_time", 0.0), ("按期完成", "on_time", 0.0),
        ("已完成", "on_time", 0.0), ("延期完成", "late", math.nan), ("未按期完成", "late", math.nan),
        ("延期2个月", "late", 2.0), ("延期两个月", "late", 2.0), ("逾期15天", "late", 1.0),
        ("推迟45天完成", "late", 2.0), ("延期半年", "late", 6.0), ("未完成", "missed", math.nan),
    ],
)
def test_completion_statuses(text, status, months):
    got = read_status(text)
    assert got[0] == status
    assert (math.isnan(got[1]) and math.isnan(months)) or got[1] == months


def test_texts_that_say_nothing_about_timing():
    assert read_status("有效提升") is None
    assert read_date("有效提升") is None
    assert read_date("年底开展自评") is None


def test_date_text_reads_back():
    assert date_text(day(2024, 12, 31), day(2024, 12, 31)) == "2024年12月31日"
    assert date_text(day(2024, 11, 1), day(2024, 11, 30)) == "2024年11月"
    assert date_text(day(2024, 7, 1), day(2024, 9, 30)) == "2024年第三季度"
    assert date_text(day(2024, 1, 1), day(2024, 12, 31)) == "2024年"
    assert date_text(math.nan, math.nan) == ""


def test_rule_is_inferred_and_named():
    for alias in ("时效", "时限", "完成时限", "按期", "deadline"):
        assert resolve_method(alias) == "deadline"
    assert infer_rule("完工时间", "完成及时性", parse_value("2024年12月31日前"), parse_value("2024年11月20日")) \
        == "deadline"
    assert infer_rule("完工时间", "完成及时性", parse_value("年底前"), parse_value("按期完成")) == "deadline"
    assert infer_rule("项目周期", "完成及时性", parse_value("≤12个月"), parse_value("11个月")) == "negative"


def _row(project, target, actual, method="", **options):
    ev = perfeval.evaluate(project.with_indicator(ROW, target=target, actual=actual, method=method),
                           options=options or None)
    return ev.indicators.iloc[ROW], ev


@pytest.mark.parametrize(
    ("target", "actual", "score", "late_days", "late_months"),
    [
        ("2024年12月31日前", "2024年11月20日", W, 0.0, 0.0),
        ("2024年12月31日前", "2024年12月31日", W, 0.0, 0.0),
        ("2024年12月31日前", "2025年2月10日", W * 0.8, 41.0, 2.0),  # 41 days: 2 months (不足一月按一月)
        ("12月底前", "11月", W, 0.0, 0.0),  # month-only actual: compared by month
        ("12月底前", "12月", W, 0.0, 0.0),
        ("12月底前", "2023年1月", W * 0.9, 1.0, 1.0),
        ("第三季度", "10月", W * 0.9, 1.0, 1.0),
        ("年内", "2022年6月30日", W, 0.0, 0.0),
        ("12月底前", "延期2个月", W * 0.8, math.nan, 2.0),
        ("年底前", "延期完成", W * 0.7, math.nan, math.nan),  # unstated delay: 部分达成
        ("年底前", "未按期完成", W * 0.7, math.nan, math.nan),
        ("年底前", "提前完成", W, math.nan, 0.0),
        ("按期", "按期完成", W, math.nan, 0.0),
        ("按时", "按时完成", W, math.nan, 0.0),
        ("及时", "未完成", 0.0, math.nan, math.nan),
        ("年内", "达成预期指标", W, math.nan, math.nan),  # says nothing about timing: graded as text
    ],
)
def test_deadline_scores(reference_project, target, actual, score, late_days, late_months):
    r, _ = _row(reference_project, target, actual)
    assert r.rule == "deadline" and r.rule_label == "时效"
    assert r.score == pytest.approx(score)
    for got, want in ((r.late_days, late_days), (r.late_months, late_months)):
        assert (math.isnan(got) and math.isnan(want)) or got == want
    assert math.isnan(r.completion) and math.isnan(r.deviation)


def test_the_frame_carries_dates_for_the_report(reference_project):
    r, _ = _row(reference_project, "12月底前", "11月")
    assert (r.target_kind, r.actual_kind, r.target_unit, r.actual_unit) == ("date", "date", "日期", "日期")
    assert (r.target_value, r.target_low, r.target_high) == (day(2022, 12, 31),) * 3
    assert (r.actual_value, r.actual_low, r.actual_high) == (day(2022, 11, 1), day(2022, 11, 1), day(2022, 11, 30))
    assert date_text(r.actual_low, r.actual_high) == "2022年11月"
    r, _ = _row(reference_project, "2024年12月31日前", "2025年1月5日")
    assert (r.actual_kind, r.actual_value) == ("date", day(2025, 1, 5))
    r, _ = _row(reference_project, "年底前", "按期完成")
    assert (r.target_kind, r.actual_kind) == ("date", "text") and math.isnan(r.actual_value)


def test_month_only_actual_takes_the_deadlines_year(reference_project):
    r, _ = _row(reference_project, "2024年6月30日前", "5月")
    assert r.actual_value == day(2024, 5, 1) and r.score == W


def test_late_rule_options(reference_project):
    r, _ = _row(reference_project, "12月底前", "延期2个月", late_rule="zero")
    assert r.score == 0
    r, _ = _row(reference_project, "12月底前", "延期完成", late_rule="zero")
    assert r.score == 0
    r, _ = _row(reference_project, "12月底前", "延期2个月", late_deduction_per_month=0.25)
    assert r.score == W * 0.5
    r, _ = _row(reference_project, "12月底前", "延期20个月")
    assert r.score == 0  # never below 0
    r, _ = _row(reference_project, "12月底前", "延期完成", late_unknown_fraction=0.6)
    assert r.score == pytest.approx(W * 0.6)
    with pytest.raises(perfeval.SchemeError):
        perfeval.load_scheme("third_party").options.updated(late_rule="lenient")


def test_qualitative_method_with_a_date_target_is_scored_by_text(reference_project):
    r, _ = _row(reference_project, "2024年12月31日前", "按时完成", method="定性")
    assert r.rule == "qualitative" and r.score == W


def test_reference_unchanged(reference_evaluation):
    assert reference_evaluation.total == 98.94 and len(reference_evaluation.findings) == 16


# --- validation: a deadline that cannot be scored is a located error --------------------------------

def _validate(path: Path, target, actual, method=None):
    book = openpyxl.load_workbook(path)
    sheet = book["指标"]
    sheet.cell(13, 6, target)
    sheet.cell(13, 7, actual)
    sheet.cell(13, 8, method)
    book.save(path)
    return perfeval.validate_paths([path])


@pytest.mark.parametrize(
    ("target", "actual", "method"),
    [
        ("2024年12月31日前", "2024年11月20日", None),
        ("2024年12月31日之前", "11月", None),
        ("2024.12.31前", "提前完成", None),
        ("12月底前", "按期完成", None),
        ("年底前", "延期2个月", None),
        ("第三季度", "2024年9月", None),
        ("三季度末前", "已完成", None),
        ("按期", "按期完成", None),
        ("及时", "及时", None),
        ("2024年12月31日前", "2024年11月20日", "时效"),
        ("2024年12月31日前", "按时完成", "定性"),
    ],
)
def test_deadlines_validate(reference_copy, target, actual, method):
    assert _validate(reference_copy, target, actual, method) == []


def test_deadline_with_a_count_as_actual_is_located(reference_copy):
    (p,) = _validate(reference_copy, "2024年12月31日前", "24人")
    assert (p.row, p.column, p.value, p.expected) == (13, "实际完成值", "24人", DEADLINE_ACTUAL)


def test_dateless_deadline_with_a_date_is_located(reference_copy):
    (p,) = _validate(reference_copy, "按期", "2024年11月20日")
    assert (p.row, p.column, p.value) == (13, "实际完成值", "2024年11月20日")
    assert "未写明期限" in p.expected


def test_deadline_method_needs_a_deadline(reference_copy):
    (p,) = _validate(reference_copy, "≥24人", "24人", "时效")
    assert (p.row, p.column, p.value, p.expected) == (13, "指标值", "≥24人", DEADLINE_TARGET)


def test_numeric_rule_with_a_date_actual_is_located(reference_copy):
    (p,) = _validate(reference_copy, "≤12个月", "2024年11月20日")
    assert (p.row, p.column) == (13, "实际完成值") and "数值" in p.expected


def test_excel_date_cells(reference_copy, reference_project):
    from datetime import datetime

    from perfeval.notation import normalise

    assert normalise(datetime(2024, 11, 20)) == "2024-11-20"
    assert parse_value("2024-11-20 00:00:00").value == day(2024, 11, 20)
    book = openpyxl.load_workbook(reference_copy)
    book["指标"].cell(13, 6, "2024年12月31日前")
    book["指标"].cell(13, 7, datetime(2024, 11, 20))
    book.save(reference_copy)
    assert perfeval.validate_paths([reference_copy]) == []
    ev = perfeval.evaluate(perfeval.load_project(reference_copy))
    r = ev.indicators.iloc[ROW]
    assert (r.actual_kind, r.actual_value, r.score) == ("date", day(2024, 11, 20), W)
