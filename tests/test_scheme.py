import numpy as np
import pytest

import perfeval
from perfeval.errors import SchemeError
from perfeval.scheme import load_scheme


@pytest.mark.parametrize(("total", "grade"), [(100, "优"), (90, "优"), (89.99, "良"), (80, "良"),
                                              (79.99, "中"), (60, "中"), (59.99, "差"), (0, "差")])
def test_grade_bands_are_half_open(total, grade):
    assert load_scheme("third_party").grade(total) == grade


def test_builtin_schemes_and_aliases():
    tp, self_ = load_scheme("第三方评价"), load_scheme("单位自评")
    assert [(lv.name, lv.weight) for lv in tp.levels] == [("决策", 20), ("过程", 20), ("产出", 40),
                                                         ("效益", 20)]
    assert [(lv.name, lv.weight) for lv in self_.levels] == [("预算执行率", 10), ("产出", 50),
                                                            ("效益", 30), ("满意度", 10)]
    assert tp.level_of("产出指标(40分)") == "产出" and tp.level_of("项目决策") == "决策"
    assert self_.level_of("满意度指标") == "满意度"
    with pytest.raises(SchemeError, match="未知的评价方式"):
        load_scheme("随便评")


def test_custom_scheme_file_with_other_cut_points(tmp_path, reference_project):
    text = (perfeval.scheme.resources.files("perfeval") / "schemes" / "third_party.toml").read_text(
        encoding="utf-8")
    text = text.replace('{ grade = "优", lower = 90,', '{ grade = "优", lower = 99,')
    text = text.replace('id = "third_party"', 'id = "strict"')
    path = tmp_path / "strict.toml"
    path.write_text(text, encoding="utf-8")
    ev = perfeval.evaluate(reference_project, scheme=path)
    assert ev.scheme.id == "strict" and ev.total == 98.94 and ev.grade == "良"
    path.write_text("id = 1", encoding="utf-8")
    with pytest.raises(SchemeError, match="格式不正确"):
        load_scheme(path)


def test_scheme_file_named_in_the_sheet_is_read_beside_the_workbook(tmp_path, reference_project):
    """评价方式 may name a .toml file next to the workbook; evaluate() and batch reload it from there."""
    from perfeval.sheets.write import save_project

    text = (perfeval.scheme.resources.files("perfeval") / "schemes" / "third_party.toml").read_text(
        encoding="utf-8").replace('{ grade = "优", lower = 90,', '{ grade = "优", lower = 99,')
    (tmp_path / "strict.toml").write_text(text.replace('id = "third_party"', 'id = "strict"'), encoding="utf-8")
    path = save_project(reference_project.replace(method="strict.toml"), tmp_path / "p.xlsx")
    project = perfeval.load_project(path)
    assert project.scheme_id == str(tmp_path / "strict.toml")
    evs = perfeval.evaluate_many([project, reference_project])
    assert [(e.scheme.id, e.grade) for e in evs] == [("strict", "良"), ("third_party", "优")]
    assert load_scheme("third_party").spec == "third_party"


def test_self_evaluation_scheme(reference_project):
    """A 自评表: 预算执行率 10 scored from the amounts, 产出 50, 效益 30, 满意度 10."""
    import pandas as pd

    rows = [
        ("预算执行率", "", "", "预算执行率", 10, "", ""),
        ("产出指标(50分)", "数量指标", "", "缴费人数（人）", 25, "≥24人", "24人"),
        ("", "成本指标", "", "社保缴费（万元）", 25, "≤33.46万元", "31.98万元"),
        ("效益指标(30分)", "社会效益指标", "", "业务能力", 30, "有效提升", "基本达到"),
        ("满意度指标(10分)", "服务对象满意度指标", "", "满意度（%）", 10, "≥95%", "90%"),
    ]
    frame = pd.DataFrame(rows, columns=["level1", "level2", "level3", "name", "weight", "target",
                                        "actual"])
    frame["level1"] = frame["level1"].replace("", np.nan).ffill().map(
        lambda s: load_scheme("self").level_of(s))
    for column in ("method", "deduction_reason", "reason", "measure"):
        frame[column] = ""
    frame["stated_score"] = np.nan
    frame["deduction"] = np.nan
    frame["row"] = range(2, 7)
    project = reference_project.replace(scheme_id="self", indicators=frame,
                                        stated=reference_project.stated.iloc[0:0])
    ev = perfeval.evaluate(project)
    scores = dict(zip(ev.indicators["name"], ev.indicators["score"], strict=True))
    assert scores == {"预算执行率": 9.56, "缴费人数（人）": 25, "社保缴费（万元）": 25,
                      "业务能力": 21, "满意度（%）": 9.47}
    assert ev.total == pytest.approx(90.03) and ev.grade == "优"
    assert list(ev.levels["name"]) == ["预算执行率", "产出", "效益", "满意度"]


def test_output_plus_benefit_below_60_is_a_weights_warning(reference_project):
    frame = reference_project.indicators.copy()
    frame.loc[frame["level1"] == "决策", "weight"] *= 1.5  # 决策 30
    frame.loc[frame["name"] == "服务群众满意度（%）", "weight"] = 0  # 效益 10
    ev = perfeval.evaluate(reference_project.replace(indicators=frame))
    weights = ev.findings[ev.findings["code"] == "weights"]["message"].tolist()
    assert any("产出与效益指标合计 50 分" in m for m in weights)
    assert any("「决策」分值合计 30 分" in m for m in weights)


def test_evaluate_many_matches_one_by_one(reference_project):
    variants = [reference_project.with_indicator(15, actual=f"{90 + i}%").replace(id=f"V{i}")
                for i in range(5)]
    together = perfeval.evaluate_many(variants)
    alone = [perfeval.evaluate(v) for v in variants]
    assert [e.to_dict() for e in together] == [e.to_dict() for e in alone]
    assert [e.total for e in together] == pytest.approx([98.34 + i / 10 for i in range(5)])


def test_what_if_edits_do_not_mutate(reference_project):
    before = reference_project.indicators.copy()
    changed = reference_project.with_indicator(11, actual="20人")
    assert reference_project.indicators.equals(before)
    ev = perfeval.evaluate(changed)
    assert ev.indicators.loc[11, "score"] == pytest.approx(3.33)


def test_excel_percent_cells(reference_project):
    """A percent cell typed in Excel arrives as a fraction; a typed "=100%" as the formula value 1."""
    p = reference_project.with_indicator(15, actual=0.96)
    assert perfeval.evaluate(p).indicators.loc[15, "score"] == 9.6
    p = reference_project.with_indicator(15, target=1)
    assert perfeval.evaluate(p).indicators.loc[15, "score"] == 9.6
