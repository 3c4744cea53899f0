"""The tidy analyst API (issue 11, item 4): evaluate_portfolio's frames keyed by 项目编号, folders as input,
evaluate_frames keyed by project id, and a data dictionary that documents every column with its label."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import perfeval
from perfeval.scoring.tidy import FRAMES, LABELS, evaluate_portfolio, to_chinese

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"
REFERENCE_CSV = ROOT / "data" / "reference" / "csv"
SYNTHETIC = ROOT / "data" / "synthetic"
DICTIONARY = ROOT / "docs" / "data-dictionary.md"


def _with_info(source: Path, target: Path, **fields: object) -> Path:
    """A copy of a workbook with 项目信息 fields replaced (e.g. 项目编号, 预算数)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    book = openpyxl.load_workbook(target)
    sheet = book["项目信息"]
    for row in sheet.iter_rows(min_row=1):
        if row[0].value in fields:
            row[1].value = fields[row[0].value]
    book.save(target)
    return target


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory) -> tuple[Path, perfeval.PortfolioResult]:
    """data/synthetic plus, in a nested folder, the reference, a second project and one unreadable sheet."""
    root = tmp_path_factory.mktemp("inputs")
    shutil.copytree(SYNTHETIC, root / "synthetic")
    (root / "nested" / "deeper").mkdir(parents=True)
    shutil.copy(REFERENCE, root / "nested" / "deeper" / REFERENCE.name)
    _with_info(REFERENCE, root / "nested" / "second.xlsx", 项目编号="AKT2022-002", 项目名称="第二个项目")
    _with_info(REFERENCE, root / "nested" / "broken.xlsx", 项目编号="BAD-1", 预算数="很多")
    (root / "nested" / "~$second.xlsx").write_bytes(b"lock file")  # Excel's lock file is skipped
    return root, evaluate_portfolio(root)


def test_every_frame_is_keyed_by_project_id(portfolio) -> None:
    _, res = portfolio
    for name, frame in res.frames().items():
        assert list(frame.columns) == list(LABELS[name]), name
        assert frame.columns[0] == "project_id"
    projects = res.projects
    assert projects["project_id"].is_unique and len(projects) == 12 + 2
    assert {"AKT2022-001", "AKT2022-002"} <= set(projects["project_id"])
    for name in ("levels", "indicators", "findings"):
        assert set(res.frames()[name]["project_id"]) <= set(projects["project_id"]), name


def test_reference_figures_in_the_tidy_frames(portfolio) -> None:
    _, res = portfolio
    ref = res.projects.set_index("project_id").loc["AKT2022-001"]
    assert ref["name"] == "工会社会化聘用人员社保缴费" and ref["year"] == 2022
    assert ref["total"] == pytest.approx(98.94) and ref["grade"] == "优"
    assert ref["execution_rate"] == pytest.approx(31.98 / 33.46)
    assert ref["errors"] + ref["warnings"] + ref["infos"] == 16
    assert (res.findings["project_id"] == "AKT2022-001").sum() == 16
    levels = res.levels[res.levels["project_id"] == "AKT2022-001"].set_index("level")["score"]
    assert levels.to_dict() == pytest.approx({"决策": 20, "过程": 19.78, "产出": 39.16, "效益": 20})
    ev = perfeval.evaluate(perfeval.load_project(REFERENCE))
    ind = res.indicators[res.indicators["project_id"] == "AKT2022-001"]
    np.testing.assert_allclose(ind["score"], ev.indicators["score"])
    np.testing.assert_allclose(ind["lost"], ev.indicators["lost"])
    assert list(ind["name"]) == list(ev.indicators["name"])
    assert ind["target_understood"].notna().all() and (ind["actual_understood"] != "").any()
    second = res.projects.set_index("project_id").loc["AKT2022-002"]
    assert second["name"] == "第二个项目" and second["total"] == pytest.approx(98.94)


def test_unreadable_project_is_a_located_problem(portfolio) -> None:
    root, res = portfolio
    bad = res.problems[res.problems["project_id"] == "BAD-1"]
    assert len(bad) >= 1
    row = bad.iloc[0]
    assert Path(row["file"]) == (root / "nested" / "broken.xlsx").resolve()
    assert row["sheet"] == "项目信息" and row["column"] == "预算数" and row["value"] == "很多"
    assert row["row"] > 0 and row["severity"] == "error" and row["message"]
    assert "BAD-1" not in set(res.projects["project_id"])


def test_a_duplicate_project_id_is_reported_not_merged(tmp_path: Path) -> None:
    res = evaluate_portfolio([REFERENCE, REFERENCE_CSV])  # the same project as a workbook and a CSV set
    assert list(res.projects["project_id"]) == ["AKT2022-001"]
    assert res.projects.loc[0, "file"] == str(REFERENCE)
    (problem,) = res.problems.itertuples()
    assert problem.project_id == "AKT2022-001" and problem.column == "项目编号"
    assert "重复" in problem.message and str(REFERENCE) in problem.message
    assert problem.file.endswith("AKT2022-001.csv")


def test_strict_refuses_what_is_otherwise_scored_as_written(tmp_path: Path) -> None:
    book = tmp_path / "w110.xlsx"
    shutil.copy(REFERENCE, book)
    wb = openpyxl.load_workbook(book)
    wb["指标"].cell(16, 5, 20)  # 产出 adds up to 50: the items total 110
    wb.save(book)
    lenient = evaluate_portfolio(tmp_path)
    assert lenient.projects.loc[0, "total"] == pytest.approx(108.94) and lenient.problems.empty
    assert "weights" in set(lenient.findings["code"])
    strict = evaluate_portfolio(tmp_path, strict=True)
    assert strict.projects.empty and list(strict.projects.columns) == list(LABELS["projects"])
    assert set(strict.problems["code"]) == {"weights"}


