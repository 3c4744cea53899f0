"""Word (.docx) export with python-docx, on perfeval's own layout or on a firm's template.

The outline headings are Word headings (Heading 1–4, so the navigation pane and the table of
contents show 一、… 八、) carrying the 公文 numbers 一、（一）1.（1） as text, exactly as the HTML and
PDF show them; a heading style of the template that numbers its paragraphs automatically is switched
off for these paragraphs (numId 0), so numbers never double. A TOC field after the cover lists
levels 1–2; Word fills in the page numbers when the document is opened (or on F9) — until then it
shows the headings and a note saying so. Tables are real Word tables (merged 一级/二级 cells, header
rows that repeat on each page), charts pictures, and provenance is at the end and in the footer.

Without a template (`template=None`) the styles follow the GB/T 9704 公文 convention: title
方正小标宋简体, 一级标题 黑体, 二级 楷体_GB2312, 三级/四级 仿宋_GB2312, body 仿宋_GB2312, Latin text
Times New Roman; the font table names a substitute for each (仿宋, 楷体, 华文中宋/宋体 …) that Word and
WPS use where the GB2312 faces are not installed. With a template (`template=bytes`, see
`perfeval.report.docx_template`) the template's styles, page setup, headers and footers are kept;
a style the template lacks is added with the convention's formatting, and a font the template leaves
unset (no explicit East Asian / Latin face) is set to the convention's. The template's body is kept
as the cover, its {{placeholders}} filled, and the report starts on the next page.

python-docx writes all text as XML text, so nothing in a cell is ever interpreted.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import nsmap, qn
from docx.oxml.text.run import _RunContentAppender
from docx.shared import Emu, Inches, Mm, Pt, RGBColor
from lxml import etree

from perfeval.report.charts import DPI as CHART_DPI
from perfeval.report.document import Figure, Heading, Paragraph, ReportDoc, Table
from perfeval.report.html import png_size

# ---------------------------------------------------------------- conventions

TITLE_FONT, HEADING_FONT, KAI_FONT = "方正小标宋简体", "黑体", "楷体_GB2312"
BODY_FONT, TABLE_FONT = "仿宋_GB2312", "宋体"
LATIN_FONT = "Times New Roman"
#: the substitute Word / WPS use where a face is not installed (w:font/w:altName in the font table)
SUBSTITUTES = {BODY_FONT: "仿宋,FangSong", KAI_FONT: "楷体,KaiTi", TITLE_FONT: "华文中宋,宋体",
               HEADING_FONT: "SimHei", TABLE_FONT: "SimSun"}
TABLE_STYLE = "表格文字"
CAPTION_STYLE = "Caption"
GRID_STYLE = "Table Grid"
TOC_HEADING_STYLE = "TOC Heading"
#: heading levels the table of contents lists
TOC_LEVELS = 2
TOC_NOTE = "（目录由 Word 自动生成：打开文档时提示更新域请选“是”，或在目录上右键“更新域”/按 F9 更新页码。）"
#: the part shown with the title (the result summary), before the table of contents
COVER_PART = "封面"
#: parts that start on a new page (the appendices)
NEW_PAGE_PARTS = ("附表", "附录")
BLACK = RGBColor(0, 0, 0)


@dataclass(frozen=True)
class Look:
    """A paragraph style as the convention sets it."""

    face: str
    size: float
    bold: bool | None = None
    outline: int | None = None  # 0 = level 1 heading
    before: float = 0
    after: float = 0
    centered: bool = False


#: name → (look, base style, Word's built-in style id or None for perfeval's own)
HOUSE: dict[str, tuple[Look, str | None, str | None]] = {
    "Normal": (Look(BODY_FONT, 12), None, "Normal"),
    "Title": (Look(TITLE_FONT, 22, bold=False, after=12, centered=True), "Normal", "Title"),
    "Heading 1": (Look(HEADING_FONT, 16, bold=False, outline=0, before=12, after=4), "Normal", "Heading1"),
    "Heading 2": (Look(KAI_FONT, 14, bold=False, outline=1, before=8, after=4), "Normal", "Heading2"),
    "Heading 3": (Look(BODY_FONT, 12, bold=True, outline=2, before=6, after=2), "Normal", "Heading3"),
    "Heading 4": (Look(BODY_FONT, 12, bold=False, outline=3, before=4, after=2), "Normal", "Heading4"),
    CAPTION_STYLE: (Look(HEADING_FONT, 10.5, bold=False, before=6, after=3, centered=True), "Normal", "Caption"),
    TABLE_STYLE: (Look(TABLE_FONT, 9), "Normal", None),
    TOC_HEADING_STYLE: (Look(HEADING_FONT, 16, bold=False, outline=9, after=12, centered=True), "Normal",
                        "TOCHeading"),
    "toc 1": (Look(BODY_FONT, 12, after=2), "Normal", "TOC1"),
    "toc 2": (Look(BODY_FONT, 12, after=2), "Normal", "TOC2"),
}
HEADING_LEVELS = 4
#: the names a template made in a Chinese Word or WPS may give these styles instead
ALIASES = {"Normal": ("正文",), "Title": ("标题",), "Caption": ("题注",), GRID_STYLE: ("网格型",),
           TOC_HEADING_STYLE: ("TOC 标题",), "toc 1": ("目录 1",), "toc 2": ("目录 2",),
           **{f"Heading {n}": (f"标题 {n}",) for n in range(1, 5)}}
#: left/right cell margin of report tables (twips; 57 ≈ 1 mm)
CELL_MARGIN_TWIPS = 57


# ---------------------------------------------------------------- small XML helpers


def _pt_of(size) -> float | None:
    return None if size is None else size.pt


def set_fonts(style, east_asia: str | None, size: float | None = None, bold: bool | None = None,
              color: RGBColor | None = None, latin: str | None = LATIN_FONT) -> None:
    """Explicit faces on a style (theme fonts removed, they would win over explicit ones)."""
    if size is not None:
        style.font.size = Pt(size)
    if bold is not None:
        style.font.bold = bold
    if color is not None:
        style.font.color.rgb = color
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    if latin is not None:
        for theme in ("w:asciiTheme", "w:hAnsiTheme"):
            fonts.attrib.pop(qn(theme), None)
        fonts.set(qn("w:ascii"), latin)
        fonts.set(qn("w:hAnsi"), latin)
    if east_asia is not None:
        fonts.attrib.pop(qn("w:eastAsiaTheme"), None)
        fonts.set(qn("w:eastAsia"), east_asia)


def add_field(paragraph, instruction: str, shown: str = "1") -> None:
    """A simple field (PAGE, NUMPAGES …) at the end of the paragraph."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = shown
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _fld_char(run, kind: str, dirty: bool = False) -> None:
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    if dirty:
        char.set(qn("w:dirty"), "true")
    run._r.append(char)


