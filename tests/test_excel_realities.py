"""Excel as it is (issue 8, item 5): formulas without a saved result, error values, hidden sheets, repeated
项目信息 keys, blank rows / total rows / notes / two-row headers, absurd magnitudes, and bounded reading of
hostile workbooks (a far cell, a huge string table)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

import perfeval
from perfeval.errors import SheetError
from perfeval.scoring.evaluate import evaluate
from perfeval.sheets.xlsx_guard import MAX_SHEET_CELLS, CellFault, scan_xlsx

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_TOTAL, REFERENCE_GRADE, REFERENCE_ITEMS = 98.94, "优", 20


def _edit(path: Path, edit, sheet: str = "指标") -> Path:
    book = openpyxl.load_workbook(path)
    edit(book[sheet]) if sheet else edit(book)
    book.save(path)
    return path


def _problems(path: Path):
    return perfeval.validate_paths([path])


def _loads_like_reference(path: Path) -> None:
    project = perfeval.load_project(path)
    assert len(project.indicators) == REFERENCE_ITEMS
    ev = evaluate(project)
    assert (round(ev.total, 2), ev.grade) == (REFERENCE_TOTAL, REFERENCE_GRADE)


# --- formulas without a saved result and error values -------------------------------------------------

def test_formula_target_without_result_is_a_located_error(reference_copy):
    # F9 is the 资金到位率 target ＝100%; a program writes it as a formula without a cached value
    _edit(reference_copy, lambda s: s.cell(9, 6, "=100%"))
    (p,) = _problems(reference_copy)
    assert (p.sheet, p.row, p.column, p.value) == ("指标", 9, "指标值", "=100%")
    assert "F9" in p.expected and "公式没有保存计算结果" in p.expected and "打开并保存" in p.expected


@pytest.mark.parametrize("error", ["#REF!", "#DIV/0!", "#N/A"])
def test_error_values_are_located_errors_not_blanks(reference_copy, error):
    # I2 is the 扣分 of 立项依据充分性 (0); an error value there used to read as "no deduction"
    _edit(reference_copy, lambda s: s.cell(2, 9, error))
    assert openpyxl.load_workbook(reference_copy)["指标"].cell(2, 9).data_type == "e"
    (p,) = _problems(reference_copy)
    assert (p.row, p.column, p.value) == (2, "扣分", error)
    assert f"错误值「{error}」" in p.expected and "I2" in p.expected


def test_error_in_actual_value_and_in_project_info(reference_copy):
    _edit(reference_copy, lambda s: s.cell(13, 7, "#N/A"))
    _edit(reference_copy, lambda s: s.cell(10, 2, "=B8-1.48"), sheet="项目信息")
    problems = {(p.sheet, p.row, p.column): p for p in _problems(reference_copy)}
    assert set(problems) == {("指标", 13, "实际完成值"), ("项目信息", 10, "执行数")}
    assert problems[("项目信息", 10, "执行数")].value == "=B8-1.48"
    assert "公式没有保存计算结果" in problems[("项目信息", 10, "执行数")].expected


def test_error_outside_the_tables_is_ignored(reference_copy):
    # a note cell to the right of the table (column P, no header) and a formula in the total row are not read
    def edit(sheet):
        sheet.cell(5, 16, "#REF!")
        sheet.cell(23, 1, "合计")
        sheet.cell(23, 5, "=SUM(E2:E21)")
    _edit(reference_copy, edit)
    _loads_like_reference(reference_copy)


def test_xlsxwriter_formula_results_are_not_trusted(tmp_path, reference_path):
    """xlsxwriter stores 0 as every formula's result and asks Excel to recalculate on opening."""
    import xlsxwriter

    source = openpyxl.load_workbook(reference_path)
    path = tmp_path / "generated.xlsx"
    out = xlsxwriter.Workbook(str(path))
    for name in source.sheetnames:
        ws = out.add_worksheet(name)
        for r, row in enumerate(source[name].iter_rows(values_only=True)):
            for c, value in enumerate(row):
                if value is not None:
                    ws.write_string(r, c, value) if isinstance(value, str) else ws.write(r, c, value)
    out.get_worksheet_by_name("指标").write_formula(8, 5, "=1")  # F9 target, cached result 0
    out.close()
    (p,) = _problems(path)
    assert (p.row, p.column, p.value) == (9, "指标值", "=1") and "打开并保存" in p.expected


