"""A firm's Word template for the .docx export: reading and checking it, filling its placeholders.

A template is a Word document (.docx) or Word template (.dotx) made by the firm. perfeval keeps its
styles, page setup, headers and footers, and keeps its body text as the report's cover (letterhead,
logo, firm name …); the report starts on a new page after it. Placeholders such as ``{{项目名称}}`` in
the cover, headers and footers are replaced by the project's values (`PLACEHOLDERS`).

`read_template(path)` checks the file before any work is done (located Chinese errors, never a
traceback); `example_template()` builds the example firm template shipped in
``perfeval/report/templates/firm-example.docx`` (``python -m perfeval.report.docx_template OUT``).
"""

from __future__ import annotations

import hashlib
import io
import re
import sys
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from perfeval.errors import PerfevalError

SUFFIXES = (".docx", ".dotx")
_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_TEMPLATE_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
_HEADER_FOOTER = ("header+xml", "footer+xml")
#: placeholders every report fills: {{报告标题}}, {{报告日期}} and the report's facts (项目名称 …);
#: any other fact the report lists (e.g. a 项目信息 field) can be used by its name as well
PLACEHOLDERS = ("报告标题", "报告日期", "项目名称", "项目编号", "主管部门", "实施单位", "评价年度",
                "评价方式", "评价方案")
UNFILLED = "（未填写）"
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
EXAMPLE_NAME = "firm-example.docx"
EXAMPLE_FIRM = "××绩效评价咨询有限公司"


def example_path() -> Path:
    """The example firm template shipped with perfeval."""
    return Path(__file__).resolve().parent / "templates" / EXAMPLE_NAME


def read_template(path: str | Path) -> bytes:
    """The template as .docx bytes (a .dotx is read as the document it makes); a missing,
    unreadable or non-Word file raises `PerfevalError` naming the file and what to do."""
    path = Path(path).expanduser()
    shown = str(path)
    if not path.exists():
        raise PerfevalError(f"Word 模板 {shown} 不存在（--docx-template 应为 .docx 或 .dotx 文件）")
    if path.is_dir():
        raise PerfevalError(f"Word 模板 {shown} 是文件夹，应为 .docx 或 .dotx 文件")
    suffix = path.suffix.lower()
    if suffix in (".docm", ".dotm"):
        raise PerfevalError(f"Word 模板 {shown} 含宏（{suffix}），不能用作模板：请在 Word 中另存为 .docx 或 .dotx")
    if suffix in (".doc", ".dot", ".wps", ".wpt", ".rtf", ".odt", ".ott"):
        raise PerfevalError(f"Word 模板 {shown} 是 {suffix} 格式，不能直接使用：请在 Word 或 WPS 中"
                            "“另存为” Word 文档（.docx）或 Word 模板（.dotx）")
    if suffix not in SUFFIXES:
        raise PerfevalError(f"Word 模板 {shown} 的扩展名应为 .docx 或 .dotx（收到「{path.suffix or '无扩展名'}」）")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PerfevalError(f"无法读取 Word 模板 {shown}：{exc.strerror or exc}") from None
    data = _as_document(data, shown)
    document = open_template(data, shown)
    problems = list(_unclosed(document))
    if problems:
        raise PerfevalError(f"Word 模板 {shown} 中的占位符不完整（应写作 {{{{项目名称}}}} 这样的双花括号）："
                            + "；".join(problems))
    unknown = [(where, name) for where, name in placeholders(document) if name not in PLACEHOLDERS]
    if unknown:
        raise PerfevalError(unknown_message(shown, unknown, PLACEHOLDERS))
    headings = list(_body_headings(document))
    if headings:
        raise PerfevalError(f"Word 模板 {shown} 的正文有用标题样式的段落：{'；'.join(headings[:3])}。模板正文只作"
                            "封面（报告正文由 perfeval 写在其后），请删去模板中的示例正文；封面上的大标题请用"
                            "“标题”（Title）样式或直接设置字体")
    return data


def _body_headings(document) -> Iterator[str]:
    """Body paragraphs in a Heading style: text left over from an old report, which would end up
    on the cover of every new one."""
    for n, paragraph in enumerate(document.paragraphs, start=1):
        name = paragraph.style.name if paragraph.style is not None else ""
        if re.fullmatch(r"Heading [1-9]", name or "") and paragraph.text.strip():
            yield f"正文第{n}段「{paragraph.text.strip()[:30]}」（{name}）"


def template_spec(path: str | Path | None) -> tuple[str, str] | None:
    """(absolute path, SHA-256 of the content) of a template, read and checked (`read_template`):
    how a batch names it to every process and notices when it changes; None without a template."""
    if path is None or str(path).strip() == "":
        return None
    data = read_template(path)
    return str(Path(path).expanduser().resolve()), hashlib.sha256(data).hexdigest()