def _xp(element, expression: str) -> list:
    """XPath with the WordprocessingML prefixes, on any element (python-docx's or lxml's own)."""
    return etree.XPath(expression, namespaces=nsmap)(element)


def _chain(style) -> Iterable:
    """The style and the styles it is based on (a loop in a broken template ends the walk)."""
    seen = set()
    while style is not None and style.style_id not in seen:
        seen.add(style.style_id)
        yield style
        style = style.base_style


def _is_normal(style) -> bool:
    """Whether this is the document's default paragraph style (Normal / 正文, whatever its id)."""
    return style.type == WD_STYLE_TYPE.PARAGRAPH and style.element.get(qn("w:default")) in ("1", "true", "on")


def _explicit(style, attribute: str, skip_normal: bool) -> bool:
    """Whether the style (or a style it is based on, Normal left out with `skip_normal`) names a
    face for `attribute` explicitly."""
    for item in _chain(style):
        if skip_normal and _is_normal(item):
            return False
        rpr = item.element.rPr
        fonts = None if rpr is None else rpr.rFonts
        if fonts is not None and fonts.get(qn(attribute)):
            return True
    return False


def _default_face(document, attribute: str) -> bool:
    """Whether the document defaults (w:docDefaults) name a face explicitly."""
    styles = document.styles.element
    found = styles.xpath(f"w:docDefaults/w:rPrDefault/w:rPr/w:rFonts/@{attribute}")
    return bool(found)


