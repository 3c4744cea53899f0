"""Batch edges (issue 11 item 6): each fault is injected here, in the test, and the outcome and the
exit code are asserted.

Slow projects and dying jobs come from `fake_report` (a stand-in for build_report passed as
``report_fn``; it sleeps or dies when the project's name says so) and from a test kernelspec whose
kernel starts late — nothing in perfeval itself is switched on for them.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import http.server
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import perfeval
from perfeval.batch import command, manifest, pipeline, run_batch, runner, worker
from perfeval.cli import main
from perfeval.errors import PerfevalError, SheetError
from perfeval.report.build import file_stem
from perfeval.sheets.info import MAX_ID_LENGTH
from perfeval.sheets.write import save_project
from tests.standin import write_formats

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"
SLOW_KERNEL = "perfeval-test-slow"
SLOW_MARK = "perfeval-test-slow-kernel"


def fake_report(workbook, out_dir, formats=("html",), scheme=None, project_id=None,
                extra_parameters=None, timeout=None, kernel_name=None) -> dict[str, Path]:
    """A stand-in for build_report. A project named "…慢3.5秒" takes that long; one named
    "…崩溃" kills its own process (a worker that dies)."""
    project = perfeval.load_project(workbook, scheme, project_id)
    if "崩溃" in project.name:
        os.kill(os.getpid(), signal.SIGKILL)
    if match := re.search(r"慢(\d+(?:\.\d+)?)秒", project.name):
        time.sleep(float(match.group(1)))
    return write_formats(out_dir, file_stem(project.id), formats, project.id.encode())


FAKE = fake_report  # the batch calls it in its job processes instead of build_report


@functools.cache
def _reference():
    return perfeval.load_project(REFERENCE)


def _project(folder: Path, file: str, pid: str, name_suffix: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ref = _reference()
    return save_project(ref.replace(id=pid, name=ref.name + name_suffix), folder / f"{file}.xlsx")


def _with_fake(monkeypatch) -> None:
    """`perfeval batch` (in this process) builds reports with `fake_report`."""
    monkeypatch.setattr(pipeline, "run_batch", functools.partial(pipeline.run_batch, report_fn=FAKE))


def _failures(out: Path) -> pd.DataFrame:
    return pd.read_excel(out / "summary.xlsx", sheet_name="失败项目", engine="calamine")


def _cli(*args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    full = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]), **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "perfeval.cli", "batch", *args], env=full, cwd=ROOT,
                            **kwargs)


# ----------------------------------------------------------------------------- progress

def test_progress_lines_without_a_terminal() -> None:
    """Before: no progress at all without a terminal. Now: a line every N projects and every
    `interval` seconds, with done / failed / time left."""
    stream = io.StringIO()  # not a terminal
    progress = command.Progress(stream=stream, interval=0.3)
    progress.planned(40, [])
    assert progress.every == 2 and progress.bar is None  # at most 20 count lines
    for i in range(5):
        progress.outcome({"key": f"P{i}", "status": "ok" if i != 3 else "failed", "stage": "超时",
                          "reason": "超过时限 2 秒"})
    time.sleep(1.0)  # nothing finishes for a while: a timed line still comes
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "开始生成 40 个项目的报告"
    assert "进度：2/40（成功 2 · 失败 0）" in lines[1] and "预计剩余" in lines[1]
    assert "✗ P3（超时）：超过时限 2 秒" in lines
    assert any(line.startswith("进度：4/40（成功 3 · 失败 1）") for line in lines)
    timed = [line for line in lines if line.startswith("进度：5/40")]
    assert timed, lines  # the 5th outcome is not a multiple of 2: only the clock prints it
    assert "已用" in timed[0] and "预计剩余" in timed[0]


def test_progress_eta_and_last_line() -> None:
    assert command.progress_line(3, 1, 8, 40.0) == "进度：4/8（成功 3 · 失败 1），已用 40.0 秒，预计剩余 40.0 秒"
    assert command.progress_line(8, 0, 8, 130.0).endswith("预计剩余 —")


# ----------------------------------------------------------------------------- closed stdout

def test_a_closed_pipe_neither_stops_the_batch_nor_turns_failure_into_success(tmp_path: Path, monkeypatch) -> None:
    """Before: `perfeval batch … 2>&1 | head -1` ended at the second failure line with exit 0 and
    no index.html or summary.xlsx. Now every project runs, the summary is written, exit 1."""
    inputs = tmp_path / "in"
    for i in range(3):
        _project(inputs, f"c{i}", f"DIE-{i}", "崩溃")
    _project(inputs, "ok", "OK-1")
    _with_fake(monkeypatch)
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line
    closed = os.fdopen(write, "w", encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", closed)
    monkeypatch.setattr(sys, "stderr", closed)
    out = tmp_path / "out"
    code = main(["batch", str(inputs), "--out", str(out), "--format", "html", "--workers", "2"])
    monkeypatch.undo()
    assert code == 1
    assert (out / "index.html").is_file() and (out / "summary.xlsx").is_file()
    assert sorted(_failures(out)["项目编号"]) == ["DIE-0", "DIE-1", "DIE-2"]
    assert (out / "2022" / "OK-1" / "OK-1.html").is_file()


def test_a_subprocess_whose_stdout_closes_after_the_first_line_still_finishes(tmp_path: Path) -> None:
    from perfeval.devtools.synth import write_portfolio

    inputs = tmp_path / "in"
    write_portfolio(inputs, 4, seed=5, broken_share=0.5)
    out = tmp_path / "out"
    proc = _cli(str(inputs), "--out", str(out), "--format", "none", "--strict",
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    first = proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    assert proc.wait(timeout=300) == 1
    assert first.startswith("✗".encode())
    assert (out / "index.html").is_file() and (out / "summary.xlsx").is_file()
    summary = pd.read_excel(out / "summary.xlsx", sheet_name=None, engine="calamine")
    assert len(summary["项目汇总"]) + len(summary["失败项目"]) >= 4


# ----------------------------------------------------------------------------- --timeout

def test_cell_timeout_is_whole_seconds() -> None:
    """papermill's client takes an int: a fractional --timeout once failed every project (TraitError)."""
    assert worker.cell_timeout(0.5) == 1 and worker.cell_timeout(2) == 2 and worker.cell_timeout(2.1) == 3
    assert worker.cell_timeout(None) is None


