"""A batch's start and end around its reports (issue 10, target (b): all formats ≤ 1.5 s per project).

Before: a batch read and scored every sheet, then started its job processes; each started its notebook kernel
when its first job arrived, and the kernel imported the report stack during the first notebook (the first two
projects took about 6.8 s against 2.6 s later). The forkserver imported the report stack before the sheets were
read, and after the last report the forkserver unloaded it only once the command had ended.

Now: on a run that builds every project it reads (a first run into DIR, or --force) the forkserver starts at
once, the sheets are read meanwhile (scan workers forked from the batch's own process when it runs no other
thread), and the job processes start as soon as the first chunk of sheets is read: each starts its kernel, loads
what the notebook uses into it and loads its exporters before its first job. Whatever stops the batch, every
process it started is stopped with its kernel. After the last outcome the command stops the forkserver while
the summary is written.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from pathlib import Path

import psutil
import pytest

from perfeval.batch import discover as disc
from perfeval.batch import manifest as mf
from perfeval.batch import pipeline, run_batch, runner, worker
from perfeval.batch.status import JobStatus, Status
from perfeval.devtools import synth
from perfeval.errors import PerfevalError
from tests.standin import fake_report


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("startup")
    synth.write_portfolio(root, 4, seed=31, broken_share=0.0)
    return root


def _record(monkeypatch, events: list[str]) -> None:
    """Note when the job processes start, when the scan returns and when the jobs are planned."""
    start, scan, plan = runner.JobPool.start, pipeline._scan, pipeline.plan

    def recording_start(self, count):
        events.append("start")
        return start(self, count)

    def recording_scan(*args, **kwargs):
        result = scan(*args, **kwargs)
        events.append("scanned")
        return result

    def recording_plan(*args, **kwargs):
        events.append("plan")
        return plan(*args, **kwargs)

    monkeypatch.setattr(runner.JobPool, "start", recording_start)
    monkeypatch.setattr(pipeline, "_scan", recording_scan)
    monkeypatch.setattr(pipeline, "plan", recording_plan)


def _leftovers(folder: Path) -> list[psutil.Process]:
    """Processes started for the batch whose private folder is `folder` (job processes and their kernels carry
    it, or a folder below it, as TMPDIR)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("TMPDIR", "").startswith(str(folder)):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def _wait_until(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def _kernels(folder: Path) -> list[psutil.Process]:
    out = []
    for proc in _leftovers(folder):
        try:
            if any("ipykernel" in part for part in proc.cmdline()):
                out.append(proc)
        except psutil.Error:
            continue
    return out


def test_job_processes_start_while_the_sheets_are_read(inputs: Path, tmp_path: Path, monkeypatch) -> None:
    events: list[str] = []
    _record(monkeypatch, events)
    result = run_batch([inputs], tmp_path / "out", formats=("html",), workers=2, report_fn=fake_report)
    assert result.exit_code == 0 and result.built == 4
    assert events.index("start") < events.index("scanned") < events.index("plan")
    assert not _leftovers(mf.run_temp_dir(mf.Layout((tmp_path / "out").resolve())))


def test_a_resumed_run_starts_no_process_ahead(inputs: Path, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out"
    run_batch([inputs], out, formats=("html",), workers=2, report_fn=fake_report)
    events: list[str] = []
    _record(monkeypatch, events)
    again = run_batch([inputs], out, formats=("html",), workers=2, report_fn=fake_report)
    assert {s.status for s in again.statuses} == {Status.CURRENT}
    assert "start" not in events  # nothing to build: no job process, no kernel
    forced = run_batch([inputs], out, formats=("html",), workers=2, report_fn=fake_report, force=True)
    assert forced.built == 4 and events.count("start") == 1  # --force builds everything: started ahead again


def test_a_folder_keeping_failures_starts_no_process_ahead(inputs: Path, tmp_path: Path, monkeypatch) -> None:
    """A failure carried over from an earlier run is not rebuilt: not every project will be built."""
    layout = mf.Layout((tmp_path / "out").resolve())
    layout.state.mkdir(parents=True)
    mf.write_failures(layout, {"2099/X": {"fingerprint": "-", "stage": "生成", "reason": "坏了", "notebook": ""}})
    assert not pipeline._builds_every_project(layout, force=False)
    assert pipeline._builds_every_project(layout, force=True)
    events: list[str] = []
    _record(monkeypatch, events)
    result = run_batch([inputs], tmp_path / "out", formats=("html",), workers=2, report_fn=fake_report)
    assert result.built == 4 and "start" not in events  # started after planning, as before


def test_a_scoring_only_batch_starts_no_job_process(inputs: Path, tmp_path: Path, monkeypatch) -> None:
    events: list[str] = []
    _record(monkeypatch, events)
    result = run_batch([inputs], tmp_path / "out", formats=(), workers=2)
    assert {s.status for s in result.statuses} == {Status.SCORED}
    assert "start" not in events


def test_processes_started_beyond_the_jobs_stop_at_once(tmp_path: Path, monkeypatch) -> None:
    """Two files, one of them unreadable: two job processes start while reading, one job is planned."""
    synth.write_portfolio(tmp_path / "in", 1, seed=32, broken_share=0.0)
    (tmp_path / "in" / "坏表.xlsx").write_bytes(b"not a workbook")
    retired: list[int] = []
    retire = runner.JobPool.retire

    def recording_retire(self, slot):
        retired.append(slot.done)
        return retire(self, slot)

    monkeypatch.setattr(runner.JobPool, "retire", recording_retire)
    result = run_batch([tmp_path / "in"], tmp_path / "out", formats=("html",), workers=2, report_fn=fake_report)
    assert result.built == 1 and len(result.failed) == 1
    assert retired[0] == 0  # the process that never got a job went first, before the job ran
    assert not _leftovers(mf.run_temp_dir(mf.Layout((tmp_path / "out").resolve())))


def test_a_process_that_died_while_getting_ready_does_not_fail_a_job(inputs: Path, tmp_path: Path,
                                                                     monkeypatch) -> None:
    start = runner.JobPool.start

    def start_and_lose(self, count):
        start(self, count)
        for slot in self.slots:  # gone before any job reached it (a crash while warming up)
            slot.proc.kill()
            slot.proc.join(timeout=10)

    monkeypatch.setattr(runner.JobPool, "start", start_and_lose)
    result = run_batch([inputs], tmp_path / "out", formats=("html",), workers=2, report_fn=fake_report)
    assert result.exit_code == 0 and result.built == 4  # the jobs went to new processes


def test_the_scan_forks_from_this_process_only_when_it_runs_no_other_thread(monkeypatch) -> None:
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # this process alone (a test session has threads)
    assert pipeline._scan_context(True).get_start_method() == "fork"
    assert pipeline._scan_context(False).get_start_method() == "fork"
    monkeypatch.setattr(threading, "active_count", lambda: 2)  # another thread (a Jupyter kernel, Dask)
    assert pipeline._scan_context(True).get_start_method() == "forkserver"


def test_a_run_with_nothing_to_build_starts_no_forkserver(inputs: Path, tmp_path: Path, monkeypatch) -> None:
    """Before: the scan workers came from the forkserver, which imported the report stack first (1–2 s) even
    when every report was current."""
    out = tmp_path / "out"
    run_batch([inputs], out, formats=("html",), workers=2, report_fn=fake_report)
    from multiprocessing import forkserver

    runner.stop_forkserver()
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    again = run_batch([inputs], out, formats=("html",), workers=2, report_fn=fake_report)
    assert {s.status for s in again.statuses} == {Status.CURRENT}
    assert forkserver._forkserver._forkserver_pid is None  # never started


@pytest.mark.slow
def test_a_job_process_warms_its_kernel_before_its_first_job(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    pool = runner.JobPool(runner.local_context(), str(folder), worker.warm_up_message(None, ("html",)))
    try:
        pool.start(1)
        assert _wait_until(lambda: bool(_kernels(folder)), 90), "no kernel started before any job"
    finally:
        pool.close()
    assert _wait_until(lambda: not _leftovers(folder), 10), _leftovers(folder)


@pytest.mark.slow
@pytest.mark.parametrize("stop", [PerfevalError("读取中断（测试）"), KeyboardInterrupt()], ids=["error", "ctrl-c"])
def test_a_failure_while_reading_stops_the_started_processes(inputs: Path, tmp_path: Path, monkeypatch,
                                                             stop: BaseException) -> None:
    out = (tmp_path / "out").resolve()
    folder = mf.run_temp_dir(mf.Layout(out))
    order = disc.in_input_order

    def fail_once_kernels_run(scan, files):
        assert _wait_until(lambda: bool(_kernels(folder)), 90), "the job processes started no kernel"
        raise stop

    monkeypatch.setattr(disc, "in_input_order", fail_once_kernels_run)
    with pytest.raises(type(stop)):
        run_batch([inputs], out, formats=("html",), workers=2)
    monkeypatch.setattr(disc, "in_input_order", order)
    assert _wait_until(lambda: not _leftovers(folder), 10), _leftovers(folder)  # no orphan kernel
    assert not folder.exists()


def test_the_command_stops_the_forkserver_after_the_last_outcome(monkeypatch) -> None:
    from perfeval.batch.command import Progress, _ForkserverStop

    stopped = threading.Event()
    monkeypatch.setattr(runner, "stop_forkserver", stopped.set)
    progress = Progress(stream=open("/dev/null", "w"))  # noqa: SIM115 - closed with the test process
    stopping = _ForkserverStop(progress)
    progress.planned(2, [])
    stopping.outcome({"key": "A", "status": JobStatus.OK})
    assert not stopped.is_set()
    stopping.outcome({"key": "B", "status": JobStatus.FAILED, "reason": "坏了", "stage": "生成"})
    stopping.join()
    progress.close()
    assert stopped.is_set()


def test_stop_forkserver_ends_it() -> None:
    from multiprocessing import forkserver

    ctx = mp.get_context("forkserver")
    proc = ctx.Process(target=int)
    proc.start()
    proc.join(timeout=30)
    pid = forkserver._forkserver._forkserver_pid
    assert pid is not None and psutil.pid_exists(pid)
    runner.stop_forkserver()
    assert forkserver._forkserver._forkserver_pid is None
    assert _wait_until(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, 10)
