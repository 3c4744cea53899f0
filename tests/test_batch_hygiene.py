"""The batch's plumbing (issue 10, item 5): no fault hooks in the package, Status/Stage enums rather than
Chinese literals, the report builder called directly (never found through an import string), and typed
errors whose fields fill the failure records."""

from __future__ import annotations

import functools
import importlib.util
import json
import pickle
from pathlib import Path
from types import SimpleNamespace

import pytest

import perfeval
from perfeval.atomic import write_bytes_atomic
from perfeval.batch import manifest as mf
from perfeval.batch import pipeline, run_batch, runner, worker
from perfeval.batch.status import JobStatus, Stage, Status
from perfeval.errors import (
    CellTimeout,
    JobTimeout,
    KernelUnavailable,
    PerfevalError,
    Problem,
    SheetError,
    TaskLost,
    WorkerDied,
)
from perfeval.report.notebook import Kernel, NotebookFailed
from perfeval.sheets.write import save_project
from tests.standin import write_formats

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"
#: an error text that holds the words the batch once cut a failure's reason at
TRICKY = "坏了（执行记录：这是错误信息的一部分）"


def fake_report(workbook, out_dir, formats=("html",), scheme=None, project_id=None,
                extra_parameters=None, timeout=None, kernel_name=None) -> dict[str, Path]:
    """A stand-in for build_report. A project named "…笔记本失败" fails as a cell of the report notebook
    does (the executed notebook kept beside the reports)."""
    project = perfeval.load_project(workbook, scheme, project_id)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if project.name.endswith("笔记本失败"):
        kept = write_bytes_atomic(out / f"{project.id}.failed.ipynb", b"{}")
        raise NotebookFailed(7, 5, "ValueError", TRICKY).kept_at(kept)
    return write_formats(out, project.id, formats, project.id.encode())


@functools.cache
def _reference():
    return perfeval.load_project(REFERENCE)


