"""The evidence ledger: 证据编号 / 数据来源 columns, the 佐证材料 sheet, evidence findings and the materials
checklist (`perfeval materials`)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import perfeval
from perfeval.cli import main
from perfeval.scoring.evidence import evidence_findings, materials_checklist, split_ids
from perfeval.sheets.write import save_project

#: rows of the reference project that lose points: 预算执行率, 及时发放率, 社保金缴费
LOSING_ROWS = (9, 17, 18)


def with_ledger(path: Path, evidence: dict[int, str] | None, materials: list[tuple] | None,
                header: str = "证据编号") -> Path:
    """The reference workbook with a 证据编号 column (Excel row → ids) and/or a 佐证材料 sheet."""
    book = openpyxl.load_workbook(path)
    sheet = book["指标"]
    if evidence is not None:
        col = sheet.max_column + 1
        sheet.cell(1, col, header)
        sheet.cell(1, col + 1, "数据来源")
        for row, ids in evidence.items():
            sheet.cell(row, col, ids)
        sheet.cell(21, col + 1, "问卷调查")
    if materials is not None:
        ledger = book.create_sheet("佐证材料")
        ledger.append(["编号", "名称", "来源", "日期"])
        for rec in materials:
            ledger.append(list(rec))
    book.save(path)
    return path


MATERIALS = [("Z-01", "预算批复文件", "县财政局", "2022-01-10"), ("Z-02", "支出明细账", "县总工会", "2022-12-31"),
             ("Z-03", "社保缴费凭证", "县社保局", "2022-12-31")]


def test_reference_without_ledger_is_unchanged_and_silent(reference_project, reference_evaluation):
    assert reference_project.ledger is False and reference_project.materials is None
    assert set(reference_project.indicators["evidence"]) == {""}
    assert reference_evaluation.total == 98.94 and len(reference_evaluation.findings) == 16
    assert evidence_findings(reference_evaluation).empty


def test_columns_and_sheet_are_read(reference_copy):
    path = with_ledger(reference_copy, {9: "Z-01、Z-02", 17: "Z-03", 18: "Z-09"}, MATERIALS, header="佐证材料编号")
    project = perfeval.load_project(path)
    ind = project.indicators.set_index("row")
    assert project.ledger and ind.at[9, "evidence"] == "Z-01、Z-02" and ind.at[21, "data_source"] == "问卷调查"
    assert list(project.materials["id"]) == ["Z-01", "Z-02", "Z-03"]
    assert list(project.materials["row"]) == [2, 3, 4]
    ev = perfeval.evaluate(project)
    # the ledger never changes scores; its one finding joins the audit's 16
    assert ev.total == 98.94 and len(ev.findings) == 17
    assert ev.findings["code"].tolist().count("evidence_unknown") == 1
    findings = evidence_findings(ev)
    assert list(findings["code"]) == ["evidence_unknown"]
    assert "Z-09" in findings.iloc[0]["message"] and findings.iloc[0]["where"].startswith("指标表第18行")


def test_a_deduction_without_evidence_is_a_finding(reference_copy):
    path = with_ledger(reference_copy, {9: "Z-01"}, MATERIALS)
    ev = perfeval.evaluate(perfeval.load_project(path))
    findings = evidence_findings(ev)
    assert list(findings["code"]) == ["evidence_missing", "evidence_missing"]
    assert [w.split("行")[0] for w in findings["where"]] == ["指标表第17", "指标表第18"]
    assert "失分 0.40 分" in findings.iloc[0]["message"]


def test_the_column_alone_uses_the_ledger_without_checking_ids(reference_copy):
    path = with_ledger(reference_copy, {9: "Z-01", 17: "X-7"}, None)
    project = perfeval.load_project(path)
    assert project.ledger and project.materials is None
    findings = evidence_findings(perfeval.evaluate(project))
    assert list(findings["code"]) == ["evidence_missing"]  # row 18; X-7 cannot be checked without the sheet


def test_the_sheet_alone_uses_the_ledger(reference_copy):
    path = with_ledger(reference_copy, None, MATERIALS)
    findings = evidence_findings(perfeval.evaluate(perfeval.load_project(path)))
    assert list(findings["code"]) == ["evidence_missing"] * len(LOSING_ROWS)


def test_materials_sheet_problems_are_warnings(reference_copy):
    path = with_ledger(reference_copy, {9: "Z-01", 17: "Z-01", 18: "Z-02"},
                       [*MATERIALS, ("Z-01", "重复的", "", ""), ("", "没有编号的材料", "", "")])
    project = perfeval.load_project(path)
    found = {(p.code, p.row, p.severity) for p in project.sheet_findings}
    assert found == {("evidence_sheet", 5, "warning"), ("evidence_sheet", 6, "warning")}
    ev = perfeval.evaluate(project)
    assert ev.total == 98.94 and (ev.findings["code"] == "evidence_sheet").sum() == 2


def test_ledger_round_trips_through_save_project(reference_copy, tmp_path):
    path = with_ledger(reference_copy, {9: "Z-01"}, MATERIALS)
    project = perfeval.load_project(path)
    again = perfeval.load_project(save_project(project, tmp_path / "again.xlsx"))
    assert again.ledger and list(again.materials["id"]) == ["Z-01", "Z-02", "Z-03"]
    pd.testing.assert_series_equal(again.indicators["evidence"], project.indicators["evidence"])
    pd.testing.assert_series_equal(again.indicators["data_source"], project.indicators["data_source"])


def test_saving_a_project_without_ledger_writes_no_ledger(reference_project, tmp_path):
    again = perfeval.load_project(save_project(reference_project, tmp_path / "again.xlsx"))
    assert not again.ledger and again.materials is None
    assert "证据编号" not in pd.read_excel(tmp_path / "again.xlsx", sheet_name="指标", engine="calamine").columns


def test_split_ids():
    assert split_ids("Z-01、Z-02，Z-03; Z-04 Z-05") == ("Z-01", "Z-02", "Z-03", "Z-04", "Z-05")
    assert split_ids("—") == () and split_ids(None) == ()


def test_materials_checklist_for_the_reference(reference_project, reference_evaluation):
    checklist = materials_checklist(reference_project, reference_evaluation).set_index("行")
    assert len(checklist) == 20
    kinds = checklist["材料类别"]
    assert kinds[2] == kinds[3] == "项目立项" and kinds[4] == "绩效目标" and kinds[6] == "资金投入"
    assert kinds[8] == "资金到位" and kinds[9] == "预算执行" and kinds[10] == "资金使用合规"
    assert kinds[11] == kinds[12] == "组织实施"
    assert kinds[13] == "产出数量" and kinds[16] == "产出质量" and kinds[17] == "产出时效" and kinds[18] == "产出成本"
    assert kinds[20] == "可持续影响" and kinds[21] == "满意度"
    assert "预算批复文件" in checklist.at[9, "所需佐证材料"] and "资金拨付凭证" in checklist.at[9, "所需佐证材料"]
    assert "问卷" in checklist.at[21, "所需佐证材料"]
    losing = checklist.index[checklist["证据状态"] == "失分，须有佐证"]
    assert tuple(losing) == LOSING_ROWS


def test_cli_materials(reference_copy, tmp_path, capsys):
    path = with_ledger(reference_copy, {9: "Z-01", 17: "Z-08"}, MATERIALS)
    out = tmp_path / "checklist.xlsx"
    assert main(["materials", str(path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "佐证材料清单（20 项指标）" in text and "evidence_missing" in text and "evidence_unknown" in text
    sheets = pd.read_excel(out, sheet_name=None, engine="calamine")
    assert len(sheets["佐证材料清单"]) == 20 and set(sheets["证据核查"]["代码"]) == {"evidence_missing",
                                                                                  "evidence_unknown"}
    assert main(["materials", str(path), "--out", str(tmp_path / "x.txt")]) == 2


@pytest.mark.parametrize("bad", ["missing.xlsx"])
def test_cli_materials_bad_input(tmp_path, bad, capsys):
    assert main(["materials", str(tmp_path / bad)]) == 2
    assert "文件不存在" in capsys.readouterr().err


def test_csv_set_with_a_materials_sibling(tmp_path):
    import shutil

    source = Path(__file__).resolve().parents[1] / "data" / "reference" / "csv"
    for file in source.glob("AKT2022-001*.csv"):
        shutil.copy(file, tmp_path / file.name)
    (tmp_path / "AKT2022-001.佐证材料.csv").write_text("编号,名称,来源,日期\nZ-01,预算批复文件,县财政局,2022-01-10\n",
                                                    encoding="utf-8")
    from perfeval.sheets.read import is_sibling_csv

    assert is_sibling_csv(tmp_path / "AKT2022-001.佐证材料.csv")
    project = perfeval.load_project(tmp_path / "AKT2022-001.csv")
    assert project.ledger and list(project.materials["id"]) == ["Z-01"]
    assert list(evidence_findings(perfeval.evaluate(project))["code"]) == ["evidence_missing"] * len(LOSING_ROWS)


def test_evaluate_lists_the_ledger_findings_once_and_the_portfolio_path_agrees(tmp_path):
    """Evidence findings are part of the evaluation (report audit appendix, summary.xlsx, score --json), the same
    from `evaluate` one by one and from the vectorised `evaluate_frames`, and never for a project without a ledger."""
    import shutil

    source = Path(__file__).resolve().parents[1] / "data" / "reference" / "csv"
    for file in source.glob("AKT2022-001*.csv"):
        shutil.copy(file, tmp_path / file.name)
    (tmp_path / "AKT2022-001.佐证材料.csv").write_text("编号,名称,来源,日期\nZ-01,预算批复文件,县财政局,2022-01-10\n",
                                                    encoding="utf-8")
    with_ledger = perfeval.load_project(tmp_path / "AKT2022-001.csv")
    plain = perfeval.load_project(Path(__file__).resolve().parents[1] / "data" / "reference" / "AKT2022-001.xlsx")
    ev = perfeval.evaluate(with_ledger)
    codes = ev.findings["code"].tolist()
    assert codes.count("evidence_missing") == len(LOSING_ROWS)
    assert ev.findings[ev.findings["code"] == "evidence_missing"]["message"].tolist() == \
        evidence_findings(ev)["message"].tolist()
    assert "evidence_missing" not in perfeval.evaluate(plain).findings["code"].tolist()
    frames = perfeval.evaluate_frames([plain, with_ledger])
    per_project = frames.findings[frames.findings["code"] == "evidence_missing"]["project_id"].unique().tolist()
    assert per_project == [with_ledger.id]
