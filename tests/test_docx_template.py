"""The Word export on a firm's template (`--docx-template`) and on perfeval's own 公文 layout:
template styles, headers, footers and cover kept, placeholders filled, 一、（一）1. headings in
heading styles, a table of contents field, East Asian fonts, located errors for bad templates."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

import perfeval
from perfeval.batch import run_batch
from perfeval.cli import main as cli_main
from perfeval.errors import PerfevalError
from perfeval.report import compose as n
from perfeval.report import docx_template as tpl
from perfeval.report.docx import add_field, numbering_problems, render_docx
from tests.standin import write_formats

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"
SELF_EVAL = ROOT / "tests" / "data" / "selfeval"
GENERATED = "2024-05-06 07:08:09+08:00"
HEADER_TEXT = "测试评价事务所　绩效评价报告"
FOOTER_TEXT = "地址：某市某路 1 号　电话：0000-1234567"
COVER_TEXT = "测试评价事务所 · 受托评价"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def fake_report(workbook, out_dir, formats=("html",), scheme=None, project_id=None,
                extra_parameters=None, timeout=None, kernel_name=None) -> dict[str, Path]:
    """A stand-in for build_report that writes the parameters it was given."""
    project = perfeval.load_project(workbook, scheme, project_id)
    return write_formats(out_dir, project.id, formats, repr(extra_parameters).encode())


FAKE = fake_report  # the batch calls it in its job processes instead of build_report


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def doc():
    ev = perfeval.evaluate(perfeval.load_project(REFERENCE))
    return n.compose(ev, GENERATED)


def firm_template(tmp: Path, *, cover: bool = True, numbered_heading: bool = False, name: str = "firm.docx") -> Path:
    """A template as a firm makes it: header, footer with a page number, its own Heading 1 font
    and colour, and a cover paragraph with a placeholder."""
    document = Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = HEADER_TEXT
    footer = section.footer.paragraphs[0]
    footer.add_run(FOOTER_TEXT + "　第 ")
    add_field(footer, "PAGE")
    footer.add_run(" 页")
    heading = document.styles["Heading 1"]
    heading.font.size = Pt(18)
    heading.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    fonts = heading.element.get_or_add_rPr().get_or_add_rFonts()
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme"):
        fonts.attrib.pop(qn(theme), None)
    fonts.set(qn("w:eastAsia"), "华文中宋")
    if numbered_heading:  # the template numbers Heading 1 itself (a list in the style)
        num = heading.element.get_or_add_pPr().get_or_add_numPr()
        num.get_or_add_ilvl().val = 0
        num.get_or_add_numId().val = int(document.part.numbering_part.element.num_lst[0].numId)
    if cover:
        document.add_paragraph(COVER_TEXT)
        split = document.add_paragraph()
        split.add_run("项目：{{项目")  # Word splits text into runs where it likes
        split.add_run("名称}}").bold = True
        split.add_run("（{{评价年度}}）")
        document.add_paragraph("报告日期：{{ 报告日期 }}")
    path = tmp / name
    document.save(path)
    return path


def render(doc, template: Path | None = None, images=None) -> Document:
    data = None if template is None else tpl.read_template(template)
    return Document(io.BytesIO(render_docx(doc, images or {}, data, str(template or ""))))


def east_asia(style) -> str | None:
    fonts = style.element.rPr.rFonts if style.element.rPr is not None else None
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def headings(word) -> list[tuple[int, str]]:
    return [(int(p.style.name.split()[-1]), p.text) for p in word.paragraphs
            if p.style.name.startswith("Heading ")]


def toc_instructions(word) -> list[str]:
    return [t.text for t in word.element.body.iter(qn("w:instrText")) if "TOC" in (t.text or "")]


# ---------------------------------------------------------------- with a template


@pytest.fixture(scope="module")
def firm(doc, tmp_path_factory):
    return render(doc, firm_template(tmp_path_factory.mktemp("firm")))


def test_template_header_footer_and_cover_survive(firm, doc):
    section = firm.sections[-1]
    assert HEADER_TEXT in section.header.paragraphs[0].text
    footer = section.footer._element
    assert FOOTER_TEXT in "".join(footer.itertext())
    assert footer.xpath(".//w:fldSimple[@w:instr='PAGE']")
    assert "SHA-256" not in "".join(footer.itertext())  # the firm's footer, not perfeval's
    texts = [p.text for p in firm.paragraphs]
    assert texts[:3] == [COVER_TEXT, "项目：工会社会化聘用人员社保缴费（2022年度）", "报告日期：2024年5月6日"]
    split = firm.paragraphs[1]
    assert [r.text for r in split.runs][:2] == ["项目：工会社会化聘用人员社保缴费", ""]  # first run's format kept
    assert "{{" not in "\n".join(texts)
    # the report starts on a new page after the cover: contents, then the title
    contents = next(p for p in firm.paragraphs if p.style.name == "TOC Heading")
    assert contents.paragraph_format.page_break_before
    title = next(p for p in firm.paragraphs if p.style.name == "Title")
    assert title.text == doc.title and title.paragraph_format.page_break_before
    first = next(p for p in firm.paragraphs if p.style.name == "Heading 1")
    body = firm.element.body
    assert body.index(contents._p) < body.index(title._p) < body.index(first._p)


def test_template_styles_used_for_headings(firm):
    style = firm.styles["Heading 1"]
    assert east_asia(style) == "华文中宋"  # the template's font, not the convention's 黑体
    assert style.font.size == Pt(18) and style.font.color.rgb == RGBColor(0xC0, 0x00, 0x00)
    level_one = [p for p in firm.paragraphs if p.style.name == "Heading 1"]
    assert [p.text for p in level_one][:8] == ["一、基本情况", "二、绩效评价工作开展情况", "三、综合评价情况及评价结论",
                                               "四、绩效评价指标分析", "五、预算执行进度与绩效指标偏差",
                                               "六、主要经验及做法、存在的问题及原因分析", "七、有关建议",
                                               "八、其他需要说明的问题"]
    assert all(not r.font.size and not r.font.name for p in level_one for r in p.runs)  # no direct formatting


def test_headings_carry_gongwen_numbering(firm):
    found = headings(firm)
    levels = {level for level, _ in found}
    assert {1, 2, 3} <= levels
    assert numbering_problems(found) == []
    assert any(text.startswith("（一）") for level, text in found if level == 2)
    assert any(text.startswith("1.") for level, text in found if level == 3)


def test_toc_field_updates_on_open(firm, doc):
    assert toc_instructions(firm) == [' TOC \\o "1-2" \\h \\z \\u ']
    begin = next(c for c in firm.element.body.iter(qn("w:fldChar")) if c.get(qn("w:fldCharType")) == "begin"
                 and c.getparent().getnext() is not None and "TOC" in "".join(c.getparent().getnext().itertext()))
    assert begin.get(qn("w:dirty")) == "true"
    assert firm.settings.element.find(qn("w:updateFields")).get(qn("w:val")) == "true"
    text = "\n".join(p.text for p in firm.paragraphs)
    assert "F9" in text and "更新域" in text  # the document says how the contents get their page numbers
    entries = [p.text for p in firm.paragraphs if p.style.name.startswith("toc ")]
    assert entries[0] == "一、基本情况" and "（一）项目概况" in entries and "1.项目背景" not in entries


def test_template_without_fonts_gets_the_convention(firm):
    styles = firm.styles
    assert east_asia(styles["Normal"]) == "仿宋_GB2312"
    assert east_asia(styles["Heading 2"]) == "楷体_GB2312"
    assert east_asia(styles["Heading 3"]) == "仿宋_GB2312"
    assert east_asia(styles["Title"]) == "方正小标宋简体"
    for name in ("Normal", "Heading 2", "Title"):
        fonts = styles[name].element.rPr.rFonts
        assert fonts.get(qn("w:ascii")) == "Times New Roman" and fonts.get(qn("w:eastAsiaTheme")) is None
    table = firm.part.part_related_by(RT.FONT_TABLE).blob.decode("utf-8")
    assert 'w:name="仿宋_GB2312"' in table and '<w:altName w:val="仿宋,FangSong"/>' in table


def test_template_numbering_never_doubles(doc, tmp_path):
    word = render(doc, firm_template(tmp_path, numbered_heading=True))
    level_one = [p for p in word.paragraphs if p.style.name == "Heading 1"]
    assert level_one and all(p._p.pPr.numPr.numId.val == 0 for p in level_one)
    level_two = [p for p in word.paragraphs if p.style.name == "Heading 2"]
    assert all(p._p.pPr.numPr is None for p in level_two)  # that style numbers nothing: left alone


def test_blank_template_starts_with_the_title(doc, tmp_path):
    word = render(doc, firm_template(tmp_path, cover=False))
    assert word.paragraphs[0].style.name == "Title" and word.paragraphs[0].text == doc.title
    assert not word.paragraphs[0].paragraph_format.page_break_before
    assert HEADER_TEXT in word.sections[-1].header.paragraphs[0].text


def test_cover_ending_in_a_page_break_adds_no_blank_page(doc, tmp_path):
    document = Document()
    document.add_paragraph(COVER_TEXT).add_run().add_break(WD_BREAK.PAGE)
    document.save(tmp_path / "broken.docx")
    word = render(doc, tmp_path / "broken.docx")
    contents = next(p for p in word.paragraphs if p.style.name == "TOC Heading")
    assert not contents.paragraph_format.page_break_before
    assert word.paragraphs[0].text == COVER_TEXT


def test_template_without_the_report_styles(doc, tmp_path):
    """A template saved by Word holds only the styles it used: the others are added, as
    Word's built-in styles (so Word's navigation pane and TOC know them)."""
    path = firm_template(tmp_path)
    document = Document(path)
    root = document.styles.element
    for style in list(root.findall(qn("w:style"))):
        if style.get(qn("w:styleId")) in ("Heading2", "Heading3", "Title", "Caption", "TableGrid", "TOCHeading"):
            root.remove(style)
    document.save(path)
    word = render(doc, path)
    for name, style_id in (("Heading 2", "Heading2"), ("Heading 3", "Heading3"), ("Title", "Title"),
                           ("Caption", "Caption"), ("TOC Heading", "TOCHeading")):
        style = word.styles[name]
        assert style.style_id == style_id and style.element.get(qn("w:customStyle")) is None
    assert word.styles["Heading 3"].element.pPr.outlineLvl.val == 2
    assert east_asia(word.styles["Heading 2"]) == "楷体_GB2312"
    grid = word.styles["Table Grid"]
    assert grid.type == WD_STYLE_TYPE.TABLE and grid.element.xpath(".//w:tblBorders/w:insideH")
    assert all(t.style.name == "Table Grid" for t in word.tables)
    assert numbering_problems(headings(word)) == []


def test_template_with_its_own_contents_page(doc, tmp_path):
    """A cover followed by the firm's own 目录 page: that TOC is kept (and refreshed by Word on
    opening), none is added."""
    document = Document()
    document.add_paragraph(COVER_TEXT).add_run().add_break(WD_BREAK.PAGE)
    document.add_paragraph("目录")
    field = document.add_paragraph()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    field.add_run()._r.append(begin)
    instr = OxmlElement("w:instrText")
    instr.text = 'TOC \\o "1-3" \\h'
    field.add_run()._r.append(instr)
    for kind in ("separate", "end"):
        char = OxmlElement("w:fldChar")
        char.set(qn("w:fldCharType"), kind)
        field.add_run()._r.append(char)
    document.save(tmp_path / "own-toc.docx")
    word = render(doc, tmp_path / "own-toc.docx")
    assert toc_instructions(word) == ['TOC \\o "1-3" \\h']
    assert next(word.element.body.iter(qn("w:fldChar"))).get(qn("w:dirty")) == "true"
    assert not [p for p in word.paragraphs if p.style.name == "TOC Heading"]
    title = next(p for p in word.paragraphs if p.style.name == "Title")
    assert title.paragraph_format.page_break_before  # the report starts after the contents page


def test_template_with_old_report_text_is_refused(tmp_path):
    document = Document()
    document.add_paragraph(COVER_TEXT)
    document.add_paragraph("一、基本情况", style="Heading 1")
    document.save(tmp_path / "old-report.docx")
    with pytest.raises(PerfevalError) as caught:
        tpl.read_template(tmp_path / "old-report.docx")
    message = str(caught.value)
    assert "old-report.docx" in message and "正文第2段「一、基本情况」（Heading 1）" in message and "封面" in message


def test_template_with_chinese_style_names(doc, tmp_path):
    """A template from a Chinese Word or WPS whose styles are called 正文, 标题 1 … (ids "a", "2")."""
    path = firm_template(tmp_path)
    document = Document(path)
    root = document.styles.element
    renamed = {"Normal": ("a", "正文"), "Heading1": ("2", "标题 1"), "Heading2": ("3", "标题 2")}
    ids = {old: new for old, (new, _) in renamed.items()}
    for style in root.findall(qn("w:style")):
        old_id = style.get(qn("w:styleId"))
        if old_id in renamed:
            style.set(qn("w:styleId"), renamed[old_id][0])
            style.find(qn("w:name")).set(qn("w:val"), renamed[old_id][1])
        for ref in ("w:basedOn", "w:next"):
            link = style.find(qn(ref))
            if link is not None and link.get(qn("w:val")) in ids:
                link.set(qn("w:val"), ids[link.get(qn("w:val"))])
    document.save(path)
    word = render(doc, path)
    names = [s.name for s in word.styles]
    assert "Heading 1" not in names and "Normal" not in names  # none added beside the template's
    level_one = [p for p in word.paragraphs if p.style.name == "标题 1"]
    assert level_one[0].text == "一、基本情况" and len(level_one) >= 8
    assert east_asia(word.styles["标题 1"]) == "华文中宋"
    assert east_asia(word.styles["标题 2"]) == "楷体_GB2312" and east_asia(word.styles["正文"]) == "仿宋_GB2312"
    body = next(p for p in word.paragraphs if p.text.startswith("本项目遵循"))
    assert body.style.name == "正文"


def test_dotx_template_is_accepted(doc, tmp_path):
    path = firm_template(tmp_path)
    data = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(data, "w") as target:
        for item in source.infolist():
            blob = source.read(item.filename)
            if item.filename == "[Content_Types].xml":
                blob = blob.replace(b"document.main+xml", b"template.main+xml")
            target.writestr(item, blob)
    dotx = tmp_path / "firm.dotx"
    dotx.write_bytes(data.getvalue())
    word = render(doc, dotx)
    assert word.paragraphs[0].text == COVER_TEXT


def test_unknown_placeholder_is_named(doc, tmp_path):
    document = Document()
    document.add_paragraph("委托方：{{委托单位名称}}")
    document.save(tmp_path / "typo.docx")
    with pytest.raises(PerfevalError) as caught:  # when the template is read, before any work
        tpl.read_template(tmp_path / "typo.docx")
    message = str(caught.value)
    assert "typo.docx" in message and "正文第1段" in message and "{{委托单位名称}}" in message
    assert "{{项目名称}}" in message  # what can be used
    data = (tmp_path / "typo.docx").read_bytes()
    with pytest.raises(PerfevalError, match="委托单位名称"):  # and when the report is rendered
        render_docx(doc, {}, data, "typo.docx")


def test_bad_templates_raise_located_errors(tmp_path):
    (tmp_path / "folder.docx").mkdir()
    (tmp_path / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0 binary word")
    (tmp_path / "junk.docx").write_text("not a zip", encoding="utf-8")
    (tmp_path / "macro.docm").write_bytes(b"PK")
    with zipfile.ZipFile(tmp_path / "sheet.docx", "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    unclosed = Document()
    unclosed.add_paragraph("项目：{{项目名称")
    unclosed.save(tmp_path / "unclosed.docx")
    cases = {"missing.docx": "不存在", "folder.docx": "是文件夹", "old.doc": "另存为", "junk.docx": "不是有效的 .docx",
             "macro.docm": "含宏", "sheet.docx": "不是 Word 文档", "unclosed.docx": "正文第1段「项目：{{项目名称」"}
    for name, words in cases.items():
        with pytest.raises(PerfevalError) as caught:
            tpl.read_template(tmp_path / name)
        assert name in str(caught.value) and words in str(caught.value), str(caught.value)


def test_cli_bad_template_exits_2_before_writing(tmp_path, capsys):
    out = tmp_path / "out"
    missing = tmp_path / "firm.docx"
    assert cli_main(["report", str(REFERENCE), "--out", str(out), "--docx-template", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "Word 模板" in err and "firm.docx" in err and "不存在" in err and "Traceback" not in err
    assert not out.exists()
    assert cli_main(["batch", str(REFERENCE), "--out", str(out), "--docx-template", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "Word 模板" in err and "Traceback" not in err
    assert not out.exists()


def test_batch_passes_the_template_and_rebuilds_when_it_changes(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / REFERENCE.name).write_bytes(REFERENCE.read_bytes())
    template = firm_template(tmp_path)
    out = tmp_path / "out"
    kwargs = {"formats": ("html", "docx"), "report_fn": FAKE, "workers": 1}
    first = run_batch([inputs], out, docx_template=template, **kwargs)
    assert [s.status for s in first.statuses] == ["已生成"]
    written = next(out.rglob("*.docx")).read_text("utf-8")
    assert f"'docx_template': '{template.resolve()}'" in written
    again = run_batch([inputs], out, docx_template=template, **kwargs)
    assert [s.status for s in again.statuses] == ["已是最新"]
    document = Document(template)
    document.add_paragraph("新的封面文字")
    document.save(template)
    changed = run_batch([inputs], out, docx_template=template, **kwargs)
    assert [s.status for s in changed.statuses] == ["已生成"]
    without = run_batch([inputs], out, **kwargs)  # no template: rebuilt, and nothing passed
    assert [s.status for s in without.statuses] == ["已生成"]
    assert "docx_template" not in next(out.rglob("*.docx")).read_text("utf-8")


# ---------------------------------------------------------------- perfeval's own layout


@pytest.fixture(scope="module")
def house(doc):
    return render(doc)


def test_default_output_has_numbered_headings_toc_and_fonts(house, doc):
    assert house.paragraphs[0].text == doc.title and house.paragraphs[0].style.name == "Title"
    assert numbering_problems(headings(house)) == []
    assert headings(house)[0] == (1, "一、基本情况")
    assert len(toc_instructions(house)) == 1
    expected = {"Title": "方正小标宋简体", "Heading 1": "黑体", "Heading 2": "楷体_GB2312",
                "Heading 3": "仿宋_GB2312", "Normal": "仿宋_GB2312", "Caption": "黑体"}
    for name, face in expected.items():
        style = house.styles[name]
        assert east_asia(style) == face, name
        assert style.element.rPr.rFonts.get(qn("w:ascii")) == "Times New Roman"
    assert house.styles["Heading 1"].font.color.rgb == RGBColor(0, 0, 0)
    table = house.part.part_related_by(RT.FONT_TABLE).blob.decode("utf-8")
    for face, alt in (("仿宋_GB2312", "仿宋,FangSong"), ("楷体_GB2312", "楷体,KaiTi"),
                      ("方正小标宋简体", "华文中宋,宋体")):
        assert f'<w:font w:name="{face}"><w:altName w:val="{alt}"/>' in table
    assert "SHA-256" in house.sections[0].footer.paragraphs[0].text
    body = next(p for p in house.paragraphs if p.text.startswith("本项目遵循"))
    assert body._p.pPr.ind.get(qn("w:firstLineChars")) == "200"


def test_default_output_pages(house):
    """Title page (title, facts, result summary), then the contents, then 一、."""
    texts = [p.text for p in house.paragraphs]
    contents = next(p for p in house.paragraphs if p.style.name == "TOC Heading")
    first = next(p for p in house.paragraphs if p.style.name == "Heading 1")
    assert first.text == "一、基本情况"
    assert contents.paragraph_format.page_break_before and first.paragraph_format.page_break_before
    summary = next(t for t in house.tables if t.rows[0].cells[0].text == "总得分")
    assert summary._tbl.getparent().index(summary._tbl) < contents._p.getparent().index(contents._p)
    assert texts.index("评价结果摘要") < texts.index(contents.text)


def test_numbering_problems_finds_breaks():
    assert numbering_problems([(1, "一、甲"), (2, "（一）乙"), (3, "1.丙"), (3, "2.丁"), (2, "（二）戊"),
                               (3, "1.己"), (1, "二、庚"), (1, "附表　评分表"), (2, "附表计分明细")]) == []
    assert numbering_problems([(1, "一、甲"), (1, "三、乙"), (2, "（二）丙"), (3, "甲项")]) == [
        "「三、乙」应以「二、」开头", "「（二）丙」应以「（一）」开头", "「甲项」应以「1.」开头"]


def test_self_evaluation_report_is_numbered():
    ev = perfeval.evaluate(perfeval.load_project(SELF_EVAL / "standard.xlsx"))
    word = render(n.compose(ev, GENERATED))
    assert numbering_problems(headings(word)) == []
    assert next(p.text for p in word.paragraphs if p.style.name == "Heading 1").startswith("一、")


# ---------------------------------------------------------------- the shipped example


def test_shipped_example_is_what_the_generator_makes(doc):
    shipped = tpl.example_path()
    assert shipped.is_file()
    fresh = zipfile.ZipFile(io.BytesIO(tpl.example_template()))
    with zipfile.ZipFile(shipped) as archive:
        for name in ("word/document.xml", "word/styles.xml", "word/header1.xml", "word/footer1.xml"):
            if name in archive.namelist():
                assert archive.read(name) == fresh.read(name), name
    word = Document(io.BytesIO(render_docx(doc, {}, tpl.read_template(shipped), shipped.name)))
    text = "\n".join(p.text for p in word.paragraphs)
    assert doc.title in text.split("\n")[:8] and "2024年5月6日" in text
    headers = "".join(word.sections[-1].header._element.itertext())
    assert tpl.EXAMPLE_FIRM in headers and "工会社会化聘用人员社保缴费项目支出绩效评价报告" in headers


def test_report_build_reads_the_template_first(tmp_path):
    """build_report checks the template before the sheet or the kernel."""
    from perfeval.report.build import build_report

    with pytest.raises(PerfevalError, match="不存在"):
        build_report(tmp_path / "missing.xlsx", tmp_path / "out", ("docx",), docx_template=tmp_path / "x.docx")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_cli_report_on_the_example_template(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli_main(["report", str(REFERENCE), "--format", "docx", "--out", str(out),
                     "--docx-template", str(tpl.example_path())]) == 0
    word = Document(str(out / "2022" / "AKT2022-001" / "AKT2022-001.docx"))  # OUT/<年度>/<编号>/, as the batch
    assert word.paragraphs[2].text == tpl.EXAMPLE_FIRM
    assert tpl.EXAMPLE_FIRM in "".join(word.sections[-1].header._element.itertext())
    assert len(word.inline_shapes) == 3
    assert numbering_problems(headings(word)) == []
