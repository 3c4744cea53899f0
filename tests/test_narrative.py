"""The report as data: every number comes from the Evaluation, in the reference report's register."""

from __future__ import annotations

from pathlib import Path

import pytest

import perfeval
from perfeval.report import compose as n

REFERENCE_CSV = Path(__file__).resolve().parents[1] / "data" / "reference" / "csv" / "AKT2022-001.csv"
GENERATED = "2024-05-06 07:08:09+08:00"


@pytest.fixture(scope="module")
def ev():
    return perfeval.evaluate(perfeval.load_project(REFERENCE_CSV))


@pytest.fixture(scope="module")
def doc(ev):
    return n.compose(ev, GENERATED)


def _texts(part: n.Part) -> list[str]:
    return [b.text for b in part.blocks if isinstance(b, n.Paragraph | n.Heading)]


def test_formatting_helpers():
    assert n.fmt_num(20.0) == "20"
    assert n.fmt_num(19.780) == "19.78"
    assert n.fmt_num(float("nan")) == "—"
    assert n.fmt_num(-0.0001) == "0"
    assert n.fmt_pct(0.9557680812910938) == "95.6%"
    assert n.fmt_pct(1.0) == "100%"
    assert n.fmt_pct(None) == "—"
    assert [n.cn_number(i) for i in (1, 10, 11, 20, 23)] == ["一", "十", "十一", "二十", "二十三"]
    assert n.cn_count(2) == "两"
    assert n.join_cn(["项目立项", "绩效目标", "资金投入"]) == "项目立项、绩效目标和资金投入"
    assert n.clean("a\x0bb\r\nc ") == "ab\nc"
    assert n.clean(float("nan")) == ""


def test_outline_follows_the_reference_report(doc):
    level1 = [b.text for b in doc.blocks() if isinstance(b, n.Heading) and b.level == 1]
    assert level1[:8] == [
        "一、基本情况", "二、绩效评价工作开展情况", "三、综合评价情况及评价结论", "四、绩效评价指标分析",
        "五、预算执行进度与绩效指标偏差", "六、主要经验及做法、存在的问题及原因分析", "七、有关建议",
        "八、其他需要说明的问题"]
    assert level1[8:] == ["附表\u3000绩效评价指标评分表", "附录\u3000数据核查"]
    assert [p.key for p in doc.parts] == list(n.PART_KEYS)
    assert doc.title == "工会社会化聘用人员社保缴费项目支出绩效评价报告"


def test_level_paragraphs_in_the_reports_register(doc, ev):
    text = "\n".join(_texts(doc.part("四")))
    assert ("项目决策类指标包括项目立项、绩效目标和资金投入三方面的内容，由6个三级指标构成，"
            "权重分为20分，实际得分20分，得分率为100%。") in text
    assert ("项目过程类指标包括资金管理和组织实施两方面的内容，由5个三级指标构成，"
            "权重分为20分，实际得分19.78分，得分率为98.9%。") in text
    for level in ev.levels.itertuples():
        rate = n.fmt_pct(level.score / level.weight)
        assert f"权重分为{n.fmt_num(level.weight)}分，实际得分{n.fmt_num(level.score)}分，得分率为{rate}" in text
    assert "（2）预算执行率：预算数33.46万元，到位数33.46万元，执行数31.98万元，预算执行率95.6%" in text
    assert "该指标扣0.22分，得4.78分。偏差原因：12月份社保金未按时缴纳。改进措施：今后按时缴纳社保金。" in text


def test_conclusion_states_total_and_grade(doc, ev):
    text = "\n".join(_texts(doc.part("三")))
    assert f"本项目总得分为{n.fmt_num(ev.total)}分，绩效评级为“{ev.grade}”" in text
    assert "98.94" in text and "“优”" in text
    assert "过程类指标得分19.78分" in text and "产出类指标得分39.16分" in text
    levels = doc.tables()["levels"]
    assert levels.rows[-1] == ("合计", "100", "98.94", "98.9%")


def test_funds_table_and_rates(doc, ev):
    funds = doc.tables()["funds"]
    assert funds.columns == ("项目", "预算数", "到位数", "执行数", "资金到位率", "预算执行率", "偏差率")
    assert funds.rows[0] == ("年度资金总额", "33.46", "33.46", "31.98", "100%", "95.6%", "4.4%")
    assert ("其中：本级财政资金", "33.46", "—", "—", "—", "—", "—") in funds.rows
    text = "\n".join(_texts(doc.part("一")))
    assert "实际支出31.98万元，预算执行率95.6%（执行数/预算数），偏差率4.4%" in text


def test_targets_list_the_performance_indicators(doc):
    text = "\n".join(_texts(doc.part("一")))
    assert "“社会化人员社保金缴费人数（人）”指标，预期指标值为≥24次" in text
    assert "“服务群众满意度（%）”指标，预期指标值为≥95%" in text
    assert "“预算执行率”指标" not in text  # an evaluation criterion, not a performance target


