"""A scheme file with any `id` works in batch, report and the workbench; the batch's resume
fingerprint covers the scheme file's content, not its id."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import perfeval
from perfeval.batch import run_batch
from perfeval.cli import main
from perfeval.sheets.write import save_project
from tests.standin import write_formats

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"
SCHEME_ID, SCHEME_NAME = "county_2024", "某县财政评价方案"


def custom_scheme(path: Path, best: float = 99, scheme_id: str = SCHEME_ID) -> Path:
    """The third-party scheme with another id and name, levels 立项决策 / 过程管理 (read from
    the sheet's 决策 / 过程) and 优 from `best` points."""
    text = (ROOT / "perfeval" / "schemes" / "third_party.toml").read_text(encoding="utf-8")
    for old, new in (('id = "third_party"', f'id = "{scheme_id}"'),
                     ('name = "第三方评价（部门评价/财政评价）"', f'name = "{SCHEME_NAME}"'),
                     ('aliases = ["第三方评价", "部门评价", "财政评价", "第三方", "重点评价"]', "aliases = []"),
                     ('name = "决策"\nweight = 20\naliases = [', 'name = "立项决策"\nweight = 20\naliases = ["决策", '),
                     ('name = "过程"\nweight = 20\naliases = [', 'name = "过程管理"\nweight = 20\naliases = ["过程", '),
                     ('{ grade = "优", lower = 90,', f'{{ grade = "优", lower = {best},')):
        assert old in text, old
        text = text.replace(old, new, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def fake_report(workbook, out_dir, formats=("html",), scheme=None, project_id=None,
                extra_parameters=None, timeout=None, kernel_name=None) -> dict[str, Path]:
    """A stand-in for build_report that loads and scores like it and writes what it got."""
    project = perfeval.load_project(workbook, scheme, project_id)
    ev = perfeval.evaluate(project, scheme)
    text = json.dumps({"scheme": ev.scheme.id, "total": ev.total, "grade": ev.grade}, ensure_ascii=False)
    return write_formats(out_dir, project.id, formats, text.encode())


FAKE = fake_report  # the batch calls it in its job processes instead of build_report


def _built(out: Path) -> dict:
    (page,) = out.glob("*/*/*.html")
    return json.loads(page.read_text(encoding="utf-8"))


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(REFERENCE, folder / REFERENCE.name)
    return folder


def test_batch_scores_on_a_custom_id_scheme(inputs: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    custom_scheme(tmp_path / "方案" / "county.toml")
    monkeypatch.chdir(tmp_path)  # the scheme named relative to where the command runs
    out = tmp_path / "out"
    assert main(["batch", str(inputs), "--out", str(out), "--format", "none", "--scheme", "方案/county.toml"]) == 0
    assert "仅评分 1 个" in capsys.readouterr().out
    summary = pd.read_excel(out / "summary.xlsx", sheet_name="项目汇总", engine="calamine").iloc[0]
    assert summary["评价方案"] == SCHEME_NAME
    assert summary["总分"] == pytest.approx(98.94) and summary["等级"] == "良"
    assert summary["立项决策得分"] == pytest.approx(20) and summary["过程管理得分"] == pytest.approx(19.78)
    assert "决策得分" not in summary.index


def test_batch_reports_on_a_custom_scheme_and_rebuild_when_it_changes(inputs: Path, tmp_path: Path,
                                                                       monkeypatch) -> None:
    scheme = custom_scheme(tmp_path / "county.toml")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    outcomes: list[dict] = []

    def run() -> list[str]:
        outcomes.clear()
        result = run_batch([inputs], out, formats=("html",), report_fn=FAKE, scheme="county.toml",
                           workers=1, on_outcome=outcomes.append)
        assert result.exit_code == 0, [s.reason for s in result.failed]
        return [s.status for s in result.statuses]

    assert run() == ["已生成"]
    assert _built(out) == {"scheme": SCHEME_ID, "total": 98.94, "grade": "良"}
    assert run() == ["已是最新"] and outcomes == []  # unchanged: skipped
    custom_scheme(scheme, best=98)  # same id, new cut point: the report is redone
    assert run() == ["已生成"] and len(outcomes) == 1
    assert _built(out) == {"scheme": SCHEME_ID, "total": 98.94, "grade": "优"}
    assert run() == ["已是最新"]
    moved = shutil.move(scheme, tmp_path / "elsewhere.toml")  # same content elsewhere: still current
    result = run_batch([inputs], out, formats=("html",), report_fn=FAKE, scheme=moved, workers=1)
    assert [s.status for s in result.statuses] == ["已是最新"]


def test_an_edited_scheme_file_with_a_built_in_id_is_not_mistaken_for_the_built_in(
        inputs: Path, tmp_path: Path) -> None:
    """A copy of the scheme file keeps `id = "third_party"`: its content, not its id, decides."""
    scheme = custom_scheme(tmp_path / "copy.toml", scheme_id="third_party")
    out = tmp_path / "out"
    first = run_batch([inputs], out, formats=("html",), report_fn=FAKE, scheme=scheme, workers=1)
    assert first.exit_code == 0 and _built(out) == {"scheme": "third_party", "total": 98.94, "grade": "良"}
    custom_scheme(scheme, best=98, scheme_id="third_party")
    again = run_batch([inputs], out, formats=("html",), report_fn=FAKE, scheme=scheme, workers=1)
    assert [s.status for s in again.statuses] == ["已生成"] and _built(out)["grade"] == "优"


def test_batch_uses_the_scheme_file_named_in_the_sheet(inputs: Path, tmp_path: Path,
                                                         reference_project) -> None:
    """评价方式 = county.toml, read beside the workbook (no --scheme), in the scan and the worker."""
    (inputs / REFERENCE.name).unlink()
    save_project(reference_project.replace(method="county.toml"), inputs / "p.xlsx")
    scheme = custom_scheme(inputs / "county.toml")
    out = tmp_path / "out"
    first = run_batch([inputs], out, formats=("html",), report_fn=FAKE, workers=1)
    assert first.exit_code == 0, [s.reason for s in first.failed]
    assert _built(out) == {"scheme": SCHEME_ID, "total": 98.94, "grade": "良"}
    assert [s.status for s in run_batch([inputs], out, formats=("html",), report_fn=FAKE).statuses] == ["已是最新"]
    custom_scheme(scheme, best=98)
    again = run_batch([inputs], out, formats=("html",), report_fn=FAKE)
    assert [s.status for s in again.statuses] == ["已生成"] and _built(out)["grade"] == "优"


def test_a_missing_scheme_file_stops_the_batch_before_any_work(inputs: Path, tmp_path: Path, capsys) -> None:
    assert main(["batch", str(inputs), "--out", str(tmp_path / "out"), "--scheme",
                 str(tmp_path / "没有.toml")]) == 2
    assert "评价方案文件不存在" in capsys.readouterr().err
    assert not (tmp_path / "out" / "summary.xlsx").exists()


def test_report_with_a_custom_scheme(tmp_path: Path, monkeypatch, reference_project) -> None:
    """`perfeval report --scheme FILE` (a relative path) and a 评价方式 naming a file beside the
    workbook both reach the report notebook, whatever the scheme's id."""
    custom_scheme(tmp_path / "county.toml")
    book = save_project(reference_project.replace(method="county.toml"), tmp_path / "p.xlsx")
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(REFERENCE), "--scheme", "county.toml", "--format", "html", "--out", "r1"]) == 0
    page = (tmp_path / "r1" / "2022" / "AKT2022-001" / "AKT2022-001.html").read_text(encoding="utf-8")
    assert f"{SCHEME_ID}（{SCHEME_NAME}）" in page and "98.94" in page
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # 评价方式 is read relative to the workbook, not the working folder
    assert main(["report", str(book), "--format", "html", "--out", str(tmp_path / "r2")]) == 0
    page = (tmp_path / "r2" / "2022" / "AKT2022-001" / "AKT2022-001.html").read_text(encoding="utf-8")
    assert f"{SCHEME_ID}（{SCHEME_NAME}）" in page


def test_workbench_loads_with_a_custom_scheme(inputs: Path, tmp_path: Path, monkeypatch) -> None:
    from perfeval.workbench import portfolio as pf
    from perfeval.workbench.command import lab_command
    from perfeval.workbench.whatif import Scenario

    scheme = custom_scheme(tmp_path / "county.toml")
    loaded = pf.load_portfolio(inputs, scheme=scheme)
    row = loaded.summary.iloc[0]
    assert (row["scheme"], row["total"], row["grade"]) == (SCHEME_ID, 98.94, "良")
    assert loaded.levels[:2] == ("立项决策", "过程管理")
    key = loaded.keys[0]
    assert loaded.evaluation(key).scheme.id == SCHEME_ID
    assert Scenario(loaded.project(key)).evaluate().grade == "良"
    from perfeval.workbench.widgets import Workbench

    bench = Workbench(inputs, save_dir=tmp_path / "情景", draws=10, scheme=scheme)
    assert bench.data.summary.iloc[0]["grade"] == "良"

    # perfeval lab DATA --scheme FILE hands the scheme to the notebook's load_portfolio
    args = argparse.Namespace(data=str(inputs), dir=str(tmp_path / "nb"), port=None, no_browser=True,
                              scheme=str(scheme))
    _, env, _ = lab_command(args)
    assert env[pf.SCHEME_ENV] == str(scheme)
    monkeypatch.setenv(pf.SCHEME_ENV, env[pf.SCHEME_ENV])
    assert pf.load_portfolio(inputs).summary["grade"].tolist() == ["良"]
    monkeypatch.delenv(pf.SCHEME_ENV)
    assert pf.load_portfolio(inputs).summary["grade"].tolist() == ["优"]

    # a batch output run with --scheme: drill-down reads the file on the same scheme
    out = tmp_path / "out"
    run_batch([inputs], out, formats=(), scheme=scheme)
    from_batch = pf.load_portfolio(out, scheme=scheme)
    assert from_batch.summary["grade"].tolist() == ["良"]
    assert from_batch.evaluation(from_batch.keys[0]).scheme.id == SCHEME_ID


def test_evaluating_under_another_scheme_maps_levels_by_its_aliases(tmp_path: Path) -> None:
    """Before: a project read under third_party (levels 决策/过程) and evaluated under a scheme naming them 立项决策/
    过程管理 lost those levels' 40 points without a word (59.16 差). Now the scheme's aliases map them."""
    project = perfeval.load_project(REFERENCE, field_data=False)
    ev = perfeval.evaluate(project, str(custom_scheme(tmp_path / "county.toml")))
    assert ev.total == pytest.approx(98.94) and ev.grade == "良"
    assert ev.levels["name"].tolist() == ["立项决策", "过程管理", "产出", "效益"]
    assert ev.levels["weight"].tolist() == [20, 20, 40, 20]
    assert "level_not_in_scheme" not in set(ev.findings["code"])


def test_a_level_the_scheme_does_not_know_is_an_error_never_a_silent_loss(tmp_path: Path) -> None:
    text = custom_scheme(tmp_path / "county.toml").read_text(encoding="utf-8")
    odd = tmp_path / "odd.toml"
    level = 'name = "过程管理"\nweight = 20\naliases = ["过程", '
    odd.write_text(text.replace(level, 'name = "管理"\nweight = 20\naliases = ['), encoding="utf-8")
    project = perfeval.load_project(REFERENCE, field_data=False)
    ev = perfeval.evaluate(project, str(odd))
    found = ev.findings[ev.findings["code"] == "level_not_in_scheme"]
    assert len(found) == 1 and found.iloc[0]["severity"] == "error"
    assert found.iloc[0]["message"].startswith("一级指标「过程」不是评价方案「某县财政评价方案」的一级指标")
    assert "其下 5 项指标（分值 20 分，得分 19.78 分）未计入总分" in found.iloc[0]["message"]
    assert found.iloc[0]["where"] == "指标表第8、9、10、11、12行"
    assert ev.total == pytest.approx(98.94 - 19.78)  # what the scheme's levels hold, and the error says why
