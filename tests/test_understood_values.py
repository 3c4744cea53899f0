"""Issue 8, item 2: every accepted value that changes a score is shown as perfeval understood it
(`perfeval score`, the report's 附表, the workbench drill-down), and the what-if workbench never
scores a value it cannot read."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest

import perfeval
from perfeval.notation import parse_value
from perfeval.report.compose import Paragraph, compose
from perfeval.report.summary import summary_text
from perfeval.scoring import understood as u
from perfeval.workbench import drilldown, whatif
from perfeval.workbench import portfolio as pf
from perfeval.workbench.tables import num
from perfeval.workbench.widgets import Workbench
from tests.conftest import index_of

VISITS = "社会化人员社保金缴费人数（人）"  # a positive rule: ≥24次 in the reference
COST = "社保金缴费（万元）"
SOCIAL = "提升基层工会工作人员业务能力"  # qualitative
BASIS = "立项依据充分性"  # manual (扣分)


def _reading(ev: perfeval.Evaluation, name: str) -> pd.Series:
    frame = u.for_evaluation(ev)
    return frame.loc[ev.indicators.index[ev.indicators["name"] == name][0]]


def _evaluated(reference, name: str, **values: object) -> perfeval.Evaluation:
    return perfeval.evaluate(reference.with_indicator(index_of(reference, name), **values))


def _frame(**columns: object) -> pd.DataFrame:
    """A one-row evaluated indicator frame built by hand (the columns `evaluate` adds)."""
    row = {"rule": "positive", "target_kind": "number", "target_op": None, "target_value": math.nan,
           "target_low": math.nan, "target_high": math.nan, "target_unit": "", "target": "",
           "actual_kind": "number", "actual_value": math.nan, "actual_unit": "", "actual": "",
           "qualitative_level": None, "deduction": math.nan, "completion": math.nan}
    row.update(columns)
    return pd.DataFrame([row])


def _one(**columns: object) -> tuple[str, str, str]:
    out = u.understood(_frame(**columns)).iloc[0]
    return out["target_understood"], out["actual_understood"], out["understood"]


# ---------------------------------------------------------------- the formatter

def test_magnitude_targets_and_actuals_read_as_plain_quantities() -> None:
    # what the notation reader gives for ≥3.6万人次 and 三万六千五百人次 (another branch adds it)
    assert _one(target_op="≥", target_value=36000.0, target_unit="人次", actual_value=36500.0,
                actual_unit="人次") == ("≥36,000 人次", "36,500 人次", "目标 ≥36,000 人次；实际 36,500 人次")


def test_scored_values_through_evaluate(reference) -> None:
    ev = _evaluated(reference, VISITS, target="≥36000人次", actual="36500人次")
    assert _reading(ev, VISITS)["understood"] == "目标 ≥36,000 人次；实际 36,500 人次"
    # the full-width ＝ reads as =; a bare 0.96 under a % target is 96%
    ev = _evaluated(reference, "社保金缴费资金及时发放率（%）", target="＝100%", actual="0.96")
    assert _reading(ev, "社保金缴费资金及时发放率（%）")["understood"] == "目标 =100%；实际 96%"


def test_equals_glyphs_read_as_equals() -> None:
    # `═100%` as the notation reader will give it: op "=", 100, %
    assert _one(rule="exact", target_op="=", target_value=100.0, target_unit="%", target="═100%",
                actual_value=100.0, actual_unit="%")[0] == "=100%"


def test_money_is_shown_in_wan_yuan(reference) -> None:
    ev = _evaluated(reference, COST, target="≥3000万元", actual="0.5亿元")
    assert _reading(ev, COST)["understood"] == "目标 ≥3,000 万元；实际 5,000 万元"
    ev = _evaluated(reference, COST, target="≥0.5亿元", actual="334600元")
    assert _reading(ev, COST)["understood"] == "目标 ≥5,000 万元；实际 33.46 万元"


def test_ranges_and_checklists() -> None:
    assert _one(rule="range", target_kind="range", target_op="range", target_low=80.0, target_high=90.0,
                target_unit="%", actual_value=85.0, actual_unit="%")[:2] == ("80%–90%", "85%")
    assert _one(rule="range", target_kind="range", target_low=3.0, target_high=5.0, target_unit="个",
                actual_value=4.0, actual_unit="个")[0] == "3–5 个"
    assert _one(rule="checklist", target_kind="empty", actual_kind="checklist", actual_value=0.8,
                actual="4/5")[1:] == ("4/5 项", "完成 4/5 项")
    assert _one(rule="checklist", target_kind="empty", actual_kind="checklist", actual_value=0.8,
                actual="4/5", deduction=1.0)[2] == "完成 4/5 项；扣 1 分"


def test_dates_read_as_days() -> None:
    deadline, done = dt.date(2024, 12, 31).toordinal(), dt.date(2024, 11, 20).toordinal()
    got = _one(rule="deadline", target_kind="date", target_op="≤", target_value=float(deadline),
               target_unit="日期", actual_kind="date", actual_value=float(done), actual_unit="日期")
    assert got == ("2024-12-31 前", "2024-11-20", "目标 2024-12-31 前；实际 2024-11-20")
    assert _one(target_kind="date", target_op="=", target_value=float(deadline), target_unit="日期")[0] \
        == "2024-12-31"
    quarter = (float(dt.date(2024, 7, 1).toordinal()), float(dt.date(2024, 9, 30).toordinal()))
    assert _one(target_kind="range", target_low=quarter[0], target_high=quarter[1], target_unit="日期")[0] \
        == "2024-07-01 至 2024-09-30"
    assert u.fmt_date(math.nan) == "—" and u.fmt_date(1e12) == "—"


def test_qualitative_manual_and_funds_rules_show_what_scored_them(reference) -> None:
    ev = perfeval.evaluate(reference)
    assert _reading(ev, SOCIAL)["actual_understood"] == "判定为「达成」"
    assert _reading(ev, BASIS)["understood"] == "未扣分"
    assert _reading(ev, "预算执行率")["understood"] == "执行率 95.58%（执行数/预算数）"
    assert _reading(ev, "资金到位率")["understood"] == "到位率 100%（到位数/预算数）"
    unclear = _evaluated(reference, SOCIAL, actual="情况说明见附件")
    assert _reading(unclear, SOCIAL)["understood"] == "无法判断"
    docked = _evaluated(reference, BASIS, deduction=1.5)
    assert _reading(docked, BASIS)["understood"] == "扣 1.5 分"
    by_allocated = perfeval.evaluate(reference, options={"execution_denominator": "allocated"})
    assert _reading(by_allocated, "预算执行率")["understood"].endswith("（执行数/到位数）")


def test_unreadable_and_mismatched_values_are_visible(reference) -> None:
    ev = _evaluated(reference, VISITS, actual="全部完成")  # text where the rule needs a number
    assert _reading(ev, VISITS)["actual_understood"] == "无法识别「全部完成」"
    ev = perfeval.evaluate(reference)
    assert _reading(ev, VISITS)["understood"] == "目标 ≥24 次；实际 24 人"  # 人 vs 次, as written
    # text stays text where it is not scored as a number
    assert _one(rule="manual", target_kind="text", target="有效提升", actual_kind="text")[0] == "有效提升"


def test_number_formatting() -> None:
    assert [u.fmt_number(x) for x in (36500, 33.46, 0.955768, 0, -2.5, 1 / 3, 1e20, math.inf, math.nan)] == \
        ["36,500", "33.46", "0.955768", "0", "-2.5", "0.333333", "1×10^20", "—", "—"]
    assert u.fmt_quantity(0.5, "亿元") == "5,000 万元" and u.fmt_quantity(50000, "元") == "5 万元"
    assert u.fmt_rate(0.955768) == "95.58%" and u.fmt_rate(1.0) == "100%"


def test_each_distinct_reading_is_formatted_once(reference) -> None:
    ev = perfeval.evaluate(reference)
    big = pd.concat([ev.indicators] * 500, ignore_index=True)
    calls: list[u.Row] = []
    original = u.combined_reading

    def counting(r: u.Row, *args: object) -> str:
        calls.append(r)
        return original(r, *args)

    u.combined_reading = counting
    try:
        out = u.understood(big)
    finally:
        u.combined_reading = original
    assert len(out) == len(big) and len(calls) == len(set(u.rows_of(ev.indicators)))
    assert out["understood"].iloc[len(ev.indicators):2 * len(ev.indicators)].tolist() == \
        u.for_evaluation(ev)["understood"].tolist()


# ---------------------------------------------------------------- where scores are shown

def test_score_text_shows_the_readings_rule_and_completion(reference) -> None:
    ev = _evaluated(reference, COST, actual="319800元")
    text = summary_text(ev)
    header = next(line for line in text.splitlines() if line.startswith("一级") and "指标名称" in line)
    wanted = ("指标值解读", "实际值解读", "评分方法", "完成率")
    assert [c for c in header.split() if c in wanted] == list(wanted)
    line = next(line for line in text.splitlines() if COST in line)
    assert "319800元" in line and "≥33.46 万元" in line and "31.98 万元" in line
    assert "正向" in line and "95.6%" in line


def test_report_scoring_table_carries_the_reading(reference) -> None:
    doc = compose(_evaluated(reference, COST, actual="319800元"), generated_at="2026-01-01 00:00")
    table = doc.tables()["scores"]
    j = table.columns.index("解读")
    assert table.columns[j - 2:j + 1] == ("指标值", "实际完成值", "解读")
    row = next(r for r in table.rows if r[3] == COST)
    assert row[j - 1] == "319800元" and row[j] == "目标 ≥33.46 万元\n实际 31.98 万元"
    notes = [b.text for b in doc.part("附表").blocks if isinstance(b, Paragraph)]
    assert any(note.startswith("“解读”列为评分所依据的读数") for note in notes)


def test_drill_down_table_shows_the_readings(reference) -> None:
    ev = _evaluated(reference, COST, actual="319800元")
    table = drilldown.indicator_table(ev)
    assert list(table.columns[6:10]) == ["指标值", "实际完成值", "指标值解读", "实际值解读"]
    row = table.loc[table["指标名称"] == COST].iloc[0]
    assert (row["指标值解读"], row["实际值解读"]) == ("≥33.46 万元", "31.98 万元")
    assert table.loc[table["指标名称"] == BASIS, "指标值解读"].iat[0] == "—"


# ---------------------------------------------------------------- the what-if refuses what it cannot read

@pytest.fixture(scope="module")
def visits(reference) -> perfeval.Project:
    """The reference with a target written in 人次, as in the issue."""
    return reference.with_indicator(index_of(reference, VISITS), target="≥36000人次", actual="36500人次")


def test_scenario_scores_a_readable_actual_through_the_parser(visits) -> None:
    i = index_of(visits, VISITS)
    scenario = whatif.Scenario(visits).edit(i, actual="30000人次")
    expected = perfeval.evaluate(visits.with_indicator(i, actual="30000人次"))
    assert scenario.evaluate().total == expected.total < perfeval.evaluate(visits).total


@pytest.mark.parametrize("typed", ["abc人次", "全部完成", "≈36500人次", ""])
def test_scenario_refuses_an_actual_it_cannot_score(visits, typed: str) -> None:
    i = index_of(visits, VISITS)
    with pytest.raises(whatif.UnreadableValue) as caught:
        whatif.Scenario(visits).edit(i, actual=typed)
    message = str(caught.value)
    if typed:
        assert message.startswith(f"无法识别「{typed}」：应为数字加单位，如 36500人次 或 3.65万人次")
    else:
        assert message == "实际完成值不能为空：该指标按「正向」评分，需要实际完成值"


def test_scenario_accepts_text_where_text_is_scored(reference) -> None:
    social, basis = index_of(reference, SOCIAL), index_of(reference, BASIS)
    scenario = whatif.Scenario(reference).edit(social, actual="基本达到").edit(basis, actual="已说明")
    assert scenario.evaluate().total == perfeval.evaluate(
        reference.with_indicator(social, actual="基本达到").with_indicator(basis, actual="已说明")).total
    # a notation nothing reads is refused there too, and text is offered as an alternative
    with pytest.raises(whatif.UnreadableValue, match=r"无法识别「≈3」：应为数字，.*或文字（如 达成预期指标）"):
        whatif.Scenario(reference).edit(social, actual="≈3")


def test_scenario_refuses_a_rule_that_cannot_read_the_row(reference) -> None:
    social = index_of(reference, SOCIAL)
    with pytest.raises(whatif.UnreadableValue, match="评分方法「正向」需要数值指标值，而指标值「有效提升」不是数值"):
        whatif.Scenario(reference).edit(social, method="正向")
    checklist = whatif.Scenario(reference).edit(index_of(reference, BASIS), method="评价要点", actual="3/4")
    assert checklist.project().indicators.at[index_of(reference, BASIS), "method"] == "checklist"
    with pytest.raises(whatif.UnreadableValue, match="应写 完成要点数/要点总数，如 4/5"):
        checklist.edit(index_of(reference, BASIS), actual="大部分完成")


@pytest.fixture
def bench(visits, tmp_path: Path) -> Workbench:
    return Workbench(pf.Portfolio.from_projects([visits.replace(id="V0")], source="内存"),
                     save_dir=tmp_path / "情景", draws=1000)


def test_whatif_shows_how_a_typed_actual_was_read(bench: Workbench, visits) -> None:
    panel = bench.whatif
    i = index_of(visits, VISITS)
    panel.indicator.value = i
    assert "解读：目标 ≥36,000 人次；实际 36,500 人次；得分 4/4" in panel.actual_status.value
    panel.actual.value = "30000人次"
    expected = perfeval.evaluate(visits.with_indicator(i, actual="30000人次"))
    assert panel.evaluation.total == expected.total
    assert f"解读：目标 ≥36,000 人次；实际 30,000 人次；得分 {num(expected.indicators.at[i, 'score'])}/4" \
        in panel.actual_status.value
    assert "无法识别" not in panel.actual_status.value


@pytest.mark.parametrize("typed", ["abc人次", "全部完成"])
def test_whatif_keeps_the_last_readable_score_and_says_why(bench: Workbench, visits, typed: str) -> None:
    panel = bench.whatif
    i = index_of(visits, VISITS)
    panel.indicator.value = i
    panel.actual.value = "30000人次"
    scored = panel.evaluation
    total, grade = panel.total.value, panel.levels.value
    panel.actual.value = typed
    assert panel.evaluation is scored and panel.total.value == total and panel.levels.value == grade
    assert f'<b class="perfeval-grade">{scored.grade}' in panel.total.value
    assert panel.scenario.current(i, "actual") == "30000人次" and panel.actual.value == typed
    status = panel.actual_status.value
    assert f"无法识别「{typed}」：应为数字加单位，如 36500人次 或 3.65万人次" in status
    assert "未计分：情景得分仍按上一个有效值「30000人次」计算" in status and "#C62828" in status
    assert status in panel.static_html()
    # a readable value is scored again and the error goes
    panel.actual.value = "36000人次"
    assert panel.evaluation.total == perfeval.evaluate(visits.with_indicator(i, actual="36000人次")).total
    assert "无法识别" not in panel.actual_status.value and "实际 36,000 人次" in panel.actual_status.value


def test_whatif_error_clears_when_another_indicator_is_picked(bench: Workbench, visits) -> None:
    panel = bench.whatif
    panel.indicator.value = index_of(visits, VISITS)
    panel.actual.value = "abc人次"
    assert "无法识别" in panel.actual_status.value
    panel.indicator.value = index_of(visits, COST)
    assert panel.actual.value == "31.98万元" and "目标 ≥33.46 万元；实际 31.98 万元" in panel.actual_status.value


def test_whatif_refuses_a_rule_change_that_would_score_zero(bench: Workbench, visits) -> None:
    panel = bench.whatif
    panel.indicator.value = index_of(visits, SOCIAL)
    before = panel.evaluation
    panel.method.value = "positive"
    assert "需要数值指标值" in panel.message.value and panel.method.value == whatif.AUTO_METHOD
    assert panel.evaluation is before


def test_whatif_warns_when_units_cannot_be_compared(bench: Workbench, visits) -> None:
    panel = bench.whatif
    panel.indicator.value = index_of(visits, VISITS)
    panel.actual.value = "36500人"
    assert "注意：实际值单位「人」与指标值单位「人次」不同，按数值直接比较" in panel.actual_status.value


# ---------------------------------------------------------------- enable at integration

_ISSUE_SPELLINGS = ("三万六千五百人次", "3.65万人次")


def _reads_as_36500(text: str) -> bool:
    m = parse_value(text)
    return m.kind == "number" and m.value == pytest.approx(36500) and m.unit == "人次"


@pytest.mark.parametrize("typed", _ISSUE_SPELLINGS)
def test_whatif_scores_the_issue_spellings(bench: Workbench, visits, typed: str) -> None:
    """Issue 8: typing 三万六千五百人次 or 3.65万人次 as an actual scores like 36500人次."""
    if not _reads_as_36500(typed):
        pytest.skip(f"parse_value({typed!r}) does not read 36500 人次 on this branch yet (the notation reader "
                    "that reads 万 and Chinese numerals is merged separately); enable at integration")
    panel = bench.whatif
    i = index_of(visits, VISITS)
    panel.indicator.value = i
    panel.actual.value = "30000人次"
    panel.actual.value = typed
    expected = perfeval.evaluate(visits.with_indicator(i, actual="36500人次"))
    assert panel.evaluation.total == expected.total and panel.evaluation.grade == expected.grade
    assert "实际 36,500 人次" in panel.actual_status.value and "无法识别" not in panel.actual_status.value


def test_small_amounts_show_in_yuan() -> None:
    from perfeval.scoring.understood import fmt_quantity

    # a unit cost written 75元 is read as 0.0075 万元; shown as the reader wrote it, not as 0.0075 万元
    assert fmt_quantity(0.0075, "万元") == "75 元"
    assert fmt_quantity(33.46, "万元") == "33.46 万元"


def test_score_json_carries_the_readings(reference_evaluation) -> None:
    rows = {r["name"]: r for r in reference_evaluation.to_dict()["indicators"]}
    assert rows["预算执行率"]["target_understood"] == "=100%"
    assert rows["预算执行率"]["actual_understood"] == "执行率 95.58%（执行数/预算数）"
