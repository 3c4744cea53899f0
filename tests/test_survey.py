"""Satisfaction surveys: screening rules against planted invalid responses, rates and margins against
hand-computed values, located errors, the survey_unsupported finding and the CLI."""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import perfeval
from perfeval.cli import main
from perfeval.errors import SheetError
from perfeval.survey import apply_survey, load_mapping, run_survey
from perfeval.survey.synth import mapping_toml, synth_survey, write_survey

INDICATOR = "服务群众满意度（%）"
SATISFIED = ("非常满意", "满意")


def write(tmp_path: Path, frame: pd.DataFrame, mapping: dict, name: str = "answers.xlsx") -> tuple[Path, Path]:
    answers = tmp_path / name
    if answers.suffix == ".csv":
        frame.to_csv(answers, index=False, encoding="utf-8-sig")
    else:
        frame.to_excel(answers, index=False, engine="xlsxwriter")
    path = tmp_path / "mapping.toml"
    path.write_text(mapping_toml(mapping), encoding="utf-8")
    return answers, path


def clean_frame(frame: pd.DataFrame, truth) -> pd.DataFrame:
    """The rows the generator did not plant, by Excel row (header on row 1)."""
    return frame.iloc[[r - 2 for r in truth.clean_rows]]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    out = tmp_path_factory.mktemp("survey")
    answers, mapping, truth = write_survey(out, responses=600, seed=7)
    frame, _, _ = synth_survey(600, seed=7)
    return answers, mapping, truth, frame, run_survey(answers, mapping)


def test_each_rule_excludes_exactly_the_planted_responses(synthetic):
    _, _, truth, _, result = synthetic
    excluded = result.excluded
    for kind, rows in truth.planted.items():
        assert rows, kind
        assert sorted(excluded.loc[excluded["reasons"] == kind, "行"]) == rows, kind
        assert result.screening.counts[kind] == len(rows)
    assert sorted(result.answers.rows[result.screening.valid]) == truth.clean_rows
    assert set(excluded["reasons"]) == set(truth.planted)


def test_excluded_reasons_are_said(synthetic):
    _, _, truth, frame, result = synthetic
    by_row = result.excluded.set_index("行")
    dup = truth.planted["duplicate"][0]
    respondent = frame.iloc[dup - 2]["答卷编号"]
    first = int(frame.index[frame["答卷编号"] == respondent][0]) + 2
    assert first < dup
    assert by_row.at[dup, "原因"] == f"答卷编号重复（与第{first}行编号相同）"
    incomplete = truth.planted["incomplete"][0]
    blank = [c for c in frame.columns if c.startswith("Q") and pd.isna(frame.iloc[incomplete - 2][c])]
    assert by_row.at[incomplete, "原因"] == f"不完整（「{blank[0]}」未作答）"
    assert by_row.at[truth.planted["straightlining"][0], "原因"] == "所有题目答案相同（直线作答）"
    assert by_row.at[truth.planted["out_of_period"][0], "原因"] == "作答时间不在调查期间"


def test_multi_item_indicator_value_and_margin_by_hand(synthetic):
    _, _, truth, frame, result = synthetic
    clean = clean_frame(frame, truth)
    items = [c for c in frame.columns if c.startswith("Q")]
    x = clean[items].isin(SATISFIED).mean(axis=1).to_numpy()
    n = len(x)
    row = result.indicators.iloc[0]
    assert row["n"] == n == len(truth.clean_rows)
    assert row["value"] == pytest.approx(100 * x.mean(), abs=1e-9)
    assert row["margin"] == pytest.approx(100 * 1.96 * x.std(ddof=1) / math.sqrt(n), abs=1e-9)
    assert row["low"] == pytest.approx(row["value"] - row["margin"])
    # per item: plain satisfied share with the normal-approximation margin
    for rec, item in zip(result.items.to_dict(orient="records"), items, strict=True):
        p = clean[item].isin(SATISFIED).mean()
        assert rec["satisfied"] == pytest.approx(100 * p)
        assert rec["margin"] == pytest.approx(100 * 1.96 * math.sqrt(p * (1 - p) / n))
        assert rec["非常满意"] == int((clean[item] == "非常满意").sum())


def test_generator_truth_is_near_the_computed_rate():
    frame, _, truth = synth_survey(20000, seed=3, items=(("Q1", INDICATOR, 0.8),))
    clean = clean_frame(frame, truth)
    assert clean["Q1"].isin(SATISFIED).mean() == pytest.approx(0.8, abs=0.015)


