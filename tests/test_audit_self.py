"""The report against itself (issue 8, item 4), rates as written, and income vs cost.

Stated item scores vs stated subtotals and total, the stated execution score vs 分值 × stated rate,
stated rates vs stated amounts — each at the precision the report wrote, independent of perfeval's
own re-scoring (code "stated_inconsistent")."""

from __future__ import annotations

import pandas as pd
import pytest

import perfeval
from perfeval.model import STATED_COLUMNS
from perfeval.scheme import load_scheme
from perfeval.scoring.audit import written_halfwidth
from perfeval.sheets.stated import canonical_item, stated_value


def _stated(*rows: tuple[str, str, str]) -> pd.DataFrame:
    """Stated figures (item, text as written, where) read the way the 报告数值 sheet is read."""
    scheme = load_scheme("third_party")
    records = []
    for item, text, where in rows:
        name, kind = canonical_item(item, scheme)
        value, error = stated_value(kind, text)
        assert not error
        records.append({"item": name, "value": value, "text": text, "where": where})
    return pd.DataFrame.from_records(records, columns=list(STATED_COLUMNS)).astype({"value": float})


def _codes(ev, code: str) -> list[str]:
    return list(ev.findings.loc[ev.findings["code"] == code, "message"])


def _with_stated_scores(project, scores: dict[str, float]):
    frame = project.indicators.copy()
    for name, score in scores.items():
        frame.loc[frame["name"] == name, "stated_score"] = score
    return project.replace(indicators=frame)


def test_reference_gives_no_new_finding(reference_evaluation) -> None:
    """Its stated items add up to what perfeval computes, so every inconsistency of the published
    report is already named by the findings against perfeval's figures: still 16, none repeated."""
    assert reference_evaluation.total == 98.94 and len(reference_evaluation.findings) == 16
    assert _codes(reference_evaluation, "stated_inconsistent") == []


def test_items_adding_to_93_under_a_stated_total_of_94(reference_project) -> None:
    # every item states full marks except the satisfaction row (3 of 10): the items add up to 93;
    # perfeval's own rules give a third figure (98.94)
    scores = dict(zip(reference_project.indicators["name"], reference_project.indicators["weight"], strict=True))
    scores["服务群众满意度（%）"] = 3
    project = _with_stated_scores(reference_project, scores).replace(stated=_stated(("总分", "94", "三(一)")))
    ev = perfeval.evaluate(project)
    assert ev.total == 98.94
    (message,) = _codes(ev, "stated_inconsistent")
    assert "报告总分 94 分" in message and "得分合计为 93 分" in message and "98.94" in message
    assert ev.findings.loc[ev.findings["code"] == "stated_inconsistent", "severity"].tolist() == ["error"]


def test_total_written_to_the_unit_agrees_with_items_that_round_to_it(reference_project) -> None:
    scores = dict(zip(reference_project.indicators["name"], reference_project.indicators["weight"], strict=True))
    scores["服务群众满意度（%）"] = 3.6  # items 93.6: a total written "94" is that figure rounded
    project = _with_stated_scores(reference_project, scores).replace(stated=_stated(("总分", "94", "三(一)")))
    assert _codes(perfeval.evaluate(project), "stated_inconsistent") == []


def test_subtotal_against_its_items_and_total_against_subtotals(reference_project) -> None:
    project = reference_project.replace(stated=_stated(
        ("总分", "98.94", "三"), ("决策得分", "20", "三"), ("过程得分", "19.78", "三"),
        ("产出得分", "38.16", "三"), ("效益得分", "20", "三")))
    ev = perfeval.evaluate(project)
    # the subtotal against its items is the stated_subtotal finding (perfeval computes the items' 39.16)
    assert any("「产出」类指标得分 38.16 分" in m and "39.16" in m for m in _codes(ev, "stated_subtotal"))
    (message,) = _codes(ev, "stated_inconsistent")
    assert "报告总分 98.94 分" in message and "各一级指标得分合计为 97.94 分" in message

    # items that add up to 38.16 under a subtotal of 39.16, which is perfeval's own figure
    project = _with_stated_scores(reference_project, {"社保金缴费（万元）": 8.55}).replace(stated=_stated(
        ("产出得分", "39.16", "三")))
    ev = perfeval.evaluate(project)
    assert _codes(ev, "stated_subtotal") == []
    (message,) = _codes(ev, "stated_inconsistent")
    assert "「产出」类指标得分 39.16 分" in message and "6 项指标的得分合计为 38.16 分" in message


def test_execution_score_against_weight_times_stated_rate(reference_project) -> None:
    # the report states only 96.6%; its execution row states 4.78 (= 5 × 95.6%), not 5 × 96.6% = 4.83
    project = reference_project.replace(stated=_stated(("预算执行率", "96.6%", "四(二)2")))
    (message,) = _codes(perfeval.evaluate(project), "stated_inconsistent")
    assert "报告预算执行率得分 4.78 分" in message and "96.6%" in message and "4.83" in message
    # the stated rate that gives 4.78: consistent
    project = reference_project.replace(stated=_stated(("预算执行率", "95.6%", "五")))
    assert _codes(perfeval.evaluate(project), "stated_inconsistent") == []
    # a stated 预算执行率得分 (no perfeval counterpart in this scheme) is checked too
    # (held to the precision written: "5" would be 4.78 in whole points, "4" is not)
    project = reference_project.replace(stated=_stated(("预算执行率", "95.6%", "五"), ("预算执行率得分", "4", "五")))
    (message,) = _codes(perfeval.evaluate(project), "stated_inconsistent")
    assert "报告预算执行率得分 4 分" in message and "4.78" in message
    project = reference_project.replace(stated=_stated(("预算执行率", "95.6%", "五"), ("预算执行率得分", "5", "五")))
    assert _codes(perfeval.evaluate(project), "stated_inconsistent") == []


