"""Workbench logic without widgets: loading portfolios, filters, what-if scenarios, saving,
and grade robustness."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import perfeval
from perfeval.errors import PerfevalError
from perfeval.sheets.write import save_project
from perfeval.workbench import portfolio as pf
from perfeval.workbench import robustness, whatif
from tests.conftest import REFERENCE_CSV, index_of

ROOT = Path(__file__).resolve().parents[1]
DEPARTMENTS = ("县教育局", "县卫生健康委员会", "县农业农村局")


def varied(reference: perfeval.Project, n: int = 12) -> list[perfeval.Project]:
    """Copies of the reference project with other ids, departments, years and actual values,
    spread over several grades."""
    cost = index_of(reference, "社保金缴费（万元）")
    timely = index_of(reference, "社保金缴费资金及时发放率（%）")
    coverage = index_of(reference, "基层组织建设工作人数覆盖率（%）")
    projects = []
    for i in range(n):
        p = reference.replace(id=f"T{i:03d}", name=f"测试项目{i}", department=DEPARTMENTS[i % 3],
                              year=2021 + i % 3)
        p = p.with_indicator(cost, actual=f"{33.46 - 2.5 * i:.2f}万元")
        p = p.with_indicator(timely, actual=f"{max(0, 100 - 9 * i)}%")
        p = p.with_indicator(coverage, actual=f"{max(0, 100 - 8 * i)}%")
        projects.append(p)
    return projects


@pytest.fixture(scope="module")
def portfolio(reference: perfeval.Project) -> pf.Portfolio:
    return pf.Portfolio.from_projects(varied(reference), source="内存")


# ---------------------------------------------------------------- portfolio

def test_portfolio_summary_matches_each_evaluation(portfolio: pf.Portfolio) -> None:
    s = portfolio.summary
    assert len(s) == 12 and s["key"].is_unique
    assert {"优", "良", "中"} <= set(s["grade"])  # the fixture spans several grades
    for key in ("T000", "T007", "T011"):
        ev = perfeval.evaluate(portfolio.project(key))
        row = s.loc[s["key"] == key].iloc[0]
        assert row["total"] == pytest.approx(ev.total) and row["grade"] == ev.grade
        assert row["errors"] == ev.findings_by_severity["error"]
        for level in ev.levels.itertuples():
            assert row[pf.level_column(level.name)] == pytest.approx(level.score)
    assert portfolio.evaluation("T007").total == pytest.approx(s.loc[7, "total"])


def test_filters_select_exactly_the_matching_rows(portfolio: pf.Portfolio) -> None:
    s = portfolio.summary
    f = pf.Filters(years=(2021, 2023), departments=("县教育局", "县农业农村局"), grades=("良", "中"),
                   score_range=(70.0, 95.0))
    got = pf.apply_filters(s, f)
    want = s[s["year"].isin([2021, 2023]) & s["department"].isin(["县教育局", "县农业农村局"])
             & s["grade"].isin(["良", "中"]) & s["total"].between(70, 95)]
    assert got["key"].tolist() == want["key"].tolist() and len(got) > 0
    assert len(pf.apply_filters(s, pf.Filters())) == len(s)
    assert pf.apply_filters(s, pf.Filters(text="测试项目1"))["id"].tolist() == ["T001", "T010", "T011"]
    assert len(pf.apply_filters(s, pf.Filters(findings="clean"))) == 0  # every copy has findings
    assert len(pf.apply_filters(s, pf.Filters(findings="errors"))) == int((s["errors"] > 0).sum())
    with pytest.raises(PerfevalError, match="核查发现筛选"):
        pf.apply_filters(s, pf.Filters(findings="某些"))


def test_sorting_by_grade_puts_best_first(portfolio: pf.Portfolio) -> None:
    ranked = pf.sort_summary(portfolio.summary, "grade", ascending=False)["grade"].tolist()
    assert ranked == sorted(ranked, key="优良中差".index)
    by_total = pf.sort_summary(portfolio.summary, "total", ascending=True)["total"].to_numpy()
    assert np.all(np.diff(by_total) >= 0)
    with pytest.raises(PerfevalError, match="无法按"):
        pf.sort_summary(portfolio.summary, "不存在")


def test_folder_keeps_unreadable_files_as_failures(tmp_path: Path, reference) -> None:
    for p in varied(reference, 3):
        save_project(p, tmp_path / f"{p.id}.xlsx")
    (tmp_path / "坏文件.xlsx").write_text("不是 Excel", encoding="utf-8")
    (tmp_path / "说明.txt").write_text("忽略", encoding="utf-8")
    loaded = pf.load_portfolio(tmp_path)
    assert sorted(loaded.summary["id"]) == ["T000", "T001", "T002"]
    assert loaded.failed["file"].tolist() == ["坏文件.xlsx"]
    assert "不是有效的 Excel 工作簿" in loaded.failed["problem"].iloc[0]


def test_default_data_and_missing_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(pf.DATA_ENV, str(REFERENCE_CSV))
    loaded = pf.load_portfolio(None)
    assert loaded.summary["total"].tolist() == [98.94] and loaded.summary["grade"].tolist() == ["优"]
    with pytest.raises(PerfevalError, match="数据路径不存在"):
        pf.load_portfolio(tmp_path / "没有")
    with pytest.raises(PerfevalError, match=r"没有 \.xlsx 或 \.csv"):
        pf.load_portfolio(tmp_path)


def test_portfolio_workbook(tmp_path: Path) -> None:
    from perfeval.devtools.synth import write_portfolio

    book, = write_portfolio(tmp_path, 12, seed=3, broken_share=0.1, portfolio=True)
    loaded = pf.load_portfolio(book)
    assert len(loaded) + loaded.failed["project"].nunique() == 12
    projects = [r.project for r in perfeval.read_projects(book) if r.project is not None]
    totals = {e.project.id: e.total for e in perfeval.evaluate_many(projects)}
    assert dict(zip(loaded.summary["id"], loaded.summary["total"], strict=True)) == pytest.approx(totals)


def test_batch_output_folder(tmp_path: Path, reference) -> None:
    from perfeval.cli import main

    inputs = tmp_path / "in"
    inputs.mkdir()
    for p in varied(reference, 3):
        save_project(p, inputs / f"{p.id}.xlsx")
    (inputs / "坏文件.xlsx").write_text("不是 Excel", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["batch", str(inputs), "--out", str(out), "--format", "none", "--workers", "1"]) == 1
    loaded = pf.load_portfolio(out)
    assert loaded.source == str(out)
    direct = pf.load_portfolio(inputs)
    merged = loaded.summary.merge(direct.summary, on="id", suffixes=("_batch", ""))
    assert len(merged) == 3
    assert merged["total_batch"].tolist() == pytest.approx(merged["total"].tolist())
    assert merged["errors_batch"].tolist() == merged["errors"].tolist()
    assert merged["score_产出_batch"].tolist() == pytest.approx(merged["score_产出"].tolist())
    assert loaded.failed["file"].str.endswith("坏文件.xlsx").tolist() == [True]
    assert set(loaded.findings["key"]) == {"T000", "T001", "T002"}
    # the batch records its inputs, so a project can still be drilled into
    assert loaded.evaluation("T001").total == pytest.approx(direct.evaluation("T001").total)


# ---------------------------------------------------------------- what-if

def test_scenario_scores_equal_evaluate_of_the_edited_sheet(reference) -> None:
    cost = index_of(reference, "社保金缴费（万元）")
    scenario = whatif.Scenario(reference).edit(cost, actual="20万元")
    expected = perfeval.evaluate(reference.with_indicator(cost, actual="20万元"))
    got = scenario.evaluate()
    assert (got.total, got.grade) == (expected.total, expected.grade)
    assert got.levels["score"].tolist() == expected.levels["score"].tolist()
    assert scenario.describe() == ["第18行「社保金缴费（万元）」实际完成值：31.98万元 → 20万元"]
    # typing the original value back clears the change
    assert not scenario.edit(cost, actual="31.98万元").changed
    changed = whatif.changed_indicators(perfeval.evaluate(reference), got)
    assert changed["指标名称"].tolist() == ["社保金缴费（万元）"]
    assert changed["实际完成值"].tolist() == ["31.98万元 → 20万元"]


def test_weight_change_keeps_the_level_weight(reference) -> None:
    timely = index_of(reference, "社保金缴费资金及时发放率（%）")
    scenario = whatif.Scenario(reference).set_weight(timely, 16)
    project = scenario.project()
    sums = project.indicators.groupby("level1")["weight"].sum()
    assert sums["产出"] == pytest.approx(40) and project.indicators["weight"].sum() == pytest.approx(100)
    assert project.indicators.at[timely, "weight"] == 16
    assert scenario.evaluate().total == perfeval.evaluate(project).total
    loose = whatif.Scenario(reference).set_weight(timely, 16, keep_level=False)
    assert loose.project().indicators["weight"].sum() == pytest.approx(106)
    with pytest.raises(PerfevalError, match="超过一级指标「产出」的分值 40"):
        whatif.Scenario(reference).set_weight(timely, 41)
    with pytest.raises(PerfevalError, match="非负数字"):
        whatif.Scenario(reference).set_weight(timely, -1)


def test_method_and_scale_changes(reference) -> None:
    cost = index_of(reference, "社保金缴费（万元）")
    by_name = whatif.Scenario(reference).edit(cost, method="反向")
    assert by_name.project().indicators.at[cost, "method"] == "negative"
    expected = perfeval.evaluate(reference.with_indicator(cost, method="negative"))
    assert by_name.evaluate().total == expected.total
    with pytest.raises(PerfevalError, match="评分方法「随便」无效"):
        whatif.Scenario(reference).edit(cost, method="随便")

    social = index_of(reference, "提升基层工会工作人员业务能力")
    partial = reference.with_indicator(social, actual="基本达到")
    scenario = whatif.Scenario(partial).with_options(qualitative_scale="four_grade")
    four = perfeval.evaluate(partial, options={"qualitative_scale": "four_grade"})
    three = perfeval.evaluate(partial)
    assert scenario.evaluate().total == four.total != three.total
    assert scenario.describe() == ["定性指标评分等级：四档：优/良/中/差"]
    assert not scenario.with_options(qualitative_scale="three_tier").changed


def test_saved_scenario_scores_the_same_with_perfeval_score(tmp_path: Path, reference,
                                                            capsys: pytest.CaptureFixture) -> None:
    from perfeval.cli import main

    cost = index_of(reference, "社保金缴费（万元）")
    timely = index_of(reference, "社保金缴费资金及时发放率（%）")
    scenario = (whatif.Scenario(reference).edit(cost, actual="25万元").set_weight(timely, 12)
                .edit(cost, method="正向"))
    saved = whatif.save_scenario(scenario, tmp_path / "情景" / "A.xlsx")
    assert saved.scheme is None and saved.total == scenario.evaluate().total
    capsys.readouterr()
    assert main(["score", str(saved.workbook), "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["total"] == saved.total and scored["grade"] == saved.grade
    info = perfeval.load_project(saved.workbook).info
    assert "实际完成值：31.98万元 → 25万元" in info["情景说明"]

    social = index_of(reference, "提升基层工会工作人员业务能力")
    scaled = whatif.Scenario(reference).edit(social, actual="基本达到").with_options(
        qualitative_scale="four_grade")
    saved = whatif.save_scenario(scaled, tmp_path / "B.xlsx")
    assert saved.scheme == tmp_path / "B.方案.toml" and saved.scheme.is_file()
    assert saved.command == f"perfeval score {tmp_path / 'B.xlsx'} --scheme {saved.scheme}"
    assert main(["score", str(saved.workbook), "--scheme", str(saved.scheme), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == saved.total == scaled.evaluate().total
    with pytest.raises(PerfevalError, match=r"保存为 \.xlsx"):
        whatif.save_scenario(scaled, tmp_path / "B.csv")
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["B.xlsx", "B.方案.toml"]


# ---------------------------------------------------------------- robustness

def test_reference_grade_is_robust_to_every_alternative(reference) -> None:
    table = robustness.alternatives(reference)
    assert len(table) == 6 and set(table["等级"]) == {"优"} and set(table["等级变化"]) == {"不变"}
    for label, changes in robustness.alternative_options(perfeval.evaluate(reference).options)[1:]:
        expected = perfeval.evaluate(reference, options=changes)
        assert table.loc[table["口径"] == label, "总分"].item() == expected.total
    assert table.loc[table["口径"] == "得分截尾取舍（不进位）", "总分"].item() == 98.92


def test_monte_carlo_reproduces_the_total_without_spread(reference) -> None:
    ev = perfeval.evaluate(reference)
    mc = robustness.weight_monte_carlo(ev, draws=50, spread=0.0)
    assert np.all(mc.totals == ev.total)
    mc = robustness.weight_monte_carlo(ev, draws=2000, spread=0.2, seed=7)
    assert mc.draws == 2000 and mc.grade_probability["优"] == 1.0
    assert sum(mc.grade_probability.values()) == pytest.approx(1.0)
    assert mc.totals.std() > 0 and mc.totals.max() <= 100
    again = robustness.weight_monte_carlo(ev, draws=2000, spread=0.2, seed=7)
    assert np.array_equal(mc.totals, again.totals)


def test_monte_carlo_near_a_grade_boundary_mixes_grades(reference) -> None:
    timely = index_of(reference, "社保金缴费资金及时发放率（%）")
    cost = index_of(reference, "社保金缴费（万元）")
    near = reference.with_indicator(timely, actual="10%").with_indicator(cost, actual="28万元")
    ev = perfeval.evaluate(near)
    assert 89 < ev.total < 91
    mc = robustness.weight_monte_carlo(ev, draws=3000, spread=0.3)
    assert 0.05 < mc.grade_probability["优"] < 0.95 and 0.05 < mc.grade_probability["良"] < 0.95
    table = robustness.monte_carlo_table(mc)
    assert table["抽样次数"].sum() == 3000


def test_grade_of_matches_the_scheme(reference) -> None:
    scheme = perfeval.evaluate(reference).scheme
    totals = np.array([100, 90, 89.99, 80, 79.99, 60, 59.99, 0])
    assert robustness.grade_of(totals, scheme).tolist() == [scheme.grade(t) for t in totals]

