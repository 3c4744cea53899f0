"""perfeval batch with the real report notebook (HTML only): the issue's must-show scenarios."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from faultinject import inject

import perfeval
from perfeval.batch import manifest as mf
from perfeval.batch import run_batch
from perfeval.cli import main
from perfeval.devtools import synth

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "lock"}


def _sheets(folder: Path) -> dict[str, pd.DataFrame]:
    return pd.read_excel(folder / "summary.xlsx", sheet_name=None, engine="calamine")


def _no_partial_files(out: Path, *, staging_too: bool = True) -> None:
    """Every project folder is complete and nothing temporary is left. Right after a SIGKILL the
    batch's private scratch area (`.perfeval/staging`, never shown to readers) may still hold the
    killed project's half-written files; the rerun must clear it (checked with staging_too)."""
    scratch = out / ".perfeval" / "staging"
    temps = [p for p in out.rglob("*.tmp*") if staging_too or scratch not in p.parents]
    assert not temps, temps
    for folder in (p for p in out.glob("[0-9]*/*") if p.is_dir()):
        record = mf.read_record(folder)
        assert record is not None, f"{folder} has no record"
        assert mf.record_is_current(folder, record["fingerprint"]), folder


def test_portfolio_with_broken_and_failing_projects(tmp_path: Path, monkeypatch, capsys) -> None:
    inputs = tmp_path / "portfolio"
    files = synth.write_portfolio(inputs, 30, seed=7, broken_share=0.1)
    shutil.copy(REFERENCE, inputs / REFERENCE.name)
    valid = [f for f in files if not perfeval.validate_paths([f])]
    assert len(valid) == 27
    failing = perfeval.load_project(valid[3]).id
    out = tmp_path / "reports"
    inject(monkeypatch, {failing: "cell"})  # the whole test: reruns see the same faulty project

    # --strict: the project broken in its weights fails validation too (by default it would be scored)
    assert main(["batch", str(inputs), "--out", str(out), "--format", "html", "--strict"]) == 1
    printed = capsys.readouterr()
    assert "已生成 27 个" in printed.out and "失败 4 个" in printed.out
    assert printed.err.count("✗") == 4
    folders = sorted(p for p in out.glob("[0-9]*/*") if p.is_dir())
    assert len(folders) == 27
    assert out / "2022" / "AKT2022-001" in folders
    for folder in folders:
        assert (folder / f"{folder.name}.html").stat().st_size > 10_000
    _no_partial_files(out)

    failed = _sheets(out)["失败项目"].set_index("项目编号")
    assert len(failed) == 4
    assert list(failed["阶段"]).count("校验") == 3
    assert failed.loc[failing, "阶段"] == "笔记本"
    assert "测试注入的故障" in failed.loc[failing, "原因"]
    assert (out / failed.loc[failing, "执行记录"]).is_file()  # the failed notebook is kept
    page = (out / "index.html").read_text("utf-8")
    for key, reason in failed["原因"].items():
        assert key in page and reason.splitlines()[0][-20:] in page
    summary = _sheets(out)["项目汇总"].set_index("项目编号")
    assert summary.loc["AKT2022-001", "总分"] == pytest.approx(98.94)
    assert (summary["状态"] == "成功").sum() == 27

    # a rerun does no work and changes nothing but the summary's run time
    before = _files(out)
    outcomes: list[dict] = []
    rerun = run_batch([inputs], out, formats=("html",), on_outcome=outcomes.append, strict=True)
    assert outcomes == [] and rerun.exit_code == 1
    after = _files(out)
    assert set(after) == set(before)
    changed = {name for name in before if before[name] != after[name]}
    assert changed <= {"index.html", "summary.xlsx"}
    run_line = re.compile(r'<span id="run-at">[^<]*</span>')
    assert run_line.sub("", after["index.html"].decode()) == run_line.sub("", before["index.html"].decode())

    # deleting one report rebuilds only that one
    victim = folders[5] / f"{folders[5].name}.html"
    victim.unlink()
    run_batch([inputs], out, formats=("html",), on_outcome=outcomes.append, strict=True)
    assert [o["key"] for o in outcomes] == [folders[5].name]
    assert victim.is_file()
    _no_partial_files(out)


def test_killed_batch_resumes_without_partial_files(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    synth.write_portfolio(inputs, 4, seed=8, broken_share=0.0)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "perfeval.cli", "batch", str(inputs), "--out", str(out),
               "--format", "html", "--workers", "1"]
    proc = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while not list(out.glob("*/*/.perfeval.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.5)  # the next project is half-way through its notebook
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(out.glob("*/*/.perfeval.json")), "the batch finished no project before the kill"
    _no_partial_files(out, staging_too=False)  # what a reader can see is complete, even right after the kill

    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    counts = dict(re.findall(r"(已生成|已是最新) (\d+) 个", done.stdout))
    assert int(counts.get("已是最新", 0)) >= 1
    assert int(counts.get("已生成", 0)) + int(counts.get("已是最新", 0)) == 4
    assert len([p for p in out.glob("[0-9]*/*") if p.is_dir()]) == 4
    assert not (out / ".perfeval" / "staging").exists() or not any((out / ".perfeval" / "staging").iterdir())
    _no_partial_files(out)


def test_dask_cluster_gives_the_same_reports_and_summary(tmp_path: Path, monkeypatch) -> None:
    from distributed import LocalCluster

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    inputs = tmp_path / "in"
    synth.write_portfolio(inputs, 3, seed=9, broken_share=0.34)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        on_dask = run_batch([inputs], tmp_path / "dask", formats=("html",),
                            scheduler=cluster.scheduler_address, strict=True)
    local = run_batch([inputs], tmp_path / "local", formats=("html",), workers=2, strict=True)
    assert on_dask.exit_code == local.exit_code == 1
    assert [s.status for s in on_dask.statuses] == [s.status for s in local.statuses]
    dask_files = {k: v for k, v in _files(tmp_path / "dask").items()
                  if not k.endswith((".ipynb", mf.RECORD_NAME, ".json"))}
    local_files = {k: v for k, v in _files(tmp_path / "local").items()
                   if not k.endswith((".ipynb", mf.RECORD_NAME, ".json"))}
    assert sorted(dask_files) == sorted(local_files)
    assert len([k for k in dask_files if k.endswith(".html") and k != "index.html"]) == 2
    for name, data in dask_files.items():
        if name != "summary.xlsx":
            assert data == local_files[name], name
    for name, frame in _sheets(tmp_path / "dask").items():
        pd.testing.assert_frame_equal(frame, _sheets(tmp_path / "local")[name].replace(
            str(tmp_path / "local"), str(tmp_path / "dask"), regex=False))
