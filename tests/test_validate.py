"""Broken sheets: every problem is located (file, sheet, row, column) and nothing crashes."""

import subprocess
import sys
from pathlib import Path

import openpyxl

import perfeval
from perfeval.cli import main


def _edit(path: Path, edit) -> Path:
    book = openpyxl.load_workbook(path)
    edit(book["指标"])
    book.save(path)
    return path


def _problems(path):
    return perfeval.validate_paths([path])


def test_reference_is_clean(reference_path):
    assert _problems(reference_path) == []
    assert main(["validate", str(reference_path)]) == 0


def test_text_in_weight(reference_copy):
    _edit(reference_copy, lambda s: s.cell(13, 5, "四分"))
    (p,) = _problems(reference_copy)
    assert (p.sheet, p.row, p.column, p.value) == ("指标", 13, "分值", "四分")
    assert "非负数字" in p.expected


def test_unknown_operator(reference_copy):
    _edit(reference_copy, lambda s: s.cell(13, 6, "≈24人"))
    (p,) = _problems(reference_copy)
    assert (p.row, p.column, p.value) == (13, "指标值", "≈24人")


def test_missing_actual_column(reference_copy):
    _edit(reference_copy, lambda s: s.delete_cols(7))
    (p,) = _problems(reference_copy)
    assert (p.sheet, p.row, p.column) == ("指标", 1, "实际完成值")
    assert "缺少必需的列" in p.expected


def test_weights_not_summing(reference_copy):
    _edit(reference_copy, lambda s: s.cell(13, 5, 6))
    (p,) = _problems(reference_copy)
    assert p.column == "分值" and p.row in range(13, 19)
    assert "102" in p.expected and "产出42" in p.expected


def test_declared_level_weight_checked(reference_copy):
    _edit(reference_copy, lambda s: s.cell(13, 1, "产出指标(45分)"))
    problems = _problems(reference_copy)
    assert any(p.row == 13 and p.column == "一级指标" and "45" in p.expected for p in problems)


def test_duplicate_indicator(reference_copy):
    _edit(reference_copy, lambda s: s.cell(15, 4, "社会化人员社保金缴费种类（种）"))
    (p,) = _problems(reference_copy)
    assert (p.row, p.column) == (15, "指标名称") and "第14行" in p.expected


def test_empty_sheet(reference_copy):
    def clear(sheet):
        sheet.delete_rows(1, sheet.max_row)

    _edit(reference_copy, clear)
    (p,) = _problems(reference_copy)
    assert p.sheet == "指标" and "为空" in p.expected


def test_not_an_excel_file(tmp_path):
    fake = tmp_path / "项目.xlsx"
    fake.write_text("这不是 Excel", encoding="utf-8")
    (p,) = _problems(fake)
    assert "不是有效的 Excel" in p.expected


def test_all_problems_at_once_and_cli_exit_codes(reference_copy, capsys):
    def many(sheet):
        sheet.cell(13, 5, "四分")
        sheet.cell(14, 6, "≈5种")
        sheet.cell(16, 8, "随便")

    _edit(reference_copy, many)
    assert len(_problems(reference_copy)) == 3
    assert main(["validate", str(reference_copy)]) == 2
    out = capsys.readouterr().out
    assert "第13行" in out and "第14行" in out and "第16行" in out and "评分方法" in out
    assert main(["score", str(reference_copy), "--json"]) == 2
    err = capsys.readouterr().err
    assert "第13行" in err and "Traceback" not in err


def test_cli_process_never_prints_a_traceback(tmp_path):
    fake = tmp_path / "x.xlsx"
    fake.write_bytes(b"PK\x03\x04 broken zip")
    for args in (["validate", str(fake)], ["score", str(fake)], ["score", str(tmp_path / "none.xlsx")],
                 ["score"], ["score", str(fake), "--scheme", "nonsense"]):
        run = subprocess.run([sys.executable, "-m", "perfeval.cli", *args], capture_output=True,
                             text=True)
        assert run.returncode == 2, (args, run.stderr)
        assert "Traceback" not in run.stderr + run.stdout


def test_missing_info_fields_are_located(reference_copy):
    book = openpyxl.load_workbook(reference_copy)
    info = book["项目信息"]
    info.cell(6, 2, "二〇二二")  # 年度
    info.cell(10, 2, "很多")  # 执行数
    book.save(reference_copy)
    found = {(p.sheet, p.row, p.column) for p in _problems(reference_copy)}
    assert ("项目信息", 6, "年度") in found and ("项目信息", 10, "执行数") in found


def test_merged_level_cells_inherit_downwards(tmp_path, reference_path):
    book = openpyxl.load_workbook(reference_path)
    sheet = book["指标"]
    for row in range(3, 8):  # rows below the first 决策 row are blank, then merged
        sheet.cell(row, 1, None)
    sheet.merge_cells("A2:A7")
    sheet.cell(13, 1, "产出指标(40分)")
    path = tmp_path / "merged.xlsx"
    book.save(path)
    ev = perfeval.evaluate(perfeval.load_project(path))
    assert ev.total == 98.94
    assert (ev.indicators["level1"].iloc[:6] == "决策").all()


