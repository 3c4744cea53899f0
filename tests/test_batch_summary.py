"""The batch summary a reviewer uses: legible charts with integer count axes and an unmistakable key,
failed rows that say what is known (名称, 年度, reason), and a summary.xlsx with real relative links,
OWASP-neutralised text cells and 指标明细 carrying 扣分原因, 偏差原因 and 失分."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import perfeval
from perfeval.batch import run_batch
from perfeval.batch.portfolio_charts import (
    CHARTS,
    DPI,
    MIN_FONT_PT,
    execution_vs_score,
    grade_distribution,
    png_size,
    score_histogram,
)
from perfeval.batch.summary import FORMULA_TRIGGERS, neutralise
from perfeval.devtools import synth
from perfeval.report.charts import figure_png
from perfeval.sheets.write import save_portfolio, save_project
from perfeval.workbench.portfolio import load_batch_output
from tests.standin import write_formats

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"
#: text a spreadsheet would run as a formula, put where a project's texts go
NAME = '=HYPERLINK("http://example.invalid","点击")'
UNIT = "+86-0998 县总工会"
INDICATOR = "-社保金缴费人数（人）"
REASON = "@SUM(A1:A9) 12月份社保金未按时缴纳"
DEDUCTION = "-1分：档案归档不及时"


def fake_report(workbook, out_dir, formats=("html",), scheme=None, project_id=None,
                extra_parameters=None, timeout=None, kernel_name=None) -> dict[str, Path]:
    """A stand-in for build_report: loads like it, writes one small file per format."""
    project = perfeval.load_project(workbook, scheme, project_id)
    return write_formats(out_dir, f"{project.id} 报告", formats, project.id.encode())


FAKE = fake_report  # the batch calls it in its job processes instead of build_report


def _dangerous_reference():
    project = perfeval.load_project(REFERENCE)
    ind = project.indicators.copy()
    ind["reason"] = ind["reason"].astype(object)
    ind["deduction_reason"] = ind["deduction_reason"].astype(object)
    ind.loc[ind["name"] == "社会化人员社保金缴费人数（人）", "name"] = INDICATOR
    ind.loc[ind["reason"] == "12月份社保金未按时缴纳", "reason"] = REASON
    ind.loc[ind.index[0], "deduction_reason"] = DEDUCTION
    return project.replace(id="AKT2022-XSS", name=NAME, unit=UNIT, indicators=ind)


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    """Inputs: 3 synthetic projects, the reference with formula-like texts, a file refused as a whole
    (its 指标 lacks 分值) and a portfolio with one refused project; reports in html and pdf."""
    root = tmp_path_factory.mktemp("summary")
    inputs = root / "in"
    synth.write_portfolio(inputs / "files", 3, seed=51, broken_share=0.0)
    save_project(_dangerous_reference(), inputs / "dangerous.xlsx")
    good = perfeval.load_project(REFERENCE)
    broken = good.replace(id="BAD2023-001", name="无分值列的项目", year=2023)
    save_project(broken, inputs / "no_weights.xlsx")
    book = openpyxl.load_workbook(inputs / "no_weights.xlsx")
    book["指标"].delete_cols(5)  # 分值
    book.save(inputs / "no_weights.xlsx")
    bad_row = good.indicators.copy()
    bad_row["target"] = bad_row["target"].astype(object)
    bad_row.loc[bad_row.index[5], "target"] = "≈99%"
    save_portfolio([good.replace(id="PF2021-001", name="组合中的好项目", year=2021),
                    good.replace(id="PF2021-002", name="组合中的坏项目", year=2021, indicators=bad_row)],
                   inputs / "portfolio.xlsx")
    out = root / "out"
    result = run_batch([inputs], out, formats=("html", "pdf"), workers=1, report_fn=FAKE)
    assert result.exit_code == 1 and len(result.failed) == 2
    return out


def _rows(sheet) -> list[dict[str, openpyxl.cell.Cell]]:
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)]


def test_report_columns_are_relative_forward_slash_hyperlinks(batch: Path) -> None:
    book = openpyxl.load_workbook(batch / "summary.xlsx")
    rows = _rows(book["项目汇总"])
    done = [r for r in rows if r["状态"].value == "成功"]
    assert len(done) == 5
    for row in done:
        for column, suffix in (("报告（HTML）", ".html"), ("报告（PDF）", ".pdf")):
            cell = row[column]
            assert cell.hyperlink is not None, (row["项目编号"].value, column)
            target = cell.hyperlink.target
            assert "\\" not in target and not target.startswith(("/", "file:")) and target.endswith(
                suffix.replace(" ", "%20"))
            assert cell.value == target.replace("%20", " ")  # the text is the path the link opens
            assert (batch / cell.value).is_file()  # relative to the folder holding summary.xlsx
            assert target.replace("%20", " ").split("/")[0] == str(row["年度"].value)
    for row in (r for r in rows if r["状态"].value == "失败"):
        assert row["报告（HTML）"].hyperlink is None and row["报告（HTML）"].value is None
    with zipfile.ZipFile(batch / "summary.xlsx") as z:
        rels = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/_rels/")]
    targets = [t for text in rels for t in re.findall(r'Target="([^"]*)" TargetMode="External"', text)]
    assert len(targets) == 10 and not any("\\" in t for t in targets)


def test_text_cells_are_neutralised_and_numbers_stay_numbers(batch: Path) -> None:
    book = openpyxl.load_workbook(batch / "summary.xlsx")
    summary = {r["项目编号"].value: r for r in _rows(book["项目汇总"])}
    row = summary["AKT2022-XSS"]
    assert row["项目名称"].value == "'" + NAME and row["项目名称"].data_type == "s"
    assert row["实施单位"].value == "'" + UNIT
    assert row["总分"].data_type == "n" and row["总分"].value == pytest.approx(98.94)
    assert row["年度"].data_type == "n" and row["年度"].value == 2022
    assert row["预算执行率"].data_type == "n" and 0 < row["预算执行率"].value <= 1
    detail = [r for r in _rows(book["指标明细"]) if r["项目编号"].value == "AKT2022-XSS"]
    names = [r["指标名称"].value for r in detail]
    assert "'" + INDICATOR in names
    assert "'" + REASON in [r["偏差原因"].value for r in detail]
    assert "'" + DEDUCTION in [r["扣分原因"].value for r in detail]
    assert all(r["分值"].data_type == "n" and r["失分"].data_type == "n" for r in detail)
    # no text cell anywhere starts like a formula, and no cell is a formula
    for sheet in book.worksheets:
        for line in sheet.iter_rows():
            for cell in line:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_TRIGGERS), (sheet.title, cell.coordinate, cell.value)


def test_neutralise() -> None:
    for text in ("=1+1", "+1", "-1", "@x", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    for text in ("1", "项目", "'=already", " =x", ""):
        assert neutralise(text) == text


def test_indicator_detail_carries_reasons_and_lost_points(batch: Path) -> None:
    detail = pd.read_excel(batch / "summary.xlsx", sheet_name="指标明细", engine="calamine")
    assert {"扣分原因", "偏差原因", "失分"} <= set(detail.columns)
    assert list(detail.columns).index("失分") == list(detail.columns).index("得分") + 1
    ev = perfeval.evaluate(_dangerous_reference())
    ours = detail[detail["项目编号"] == "AKT2022-XSS"].reset_index(drop=True)
    assert len(ours) == len(ev.indicators)
    np.testing.assert_allclose(ours["失分"].to_numpy(float), ev.indicators["lost"].to_numpy(float))
    np.testing.assert_allclose(ours["失分"].to_numpy(float),
                               (ev.indicators["weight"] - ev.indicators["score"]).to_numpy(float), atol=1e-9)
    reasons = ours["偏差原因"].fillna("").str.removeprefix("'")
    assert reasons.tolist() == ev.indicators["reason"].fillna("").tolist()
    assert ours["扣分原因"].fillna("").str.removeprefix("'").tolist() == ev.indicators["deduction_reason"].fillna(
        "").tolist()
    assert (ours["失分"] > 0).any() and (ours["偏差原因"].fillna("") != "").any()


def test_failed_rows_carry_name_year_and_reason(batch: Path) -> None:
    sheets = pd.read_excel(batch / "summary.xlsx", sheet_name=None, engine="calamine")
    summary = sheets["项目汇总"].set_index("项目编号")
    failed = sheets["失败项目"].set_index("项目编号")
    expected = {"no_weights": ("无分值列的项目", 2023, "分值"), "PF2021-002": ("组合中的坏项目", 2021, "≈99%")}
    assert set(failed.index) == set(expected)
    for key, (name, year, why) in expected.items():
        for frame in (summary, failed):
            assert frame.loc[key, "项目名称"] == name and frame.loc[key, "年度"] == year
        assert summary.loc[key, "状态"] == "失败" and why in summary.loc[key, "失败原因"]
        assert why in failed.loc[key, "原因"]
    page = (batch / "index.html").read_text("utf-8")
    rows = {m[1]: m[0] for m in re.finditer(r'<tr class="failed">.*?<td data-v="([^"]*)".*?</tr>', page, re.S)}
    assert set(rows) == set(expected)
    for key, (name, year, _) in expected.items():
        assert name in rows[key] and f">{year}</td>" in rows[key] and 'class="why"' in rows[key]
    assert "缺少必需的列「分值」" in rows["no_weights"]
    assert "无法识别的指标值写法" in rows["PF2021-002"]


def _scored(batch: Path) -> pd.DataFrame:
    summary = pd.read_excel(batch / "summary.xlsx", sheet_name="项目汇总", engine="calamine")
    return summary[summary["总分"].notna()]


def _texts(fig) -> list:
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_chart_text_is_at_least_10pt_as_index_html_shows_it(batch: Path) -> None:
    page = (batch / "index.html").read_text("utf-8")
    shown = {m[1]: (int(m[2]), int(m[3])) for m in
             re.finditer(r'<img src="charts/(\w+)\.png"[^>]*width="(\d+)" height="(\d+)"', page)}
    assert set(shown) == set(CHARTS)
    assert ".charts img{max-width:100%;height:auto" in page  # nothing else scales them down on a wide screen
    scored = _scored(batch)
    for name, (_, make) in CHARTS.items():
        png = (batch / "charts" / f"{name}.png").read_bytes()
        width, height = png_size(png)
        css_width, css_height = shown[name]
        assert css_width / width == pytest.approx(css_height / height, rel=0.01)  # not distorted
        fig = make(scored)
        assert png_size(figure_png(fig, DPI)) == (width, height)  # the same drawing (and the texts laid out)
        texts = _texts(fig)
        assert len(texts) >= 8
        for text in texts:
            # figure pt -> PNG px (dpi/72) -> CSS px as shown (css_width/width) -> CSS pt (72/96)
            on_screen = text.get_fontsize() * DPI / 72 * css_width / width * 72 / 96
            assert on_screen >= MIN_FONT_PT - 1e-9, (name, text.get_text(), on_screen)


def _drawn(fig):
    figure_png(fig, 72)
    return fig.axes[0]


def test_count_axes_have_integer_ticks() -> None:
    scored = pd.DataFrame({"总分": [91.5, 93.2, 86.0], "等级": ["优", "优", "良"], "预算执行率": [0.9, 0.95, 0.8]})
    for make in (grade_distribution, score_histogram):
        ax = _drawn(make(scored))
        ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
        assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), (make.__name__, ticks)


def test_scatter_key_cannot_be_taken_for_a_project() -> None:
    from matplotlib.collections import PathCollection
    from matplotlib.patches import Rectangle

    scored = pd.DataFrame({"总分": [95.0, 91.0, 85.0, 72.0], "等级": ["优", "优", "良", "中"],
                           "预算执行率": [0.99, 0.9, 0.85, 0.7]})
    fig = execution_vs_score(scored)
    ax = _drawn(fig)
    legend = ax.get_legend()
    assert legend is not None
    handles = legend.legend_handles
    assert handles and all(isinstance(h, Rectangle) for h in handles)  # squares, not dots
    assert not any(isinstance(h, PathCollection) for h in handles)
    assert [t.get_text() for t in legend.get_texts()] == ["优 2 个", "良 1 个", "中 1 个"]
    renderer = fig.canvas.get_renderer()
    assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1  # outside the plot
    cuts = [line.get_ydata()[0] for line in ax.get_lines()]
    assert {80, 90} <= set(cuts)  # grade cut points as reference lines


def test_workbench_reads_the_summary(batch: Path) -> None:
    portfolio = load_batch_output(batch)
    summary = portfolio.summary.set_index("id")
    assert len(summary) == 5
    assert summary.loc["AKT2022-XSS", "name"] == NAME  # the neutralising quote is not part of the name
    assert summary.loc["AKT2022-XSS", "unit"] == UNIT
    assert summary.loc["AKT2022-XSS", "total"] == pytest.approx(98.94)
    assert len(portfolio.failed) == 2
