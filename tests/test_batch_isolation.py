"""One file never takes down a batch: a reader that dies or overruns is contained per file.

The crashing file is real: a workbook with one cell far from the others, which makes the xlsx
reader allocate the whole rectangle at once (rows × columns cells). Under the scan workers'
address-space limit (set small here through its environment variable) the allocation fails and
the reader aborts the process (SIGABRT) — the way a corrupt 13 KB file takes down a reader.
"""

from __future__ import annotations

import pickle
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from perfeval.batch import contain, run_batch
from perfeval.cli import main
from perfeval.devtools import synth
from perfeval.errors import ReaderDied, ReaderTimeout

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"


def far_cell_copy(source: Path, target: Path, cell: str = "Z150000") -> Path:
    """`source` with one more cell at `cell` on its first sheet (the reader then needs
    rows × columns × 32 bytes: 3.9 million cells, 125 MB, for Z150000 — within the pre-scan's
    limit (perfeval.xlsx_guard refuses more than 5 million cells before reading), so it is the
    reader itself that runs into the worker's memory limit)."""
    row = re.sub(r"[A-Z]", "", cell)
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{cell}"/>', data.decode())
                text = text.replace("</sheetData>", f'<row r="{row}"><c r="{cell}"><v>1</v></c></row></sheetData>')
                data = text.encode()
            zout.writestr(item, data)
    return target


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """4 good project files, a portfolio workbook of 3, a file whose reader crashes and a file
    that is not a workbook at all."""
    root = tmp_path / "in"
    files = synth.write_portfolio(root, 4, seed=81, broken_share=0.0)
    synth.write_portfolio(root / "组合", 3, seed=82, broken_share=0.0, portfolio=True)
    far_cell_copy(files[0], root / "崩溃.xlsx")
    (root / "损坏.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    return root


def _summary(out: Path) -> dict[str, pd.DataFrame]:
    return pd.read_excel(out / "summary.xlsx", sheet_name=None, engine="calamine")


def test_a_crashing_reader_and_a_malformed_file_fail_alone(mixed: Path, tmp_path: Path, monkeypatch,
                                                           capsys) -> None:
    monkeypatch.setenv(contain.MEMORY_ENV, "64")
    out = tmp_path / "out"
    assert main(["batch", str(mixed), "--out", str(out), "--format", "none", "--workers", "2"]) == 1
    printed = capsys.readouterr()
    assert "仅评分 7 个" in printed.out and "失败 2 个" in printed.out

    sheets = _summary(out)
    summary = sheets["项目汇总"].set_index("项目编号")
    scored = summary[summary["状态"] == "仅评分"]
    assert len(scored) == 7 and scored["总分"].notna().all()
    failed = sheets["失败项目"].set_index("项目编号")
    assert set(failed.index) == {"崩溃", "损坏"}
    crash = failed.loc["崩溃"]
    assert crash["阶段"] == "读取"
    assert crash["原因"].startswith("崩溃.xlsx：读取文件时进程异常退出（信号 6，SIGABRT）")
    assert "内存超过上限（64 MB）" in crash["原因"] and "memory allocation of" in crash["原因"]
    assert crash["文件"].endswith("崩溃.xlsx")
    assert failed.loc["损坏", "阶段"] == "校验" and "不是有效的 Excel 工作簿" in failed.loc["损坏", "原因"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "崩溃.xlsx：读取文件时进程异常退出（信号 6" in index and "损坏.xlsx" in index


def test_the_same_file_reads_without_the_small_limit(mixed: Path, tmp_path: Path, monkeypatch) -> None:
    """The crash above is the limit at work: with the default limit the far cell is just a cell."""
    monkeypatch.delenv(contain.MEMORY_ENV, raising=False)
    for other in mixed.rglob("*.xlsx"):
        if other.name != "崩溃.xlsx":
            other.unlink()
    result = run_batch([mixed], tmp_path / "out", formats=(), workers=1)
    (status,) = result.statuses
    assert status.stage != "读取", status.reason


def test_a_reader_that_overruns_the_time_limit_is_stopped(tmp_path: Path, monkeypatch) -> None:
    """Each file gets `PERFEVAL_SCAN_TIMEOUT_S`; past it the worker is killed and replaced and the
    file is recorded as 读取超时 (here every file overruns a limit no reader can meet)."""
    root = tmp_path / "in"
    synth.write_portfolio(root, 2, seed=83, broken_share=0.0)
    monkeypatch.setenv(contain.TIMEOUT_ENV, "0.001")
    result = run_batch([root], tmp_path / "out", formats=(), workers=1)
    assert result.exit_code == 1 and len(result.failed) == 2
    for status in result.failed:
        assert status.stage == "读取"
        assert status.reason == (f"{status.entry.source.name}：读取超时（超过 0.001 秒），已终止；"
                                 "文件可能过大或已损坏。其他文件不受影响")
        failure = status.entry.failure
        assert isinstance(failure, ReaderTimeout) and failure.seconds == 0.001 and not failure.scoring
        assert failure.path == str(status.entry.source)


def test_read_failures_are_typed_and_survive_a_process_boundary() -> None:
    """The supervisor's reasons are exceptions carrying their fields; their text is the located Chinese reason,
    and they pickle (a Dask chunk sends its scan back as a pickle)."""
    died = contain.died_reason(Path("/in/坏.xlsx"), -6, 64, hint="memory allocation of 1 bytes failed")
    assert isinstance(died, ReaderDied) and died.signal == 6 and died.memory_mb == 64
    assert str(died).startswith("坏.xlsx：读取文件时进程异常退出（信号 6，SIGABRT），未留下结果")
    assert str(died).endswith("\n进程最后的输出：memory allocation of 1 bytes failed")
    exited = contain.died_reason(Path("/in/坏.xlsx"), 3, 64, scoring=True)
    assert exited.signal is None and "评分时进程异常退出（退出码 3）" in str(exited)
    for error in (died, exited, contain.timeout_reason(Path("/in/慢.xlsx"), 2.5, scoring=True)):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and str(back) == str(error) and vars(back) == vars(error)
    (entry,) = contain.failed_scan(Path("/in/坏.xlsx"), died).entries
    assert entry.failure is died and entry.problems == [str(died)] and entry.stage == contain.STAGE


def test_a_worker_death_mid_chunk_requeues_the_other_files(mixed: Path, monkeypatch) -> None:
    """One chunk holding every file, one worker: the crash is blamed on its file only and the
    files read before and after it in that chunk are scored (by a fresh worker)."""
    from perfeval.batch.discover import in_input_order, input_files, merge_scans
    from perfeval.batch.runner import local_context

    monkeypatch.setenv(contain.MEMORY_ENV, "64")
    files = input_files([mixed])
    scans = contain.scan_contained([[str(f) for f in files]], None, workers=1, ctx=local_context(reports=False))
    scan = in_input_order(merge_scans(scans), files)
    valid = [e for e in scan.entries if e.valid]
    assert len(valid) == 7 and len(scan.frames.projects) == 7
    assert sorted(e.key for e in scan.entries if not e.valid) == ["崩溃", "损坏"]
    assert [e.pidx for e in valid] == list(range(7))


def test_reference_scores_the_same_through_the_contained_scan(tmp_path: Path) -> None:
    shutil.copy(REFERENCE, tmp_path / REFERENCE.name)
    result = run_batch([tmp_path / REFERENCE.name], tmp_path / "out", formats=())
    head = result.scan.frames.projects
    assert head["total"].tolist() == [98.94] and head["grade"].tolist() == ["优"]