def test_scheme_and_options_reach_the_scores() -> None:
    base = evaluate_portfolio(REFERENCE)
    linear = evaluate_portfolio(REFERENCE, options={"rounding": "truncate"}, scheme="third_party")
    assert base.projects.loc[0, "scheme"] == linear.projects.loc[0, "scheme"] == "third_party"
    assert linear.projects.loc[0, "total"] <= base.projects.loc[0, "total"]
    with pytest.raises(perfeval.SchemeError, match="未知的评分选项"):
        evaluate_portfolio(REFERENCE, options={"foo": 1})


def test_missing_and_empty_inputs(tmp_path: Path) -> None:
    with pytest.raises(perfeval.PerfevalError, match="找不到输入"):
        evaluate_portfolio(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(perfeval.SheetError, match="没有找到指标表"):
        evaluate_portfolio(tmp_path / "empty")


def test_to_chinese_labels_every_column(portfolio) -> None:
    _, res = portfolio
    chinese = res.to_chinese()
    assert list(chinese.projects.columns[:4]) == ["项目编号", "项目名称", "年度", "主管部门"]
    assert "失分" in chinese.indicators.columns and "扣分原因" in chinese.indicators.columns
    for name, frame in chinese.frames().items():
        assert list(frame.columns) == list(LABELS[name].values())
        assert len(set(frame.columns)) == len(frame.columns), f"{name}: two columns share a label"
    with pytest.raises(KeyError):
        to_chinese(res.projects, "nothing")


def _dictionary() -> dict[str, dict[str, tuple[str, str, str]]]:
    """{frame: {column: (Chinese label, unit, meaning)}} parsed from docs/data-dictionary.md."""
    out: dict[str, dict[str, tuple[str, str, str]]] = {}
    frame = None
    for line in DICTIONARY.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## (\w+)\s*$", line)
        if heading:
            frame = heading.group(1)
            out[frame] = {}
            continue
        row = re.match(r"^\| `(\w+)` \| (.+?) \| (.+?) \| (.+) \|$", line)
        if row and frame is not None:
            out[frame][row.group(1)] = (row.group(2).strip(), row.group(3).strip(), row.group(4).strip())
    return out


def test_data_dictionary_documents_every_column_with_its_label(portfolio) -> None:
    _, res = portfolio
    documented = _dictionary()
    assert set(documented) == set(FRAMES)
    for name, frame in res.frames().items():
        columns = documented[name]
        assert list(columns) == list(frame.columns), f"{name}: the dictionary's columns differ from the frame's"
        for column in frame.columns:
            label, unit, meaning = columns[column]
            assert label == LABELS[name][column], (name, column)
            assert unit and meaning
    # evaluate_frames and Evaluation.indicators use the same names for the scoring columns
    ev = perfeval.evaluate(perfeval.load_project(REFERENCE))
    assert set(ev.indicators.columns) <= set(documented["indicators"])


def test_load_projects_reads_folders_recursively(portfolio) -> None:
    root, _ = portfolio
    good = root / "nested" / "deeper"
    (good / ".hidden").mkdir()
    shutil.copy(REFERENCE, good / ".hidden" / "skipped.xlsx")
    assert [p.id for p in perfeval.load_projects(good)] == ["AKT2022-001"]
    assert len(perfeval.load_projects(root / "synthetic")) == 12
    assert len(perfeval.load_projects([REFERENCE, root / "synthetic"])) == 13
    with pytest.raises(perfeval.SheetError) as caught:  # a folder with an unreadable sheet lists its problems
        perfeval.load_projects(root / "nested")
    assert any(p.column == "预算数" and p.file.endswith("broken.xlsx") for p in caught.value.problems)


def test_evaluate_frames_is_keyed_by_project_id() -> None:
    first = perfeval.load_project(REFERENCE)
    second = first.replace(id="AKT2022-009", name="另一个", year=2023)
    frames = perfeval.evaluate_frames([first, second, first.replace(scheme_id="self", id="S-1")])
    head = frames.projects
    assert list(head.columns[:4]) == ["project_id", "pidx", "name", "year"]
    assert list(head["project_id"]) == ["AKT2022-001", "AKT2022-009", "S-1"]
    assert list(head["name"]) == ["工会社会化聘用人员社保缴费", "另一个", "工会社会化聘用人员社保缴费"]
    assert list(head["year"]) == [2022, 2023, 2022]
    ids = dict(zip(head["pidx"], head["project_id"], strict=True))
    for name in ("indicators", "levels", "findings", "stated"):
        frame = getattr(frames, name)
        assert frame.columns[0] == "project_id", name
        assert (frame["project_id"] == frame["pidx"].map(ids)).all(), name
    assert set(frames.levels.loc[frames.levels["project_id"] == "S-1", "name"]) == {"预算执行率", "产出", "效益",
                                                                                   "满意度"}
    assert perfeval.evaluate_frames([]).projects.empty


def test_evaluation_indicators_carry_the_project_id() -> None:
    ev = perfeval.evaluate(perfeval.load_project(REFERENCE))
    assert ev.indicators.columns[0] == "project_id"
    assert (ev.indicators["project_id"] == "AKT2022-001").all()
    assert "project_id" not in ev.findings.columns and "project_id" not in ev.levels.columns
    stacked = pd.concat([e.indicators for e in perfeval.evaluate_many(
        [ev.project, ev.project.replace(id="X-2")])], ignore_index=True)
    assert stacked.groupby("project_id")["score"].sum().to_dict() == pytest.approx({"AKT2022-001": 98.94,
                                                                                   "X-2": 98.94})