def test_execution_score_already_named_against_perfeval_is_not_repeated(reference_project) -> None:
    project = _with_stated_scores(reference_project, {"预算执行率": 4}).replace(
        stated=_stated(("预算执行率", "95.6%", "五")))
    ev = perfeval.evaluate(project)
    assert any("预算执行率」报告得分 4 分" in m for m in _codes(ev, "stated_item_score"))
    assert _codes(ev, "stated_inconsistent") == []


def test_stated_rate_against_stated_amounts(reference_project) -> None:
    # 95.6% agrees with 项目信息 (31.98/33.46) but not with the amounts this report states (30/33.46)
    project = reference_project.replace(stated=_stated(
        ("预算数", "33.46万元", "五"), ("执行数", "30万元", "五"), ("预算执行率", "95.6%", "五")))
    ev = perfeval.evaluate(project)
    (message,) = _codes(ev, "stated_inconsistent")
    assert "报告预算执行率为 95.6%" in message and "30万元/33.46万元 = 89.66%" in message
    assert len(_codes(ev, "stated_amount")) == 1 and _codes(ev, "stated_rate") == []


def test_rate_written_as_a_plain_ratio_is_compared_as_a_rate() -> None:
    assert written_halfwidth("rate", "0.1", 0.1) == pytest.approx(0.005)      # 10% ± 0.5 pp
    assert written_halfwidth("rate", "10%", 0.1) == pytest.approx(0.005)
    assert written_halfwidth("rate", "0.956", 0.956) == pytest.approx(0.0005)  # 95.6% ± 0.05 pp
    assert written_halfwidth("rate", "95.6", 0.956) == pytest.approx(0.0005)
    assert written_halfwidth("rate", "95.6%", 0.956) == pytest.approx(0.0005)
    assert written_halfwidth("score", "94", 94) == pytest.approx(0.5)
    assert written_halfwidth("amount", "334600元", 33.46) == pytest.approx(0.00005)


@pytest.mark.parametrize("text", ["0.1", "10%"])
def test_ratio_0_1_against_amounts_giving_14_46_percent(reference_project, text: str) -> None:
    project = reference_project.replace(budget=100.0, allocated=100.0, spent=14.46,
                                        stated=_stated(("预算执行率", text, "五")))
    (message,) = _codes(perfeval.evaluate(project), "stated_rate")
    assert f"报告预算执行率为 {text}" in message and "14.5%" in message


@pytest.mark.parametrize("text", ["0.1446", "14.46%", "0.145", "14%"])
def test_rates_that_round_from_14_46_percent_agree(reference_project, text: str) -> None:
    project = reference_project.replace(budget=100.0, allocated=100.0, spent=14.46,
                                        stated=_stated(("预算执行率", text, "五")))
    assert _codes(perfeval.evaluate(project), "stated_rate") == []


def test_rounded_statements_do_not_conflict(reference_project) -> None:
    project = reference_project.replace(budget=100.0, allocated=100.0, spent=87.97, stated=_stated(
        ("预算执行率", "88.0%", "一"), ("预算执行率", "87.97%", "五"), ("执行数", "87.97万元", "一"),
        ("执行数", "88万元", "五")))
    ev = perfeval.evaluate(project)
    assert _codes(ev, "conflicting_statements") == [] and _codes(ev, "stated_rate") == []
    # figures that no single value rounds to are still conflicting
    project = project.replace(stated=_stated(("预算执行率", "88.0%", "一"), ("预算执行率", "87.8%", "五")))
    (message,) = _codes(perfeval.evaluate(project), "conflicting_statements")
    assert "88.0%" in message and "87.8%" in message


def _with_rows(project, rows: list[dict]):
    frame = project.indicators
    extra = pd.DataFrame([{**{c: "" for c in frame.columns}, "row": 90 + i, "stated_score": float("nan"),
                           "deduction": float("nan"), **row} for i, row in enumerate(rows)])
    return project.replace(indicators=pd.concat([frame, extra], ignore_index=True))


def test_income_in_wan_yuan_is_not_a_cost(reference_project) -> None:
    project = _with_rows(reference_project, [
        {"level1": "效益", "level2": "经济效益", "level3": "经济效益", "name": "项目收入（总收入）", "weight": 0.0,
         "target": "≥500万元", "actual": "520万元"},
        {"level1": "效益", "level2": "经济效益", "level3": "经济效益", "name": "带动增收", "weight": 0.0,
         "target": "≥200万元", "actual": "210万元"},
        {"level1": "产出", "level2": "产出数量", "level3": "产出数量", "name": "项目资金支出", "weight": 0.0,
         "target": "≥30万元", "actual": "31万元"},
        {"level1": "产出", "level2": "产出成本", "level3": "成本控制", "name": "设备购置费用", "weight": 0.0,
         "target": "≥20万元", "actual": "18万元"},
    ])
    ev = perfeval.evaluate(project)
    flagged = _codes(ev, "suspicious_operator")
    for name in ("项目收入（总收入）", "带动增收", "项目资金支出"):
        assert not any(f"「{name}」" in m for m in flagged), name
    assert any("「设备购置费用」" in m for m in flagged)  # a cost group with a cost word: still a ceiling
    assert any("「社保金缴费（万元）」" in m for m in flagged)  # the reference's 产出成本 row
