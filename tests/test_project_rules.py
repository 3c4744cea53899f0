"""The rule of each indicator is worked out once and kept with the Project; a what-if edit infers it afresh."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import perfeval
import perfeval.model as model
import perfeval.scoring.evaluate as evaluate_module
from perfeval.model import known_rules
from perfeval.panel.template import judged_indicators
from perfeval.rules import indicator_rules
from perfeval.scoring.evaluate import evaluate_frames
from perfeval.workbench.whatif import Scenario

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference" / "AKT2022-001.xlsx"


@pytest.fixture(scope="module")
def base() -> perfeval.Project:
    return perfeval.load_project(REFERENCE, field_data=False)


def fresh(project: perfeval.Project) -> perfeval.Project:
    """The same project as a new object (nothing kept with it yet)."""
    return project.replace()


def numbered_row(project: perfeval.Project) -> int:
    """The index of the first indicator with a numeric ≥ target and no written 评分方法 (its rule is inferred)."""
    ind = project.indicators
    return next(i for i, t, m in zip(ind.index, ind["target"], ind["method"], strict=True)
                if str(t).startswith("≥") and not m)


def test_rules_are_what_evaluate_scores_by(base):
    project = fresh(base)
    assert known_rules(project) is None
    rules = project.rules
    assert rules.tolist() == perfeval.evaluate(fresh(base)).indicators["rule"].tolist()
    assert {"manual", "arrival", "execution", "positive", "qualitative"} <= set(rules)
    assert not rules.flags.writeable  # kept: nobody changes them behind the project's back


def test_rules_are_worked_out_once_per_project(base, monkeypatch):
    project = fresh(base)
    calls = []
    monkeypatch.setattr(model, "indicator_rules", lambda frame: calls.append(len(frame)) or indicator_rules(frame))
    first = project.rules
    assert project.rules is first and calls == [len(base.indicators)]

    def refuse(frame):
        raise AssertionError("the rules kept with the project are inferred again")

    monkeypatch.setattr(evaluate_module, "indicator_rules", refuse)
    assert perfeval.evaluate(project).indicators["rule"].tolist() == first.tolist()


def test_evaluate_keeps_the_rules_it_infers_with_each_project(base, monkeypatch):
    projects = [fresh(base) for _ in range(4)]
    assert len(projects[1].rules)  # one already known: the others are inferred in one pass
    passes = []
    real = evaluate_module.indicator_rules
    monkeypatch.setattr(evaluate_module, "indicator_rules", lambda frame: passes.append(len(frame)) or real(frame))
    frames = evaluate_frames(projects)
    assert passes == [3 * len(base.indicators)]
    for i, project in enumerate(projects):
        kept = known_rules(project)
        assert kept is not None
        assert kept.tolist() == frames.indicators.loc[frames.indicators["pidx"] == i, "rule"].tolist()
    again = evaluate_frames(projects)  # all known now: no inference at all
    assert passes == [3 * len(base.indicators)]
    pd.testing.assert_frame_equal(again.indicators, frames.indicators)
    pd.testing.assert_frame_equal(again.findings, frames.findings)


def test_an_edited_target_is_inferred_again(base):
    project = fresh(base)
    row = numbered_row(project)
    position = project.indicators.index.get_loc(row)
    assert project.rules[position] == "positive"
    ceiling = project.with_indicator(row, target="≤5%")
    assert known_rules(ceiling) is None
    assert ceiling.rules[position] == "negative"
    assert project.rules[position] == "positive"  # the original keeps its own
    ev = perfeval.evaluate(ceiling)
    assert ev.indicators.loc[position, "rule"] == "negative"


def test_an_edited_method_or_actual_is_inferred_again(base):
    project = fresh(base)
    row = numbered_row(project)
    position = project.indicators.index.get_loc(row)
    assert len(project.rules)
    assert project.with_indicator(row, method="扣分").rules[position] == "manual"
    text = project.with_indicator(row, target="有效提升", actual="基本达成")
    assert text.rules[position] == "qualitative"
    # back to inferring: an emptied 评分方法 takes the rule the target implies
    assert project.with_indicator(row, method="扣分").with_indicator(row, method="").rules[position] == "positive"


def test_a_replaced_indicator_frame_is_not_scored_by_the_old_rules(base):
    project = fresh(base)
    assert len(project.rules)
    row = numbered_row(project)
    frame = project.indicators.copy()
    frame.loc[row, "target"] = "≤5%"
    replaced = dataclasses.replace(project, indicators=frame)
    position = project.indicators.index.get_loc(row)
    assert replaced.rules[position] == "negative"
    assert perfeval.evaluate(replaced).indicators.loc[position, "rule"] == "negative"


def test_a_scenario_scores_its_edited_method(base):
    project = fresh(base)
    row = numbered_row(project)
    position = project.indicators.index.get_loc(row)
    before = Scenario(project).evaluate()
    after = Scenario(project).edit(row, method="扣分").evaluate()
    assert before.indicators.loc[position, "rule"] == "positive"
    assert after.indicators.loc[position, "rule"] == "manual"
    assert before.project.rules[position] == "positive"


def test_rules_are_not_part_of_equality_or_replace(base):
    a, b = fresh(base), fresh(base)
    assert len(a.rules)
    assert a == b
    assert known_rules(dataclasses.replace(a)) is None


def test_judged_indicators_take_the_kept_rule(base):
    project = fresh(base)
    judged = judged_indicators(project)
    rules = project.rules
    expected = np.flatnonzero(np.isin(rules, ["manual", "qualitative", "checklist"]))
    assert judged["position"].tolist() == expected.tolist()
    assert judged["rule"].tolist() == rules[expected].tolist()
    ev = perfeval.evaluate(project)
    assert judged["level1"].tolist() == ev.indicators.loc[expected, "level1"].tolist()
