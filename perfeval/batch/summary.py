"""The batch summary in DIR: summary.xlsx, index.html and the portfolio charts.

Everything is computed from the batch's scored frames (`evaluate_frames`) and project statuses.
The only thing that changes between two runs over the same inputs is the run time, so an
unchanged portfolio gives unchanged files apart from that.

summary.xlsx links each report (one column per format: 报告（HTML）…) relative to DIR with forward slashes,
prefixes text cells that start like a formula with ' (`neutralise`, OWASP) and keeps numbers numeric;
index.html shows the charts at their natural size, so their text is as large on screen as drawn (≥ 10 pt).
"""

from __future__ import annotations

import html
import io
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from perfeval import summary_schema as schema
from perfeval.atomic import write_bytes_atomic
from perfeval.batch.portfolio_charts import CHARTS, chart_pngs, display_size, grade_colours
from perfeval.batch.status import SHOWN_STATUS as SHOWN_STATUS  # re-exported
from perfeval.batch.status import Shown, Status, shown
from perfeval.display import SEVERITY_LABELS, fmt_num

SUMMARY_XLSX = schema.SUMMARY_XLSX
INDEX_HTML = "index.html"
CHART_DIR = "charts"
FORMAT_LABELS = {"html": "HTML", "pdf": "PDF", "docx": "Word", "ipynb": "笔记本"}
#: the statuses index.html counts and filters on, in this order
SHOWN_ORDER = (Shown.OK, Shown.SCORED, Shown.FAILED)
#: xlsxwriter allows 65,530 hyperlinks per sheet; beyond that links are written as text
MAX_LINKS = 65000
#: summary.xlsx columns of links to each project's reports, one per format (relative to DIR)
REPORT_COLUMNS = schema.REPORT_COLUMNS
#: a text cell starting with one of these is read as a formula by spreadsheet programs (OWASP CSV injection)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


# ----------------------------------------------------------------------------- frames

DETAIL_COLUMNS = ("项目编号", "一级指标", "二级指标", "三级指标", "指标名称", "分值", "指标值", "实际完成值",
                  "评分规则", "完成率", "偏差率", "得分", "失分", "报告得分", "扣分原因", "偏差原因")

def _level_order(present) -> list[str]:
    """一级指标 columns: the built-in schemes' levels in scheme order, then any others (a custom
    scheme's) in the order its projects list them."""
    from perfeval.scheme import load_scheme

    known = [lv.name for sid in ("third_party", "self") for lv in load_scheme(sid).levels]
    order = list(dict.fromkeys(known))
    present = list(dict.fromkeys(present))
    return [n for n in order if n in set(present)] + [n for n in present if n not in set(order)]


