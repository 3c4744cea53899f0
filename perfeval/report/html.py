"""HTML: report blocks as escaped HTML fragments, and the notebook → HTML export (nbconvert).

Every string from the sheet goes through `html.escape`; nothing is ever read as Markdown,
LaTeX or HTML. The export uses a custom nbconvert template (`templates/perfeval_report`) that
shows only the report's outputs: no code, no prompts, no scripts; the CJK font subset and the
charts are embedded as data: URIs, so the file is self-contained.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from functools import lru_cache
from html import escape
from importlib import resources
from pathlib import Path

from perfeval.report.charts import DPI as CHART_DPI
from perfeval.report.document import Block, Figure, Heading, Paragraph, Part, Provenance, ReportDoc, Table

TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE_NAME = "perfeval_report"
#: class on every fragment: JupyterLab and MathJax leave text inside it alone
ROOT_CLASS = "perfeval-report tex2jax_ignore mathjax_ignore"


def _text(value: str) -> str:
    return escape(value, quote=True).replace("\n", "<br>")


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's IHDR chunk."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _table(table: Table) -> str:
    numeric = table.numeric or (False,) * len(table.columns)
    fractions = table.fractions()
    fixed = " fixed" if fractions else ""
    out = [f'<table class="{table.style}{fixed}" data-key="{escape(table.key)}">']
    if fractions:
        out.append("<colgroup>" + "".join(f'<col style="width:{f * 100:.2f}%">' for f in fractions)
                   + "</colgroup>")
    if table.style != "kv":
        out.append("<thead><tr>" + "".join(f"<th>{_text(c)}</th>" for c in table.columns)
                   + "</tr></thead>")
    out.append("<tbody>")
    spans, colspans = table.spans(), table.colspans()
    for i, row in enumerate(table.rows):
        if table.merge and i and spans[i][0] > 1 and i not in table.strong:
            out.append("</tbody><tbody>")  # one row group per merged 一级 run: kept on one page
        cls = ' class="strong"' if i in table.strong else ""
        cells = []
        for j, cell in enumerate(row):
            span, colspan = spans[i][j], colspans[i][j]
            if span == 0 or colspan == 0:
                continue
            attrs = ' class="num"' if numeric[j] else ""
            attrs += f' rowspan="{span}"' if span > 1 else ""
            attrs += f' colspan="{colspan}"' if colspan > 1 else ""
            tag = "th" if table.style == "kv" and j == 0 else "td"
            cells.append(f"<{tag}{attrs}>{_text(cell)}</{tag}>")
        out.append(f"<tr{cls}>{''.join(cells)}</tr>")
    out.append("</tbody></table>")
    return _with_caption(table, "".join(out))


#: a table of at most this many rows moves to the next page whole rather than split
KEEP_WHOLE_ROWS = 14


def _with_caption(table: Table, markup: str) -> str:
    """The caption as a paragraph kept with its table: caption and table share a block that a page
    break does not split after the caption (short tables are not split at all)."""
    if not table.caption:
        return markup
    keep = " keep" if len(table.rows) <= KEEP_WHOLE_ROWS else ""
    return (f'<div class="table-block{keep}"><p class="caption">{_text(table.caption)}</p>'
            f"{markup}</div>")


def render_block(block: Block, images: Mapping[str, bytes]) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level + 1}>{_text(block.text)}</h{block.level + 1}>"
    if isinstance(block, Paragraph):
        return f'<p class="{escape(block.style)}">{_text(block.text)}</p>'
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        png = images.get(block.chart)
        if png:
            width = png_size(png)[0] / CHART_DPI
            img = (f'<img src="{data_uri(png)}" style="width:{width:.2f}in" '
                   f'alt="{escape(block.caption)}">')
        else:
            img = '<p class="missing">（图表未生成）</p>'

        return f'<figure class="chart">{img}<figcaption>{_text(block.caption)}</figcaption></figure>'
    raise TypeError(f"unknown block {block!r}")


def render_part(part: Part, images: Mapping[str, bytes] | None = None) -> str:
    body = "".join(render_block(b, images or {}) for b in part.blocks)
    return f'<section class="{ROOT_CLASS}" data-part="{escape(part.key)}">{body}</section>'


def render_cover(doc: ReportDoc, images: Mapping[str, bytes] | None = None) -> str:
    facts = "".join(f"<tr><th>{_text(k)}</th><td>{_text(v)}</td></tr>" for k, v in doc.facts)
    cover = doc.part("封面") if any(p.key == "封面" for p in doc.parts) else Part("封面", ())
    summary = "".join(render_block(b, images or {}) for b in cover.blocks)
    prov = doc.provenance
    # sets the PDF page footer's provenance string from the first page on (CSS string-set)
    short = escape(f"输入 SHA-256 {prov.sha256[:16]}… · perfeval {prov.version}")
    return (f'<section class="{ROOT_CLASS} cover" data-part="封面">'
            f'<div class="provenance-short">{short}</div>'
            f'<h1 class="title">{_text(doc.title)}</h1>'
            f'<table class="facts">{facts}</table>{summary}</section>')


def render_provenance(prov: Provenance) -> str:
    rows = "".join(f"<div><span>{_text(k)}：</span>{_text(v)}</div>" for k, v in prov.lines())
    return (f'<footer class="{ROOT_CLASS} provenance" data-part="生成信息">'
            f"<h2>生成信息</h2>{rows}</footer>")


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return (resources.files("perfeval.report") / "templates" / "report.css").read_text("utf-8")


@lru_cache(maxsize=1)
def _exporter():
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATES)],
                        exclude_input=True, exclude_input_prompt=True,
                        exclude_output_prompt=True)


@lru_cache(maxsize=1)
def warm_up() -> None:
    """Load nbconvert and compile the template once (the first export is otherwise slower)."""
    import nbformat

    export_html(nbformat.v4.new_notebook(), "", "")


def export_html(nb, title: str, font_css: str) -> str:
    """The executed notebook as one self-contained HTML page (nbconvert + perfeval template)."""
    resources_ = {"perfeval": {"title": title, "css": font_css + "\n" + stylesheet()}}
    body, _ = _exporter().from_notebook_node(nb, resources=resources_)
    return body
