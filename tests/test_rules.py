"""Each scoring rule on hand-computed cases (a = actual, t = target, W = weight)."""

import numpy as np
import pandas as pd
import pytest

from perfeval.notation import parse_value
from perfeval.rules import infer_rule, resolve_method, round_scores, score_frame
from perfeval.scheme import ScoringOptions, load_scheme

SCHEME = load_scheme("third_party")


def score(rule, target, actual, weight=10.0, options=None, deduction=np.nan, execution=np.nan,
          arrival=np.nan):
    t, a = parse_value(target), parse_value(actual)
    frame = pd.DataFrame([{
        "weight": weight, "rule": rule, "target": target, "actual": actual,
        "target_value": t.value, "target_low": t.low, "target_high": t.high,
        "actual_value": a.value, "actual_kind": a.kind, "deduction": deduction,
        "execution_rate": execution, "arrival_rate": arrival,
    }])
    opts = options or SCHEME.options
    return float(score_frame(frame, opts, SCHEME.scale(opts.qualitative_scale))["score"].iloc[0])


def test_positive_ratio_and_cap():
    assert score("positive", "≥24人", "24人") == 10
    assert score("positive", "≥24人", "30人") == 10  # never above W
    assert score("positive", "≥100人", "96人") == 9.6
    assert score("positive", "≥33.46万元", "31.98万元") == 9.56  # 9.5577 rounded half up


def test_negative_default_and_linear_option():
    assert score("negative", "≤10次", "8次") == 10
    assert score("negative", "≤10次", "12.5次") == 8  # t/a
    linear = SCHEME.options.updated(negative_rule="linear")
    assert score("negative", "≤10次", "12.5次", options=linear) == 7.5  # 2 - a/t
    assert score("negative", "≤10次", "30次", options=linear) == 0  # never below 0


def test_exact_with_tolerance_and_symmetric_option():
    assert score("exact", "=100%", "100%") == 10
    assert score("exact", "=100%", "96%") == 9.6
    symmetric = SCHEME.options.updated(exact_rule="symmetric")
    assert score("exact", "=12次", "15次", options=symmetric) == 7.5


def test_range_and_zero_target():
    assert score("range", "80%-90%", "85%") == 10
    assert score("range", "80%-90%", "72%") == 9  # 1 - 8/80
    assert score("range", "80%-90%", "99%") == 9  # 1 - 9/90
    assert score("zero", "≤0起", "0起") == 10
    assert score("zero", "≤0起", "1起") == 0
    per = SCHEME.options.updated(zero_target_deduction=2.0)
    assert score("zero", "=0次", "2次", options=per) == 6


def test_qualitative_three_tier_and_four_grade():
    assert score("qualitative", "有效提升", "有效提升") == 10
    assert score("qualitative", "有效提升", "达成预期指标") == 10
    assert score("qualitative", "有效提升", "基本达到") == 7
    assert score("qualitative", "有效提升", "未达到预期") == 3
    four = SCHEME.options.updated(qualitative_scale="four_grade")
    assert score("qualitative", "有效提升", "良", options=four) == 8
    assert score("qualitative", "有效提升", "一般", options=four) == 6


def test_manual_checklist_execution_arrival():
    assert score("manual", "", "符合", weight=5, deduction=1.5) == 3.5
    assert score("manual", "", "符合", weight=5) == 5
    assert score("checklist", "", "4/5", weight=5) == 4
    assert score("execution", "=100%", "", weight=5, execution=0.955768) == 4.78
    assert score("execution", "=100%", "", weight=5, execution=1.2) == 5
    assert score("arrival", "=100%", "", weight=5, arrival=0.8) == 4


def test_over_achievement_penalty_is_optional():
    assert score("positive", "≥10个", "20个") == 10
    penalised = SCHEME.options.updated(over_achievement_penalty=0.2)
    assert score("positive", "≥10个", "20个", options=penalised) == 8


def test_rounding_policies():
    x = np.array([4.7789, 9.555, 9.545, 2.0049999])
    assert round_scores(x, "half_up", 2).tolist() == [4.78, 9.56, 9.55, 2.0]
    assert round_scores(x, "truncate", 2).tolist() == [4.77, 9.55, 9.54, 2.0]
    assert round_scores(np.array([0.125]), "half_even", 2).tolist() == [0.12]


def test_rule_inference_and_methods():
    assert infer_rule("满意度", "", parse_value("≥95%"), parse_value("96%")) == "positive"
    assert infer_rule("投诉", "", parse_value("≤5次"), parse_value("1次")) == "negative"
    assert infer_rule("事故", "", parse_value("≤0起"), parse_value("0起")) == "zero"
    assert infer_rule("覆盖率", "", parse_value("＝100%"), parse_value("100%")) == "exact"
    assert infer_rule("x", "", parse_value("80%-90%"), parse_value("85%")) == "range"
    assert infer_rule("x", "", parse_value("有效提升"), parse_value("达成")) == "qualitative"
    assert infer_rule("预算执行率", "", parse_value(""), parse_value("")) == "execution"
    assert infer_rule("立项依据充分性", "", parse_value(""), parse_value("符合")) == "manual"
    assert resolve_method("反向") == "negative"
    assert resolve_method("") is None
    with pytest.raises(ValueError, match="未知的评分方法"):
        resolve_method("随便")


def test_options_reject_unknown_values():
    from perfeval.errors import SchemeError

    with pytest.raises(SchemeError):
        ScoringOptions(rounding="ceil")
    with pytest.raises(SchemeError):
        SCHEME.options.updated(colour="red")


def test_deadline_rule_is_vectorised_and_pure():
    """时效 over several rows at once: dates by arithmetic, texts by status, the frame left unchanged."""
    from datetime import date

    from perfeval.rules import RULE_LABELS, deadline_fractions

    d = float(date(2024, 12, 31).toordinal())
    frame = pd.DataFrame({
        "rule": ["deadline"] * 5 + ["positive"],
        "actual_kind": ["date", "date", "text", "text", "text", "number"],
        "actual": ["2024年11月20日", "2025年3月1日", "延期1个月", "延期完成", "有效提升", "24人"],
        "target_value": [d] * 5 + [24.0],
        "actual_value": [d - 41, d + 60, np.nan, np.nan, np.nan, 24.0],
    })
    before = frame.copy()
    got = deadline_fractions(frame, SCHEME.options, frame["rule"].to_numpy())
    pd.testing.assert_frame_equal(frame, before)
    np.testing.assert_allclose(got["fraction"], [1.0, 0.8, 0.9, 0.7, np.nan, np.nan])
    np.testing.assert_allclose(got["late_days"], [0.0, 60.0, np.nan, np.nan, np.nan, np.nan])
    np.testing.assert_allclose(got["late_months"], [0.0, 2.0, 1.0, np.nan, np.nan, np.nan])
    assert RULE_LABELS["deadline"] == "时效"
    assert resolve_method("完成时限") == "deadline"