def test_single_item_rate_with_finite_population_correction(tmp_path):
    frame, mapping, truth = synth_survey(400, seed=11, items=(("Q1 总体满意度", INDICATOR, 0.85),), population=900)
    answers, mapping_path = write(tmp_path, frame, mapping)
    result = run_survey(answers, mapping_path)
    assert "straightlining" not in set(result.excluded["reasons"])  # not judged with one item
    clean = clean_frame(frame, truth)
    n, big_n = len(clean), 900
    p = clean["Q1 总体满意度"].isin(SATISFIED).mean()
    margin = 1.96 * math.sqrt(p * (1 - p) / n) * math.sqrt((big_n - n) / (big_n - 1))
    row = result.indicators.iloc[0]
    assert (row["n"], row["value"], row["margin"]) == (n, pytest.approx(100 * p), pytest.approx(100 * margin))
    assert "N=900" in row["formula"]


def test_weighted_score_uses_the_sample_standard_deviation(tmp_path):
    frame, mapping, truth = synth_survey(300, seed=5, numeric=True)
    weights = {5: 100, 4: 80, 3: 60, 2: 30, 1: 0}
    mapping["survey"].pop("satisfied")
    mapping["survey"]["weights"] = {str(k): v for k, v in weights.items()}
    answers, mapping_path = write(tmp_path, frame, mapping, "answers.csv")
    result = run_survey(answers, mapping_path)
    clean = clean_frame(frame, truth)
    items = [c for c in frame.columns if c.startswith("Q")]
    x = clean[items].astype(int).replace(weights).mean(axis=1).to_numpy()
    row = result.indicators.iloc[0]
    assert row["mode"] == "weighted"
    assert row["value"] == pytest.approx(x.mean())
    assert row["margin"] == pytest.approx(1.96 * x.std(ddof=1) / math.sqrt(len(x)))


def test_numbers_with_one_best(tmp_path):
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "Q": [1, 2, 1, 5]})
    mapping = {"survey": {"respondent": "id", "numbers": "1_best", "satisfied": [1, 2]},
               "item": [{"column": "Q", "indicator": INDICATOR}]}
    answers, mapping_path = write(tmp_path, frame, mapping)
    result = run_survey(answers, mapping_path)
    assert result.indicators.iloc[0]["value"] == pytest.approx(75.0)
    assert result.items.iloc[0]["非常满意"] == 2  # 1 is the best answer here


def test_two_items_are_never_straightlining_and_double_reasons_are_listed(tmp_path):
    frame = pd.DataFrame({
        "编号": ["1", "2", "2", "3"],
        "时间": ["2022-11-02 10:00:00", "2022-11-03 10:00:00", "2022-12-05 08:00:00", "2022年11月30日 23:59:59"],
        "A": ["满意", "非常满意", "不满意", "满意"], "B": ["满意", "满意", "不满意", "满意"]})
    mapping = {"survey": {"respondent": "编号", "time": "时间", "start": date(2022, 11, 1), "end": date(2022, 11, 30),
                          "satisfied": list(SATISFIED)},
               "item": [{"column": "A", "indicator": INDICATOR}, {"column": "B", "indicator": INDICATOR}]}
    answers, mapping_path = write(tmp_path, frame, mapping)
    result = run_survey(answers, mapping_path)
    assert list(result.excluded["行"]) == [4]  # the end day counts whole; rows 2 and 5 (A = B) stay
    assert result.excluded.iloc[0]["reasons"] == "duplicate,out_of_period"
    assert result.excluded.iloc[0]["原因"] == "答卷编号重复（与第3行编号相同）；作答时间不在调查期间"
    assert result.indicators.iloc[0]["n"] == 3


def test_unreadable_answers_and_times_are_located(tmp_path):
    frame, mapping, _ = synth_survey(50, seed=2)
    frame = frame.astype(object)
    frame.iat[4, frame.columns.get_loc("Q2 您对缴费及时性的满意程度")] = "还行吧"
    frame.iat[9, frame.columns.get_loc("提交答卷时间")] = "上周三"
    answers, mapping_path = write(tmp_path, frame, mapping)
    with pytest.raises(SheetError) as caught:
        run_survey(answers, mapping_path)
    found = {(p.row, p.column, p.value) for p in caught.value.problems}
    assert found == {(6, "Q2 您对缴费及时性的满意程度", "还行吧"), (11, "提交答卷时间", "上周三")}
    assert all(p.file == str(answers) for p in caught.value.problems)


