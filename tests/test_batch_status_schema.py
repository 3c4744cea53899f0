"""Batch statuses as enums that keep their Chinese values through a manifest, and one summary.xlsx schema
shared by the batch writer and the workbench reader."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from perfeval import summary_schema as schema
from perfeval.batch import manifest as mf
from perfeval.batch import run_batch
from perfeval.batch.status import CACHEABLE_STAGES, Shown, Stage, Status, shown
from perfeval.workbench.portfolio import BATCH_HEADERS, load_batch_output

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"


def test_status_values_are_the_words_written_before() -> None:
    assert [s.value for s in Status] == ["已生成", "已是最新", "失败", "仅评分"]
    assert {s.value for s in Stage} == {"校验", "读取", "重复", "笔记本", "超时", "进程", "生成"}
    assert Status.FAILED == "失败" and f"{Stage.NOTEBOOK}" == "笔记本"   # literal comparisons keep working
    assert shown("已生成") == shown(Status.CURRENT) == Shown.OK == "成功"
    assert shown("未知") == "未知"
    assert mf.CACHEABLE_STAGES is CACHEABLE_STAGES


def test_enums_round_trip_through_the_failures_manifest(tmp_path: Path) -> None:
    layout = mf.Layout(tmp_path)
    layout.state.mkdir(parents=True)
    mf.write_failures(layout, {"P1": {"fingerprint": "x", "status": Status.FAILED, "stage": Stage.NOTEBOOK,
                                      "reason": "单元格失败"}})
    raw = json.loads(layout.failures_file.read_text(encoding="utf-8"))
    assert raw["P1"]["status"] == "失败" and raw["P1"]["stage"] == "笔记本"   # the file holds the words
    back = mf.read_failures(layout)["P1"]
    assert Status(back["status"]) is Status.FAILED and Stage(back["stage"]) is Stage.NOTEBOOK
    assert back["stage"] in mf.CACHEABLE_STAGES


@pytest.fixture(scope="module")
def scored_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("batch")
    result = run_batch([REFERENCE], out, formats=(), workers=1)
    assert [s.status for s in result.statuses] == [Status.SCORED]
    return out


def test_summary_headers_come_from_the_schema(scored_batch: Path) -> None:
    book = openpyxl.load_workbook(scored_batch / schema.SUMMARY_XLSX, read_only=True)
    assert book.sheetnames == [schema.PROJECTS_SHEET, schema.DETAIL_SHEET, schema.FINDINGS_SHEET,
                               schema.FAILED_SHEET]
    header = next(book[schema.PROJECTS_SHEET].iter_rows(max_row=1, values_only=True))
    written = {c for c, h in schema.HEADERS.items() if h in header}
    assert written >= {"id", "name", "total", "grade", "budget", "execution_rate", "errors", "status", "file"}
    assert all(schema.level_header(level) in header for level in ("决策", "过程", "产出", "效益"))
    row = next(book[schema.PROJECTS_SHEET].iter_rows(min_row=2, max_row=2, values_only=True))
    assert row[header.index(schema.HEADERS["status"])] == "仅评分"
    # the reader takes each column under the header the writer writes
    for column, spellings in BATCH_HEADERS.items():
        assert spellings[0] == schema.HEADERS[column]


def test_workbench_reads_what_the_batch_wrote(scored_batch: Path) -> None:
    portfolio = load_batch_output(scored_batch)
    row = portfolio.summary.iloc[0]
    assert (row["id"], row["total"], row["grade"]) == ("AKT2022-001", 98.94, "优")
    assert row["execution_rate"] == pytest.approx(0.9558, abs=1e-4)
    assert set(portfolio.levels) == {"决策", "过程", "产出", "效益"}
    assert len(portfolio.findings) == 16


def test_workbench_still_reads_older_spellings(tmp_path: Path) -> None:
    frame = pd.DataFrame({"项目代码": ["X1"], "项目名称": ["甲"], "综合得分": [88.5], "绩效等级": ["良"],
                          "执行率": ["95.5%"], "预算数": [100.0], "文件名": ["x.xlsx"]})
    with pd.ExcelWriter(tmp_path / schema.SUMMARY_XLSX) as writer:
        frame.to_excel(writer, sheet_name=schema.PROJECTS_SHEET, index=False)
    row = load_batch_output(tmp_path).summary.iloc[0]
    assert (row["id"], row["total"], row["grade"], row["budget"]) == ("X1", 88.5, "良", 100.0)
    assert row["execution_rate"] == pytest.approx(0.955)