def _numbered(style) -> bool:
    """Whether the style (or one it is based on) numbers its paragraphs automatically."""
    for item in _chain(style):
        ppr = item.element.pPr
        num = None if ppr is None else ppr.numPr
        if num is not None:
            num_id = num.numId
            return num_id is None or num_id.val != 0
    return False


def _no_numbering(paragraph) -> None:
    num = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    num.get_or_add_ilvl().val = 0
    num.get_or_add_numId().val = 0


def _first_line_chars(paragraph, size_pt: float) -> None:
    """A first-line indent of two characters (w:firstLineChars for Word/WPS, the length for others)."""
    paragraph.paragraph_format.first_line_indent = Pt(2 * size_pt)
    ind = paragraph._p.get_or_add_pPr().get_or_add_ind()
    ind.set(qn("w:firstLineChars"), "200")


# ---------------------------------------------------------------- styles and fonts


class _Styles:
    """The styles the report uses: created where missing, fonts set where the template leaves them."""

    def __init__(self, document, house: bool):
        self.document = document
        self.house = house
        self.faces: set[str] = set()
        self.names: dict[str, str] = {}  # perfeval's name → the template's
        for name, (look, base, builtin) in HOUSE.items():
            self._prepare(name, look, base, builtin)
        self._grid()
        self.numbered = {name: _numbered(self.document.styles[self.name(name)])
                         for name in ("Title", TOC_HEADING_STYLE,
                                      *(f"Heading {n}" for n in range(1, HEADING_LEVELS + 1)))}

    def name(self, name: str) -> str:
        """The style's name in this document (a template may use Word's Chinese name)."""
        return self.names.get(name, name)

    def _prepare(self, name: str, look: Look, base: str | None, builtin: str | None) -> None:
        styles = self.document.styles
        found = next((n for n in (name, *ALIASES.get(name, ())) if n in styles), None)
        if found is not None:
            self.names[name] = found
            style = styles[found]
            if self.house:
                self._apply(style, look)
            else:
                self._fill_fonts(style, look, normal=name == "Normal")
            return
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        if builtin is not None:  # a Word built-in style: its own id, not marked custom
            style.element.set(qn("w:styleId"), builtin)
            style.element.attrib.pop(qn("w:customStyle"), None)
        if base is not None and self.name(base) in styles:
            style.base_style = styles[self.name(base)]
        if name != "Normal":  # Normal comes first in HOUSE, so it exists by now
            style.next_paragraph_style = styles[self.name("Normal")]
        self._apply(style, look)

    def _apply(self, style, look: Look) -> None:
        """The convention's formatting, in full (perfeval's own layout, or a style the template lacks)."""
        set_fonts(style, look.face, look.size, bold=look.bold, color=BLACK if style.name != "Normal" else None)
        self.faces.add(look.face)
        style.font.italic = False if style.name != "Normal" else None
        fmt = style.paragraph_format
        if style.name == "Normal":
            fmt.line_spacing = 1.5
            return
        ppr = style.element.get_or_add_pPr()
        for border in ppr.findall(qn("w:pBdr")):  # python-docx's Title has a blue rule
            ppr.remove(border)
        fmt.space_before, fmt.space_after = Pt(look.before), Pt(look.after)
        if look.outline is not None:
            ppr.get_or_add_outlineLvl().val = look.outline
            fmt.keep_with_next = True
        if look.centered:
            fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if style.name in (TABLE_STYLE, "Title", CAPTION_STYLE) or style.name.startswith("toc"):
            fmt.line_spacing = 1.0 if style.name == TABLE_STYLE else 1.25
            fmt.first_line_indent = Pt(0)
        if style.name == "toc 2":
            fmt.left_indent = Pt(24)

    def _fill_fonts(self, style, look: Look, normal: bool) -> None:
        """Only the faces the template leaves unset (the template's sizes and colours stay)."""
        east = _explicit(style, "w:eastAsia", skip_normal=not normal) or (
            normal and _default_face(self.document, "w:eastAsia"))
        latin = _explicit(style, "w:ascii", skip_normal=not normal) or (
            normal and _default_face(self.document, "w:ascii"))
        if not east:
            self.faces.add(look.face)
        set_fonts(style, None if east else look.face, latin=None if latin else LATIN_FONT)

    def _grid(self) -> None:
        styles = self.document.styles
        found = next((n for n in (GRID_STYLE, *ALIASES[GRID_STYLE]) if n in styles), None)
        if found is not None:
            self.names[GRID_STYLE] = found
            return
        style = styles.add_style(GRID_STYLE, WD_STYLE_TYPE.TABLE)
        style.element.set(qn("w:styleId"), "TableGrid")
        style.element.attrib.pop(qn("w:customStyle"), None)
        tbl_pr = OxmlElement("w:tblPr")
        borders = OxmlElement("w:tblBorders")
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
            line = OxmlElement(f"w:{edge}")
            for key, value in (("val", "single"), ("sz", "4"), ("space", "0"), ("color", "auto")):
                line.set(qn(f"w:{key}"), value)
            borders.append(line)
        tbl_pr.append(borders)
        style.element.append(tbl_pr)

    def font_table(self) -> None:
        """A substitute for each convention face the document uses (w:altName in the font table)."""
        try:
            part = self.document.part.part_related_by(RT.FONT_TABLE)
        except KeyError:
            return
        root = etree.fromstring(part.blob)
        known = {font.get(qn("w:name")): font for font in root.findall(qn("w:font"))}
        for face in sorted(self.faces):
            alt = SUBSTITUTES.get(face)
            if alt is None:
                continue
            font = known.get(face)
            if font is None:
                font = etree.SubElement(root, qn("w:font"))
                font.set(qn("w:name"), face)
                for tag, value in (("altName", alt), ("charset", "86"),
                                   ("family", "modern" if face in (HEADING_FONT,) else "roman"),
                                   ("pitch", "variable")):
                    etree.SubElement(font, qn(f"w:{tag}")).set(qn("w:val"), value)
            elif font.find(qn("w:altName")) is None:
                alt_name = etree.Element(qn("w:altName"))
                alt_name.set(qn("w:val"), alt)
                font.insert(0, alt_name)
        part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