def _project(folder: Path, pid: str, suffix: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ref = _reference()
    return save_project(ref.replace(id=pid, name=ref.name + suffix), folder / f"{pid}.xlsx")


# ----------------------------------------------------------------------------- faults

def test_fault_hooks_are_not_part_of_the_package() -> None:
    """Before: perfeval/batch/faults.py shipped in the package and the pipeline imported it."""
    assert importlib.util.find_spec("perfeval.batch.faults") is None
    assert not (ROOT / "perfeval" / "batch" / "faults.py").exists()


def test_the_old_fault_variable_and_a_job_fault_do_nothing(tmp_path: Path, monkeypatch) -> None:
    """Before: PERFEVAL_BATCH_FAULTS made a project's job process kill itself (crash), sleep forever
    (hang) or run a failing kernel (cell), and a job carrying "fault" did the same. Now both are
    ignored: every project is built."""
    inputs = tmp_path / "in"
    for pid in ("F-1", "F-2", "F-3"):
        _project(inputs, pid)
    monkeypatch.setenv("PERFEVAL_BATCH_FAULTS", json.dumps({"F-1": "crash", "F-2": "hang", "F-3": "cell"}))

    def plan_with_faults(*args, **kwargs):
        statuses, jobs, entries = real_plan(*args, **kwargs)
        kinds = {"F-1": "crash", "F-2": "hang", "F-3": "cell"}
        return statuses, [{**job, "fault": kinds[job["key"]]} for job in jobs], entries

    real_plan = pipeline.plan
    monkeypatch.setattr(pipeline, "plan", plan_with_faults)
    result = run_batch([inputs], tmp_path / "out", formats=("html",), workers=2, timeout=60,
                       report_fn=fake_report)
    assert result.exit_code == 0 and [s.status for s in result.statuses] == [Status.BUILT] * 3


# ----------------------------------------------------------------------------- enums

def test_statuses_stages_and_outcomes_are_enums(tmp_path: Path) -> None:
    """Before: "已生成", "重复", "ok" … were written and compared as literals. Now every status, stage and
    job outcome is an enum member (str subclasses: the files keep the words), also when read back."""
    inputs = tmp_path / "in"
    _project(inputs, "OK-1")
    _project(inputs, "NB-1", "笔记本失败")
    (inputs / "copy").mkdir()
    _project(inputs / "copy", "OK-1")  # the same 项目编号 again
    out = tmp_path / "out"
    outcomes: list[dict] = []
    result = run_batch([inputs], out, formats=("html",), workers=1, report_fn=fake_report,
                       on_outcome=outcomes.append)
    by_key = {(s.entry.key, str(s.entry.source.parent.name)): s for s in result.statuses}
    built, duplicate = by_key["OK-1", "in"], by_key["OK-1", "copy"]
    failed = by_key["NB-1", "in"]
    assert built.status is Status.BUILT and built.stage == ""
    assert duplicate.status is Status.FAILED and duplicate.stage is Stage.DUPLICATE
    assert failed.status is Status.FAILED and failed.stage is Stage.NOTEBOOK
    assert sorted(type(o["status"]) is JobStatus for o in outcomes) == [True, True]
    assert {o["status"] for o in outcomes} == {JobStatus.OK, JobStatus.FAILED}
    stored = json.loads((out / ".perfeval" / "failures.json").read_text("utf-8"))
    assert [f["stage"] for f in stored.values()] == ["笔记本"]  # the file holds the word
    # a rerun takes the failure from failures.json: the stage read back is the enum member again
    again = run_batch([inputs], out, formats=("html",), workers=1, report_fn=fake_report)
    cached = next(s for s in again.statuses if s.entry.key == "NB-1")
    assert cached.cached and cached.stage is Stage.NOTEBOOK and cached.status is Status.FAILED
    assert next(s for s in again.statuses if s.entry.key == "OK-1").status is Status.CURRENT
    scored = run_batch([REFERENCE], tmp_path / "scored", formats=(), workers=1)
    assert scored.statuses[0].status is Status.SCORED


def test_the_summary_keeps_the_words(tmp_path: Path) -> None:
    import pandas as pd

    inputs = tmp_path / "in"
    _project(inputs, "NB-2", "笔记本失败")
    out = tmp_path / "out"
    run_batch([inputs], out, formats=("html",), workers=1, report_fn=fake_report)
    sheets = pd.read_excel(out / "summary.xlsx", sheet_name=None, engine="calamine")
    failed = sheets["失败项目"].iloc[0]
    assert failed["阶段"] == "笔记本" and sheets["项目汇总"].iloc[0]["状态"] == "失败"


# ----------------------------------------------------------------------------- the report builder

def test_a_report_function_is_a_callable_never_an_import_string(tmp_path: Path) -> None:
    """Before: run_batch(report_fn="module:name") and the worker imported it with importlib."""
    with pytest.raises(TypeError, match="callable"):
        run_batch([REFERENCE], tmp_path / "out", formats=("html",), report_fn="test_batch:fake_report")
    assert not (tmp_path / "out").exists()
    assert not hasattr(worker, "_report_function")


def test_a_builders_fingerprint_name_is_stable(tmp_path: Path) -> None:
    assert pipeline.builder_name(None) is None
    assert pipeline.builder_name(fake_report) == f"{fake_report.__module__}:fake_report"
    partial = functools.partial(fake_report, scheme="self")
    assert pipeline.builder_name(partial) == f"{fake_report.__module__}:fake_report(){[('scheme', 'self')]!r}"
    _project(tmp_path / "in", "ST-1")
    first = run_batch([tmp_path / "in"], tmp_path / "out", formats=("html",), workers=1, report_fn=fake_report)
    again = run_batch([tmp_path / "in"], tmp_path / "out", formats=("html",), workers=1, report_fn=fake_report)
    assert first.statuses[0].status is Status.BUILT and again.statuses[0].status is Status.CURRENT


def test_the_dask_job_process_takes_a_job_with_a_builder(tmp_path: Path) -> None:
    """A job carrying a callable crosses to ``python -m perfeval.batch.worker`` (pickled, not JSON)."""
    source = _project(tmp_path / "in", "DK-1")
    layout = mf.Layout(tmp_path / "out")
    layout.state.mkdir(parents=True)
    job = {"key": "DK-1", "slot": "2022/DK-1", "root": str(layout.root), "folder": str(layout.root / "2022" / "DK-1"),
           "source": str(source), "project_id": None, "formats": ["html"], "scheme": None, "timeout": 120,
           "kernel_name": None, "report_fn": fake_report, "extra_parameters": {}, "project": None,
           "record": {"fingerprint": "x", "key": "DK-1"}, "tmp": str(tmp_path / "jobtmp")}
    import os

    pythonpath = os.pathsep.join([str(ROOT), str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = pythonpath
    try:
        outcome = runner.run_subprocess(job)
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = old
    assert outcome["status"] == JobStatus.OK, outcome
    assert (layout.root / "2022" / "DK-1" / "DK-1.html").read_bytes() == b"DK-1"


# ----------------------------------------------------------------------------- typed errors

def test_notebook_failed_carries_papermills_fields() -> None:
    exc = NotebookFailed(7, 5, "ValueError", TRICKY)
    assert isinstance(exc, PerfevalError)
    assert (exc.cell_index, exc.exec_count, exc.ename, exc.evalue, exc.notebook_path) == (7, 5, "ValueError", TRICKY,
                                                                                          None)
    assert str(exc) == exc.summary == f"报告笔记本第 5 个单元格执行出错：ValueError：{TRICKY}"  # the words as before
    kept = exc.kept_at(Path("/x/P.failed.ipynb"))
    assert kept.notebook_path == Path("/x/P.failed.ipynb") and kept.cell_index == 7
    assert str(kept) == f"{exc.summary}（执行记录：/x/P.failed.ipynb）"
    back = pickle.loads(pickle.dumps(kept))
    assert (back.exec_count, back.evalue, back.notebook_path, str(back)) == (5, TRICKY, kept.notebook_path, str(kept))


def test_a_failing_cell_becomes_notebook_failed_with_the_fields(monkeypatch, tmp_path: Path) -> None:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from perfeval.report import notebook as nbrun

    def failing(*args, **kwargs):
        raise PapermillExecutionError(4, 3, "x = 1 / 0", "ZeroDivisionError", "division by zero", ["tb"])

    monkeypatch.setattr(papermill, "execute_notebook", failing)
    kernel = SimpleNamespace(name="python3", km=None, close_clients=lambda: None)  # the Kernel interface
    with pytest.raises(NotebookFailed) as caught:
        nbrun.execute({}, tmp_path / "out.ipynb", notebook=tmp_path / "in.ipynb", kernel=kernel)
    exc = caught.value
    assert (exc.cell_index, exc.exec_count, exc.ename, exc.evalue) == (4, 3, "ZeroDivisionError", "division by zero")
    assert str(exc) == "报告笔记本第 3 个单元格执行出错：ZeroDivisionError：division by zero"


def test_a_kernel_that_cannot_start_is_kernel_unavailable() -> None:
    with pytest.raises(KernelUnavailable) as caught:
        Kernel("perfeval-no-such-kernel").__enter__()
    exc = caught.value
    assert isinstance(exc, PerfevalError) and exc.kernel_name == "perfeval-no-such-kernel"
    assert "perfeval-no-such-kernel" in exc.reason
    assert str(exc) == f"无法启动 Jupyter 内核「perfeval-no-such-kernel」：{exc.reason}"
    assert worker._is_kernel_start_failure(exc)  # retried once, by type


def test_batch_errors_carry_fields_and_keep_their_words() -> None:
    timeout = JobTimeout(5, 5.04)
    assert (timeout.seconds, timeout.elapsed) == (5, 5.04)
    assert str(timeout) == "超过时限 5 秒（已运行 5.0 秒），已终止"
    assert str(JobTimeout(0.5, 0.51)) == "超过时限 0.5 秒（已运行 0.5 秒），已终止"
    killed, exited = WorkerDied(-9), WorkerDied(3)
    assert (killed.exitcode, killed.signal, exited.signal) == (-9, 9, None)
    assert str(killed) == "生成该项目报告的工作进程意外退出（被信号 9 终止），未留下结果"
    assert str(exited) == "生成该项目报告的工作进程意外退出（退出码 3），未留下结果"
    lost = TaskLost("KilledWorker", "worker lost")
    assert (lost.kind, lost.detail) == ("KilledWorker", "worker lost")
    assert str(lost) == "Dask 任务失败（KilledWorker：worker lost）"
    cell = CellTimeout(30, "Cell execution timed out")
    assert (cell.seconds, str(cell)) == (30, "单元格执行超过 30 秒：Cell execution timed out")
    for exc in (timeout, killed, lost, cell):
        assert isinstance(exc, PerfevalError)
        assert str(pickle.loads(pickle.dumps(exc))) == str(exc)


def test_failure_records_come_from_the_error_fields() -> None:
    """Before: the stage was chosen by the error's class name and the reason cut at "（执行记录：" in its
    text, so an error message holding those words lost its end."""
    kept = NotebookFailed(7, 5, "ValueError", TRICKY, Path("/staging/P.failed.ipynb"))
    assert worker.failure_of(kept) == (Stage.NOTEBOOK, f"报告笔记本第 5 个单元格执行出错：ValueError：{TRICKY}")
    assert worker.failure_of(JobTimeout(2, 2.01)) == (Stage.TIMEOUT, "超过时限 2 秒（已运行 2.0 秒），已终止")
    assert worker.failure_of(WorkerDied(-9))[0] is Stage.PROCESS
    assert worker.failure_of(TaskLost("CancelledError", ""))[0] is Stage.PROCESS
    problem = Problem("a.xlsx", "指标", 3, "分值", "x", "应为数字")
    assert worker.failure_of(SheetError([problem])) == (Stage.VALIDATE, str(problem))
    assert worker.failure_of(PerfevalError("导出失败")) == (Stage.RENDER, "导出失败")
    assert worker.failure_of(ValueError("坏")) == (Stage.RENDER, "ValueError：坏")
    job = {"key": "P"}
    outcome = runner._timeout_outcome({**job, "timeout": 3}, 3.2)
    assert outcome == {"key": "P", "status": JobStatus.FAILED, "stage": Stage.TIMEOUT,
                       "reason": "超过时限 3 秒（已运行 3.2 秒），已终止", "elapsed": 3.2}
    died = runner._died_outcome(job, -9, 1.0)
    assert died["stage"] is Stage.PROCESS and "被信号 9 终止" in died["reason"]


def test_a_kept_notebook_is_recorded_from_the_field(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    _project(inputs, "NB-3", "笔记本失败")
    out = tmp_path / "out"
    result = run_batch([inputs], out, formats=("html",), workers=1, report_fn=fake_report)
    (status,) = result.statuses
    assert status.stage is Stage.NOTEBOOK
    assert status.reason == f"报告笔记本第 5 个单元格执行出错：ValueError：{TRICKY}"  # whole, not cut
    assert status.notebook == "失败项目/2022-NB-3.failed.ipynb" and (out / status.notebook).is_file()