def test_a_fractional_timeout_is_accepted_and_enforced(tmp_path: Path, monkeypatch, capsys) -> None:
    slow = _project(tmp_path / "in", "slow", "SLOW-1", "慢4秒")
    _with_fake(monkeypatch)
    out = tmp_path / "out"
    assert main(["batch", str(slow), "--out", str(out), "--format", "html", "--timeout", "0.5"]) == 1
    assert "TraitError" not in capsys.readouterr().err
    failed = _failures(out).iloc[0]
    assert failed["阶段"] == "超时" and "超过时限 0.5 秒" in failed["原因"]


def test_a_project_longer_than_the_timeout_is_stopped(tmp_path: Path) -> None:
    """Before: --timeout 2 let a project run 3–4 s (the limit was per cell, plus 5 s of grace)."""
    slow = _project(tmp_path / "in", "slow", "SLOW-2", "慢3.5秒")
    outcomes: list[dict] = []
    started = time.monotonic()
    result = run_batch([slow], tmp_path / "out", formats=("html",), timeout=2, report_fn=FAKE,
                       on_outcome=outcomes.append)
    assert result.exit_code == 1
    assert result.statuses[0].stage == "超时" and "超过时限 2 秒" in result.statuses[0].reason
    assert 2 <= outcomes[0]["elapsed"] < 3.0
    assert time.monotonic() - started < 60
    # a limit it fits in (a fraction too) builds it
    again = run_batch([slow], tmp_path / "out", formats=("html",), timeout=30.5, report_fn=FAKE)
    assert again.exit_code == 0 and again.statuses[0].status == "已生成"


# ----------------------------------------------------------------------------- --scheduler