# ---------------------------------------------------------------- the writer


class _Writer:
    def __init__(self, document, doc: ReportDoc, images: Mapping[str, bytes], styles: _Styles):
        self.document = document
        self.doc = doc
        self.images = images
        self.styles = styles
        section = document.sections[-1]
        self.width = Emu(section.page_width - section.left_margin - section.right_margin)
        normal = document.styles[styles.name("Normal")].font.size
        self.body_pt = _pt_of(normal) or _default_size(document)
        self.break_next = False
        self.cover = False  # the template's body is kept as the cover
        self.own_contents = True  # False: the template has a table of contents of its own

    # -- paragraphs

    def paragraph(self, text: str = "", style: str | None = None):
        paragraph = self.document.add_paragraph(text)
        if style is not None:  # what `add_paragraph(text, style)` sets, with the style id looked up once
            paragraph._p.style = _paragraph_style_id(paragraph.part, self.styles.name(style))
        if self.break_next:
            paragraph.paragraph_format.page_break_before = True
            self.break_next = False
        return paragraph

    def heading(self, text: str, level: int, new_page: bool = False):
        level = max(1, min(level, HEADING_LEVELS))
        name = f"Heading {level}"
        paragraph = self.paragraph(text, name)
        paragraph.paragraph_format.keep_with_next = True  # whatever the template's style says
        if new_page:
            paragraph.paragraph_format.page_break_before = True
        if self.styles.numbered[name]:
            _no_numbering(paragraph)
        return paragraph

    def body(self, block: Paragraph) -> None:
        paragraph = self.paragraph()
        for i, line in enumerate(block.text.split("\n")):
            run = paragraph.add_run(line)
            if i:
                run.add_break()
        if block.style not in ("note", "lead"):  # body, missing and any other prose
            _first_line_chars(paragraph, self.body_pt)
        if block.style in ("note", "missing"):
            for run in paragraph.runs:
                run.font.size = Pt(10.5)
        if block.style == "lead":  # a run-in label such as （1）项目产出目标: kept with what follows
            paragraph.paragraph_format.keep_with_next = True
            for run in paragraph.runs:
                run.bold = True
        _draft_look(paragraph, block.style)

    # -- table of contents

    def contents(self, doc: ReportDoc) -> None:
        title = self.paragraph("目　录", TOC_HEADING_STYLE)
        if self.styles.numbered[TOC_HEADING_STYLE]:
            _no_numbering(title)
        first = self.paragraph()
        _fld_char(first.add_run(), "begin", dirty=True)
        instruction = first.add_run()
        instr = OxmlElement("w:instrText")
        instr.set(qn("xml:space"), "preserve")
        instr.text = f' TOC \\o "1-{TOC_LEVELS}" \\h \\z \\u '
        instruction._r.append(instr)
        _fld_char(first.add_run(), "separate")
        first.add_run(TOC_NOTE).font.size = Pt(10.5)
        last = first
        for text, level in toc_entries(doc):
            last = self.paragraph(text, f"toc {level}")
        _fld_char(last.add_run(), "end")
        self.break_next = True

    # -- tables and figures

    def table(self, table: Table) -> None:
        if table.caption:
            self.paragraph(table.caption, CAPTION_STYLE).paragraph_format.keep_with_next = True
        header = table.style != "kv"
        n_rows = len(table.rows) + (1 if header else 0)
        word = self.document.add_table(rows=n_rows, cols=len(table.columns))
        word._tbl.tblStyle_val = _style_id(word.part, self.styles.name(GRID_STYLE), WD_STYLE_TYPE.TABLE)
        word.alignment = WD_TABLE_ALIGNMENT.CENTER
        _cell_margins(word, CELL_MARGIN_TWIPS)
        numeric = table.numeric or (False,) * len(table.columns)
        rows = word.rows
        if header:
            _row_flags(rows[0], header=True)
            for cell, name in zip(rows[0].cells, table.columns, strict=True):
                _cell_text(cell, name, False, True, self.styles.name(TABLE_STYLE))
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        offset = 1 if header else 0
        fractions = table.fractions()
        if fractions:
            word.autofit = False
            widths = [int(self.width * fraction) for fraction in fractions]
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
                    _cell_text(cell, value, numeric[j], strong or (table.style == "kv" and j == 0),
                               self.styles.name(TABLE_STYLE))
        for i in range(len(table.rows)):
            for j in range(len(table.columns)):
                span, colspan = spans[i][j], colspans[i][j]
                if span > 1 or colspan > 1:
                    # the cells of one row each (`Table.cell` lays out the whole table for every call)
                    rows[i + offset].cells[j].merge(
                        rows[i + offset + max(span, 1) - 1].cells[j + max(colspan, 1) - 1])
        self.paragraph()

    def figure(self, block: Figure) -> None:
        png = self.images[block.chart]
        width = min(int(Inches(png_size(png)[0] / CHART_DPI)), int(self.width))
        picture = self.paragraph()
        picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
        picture.paragraph_format.keep_with_next = True  # the caption stays with its chart
        picture.paragraph_format.first_line_indent = Pt(0)
        picture.add_run().add_picture(io.BytesIO(png), width=width)
        self.paragraph(block.caption, CAPTION_STYLE)

    # -- the report

    def _title(self) -> None:
        """The title, the facts and the 封面 part (the result summary)."""
        self.paragraph(self.doc.title, "Title")
        self.table(Table("facts", "", ("项目", "内容"), self.doc.facts, style="kv"))
        for part in self.doc.parts:
            if part.key == COVER_PART:
                self.blocks(part)

    def blocks(self, part) -> None:
        for block in part.blocks:
            if isinstance(block, Heading):
                self.heading(block.text, block.level, new_page=part.key in NEW_PAGE_PARTS and block.level == 1)
            elif isinstance(block, Paragraph):
                self.body(block)
            elif isinstance(block, Table):
                self.table(block)
            elif isinstance(block, Figure) and block.chart in self.images:
                self.figure(block)

    def report(self) -> None:
        doc = self.doc
        if not self.cover:  # perfeval's own title page, then the contents
            self._title()
            self.break_next = True
        if self.own_contents:
            self.contents(doc)
        if self.cover:  # the template's cover, the contents, then the title above the text
            self._title()
        for part in doc.parts:
            if part.key != COVER_PART:
                self.blocks(part)
        self.heading("生成信息", 1)
        for key, value in doc.provenance.lines():
            self.paragraph(f"{key}：{value}").runs[0].font.size = Pt(9)


