"""PDF: the exported HTML page printed by WeasyPrint (A4, page numbers from the stylesheet).

WeasyPrint rather than headless Chromium, chosen by measurement (benchmarks/bench_report.py, same
HTML, 2 shared cores): WeasyPrint 0.9–1.3 s per report once warm, in-process; Chromium 1.7 s per
report as a fresh `--print-to-pdf` process, 0.3 s only when a browser is kept running (Playwright).
Keeping a browser alive in every batch worker costs a process of a few hundred MB and a Debian
package outside pip; WeasyPrint already meets the 1.5 s target, runs in the same process, and
implements the paged-media CSS the report uses (page counters and a running provenance string in
the margin boxes, repeated table headers, unbroken row groups). Fonts are embedded as subsets
(the page's own @font-face subset, re-subset by HarfBuzz), so the text is searchable and copyable.
"""

from __future__ import annotations

import logging
from functools import lru_cache


def render_pdf(html: str) -> bytes:
    """PDF bytes of a self-contained HTML page (fonts and images are data: URIs)."""
    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    return HTML(string=html, base_url=None).write_pdf()


_WARM_PAGE = ('<html><head><style>@page { size: A4; @bottom-center { content: counter(page) } }'
              '</style></head><body><p>perfeval</p><table><tr><td>1</td></tr></table></body></html>')


@lru_cache(maxsize=1)
def warm_up() -> None:
    """Import WeasyPrint and lay out a tiny page, so fontconfig, Pango and the CSS machinery are
    initialised before the real report arrives."""
    render_pdf(_WARM_PAGE)
