"""perfeval batch without notebooks: scoring-only summaries, resume, isolation, exit codes.

Report-building tests here use `fake_report` (same signature as `perfeval.report.build_report`,
writes a small file per format) so resume and failure handling are tested in seconds; the real
notebook path is covered in test_batch_reports.py.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from faultinject import faults

import perfeval
from perfeval.batch import manifest as mf
from perfeval.batch import run_batch
from perfeval.batch.discover import input_files
from perfeval.cli import main
from perfeval.devtools import synth
from perfeval.sheets.write import save_project
from tests.standin import write_formats

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"


def fake_report(workbook, out_dir, formats=("html",), scheme=None, project_id=None,
                extra_parameters=None, timeout=None, kernel_name=None) -> dict[str, Path]:
    """A stand-in for build_report: validates like it, writes one small file per format."""
    project = perfeval.load_project(workbook, scheme, project_id)
    total = perfeval.evaluate(project, scheme).total
    return write_formats(out_dir, project.id, formats, f"{project.id} {total} {extra_parameters}".encode())


FAKE = fake_report  # the batch calls it in its job processes instead of build_report


def _read_summary(folder: Path) -> dict[str, pd.DataFrame]:
    return pd.read_excel(folder / "summary.xlsx", sheet_name=None, engine="calamine")


def _without_run_time(html: str) -> str:
    return "\n".join(line for line in html.splitlines() if 'id="run-at"' not in line)


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory) -> Path:
    """8 project files (2 broken), a portfolio workbook of 5 (1 broken) and the reference."""
    root = tmp_path_factory.mktemp("inputs")
    synth.write_portfolio(root / "files", 8, seed=21, broken_share=0.25)
    synth.write_portfolio(root / "book", 5, seed=22, broken_share=0.2, portfolio=True)
    shutil.copy(REFERENCE, root / REFERENCE.name)
    (root / "files" / "~$JT-lock.xlsx").write_bytes(b"excel lock file")
    return root


def test_scoring_only_summary(portfolio: Path, tmp_path: Path, capsys) -> None:
    # --strict: the synthetic projects broken in their weights fail too (by default they are scored
    # with the weights as error findings: tests/test_audit_weights.py)
    out = tmp_path / "out"
    assert main(["batch", str(portfolio), "--out", str(out), "--format", "none", "--strict"]) == 1
    printed = capsys.readouterr()
    assert "仅评分 11 个" in printed.out and "失败 3 个" in printed.out
    assert printed.err.count("✗") == 3  # one line per failure

    sheets = _read_summary(out)
    assert list(sheets) == ["项目汇总", "指标明细", "核查发现", "失败项目"]
    summary = sheets["项目汇总"]
    assert len(summary) == 14
    ref = summary.set_index("项目编号").loc["AKT2022-001"]
    assert ref["总分"] == pytest.approx(98.94) and ref["等级"] == "优"
    assert ref["预算执行率"] == pytest.approx(0.9558, abs=1e-4)
    assert ref["决策得分"] == pytest.approx(20) and ref["过程得分"] == pytest.approx(19.78)
    assert ref["错误"] + ref["警告"] + ref["提示"] == len(perfeval.evaluate(perfeval.load_project(REFERENCE)).findings)
    # every scored project's total is the core's
    scored = summary[summary["状态"] == "仅评分"].set_index("项目编号")
    projects = [r.project for f in input_files([portfolio]) for r in perfeval.read_projects(f, strict=True)
                if r.project is not None]
    expected = perfeval.evaluate_frames(projects).projects.assign(id=[p.id for p in projects])
    for row in expected.itertuples():
        assert scored.loc[row.id, "总分"] == pytest.approx(row.total)
    details = sheets["指标明细"]
    assert len(details) == sum(len(p.indicators) for p in projects)
    findings = sheets["核查发现"]
    assert set(findings["级别"]) <= {"错误", "警告", "提示"}
    assert (findings["项目编号"] == "AKT2022-001").sum() == 16
    failed = sheets["失败项目"]
    assert len(failed) == 3 and set(failed["阶段"]) == {"校验"}
    assert failed["原因"].str.contains("——").all()  # located Chinese problems

    page = (out / "index.html").read_text("utf-8")
    for key, reason in zip(failed["项目编号"], failed["原因"], strict=True):
        assert key in page and reason.splitlines()[0].split("——")[1][:10] in page
    assert page.count("<tr") == 14 + 1 + 3 + 1  # projects + header, failures + header
    for name in ("grade_distribution", "score_histogram", "execution_vs_score"):
        assert (out / "charts" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"

    # a rerun changes nothing but the run time
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != "lock"}
    assert main(["batch", str(portfolio), "--out", str(out), "--format", "none", "--strict"]) == 1
    for path, data in before.items():
        if path.name == "index.html":
            assert _without_run_time(path.read_text("utf-8")) == _without_run_time(data.decode())
        elif path.name != "summary.xlsx":
            assert path.read_bytes() == data, path
    again = _read_summary(out)
    for name, frame in sheets.items():
        pd.testing.assert_frame_equal(again[name], frame)


def test_exit_codes(portfolio: Path, tmp_path: Path) -> None:
    assert main(["batch", str(REFERENCE), "--out", str(tmp_path / "a"), "--format", "none"]) == 0
    with pytest.raises(SystemExit) as exc:
        main(["batch", str(REFERENCE), "--out", str(tmp_path / "b"), "--workers", "0"])
    assert exc.value.code == 2
    assert main(["batch", str(tmp_path / "nothing.xlsx"), "--out", str(tmp_path / "c")]) == 2
    assert main(["batch", str(REFERENCE), "--out", str(tmp_path / "d"), "--format", "odt"]) == 2
    assert main(["batch", str(REFERENCE), "--out", str(tmp_path / "e"), "--scheduler", "localhost"]) == 2
    assert main(["batch", str(REFERENCE), "--out", str(tmp_path / "f"),
                 "--scheduler", "tcp://127.0.0.1:9"]) == 2


def test_resume_rebuilds_only_what_changed(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    synth.write_portfolio(inputs, 4, seed=31, broken_share=0.0)
    out = tmp_path / "out"
    outcomes: list[dict] = []
    first = run_batch([inputs], out, formats=("html", "docx"), workers=2, report_fn=FAKE,
                      on_outcome=outcomes.append)
    assert first.exit_code == 0 and len(outcomes) == 4
    folders = sorted(p.parent for p in out.glob("*/*/.perfeval.json"))
    assert len(folders) == 4
    for folder in folders:
        record = json.loads((folder / mf.RECORD_NAME).read_text("utf-8"))
        assert set(record["outputs"]) == {"html", "docx"}
    outcomes.clear()
    assert run_batch([inputs], out, formats=("html", "docx"), report_fn=FAKE,
                     on_outcome=outcomes.append).exit_code == 0
    assert outcomes == []

    victim = next(folders[0].glob("*.html"))
    victim.unlink()
    run_batch([inputs], out, formats=("html", "docx"), report_fn=FAKE, on_outcome=outcomes.append)
    assert [o["key"] for o in outcomes] == [folders[0].name] and victim.exists()

    outcomes.clear()  # an edited input is rebuilt, the others are not
    edited = sorted(inputs.glob("*.xlsx"))[1]
    project = perfeval.load_project(edited)
    save_project(project.replace(name=project.name + "（调整）"), edited)
    run_batch([inputs], out, formats=("html", "docx"), report_fn=FAKE, on_outcome=outcomes.append)
    assert [o["key"] for o in outcomes] == [project.id]

    outcomes.clear()  # another format set is another build
    run_batch([inputs], out, formats=("html",), report_fn=FAKE, on_outcome=outcomes.append)
    assert len(outcomes) == 4
    outcomes.clear()
    run_batch([inputs], out, formats=("html",), report_fn=FAKE, force=True, on_outcome=outcomes.append)
    assert len(outcomes) == 4


def test_crashing_and_hanging_projects_are_isolated(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    files = synth.write_portfolio(inputs, 3, seed=41, broken_share=0.0)
    ids = [perfeval.load_project(f).id for f in files]
    # --timeout is the whole project's limit, enforced to the second (it once had 5 s of grace, so
    # 1 s worked here): 5 s leaves a healthy job room on a busy machine
    with faults({ids[0]: "crash", ids[1]: "hang"}):
        result = run_batch([inputs], tmp_path / "out", formats=("html",), workers=3, timeout=5,
                           report_fn=FAKE)
    by_key = {s.entry.key: s for s in result.statuses}
    assert result.exit_code == 1
    assert by_key[ids[0]].stage == "进程" and "信号 9" in by_key[ids[0]].reason
    assert by_key[ids[1]].stage == "超时" and "超过时限 5 秒" in by_key[ids[1]].reason
    assert by_key[ids[2]].status == "已生成"
    assert not list((tmp_path / "out" / ".perfeval" / "staging").glob("*"))
    failed = _read_summary(tmp_path / "out")["失败项目"]
    assert set(failed["阶段"]) == {"进程", "超时"}
    # timeouts and dead workers are retried on the next run; a now-healthy project succeeds
    again = run_batch([inputs], tmp_path / "out", formats=("html",), report_fn=FAKE)
    assert again.exit_code == 0 and again.built == 2


def test_duplicate_project_ids_are_reported(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(REFERENCE, inputs / "a.xlsx")
    shutil.copy(REFERENCE, inputs / "b.xlsx")
    result = run_batch([inputs], tmp_path / "out", formats=("html",), report_fn=FAKE)
    assert [s.status for s in result.statuses] == ["已生成", "失败"]
    assert result.statuses[1].stage == "重复" and "a.xlsx" in result.statuses[1].reason


def test_commit_replaces_a_folder_and_leftovers_are_cleared(tmp_path: Path) -> None:
    layout = mf.Layout(tmp_path)
    final = layout.project_dir(2022, "P1")
    final.mkdir(parents=True)
    (final / "old.html").write_text("old")
    staging = layout.staging / "P1-x"
    staging.mkdir(parents=True)
    (staging / "new.html").write_text("new")
    mf.commit_folder(staging, final, layout.state / "trash")
    assert [p.name for p in final.iterdir()] == ["new.html"] and not staging.exists()
    # what a killed run leaves: a staging folder and a temporary file beside an output
    (layout.staging / "P2-y").mkdir(parents=True)
    (final / ".new.html.abc.tmp").write_text("half")
    assert mf.clear_leftovers(layout) == 2
    assert not any(layout.staging.exists() for _ in [0]) and not list(final.glob(".*tmp*"))


def test_input_files_skips_lock_hidden_sibling_and_output(tmp_path: Path) -> None:
    for name in ("a.xlsx", "~$a.xlsx", ".hidden.xlsx", "p.csv", "p.项目信息.csv", "notes.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "b.xlsx").write_text("x")
    names = [p.name for p in input_files([tmp_path], exclude=tmp_path / "out")]
    assert names == ["a.xlsx", "p.csv"]


def test_unreadable_file_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bad.xlsx").write_bytes(os.urandom(64))
    shutil.copy(REFERENCE, tmp_path / "in" / REFERENCE.name)
    result = run_batch([tmp_path / "in"], tmp_path / "out", formats=())
    assert [s.status for s in result.statuses] == ["仅评分", "失败"]
    assert "不是有效的 Excel 工作簿" in result.statuses[1].reason


def test_portfolio_workbook_projects_get_their_own_folders(tmp_path: Path) -> None:
    [book] = synth.write_portfolio(tmp_path / "in", 4, seed=51, broken_share=0.25, portfolio=True)
    result = run_batch([book], tmp_path / "out", formats=("html",), report_fn=FAKE, strict=True)
    assert result.exit_code == 1 and result.built == 3
    for status in result.statuses:
        if status.status == "已生成":
            html = tmp_path / "out" / status.outputs["html"]
            assert html.read_text("utf-8").startswith(status.entry.key)  # the right project
            assert html.parent == tmp_path / "out" / str(status.entry.year) / status.entry.key
    [failed] = result.failed
    assert failed.stage == "校验" and failed.entry.source == book.resolve()


def test_chunked_scan_matches_serial_scan(portfolio: Path) -> None:
    """Local (one chunk) and parallel or Dask (many chunks) runs list projects in the same order."""
    from concurrent.futures import ThreadPoolExecutor

    from perfeval.batch.discover import discover

    files = input_files([portfolio])
    serial = discover(files)
    with ThreadPoolExecutor(2) as pool:
        chunked = discover(files, executor=pool, parts=3)
    assert [e.key for e in serial.entries] == [e.key for e in chunked.entries]
    for name in ("indicators", "levels", "projects", "findings"):
        pd.testing.assert_frame_equal(getattr(serial.frames, name), getattr(chunked.frames, name))
    # rows follow the input order, whatever scheme grouping the scorer used
    keys = {e.pidx: e.key for e in serial.entries if e.pidx is not None}
    order = list(dict.fromkeys(serial.frames.indicators["pidx"].map(keys)))
    assert order == [e.key for e in serial.entries if e.pidx is not None]


def test_tables_without_a_project_code_named_alike_say_what_to_do(tmp_path: Path) -> None:
    """Two 自评表 without 项目编号, both called table.csv in different folders: the second is a duplicate of the
    first by file name, and the reason names both paths and how to tell them apart."""
    published = Path(__file__).parent / "data" / "published"
    for name in ("01_yn_yongde_nutrition_edu", "02_sc_zhongjiang_water_gauge"):
        (tmp_path / "in" / name).mkdir(parents=True)
        shutil.copy(published / name / "table.csv", tmp_path / "in" / name / "table.csv")
    result = run_batch([tmp_path / "in"], tmp_path / "out", formats=())
    (duplicate,) = [s for s in result.statuses if s.stage == "重复"]
    assert "01_yn_yongde_nutrition_edu" in duplicate.reason and "02_sc_zhongjiang_water_gauge" in duplicate.reason
    assert "请在表中填写项目编号或将文件改名" in duplicate.reason
