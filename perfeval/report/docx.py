"""Word (.docx) export with python-docx: outline headings as Word headings (so the navigation
pane shows 一、… 八、), tables as real Word tables (merged 一级/二级 cells, header rows that
repeat on each page), charts as pictures, and provenance in the page footer and at the end.

Body text is set in 宋体 and headings in 黑体, the faces every Chinese Word/WPS installation
has; python-docx writes all text as XML text, so nothing in a cell is ever interpreted.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Mm, Pt, RGBColor

from perfeval.charts import DPI as CHART_DPI
from perfeval.narrative import Figure, Heading, Paragraph, ReportDoc, Table
from perfeval.report.html import png_size

BODY_FONT, HEADING_FONT, LATIN_FONT = "宋体", "黑体", "Times New Roman"
TABLE_STYLE = "表格文字"
#: parts that start on a new page (the appendices)
NEW_PAGE_PARTS = ("附表", "附录")
CAPTION_STYLE = "Caption"
#: A4 text width with the margins set in `_page` (210 − 25 − 22 mm)
TEXT_WIDTH = Mm(163)


def _set_font(style, east_asia: str, size: float | None = None, bold: bool | None = None,
              color: RGBColor | None = None) -> None:
    style.font.name = LATIN_FONT
    if size is not None:
        style.font.size = Pt(size)
    if bold is not None:
        style.font.bold = bold
    if color is not None:
        style.font.color.rgb = color
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asia)


def _styles(document) -> None:
    styles = document.styles
    _set_font(styles["Normal"], BODY_FONT, 12)
    styles["Normal"].paragraph_format.line_spacing = 1.5
    black = RGBColor(0, 0, 0)
    _set_font(styles["Title"], HEADING_FONT, 20, bold=False, color=black)
    for level, size in ((1, 16), (2, 14), (3, 12)):
        style = styles[f"Heading {level}"]
        _set_font(style, HEADING_FONT, size, bold=level < 3, color=black)
        style.font.italic = False
        style.paragraph_format.space_before = Pt(12 if level == 1 else 8)
        style.paragraph_format.space_after = Pt(4)
        style.paragraph_format.keep_with_next = True
    _set_font(styles[CAPTION_STYLE], BODY_FONT, 10.5, bold=False, color=black)
    styles[CAPTION_STYLE].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    styles[CAPTION_STYLE].paragraph_format.keep_with_next = True
    table_text = styles.add_style(TABLE_STYLE, 1)  # 1 = paragraph style
    table_text.base_style = styles["Normal"]
    _set_font(table_text, BODY_FONT, 9)
    table_text.paragraph_format.line_spacing = 1.0
    table_text.paragraph_format.first_line_indent = Pt(0)
    table_text.paragraph_format.space_after = Pt(0)


def _page(document) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(25), Mm(22)
    section.left_margin, section.right_margin = Mm(25), Mm(22)


def _field(paragraph, instruction: str) -> None:
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _footer(document, doc: ReportDoc) -> None:
    prov = doc.provenance
    paragraph = document.sections[0].footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(f"输入 SHA-256 {prov.sha256[:16]}… · perfeval {prov.version} · 第 ")
    run.font.size = Pt(8)
    _field(paragraph, "PAGE")
    paragraph.add_run(" 页").font.size = Pt(8)


def _row_flags(row, header: bool) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    cant_split = OxmlElement("w:cantSplit")
    tr_pr.append(cant_split)
    if header:
        flag = OxmlElement("w:tblHeader")
        flag.set(qn("w:val"), "true")
        tr_pr.append(flag)


def _cell_text(cell, text: str, numeric: bool, bold: bool) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.style = TABLE_STYLE
    if numeric:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    lines = text.split("\n")
    for i, line in enumerate(lines):
        run = paragraph.add_run(line)
        run.bold = bold or None
        if i < len(lines) - 1:
            run.add_break()


def _table(document, table: Table) -> None:
    if table.caption:
        document.add_paragraph(table.caption, style=CAPTION_STYLE)
    header = table.style != "kv"
    n_rows = len(table.rows) + (1 if header else 0)
    word = document.add_table(rows=n_rows, cols=len(table.columns))
    word.style = "Table Grid"
    word.alignment = WD_TABLE_ALIGNMENT.CENTER
    numeric = table.numeric or (False,) * len(table.columns)
    rows = word.rows
    if header:
        _row_flags(rows[0], header=True)
        for cell, name in zip(rows[0].cells, table.columns, strict=True):
            _cell_text(cell, name, False, True)
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    offset = 1 if header else 0
    fractions = table.fractions()
    if fractions:
        word.autofit = False
        widths = [int(TEXT_WIDTH * fraction) for fraction in fractions]
        for column, width in zip(word.columns, widths, strict=True):
            column.width = width  # the table grid (LibreOffice and WPS read this)
        for row in rows:
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = width  # each cell (Word reads this)
    spans, colspans = table.spans(), table.colspans()
    for i, values in enumerate(table.rows):
        row = rows[i + offset]
        _row_flags(row, header=False)
        strong = i in table.strong
        for j, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
            if spans[i][j] and colspans[i][j]:
                _cell_text(cell, value, numeric[j], strong or (table.style == "kv" and j == 0))
    for i in range(len(table.rows)):
        for j in range(len(table.columns)):
            span, colspan = spans[i][j], colspans[i][j]
            if span > 1 or colspan > 1:
                word.cell(i + offset, j).merge(
                    word.cell(i + offset + max(span, 1) - 1, j + max(colspan, 1) - 1))
    document.add_paragraph()


def _paragraph(document, block: Paragraph) -> None:
    paragraph = document.add_paragraph()
    for i, line in enumerate(block.text.split("\n")):
        run = paragraph.add_run(line)
        if i:
            run.add_break()
    if block.style in ("body", "missing"):
        paragraph.paragraph_format.first_line_indent = Pt(24)
    if block.style in ("note", "missing"):
        for run in paragraph.runs:
            run.font.size = Pt(10.5)
    if block.style == "lead":
        for run in paragraph.runs:
            run.bold = True
    _draft_look(paragraph, block.style)


def _draft_look(paragraph, style: str) -> None:
    """Drafts composed from the data (narrative.DRAFT_MARK above them): the mark bold dark orange,
    the draft's paragraphs shaded, so Word readers never take them for the evaluator's text."""
    if style not in ("draft", "draft-mark"):
        return
    shade = OxmlElement("w:shd")
    shade.set(qn("w:val"), "clear")
    shade.set(qn("w:fill"), "FFEDD5" if style == "draft-mark" else "FFF7ED")
    paragraph._p.get_or_add_pPr().append(shade)
    if style == "draft-mark":
        paragraph.paragraph_format.keep_with_next = True
        for run in paragraph.runs:
            run.bold, run.font.color.rgb = True, RGBColor(0x9A, 0x34, 0x12)


def render_docx(doc: ReportDoc, images: Mapping[str, bytes]) -> bytes:
    """The report as .docx bytes."""
    document = Document()
    _page(document)
    _styles(document)
    props = document.core_properties
    props.title, props.author = doc.title, "perfeval"
    props.comments = doc.provenance.text()
    document.add_paragraph(doc.title, style="Title").alignment = WD_ALIGN_PARAGRAPH.CENTER
    _table(document, Table("facts", "", ("项目", "内容"), doc.facts, style="kv"))
    for part in doc.parts:
        for block in part.blocks:
            if isinstance(block, Heading):
                heading = document.add_heading(block.text, level=min(block.level, 3))
                if part.key in NEW_PAGE_PARTS and block.level == 1:
                    heading.paragraph_format.page_break_before = True
            elif isinstance(block, Paragraph):
                _paragraph(document, block)
            elif isinstance(block, Table):
                _table(document, block)
            elif isinstance(block, Figure) and block.chart in images:
                png = images[block.chart]
                width = min(int(Inches(png_size(png)[0] / CHART_DPI)), TEXT_WIDTH)
                document.add_picture(io.BytesIO(png), width=width)
                document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
                document.paragraphs[-1].paragraph_format.keep_with_next = True  # picture stays with its caption
                document.add_paragraph(block.caption, style=CAPTION_STYLE)
    document.add_heading("生成信息", level=1)
    for key, value in doc.provenance.lines():
        document.add_paragraph(f"{key}：{value}").runs[0].font.size = Pt(9)
    _footer(document, doc)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