def test_scoring_table_matches_the_evaluation(doc, ev):
    table = doc.tables()["scores"]
    assert table.columns == ("一级指标", "二级指标", "三级指标", "指标名称", "分值", "指标值", "实际完成值",
                             "解读", "得分", "得分率")
    body = [r for i, r in enumerate(table.rows) if i not in table.strong]
    assert len(body) == len(ev.indicators)
    for row, ind in zip(body, ev.indicators.itertuples(), strict=True):
        assert row[3] == ind.name
        assert row[4] == n.fmt_num(ind.weight)
        assert row[8] == n.fmt_num(ind.score)
        assert row[9] == n.fmt_pct(ind.score / ind.weight)
    readings = {r[3]: r[7] for r in body}
    assert readings["社保金缴费（万元）"] == "目标 ≥33.46 万元\n实际 31.98 万元"
    assert readings["社会化人员社保金缴费人数（人）"] == "目标 ≥24 次\n实际 24 人"  # the unit mismatch shows
    assert readings["社保金缴费资金及时发放率（%）"] == "目标 =100%\n实际 96%"
    assert readings["预算执行率"] == "执行率 95.58%\n（执行数/预算数）"
    assert readings["提升基层工会工作人员业务能力"] == "判定为「达成」"
    assert readings["立项依据充分性"] == "未扣分"
    assert all(r[7] == "" for i, r in enumerate(table.rows) if i in table.strong)
    assert table.rows[-1][0] == "合计" and table.rows[-1][-2:] == ("98.94", "98.9%")
    subtotals = {r[0]: r[-2] for i, r in enumerate(table.rows) if i in table.strong}
    assert subtotals == {"决策小计": "20", "过程小计": "19.78", "产出小计": "39.16", "效益小计": "20",
                         "合计": "98.94"}


def test_scoring_table_merges_level_cells(doc):
    table = doc.tables()["scores"]
    spans, colspans = table.spans(), table.colspans()
    assert spans[0][0] == 6 and spans[0][1] == 2  # 决策 over its six rows, 项目立项 over two
    subtotal = table.strong[0]
    assert colspans[subtotal][:4] == [4, 0, 0, 0]  # 决策小计 spans the four label columns


def test_deviation_section_lists_each_deviating_indicator(doc, ev):
    table = doc.tables()["deviations"]
    names = [r[1] for r in table.rows]
    # every indicator that lost points is in 表3, except the funds rows: the budget paragraph covers them
    ind = ev.indicators
    lost = set(ind.loc[(ind["lost"] > 0.005) & ~ind["rule"].isin(["execution", "arrival"]), "name"])
    assert lost == set(names)
    row = dict(zip(names, table.rows, strict=True))["社保金缴费（万元）"]
    assert row[2:] == ("18", "≥33.46万元", "31.98万元", "-4.4%", "0.44", "年初目标设置过高，未能实现",
                       "加强年初预算知识培训，做到预算相符")
    text = "\n".join(_texts(doc.part("五")))
    assert text.startswith("五、预算执行进度与绩效指标偏差\n（一）预算执行及绩效指标偏差情况\n有偏差：")
    assert "预算执行率为95.6%，偏差率为4.4%" in text
    assert "预算执行率指标失0.22分（指标表第9行），偏差原因：12月份社保金未按时缴纳" in text


def test_free_text_sections_come_from_the_sheet(doc, ev):
    for key, section in (("七", "建议"), ("八", "其他需要说明的问题"), ("六", "经验做法")):
        first_line = ev.project.narrative[section].split("\n")[0].strip()
        assert first_line in _texts(doc.part(key))


def test_missing_sections_are_marked_not_invented(ev):
    """Sections the data cannot write (背景, 经验做法 …) carry one short mark; 建议 becomes a draft."""
    bare = perfeval.evaluate(ev.project.replace(narrative={}))
    doc = n.compose(bare, GENERATED)
    notes = [(b.style, b.text) for b in doc.part("八").blocks if isinstance(b, n.Paragraph)]
    assert notes == [("missing", n.MISSING_MARK)]
    styles = [b.style for b in doc.part("七").blocks if isinstance(b, n.Paragraph)]
    assert styles[0] == "draft-mark" and set(styles[1:]) == {"draft"}
    assert "工作表未填写" not in doc.text()


def test_appendix_lists_every_finding(doc, ev):
    table = doc.tables()["findings"]
    assert len(table.rows) == len(ev.findings) > 0
    assert {r[2] for r in table.rows} == set(ev.findings["message"])
    assert [r[1] for r in table.rows] == sorted((r[1] for r in table.rows),
                                                key=["错误", "警告", "提示"].index)
    counts = ev.findings_by_severity
    assert f"错误{counts['error']}项，警告{counts['warning']}项" in "\n".join(_texts(doc.part("附录")))


def test_provenance(doc, ev):
    prov = doc.provenance
    assert prov.sha256 == ev.project.sha256 and len(prov.sha256) == 64
    assert prov.version == perfeval.__version__
    assert prov.scheme_id == "third_party"
    assert prov.generated_at == GENERATED
    assert prov.source == "AKT2022-001.csv"
    assert prov.options == ""  # scheme defaults
    changed = n.compose(perfeval.evaluate(ev.project, options={"negative_rule": "linear"}))
    assert changed.provenance.options == "negative_rule=linear"


def test_numbers_follow_the_data_not_the_reference(ev):
    """What-if: a different 执行数 changes every place the report states it."""
    what_if = perfeval.evaluate(ev.project.replace(spent=30.0))
    doc = n.compose(what_if, GENERATED)
    rate = n.fmt_pct(30.0 / 33.46)
    assert rate == "89.7%"
    assert doc.tables()["funds"].rows[0][3:] == ("30", "100%", rate, n.fmt_pct(1 - 30.0 / 33.46))
    assert f"预算执行率{rate}" in "\n".join(_texts(doc.part("四")))
    assert dict(doc.tables()["summary"].rows)["总得分"].startswith(n.fmt_num(what_if.total))
    assert what_if.total != ev.total


def test_sheet_text_is_carried_verbatim(ev):
    nasty = "<script>alert(1)</script> **粗体** $x^2$"
    doc = n.compose(perfeval.evaluate(ev.project.replace(name=nasty)), GENERATED)
    assert doc.title.startswith(nasty)  # as text; renderers escape it
    assert ("项目名称", nasty) in doc.facts


def test_dict_round_trip(doc):
    assert n.doc_from_dict(doc.to_dict()) == doc