# --- hidden sheets ----------------------------------------------------------------------------------

def test_hidden_sheet_never_shadows_a_visible_one(reference_copy):
    def edit(book):
        decoy = book.copy_worksheet(book["指标"])
        decoy.title = "评分表"
        decoy.cell(13, 5, 40)  # weights that would not add up, and a different actual
        decoy.cell(13, 7, "0人")
        decoy.sheet_state = "hidden"
        book.move_sheet(decoy, offset=-(len(book.sheetnames) - 1))
    _edit(reference_copy, edit, sheet="")
    assert openpyxl.load_workbook(reference_copy).sheetnames[0] == "评分表"
    _loads_like_reference(reference_copy)


def test_hidden_sheet_is_used_when_no_visible_one_exists(reference_copy):
    def edit(book):
        book["指标"].title = "评分表"
        book["评分表"].sheet_state = "hidden"
    _edit(reference_copy, edit, sheet="")
    _loads_like_reference(reference_copy)


# --- 项目信息 repeated keys ---------------------------------------------------------------------------

def test_second_budget_row_is_an_error_naming_both_rows(reference_copy):
    _edit(reference_copy, lambda s: s.append(["预算数", 40]), sheet="项目信息")
    (p,) = _problems(reference_copy)
    assert (p.sheet, p.row, p.column, p.value) == ("项目信息", 18, "预算数", "40")
    assert "第8行" in p.expected and "第18行" in p.expected and "重复" in p.expected


def test_two_spellings_of_the_budget_that_disagree(reference_copy):
    _edit(reference_copy, lambda s: s.append(["全年预算数", 35]), sheet="项目信息")
    (p,) = _problems(reference_copy)
    assert (p.row, p.column) == (18, "全年预算数")
    assert "第8行" in p.expected and "33.46" in p.expected and "35" in p.expected


# --- layouts people make ----------------------------------------------------------------------------

def test_blank_row_inside_the_table(reference_copy):
    _edit(reference_copy, lambda s: s.insert_rows(12))
    project = perfeval.load_project(reference_copy)
    assert 12 not in set(project.indicators["row"])
    _loads_like_reference(reference_copy)


def test_total_row_after_a_blank_row_and_notes_below(reference_copy):
    def edit(sheet):
        sheet.cell(23, 1, "合计")
        sheet.cell(23, 5, 100)
        sheet.cell(23, 11, 98.94)
        sheet.cell(25, 1, "注：1. 分值合计100分；2. 得分保留两位小数。")
        sheet.cell(26, 1, "填表人：")
        sheet.cell(26, 2, "张三")
        sheet.cell(26, 4, "审核人：李四")
        sheet.cell(26, 6, "联系电话：0998-1234567")
        sheet.cell(27, 1, "说明：偏差原因见报告正文。")
        sheet.cell(27, 4, "填报日期：2023年3月1日")
    _edit(reference_copy, edit)
    _loads_like_reference(reference_copy)


def test_subtotal_rows_between_blocks_do_not_end_the_table(reference_copy):
    def edit(sheet):
        sheet.insert_rows(8)  # after the 决策 block
        sheet.cell(8, 2, "小计")
        sheet.cell(8, 5, 20)
        sheet.cell(8, 11, 20)
        sheet.cell(24, 1, "合计")
        sheet.cell(24, 5, 100)
    _edit(reference_copy, edit)
    _loads_like_reference(reference_copy)


def test_notes_without_total_row(reference_copy):
    def edit(sheet):
        sheet.cell(23, 1, "填表说明：")
        sheet.cell(24, 1, "1")
        sheet.cell(24, 2, "指标值按年初批复填写")
        sheet.cell(25, 3, "单位负责人：")
        sheet.cell(25, 4, "王五")
    _edit(reference_copy, edit)
    _loads_like_reference(reference_copy)


