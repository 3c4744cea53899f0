"""Exports from a notebook's outputs, without starting a kernel: HTML (nbconvert + perfeval
template), Word (python-docx), PDF (WeasyPrint). The kernel-run pipeline is in test_report_build."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from docx import Document

import perfeval
from perfeval.report import compose as n
from perfeval.report import html as report_html
from perfeval.report.docx import render_docx
from perfeval.report.notebook import read_report
from perfeval.report.view import MIME, ReportView

REFERENCE_CSV = Path(__file__).resolve().parents[1] / "data" / "reference" / "csv" / "AKT2022-001.csv"
GENERATED = "2024-05-06 07:08:09+08:00"
NASTY = "<script>alert(1)</script><img src=x onerror=alert(2)> **粗体** $x^2$ \\(y\\)"
KEYS = ("封面", *n.OUTLINE, "附表", "附录", "生成信息")


def notebook_of(evaluation) -> nbformat.NotebookNode:
    """What the executed report notebook holds: one display output per part (no kernel)."""
    view = ReportView(evaluation, n.compose(evaluation, GENERATED))
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("workbook = 'x.csv'  # parameters"))
    for key in KEYS:
        data, metadata = view.bundle(key)
        output = nbformat.v4.new_output("display_data", data=data, metadata=metadata)
        nb.cells.append(nbformat.v4.new_code_cell(f"report.show({key!r})", outputs=[output]))
    nb.cells.append(nbformat.v4.new_code_cell("print('stream output')", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="stream output\n")]))
    return nbformat.reads(nbformat.writes(nb), as_version=4)  # through JSON, like a real run


@pytest.fixture(scope="module")
def ev():
    return perfeval.evaluate(perfeval.load_project(REFERENCE_CSV))


@pytest.fixture(scope="module")
def nasty_ev(ev):
    ind = ev.project.indicators.copy()
    ind.loc[ind["name"] == "预算执行率", "reason"] = "<b>未按时</b> # 标题 [链接](http://x)"
    project = ev.project.replace(name=NASTY, indicators=ind,
                                 narrative={**ev.project.narrative, "建议": "$$\\int x$$ <i>斜体</i>"})
    return perfeval.evaluate(project)


@pytest.fixture(scope="module")
def nb(ev):
    return notebook_of(ev)


@pytest.fixture(scope="module")
def nasty_nb(nasty_ev):
    return notebook_of(nasty_ev)


@pytest.fixture(scope="module")
def page(ev, nb):
    return report_html.export_html(nb, n.report_title(ev), "")


@pytest.fixture(scope="module")
def nasty_page(nasty_ev, nasty_nb):
    return report_html.export_html(nasty_nb, n.report_title(nasty_ev), "")


def test_html_has_the_report_and_no_code(page, ev):
    assert page.startswith("<!DOCTYPE html>")
    for needle in ("绩效评价报告", "98.94", "“优”", "95.6%", "4.4%", "附录\u3000数据核查",
                   "一、基本情况", "八、其他需要说明的问题"):
        assert needle in page
    for code in ("report.show", "workbook = ", "stream output", "In&nbsp;[", "jp-InputArea"):
        assert code not in page
    assert "<script" not in page.lower()
    assert len(re.findall(r"<(?:section|footer)[^>]*data-part=", page)) == len(KEYS)
    for message in ev.findings["message"]:
        assert report_html.escape(message) in page


def test_html_is_self_contained(page):
    assert re.findall(r'src="(?!data:)', page) == []
    assert re.findall(r"url\((?!\"?data:)", page) == []
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', page)) == 3
    assert "@page" in page and "counter(page)" in page and "@media print" in page


def test_html_provenance_footer(page, ev):
    footer = page[page.index('data-part="生成信息"'):]
    assert ev.project.sha256 in footer
    assert f"perfeval 版本：</span>{perfeval.__version__}" in footer
    assert "third_party" in footer and GENERATED in footer


def test_html_escapes_sheet_text(nasty_page):
    lowered = nasty_page.lower()
    assert "<script" not in lowered
    assert "<img src=x" not in lowered and "onerror=alert(2)>" not in lowered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in nasty_page
    assert "&lt;b&gt;未按时&lt;/b&gt; # 标题 [链接](http://x)" in nasty_page
    assert "**粗体** $x^2$" in nasty_page  # Markdown and LaTeX stay literal text
    assert "mathjax_ignore" in nasty_page and "MathJax" not in nasty_page
    assert "<title>&lt;script&gt;" in nasty_page


def test_read_report_round_trip(ev, nb):
    doc, images = read_report(nb)
    assert doc == n.compose(ev, GENERATED)
    assert set(images) == {"budget", "score_rate", "points_lost"}
    assert all(png.startswith(b"\x89PNG") for png in images.values())


def test_outputs_carry_report_data(nb):
    kinds = [o["data"][MIME]["kind"] for c in nb.cells for o in c.get("outputs", ())
             if MIME in o.get("data", {})]
    assert kinds == ["cover", *["part"] * (len(KEYS) - 2), "provenance"]


def _docx(nb) -> Document:
    doc, images = read_report(nb)
    return Document(io.BytesIO(render_docx(doc, images)))


@pytest.fixture(scope="module")
def word(nb):
    return _docx(nb)


def test_docx_outline_tables_and_images(word):
    headings = [p.text for p in word.paragraphs if p.style.name == "Heading 1"]
    assert headings[:8] == [h for h in headings if h[0] in "一二三四五六七八"]
    assert headings[0] == "一、基本情况" and headings[7] == "八、其他需要说明的问题"
    assert "附录\u3000数据核查" in headings
    scores = next(t for t in word.tables if t.rows[0].cells[0].text == "一级指标"
                  and len(t.columns) == 10)
    rows = [[c.text for c in r.cells] for r in scores.rows]
    assert rows[0][:3] == ["一级指标", "二级指标", "三级指标"]
    by_name = {r[3]: r for r in rows[1:]}
    assert by_name["预算执行率"][4:] == ["5", "＝100%", "95.6%", "执行率 95.58%\n（执行数/预算数）", "4.78", "95.6%"]
    assert by_name["社保金缴费（万元）"][7] == "目标 ≥33.46 万元\n实际 31.98 万元"
    assert rows[-1][0] == "合计" and rows[-1][-2:] == ["98.94", "98.9%"]
    assert len(word.inline_shapes) == 3
    section = word.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297


def test_docx_provenance(ev, word):
    text = "\n".join(p.text for p in word.paragraphs)
    assert f"输入文件 SHA-256：{ev.project.sha256}" in text
    assert f"perfeval 版本：{perfeval.__version__}" in text and f"生成时间：{GENERATED}" in text
    assert ev.project.sha256[:16] in word.sections[0].footer.paragraphs[0].text


def test_docx_escapes_sheet_text(nasty_nb):
    word = _docx(nasty_nb)
    text = "\n".join(p.text for p in word.paragraphs)
    cells = "\n".join(c.text for t in word.tables for r in t.rows for c in r.cells)
    assert word.paragraphs[0].text.startswith(NASTY)
    assert "$$\\int x$$ <i>斜体</i>" in text
    assert "<b>未按时</b> # 标题 [链接](http://x)" in text  # the funds row's reason: 五's budget paragraph
    assert NASTY in cells


@pytest.mark.slow
def test_pdf_a4_searchable_with_embedded_subset_font(ev, nb, tmp_path):
    from perfeval.fonts import font_face_css
    from perfeval.report.pdf import render_pdf

    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed")
    doc = n.compose(ev, GENERATED)
    full = report_html.export_html(nb, doc.title, font_face_css(doc.text()))
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render_pdf(full))
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "PerfevalCJK" in line]
    assert cjk and all(line.split()[-5:-2] == ["yes", "yes", "yes"] for line in cjk)  # emb sub uni
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "(A4)" in info
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    for needle in ("预算执行率", "95.6%", "98.94", "一、基本情况", "数据核查", ev.project.sha256):
        assert needle in text
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert f"第 {pages} 页 / 共 {pages} 页" in text
