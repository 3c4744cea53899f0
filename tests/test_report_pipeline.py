"""One pass from sheet to report (issue 10, items 1 and 4): the report is built from an `Evaluation`, the
project travels as a snapshot the notebook shows without reading its sheet again, a batch reads and
validates each project once, and a warm kernel is reset so that one project never leaks into the next."""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import perfeval
from perfeval.errors import PerfevalError
from perfeval.model import Project
from perfeval.report import snapshot

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"
SYNTHETIC = sorted((ROOT / "data" / "synthetic").glob("*.xlsx"))
GENERATED = "2024-01-01 00:00:00+08:00"


def assert_same_project(a: Project, b: Project) -> None:
    for f in fields(Project):
        left, right = getattr(a, f.name), getattr(b, f.name)
        if isinstance(left, pd.DataFrame) or isinstance(right, pd.DataFrame):
            assert isinstance(left, pd.DataFrame) and isinstance(right, pd.DataFrame), f.name
            pd.testing.assert_frame_equal(left, right, check_exact=True, obj=f.name)
        else:
            assert left == right, f.name


# ---------------------------------------------------------------- the snapshot

@pytest.mark.parametrize("path", [REFERENCE, *SYNTHETIC[:3]], ids=lambda p: p.stem)
def test_snapshot_round_trips_exactly(path):
    project = perfeval.load_project(path)
    again = snapshot.project_from_dict(json.loads(snapshot.dumps(project)))
    assert_same_project(project, again)
    assert perfeval.evaluate(again).total == perfeval.evaluate(project).total


def test_snapshot_keeps_panel_materials_and_located_findings(tmp_path):
    from perfeval.panel import merge_sheets
    from perfeval.panel.synth import synth_panel, write_panel

    base = perfeval.load_project(REFERENCE)
    sheets = write_panel(base, synth_panel(base, 5, seed=7, disagree=[4]), tmp_path)
    panelled = merge_sheets(base, sheets).project
    materials = pd.DataFrame({"id": ["Z-01", "Z-02"], "name": ["预算批复", "明细账"], "source": ["财政局", ""],
                              "date": ["2022-01-10", None], "row": [2, 3]})
    finding = perfeval.Problem(str(REFERENCE), "指标", 9, "分值", "12", "权重之和应为 100", code="weights")
    project = panelled.replace(materials=materials, ledger=True, sheet_findings=(finding,))
    assert project.panel is not None and len(project.panel)
    again = snapshot.project_from_dict(json.loads(snapshot.dumps(project)))
    assert_same_project(project, again)
    assert again.sheet_findings[0].row == 9 and again.sheet_findings[0].code == "weights"
    assert perfeval.evaluate(again).total == perfeval.evaluate(project).total


def test_snapshot_refuses_a_changed_file_and_unknown_values(tmp_path):
    project = perfeval.load_project(REFERENCE)
    data = snapshot.dumps(project)
    path = tmp_path / "p.project.json"
    path.write_bytes(data)
    assert snapshot.read_snapshot(path, snapshot.digest(data)).id == project.id
    path.write_bytes(data.replace(b"98", b"99", 1))
    with pytest.raises(PerfevalError, match="SHA-256 与记录不符"):
        snapshot.read_snapshot(path, snapshot.digest(data))
    odd = project.replace(indicators=project.indicators.assign(when=pd.Timestamp("2022-01-01")))
    with pytest.raises(PerfevalError, match="不支持的列类型"):
        snapshot.dumps(odd)


# ---------------------------------------------------------------- the notebook