def summary_frames(result) -> dict[str, pd.DataFrame]:
    """项目汇总 / 指标明细 / 核查发现 / 失败项目 as frames (also used by index.html)."""
    frames = result.scan.frames
    statuses = result.statuses
    h = schema.HEADERS
    base = pd.DataFrame({
        h["id"]: [s.entry.key for s in statuses], h["name"]: [s.entry.name for s in statuses],
        h["department"]: [s.entry.department for s in statuses], h["unit"]: [s.entry.unit for s in statuses],
        h["year"]: pd.Series([s.entry.year for s in statuses], dtype=object),
        "scheme": [s.entry.scheme_name for s in statuses],
        "pidx": pd.array([s.entry.pidx for s in statuses], dtype="Int64"),
    })
    head = frames.projects.set_index("pidx") if frames is not None else pd.DataFrame(
        columns=["total", "grade", "budget", "allocated", "spent", "execution_rate", "arrival_rate",
                 "deviation_rate"])
    at = base["pidx"]

    def take(frame: pd.DataFrame, column: str) -> np.ndarray:
        values = frame[column].reindex(at.fillna(-1).astype(int)).to_numpy()
        return np.where(at.isna().to_numpy(), np.nan, values) if values.dtype.kind == "f" else values

    summary = base.drop(columns=["scheme", "pidx"])
    summary[h["scheme"]] = base["scheme"]
    summary[h["total"]] = take(head, "total").astype(float)
    summary[h["grade"]] = pd.Series(take(head, "grade")).fillna("").to_numpy()
    if frames is not None and len(frames.levels):
        scores = frames.levels.pivot_table(index="pidx", columns="name", values="score",
                                           aggfunc="first")
        for level in _level_order(frames.levels["name"].unique()):
            summary[schema.level_header(level)] = take(scores, level).astype(float)
    for column in ("budget", "allocated", "spent", "execution_rate", "arrival_rate", "deviation_rate"):
        summary[h[column]] = take(head, column).astype(float)
    counts = (pd.crosstab(frames.findings["pidx"], frames.findings["severity"])
              if frames is not None and len(frames.findings) else pd.DataFrame())
    for label, severity in ((h["errors"], "error"), (h["warnings"], "warning"), (h["infos"], "info")):
        column = counts[severity] if severity in counts else pd.Series(dtype=float)
        values = column.reindex(at.fillna(-1).astype(int)).fillna(0).to_numpy(dtype=float)
        summary[label] = np.where(at.isna().to_numpy(), np.nan, values)
    summary[h["status"]] = [str(shown(s.status)) for s in statuses]
    summary[h["reason"]] = [f"{s.stage}：{s.reason.splitlines()[0]}" if s.reason else "" for s in statuses]
    if any(s.entry.field_data for s in statuses):  # expert panels / surveys merged, or what a project lacks
        summary[h["field_data"]] = [s.entry.field_data for s in statuses]
    summary["报告"] = [s.outputs for s in statuses]
    summary[h["file"]] = [str(s.entry.source) for s in statuses]

    key_of = {s.entry.pidx: s.entry.key for s in statuses if s.entry.pidx is not None}
    if frames is not None and len(frames.indicators):
        ind = frames.indicators
        missing = pd.Series(np.nan, index=ind.index)
        detail = pd.DataFrame({
            "项目编号": ind["pidx"].map(key_of), "一级指标": ind["level1"], "二级指标": ind["level2"],
            "三级指标": ind["level3"], "指标名称": ind["name"], "分值": ind["weight"],
            "指标值": ind["target"], "实际完成值": ind["actual"], "评分规则": ind["rule_label"],
            "完成率": ind.get("completion"), "偏差率": ind.get("deviation"), "得分": ind["score"],
            "失分": ind.get("lost", missing), "报告得分": ind["stated_score"],
            "扣分原因": ind.get("deduction_reason", missing.astype(object)).fillna("").astype(object),
            "偏差原因": ind.get("reason", missing.astype(object)).fillna("").astype(object),
        })
    else:
        detail = pd.DataFrame(columns=DETAIL_COLUMNS)
    if frames is not None and len(frames.findings):
        f = frames.findings
        fh = schema.FINDINGS_HEADERS
        findings = pd.DataFrame({fh["id"]: f["pidx"].map(key_of),
                                 fh["severity"]: f["severity"].map(SEVERITY_LABELS).fillna(f["severity"]),
                                 fh["code"]: f["code"], fh["message"]: f["message"], fh["where"]: f["where"]})
    else:
        findings = pd.DataFrame(columns=list(schema.FINDINGS_HEADERS.values()))
    xh = schema.FAILED_HEADERS
    failed = pd.DataFrame([{
        xh["id"]: s.entry.key, xh["name"]: s.entry.name, xh["year"]: s.entry.year, xh["file"]: str(s.entry.source),
        xh["stage"]: s.stage, xh["reason"]: s.reason, xh["notebook"]: s.notebook,
    } for s in statuses if s.status == Status.FAILED], columns=list(xh.values()))
    failed[xh["year"]] = failed[xh["year"]].astype(object)
    return {schema.PROJECTS_SHEET: summary, schema.DETAIL_SHEET: detail, schema.FINDINGS_SHEET: findings,
            schema.FAILED_SHEET: failed}


# ----------------------------------------------------------------------------- xlsx

