"""Number formatting and small HTML tables shared by the workbench views (pure functions)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import pandas as pd

from perfeval.display import SEVERITY_LABELS as SEVERITY_LABELS  # re-exported for the views
from perfeval.display import fmt_change, fmt_num, fmt_pct

#: cells longer than this many characters may wrap
WRAP_AFTER = 12

TABLE_CSS = """
<style>
table.perfeval-table { border-collapse: collapse; font-size: 12px; margin: 4px 0; }
table.perfeval-table th { background: #DDEBF7; border: 1px solid #B4C6E7; padding: 2px 6px;
  text-align: left; white-space: nowrap; position: sticky; top: 0; }
table.perfeval-table td { border: 1px solid #D9D9D9; padding: 2px 6px; vertical-align: top;
  text-align: left; white-space: nowrap; }
table.perfeval-table td.wrap { white-space: normal; min-width: 9em; max-width: 30em; }
table.perfeval-table td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.perfeval-table tr.changed td { background: #FFF2CC; }
.perfeval-up { color: #2E7D32; } .perfeval-down { color: #C62828; }
.perfeval-note { color: #666; font-size: 12px; }
</style>
"""

def num(x: object, places: int = 2) -> str:
    """12.50 -> '12.5', 20.0 -> '20', NaN/None -> '—' (perfeval.display.fmt_num)."""
    return fmt_num(x, places)


def pct(x: object, places: int = 1) -> str:
    """0.956 -> '95.6%', 1.0 -> '100.0%' (decimals kept, so a column lines up)."""
    return fmt_pct(x, places, trim=False)


def signed(x: float, places: int = 2) -> str:
    """A change: '+0.4', '−0.22', '0' (perfeval.display.fmt_change)."""
    return fmt_change(x, places)


def delta_html(x: float, places: int = 2) -> str:
    text = signed(x, places)
    if text == "0":
        return "±0"
    css = "perfeval-up" if x > 0 else "perfeval-down"
    return f'<span class="{css}">{text}</span>'


def _text_length(column: pd.Series, raw: bool) -> pd.Series:
    text = column.astype(str)
    return (text.str.replace(r"<[^>]*>", "", regex=True) if raw else text).str.len()


def html_table(frame: pd.DataFrame, numeric: Iterable[str] = (), highlight: Sequence[bool] | None = None,
               raw_html: Iterable[str] = (), max_rows: int | None = None, css_class: str = "") -> str:
    """An HTML table of a frame of display strings; cells are escaped unless listed in `raw_html`.

    Built by hand rather than with `DataFrame.to_html` so a filter update over a large portfolio
    renders only the rows shown and can mark changed rows."""
    numeric, raw = set(numeric), set(raw_html)
    shown = frame if max_rows is None else frame.iloc[:max_rows]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    # short cells stay on one line (ids, figures); long texts wrap (raw HTML measured without its tags)
    long = {c for c in shown.columns
            if len(shown) and _text_length(shown[c], c in raw).max() > WRAP_AFTER}
    classes = [(' class="num"' if c in numeric else ' class="wrap"' if c in long else "")
               for c in shown.columns]
    rows = []
    columns = list(shown.columns)
    marks = list(highlight) if highlight is not None else [False] * len(frame)
    for i, values in enumerate(shown.itertuples(index=False, name=None)):
        cells = "".join(
            f"<td{cls}>{v if col in raw else html.escape(str(v))}</td>"
            for v, cls, col in zip(values, classes, columns, strict=True))
        rows.append(f'<tr class="changed">{cells}</tr>' if marks[i] else f"<tr>{cells}</tr>")
    extra = f" {css_class}" if css_class else ""
    table = f'<table class="perfeval-table{extra}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    if max_rows is not None and len(frame) > max_rows:
        table += f'<div class="perfeval-note">共 {len(frame)} 行，仅显示前 {max_rows} 行</div>'
    return table


def png_img(png: bytes, alt: str = "") -> str:
    """An <img> with the PNG inlined (for static exports)."""
    import base64

    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"/>'