def test_notebook_is_thin_and_never_exports_itself():
    nb = nbformat.read(ROOT / "notebooks" / "evaluation.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "build_report" not in code and "export" not in code
    assert "project_file" in code and "project_sha256" in code
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


# ---------------------------------------------------------------- the batch reads each project once

def test_scan_keeps_each_portfolio_project_with_its_own_location(tmp_path):
    from perfeval.batch.discover import scan_chunk
    from perfeval.devtools import synth

    [book] = synth.write_portfolio(tmp_path, 4, seed=3, broken_share=0.0, portfolio=True)
    kept = scan_chunk([str(book)], keep_projects=True)
    assert [e.project.id for e in kept.entries] == [e.key for e in kept.entries]
    assert all(e.project.source == book for e in kept.entries)
    assert all(e.project is None for e in scan_chunk([str(book)]).entries)  # scoring only: nothing kept


def test_jobs_carry_the_scanned_project_and_the_worker_never_reads_the_sheet(tmp_path, monkeypatch):
    from perfeval.batch import discover, manifest, pipeline, worker
    from perfeval.devtools import synth
    from perfeval.report import build as report_build

    [book] = synth.write_portfolio(tmp_path / "in", 3, seed=5, broken_share=0.0, portfolio=True)
    scan = discover.scan_chunk([str(book)], keep_projects=True)
    layout = manifest.Layout(tmp_path / "out")
    _, jobs, _ = pipeline.plan(scan, layout, ("html",), scheme=None, timeout=None, force=True, kernel_name=None,
                               run_at=GENERATED)
    assert len(jobs) == 3 and all(job["project"]["format"] == snapshot.FORMAT for job in jobs)
    assert json.loads(json.dumps(jobs[0], ensure_ascii=False))  # JSON-safe: travels to a Dask worker too

    def no_reading(*args, **kwargs):
        raise AssertionError("the job read its sheet again")

    import perfeval.sheets.load

    monkeypatch.setattr(perfeval.sheets.load, "load_project", no_reading)
    monkeypatch.setattr(perfeval.sheets.load, "read_projects", no_reading)
    seen = {}

    def fake_build_project(project, formats, out_dir, **kwargs):
        seen.update(project=project, formats=formats, kwargs=kwargs)
        out = Path(out_dir)
        (out / f"{project.id}.html").write_text("<html></html>", "utf-8")
        return {"html": out / f"{project.id}.html"}

    monkeypatch.setattr(report_build, "build_project", fake_build_project)
    outcome = worker.run_job({**jobs[1], "tmp": str(tmp_path / "tmp")})
    assert outcome["status"] == "ok", outcome
    scanned = scan.entries[1].project
    assert_same_project(seen["project"], scanned)
    assert seen["kwargs"]["generated_at"] == GENERATED and seen["formats"] == ("html",)


# ---------------------------------------------------------------- a warm kernel is reset between projects

@pytest.mark.slow
def test_prepared_kernel_forgets_the_previous_project(tmp_path):
    from jupyter_client import BlockingKernelClient

    from perfeval.report.notebook import Kernel

    def run(kernel, code):
        client = BlockingKernelClient()
        client.load_connection_info(kernel.km.get_connection_info())
        client.start_channels()
        out = []
        try:
            client.wait_for_ready(timeout=60)  # iopub subscribed before the request (else its output can be missed)
            reply = client.execute_interactive(code, timeout=60, output_hook=lambda m: out.append(m))
        finally:
            client.stop_channels()
        text = "".join(m["content"].get("text", "") for m in out if m["msg_type"] == "stream")
        return reply["content"], text

    with Kernel("python3") as kernel:
        run(kernel, "report = 'project A'\nimport json")
        kernel.prepare(tmp_path)
        content, text = run(kernel, "import os\nprint('report' in globals(), 'json' in globals(), os.getcwd())")
    assert text.split() == ["False", "False", str(tmp_path)]
    assert content["execution_count"] == 1  # counts start again, as in a fresh kernel


@pytest.mark.slow
def test_warm_kernel_gives_the_same_report_as_a_fresh_one(tmp_path, monkeypatch):
    from perfeval.batch.worker import WarmKernel
    from perfeval.report.build import build

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1704038400")
    first, second = (perfeval.evaluate(perfeval.load_project(p)) for p in (REFERENCE, SYNTHETIC[0]))
    fresh = build(second, "html", tmp_path / "fresh", generated_at=GENERATED)
    import psutil

    me = psutil.Process()
    warm = WarmKernel()
    try:
        build(first, "html", tmp_path / "warm-a", generated_at=GENERATED, kernel=warm.get("python3"))
        held = me.num_threads(), me.num_fds()
        reused = build(second, "html", tmp_path / "warm-b", generated_at=GENERATED, kernel=warm.get("python3"))
        # before: papermill left each run's kernel client open on a kept kernel (+3 threads, +14 descriptors,
        # ~6 MB per report in a long-lived worker)
        assert (me.num_threads(), me.num_fds()) == held
    finally:
        warm.drop()
    assert reused["html"].read_bytes() == fresh["html"].read_bytes()
    nb_fresh, nb_warm = (nbformat.read(p["ipynb"], as_version=4) for p in (fresh, reused))
    assert [c.get("execution_count") for c in nb_warm.cells] == [c.get("execution_count") for c in nb_fresh.cells]
    assert [c.get("outputs") for c in nb_warm.cells] == [c.get("outputs") for c in nb_fresh.cells]
    digest = hashlib.sha256(reused["project"].read_bytes()).hexdigest()
    injected = next(c for c in nb_warm.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert digest in injected.source and reused["project"].name in injected.source
