"""PDF: the exported HTML page printed by WeasyPrint (A4, page numbers from the stylesheet).

WeasyPrint was chosen over headless Chromium by measurement (see benchmarks/bench_report.py):
it runs in-process with no browser to install or keep alive, supports CSS paged media (page
counters, running strings, repeated table headers), and embeds the CJK font as a subset so the
text stays searchable and copyable.
"""

from __future__ import annotations

import logging


def render_pdf(html: str) -> bytes:
    """PDF bytes of a self-contained HTML page (fonts and images are data: URIs)."""
    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    return HTML(string=html, base_url=None).write_pdf()


_WARM_PAGE = ('<html><head><style>@page { size: A4; @bottom-center { content: counter(page) } }'
              '</style></head><body><p>perfeval</p><table><tr><td>1</td></tr></table></body></html>')


def warm_up() -> None:
    """Import WeasyPrint and lay out a tiny page, so fontconfig, Pango and the CSS machinery are
    initialised before the real report arrives."""
    render_pdf(_WARM_PAGE)