def _two_row_header(sheet, merged_level_header: bool) -> None:
    sheet.insert_rows(1)
    headers = [c.value for c in sheet[2]]
    for col, text in enumerate(headers, start=1):
        sheet.cell(1, col, text)
        sheet.cell(2, col, None)
    if merged_level_header:
        # row 1: "指标" merged over the three level columns; row 2: 一级/二级/三级指标
        for col, text in enumerate(("一级指标", "二级指标", "三级指标"), start=1):
            sheet.cell(2, col, text)
        sheet.cell(1, 1, "指标")
        sheet.cell(1, 2, None)
        sheet.cell(1, 3, None)
        sheet.merge_cells("A1:C1")
    for col in range(4 if merged_level_header else 1, len(headers) + 1):
        sheet.merge_cells(start_row=1, start_column=col, end_row=2, end_column=col)


def test_two_row_header_with_merged_level_group(reference_copy):
    _edit(reference_copy, lambda s: _two_row_header(s, merged_level_header=True))
    project = perfeval.load_project(reference_copy)
    assert project.indicators["row"].min() == 3
    _loads_like_reference(reference_copy)


def test_two_row_header_with_every_header_merged_down(reference_copy):
    _edit(reference_copy, lambda s: _two_row_header(s, merged_level_header=False))
    _loads_like_reference(reference_copy)


def test_two_row_header_with_value_group(reference_copy):
    """Row 1: 指标值 group "年度指标" over two columns, row 2: 年度指标值 | 实际完成值 (others merged down)."""
    def edit(sheet):
        _two_row_header(sheet, merged_level_header=False)
        sheet.unmerge_cells("F1:F2")
        sheet.unmerge_cells("G1:G2")
        sheet.cell(1, 6, "绩效指标完成情况")
        sheet.cell(1, 7, None)
        sheet.merge_cells("F1:G1")
        sheet.cell(2, 6, "年度指标值")
        sheet.cell(2, 7, "实际完成值")
    _edit(reference_copy, edit)
    _loads_like_reference(reference_copy)


# --- absurd magnitudes and JSON -----------------------------------------------------------------------

@pytest.mark.parametrize("value", ["1" * 400, "1e308", "inf", "nan"])
def test_absurd_amount_is_a_located_error(reference_copy, value):
    _edit(reference_copy, lambda s: s.cell(8, 2, value), sheet="项目信息")
    (p,) = _problems(reference_copy)
    assert (p.sheet, p.row, p.column) == ("项目信息", 8, "预算数")


@pytest.mark.parametrize(("column", "header"), [(5, "分值"), (9, "扣分"), (11, "报告得分")])
@pytest.mark.parametrize("value", ["1" * 400, "1e308", 1e308])
def test_absurd_scores_are_located_errors(reference_copy, column, header, value):
    _edit(reference_copy, lambda s: s.cell(3, column, value))
    problems = _problems(reference_copy)
    assert any((p.row, p.column) == (3, header) for p in problems), problems


def test_nan_number_cell_is_not_a_blank(tmp_path, reference_copy):
    # a program writes <v>NaN</v>: calamine reads a float NaN, which pandas would take for a blank
    src = zipfile.ZipFile(reference_copy)
    sheet = src.read("xl/worksheets/sheet2.xml").decode()
    target = '<c r="I2" s="2"><v>0</v></c>'
    assert target in sheet
    out = tmp_path / "nan.xlsx"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet2.xml":
                data = sheet.replace(target, '<c r="I2" s="2"><v>NaN</v></c>').encode()
            dst.writestr(item, data)
    (p,) = _problems(out)
    assert (p.row, p.column) == (2, "扣分") and "NaN" in p.expected


def _no_constants(text: str):
    def refuse(name):
        raise ValueError(f"invalid JSON constant {name}")
    return json.loads(text, parse_constant=refuse)