def toc_entries(doc: ReportDoc) -> list[tuple[str, int]]:
    """(heading text, level) of the headings the table of contents lists, in order."""
    entries = [(b.text, b.level) for b in doc.blocks() if isinstance(b, Heading) and b.level <= TOC_LEVELS]
    return [*entries, ("生成信息", 1)]


def _default_size(document) -> float:
    sizes = document.styles.element.xpath("w:docDefaults/w:rPrDefault/w:rPr/w:sz/@w:val")
    return int(sizes[0]) / 2 if sizes else 10.5  # Word's own default: 五号


def _cell_margins(table, twips: int) -> None:
    """Narrow left/right cell margins (Word's default 0.19 cm wraps a two-digit score in a
    narrow column)."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:w"), str(twips))
        edge.set(qn("w:type"), "dxa")
        margins.append(edge)
    tbl_pr = table._tbl.tblPr
    for old in tbl_pr.findall(qn("w:tblCellMar")):
        tbl_pr.remove(old)
    tbl_pr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")


def _row_flags(row, header: bool) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    cant_split = OxmlElement("w:cantSplit")
    tr_pr.append(cant_split)
    if header:
        flag = OxmlElement("w:tblHeader")
        flag.set(qn("w:val"), "true")
        tr_pr.append(flag)


def _style_id(part, name: str, kind: WD_STYLE_TYPE) -> str | None:
    """The style id for a style name (None for the default style of its kind), looked up once per document:
    python-docx searches the whole styles part twice on every `paragraph.style = name` (or a table's), which
    dominated the Word export (≈ 40 % of it)."""
    cache = part.__dict__.setdefault("_perfeval_style_ids", {})
    if (name, kind) not in cache:
        cache[name, kind] = part.get_style_id(name, kind)
    return cache[name, kind]


def _paragraph_style_id(part, name: str) -> str | None:
    """`_style_id` of a paragraph style."""
    return _style_id(part, name, WD_STYLE_TYPE.PARAGRAPH)


_P = qn("w:p")


def _cell_text(cell, text: str, numeric: bool, bold: bool, style: str = TABLE_STYLE) -> None:
    """The cell's text in its (empty) first paragraph, one run per line with a line break between. The same
    elements python-docx's `paragraph.style`, `add_run`, `run.bold` and `add_break` make, built directly: those
    calls searched each element's children for its place again and again (half of the Word export's time went
    to the tables' cells)."""
    paragraph = cell._tc.find(_P)
    style_id = _paragraph_style_id(cell.part, style)  # what `paragraph.style = style` sets
    properties = paragraph.get_or_add_pPr()
    if style_id is not None:
        properties.style = style_id
    if numeric:
        properties.jc_val = WD_ALIGN_PARAGRAPH.RIGHT
    lines = text.split("\n")
    for i, line in enumerate(lines):
        run = OxmlElement("w:r")
        run_properties = OxmlElement("w:rPr")  # `run.bold = None` leaves an empty w:rPr too
        if bold:
            run_properties.append(OxmlElement("w:b"))
        run.append(run_properties)
        if line:
            _RunContentAppender.append_to_run_from_text(run, line)  # w:t, w:tab and w:br as `run.text` makes them
        if i < len(lines) - 1:
            run.append(OxmlElement("w:br"))
        paragraph.append(run)


# ---------------------------------------------------------------- page, cover, footer, settings


def _page(document) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(25), Mm(22)
    section.left_margin, section.right_margin = Mm(25), Mm(22)


def _footer(document, doc: ReportDoc) -> None:
    prov = doc.provenance
    paragraph = document.sections[-1].footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(f"输入 SHA-256 {prov.sha256[:16]}… · perfeval {prov.version} · 第 ")
    run.font.size = Pt(8)
    add_field(paragraph, "PAGE")
    paragraph.add_run(" 页").font.size = Pt(8)


def _has_footer(document) -> bool:
    """Whether the template gives the report's pages a footer (text, a field or a picture): the
    last section's own footer, or the one it inherits from an earlier section."""
    kinds = ["footer"]
    if document.settings.odd_and_even_pages_header_footer:
        kinds.append("even_page_footer")
    for kind in kinds:
        for section in reversed(document.sections):
            footer = getattr(section, kind)
            if footer.is_linked_to_previous:
                continue
            element = footer._element
            marks = _xp(element, ".//w:fldSimple|.//w:instrText|.//w:drawing|.//w:pict")
            if "".join(element.itertext()).strip() or marks:
                return True
            break
    return False


_CONTENT = re.compile(r"\S")


def _cover_ends_page(document) -> tuple[bool, bool]:
    """(whether the template's body has content, whether that content already ends its page:
    a page break or a section break as its last element)."""
    body = document.element.body
    children = [c for c in body if c.tag != qn("w:sectPr")]
    has = any(_CONTENT.search("".join(c.itertext())) or _xp(c, ".//w:drawing|.//w:pict")
              for c in children)
    if not has:
        return False, False
    last = children[-1]
    if last.tag != qn("w:p"):
        return True, False
    ends = bool(_xp(last, "./w:pPr/w:sectPr")) or bool(
        _xp(last, "./w:r[last()]/w:br[@w:type='page']"))
    return True, ends


def _empty_body(document) -> None:
    """Drop empty paragraphs a blank template leaves (keeping the section properties)."""
    body = document.element.body
    for child in list(body):
        keep = "./w:pPr/w:sectPr|.//w:drawing|.//w:pict|.//w:br"
        if child.tag == qn("w:p") and not "".join(child.itertext()).strip() and not _xp(child, keep):
            body.remove(child)


def _mark_template_toc(document) -> bool:
    """Mark the template's own table of contents (if any) for updating when Word opens the
    document, so it lists this report's headings; True if there is one."""
    found, begin = False, None
    for element in document.element.body.iter(qn("w:fldChar"), qn("w:instrText")):
        if element.tag == qn("w:fldChar"):
            if element.get(qn("w:fldCharType")) == "begin":
                begin = element
        elif begin is not None and (element.text or "").strip().upper().startswith("TOC"):
            begin.set(qn("w:dirty"), "true")
            found, begin = True, None
    for field in document.element.body.iter(qn("w:fldSimple")):
        if (field.get(qn("w:instr")) or "").strip().upper().startswith("TOC"):
            field.set(qn("w:dirty"), "true")
            found = True
    return found


#: w:settings children that come after w:updateFields (schema order)
_AFTER_UPDATE_FIELDS = ("hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids",
                        "mathPr", "attachedSchema", "themeFontLang", "clrSchemeMapping",
                        "doNotIncludeSubdocsInStats", "doNotAutoCompressPictures", "forceUpgrade",
                        "captions", "readModeInkLockDown", "smartTagType", "schemaLibrary",
                        "shapeDefaults", "doNotEmbedSmartTags", "decimalSymbol", "listSeparator")


def _update_fields_on_open(document) -> None:
    settings = document.settings.element
    flag = settings.find(qn("w:updateFields"))
    if flag is None:
        flag = OxmlElement("w:updateFields")
        settings.insert_element_before(flag, *(f"w:{tag}" for tag in _AFTER_UPDATE_FIELDS))
    flag.set(qn("w:val"), "true")


def render_docx(doc: ReportDoc, images: Mapping[str, bytes], template: bytes | None = None,
                template_name: str = "模板") -> bytes:
    """The report as .docx bytes, on perfeval's layout or on `template` (bytes of a .docx checked
    by `docx_template.read_template`; `template_name` names it in errors)."""
    from perfeval.report import docx_template as tpl

    if template is None:
        document = Document()
        _page(document)
        cover, ends = False, False
    else:
        document = tpl.open_template(template, template_name)
        values = tpl.placeholder_values(doc.title, doc.facts, doc.provenance.generated_at)
        tpl.fill_placeholders(document, values, template_name)
        cover, ends = _cover_ends_page(document)
        if not cover:
            _empty_body(document)
    styles = _Styles(document, house=template is None)
    props = document.core_properties
    props.title = doc.title
    props.author = props.author if template is not None and props.author else "perfeval"
    props.comments = doc.provenance.text()
    writer = _Writer(document, doc, images, styles)
    writer.cover, writer.break_next = cover, cover and not ends
    writer.own_contents = not (template is not None and _mark_template_toc(document))
    writer.report()
    if template is None or not _has_footer(document):
        _footer(document, doc)
    styles.font_table()
    _update_fields_on_open(document)
    out = io.BytesIO()
    document.save(out)
    return _dated(out.getvalue(), doc.provenance.generated_at)


def _dated(data: bytes, generated_at: str) -> bytes:
    """The .docx package with every part dated `generated_at` (the report's time: SOURCE_DATE_EPOCH when set)
    instead of the clock python-docx dates them with, so one report is one sequence of bytes. The parts, their
    order and their compression are kept."""
    try:
        moment = datetime.fromisoformat(generated_at)
        when = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    except ValueError:  # a time given in another form: a fixed date, still reproducible
        when = _ZIP_EPOCH
    when = max(when, _ZIP_EPOCH)  # the zip format starts in 1980
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            part = zipfile.ZipInfo(info.filename, date_time=when)
            part.compress_type, part.external_attr = info.compress_type, info.external_attr
            target.writestr(part, source.read(info))
    return out.getvalue()


_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


# ---------------------------------------------------------------- outline numbering

_NUMERAL = "〇一二三四五六七八九十"
#: level-1 headings outside the numbered outline
UNNUMBERED = ("附表", "附录", "附件", "生成信息")


def cn_ordinal(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十 (outline numbers up to 99)."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _NUMERAL[tens] + "十")
    return head + (_NUMERAL[ones] if ones else "") if n else _NUMERAL[0]


def outline_prefix(level: int, n: int) -> str:
    """The 公文 number of the n-th heading at a level: 一、 （一） 1. （1）."""
    return {1: f"{cn_ordinal(n)}、", 2: f"（{cn_ordinal(n)}）", 3: f"{n}.", 4: f"（{n}）"}[level]


def numbering_problems(headings: Iterable[tuple[int, str]]) -> list[str]:
    """Where (level, text) headings break the 一、（一）1.（1） sequence: a missing or wrong number
    (each level counts from 1 again under a new parent). Level-1 appendices (附表, 附录 …) and the
    headings inside them are outside the sequence and restart the counts below them."""
    problems: list[str] = []
    counts = [0] * (HEADING_LEVELS + 1)
    appendix = False
    for level, text in headings:
        level = max(1, min(level, HEADING_LEVELS))
        for deeper in range(level + 1, HEADING_LEVELS + 1):
            counts[deeper] = 0
        if level == 1:
            appendix = text.startswith(UNNUMBERED)
        if appendix:  # an appendix and the sub-headings inside it are outside the sequence
            continue
        counts[level] += 1
        expected = outline_prefix(level, counts[level])
        if not text.startswith(expected):
            problems.append(f"「{text}」应以「{expected}」开头")
    return problems


def _draft_look(paragraph, style: str) -> None:
    """Drafts composed from the data (document.DRAFT_MARK above them): the mark bold dark orange,
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
