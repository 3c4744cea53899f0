"""Reading many files on several cores (issue 10): `read_inputs` / `load_projects` with worker processes return
what reading them one after another returns — every project, problem, refusal and located error, in order."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields
from functools import partial
from pathlib import Path

import pandas as pd
import pytest

import perfeval
from perfeval.errors import SheetError
from perfeval.sheets import pool
from perfeval.sheets.inputs import input_files
from perfeval.sheets.load import ProjectRead, _read_files, read_inputs
from perfeval.sheets.write import save_portfolio

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Good, warning and refused one-project workbooks, a portfolio repeating one of their 项目编号, a file that
    is not a workbook and a zip that is not an Excel file."""
    folder = tmp_path_factory.mktemp("mixed")
    subprocess.run([sys.executable, "-m", "perfeval.cli", "synth", "--projects", "12", "--broken-share", "0.5",
                    "--out", str(folder / "synth")], check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    base = perfeval.load_project(REFERENCE, field_data=False)
    taken = _good(folder)
    variants = [base.replace(id=taken if i == 0 else f"P{i:02d}", name=f"项目{i}", spent=round(base.spent - i, 2))
                for i in range(3)]
    save_portfolio(variants, folder / "组合.xlsx")
    (folder / "坏文件.xlsx").write_bytes(b"not a workbook at all")
    import zipfile

    with zipfile.ZipFile(folder / "坏压缩包.xlsx", "w") as book:
        book.writestr("hello.txt", "这不是 Excel")
    return folder


def _good(folder: Path) -> str:
    """The 项目编号 of the first synthetic workbook that reads without a refusal."""
    from perfeval.sheets.load import read_projects

    for file in sorted((folder / "synth").glob("*.xlsx")):
        try:
            reads = read_projects(file)
        except SheetError:
            continue
        if reads[0].project is not None:
            return reads[0].key
    raise AssertionError("no readable synthetic workbook")


def _same(a: list[ProjectRead], b: list[ProjectRead]) -> None:
    assert [r.key for r in a] == [r.key for r in b]
    for x, y in zip(a, b, strict=True):
        assert x.problems == y.problems
        assert (x.project is None) == (y.project is None)
        if x.project is None:
            continue
        for f in fields(x.project):
            u, v = getattr(x.project, f.name), getattr(y.project, f.name)
            if isinstance(u, pd.DataFrame):
                pd.testing.assert_frame_equal(u, v, check_exact=True)
                assert isinstance(v.index, pd.RangeIndex)
            else:
                assert u == v or (u != u and v != v), f.name


@pytest.fixture(autouse=True)
def _only_our_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Earlier tests of the session can leave idle threads behind (a kernel client's, a resource tracker's), and
    a process running other threads reads without a pool: here the count is taken as if this process ran only the
    threads its test starts, so the pool is what is tested."""
    import threading

    leftover = threading.active_count() - 1
    counted = threading.active_count
    monkeypatch.setattr(threading, "active_count", lambda: max(1, counted() - leftover))  # a forked child: 1


def test_parallel_reads_equal_serial_reads(mixed: Path) -> None:
    files = input_files([mixed, REFERENCE])
    serial = read_inputs(files, workers=1)
    parallel = read_inputs(files, workers=2)
    _same(serial, parallel)
    keys = [r.key for r in serial]
    assert sum(r.project is None for r in serial) >= 4  # refused ones stay refused
    assert any(r.project is not None and r.project.sheet_findings for r in serial)  # warnings travel
    broken = {r.key: r.problems for r in serial if r.key in ("坏文件", "坏压缩包")}
    assert set(broken) == {"坏文件", "坏压缩包"}  # each a located error of its own file, not a traceback
    assert all(q.file.endswith(f"{key}.xlsx") for key, found in broken.items() for q in found)
    assert keys.count(_good(mixed)) == 2  # the same 项目编号 in two files: both read, in file order


def test_cross_file_duplicate_refused_the_same_either_way(mixed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """evaluate_portfolio (automatic workers, here forced to a pool) refuses a 项目编号 already used by another
    file exactly as serial reading does."""
    serial = perfeval.evaluate_portfolio(mixed)
    monkeypatch.setattr(pool, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(pool, "idle_cores", lambda: 2)
    assert pool.pool_size(None, input_files([mixed]), None) == 2
    parallel = perfeval.evaluate_portfolio(mixed)
    pd.testing.assert_frame_equal(serial.projects, parallel.projects)
    pd.testing.assert_frame_equal(serial.problems, parallel.problems)
    assert parallel.problems["message"].str.contains("项目编号重复").any()


def test_load_projects_raises_the_same_located_errors(mixed: Path) -> None:
    with pytest.raises(SheetError) as serial:
        perfeval.load_projects(mixed, workers=1)
    with pytest.raises(SheetError) as parallel:
        perfeval.load_projects(mixed, workers=2)
    assert serial.value.problems == parallel.value.problems
    assert serial.value.problems  # something to compare


def test_a_killed_worker_loses_nothing(mixed: Path) -> None:
    """A worker that dies (killed, out of memory) leaves its files to be read in this process: the result is
    still complete and in order."""
    files = input_files([mixed])
    parts = pool.chunks(files, 2, 1000)
    assert len(parts) >= 2
    dying = partial(_dying, parent=os.getpid(), victim=parts[0][0])
    _same(read_inputs(files, workers=1), pool.run(dying, parts, 2))


def _dying(part: list[Path], parent: int, victim: Path) -> list[ProjectRead]:
    """`_read_files`, except that a worker given `victim` dies the way a killed process does."""
    if os.getpid() != parent and victim in part:
        os._exit(9)
    return _read_files(part, None, False)


def test_automatic_workers_follow_idle_cores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy machine (load average at or above its cores) reads in one process; an idle one uses every core."""
    files = [tmp_path / f"{i}.xlsx" for i in range(4)]
    for f in files:
        f.write_bytes(b"x" * (1 << 19))
    monkeypatch.setattr(pool, "cores", lambda: 2)
    for load, expected in ((0.0, 2), (1.0, 2), (1.6, 1), (3.5, 1)):
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        assert pool.idle_cores() == expected
        assert pool.pool_size(None, files, None) == expected
        assert pool.pool_size(2, files, None) == 2  # asked for: as asked


def test_pool_size_and_chunks(tmp_path: Path) -> None:
    small = [tmp_path / f"{i}.xlsx" for i in range(3)]
    for f in small:
        f.write_bytes(b"x" * 10)
    assert pool.pool_size(None, small, None) == 1  # too little to read: no pool
    assert pool.pool_size(1, small, None) == 1
    assert pool.pool_size(2, small, None) == 2
    assert pool.pool_size(8, small[:1], None) == 1
    with pytest.raises(ValueError):
        pool.pool_size(0, small, None)
    parts = pool.chunks(small * 10, 2, 4)
    assert [f for part in parts for f in part] == small * 10  # in order, nothing lost
    assert max(len(part) for part in parts) <= 4


def test_frames_travel_packed_and_come_back_equal() -> None:
    reads = read_inputs([REFERENCE, ROOT / "data" / "synthetic"], workers=1)
    before = [(r.project.indicators.copy(), r.project.stated.copy()) for r in reads if r.project is not None]
    payload = pool.pack(reads)
    assert all(r.project is None or r.project.indicators is None for r in reads)  # taken out to travel once
    back = pool.unpack(payload)
    after = [(r.project.indicators, r.project.stated) for r in back if r.project is not None]
    for (a, b), (c, d) in zip(before, after, strict=True):
        pd.testing.assert_frame_equal(a, c, check_exact=True)
        pd.testing.assert_frame_equal(b, d, check_exact=True)


def test_a_threaded_process_reads_in_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Forking a process that runs other threads (a Jupyter kernel) can deadlock: it reads without a pool."""
    import threading

    files = [tmp_path / f"{i}.xlsx" for i in range(4)]
    for f in files:
        f.write_bytes(b"x" * (1 << 19))
    monkeypatch.setattr(pool, "idle_cores", lambda: 2)
    assert pool.pool_size(None, files, None) == 2
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert pool.pool_size(None, files, None) == 1
        assert pool.pool_size(2, files, None) == 1
    finally:
        stop.set()
        other.join()


def test_stated_sheets_checked_together_read_as_one_by_one(tmp_path: Path) -> None:
    """The 报告数值 sheets of one-project workbooks are checked in one pass: every figure and every problem (an
    unknown 数据项, a value that cannot be read), located in its own file and in its rows' order, is what reading
    each workbook alone gives."""
    from perfeval.sheets.load import read_projects
    from perfeval.sheets.write import save_project

    base = perfeval.load_project(REFERENCE, field_data=False)
    files = []
    for i in range(5):
        stated = base.stated.copy()
        if i % 2:
            extra = pd.DataFrame({"item": ["不存在的数据项", "预算执行率"], "value": [None, None],
                                  "text": ["12", f"约{i}成"], "where": ["", "三(二)"]})
            stated = pd.concat([extra, stated], ignore_index=True)
        if i == 4:
            stated = stated.iloc[:0]
        files.append(save_project(base.replace(id=f"S{i}", name=f"项目{i}", stated=stated), tmp_path / f"S{i}.xlsx"))
    alone = [r for f in files for r in read_projects(f)]
    together = read_inputs(files, workers=1)
    _same(alone, together)
    flagged = [r for r in together if any(q.sheet == "报告数值" for q in r.problems)]
    assert [r.key for r in flagged] == ["S1", "S3"]
    assert all(q.file.endswith(f"{r.key}.xlsx") for r in flagged for q in r.problems)


def _report_can_fork(queue) -> None:
    queue.put(pool._can_fork())


def test_a_daemonic_process_reads_in_one_process() -> None:
    """A batch's scan workers are daemonic, and a daemonic process may not start children: reading there stays in
    the process (a pool would fail with "daemonic processes are not allowed to have children")."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    answers = []
    for daemon in (True, False):
        queue = ctx.Queue()
        proc = ctx.Process(target=_report_can_fork, args=(queue,), daemon=daemon)
        proc.start()
        answers.append(queue.get(timeout=30))
        proc.join(timeout=30)
    assert answers == [False, True]
