"""Issue 8 notation cases end to end: what validation says, what scoring gives, what the workbench shows."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

import perfeval
from perfeval.sheets.indicators import INVALID_ACTUAL, INVALID_TARGET
from perfeval.workbench import whatif

ROW = 11  # 社会化人员社保金缴费人数（人）, weight 4 (Excel row 13)
TIMELY = 15  # 社保金缴费资金及时发放率（%）, weight 10, "=100%" / "96%" -> 9.6 (Excel row 17)


def _edit(path: Path, row: int, **cells) -> list:
    book = openpyxl.load_workbook(path)
    sheet = book["指标"]
    columns = {"name": 4, "target": 6, "actual": 7, "method": 8}
    for key, value in cells.items():
        sheet.cell(row, columns[key], value)
    book.save(path)
    return perfeval.validate_paths([path])


def _scored(project, index=ROW, **values):
    ev = perfeval.evaluate(project.with_indicator(index, **values))
    return ev.indicators.iloc[index], ev


def test_wan_form_actual_against_a_plain_target(reference_copy, reference_project):
    assert _edit(reference_copy, 13, target="≥36000人次", actual="3.65万人次") == []
    r, ev = _scored(reference_project, target="≥36000人次", actual="3.65万人次")
    assert (r.actual_value, r.actual_unit, r.score) == (36500, "人次", 4.0)
    assert ev.grade == "优"


def test_wan_form_target_against_a_plain_actual(reference_project):
    r, ev = _scored(reference_project, target="≥3.6万人次", actual="34200人次")
    assert r.completion == pytest.approx(0.95) and r.score == 3.8
    assert not r.over_achieved
    assert not ev.findings["message"].str.contains("950000%").any()


@pytest.mark.parametrize("typed", ["三万六千五百人次", "3.65万人次", "36,500人次", "３６５００人次"])
def test_workbench_reads_every_spelling(reference_project, typed):
    base = reference_project.with_indicator(ROW, target="≥36000人次", actual="30000人次")
    ev = whatif.Scenario(base).edit(ROW, actual=typed).evaluate()
    assert ev.indicators.iloc[ROW]["score"] == 4.0 and ev.indicators.iloc[ROW]["actual_value"] == 36500


@pytest.mark.parametrize("target", ["═100%", "﹦100%", "＝100％"])
def test_published_equals_signs(reference_copy, reference_project, reference_evaluation, target):
    assert _edit(reference_copy, 17, target=target) == []
    r, ev = _scored(reference_project, TIMELY, target=target)
    assert (r.target_kind, r.target_op, r.target_value, r.rule) == ("number", "=", 100, "exact")
    assert r.score == 9.6 and ev.total == reference_evaluation.total
    assert len(ev.findings) == len(reference_evaluation.findings)


def test_percent_in_words_against_a_ratio(reference_project):
    r, _ = _scored(reference_project, TIMELY, target="不低于百分之九十五", actual=0.96)
    assert (r.target_value, r.actual_value, r.actual_unit, r.score) == (95, 96, "%", 10)
    r, _ = _scored(reference_project, TIMELY, target="≥100百分比", actual=0.96)
    assert (r.actual_value, r.score) == (96, 9.6)


def test_hashes_as_a_target_are_located(reference_copy):
    (p,) = _edit(reference_copy, 13, target="###")
    assert (p.row, p.column, p.value, p.expected) == (13, "指标值", "###", INVALID_TARGET)


def test_hashes_on_a_positive_row_are_located(reference_copy):
    (p,) = _edit(reference_copy, 13, target="###", method="正向")
    assert (p.row, p.column, p.value) == (13, "指标值", "###")


def test_text_target_on_a_numeric_rule_is_located(reference_copy):
    (p,) = _edit(reference_copy, 13, target="有效提升", method="正向")
    assert (p.row, p.column, p.value) == (13, "指标值", "有效提升") and "数值" in p.expected


def test_absurd_actual_is_located(reference_copy):
    huge = "9" * 400
    (p,) = _edit(reference_copy, 13, actual=huge)
    assert (p.row, p.column, p.value, p.expected) == (13, "实际完成值", huge, INVALID_ACTUAL)


@pytest.mark.parametrize("target", ["约24人", "24人左右", "≥2 4人"])
def test_number_attempts_are_located(reference_copy, target):
    (p,) = _edit(reference_copy, 13, target=target)
    assert (p.row, p.column, p.value) == (13, "指标值", target)


def test_words_in_brackets_are_not_a_unit(reference_project):
    r, ev = _scored(reference_project, name="营业收入（总收入）", target="≥30万元", actual="31.98万元")
    assert r.score == 4.0
    assert not ev.findings["message"].str.contains("总收入」").any()
    assert not ((ev.findings["code"] == "unit_mismatch") & ev.findings["where"].str.contains("营业收入")).any()
    _, ev = _scored(reference_project, name="营业收入（人）", target="≥30万元", actual="31.98万元")
    assert ((ev.findings["code"] == "unit_mismatch") & ev.findings["where"].str.contains("营业收入")).any()


@pytest.mark.parametrize(
    ("name", "target", "actual", "t_unit", "t_value", "a_value", "score"),
    [
        ("观众人数（万人次）", "≥3.6", "36500人次", "万人次", 3.6, 3.65, 4.0),
        ("观众人数（万人次）", "≥3.6", "34200人次", "万人次", 3.6, 3.42, 3.8),
        ("覆盖率（%）", "≥95", 0.96, "%", 95, 96, 4.0),  # a ratio cell against a bare % target
        ("覆盖率（%）", "≥95", "96", "%", 95, 96, 4.0),
        ("培训人数（人）", "≥24", "24人", "", 24, 24, 4.0),  # 人 changes nothing: kept as written
    ],
)
def test_bare_target_takes_the_unit_its_name_declares(reference_project, name, target, actual, t_unit, t_value,
                                                      a_value, score):
    r, _ = _scored(reference_project, name=name, target=target, actual=actual)
    assert (r.target_unit, r.target_value, r.actual_value, r.score) == (t_unit, t_value, a_value, score)


def test_bare_fraction_target_in_a_percent_row(reference_project):
    r, _ = _scored(reference_project, TIMELY, target=1, actual="96%")  # "=100%" saved as its value 1
    assert (r.target_value, r.target_unit, r.score) == (100, "%", 9.6)
    r, _ = _scored(reference_project, TIMELY, target="0.95", actual=0.96)
    assert (r.target_value, r.target_unit, r.actual_value, r.score) == (0.95, "", 0.96, 10)