def _cell(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def neutralise(text: str) -> str:
    """A text cell as summary.xlsx stores it: prefixed with ' when it starts like a formula (= + - @, tab,
    carriage return), per OWASP's CSV-injection advice, so no spreadsheet program ever evaluates it."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _link_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """项目汇总 with its 报告 column (format -> path) spread into one link column per format present."""
    if "报告" not in frame.columns:
        return frame
    kinds = [k for k in REPORT_COLUMNS if any(k in value for value in frame["报告"])]
    kinds += sorted({k for value in frame["报告"] for k in value} - set(kinds))
    at = frame.columns.get_loc("报告")
    out = frame.drop(columns="报告")
    for i, kind in enumerate(kinds):
        out.insert(at + i, REPORT_COLUMNS.get(kind, f"报告（{kind}）"),
                   [value.get(kind, "") for value in frame["报告"]])
    return out


#: summary.xlsx columns whose cells are links to files under DIR
LINK_COLUMNS = frozenset({*REPORT_COLUMNS.values(), "执行记录"})


def write_xlsx(path: Path, frames: dict[str, pd.DataFrame], run_at: str) -> Path:
    """summary.xlsx, written to a temporary name and renamed into place.

    Reports are real hyperlinks, relative to DIR with forward slashes (so they open wherever the folder is
    copied, on any system); text cells that start like a formula are neutralised (`neutralise`); numbers are
    numbers."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"constant_memory": False, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})
    created = datetime.fromisoformat(run_at).replace(tzinfo=None)
    book.set_properties({"title": "绩效评价批量汇总", "author": "perfeval",
                         "created": created, "comments": f"运行时间 {run_at}"})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                            "valign": "top"})
    pct = book.add_format({"num_format": "0.0%"})
    num = book.add_format({"num_format": "0.00"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    link = book.add_format({"font_color": "blue", "underline": 1})
    pct_columns = {"预算执行率", "资金到位率", "偏差率", "完成率"}
    wrapped = {"原因", "内容", "扣分原因", "偏差原因", "失败原因"}
    for name, frame in frames.items():
        frame = _link_frame(frame)
        sheet = book.add_worksheet(name)
        columns = list(frame.columns)
        sheet.write_row(0, 0, columns, head)
        sheet.freeze_panes(1, 1)
        formats = [pct if c in pct_columns else num if c.endswith("得分") or c in ("总分", "分值", "失分")
                   else wrap if c in wrapped else None for c in columns]
        links = 0
        for c, column in enumerate(columns):  # column by column: one type decision each
            values = frame[column].tolist()
            if column in LINK_COLUMNS:
                for r, value in enumerate(values, start=1):
                    if not value:
                        continue
                    target = str(value).replace("\\", "/")
                    if links < MAX_LINKS:
                        sheet.write_url(r, c, "external:" + target, link, neutralise(target))
                        links += 1
                    else:
                        sheet.write_string(r, c, neutralise(target))
                continue
            fmt = formats[c]
            if pd.api.types.is_numeric_dtype(frame[column].dtype):
                write_number = sheet.write_number
                for r, value in enumerate(values, start=1):
                    if value == value and value is not None and abs(value) != math.inf:
                        write_number(r, c, value, fmt)
                continue
            write_string = sheet.write_string
            for r, value in enumerate(values, start=1):
                if isinstance(value, str):
                    if value:
                        write_string(r, c, neutralise(value), fmt if fmt is wrap else None)
                else:
                    value = _cell(value)
                    if value is not None:
                        sheet.write_number(r, c, value, fmt)
        widths = {"项目名称": 28, "内容": 70, "原因": 70, "来源文件": 40, "文件": 40, "指标名称": 28,
                  "失败原因": 40, "出处": 24, "执行记录": 30, "扣分原因": 30, "偏差原因": 30,
                  **dict.fromkeys(REPORT_COLUMNS.values(), 36)}
        for c, column in enumerate(columns):
            sheet.set_column(c, c, widths.get(column, 12))
        if len(frame):
            sheet.autofilter(0, 0, len(frame), len(columns) - 1)
    book.close()
    return write_bytes_atomic(path, forward_slash_links(buffer.getvalue()))


_HYPERLINK_TARGET = re.compile(rb'(Type="[^"]*/hyperlink" Target=")([^"]*)(")')


def forward_slash_links(xlsx: bytes) -> bytes:
    """The workbook with every hyperlink target written with forward slashes (xlsxwriter writes relative file
    links Windows-style, which other systems do not open). Entries keep their order, dates and compression."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/_rels/"):
                data = _HYPERLINK_TARGET.sub(lambda m: m[1] + m[2].replace(b"\\", b"/") + m[3], data)
            target.writestr(info, data)
    return out.getvalue()


# ----------------------------------------------------------------------------- index.html

_CSS = """
body{font-family:"PerfevalCJK",sans-serif;margin:24px;color:#222}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px}
.meta{color:#666;font-size:13px} .counts span{margin-right:16px}
.charts{display:flex;flex-wrap:wrap;gap:8px} .charts img{max-width:100%;height:auto;border:1px solid #eee}
.filters{margin:12px 0;display:flex;gap:12px;flex-wrap:wrap;align-items:center;font-size:14px}
.filters input{padding:4px 8px;width:240px} input,select{font:inherit}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{border:1px solid #ddd;padding:4px 6px;vertical-align:top}
th{background:#f0f4f8;cursor:pointer;position:sticky;top:0;white-space:nowrap}
th.asc::after{content:" ▲"} th.desc::after{content:" ▼"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td{background:#fdf0ef} td.reason{white-space:pre-wrap;max-width:720px}
.why{color:#8a3b38;font-size:12px;max-width:360px}
"""

_JS = """
(function(){
  const table=document.getElementById('projects'); if(!table) return;
  const body=table.tBodies[0], rows=Array.from(body.rows);
  const text=document.getElementById('q'), sel=Array.from(document.querySelectorAll('select[data-col]'));
  const shown=document.getElementById('shown');
  function apply(){
    const q=text.value.trim().toLowerCase(); let n=0;
    rows.forEach(r=>{
      let ok=!q||r.textContent.toLowerCase().includes(q);
      sel.forEach(s=>{ if(ok&&s.value){ ok=r.cells[+s.dataset.col].dataset.v===s.value; } });
      r.style.display=ok?'':'none'; if(ok) n++;
    });
    shown.textContent=n;
  }
  text.addEventListener('input',apply); sel.forEach(s=>s.addEventListener('change',apply));
  Array.from(table.tHead.rows[0].cells).forEach((th,i)=>th.addEventListener('click',()=>{
    const asc=!th.classList.contains('asc');
    Array.from(table.tHead.rows[0].cells).forEach(h=>h.classList.remove('asc','desc'));
    th.classList.add(asc?'asc':'desc');
    const num=th.dataset.type==='num';
    const key=r=>{const c=r.cells[i], v=c.dataset.s??c.dataset.v;
      if(num){const x=parseFloat(v); return isNaN(x)?-Infinity:x;} return v;};
    rows.sort((a,b)=>{const x=key(a),y=key(b);
      const c=num?x-y:String(x).localeCompare(String(y),'zh'); return asc?c:-c;});
    rows.forEach(r=>body.appendChild(r));
  }));
  apply();
})();
"""


def _clean(row: dict) -> dict:
    """Missing values as None (frames turn them into NaN)."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _href(path: str) -> str:
    return quote(path.replace("\\", "/"))


def _brief(reason: str, limit: int = 80) -> str:
    """A failure reason in one short line for the project table (the full text is in 失败项目)."""
    line = reason.strip().splitlines()[0] if reason.strip() else ""
    line = line.split("——", 1)[1] if "——" in line else line  # the message, without its location
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _num(value: object, places: int = 2) -> tuple[str, str]:
    """(shown text, sort value) for a number that may be missing."""
    text = fmt_num(value, places, trim=False)
    return (text, "") if text == "—" else (text, repr(float(value)))


def _grade_cell(grade: object, classes: Mapping[str, str]) -> str:
    """A grade in its scheme's colour (`.grade-N` of index.html's style)."""
    if grade is None or grade == "":
        return ""
    css = classes.get(str(grade))
    return f'<span class="{css}">{_e(grade)}</span>' if css else _e(grade)


def _sort_key(extra: list) -> str:
    """data-s: what a column sorts on when it is not the shown value (grades: best highest)."""
    return f' data-s="{_e(extra[0])}"' if extra else ""


def write_index(path: Path, frames: dict[str, pd.DataFrame], statuses: Sequence, run_at: str,
                charts: Mapping[str, bytes]) -> Path:
    """index.html: counts, the charts at their natural size (text as large on screen as drawn, at least
    `portfolio_charts.MIN_FONT_PT`), a filterable project table (a failed row says why) and the failures."""
    summary = frames["项目汇总"]
    counts = summary["状态"].value_counts() if len(summary) else pd.Series(dtype=int)
    # the grades as the projects' scheme draws them (labels best first, colours), as in the charts
    colours = grade_colours(portfolio_grades(statuses), summary.get("等级", ()))
    rank = {g: len(colours) - i for i, g in enumerate(colours)}  # sort key: the best grade highest
    grade_css = "".join(f".grade-{i}{{color:{_e(c)};font-weight:bold}}" for i, c in enumerate(colours.values()))
    grade_class = {g: f"grade-{i}" for i, g in enumerate(colours)}
    out = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<title>绩效评价批量汇总</title>", f"<style>{_CSS}{grade_css}\n</style></head><body>",
           "<h1>绩效评价批量汇总</h1>",
           f'<p class="meta">运行时间：<span id="run-at">{_e(run_at)}</span>　'
           f"汇总表：<a href=\"{SUMMARY_XLSX}\">{SUMMARY_XLSX}</a></p>",
           '<p class="counts">' + "".join(
               f"<span>{label} <b>{int(counts.get(label, 0))}</b></span>"
               for label in SHOWN_ORDER) +
           f"<span>共 <b>{len(summary)}</b> 个项目</span></p>"]
    if charts:
        out.append('<div class="charts">' + "".join(
            f'<img src="{CHART_DIR}/{name}.png" alt="{_e(CHARTS[name][0])}" width="{w}" height="{h}">'
            for name, (w, h) in ((name, display_size(png)) for name, png in charts.items())) + "</div>")
    columns = [("项目编号", "text"), ("名称", "text"), ("单位", "text"), ("年度", "num"), ("总分", "num"),
               ("等级", "num"), ("执行率", "num"), ("核查发现", "num"), ("状态", "text"), ("报告", "text")]
    years = sorted({str(int(y)) for y in summary.get("年度", []) if y is not None and y == y})
    out.append('<div class="filters"><label>筛选 <input id="q" type="search" placeholder="项目编号、名称、单位…">'
               "</label>")
    for label, col, options in (("状态", 8, SHOWN_ORDER),
                                ("等级", 5, tuple(colours)), ("年度", 3, years)):
        out.append(f'<label>{label} <select data-col="{col}"><option value="">全部</option>' +
                   "".join(f'<option value="{_e(o)}">{_e(o)}</option>' for o in options) +
                   "</select></label>")
    out.append(f'<span>显示 <b id="shown">{len(summary)}</b> 个</span></div>')
    out.append('<table id="projects"><thead><tr>' + "".join(
        f'<th data-type="{t}">{_e(c)}</th>' for c, t in columns) + "</tr></thead><tbody>")
    for row in map(_clean, summary.to_dict(orient="records")):
        total, total_v = _num(row["总分"])
        rate, rate_v = _num(None if row["预算执行率"] is None else 100 * row["预算执行率"], 1)
        n_findings = sum(int(row[k] or 0) for k in ("错误", "警告", "提示")) if row["错误"] is not None else None
        links = " ".join(f'<a href="{_href(p)}">{_e(FORMAT_LABELS.get(k, k))}</a>'
                         for k, p in row["报告"].items() if k != "ipynb")
        status = row["状态"]
        shown_status = status
        if status == Shown.FAILED:
            stage, _, why = row["失败原因"].partition("：")
            shown_status = f'{status}（{_e(stage)}）<div class="why">{_e(_brief(why))}</div>'
        year = "" if row["年度"] is None else str(int(row["年度"]))
        cells = [
            (row["项目编号"], _e(row["项目编号"]), ""), (row["项目名称"], _e(row["项目名称"]), ""),
            (row["实施单位"], _e(row["实施单位"]), ""), (year, _e(year), "num"),
            (total_v, total, "num"),
            (row["等级"], _grade_cell(row["等级"], grade_class), "", rank.get(row["等级"], "")),
            (rate_v, rate if rate == "—" else f"{rate}%", "num"),
            ("" if n_findings is None else str(n_findings), "—" if n_findings is None else str(n_findings), "num"),
            (status, shown_status, ""), ("", links, ""),
        ]
        css = ' class="failed"' if status == Shown.FAILED else ""
        out.append(f"<tr{css}>" + "".join(
            f'<td data-v="{_e(v)}"{_sort_key(extra)}{" class=num" if k == "num" else ""}>{shown}</td>'
            for v, shown, k, *extra in cells) + "</tr>")
    out.append("</tbody></table>")
    failed = frames["失败项目"]
    out.append(f"<h2>失败项目（{len(failed)} 个）</h2>")
    if len(failed):
        out.append("<table><thead><tr><th>项目编号</th><th>名称</th><th>年度</th><th>文件</th><th>阶段</th>"
                   "<th>原因</th><th>执行记录</th></tr></thead><tbody>")
        for row in map(_clean, failed.to_dict(orient="records")):
            nb = f'<a href="{_href(row["执行记录"])}">{_e(Path(row["执行记录"]).name)}</a>' if row["执行记录"] else ""
            year = "" if row["年度"] is None else str(int(row["年度"]))
            out.append(f"<tr><td>{_e(row['项目编号'])}</td><td>{_e(row['项目名称'])}</td><td>{year}</td>"
                       f"<td>{_e(Path(row['文件']).name)}</td>"
                       f"<td>{_e(row['阶段'])}</td><td class=\"reason\">{_e(row['原因'])}</td>"
                       f"<td>{nb}</td></tr>")
        out.append("</tbody></table>")
    else:
        out.append("<p>全部项目均已成功。</p>")
    out.append(f"<script>{_JS}</script></body></html>\n")
    page = "\n".join(out)
    # embed the CJK face, cut down to the characters this page uses (never rely on system fonts)
    from perfeval.fonts import font_face_css

    page = page.replace("<style>", f"<style>{font_face_css(page)}\n", 1)
    return write_bytes_atomic(path, page.encode("utf-8"))


# ----------------------------------------------------------------------------- all

def portfolio_grades(statuses: Sequence) -> tuple | None:
    """The grade table (cut points, labels, colours) of the scored projects' schemes when they share one; ()
    when they grade differently; None when no project was scored (the default scheme's)."""
    from perfeval.scheme import load_scheme, shared_grade_table

    specs = {s.entry.scheme for s in statuses if getattr(s.entry, "scheme", "")}
    return shared_grade_table(load_scheme(spec) for spec in sorted(specs))


def write_summary(result) -> dict[str, Path]:
    """Write summary.xlsx, index.html and charts/*.png into the batch folder."""
    root: Path = result.root
    frames = summary_frames(result)
    summary = frames["项目汇总"]
    scored = summary[summary["总分"].notna()] if len(summary) else summary
    written: dict[str, Path] = {}
    pngs = chart_pngs(scored, grades=portfolio_grades(result.statuses))
    for name, data in pngs.items():
        written[name] = write_bytes_atomic(root / CHART_DIR / f"{name}.png", data)
    written["xlsx"] = write_xlsx(root / SUMMARY_XLSX, frames, result.run_at)
    written["html"] = write_index(root / INDEX_HTML, frames, result.statuses, result.run_at, pngs)
    return written
