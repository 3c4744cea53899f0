"""Audit, don't refuse (issue 8, item 3): a table whose weights do not match the scheme, or that
repeats an indicator row, is read and scored as written; what is wrong becomes error findings.
`validate` still exits 2 for it; `--strict` (and strict=True) refuses it instead."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import perfeval
from perfeval.cli import main
from perfeval.errors import Problem, SheetError


def _edit(path: Path, edit) -> Path:
    book = openpyxl.load_workbook(path)
    edit(book["指标"])
    book.save(path)
    return path


@pytest.fixture
def weights_110(reference_copy: Path) -> Path:
    """The reference with 产出 at 50 (its 覆盖率 row 10 → 20): the items add up to 110."""
    return _edit(reference_copy, lambda s: s.cell(16, 5, 20))


@pytest.fixture
def repeated_execution_row(reference_copy: Path) -> Path:
    """The reference with its 预算执行率 row (Excel row 9) written twice."""

    def repeat(sheet) -> None:
        sheet.insert_rows(10)
        for col in range(1, sheet.max_column + 1):
            sheet.cell(10, col, sheet.cell(9, col).value)

    return _edit(reference_copy, repeat)


def test_problem_code_is_machine_readable_and_text_unchanged() -> None:
    plain = Problem("a.xlsx", "指标", 3, "分值", "四分", "分值应为非负数字")
    assert plain.code == "" and not plain.auditable
    assert str(plain) == "a.xlsx 工作表「指标」 第3行 列「分值」：值「四分」——分值应为非负数字"
    coded = Problem("a.xlsx", "指标", 3, "分值", "四分", "分值应为非负数字", "weights")
    assert str(coded) == str(plain) and coded.auditable and coded.place == "工作表「指标」 第3行 列「分值」"


def test_weights_110_are_read_and_scored_on_the_sheets_own_weights(weights_110: Path) -> None:
    project = perfeval.load_project(weights_110)
    (problem,) = project.sheet_findings
    assert problem.code == "weights" and problem.column == "分值"
    assert "实际为 110 分" in problem.expected and "产出 50 分，方案为 40 分" in problem.expected

    ev = perfeval.evaluate(project)
    levels = ev.levels.set_index("name")
    assert levels.loc["产出", "weight"] == 50 and levels.loc["产出", "scheme_weight"] == 40
    assert levels.loc["产出", "score"] == pytest.approx(49.16)
    assert (levels.drop(index="产出")["weight"] == levels.drop(index="产出")["scheme_weight"]).all()
    assert ev.total == pytest.approx(108.94)  # the covered row earns its 20 points as the table says

    weights = ev.findings[ev.findings["code"] == "weights"]
    assert list(weights["severity"]) == ["error"]  # one per level that differs from the scheme
    (message,) = weights["message"]
    assert "「产出」分值合计 50 分" in message and "为 40 分" in message and "110" in message


def test_weights_110_through_the_cli(weights_110: Path, capsys) -> None:
    assert main(["validate", str(weights_110)]) == 2
    out = capsys.readouterr().out
    assert "实际为 110 分" in out and "可评分" in out
    assert main(["validate", str(weights_110), "--json"]) == 2
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["code"] == "weights" and listed["auditable"] is True

    assert main(["score", str(weights_110)]) == 0
    out = capsys.readouterr().out
    assert "总分 108.94 分" in out and "「产出」分值合计 50 分" in out and "[错误]" in out

    assert main(["score", str(weights_110), "--strict"]) == 2
    err = capsys.readouterr().err
    assert "实际为 110 分" in err and "第18行" in err  # the last row of 产出, the level that is off
    assert main(["validate", str(weights_110), "--strict"]) == 2
    assert "可评分" not in capsys.readouterr().out


def test_strict_refuses_with_the_located_problem(weights_110: Path) -> None:
    with pytest.raises(SheetError) as caught:
        perfeval.load_project(weights_110, strict=True)
    (problem,) = caught.value.problems
    assert (problem.sheet, problem.row, problem.column, problem.code) == ("指标", 18, "分值", "weights")
    with pytest.raises(SheetError):
        perfeval.load_projects(weights_110, strict=True)
    (read,) = perfeval.read_projects(weights_110, strict=True)
    assert read.project is None and read.refusing == read.problems
    (read,) = perfeval.read_projects(weights_110)
    assert read.project is not None and read.refusing == [] and read.findings == read.problems


def test_report_strict_refuses_before_writing(weights_110: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "reports"
    assert main(["report", str(weights_110), "--strict", "--format", "html", "--out", str(out)]) == 2
    assert "实际为 110 分" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_batch_scores_it_with_findings_and_strict_fails_it(weights_110: Path, reference_path: Path,
                                                           tmp_path: Path, capsys) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    weights_110.rename(inputs / "W110.xlsx")
    (inputs / "ref.xlsx").write_bytes(reference_path.read_bytes())
    # both files hold the same 项目编号: give the edited one its own
    book = openpyxl.load_workbook(inputs / "W110.xlsx")
    info = book["项目信息"]
    for row in range(1, info.max_row + 1):
        if info.cell(row, 1).value == "项目编号":
            info.cell(row, 2, "W110")
    book.save(inputs / "W110.xlsx")

    out = tmp_path / "out"
    assert main(["batch", str(inputs), "--out", str(out), "--format", "none"]) == 0
    sheets = pd.read_excel(out / "summary.xlsx", sheet_name=None, engine="calamine")
    summary = sheets["项目汇总"].set_index("项目编号")
    assert summary.loc["W110", "总分"] == pytest.approx(108.94) and summary.loc["W110", "错误"] >= 1
    findings = sheets["核查发现"]
    mine = findings[findings["项目编号"] == "W110"]
    assert ((mine["代码"] == "weights") & (mine["级别"] == "错误") & mine["内容"].str.contains("分值合计 50 分")).any()
    capsys.readouterr()

    strict_out = tmp_path / "strict"
    assert main(["batch", str(inputs), "--out", str(strict_out), "--format", "none", "--strict"]) == 1
    failed = pd.read_excel(strict_out / "summary.xlsx", sheet_name="失败项目", engine="calamine")
    assert list(failed["项目编号"]) == ["W110"] and failed["原因"].str.contains("实际为 110 分").all()


def test_repeated_execution_row_is_scored_as_written_and_flagged(repeated_execution_row: Path) -> None:
    project = perfeval.load_project(repeated_execution_row)
    codes = sorted(p.code for p in project.sheet_findings)
    assert codes == ["duplicate_indicator", "weights"]  # 过程 is now 25: the total is 105
    ev = perfeval.evaluate(project)
    rows = ev.indicators[ev.indicators["name"] == "预算执行率"]
    assert list(rows["row"]) == [9, 10] and list(rows["score"]) == [4.78, 4.78]  # both rows count
    assert ev.total == pytest.approx(98.94 + 4.78)
    dup = ev.findings[ev.findings["code"] == "duplicate_indicator"]
    assert list(dup["severity"]) == ["error"]
    assert "第9行" in dup["message"].iloc[0] and "第10行" in dup["where"].iloc[0]
    assert (ev.findings.loc[ev.findings["code"] == "weights", "severity"] == "error").all()

    problems = perfeval.validate_paths([repeated_execution_row])
    assert sorted(p.code for p in problems) == ["duplicate_indicator", "weights"]
    assert main(["validate", str(repeated_execution_row)]) == 2
    assert main(["score", str(repeated_execution_row), "--strict"]) == 2


def test_declared_level_weight_is_a_finding_not_a_refusal(reference_copy: Path) -> None:
    _edit(reference_copy, lambda s: s.cell(13, 1, "产出指标(45分)"))
    project = perfeval.load_project(reference_copy)
    (problem,) = project.sheet_findings
    assert (problem.code, problem.row, problem.column) == ("level_weight", 13, "一级指标")
    ev = perfeval.evaluate(project)
    assert ev.total == 98.94  # scored on the items' weights, which add up to the scheme's 40
    found = ev.findings[ev.findings["code"] == "level_weight"]
    assert list(found["severity"]) == ["error"] and "标注 45 分" in found["message"].iloc[0]
    assert len(ev.findings) == 17  # the reference's 16 and this one


def test_unreadable_problems_still_refuse(reference_copy: Path) -> None:
    _edit(reference_copy, lambda s: (s.cell(13, 5, "四分"), s.cell(16, 5, 20)))
    with pytest.raises(SheetError) as caught:
        perfeval.load_project(reference_copy)
    assert [p.code for p in caught.value.problems] == [""]  # the weights cannot be summed: only 四分


def test_a_what_if_that_repairs_the_weights_clears_the_weights_finding(weights_110: Path) -> None:
    project = perfeval.load_project(weights_110)
    index = int(project.indicators.index[project.indicators["row"] == 16][0])
    repaired = perfeval.evaluate(project.with_indicator(index, weight=10))
    assert repaired.total == 98.94 and "weights" not in set(repaired.findings["code"])