def test_to_dict_has_no_non_finite_numbers(reference_project):
    ev = evaluate(reference_project.replace(budget=float("inf"), allocated=float("nan")))
    text = json.dumps(ev.to_dict(), ensure_ascii=False, allow_nan=False)
    data = _no_constants(text)
    assert data["budget"]["budget"] is None and data["budget"]["allocated"] is None


def test_score_json_is_valid_json(reference_path, capsys):
    from perfeval.cli import main

    assert main(["score", str(reference_path), "--json"]) == 0
    data = _no_constants(capsys.readouterr().out)
    assert data["total"] == REFERENCE_TOTAL


# --- bounded reading --------------------------------------------------------------------------------

def _far_cell_file(path: Path) -> Path:
    """The reference workbook plus one real cell at XFD1048576 of its 指标 sheet (about 13 KB)."""
    book = openpyxl.load_workbook(ROOT / "data" / "reference" / "AKT2022-001.xlsx")
    book["指标"].cell(1048576, 16384, "x")
    book.save(path)
    return path


def _big_strings_file(path: Path, strings: int = 200_000, length: int = 300) -> Path:
    """The reference workbook whose shared-string table gains 200,000 long strings (about 180 MB unpacked,
    about 1 MB packed). Written in pieces so the test itself stays small."""
    src = zipfile.ZipFile(ROOT / "data" / "reference" / "AKT2022-001.xlsx")
    head, tail = src.read("xl/sharedStrings.xml").decode().split("</sst>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != "xl/sharedStrings.xml":
                dst.writestr(item, src.read(item))
                continue
            with dst.open(item.filename, "w", force_zip64=True) as out:
                out.write(head.encode())
                for start in range(0, strings, 10_000):
                    out.write("".join(f"<si><t>{i:07d}{'长' * length}</t></si>"
                                      for i in range(start, start + 10_000)).encode())
                out.write(("</sst>" + tail).encode())
    return path


def _validate_in_subprocess(path: Path) -> tuple[subprocess.CompletedProcess, float, float, float]:
    """`perfeval validate` in a child process measured by /usr/bin/time: (run, wall seconds, CPU seconds,
    peak RSS in MB). The time limit is checked on CPU seconds: on a shared machine the wall clock measures
    the neighbours."""
    if not Path("/usr/bin/time").is_file():
        pytest.skip("需要 GNU time（/usr/bin/time）来测量子进程：apt-get install -y time")
    run = subprocess.run(["/usr/bin/time", "-f", "MEASURED %e %U %S %M", sys.executable, "-m", "perfeval.cli",
                          "validate", str(path)], capture_output=True, text=True, timeout=120, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    measured = [line for line in run.stderr.splitlines() if line.startswith("MEASURED")][-1].split()
    return run, float(measured[1]), float(measured[2]) + float(measured[3]), int(measured[4]) / 1024


def test_far_cell_file_is_refused_quickly(tmp_path):
    path = _far_cell_file(tmp_path / "far.xlsx")
    assert path.stat().st_size < 20_000
    run, *_ = _validate_in_subprocess(path)  # time and memory: benchmarks/bench_hostile_files.py
    assert run.returncode == 2, run.stderr
    assert "数据范围过大" in run.stdout and "XFD1048576" in run.stdout and "工作表「指标」" in run.stdout


def test_big_string_table_is_refused_quickly(tmp_path):
    path = _big_strings_file(tmp_path / "strings.xlsx")
    run, *_ = _validate_in_subprocess(path)  # time and memory: benchmarks/bench_hostile_files.py
    assert run.returncode == 2, run.stderr
    assert "共享字符串表过大" in run.stdout


def test_far_cell_in_an_unused_sheet_does_not_stop_the_project(reference_copy):
    def edit(book):
        book.create_sheet("草稿").cell(1048576, 16384, "x")
    _edit(reference_copy, edit, sheet="")
    _loads_like_reference(reference_copy)


def test_cells_without_references_are_bounded(tmp_path):
    """Cells may omit their reference (calamine places them in sequence): the exact parse bounds them."""
    from perfeval.sheets.xlsx_guard import column_letters

    path = tmp_path / "norefs.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "指标"
    book.active["A1"] = 1
    book.save(path)
    with zipfile.ZipFile(path) as src:
        parts = {i.filename: src.read(i) for i in src.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    wide = "<c><v>1</v></c>" * 300
    sheet = sheet.replace("</sheetData>", f'<row r="99999">{wide}</row></sheetData>')
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            dst.writestr(name, data)
    (scan,) = scan_xlsx(path).sheets
    assert scan.problem is not None and scan.rows * scan.cols > MAX_SHEET_CELLS
    assert scan.problem.value.startswith(column_letters(scan.cols)) or scan.problem.row == 99999
    with pytest.raises(SheetError, match="数据范围过大"):
        perfeval.load_project(path)


def test_fault_objects_show_what_the_cell_shows():
    fault = CellFault("error", "#REF!", "B7")
    assert str(fault) == "#REF!" and "B7" in fault.message
    assert hash(fault) == hash(CellFault("error", "#REF!", "B7"))  # grids hash their cells (pd.unique)


def test_batch_with_hostile_files_finishes_the_others(tmp_path):
    import shutil

    from perfeval.batch.pipeline import run_batch

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(ROOT / "data" / "reference" / "AKT2022-001.xlsx", folder / "AKT2022-001.xlsx")
    _far_cell_file(folder / "far.xlsx")
    _big_strings_file(folder / "strings.xlsx")
    result = run_batch([folder], tmp_path / "out", formats=())
    by_reason = sorted((s.status, s.reason or "") for s in result.statuses)
    assert [status for status, _ in by_reason] == ["仅评分", "失败", "失败"]
    reasons = " ".join(reason for _, reason in by_reason)
    assert "数据范围过大" in reasons and "共享字符串表过大" in reasons


def test_unreadable_text_cell_keeps_what_it_shows(reference_copy):
    # 改进措施 (column M) is narrative, not scored: an error value there is shown as written
    _edit(reference_copy, lambda s: s.cell(9, 13, "#N/A"))
    project = perfeval.load_project(reference_copy)
    assert project.indicators.loc[project.indicators["row"] == 9, "measure"].item() == "#N/A"


@pytest.mark.parametrize(("item", "value"), [("预算数", "1" * 400 + "万元"), ("预算执行率", "1" * 400 + "%"),
                                             ("总分", "1" * 400), ("总分", "1e308")])
def test_absurd_stated_figures_are_located_errors(reference_copy, item, value):
    # 报告数值 row 16 states 预算数, row 18 预算执行率, row 2 总分
    row = {"预算数": 16, "预算执行率": 18, "总分": 2}[item]
    _edit(reference_copy, lambda s: s.cell(row, 2, value), sheet="报告数值")
    assert openpyxl.load_workbook(reference_copy)["报告数值"].cell(row, 1).value == item
    (p,) = _problems(reference_copy)
    assert (p.sheet, p.row) == ("报告数值", row)


def _replace_cells(source: Path, out: Path, part: str, cells: dict[str, str]) -> Path:
    src = zipfile.ZipFile(source)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == part:
                text = data.decode()
                for old, new in cells.items():
                    assert old in text
                    text = text.replace(old, new)
                data = text.encode()
            dst.writestr(item, data)
    return out


def test_formulas_with_saved_results_are_read_as_their_results(tmp_path, reference_path):
    """What Excel writes: a formula with its cached result. No fault, the result is used."""
    path = _replace_cells(reference_path, tmp_path / "excel.xlsx", "xl/worksheets/sheet2.xml", {
        '<c r="F9" s="2" t="s"><v>57</v></c>': '<c r="F9" s="2" t="str"><f>"＝"&amp;"100%"</f><v>＝100%</v></c>',
        '<c r="E9" s="2"><v>5</v></c>': '<c r="E9" s="2"><f>10/2</f><v>5</v></c>',
    })
    _loads_like_reference(path)