def test_gbk_csv_is_read(tmp_path):
    from tests.conftest import REFERENCE_CSV

    for src in REFERENCE_CSV.parent.glob("AKT2022-001*.csv"):
        (tmp_path / src.name).write_bytes(src.read_text(encoding="utf-8").encode("gb18030"))
    project = perfeval.load_project(tmp_path / REFERENCE_CSV.name)
    assert project.name == "工会社会化聘用人员社保缴费"


def test_template_is_a_workbook_with_dropdowns(tmp_path):
    out = tmp_path / "模板.xlsx"
    assert main(["template", str(out)]) == 0
    book = openpyxl.load_workbook(out)
    assert {"项目信息", "指标", "报告数值", "文字", "填表说明"} <= set(book.sheetnames)
    sheet = book["指标"]
    headers = [c.value for c in sheet[1]]
    assert {"一级指标", "指标名称", "分值", "指标值", "实际完成值", "评分方法"} <= set(headers)
    formulas = " ".join(str(dv.formula1) for dv in sheet.data_validations.dataValidation)
    assert "决策" in formulas and "正向" in formulas and "定性" in formulas
    assert sheet.cell(2, 4).value  # one filled example row
    assert main(["template", str(out)]) == 2  # never overwrites without --force
    # the example rows are read like any sheet: only the placeholders left in place are reported, as warnings
    # (tests/test_template_workbook.py; earlier templates carried one example row of 10 points, a weights error)
    problems = perfeval.validate_paths([out])
    assert problems and {(p.code, p.severity) for p in problems} == {("placeholder", "warning")}


def test_portfolio_workbook_round_trip(tmp_path, reference_project):
    """A portfolio workbook: 项目信息 as a table, the other sheets keyed by 项目编号."""
    from perfeval.sheets.write import save_portfolio

    projects = [reference_project.replace(id=f"P{i}", name=f"项目{i}") for i in range(3)]
    path = save_portfolio(projects, tmp_path / "portfolio.xlsx")
    loaded = perfeval.load_projects(path)
    assert [p.id for p in loaded] == ["P0", "P1", "P2"]
    messages = [list(e.findings["message"]) for e in perfeval.evaluate_many(loaded)]
    assert messages == [list(perfeval.evaluate(reference_project).findings["message"])] * 3
    wheres = perfeval.evaluate_many(loaded)[1].findings["where"]
    assert wheres.str.contains("指标表第37行").any()  # rows point into the portfolio's 指标 sheet
    assert [e.total for e in perfeval.evaluate_many(loaded)] == [98.94] * 3
    assert perfeval.load_project(path, project_id="P1").name == "项目1"
    assert loaded[2].narrative == reference_project.narrative


def test_one_bad_project_in_a_portfolio_does_not_stop_the_others(tmp_path, reference_project):
    from perfeval.sheets.write import save_portfolio

    bad = reference_project.with_indicator(3, weight=7).replace(id="BAD")
    path = save_portfolio([reference_project.replace(id="OK1"), bad, reference_project.replace(id="OK2")],
                          tmp_path / "portfolio.xlsx")
    reads = perfeval.read_projects(path, strict=True)
    assert [(r.key, r.project is not None) for r in reads] == [("OK1", True), ("BAD", False), ("OK2", True)]
    (problem,) = reads[1].problems
    assert problem.column == "分值" and "105" in problem.expected
    # without strict, weights that do not add up are audited, not refused: BAD is read and carries them
    reads = perfeval.read_projects(path)
    assert [(r.key, r.project is not None) for r in reads] == [("OK1", True), ("BAD", True), ("OK2", True)]
    assert [p.code for p in reads[1].project.sheet_findings] == ["weights"] == [p.code for p in reads[1].problems]
    # a problem that cannot be scored still refuses only its own project
    unreadable = reference_project.with_indicator(3, target="≈5种").replace(id="BAD")
    path = save_portfolio([reference_project.replace(id="OK1"), unreadable, reference_project.replace(id="OK2")],
                          tmp_path / "portfolio2.xlsx")
    reads = perfeval.read_projects(path)
    assert [(r.key, r.project is not None) for r in reads] == [("OK1", True), ("BAD", False), ("OK2", True)]
    (problem,) = reads[1].problems
    assert problem.column == "指标值" and problem.value == "≈5种" and not problem.auditable


def test_text_actual_for_a_numeric_target(reference_copy):
    _edit(reference_copy, lambda s: s.cell(13, 7, "达成预期指标"))
    (p,) = _problems(reference_copy)
    assert (p.row, p.column, p.value) == (13, "实际完成值", "达成预期指标")
    assert "也应写数值" in p.expected


def test_csv_without_its_project_sheet_names_the_file_it_needs(tmp_path):
    from tests.conftest import REFERENCE_CSV

    lonely = tmp_path / "lonely.csv"
    lonely.write_bytes(REFERENCE_CSV.read_bytes())
    (p,) = _problems(lonely)
    assert "lonely.项目信息.csv" in p.expected