def test_unknown_item_column_is_located_in_the_mapping(tmp_path):
    frame, mapping, _ = synth_survey(30, seed=2)
    mapping["item"][1]["column"] = "Q9 不存在的题目"
    answers, mapping_path = write(tmp_path, frame, mapping)
    with pytest.raises(SheetError) as caught:
        run_survey(answers, mapping_path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.column, problem.value) == (str(mapping_path), "item[2].column", "Q9 不存在的题目")
    assert "现有列" in problem.expected and "Q1 您对社保缴费服务的总体满意程度" in problem.expected


def test_mapping_problems_are_all_listed(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[survey]\nstart = "2022-13-01"\npopulation = -3\n\n[[item]]\ncolumn = "Q1"\n'
                    'indicator = "满意度"\nsatisfied = ["挺好"]\n', encoding="utf-8")
    with pytest.raises(SheetError) as caught:
        load_mapping(path)
    columns = {p.column for p in caught.value.problems}
    assert {"survey.start", "survey.population", "item[1].satisfied", "survey.time"} <= columns


def test_mapping_must_say_what_counts_as_satisfied(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[[item]]\ncolumn = "Q1"\nindicator = "满意度"\n', encoding="utf-8")
    with pytest.raises(SheetError, match="未说明哪些答案算满意"):
        load_mapping(path)


def test_unknown_indicator_is_located(tmp_path, reference_project):
    frame, mapping, _ = synth_survey(60, seed=4)
    for item in mapping["item"]:
        item["indicator"] = "群众满意率"
    answers, mapping_path = write(tmp_path, frame, mapping)
    result = run_survey(answers, mapping_path)
    with pytest.raises(SheetError) as caught:
        apply_survey(reference_project, result)
    (problem,) = caught.value.problems
    assert (problem.column, problem.value) == ("item[1].indicator", "群众满意率")
    assert INDICATOR in problem.expected


def test_apply_feeds_the_indicator_and_flags_an_unsupported_stated_figure(tmp_path, reference_project):
    frame, mapping, _ = synth_survey(300, seed=8, items=(
        ("Q1", INDICATOR, 0.8), ("Q2", INDICATOR, 0.82), ("Q3", "第21行", 0.78)))
    answers, mapping_path = write(tmp_path, frame, mapping)
    with pytest.raises(SheetError, match="同一行"):  # a name and a row for the same indicator
        apply_survey(reference_project, run_survey(answers, mapping_path))
    mapping["item"][2]["indicator"] = INDICATOR
    answers, mapping_path = write(tmp_path, frame, mapping)
    result = run_survey(answers, mapping_path)
    applied = apply_survey(reference_project, result)
    row = result.indicators.iloc[0]
    assert row["high"] < 95
    fed = applied.project.indicators.set_index("name").loc[INDICATOR]
    assert fed["actual"] == f"{row['value']:.2f}%"
    assert fed["data_source"] == (f"问卷调查 n={row['n']}，满意率，误差±{row['margin']:.2f}个百分点（95%置信）"
                                  "；表内原填 95%")
    (finding,) = applied.findings
    assert finding.code == "survey_unsupported" and finding.row == 21 and finding.value == "95%"
    assert INDICATOR in finding.expected and f"{row['value']:.2f}%" in finding.expected
    assert f"{row['low']:.2f}–{row['high']:.2f}%" in finding.expected
    # the original project is untouched; the fed one scores the survey value and carries the finding
    assert reference_project.indicators.set_index("name").loc[INDICATOR, "actual"] == "95%"
    ev = perfeval.evaluate(applied.project)
    assert ev.indicators.set_index("name").loc[INDICATOR, "actual_value"] == pytest.approx(round(row["value"], 2))
    assert "survey_unsupported" in set(ev.findings["code"])


def test_a_supported_stated_figure_raises_nothing(tmp_path, reference_project):
    frame, mapping, _ = synth_survey(2000, seed=9, items=(("Q1", INDICATOR, 0.95),))
    answers, mapping_path = write(tmp_path, frame, mapping)
    result = run_survey(answers, mapping_path)
    row = result.indicators.iloc[0]
    assert row["low"] <= 95 <= row["high"]
    applied = apply_survey(reference_project, result)
    assert applied.findings == () and bool(applied.table.iloc[0]["supported"])


def test_stated_precision_counts(tmp_path, reference_project):
    """A stated 95% is [94.5, 95.5): it is supported by an interval ending at 94.6."""
    from perfeval.survey.apply import stated_value

    assert stated_value("95%", "rate") == (95.0, 0.5)
    assert stated_value("0.953", "rate") == pytest.approx((95.3, 0.05))
    assert stated_value("有效提升", "rate") is None


def test_cli_survey_writes_the_fed_project(tmp_path, reference_path, capsys):
    answers, mapping, truth = write_survey(tmp_path / "s", responses=300, seed=1)
    out, excluded = tmp_path / "fed.xlsx", tmp_path / "excluded.csv"
    code = main(["survey", str(reference_path), str(answers), "--mapping", str(mapping), "--out", str(out),
                 "--excluded", str(excluded)])
    text = capsys.readouterr().out
    assert code == 0
    assert "有效 273 份" in text and "survey_unsupported" in text
    fed = perfeval.load_project(out)
    row = fed.indicators.set_index("name").loc[INDICATOR]
    assert row["actual"].endswith("%") and row["data_source"].startswith("问卷调查 n=273")
    listed = pd.read_csv(excluded)
    assert len(listed) == sum(len(v) for v in truth.planted.values())
    code = main(["survey", str(reference_path), str(answers), "--mapping", str(mapping), "--json"])
    assert code == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert data["screening"]["valid"] == 273 and data["findings"][0]["code"] == "survey_unsupported"


def test_cli_bad_mapping_exits_2_and_writes_nothing(tmp_path, reference_path, capsys):
    answers, mapping, _ = write_survey(tmp_path / "s", responses=40, seed=1)
    mapping.write_text(mapping.read_text(encoding="utf-8").replace("服务群众满意度（%）", "不存在的指标"),
                       encoding="utf-8")
    out = tmp_path / "fed.xlsx"
    code = main(["survey", str(reference_path), str(answers), "--mapping", str(mapping), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "不存在的指标" in err and "item[1].indicator" in err
    assert not out.exists() and not list(tmp_path.glob(".*tmp*"))


def test_times_as_excel_dates(tmp_path):
    frame = pd.DataFrame({"id": ["a", "b"], "t": [datetime(2022, 11, 5, 9), datetime(2023, 1, 2)],
                          "Q": ["满意", "不满意"]})
    mapping = {"survey": {"respondent": "id", "time": "t", "start": date(2022, 11, 1), "end": date(2022, 11, 30),
                          "satisfied": list(SATISFIED)}, "item": [{"column": "Q", "indicator": INDICATOR}]}
    answers, mapping_path = write(tmp_path, frame, mapping)
    result = run_survey(answers, mapping_path)
    assert list(result.excluded["reasons"]) == ["out_of_period"]
    assert result.indicators.iloc[0]["value"] == 100.0
    assert np.isnan(result.indicators.iloc[0]["margin"]) or result.indicators.iloc[0]["margin"] == 0.0


def test_survey_view_draws_from_the_same_figures(synthetic, reference_project):
    from perfeval.workbench.survey_view import (
        SurveyPanel,
        distribution_figure,
        distribution_frame,
        interval_figure,
        interval_frame,
    )

    answers, mapping, _, _, result = synthetic
    shares = distribution_frame(result)
    assert np.allclose(shares.sum(axis=1), 100.0)
    first = result.items.iloc[0]
    assert shares.iloc[0]["非常满意"] == pytest.approx(100 * first["非常满意"] / first["n"])
    frame = interval_frame(result, reference_project)
    assert list(frame["kind"]) == ["题目", "题目", "题目", "指标"]
    assert frame.iloc[-1]["value"] == result.indicators.iloc[0]["value"] and frame.iloc[-1]["target"] == 95.0
    assert len(distribution_figure(result).axes) == 1 and len(interval_figure(result).axes) == 1
    panel = SurveyPanel(answers, mapping, reference_project)
    assert panel.message.value == "" and panel.distribution.value[:4] == b"\x89PNG"
    assert f"有效 <b>{result.screening.counts['valid']}</b> 份" in panel.summary.value
    broken = SurveyPanel(answers, Path(mapping).with_name("missing.toml"))
    assert "问卷映射文件不存在" in broken.message.value and broken.result is None
