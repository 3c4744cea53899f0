"""The workbench widgets driven from Python (no browser): filters, drill-down, what-if, saving,
robustness, the static fallback for exports, the notebook and `perfeval lab`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

import perfeval
from perfeval.errors import PerfevalError
from perfeval.workbench import portfolio as pf
from perfeval.workbench.tables import num
from perfeval.workbench.widgets import Workbench
from tests.conftest import REFERENCE_CSV, index_of

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def projects(reference) -> list[perfeval.Project]:
    cost = index_of(reference, "社保金缴费（万元）")
    timely = index_of(reference, "社保金缴费资金及时发放率（%）")
    out = []
    for i in range(9):
        p = reference.replace(id=f"W{i}", name=f"项目{i}", department=("县教育局", "县民政局")[i % 2],
                              year=2022 + i % 2)
        out.append(p.with_indicator(cost, actual=f"{33.46 - 3.5 * i:.2f}万元")
                    .with_indicator(timely, actual=f"{100 - 11 * i}%"))
    return out


@pytest.fixture
def bench(projects, tmp_path: Path) -> Workbench:
    return Workbench(pf.Portfolio.from_projects(projects, source="内存"), save_dir=tmp_path / "情景",
                     draws=1000)


def _rows(html: str) -> int:
    return html.count("<tr>") + html.count('<tr class="changed">') - 1  # minus the header row


# ---------------------------------------------------------------- portfolio

def test_setting_a_filter_changes_the_table_and_the_chart(bench: Workbench) -> None:
    explorer = bench.portfolio
    table, chart = explorer.table.value, explorer.chart.value
    assert _rows(table) == 9 and "共 9 个项目，符合筛选 <b>9</b> 个" in explorer.status.value
    explorer.grade.value = ("优",)
    expected = pf.apply_filters(bench.data.summary, pf.Filters(grades=("优",)))
    assert 0 < len(expected) < 9
    assert explorer.shown["key"].tolist() == pf.sort_summary(expected)["key"].tolist()
    assert _rows(explorer.table.value) == len(expected) and explorer.table.value != table
    assert explorer.chart.value != chart and bytes(explorer.chart.value).startswith(b"\x89PNG")
    assert f"符合筛选 <b>{len(expected)}</b> 个" in explorer.status.value
    for key in expected["id"]:
        assert f"<td>{key}</td>" in explorer.table.value

    explorer.department.value = ("县民政局",)
    explorer.score.value = (90.0, 100.0)
    both = pf.apply_filters(bench.data.summary, pf.Filters(grades=("优",), departments=("县民政局",),
                                                           score_range=(90.0, 100.0)))
    assert explorer.shown["key"].tolist() == pf.sort_summary(both)["key"].tolist()
    explorer.reset_filters()
    assert len(explorer.shown) == 9 and explorer.table.value == table


def test_sorting_and_search(bench: Workbench) -> None:
    explorer = bench.portfolio
    explorer.sort_by.value, explorer.order.value = "total", True
    totals = explorer.shown["total"].tolist()
    assert totals == sorted(totals)
    explorer.search.value = "项目3"
    assert explorer.shown["id"].tolist() == ["W3"]


# ---------------------------------------------------------------- drill-down

def test_picking_a_project_updates_the_drill_down(bench: Workbench) -> None:
    bench.select("W4")
    ev = perfeval.evaluate(bench.data.project("W4"))
    drill = bench.project
    assert "W4 项目4" in drill.head.value and num(ev.total) in drill.head.value
    assert _rows(drill.indicators.value) == len(ev.indicators)
    assert drill.findings.value.count("<tr") - 1 == len(ev.findings)
    assert len(drill.charts.children) >= 1
    with pytest.raises(PerfevalError, match="没有项目"):
        bench.select("不存在")


# ---------------------------------------------------------------- what-if

def test_changing_an_actual_value_gives_the_score_evaluate_gives(bench: Workbench, reference) -> None:
    bench.select("W0")
    panel = bench.whatif
    timely = index_of(reference, "社保金缴费资金及时发放率（%）")
    panel.indicator.value = timely
    assert panel.actual.value == "100%"
    panel.actual.value = "40%"
    expected = perfeval.evaluate(bench.data.project("W0").with_indicator(timely, actual="40%"))
    assert panel.evaluation.total == expected.total and panel.evaluation.grade == expected.grade
    assert f'<b class="perfeval-score">{num(expected.total)}</b>' in panel.total.value
    assert f'<b class="perfeval-grade">{expected.grade}' in panel.total.value
    base = perfeval.evaluate(bench.data.project("W0"))
    assert f"原 {num(base.total)} 分" in panel.total.value
    for level in expected.levels.itertuples():
        assert f'<td>{level.name}</td><td class="num">{num(level.weight)}</td><td class="num">' \
               f"{num(level.score)}</td>" in panel.levels.value
    assert "100% → 40%" in panel.changes.value and "情景" in panel.chart.value

    panel.reset()
    assert panel.evaluation.total == base.total and panel.actual.value == "100%"
    assert "已恢复原始数据" in panel.message.value


def test_weight_method_and_scale_widgets(bench: Workbench, reference) -> None:
    bench.select("W2")
    panel = bench.whatif
    cost = index_of(reference, "社保金缴费（万元）")
    panel.indicator.value = cost
    panel.weight.value = 14
    project = panel.scenario.project()
    assert project.indicators.loc[project.indicators["level1"] == "产出", "weight"].sum() == pytest.approx(40)
    assert panel.evaluation.total == perfeval.evaluate(project).total
    panel.method.value = "negative"
    assert panel.evaluation.total == perfeval.evaluate(panel.scenario.project()).total
    panel.scale.value = "four_grade"
    assert panel.evaluation.options.qualitative_scale == "four_grade"
    assert panel.evaluation.total == perfeval.evaluate(
        panel.scenario.project(), options={"qualitative_scale": "four_grade"}).total

    before = panel.scenario
    panel.weight.value = 45  # more than the level's 40
    assert "超过一级指标「产出」的分值 40" in panel.message.value
    assert panel.scenario == before and panel.weight.value == 14


def test_saving_a_scenario_scores_the_same_with_perfeval_score(bench: Workbench, reference,
                                                               capsys: pytest.CaptureFixture) -> None:
    from perfeval.cli import main

    bench.select("W1")
    panel = bench.whatif
    panel.indicator.value = index_of(reference, "服务群众满意度（%）")
    panel.actual.value = "80%"
    panel.save_button.click()
    saved = panel.saved
    assert saved is not None and saved.workbook.is_file() and "已保存情景" in panel.message.value
    assert saved.workbook.parent == Path(panel.save_path.value).parent
    capsys.readouterr()
    assert main(["score", str(saved.workbook), "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["total"] == panel.evaluation.total and scored["grade"] == panel.evaluation.grade

    panel.save_path.value = str(saved.workbook.with_suffix(".txt"))
    panel.save_button.click()
    assert "请保存为 .xlsx" in panel.message.value


# ---------------------------------------------------------------- robustness

def test_robustness_panel_on_the_reference_project(tmp_path: Path) -> None:
    bench = Workbench(REFERENCE_CSV, save_dir=tmp_path)
    panel = bench.robustness
    assert set(panel.table["等级"]) == {"优"} and len(panel.table) == 6
    assert panel.monte_carlo.draws >= 1000
    assert panel.monte_carlo.grade_probability["优"] == 1.0
    assert "保持「优」的概率 <b>100.0%</b>" in panel.summary.value
    panel.spread.value = 40
    assert panel.monte_carlo.spread == 0.4 and "±40%" in panel.summary.value


# ---------------------------------------------------------------- exports

def test_each_panel_carries_a_static_fallback(bench: Workbench) -> None:
    for panel in (*bench.panels, bench):
        bundle = panel._repr_mimebundle_()
        assert WIDGET_VIEW in bundle and "text/html" in bundle
        assert "<table" in bundle["text/html"]
    assert bench.portfolio._repr_mimebundle_()["text/html"].count("data:image/png;base64,") == 1
    assert "data:image/png;base64," in bench.robustness._repr_mimebundle_()["text/html"]


@pytest.mark.slow
def test_notebook_runs_and_exports_static_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    committed = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in committed.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "notebook committed with outputs"
    assert all(len(c.source.splitlines()) <= 4 for c in code)

    monkeypatch.setenv(pf.DATA_ENV, str(REFERENCE_CSV))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3", store_widget_state=False,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = [o for o in outputs if o.output_type == "execute_result"]
    assert len(shown) == 5 and all({WIDGET_VIEW, "text/html"} <= set(o.data) for o in shown)
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert "98.94" in html and "工会社会化聘用人员社保缴费" in html and "保持「优」的概率" in html
    assert html.count("data:image/png;base64,") >= 3
    assert 'type="application/vnd.jupyter.widget-view+json"' not in html


# ---------------------------------------------------------------- perfeval lab

def test_lab_command(tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    from perfeval.cli import main
    from perfeval.workbench.command import lab_command

    args = argparse.Namespace(data=str(REFERENCE_CSV), dir=str(tmp_path / "nb"), port=8899, no_browser=True)
    argv, env, folder = lab_command(args)
    assert (folder / "explore.ipynb").read_bytes() == NOTEBOOK.read_bytes()
    assert argv[1:3] == ["-m", "jupyterlab"] and f"--ServerApp.root_dir={folder}" in argv
    assert "explore.ipynb" in argv and "--port=8899" in argv and "--no-browser" in argv
    assert env[pf.DATA_ENV] == str(REFERENCE_CSV.resolve())

    monkeypatch.chdir(tmp_path)  # without --dir: the current folder (tests/test_lab_folder.py)
    default, _, default_folder = lab_command(argparse.Namespace(data=None, dir=None, port=None,
                                                                no_browser=False))
    assert default_folder == tmp_path.resolve() and "--no-browser" not in default

    assert main(["lab", str(tmp_path / "没有的文件夹")]) == 2
    assert "数据路径不存在" in capsys.readouterr().err