def _as_document(data: bytes, shown: str) -> bytes:
    """The package with a .dotx's main part declared as a document (what Word does on
    "new from template"); anything but a WordprocessingML package raises."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
            if _TEMPLATE_MAIN.encode() not in types:
                if _MAIN.encode() not in types:
                    raise PerfevalError(f"Word 模板 {shown} 不是 Word 文档（压缩包中没有 Word 正文部件）："
                                        "请用 Word 或 WPS 另存为 .docx 或 .dotx")
                return data
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as fixed:
                for item in archive.infolist():
                    blob = archive.read(item.filename)
                    if item.filename == "[Content_Types].xml":
                        blob = blob.replace(_TEMPLATE_MAIN.encode(), _MAIN.encode())
                    fixed.writestr(item, blob)
            return out.getvalue()
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as exc:
        raise PerfevalError(f"Word 模板 {shown} 无法读取：不是有效的 .docx 文件（{exc}）；"
                            "请用 Word 或 WPS 重新保存为 .docx 或 .dotx") from None


def open_template(data: bytes, shown: str = "模板"):
    """A python-docx Document from template bytes (already checked by `read_template`)."""
    from docx import Document

    try:
        return Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for a damaged package
        raise PerfevalError(f"Word 模板 {shown} 无法读取：{type(exc).__name__}：{exc}；"
                            "请用 Word 或 WPS 重新保存为 .docx 或 .dotx") from None


# ---------------------------------------------------------------- placeholders


def _own_texts(paragraph) -> list:
    """The w:t elements of a paragraph, without those of paragraphs nested in its text boxes."""
    from docx.oxml.ns import qn

    tag = qn("w:p")
    return [t for t in paragraph.iter(qn("w:t"))
            if next(t.iterancestors(tag), None) is paragraph]


def _paragraphs(document) -> Iterator[tuple[str, object]]:
    """(where, w:p element) for every paragraph of the body (tables and text boxes included),
    then of every header and footer."""
    from docx.oxml.ns import qn

    for n, p in enumerate(document.element.body.iter(qn("w:p")), start=1):
        yield f"正文第{n}段", p
    for part in document.part.package.iter_parts():
        kind = next((k for k in _HEADER_FOOTER if part.content_type.endswith(k)), None)
        if kind is None or not hasattr(part, "element"):
            continue
        label = "页眉" if kind.startswith("header") else "页脚"
        for n, p in enumerate(part.element.iter(qn("w:p")), start=1):
            yield f"{label}（{part.partname.rsplit('/', 1)[-1]}）第{n}段", p


def _unclosed(document) -> Iterator[str]:
    for where, p in _paragraphs(document):
        text = "".join(t.text or "" for t in _own_texts(p))
        rest = PLACEHOLDER.sub("", text)
        if "{{" in rest or "}}" in rest:
            yield f"{where}「{text.strip()[:40]}」"


def placeholders(document) -> list[tuple[str, str]]:
    """(where, name) of every placeholder in the template."""
    found = []
    for where, p in _paragraphs(document):
        text = "".join(t.text or "" for t in _own_texts(p))
        found += [(where, m.group(1)) for m in PLACEHOLDER.finditer(text)]
    return found


def fill_placeholders(document, values: Mapping[str, str], shown: str = "模板") -> int:
    """Replace every {{名称}} by `values[名称]` (runs split by Word are joined in place, the
    first run's formatting kept). An unknown name raises `PerfevalError` listing the names
    that can be used. Returns how many placeholders were filled."""
    from docx.oxml.ns import qn

    unknown = [(where, name) for where, name in placeholders(document) if name not in values]
    if unknown:
        raise PerfevalError(unknown_message(shown, unknown, values))
    filled = 0
    for _, p in _paragraphs(document):
        texts = _own_texts(p)
        full = "".join(t.text or "" for t in texts)
        matches = list(PLACEHOLDER.finditer(full))
        if not matches:
            continue
        bounds, start = [], 0
        for t in texts:
            bounds.append(start)
            start += len(t.text or "")
        for match in reversed(matches):  # right to left: earlier offsets stay valid
            first = _locate(bounds, match.start())
            last = _locate(bounds, match.end() - 1)
            head = (texts[first].text or "")[: match.start() - bounds[first]]
            tail = (texts[last].text or "")[match.end() - bounds[last]:]
            for t in texts[first + 1: last + 1]:
                t.text = ""
            texts[first].text = head + values[match.group(1)] + (tail if first == last else "")
            if first != last:
                texts[last].text = tail
            for t in texts[first: last + 1]:
                t.set(qn("xml:space"), "preserve")
            filled += 1
    return filled


def unknown_message(shown: str, unknown: list[tuple[str, str]], known) -> str:
    listed = "；".join(f"{where}「{{{{{name}}}}}」" for where, name in unknown)
    return (f"Word 模板 {shown} 中有无法识别的占位符：{listed}。可用的占位符："
            + "、".join(f"{{{{{k}}}}}" for k in known))


def _locate(bounds: list[int], offset: int) -> int:
    """Index of the text element holding character `offset` of the joined text."""
    index = 0
    for i, start in enumerate(bounds):
        if start <= offset:
            index = i
    return index


def placeholder_values(title: str, facts: tuple[tuple[str, str], ...], generated_at: str) -> dict[str, str]:
    """What each placeholder becomes for one report: the title, the date of the report
    (from its generation time) and every fact, a fact the report lacks as （未填写）."""
    values = {name: UNFILLED for name in PLACEHOLDERS}
    values["报告标题"] = title
    values["报告日期"] = report_date(generated_at)
    values.update({k: v for k, v in facts if v})
    return values


def report_date(generated_at: str) -> str:
    """'2024-05-06 07:08:09+08:00' → '2024年5月6日' (the generation time as it is written)."""
    match = re.match(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})", generated_at or "")
    if not match:
        return UNFILLED
    year, month, day = (int(g) for g in match.groups())
    return f"{year}年{month}月{day}日"


# ---------------------------------------------------------------- example template


def example_template() -> bytes:
    """The example firm template: A4 with 公文 margins, a letterhead header and a "— 1 —"
    footer on every page but the cover, heading styles of its own, and a cover page with
    placeholders. Firms copy it, open it in Word and change what they like."""
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt, RGBColor

    from perfeval.report.docx import add_field, set_fonts

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.start_type = WD_SECTION.NEW_PAGE
    section.different_first_page_header_footer = True  # the cover has no letterhead line
    styles = document.styles
    set_fonts(styles["Normal"], "仿宋_GB2312", 14)
    title = styles["Title"]
    set_fonts(title, "方正小标宋简体", 22, bold=False, color=RGBColor(0, 0, 0))
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for border in title.element.pPr.findall(qn("w:pBdr")):  # python-docx's Title has a blue rule
        title.element.pPr.remove(border)
    caption = styles["Caption"]
    set_fonts(caption, "黑体", 10.5, bold=False, color=RGBColor(0, 0, 0))
    caption.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    navy = RGBColor(0x1F, 0x3A, 0x5F)
    for level, (face, size, bold) in enumerate((("黑体", 16, False), ("楷体_GB2312", 16, False),
                                                ("仿宋_GB2312", 14, True)), start=1):
        style = styles[f"Heading {level}"]
        set_fonts(style, face, size, bold=bold, color=navy if level == 1 else RGBColor(0, 0, 0))
        style.font.italic = False
    width = section.page_width - section.left_margin - section.right_margin
    header = section.header.paragraphs[0]
    header.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
    header.add_run(EXAMPLE_FIRM).font.size = Pt(10.5)
    header.add_run("\t{{项目名称}}项目支出绩效评价报告").font.size = Pt(9)
    _bottom_border(header)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("— ")
    add_field(footer, "PAGE")
    footer.add_run(" —")
    body = [("", None, None), ("", None, None), (EXAMPLE_FIRM, 16, "黑体"), ("", None, None),
            ("{{报告标题}}", 26, "方正小标宋简体"), ("", None, None), ("项目编号：{{项目编号}}", 14, None),
            ("主管部门：{{主管部门}}", 14, None), ("实施单位：{{实施单位}}", 14, None),
            ("评价机构：" + EXAMPLE_FIRM, 14, None), ("", None, None), ("", None, None),
            ("{{报告日期}}", 14, None)]
    for text, size, face in body:
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if text:
            run = paragraph.add_run(text)
            run.font.size = Pt(size)
            if face:
                _run_face(run, face)
    out = io.BytesIO()
    document.core_properties.author = EXAMPLE_FIRM
    document.core_properties.title = "项目支出绩效评价报告模板"
    document.save(out)
    return out.getvalue()


def _run_face(run, face: str) -> None:
    from docx.oxml.ns import qn

    fonts = run._r.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), face)


#: w:pPr children that come after w:pBdr (schema order)
_AFTER_PBDR = tuple(f"w:{tag}" for tag in (
    "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap", "overflowPunct", "topLinePunct", "autoSpaceDE",
    "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents",
    "suppressOverlap", "jc", "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId",
    "cnfStyle", "rPr", "sectPr", "pPrChange"))


def _bottom_border(paragraph) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "1F3A5F")):
        bottom.set(qn(f"w:{key}"), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().insert_element_before(borders, *_AFTER_PBDR)


def main(argv: list[str] | None = None) -> int:
    """Write the example firm template to the path given (default: the shipped file)."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else example_path()
    from perfeval.atomic import write_bytes_atomic

    write_bytes_atomic(target, example_template())
    sys.stdout.write(f"✓ Word 模板示例：{target}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
