"""`perfeval synth --panel/--survey PROJECT`: field data for a project, generated with known truth."""

from __future__ import annotations

from pathlib import Path

import perfeval
from perfeval.cli import main
from perfeval.survey import run_survey
from perfeval.survey.synth import items_for, synth_survey

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"


def test_survey_items_follow_the_projects_satisfaction_indicators() -> None:
    project = perfeval.load_project(REFERENCE)
    items = items_for(project)
    assert [indicator for _, indicator, _ in items] == ["服务群众满意度（%）"] * 2
    assert {share for _, _, share in items} == {0.95}  # the sheet's own 95%: the survey is made to support it
    assert all("（%）" not in question for question, _, _ in items)


def test_synth_survey_then_survey_excludes_exactly_the_planted_responses(tmp_path: Path, capsys) -> None:
    assert main(["synth", "--survey", str(REFERENCE), "--responses", "300", "--seed", "3", "--out",
                 str(tmp_path / "q")]) == 0
    out = capsys.readouterr().out
    answers, mapping = tmp_path / "q" / "answers.xlsx", tmp_path / "q" / "mapping.toml"
    assert answers.is_file() and mapping.is_file() and "perfeval survey" in out
    _, _, truth = synth_survey(300, items=items_for(perfeval.load_project(REFERENCE)), seed=3)
    result = run_survey(answers, mapping)
    planted = sorted(row for rows in truth.planted.values() for row in rows)
    assert sorted(result.excluded["行"].astype(int)) == planted
    assert int(result.indicators["n"].iloc[0]) == 300 - len(planted)


def test_synth_panel_writes_one_filled_sheet_per_expert(tmp_path: Path, capsys) -> None:
    assert main(["synth", "--panel", str(REFERENCE), "--experts", "5", "--out", str(tmp_path / "p")]) == 0
    sheets = sorted((tmp_path / "p").glob("*.xlsx"))
    assert len(sheets) == 5
    from perfeval.panel.apply import merge_sheets

    result = merge_sheets(perfeval.load_project(REFERENCE), sheets)
    assert result.table.shape[0] == 10 and result.merged.experts == ("E01", "E02", "E03", "E04", "E05")


def test_synth_wants_exactly_one_kind(tmp_path: Path, capsys) -> None:
    assert main(["synth", "--out", str(tmp_path)]) == 2
    assert main(["synth", "--projects", "2", "--survey", str(REFERENCE), "--out", str(tmp_path)]) == 2
    assert "--projects N、--panel PROJECT、--survey PROJECT" in capsys.readouterr().err