@contextlib.contextmanager
def _silent_port():
    """A port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(server.accept())

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn, _ in held:
            conn.close()
        server.close()


@contextlib.contextmanager
def _http_port():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("kind", ["silent", "http", "refused", "unknown host"])
def test_a_scheduler_that_is_not_one_fails_in_bounded_time(kind: str) -> None:
    """Before: a silent port hung without limit, an HTTP server ended in "Unable to allocate 3.07 EiB"."""
    with _silent_port() as silent, _http_port() as http_port:
        address = {"silent": silent, "http": f"tcp://127.0.0.1:{http_port}",
                   "refused": f"tcp://127.0.0.1:{_free_port()}", "unknown host": "tcp://no-such-host.invalid:8786"}[kind]
        started = time.monotonic()
        with pytest.raises(PerfevalError, match="无法使用 Dask 调度器") as exc:
            runner.connect(address, timeout=2)
        assert time.monotonic() - started < 8
    assert "Traceback" not in str(exc.value)


@pytest.mark.parametrize("address", ["http://127.0.0.1:8786", "tls://127.0.0.1:8786", "localhost:8786",
                                     "tcp://127.0.0.1", "tcp://:8786", "tcp://127.0.0.1:notaport"])
def test_a_scheduler_address_of_the_wrong_form_is_refused_at_once(address: str, tmp_path: Path, capsys) -> None:
    """Before: http:// and tls:// ended in tracebacks (exit 1)."""
    started = time.monotonic()
    assert main(["batch", str(REFERENCE), "--out", str(tmp_path / "o"), "--format", "none",
                 "--scheduler", address]) == 2
    assert time.monotonic() - started < 5
    err = capsys.readouterr().err
    assert err.startswith("perfeval：--scheduler") and "tcp://" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_cli_scheduler_on_a_silent_port_exits_2(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(runner, "CONNECT_TIMEOUT_S", 2.0)
    with _silent_port() as address:
        started = time.monotonic()
        code = main(["batch", str(REFERENCE), "--out", str(tmp_path / "o"), "--format", "none",
                     "--scheduler", address])
        assert time.monotonic() - started < 10
    assert code == 2
    assert "2 秒内没有得到 Dask 调度器的应答" in capsys.readouterr().err


def test_a_real_scheduler_still_connects() -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        client = runner.connect(cluster.scheduler_address, timeout=5)
        try:
            assert client.scheduler_info()["type"] == "Scheduler"
        finally:
            client.close()


# ----------------------------------------------------------------------------- full disk

def _half_written(out: Path) -> list[Path]:
    return [p for p in out.rglob(".*.tmp*")] + [p for p in (out / ".perfeval" / "staging").glob("*")]


def test_a_full_disk_while_writing_failures_is_a_clear_error(tmp_path: Path, monkeypatch, capsys) -> None:
    """Before: a traceback while writing failures.json. Now exit 1, a Chinese message, nothing half-written."""
    inputs = tmp_path / "in"
    _project(inputs, "die", "DIE-9", "崩溃")
    _with_fake(monkeypatch)
    import perfeval.atomic

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(perfeval.atomic.os, "fsync", full)  # the supervisor's first write is failures.json
    out = tmp_path / "out"
    assert main(["batch", str(inputs), "--out", str(out), "--format", "html"]) == 1
    err = capsys.readouterr().err
    assert "磁盘空间不足" in err and "Traceback" not in err
    assert not (out / ".perfeval" / "failures.json").exists()
    assert not (out / "index.html").exists() and not (out / "summary.xlsx").exists()
    assert _half_written(out) == []


def test_a_completely_full_file_system(tmp_path: Path, capsys) -> None:
    """A real full disk: a 1 MiB tmpfs filled to the last byte (needs root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs (not root)")
    try:
        out = mount / "out"
        (out / ".perfeval").mkdir(parents=True)
        with open(mount / "filler", "wb", buffering=0) as filler, contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 4096)
        assert main(["batch", str(REFERENCE), "--out", str(out), "--format", "none"]) == 1
        err = capsys.readouterr().err
        assert "磁盘空间不足" in err and "Traceback" not in err
        assert not (out / "summary.xlsx").exists() and not (out / "index.html").exists()
        assert _half_written(out) == []
    finally:
        subprocess.run(["umount", str(mount)], check=False)


# ----------------------------------------------------------------------------- killed jobs

def _slow_kernel(jupyter: Path, delay: float) -> None:
    """A kernelspec whose kernel sleeps `delay` s before it starts (a slow project, for tests only)."""
    code = (f"import runpy, sys, time  # {SLOW_MARK}\n"
            f"time.sleep({delay})\n"
            "sys.argv = ['ipykernel_launcher', *sys.argv[1:]]\n"
            "runpy.run_module('ipykernel_launcher', run_name='__main__', alter_sys=True)\n")
    folder = jupyter / "kernels" / SLOW_KERNEL
    folder.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-c", code, "-f", "{connection_file}"], "display_name": "slow",
            "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")


def _leftovers(tmp: Path) -> list[Path]:
    return [p for pattern in ("perfeval-job-*", "perfeval-kernel-*", "kernel-*.json", "perfeval-run-*")
            for p in tmp.rglob(pattern)]


def _connection_files(tmp: Path) -> list[Path]:
    found = []
    for path in tmp.rglob("*.json"):
        with contextlib.suppress(OSError, ValueError):
            if "key" in json.loads(path.read_text("utf-8")):
                found.append(path)
    return found


def _slow_kernels() -> list:
    import psutil

    found = []
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            if any(SLOW_MARK in part for part in proc.info["cmdline"] or ()):
                found.append(proc)
    return found


def test_a_killed_job_leaves_nothing_in_the_temp_folder(tmp_path: Path) -> None:
    """Before: a SIGKILLed job left perfeval-job-*, perfeval-kernel-* and kernel connection files
    (with their keys) in /tmp. Now they live in the run's private folder, removed when the job dies."""
    import psutil

    inputs = tmp_path / "in"
    _project(inputs, "a", "KILL-1")
    _project(inputs, "b", "LIVE-1")
    _slow_kernel(tmp_path / "jupyter", 4)
    tmp = Path(tempfile.mkdtemp(prefix="pe-", dir="/tmp"))  # short: kernel sockets live below it
    out = tmp_path / "out"
    try:
        proc = _cli(str(inputs), "--out", str(out), "--format", "html", "--workers", "2", "--timeout", "240.5",
                    "--kernel", SLOW_KERNEL, env={"TMPDIR": str(tmp), "JUPYTER_PATH": str(tmp_path / "jupyter")},
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        victim = None
        deadline = time.monotonic() + 180
        while victim is None and time.monotonic() < deadline and proc.poll() is None:
            kernels = _slow_kernels()
            if len(kernels) == 2:
                victim = kernels[0]
            time.sleep(0.2)
        assert victim is not None, proc.communicate()
        job = victim.parent()
        secrets = _connection_files(tmp)  # the running kernels' connection files, with their keys
        assert secrets and all(p.relative_to(tmp).parts[0].startswith("perfeval-run-") for p in secrets), \
            sorted(str(p) for p in tmp.rglob("*"))
        job.send_signal(signal.SIGKILL)
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 1, stderr
        failed = _failures(out)
        assert len(failed) == 1 and failed.iloc[0]["阶段"] == "进程" and "信号 9" in failed.iloc[0]["原因"]
        built = list(out.glob("2022/*/*.html"))
        assert len(built) == 1  # the other project ran on with a fractional --timeout
        assert _leftovers(tmp) == [] and _connection_files(tmp) == []
        assert list(tmp.iterdir()) == []
        with contextlib.suppress(psutil.NoSuchProcess):
            assert not victim.is_running() or victim.status() == psutil.STATUS_ZOMBIE
    finally:
        for kernel in _slow_kernels():
            kernel.kill()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------- ids and folders

def test_folder_names_are_injective_and_deterministic() -> None:
    """Before: `..` and `.` both → report, `a/b` and `a\\x00b` both → a_b (then "a duplicate of itself")."""
    keys = ["..", ".", "a/b", "a\x00b", "a_b", "AB-1", "ab-1", "CON", "aux.txt", "lpt9", "普通编号", "x" * 300]
    names = manifest.folder_names(keys)
    assert len(set(n.casefold() for n in names.values())) == len(keys)
    assert names["a_b"] == "a_b" and names["普通编号"] == "普通编号"
    assert re.fullmatch(r"a_b-[0-9a-f]{8}", names["a/b"]) and re.fullmatch(r"report-[0-9a-f]{8}", names[".."])
    assert names["AB-1"].startswith("AB-1-") and names["ab-1"].startswith("ab-1-")
    assert names["CON"].startswith("_CON-") and names["aux.txt"].startswith("_aux.txt-")
    assert len(names["x" * 300].encode()) <= manifest.MAX_FOLDER_BYTES + 9
    assert manifest.folder_names(reversed(keys)) == names  # the same whatever the order


@pytest.mark.parametrize("key", ["CON", "con", "Aux", "NUL.txt", "com1", "LPT9.tar.gz", "prn ", "COM¹"])
def test_reserved_windows_names_are_avoided(key: str) -> None:
    stem = file_stem(key)
    assert stem.startswith("_")
    assert file_stem("CONSOLE") == "CONSOLE" and file_stem("AUX-1") == "AUX-1"


def test_distinct_ids_get_distinct_folders_and_are_reported(tmp_path: Path, monkeypatch, capsys) -> None:
    inputs = tmp_path / "in"
    ids = ["a/b", "a:b", "a_b", "Ab-1", "aB-1", "CON", "aux.txt", ".."]
    for i, pid in enumerate(ids):
        _project(inputs, f"p{i}", pid)
    _with_fake(monkeypatch)
    out = tmp_path / "out"
    assert main(["batch", str(inputs), "--out", str(out), "--format", "html"]) == 0
    printed = capsys.readouterr().out
    folders = [p.parent for p in out.glob("2022/*/.perfeval.json")]
    assert len(folders) == len(ids)
    assert {json.loads((f / ".perfeval.json").read_text("utf-8"))["key"] for f in folders} == set(ids)
    assert (out / "2022" / "a_b").is_dir()
    assert not any(f.name.split(".")[0].upper() in ("CON", "AUX") for f in folders)
    assert "重复" not in printed
    assert printed.count("注意：项目编号") == len(ids) - 1  # all but a_b, named in the output
    assert "「a/b」" in printed


def _id_problems(path: Path) -> list:
    with pytest.raises(SheetError) as exc:
        perfeval.load_project(path)
    return [p for p in exc.value.problems if p.code == "project_id"]


def test_long_ids_and_control_characters_are_located_errors(tmp_path: Path) -> None:
    """Before: a 300-character 项目编号 passed validation and failed the batch with a raw
    "OSError: [Errno 36] File name too long"; control characters went into index.html."""
    long = _project(tmp_path / "in", "long", "L" * 300)
    problems = _id_problems(long)
    assert len(problems) == 1 and problems[0].row is not None and problems[0].column == "项目编号"
    assert f"最多 {MAX_ID_LENGTH} 个" in problems[0].expected and "300 个字符" in problems[0].expected
    perfeval.load_project(_project(tmp_path / "ok", "ok64", "L" * MAX_ID_LENGTH))  # the limit itself is fine
    tab = _project(tmp_path / "in", "tab", "AB\tC")
    problems = _id_problems(tab)
    assert len(problems) == 1 and "U+0009" in problems[0].expected and problems[0].value == "AB\\u0009C"

    out = tmp_path / "out"
    result = run_batch([tmp_path / "in"], out, formats=(), strict=False)
    assert result.exit_code == 1
    failed = {s.entry.key: s for s in result.failed}
    assert set(failed) == {"L" * 300, "AB\\u0009C"} and all(s.stage == "校验" for s in failed.values())
    page = (out / "index.html").read_text("utf-8")
    assert "AB\tC" not in page and "AB\\u0009C" in page
    assert not list(out.glob("*/L*"))
