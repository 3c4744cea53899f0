"""The reference report (阿克陶县总工会 2022): every figure the issue names, through the CLI."""

import json

import pytest

import perfeval
from perfeval.cli import main


@pytest.fixture(scope="module")
def scored(reference_path, capsys_module=None):
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["score", str(reference_path), "--json"])
    assert code == 0
    return json.loads(buffer.getvalue())


def test_total_grade_and_levels(scored):
    assert scored["project"] == {"id": "AKT2022-001", "name": "工会社会化聘用人员社保缴费", "year": 2022}
    assert scored["scheme"] == "third_party"
    assert scored["total"] == 98.94
    assert scored["grade"] == "优"
    levels = {lv["name"]: (lv["weight"], lv["score"]) for lv in scored["levels"]}
    assert levels == {"决策": (20, 20), "过程": (20, 19.78), "产出": (40, 39.16), "效益": (20, 20)}
    assert sum(i["score"] for i in scored["indicators"]) == pytest.approx(98.94)


def test_budget_rates_are_fractions(scored):
    b = scored["budget"]
    assert (b["budget"], b["allocated"], b["spent"]) == (33.46, 33.46, 31.98)
    assert round(b["execution_rate"], 3) == 0.956
    assert round(b["deviation_rate"], 3) == 0.044
    assert b["arrival_rate"] == 1.0


def test_indicator_rows(scored):
    rows = {i["name"]: i for i in scored["indicators"]}
    assert len(rows) == 20
    assert rows["预算执行率"]["score"] == 4.78 and rows["预算执行率"]["rule"] == "execution"
    assert rows["社保金缴费资金及时发放率（%）"]["score"] == 9.6
    assert rows["社保金缴费资金及时发放率（%）"]["stated_score"] == 9.61
    assert rows["社保金缴费（万元）"]["score"] == 9.56
    assert rows["社保金缴费（万元）"]["rule"] == "positive"
    assert rows["社保金缴费（万元）"]["deviation"] == pytest.approx(-0.044, abs=5e-4)
    assert set(rows["立项依据充分性"]) >= {"level1", "level2", "level3", "name", "weight", "target",
                                      "actual", "rule", "score", "stated_score", "deviation"}


def _findings(scored, code):
    return [f for f in scored["findings"] if f["code"] == code]


def test_findings_required_by_the_issue(scored):
    subtotals = " ".join(f["message"] for f in _findings(scored, "stated_subtotal"))
    assert "「过程」" in subtotals and "20 分" in subtotals and "19.78" in subtotals
    assert "「产出」" in subtotals and "39.22" in subtotals and "39.16" in subtotals
    (total,) = _findings(scored, "stated_total")
    assert "99" in total["message"] and "98.94" in total["message"]
    rate_msgs = " ".join(f["message"] for f in _findings(scored, "conflicting_statements")
                         + _findings(scored, "stated_rate"))
    assert "96.6%" in rate_msgs and "95.6%" in rate_msgs
    amount_msgs = " ".join(f["message"] for f in _findings(scored, "conflicting_statements"))
    assert "33.46" in amount_msgs and "31.98" in amount_msgs
    units = {f["where"]: f["message"] for f in _findings(scored, "unit_mismatch")}
    assert any("社会化人员社保金缴费人数" in w and "次" in m and "人" in m for w, m in units.items())
    assert any("缴费种类" in w and "场次" in m and "种" in m for w, m in units.items())
    (operator,) = _findings(scored, "suspicious_operator")
    assert "社保金缴费（万元）" in operator["message"] and "≥33.46万元" in operator["message"]
    items = {f["where"] for f in _findings(scored, "stated_item_score")}
    assert len(items) == 2
    for f in scored["findings"]:
        assert f["severity"] in ("error", "warning", "info") and f["where"]


def test_csv_and_xlsx_give_the_same_evaluation(reference_path):
    from tests.conftest import REFERENCE_CSV

    a = perfeval.evaluate(perfeval.load_project(REFERENCE_CSV)).to_dict()
    b = perfeval.evaluate(perfeval.load_project(reference_path)).to_dict()
    assert a == b


def test_readable_summary(reference_path, capsys):
    assert main(["score", str(reference_path)]) == 0
    out = capsys.readouterr().out
    assert "总分 98.94 分" in out and "等级 优" in out and "预算执行率 95.6%" in out
    assert "数据核查" in out


def test_alternative_rule_choices_change_what_they_should(reference_project):
    base = perfeval.evaluate(reference_project)
    truncated = perfeval.evaluate(reference_project, options={"rounding": "truncate"})
    assert truncated.total == pytest.approx(98.92)  # 4.77 and 9.55 instead of 4.78 and 9.56
    allocated = perfeval.evaluate(reference_project, options={"execution_denominator": "allocated"})
    assert allocated.total == base.total  # 到位数 == 预算数 in this project
    assert base.options.rounding == "half_up" and base.scheme.id == "third_party"
