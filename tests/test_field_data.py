"""Field data beside a project's sheet (expert sheets, a survey): found, merged before scoring by every path
(load_project, the batch), never taken for projects, and accounted for in the batch summary."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import perfeval
from perfeval.cli import main
from perfeval.errors import SheetError
from perfeval.panel.apply import merge_sheets
from perfeval.sheets.field_data import field_data_for, with_field_data
from perfeval.sheets.inputs import input_files
from perfeval.survey import apply_survey, run_survey

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"


@pytest.fixture(scope="module")
def project_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("field") / "AKT"
    folder.mkdir()
    shutil.copy(REFERENCE, folder / REFERENCE.name)
    assert main(["synth", "--panel", str(REFERENCE), "--experts", "5", "--disagree", "1", "--seed", "4",
                 "--out", str(folder)]) == 0
    assert main(["synth", "--survey", str(REFERENCE), "--responses", "300", "--seed", "4", "--out",
                 str(folder)]) == 0
    return folder


def test_field_files_are_not_projects(project_folder: Path) -> None:
    files = input_files([project_folder.parent])
    assert [f.name for f in files] == [REFERENCE.name]


def test_load_project_merges_the_survey_then_the_panel(project_folder: Path) -> None:
    sheet = project_folder / REFERENCE.name
    plain = perfeval.load_project(sheet, field_data=False)
    assert perfeval.evaluate(plain).total == 98.94
    by_hand = apply_survey(plain, run_survey(project_folder / "answers.xlsx", project_folder / "mapping.toml")).project
    by_hand = merge_sheets(by_hand, sorted(project_folder.glob("*专家评分*.xlsx"))).project
    merged = perfeval.load_project(sheet)
    assert perfeval.evaluate(merged).total == perfeval.evaluate(by_hand).total != 98.94
    assert merged.panel is not None and len(merged.panel) == 10
    satisfaction = merged.indicators.loc[merged.indicators["name"].str.contains("满意"), "data_source"].iloc[0]
    assert satisfaction.startswith("问卷调查 n=")
    _, note = with_field_data(plain, field_data_for(plain))
    assert note.startswith("问卷 answers.xlsx：有效 ") and "/300 份" in note and "专家评分表 5 份" in note


def test_batch_merges_field_data_and_says_so_in_the_summary(project_folder: Path, tmp_path: Path) -> None:
    other = tmp_path / "inputs"
    shutil.copytree(project_folder, other / "AKT")
    (other / "plain").mkdir()
    shutil.copy(ROOT / "data" / "synthetic" / sorted(p.name for p in (ROOT / "data" / "synthetic").glob("*.xlsx"))[0],
                other / "plain")
    out = tmp_path / "out"
    assert main(["batch", str(other), "--out", str(out), "--format", "none"]) == 0
    summary = pd.read_excel(out / "summary.xlsx", sheet_name="项目汇总", dtype={"项目编号": str}, engine="openpyxl")
    row = summary.set_index("项目编号").loc["AKT2022-001"]
    expected = perfeval.evaluate(perfeval.load_project(project_folder / REFERENCE.name)).total
    assert row["总分"] == expected
    assert "专家评分表 5 份" in row["现场数据"] and row["现场数据"].startswith("问卷 answers.xlsx")
    others = summary[summary["项目编号"] != "AKT2022-001"]
    assert len(others) == 1 and others["现场数据"].isna().all()


def test_a_broken_expert_sheet_fails_its_project_located_and_only_it(project_folder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "AKT"
    shutil.copytree(project_folder, folder)
    first = sorted(folder.glob("*专家评分*.xlsx"))[0]
    book = openpyxl.load_workbook(first)
    book["专家评分"].cell(row=2, column=next(c.column for c in book["专家评分"][1] if c.value == "得分")).value = None
    book.save(first)
    with pytest.raises(SheetError) as refused:
        perfeval.load_project(folder / REFERENCE.name)
    problem = refused.value.problems[0]
    assert first.name in str(problem.file) and problem.row == 2 and problem.column == "得分"


def test_a_mapping_in_a_project_folder_must_name_its_answers(project_folder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "AKT"
    shutil.copytree(project_folder, folder)
    mapping = folder / "mapping.toml"
    mapping.write_text(mapping.read_text("utf-8").replace('answers = "answers.xlsx"\n', ""), "utf-8")
    with pytest.raises(SheetError) as refused:
        perfeval.load_project(folder / REFERENCE.name)
    assert refused.value.problems[0].column == "answers" and "answers =" in refused.value.problems[0].expected


def test_the_report_cites_the_survey_and_carries_the_panel_table(project_folder: Path) -> None:
    from perfeval.report import compose as n

    ev = perfeval.evaluate(perfeval.load_project(project_folder / REFERENCE.name))
    doc = n.compose(ev, "2026-01-01")
    blocks = [b for part in doc.parts for b in part.blocks]
    text = "\n".join(b.text for b in blocks if isinstance(b, n.Paragraph))
    source = ev.indicators.loc[ev.indicators["name"].str.contains("满意"), "data_source"].iloc[0]
    assert f"数据来源：{source.rstrip('。')}。" in text and "n=" in source and "误差±" in source
    panel = next(b for b in blocks if isinstance(b, n.Table) and b.key == "panel")
    assert panel.columns[:3] == ("行", "指标名称", "分值") and len(panel.rows) == len(ev.project.panel)
    experts = [c for c in panel.columns if c.startswith("E0")]
    assert len(experts) == 5
    by_name = {row[1]: row for row in panel.rows}
    scored = ev.indicators.set_index("name")["score"]
    for name, row in by_name.items():  # the table's 专家组得分 is the score the report gives the indicator
        assert float(row[panel.columns.index("专家组得分")]) == scored[name]
    flagged = [row[1] for row in panel.rows if row[-1] == "是"]
    disagreements = ev.findings[ev.findings["code"] == "panel_disagreement"]["message"]
    assert len(flagged) == len(disagreements) == 1 and flagged[0] in disagreements.iloc[0]


def test_the_scoring_table_carries_evidence_ids_when_the_project_keeps_a_ledger(tmp_path: Path) -> None:
    from perfeval.report import compose as n

    book = openpyxl.load_workbook(REFERENCE)
    sheet = book["指标"]
    column = sheet.max_column + 1
    sheet.cell(row=1, column=column, value="证据编号")
    sheet.cell(row=2, column=column, value="Z-01")
    book.save(tmp_path / "ledger.xlsx")
    ev = perfeval.evaluate(perfeval.load_project(tmp_path / "ledger.xlsx"))
    table = next(b for part in n.compose(ev, "2026-01-01").parts for b in part.blocks
                 if isinstance(b, n.Table) and b.key == "scores")
    assert table.columns[-1] == "证据编号" and table.rows[0][-1] == "Z-01"
    assert all(len(row) == len(table.columns) for row in table.rows)
    missing = ev.findings[ev.findings["code"] == "evidence_missing"]
    assert len(missing) > 0  # the audit appendix lists what lacks evidence
    appendix = next(b for part in n.compose(ev, "2026-01-01").parts for b in part.blocks
                    if isinstance(b, n.Table) and b.key == "findings")
    assert sum("未填写证据编号" in row[2] for row in appendix.rows) == len(missing)


def test_the_workbench_shows_the_panel_and_the_survey_of_the_selected_project(project_folder: Path) -> None:
    import perfeval.workbench as wb
    from perfeval.workbench.panel_view import PanelView
    from perfeval.workbench.survey_view import SurveyPanel

    bench = wb.Workbench(project_folder.parent, draws=50)
    tab = bench.field_data
    assert [type(v) for v in tab.views] == [SurveyPanel, PanelView]
    survey, panel = tab.views
    assert survey.result is not None and "有效" in survey.summary.value
    # the panel's what-if starts from the project before the panel; with the panel it is the scored total
    assert panel.outcome is not None
    assert panel.result.evaluate().total == bench.data.evaluation(bench.picker.value).total
    static = tab.static_html()
    assert "专家组评分" in static and "剔除原因" in static


def test_the_workbench_says_how_to_add_field_data_when_there_is_none() -> None:
    import perfeval.workbench as wb

    bench = wb.Workbench(REFERENCE, draws=50)
    assert bench.field_data.views == []
    assert "没有专家评分表或问卷数据" in bench.field_data.message.value


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="需要 poppler-utils 的 pdftotext")
def test_reference_driven_by_a_panel_and_a_survey_through_perfeval_report(project_folder: Path,
                                                                           tmp_path: Path) -> None:
    """The reference project with a 5-expert panel and a 300-response survey from `perfeval synth`, through
    `perfeval report`: the PDF carries the panel table, the survey's n and margin, and the merged total."""
    import subprocess

    out = tmp_path / "reports"
    assert main(["report", str(project_folder / REFERENCE.name), "--format", "pdf", "--out", str(out)]) == 0
    pdf = next(out.rglob("*.pdf"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout.replace(" ", "")
    ev = perfeval.evaluate(perfeval.load_project(project_folder / REFERENCE.name))
    assert "专家组评分表" in text and "E05" in text
    n_valid = ev.indicators.loc[ev.indicators["name"].str.contains("满意"), "data_source"].iloc[0].split("，")[0]
    assert n_valid.replace(" ", "") in text  # 问卷调查n=…
    assert f"{ev.total:g}" in text and f"{ev.total:g}" != "98.94"
