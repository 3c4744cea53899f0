"""The standard 项目支出绩效自评表, read as it comes (issue 8, item 6).

Fixtures: tests/data/selfeval/*.xlsx, written by tests/make_selfeval_fixtures.py with merged cells as
printed tables have them.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pandas as pd
import pytest
from make_selfeval_fixtures import standard_sheet, write_all
from openpyxl import Workbook

import perfeval
from perfeval.cli import main
from perfeval.sheets.layouts import is_selfeval_grid, selfeval_sheets
from perfeval.sheets.load import read_projects, validate_paths
from perfeval.sheets.read import read_workbook

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "selfeval"


def only_project(path: Path) -> perfeval.Project:
    reads = read_projects(path)
    assert len(reads) == 1
    assert reads[0].problems == []
    assert reads[0].project is not None
    return reads[0].project


def stated(project: perfeval.Project) -> dict[str, tuple[str, str]]:
    return {r.item: (r.text, r.where) for r in project.stated.itertuples()}


# ---------------------------------------------------------------------------------------------- A: 10号 附件2


def test_standard_header_and_funds_are_read():
    project = only_project(DATA / "standard.xlsx")
    assert project.id == "standard"  # no 项目编号 in the table, one sheet: the file stem
    assert project.name == "职业技能提升培训补贴"
    assert project.department == "某县人力资源和社会保障局"
    assert project.unit == "某县职业技能培训中心"
    assert project.year == 2023  # from "（2023年度）", not from 填报日期 2024年1月15日
    assert project.scheme_id == "self" and project.method == "单位自评"
    assert (project.budget, project.spent) == (120.0, 114.0)  # 全年预算数, 全年执行数 (not 年初预算数 100)
    assert project.allocated == 120.0 and "全年预算数" in project.info["到位数说明"]
    assert project.funding == {"本级财政资金": 110.0, "上年结转资金": 10.0}  # 其他资金 is blank
    assert project.info["年初预算数"] == "100"
    assert project.info["填表人"] == "张三" and project.info["填报日期"] == "2024年1月15日"
    assert project.narrative["总体目标"].startswith("全年开展职业技能培训不少于36000人次")
    assert project.narrative["总体目标完成情况"] == "全年培训36500人次，覆盖11个乡镇。"


def test_standard_indicators_keep_excel_rows_and_skip_what_is_not_an_indicator():
    ind = only_project(DATA / "standard.xlsx").indicators
    # the blank row 16, the template leftovers "指标2：" / "……" (rows 20–21), the 总分 row 24,
    # 自评等级, the footer and the note are not indicators
    assert ind["row"].tolist() == [6, 13, 14, 15, 17, 18, 19, 22, 23]
    assert ind["name"].tolist() == ["预算执行率", "培训人次", "覆盖乡镇数", "培训合格率", "培训按计划完成",
                                    "人均培训成本", "参训人员就业率", "长效培训机制", "学员满意度"]
    assert ind["level1"].tolist() == ["预算执行率"] + ["产出"] * 5 + ["效益"] * 2 + ["满意度"]
    assert ind["level2"].tolist()[1:4] == ["数量指标", "数量指标", "质量指标"]  # merged cells inherited
    execution = ind.iloc[0]
    assert (execution["method"], execution["weight"], execution["stated_score"]) == ("execution", 10.0, 9.5)
    assert ind["weight"].sum() == 100
    assert ind.loc[ind["name"] == "培训人次", "weight"].item() == 15.0  # "15" written as text
    assert ind.loc[ind["name"] == "覆盖乡镇数", "reason"].item() == "1个乡镇因场地未落实未开展，下年度补开"
    assert ind.loc[ind["name"] == "覆盖乡镇数", "stated_score"].item() == 9.17


def test_standard_stated_figures_go_to_the_audit():
    project = only_project(DATA / "standard.xlsx")
    assert stated(project) == {
        "预算数": ("120", "自评表第6行「全年预算数（A）」"),
        "执行数": ("114", "自评表第6行「全年执行数（B）」"),
        "预算执行率": ("0.95", "自评表第6行「执行率（B/A）」"),
        "总分": ("98.67", "自评表第24行「总分」"),
        "等级": ("优", "自评表第25行「自评等级」"),
    }
    ev = perfeval.evaluate(project)
    assert (ev.total, ev.grade) == (98.67, "优")
    assert ev.budget.execution_rate == pytest.approx(0.95)
    stated_codes = {c for c in ev.findings["code"] if c.startswith("stated") or c == "conflicting_statements"}
    assert stated_codes == set()  # a consistent table: every stated figure reproduced


def test_cli_validate_and_score_accept_the_table(capsys):
    assert main(["validate", str(DATA / "standard.xlsx")]) == 0
    capsys.readouterr()
    assert main(["score", str(DATA / "standard.xlsx"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["total"], result["grade"], result["scheme"]) == (98.67, "优", "self")
    assert result["indicators"][0]["rule"] == "execution"


def test_a_wrong_cell_is_located_in_the_file_as_the_user_sees_it():
    reads = read_projects(DATA / "bad_cell.xlsx")
    assert len(reads) == 1 and reads[0].project is None
    found = {(p.sheet, p.row, p.column, p.value) for p in reads[0].problems}
    assert found == {("Sheet1", 14, "分值", "十分"), ("Sheet1", 15, "年度指标值", "≈95%")}


def test_a_workbook_of_several_tables_is_several_projects():
    reads = read_projects(DATA / "multi.xlsx")
    # 填表说明 is not a table; the hidden stale copy "旧版" (same 项目编号) is not read
    assert [r.key for r in reads] == ["RS2023-001", "RS2023-002"]
    assert all(r.problems == [] for r in reads)
    second = reads[1].project
    assert second.name == "公益性岗位培训"
    # "总分 | 100 | 自评得分 | 98.67 | 自评等级 | 良" on one row
    assert stated(second)["总分"] == ("98.67", "自评表第24行「总分」")
    assert stated(second)["等级"] == ("良", "自评表第24行「自评等级」")
    ev = perfeval.evaluate(second)
    grade = ev.findings[ev.findings["code"] == "stated_grade"]
    assert len(grade) == 1 and "「良」" in grade["message"].item() and "「优」" in grade["message"].item()
    assert perfeval.load_project(DATA / "multi.xlsx", project_id="RS2023-002").name == "公益性岗位培训"


def test_sheet_names_do_not_matter_and_ids_without_a_code_are_stable(tmp_path):
    wb = Workbook()
    standard_sheet(wb.active, name="甲项目")
    wb.active.title = "Sheet1"
    standard_sheet(wb.create_sheet("附件2"), name="乙项目")
    path = tmp_path / "部门自评.xlsx"
    wb.save(path)
    keys = [r.key for r in read_projects(path)]
    assert keys == ["部门自评-Sheet1", "部门自评-附件2"]
    assert keys == [r.key for r in read_projects(path)]


def test_the_same_code_on_two_tables_is_a_problem(tmp_path):
    wb = Workbook()
    standard_sheet(wb.active, name="甲项目", code="X-1")
    standard_sheet(wb.create_sheet("b"), name="乙项目", code="X-1")
    path = tmp_path / "dup.xlsx"
    wb.save(path)
    reads = read_projects(path)
    assert [r.project for r in reads] == [None, None]
    assert all(any(p.expected.startswith("项目编号重复") for p in r.problems) for r in reads)


def test_year_from_the_fill_date_when_the_title_has_none(tmp_path):
    wb = Workbook()
    ws = wb.active
    standard_sheet(ws, name="甲项目")
    ws["A2"] = None  # no "（2023年度）"
    path = tmp_path / "noyear.xlsx"
    wb.save(path)
    project = only_project(path)
    assert project.year == 2023  # 填报日期 2024年1月15日: the table covers the year before
    assert "填报日期" in project.info["年度说明"]


# ---------------------------------------------------------------------------------------------- B: 101号 / exports


def test_nature_and_unit_columns_are_combined_into_one_target():
    project = only_project(DATA / "variant101.xlsx")
    ind = project.indicators.set_index("name")
    assert project.id == "WH-2022-017" and project.year == 2022
    assert ind.loc["演出场次", "target"] == "≥120场" and ind.loc["演出场次", "actual"] == "118场"
    assert ind.loc["观众人次", "target"] == "≥36000人次" and ind.loc["观众人次", "actual"] == "36500人次"
    assert ind.loc["演出合格率", "target"] == "=100%"
    assert ind.loc["演出按期完成", "method"] == "qualitative"  # 指标性质 定性
    assert ind.loc["观众满意度", "target"] == "≥90%" and ind.loc["观众满意度", "actual"] == "93%"
    assert project.funding == {"本级财政资金": 80.0}  # "本年财政拨款"
    ev = perfeval.evaluate(project)
    assert (ev.total, ev.grade) == (98.67, "优")
    scores = ev.indicators.set_index("name")["score"]
    assert scores["演出场次"] == 19.67 and scores["演出合格率"] == 10
    assert not ev.findings["code"].str.startswith("stated").any()


def test_export_with_a_two_row_header_and_numbers_as_numbers():
    project = only_project(DATA / "export.xlsx")
    ind = project.indicators.set_index("name")
    assert ind.loc["家庭医生签约人次", "target"] == "≥36000人次"
    assert ind.loc["家庭医生签约人次", "actual"] == "36500人次"
    assert ind.loc["慢病规范管理率", "target"] == "≥90%"
    assert ind.loc["慢病规范管理率", "actual"] == "0.93"  # a percent cell: a fraction, kept bare
    assert project.year == 2023 and project.name == "社区卫生服务能力提升"
    ev = perfeval.evaluate(project)
    assert ev.indicators.set_index("name").loc["慢病规范管理率", "score"] == 20
    assert (ev.total, ev.grade) == (98.0, "优")
    assert stated(project)["总分"] == ("98", "自评表第12行「总分」")


# ---------------------------------------------------------------------------------------------- C: Hubei


def test_hubei_budget_block_and_goal_blocks():
    project = only_project(DATA / "hubei.xlsx")
    assert project.year == 2020 and project.name == "水土保持监测"
    assert project.unit == "某市水土保持科研所"  # 项目实施单位 "本单位" → 单位名称
    ind = project.indicators
    assert ind["row"].tolist() == [5, 7, 8, 11, 12, 13, 14]
    # no 分值 column: block 1's scores (20, 20) add up to its 40分, so they are its weights; block 2's
    # (10, 10, 9, 10) do not, so its 40分 is shared equally — each reading noted in Project.info
    assert ind["weight"].tolist() == [20.0, 20.0, 20.0, 10.0, 10.0, 10.0, 10.0]
    assert "得分取整后合计 40 分" in project.info["分值说明（第6行）"]
    assert "40 分在 4 个指标间平均分配" in project.info["分值说明（第10行）"]
    assert ind.set_index("name").loc["水土流失治理面积", "reason"] == "治理面积受汛期影响未达目标"
    assert project.narrative["改进措施及结果应用方案"] == "提前安排施工计划"
    # the execution row's 得分 is that indicator's stated score, not stated a second time
    assert "预算执行率得分" not in stated(project)
    assert ind.loc[ind["level1"] == "预算执行率", "stated_score"].tolist() == [20.0]
    ev = perfeval.evaluate(project)
    assert ev.total == 99.0 and ev.grade == "优"
    assert not ev.findings["code"].isin(["stated_total", "stated_item_score", "unexplained_deviation"]).any()


def test_weights_that_do_not_match_the_scheme():
    """产出 70 + 效益 20 + 满意度 10 + 预算执行率 10 = 110. Today check_weights refuses the table with one
    located problem; issue 8 item 3 turns this into findings (flip this test at integration)."""
    reads = read_projects(DATA / "weights110.xlsx")
    assert len(reads) == 1
    problems = reads[0].problems
    assert len(problems) == 1 and "110" in problems[0].expected
    assert (problems[0].sheet, problems[0].column) == ("绩效目标自评表", "分值")


def test_weights110_table_is_otherwise_read(monkeypatch):
    import perfeval.sheets.layouts.selfeval as selfeval

    monkeypatch.setattr(selfeval, "check_weights", lambda *a, **k: [])
    project = only_project(DATA / "weights110.xlsx")
    assert len(project.indicators) == 10
    assert project.narrative["总体目标"] == "对农村地区供水计量设施设备进行改进"
    assert project.info["项目负责人"] == "谢某 139xxxx0322"
    assert stated(project)["预算执行率"] == ("100.00%", "自评表第6行「执行率（B/A）」")
    assert project.indicators.set_index("name").loc["项目(工程)验收合格率", "weight"] == 20


# ---------------------------------------------------------------------------------------------- detection


@pytest.mark.parametrize("path", [ROOT / "data" / "reference" / "AKT2022-001.xlsx",
                                  *sorted((ROOT / "data" / "synthetic").glob("*.xlsx"))],
                         ids=lambda p: p.name)
def test_perfeval_own_workbooks_are_not_taken_for_a_selfeval_table(path):
    raw = read_workbook(path)
    assert selfeval_sheets(raw) == []
    assert not any(is_selfeval_grid(grid) for grid in raw.grids.values())


def test_the_template_is_not_taken_for_a_selfeval_table(tmp_path):
    path = tmp_path / "模板.xlsx"
    assert main(["template", str(path)]) == 0
    raw = read_workbook(path)
    assert selfeval_sheets(raw) == [] and not any(is_selfeval_grid(g) for g in raw.grids.values())


def test_the_reference_project_reads_as_before(reference_project):
    assert reference_project.id == "AKT2022-001"
    assert perfeval.evaluate(reference_project).total == 98.94


def test_an_own_format_indicator_sheet_alone_is_not_a_selfeval_table(tmp_path):
    # perfeval's own 指标 headers, titled like a 自评表 but without 得分 or a funds block
    header = ["一级指标", "二级指标", "三级指标", "分值", "指标值", "实际完成值"]
    grid = pd.DataFrame([["项目支出绩效评价指标", *[None] * 5], header], dtype=object)
    assert not is_selfeval_grid(grid)


def test_detection_looks_only_at_the_first_rows():
    header = ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分"]
    rows = [["项目支出绩效自评表", *[None] * 6], header] + [["产出指标", "数量指标", f"指标{i}", "≥1个", "1个", 1, 1]
                                                for i in range(200_000)]
    big = pd.DataFrame(rows, dtype=object)
    start = time.perf_counter()
    assert is_selfeval_grid(big)
    assert not is_selfeval_grid(big.iloc[2:].reset_index(drop=True))
    assert time.perf_counter() - start < 1.0


def test_a_folder_of_tables_validates_file_by_file():
    problems = validate_paths(sorted(DATA.glob("*.xlsx")))
    files = {Path(p.file).name for p in problems}
    # weights110.xlsx: see test_weights_that_do_not_match_the_scheme (a refusal today, findings after issue 8 item 3)
    assert files - {"weights110.xlsx"} == {"bad_cell.xlsx"}


def test_fixtures_match_their_script(tmp_path):
    for fresh in write_all(tmp_path):
        old, new = read_workbook(DATA / fresh.name), read_workbook(fresh)
        assert list(old.grids) == list(new.grids)
        for name in old.grids:
            a, b = old.grids[name], new.grids[name]
            assert a.shape == b.shape
            assert all((x == y) or (isinstance(x, float) and math.isnan(x) and math.isnan(y))
                       for x, y in zip(a.to_numpy().ravel(), b.to_numpy().ravel(), strict=True))


# ---------------------------------------------------------------------------------------------- as published


def test_a_county_table_in_yuan_with_a_two_row_header():
    project = only_project(DATA / "units.xlsx")
    assert project.budget == pytest.approx(38.766462) and project.spent == pytest.approx(38.766462)  # 元 → 万元
    assert "元" in project.info["金额单位说明"]
    assert stated(project)["预算数"] == ("387664.62元", "自评表第5行「全年预算数」")
    ind = project.indicators.set_index("name")
    assert ind.loc["学生受资助人数", "target"] == "≥735人次"  # 指标性质 ≧ | 指标值 735 | 度量单位 人次
    assert ind.loc["生均补助标准达标率", "target"] == "=100%"  # ═ (U+2550) is "="
    # a 二级 效益 row under a blank 一级 below 产出 rows belongs to 效益, and the reading is noted
    assert ind.loc["政策知晓率", "level1"] == "效益"
    assert "社会效益指标" in project.info["一级指标说明（第18行）"]
    # "其中：寄宿生人数" itemises the row above (no 分值, no 得分): not an indicator, noted
    assert "其中：寄宿生人数" not in ind.index and "第14行" in project.info["其中明细说明（第11行起）"]
    # a row with no target takes the table's own score as the evaluator's judgement, and says so
    row = ind.loc["促进学校教育事业健康发展"]
    assert (row["method"], row["deduction"]) == ("manual", 0.0) and "按表中得分" in row["deduction_reason"]
    # "其中：当年财政拨款" repeats 分值 10 / 得分 10: counted once, noted
    assert "计分一次" in project.info["资金明细说明（第6行）"]
    assert (ind["level1"] == "预算执行率").sum() == 1
    assert stated(project)["等级"] == ("优", "自评表第23行「等级」")  # the grade at the end of the 总分 row
    assert "其他需要说明事项" not in project.indicators["level1"].tolist()
    ev = perfeval.evaluate(project)
    assert ev.total == 99.8 and ind["weight"].sum() == 100
    codes = ev.findings.loc[ev.findings["severity"] != "info", "code"].tolist()
    # 资金到位及时率 met but scored 7; the 其中 row repeats 分值/得分. The total 96.8 is the sum of the table's
    # own item scores, so its difference from 99.8 is only a note (it comes from that item score)
    assert sorted(codes) == ["duplicate_indicator", "stated_item_score"]
    assert ev.findings.loc[ev.findings["code"] == "stated_total", "severity"].tolist() == ["info"]
    assert "资金到位及时率" in ev.findings.loc[ev.findings["code"] == "stated_item_score", "message"].item()


def test_a_row_with_neither_target_nor_score_is_a_located_error(tmp_path):
    wb = Workbook()
    ws = wb.active
    standard_sheet(ws, name="甲项目")
    for cell in ("E23", "F23", "H23"):  # 学员满意度: target, actual and score left blank
        ws[cell] = None
    path = tmp_path / "blank.xlsx"
    wb.save(path)
    problems = read_projects(path)[0].problems
    assert [(p.row, p.column) for p in problems] == [(23, "年度指标值")]
    assert "无法评分" in problems[0].expected


def test_a_hubei_table_in_traditional_characters():
    project = only_project(DATA / "traditional.xlsx")
    assert project.year == 2020 and project.name == "服務貿易發展資金"
    ind = project.indicators
    assert ind["level1"].tolist() == ["预算执行率", "产出", "产出", "效益"]
    # no 分值 column, scores (25, 25, 27) do not add up to the block's 80: the 一级 weights in the headers
    # (产出 50, 效益 30) are shared among their items
    assert ind["weight"].tolist() == [20.0, 25.0, 25.0, 30.0]
    assert "产出指标 50 分在 2 个指标间平均分配" in project.info["分值说明（第6行）"]
    assert ind.set_index("name").loc["推動企業走出去", "reason"] == "企業受疫情影響走出去進度放緩"
    assert stated(project)["总分"] == ("97", "自评表第10行「总分」")
    ev = perfeval.evaluate(project)
    assert ev.total == 100.0
    assert {"stated_total", "stated_item_score"} <= set(ev.findings["code"])


def test_an_empty_header_value_is_missing_not_the_next_label(tmp_path):
    wb = Workbook()
    ws = wb.active
    standard_sheet(ws, name="甲项目", code="X-9")
    ws["B3"] = None  # 项目名称 | (blank) | 项目编号 | X-9
    path = tmp_path / "noname.xlsx"
    wb.save(path)
    problems = read_projects(path)[0].problems
    assert [(p.row, p.column, p.expected) for p in problems] == [(3, "项目名称", "缺少必填项「项目名称」")]


def test_how_the_table_was_read_goes_into_the_report():
    project = only_project(DATA / "hubei.xlsx")
    notes = project.narrative["其他需要说明的问题"]
    assert notes.startswith("本表据项目支出绩效自评表（hubei.xlsx，工作表「Sheet1」）读取。")
    assert "分值说明（第6行）：表中未列各指标分值" in notes and "到位数说明：" in notes
    # the Hubei bottom rows feed the report's 存在问题 / 建议 sections
    assert project.narrative["存在问题"] == "治理面积受汛期影响未达目标"
    assert project.narrative["建议"] == "提前安排施工计划"


def test_template_numbering_is_not_part_of_the_name(tmp_path):
    wb = Workbook()
    ws = wb.active
    standard_sheet(ws, name="甲项目")
    ws["D13"] = "指标1：培训人次"
    ws["D14"] = "指标完成率"  # a name that merely starts with 指标 keeps it
    path = tmp_path / "numbered.xlsx"
    wb.save(path)
    names = only_project(path).indicators["name"].tolist()
    assert names[1:3] == ["培训人次", "指标完成率"]


def test_a_unit_note_above_the_table_sets_the_amounts_unit(tmp_path):
    wb = Workbook()
    ws = wb.active
    standard_sheet(ws, name="甲项目")
    ws.unmerge_cells("A2:J2")
    ws["J2"] = "单位：元"  # the note beside "（2023年度）"
    ws["A5"] = "项目资金"  # the header itself names no unit
    path = tmp_path / "note.xlsx"
    wb.save(path)
    project = only_project(path)
    assert (project.budget, project.spent) == (pytest.approx(0.012), pytest.approx(0.0114))  # 120 元, 114 元
    assert "元" in project.info["金额单位说明"]


def test_a_missing_amount_is_located_under_its_header(tmp_path):
    wb = Workbook()
    ws = wb.active
    standard_sheet(ws, name="甲项目")
    ws["E6"] = None  # 全年执行数 of 年度资金总额
    path = tmp_path / "nospent.xlsx"
    wb.save(path)
    problems = read_projects(path)[0].problems
    assert [(p.row, p.column, p.expected) for p in problems] == [(6, "全年执行数（B）", "缺少必填项「执行数」")]


def test_a_table_without_a_funds_block_says_so_once(tmp_path):
    wb = Workbook()
    ws = wb.active
    standard_sheet(ws, name="甲项目")
    for row in range(5, 10):
        for col in range(1, 11):
            cell = ws.cell(row=row, column=col)
            if type(cell).__name__ == "Cell":
                cell.value = None
    path = tmp_path / "nofunds.xlsx"
    wb.save(path)
    messages = [p.expected for p in read_projects(path)[0].problems]
    assert sum(m.startswith("找不到资金栏") for m in messages) == 1
    assert not any("缺少必填项" in m for m in messages)  # not again as 预算数 / 到位数 / 执行数


def write_rows(path: Path, rows: list[list[object]]) -> Path:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


FUNDS = [["项目支出绩效自评表"], ["（2023年度）"], ["项目名称", "丙项目", "主管部门", "某局", "实施单位", "某中心"],
         ["项目资金（万元）", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
         ["年度资金总额", 10, 10, 10, 10, 1, 10]]
HEADER = ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分"]


def test_subtotal_rows_are_stated_level_scores_and_an_unlabelled_total_row_is_the_total(tmp_path):
    path = write_rows(tmp_path / "subtotals.xlsx", [
        *FUNDS, HEADER,
        ["产出指标", "数量指标", "完成数", "≥10个", "10个", 50, 50],
        ["产出指标", None, None, None, None, 50, 50],  # subtotal
        ["效益指标", "社会效益指标", "受益人数", "≥100人", "90人", 30, 27],
        ["满意度指标", "服务对象满意度指标", "满意度", "≥90%", "95%", 10, 10],
        [None, None, None, None, None, "100", 97],  # unlabelled total row, 分值 as text
    ])
    project = only_project(path)
    assert project.indicators["name"].tolist() == ["预算执行率", "完成数", "受益人数", "满意度"]
    assert stated(project)["产出得分"] == ("50", "自评表第8行「产出指标·得分」")
    assert stated(project)["总分"] == ("97", "自评表第11行「总分」")
    ev = perfeval.evaluate(project)
    assert ev.total == 97.0 and not ev.findings["code"].str.startswith("stated").any()


def test_a_funds_title_merged_down_from_the_first_amount_row(tmp_path):
    path = write_rows(tmp_path / "fundstitle.xlsx", [
        *FUNDS[:3], [None, None, "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        ["项目资金（万元）", "年度资金总额", 10, 12, 9, 10, 0.75, 7.5],
        [None, "其中：当年财政拨款", 10, 12, 9, "—", "—", "—"],
        ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分"],
        ["产出指标", "数量指标", "完成数", "≥10个", "10个", 50, 50],
        ["效益指标", "社会效益指标", "受益人数", "≥100人", "100人", 30, 30],
        ["满意度指标", "服务对象满意度指标", "满意度", "≥90%", "95%", 10, 10],
        ["总分", None, None, None, None, 100, 97.5],
    ])
    project = only_project(path)
    assert (project.budget, project.spent, project.funding) == (12.0, 9.0, {"本级财政资金": 12.0})
    assert project.indicators.iloc[0][["row", "weight", "stated_score"]].tolist() == [5, 10.0, 7.5]
    assert perfeval.evaluate(project).total == 97.5


def test_hubei_form_is_scored_on_its_own_level_weights():
    """The Hubei form gives 预算执行情况 20 points and weighs its 年度绩效目标 blocks itself: when its weights add up
    to 100 they are the scheme's for this table (no warning per level against 10/50/30/10), said as a note."""
    project = only_project(DATA / "hubei.xlsx")
    assert project.scheme_id.startswith("table:self:预算执行率=20;")
    ev = perfeval.evaluate(project)
    assert dict(zip(ev.levels["name"], ev.levels["scheme_weight"], strict=True))["预算执行率"] == 20
    assert "weights" not in set(ev.findings["code"])
    (note,) = ev.findings[ev.findings["code"] == "table_scheme"].itertuples()
    assert note.severity == "info" and "湖北式自评表" in note.message
    # the same table under an explicitly chosen scheme is audited against that scheme
    (read,) = perfeval.read_projects(DATA / "hubei.xlsx", "self")
    assert read.project is not None and read.project.scheme_id == "self"
    assert "weights" in set(perfeval.evaluate(read.project).findings["code"])
