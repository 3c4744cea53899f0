"""The batch summary in DIR: summary.xlsx, index.html and the portfolio charts.

Everything is computed from the batch's scored frames (`evaluate_frames`) and project statuses.
The only thing that changes between two runs over the same inputs is the run time, so an
unchanged portfolio gives unchanged files apart from that.
"""

from __future__ import annotations

import html
import math
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from perfeval.batch.manifest import write_bytes_atomic
from perfeval.batch.portfolio_charts import CHARTS, chart_pngs

SUMMARY_XLSX = "summary.xlsx"
INDEX_HTML = "index.html"
CHART_DIR = "charts"
SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}
FORMAT_LABELS = {"html": "HTML", "pdf": "PDF", "docx": "Word", "ipynb": "笔记本"}
#: xlsxwriter allows 65,530 hyperlinks per sheet; beyond that links are written as text
MAX_LINKS = 65000


# ----------------------------------------------------------------------------- frames

def _scheme_name(scheme_id: str) -> str:
    from perfeval.scheme import load_scheme

    try:
        return load_scheme(scheme_id).name
    except Exception:
        return scheme_id


def summary_frames(result) -> dict[str, pd.DataFrame]:
    """项目汇总 / 指标明细 / 核查发现 / 失败项目 as frames (also used by index.html)."""
    frames = result.scan.frames
    statuses = result.statuses
    head = frames.projects.set_index("pidx") if frames is not None else pd.DataFrame()
    level_order: list[str] = []
    if frames is not None and len(frames.levels):
        level_order = list(dict.fromkeys(frames.levels["name"]))
        level_scores = frames.levels.pivot_table(index="pidx", columns="name", values="score",
                                                 aggfunc="first")
    counts = pd.DataFrame()
    if frames is not None and len(frames.findings):
        counts = pd.crosstab(frames.findings["pidx"], frames.findings["severity"])
    schemes: dict[str, str] = {}
    rows = []
    for s in statuses:
        e = s.entry
        row: dict[str, object] = {"项目编号": e.key, "项目名称": e.name, "主管部门": e.department,
                                  "实施单位": e.unit, "年度": e.year, "评价方案": "", "总分": None,
                                  "等级": ""}
        scored = e.pidx is not None and frames is not None
        if scored:
            p = head.loc[e.pidx]
            if e.scheme not in schemes:
                schemes[e.scheme] = _scheme_name(e.scheme)
            row.update({"评价方案": schemes[e.scheme], "总分": float(p["total"]), "等级": p["grade"]})
        for level in level_order:
            value = level_scores.at[e.pidx, level] if scored and e.pidx in level_scores.index else np.nan
            row[f"{level}得分"] = None if pd.isna(value) else float(value)
        for label, column in (("预算数（万元）", "budget"), ("到位数（万元）", "allocated"),
                              ("执行数（万元）", "spent"), ("预算执行率", "execution_rate"),
                              ("资金到位率", "arrival_rate"), ("偏差率", "deviation_rate")):
            value = head.at[e.pidx, column] if scored else np.nan
            row[label] = None if pd.isna(value) else float(value)
        for label, severity in (("错误", "error"), ("警告", "warning"), ("提示", "info")):
            has = scored and e.pidx in counts.index and severity in counts.columns
            row[label] = int(counts.at[e.pidx, severity]) if has else (0 if scored else None)
        row["状态"] = s.status
        row["失败原因"] = f"{s.stage}：{s.reason.splitlines()[0]}" if s.reason else ""
        row["报告"] = s.outputs
        row["来源文件"] = str(e.source)
        rows.append(row)
    summary = pd.DataFrame(rows)

    key_of = {s.entry.pidx: s.entry.key for s in statuses if s.entry.pidx is not None}
    if frames is not None and len(frames.indicators):
        ind = frames.indicators
        detail = pd.DataFrame({
            "项目编号": ind["pidx"].map(key_of), "一级指标": ind["level1"], "二级指标": ind["level2"],
            "三级指标": ind["level3"], "指标名称": ind["name"], "分值": ind["weight"],
            "指标值": ind["target"], "实际完成值": ind["actual"], "评分规则": ind["rule_label"],
            "完成率": ind.get("completion"), "偏差率": ind.get("deviation"), "得分": ind["score"],
            "报告得分": ind["stated_score"],
        })
    else:
        detail = pd.DataFrame(columns=["项目编号", "一级指标", "二级指标", "三级指标", "指标名称", "分值",
                                       "指标值", "实际完成值", "评分规则", "完成率", "偏差率", "得分", "报告得分"])
    if frames is not None and len(frames.findings):
        f = frames.findings
        findings = pd.DataFrame({"项目编号": f["pidx"].map(key_of),
                                 "级别": f["severity"].map(SEVERITY_LABELS).fillna(f["severity"]),
                                 "代码": f["code"], "内容": f["message"], "出处": f["where"]})
    else:
        findings = pd.DataFrame(columns=["项目编号", "级别", "代码", "内容", "出处"])
    failed = pd.DataFrame([{
        "项目编号": s.entry.key, "年度": s.entry.year, "文件": str(s.entry.source), "阶段": s.stage,
        "原因": s.reason, "执行记录": s.notebook,
        "说明": "沿用上次运行的结果（输入未变；--force 重新运行）" if s.cached else "",
    } for s in statuses if s.status == "失败"], columns=["项目编号", "年度", "文件", "阶段", "原因",
                                                        "执行记录", "说明"])
    return {"项目汇总": summary, "指标明细": detail, "核查发现": findings, "失败项目": failed}


# ----------------------------------------------------------------------------- xlsx

def _cell(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_xlsx(path: Path, frames: dict[str, pd.DataFrame], run_at: str) -> Path:
    """summary.xlsx, written to a temporary name and renamed into place."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        book = xlsxwriter.Workbook(tmp, {"constant_memory": True, "strings_to_numbers": False,
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
        links = 0
        for name, frame in frames.items():
            sheet = book.add_worksheet(name)
            columns = list(frame.columns)
            sheet.write_row(0, 0, columns, head)
            sheet.freeze_panes(1, 1)
            formats = [pct if c in pct_columns else num if c.endswith("得分") or c in ("总分", "分值")
                       else wrap if c in ("原因", "内容") else None for c in columns]
            report_col = columns.index("报告") if "报告" in columns else -1
            for r, values in enumerate(frame.itertuples(index=False, name=None), start=1):
                for c, value in enumerate(values):
                    if c == report_col:
                        text = "；".join(f"{FORMAT_LABELS.get(k, k)} {v}" for k, v in value.items())
                        main = value.get("html") or value.get("pdf") or value.get("docx")
                        if main and links < MAX_LINKS:
                            sheet.write_url(r, c, main.replace("\\", "/"), link, text)
                            links += 1
                        else:
                            sheet.write_string(r, c, text)
                        continue
                    value = _cell(value)
                    if value is None or value == "":
                        continue
                    if isinstance(value, str):
                        sheet.write_string(r, c, value, formats[c] if formats[c] is wrap else None)
                    else:
                        sheet.write_number(r, c, value, formats[c])
            widths = {"项目名称": 28, "内容": 70, "原因": 70, "来源文件": 40, "文件": 40, "报告": 40,
                      "指标名称": 28, "失败原因": 40, "出处": 24, "执行记录": 30, "说明": 30}
            for c, column in enumerate(columns):
                sheet.set_column(c, c, widths.get(column, 12))
            if len(frame):
                sheet.autofilter(0, 0, len(frame), len(columns) - 1)
        book.close()
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


# ----------------------------------------------------------------------------- index.html

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:24px;color:#222}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px}
.meta{color:#666;font-size:13px} .counts span{margin-right:16px}
.charts img{max-width:32%;min-width:300px;margin:4px;border:1px solid #eee}
.filters{margin:12px 0;display:flex;gap:12px;flex-wrap:wrap;align-items:center;font-size:14px}
.filters input{padding:4px 8px;width:240px}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{border:1px solid #ddd;padding:4px 6px;vertical-align:top}
th{background:#f0f4f8;cursor:pointer;position:sticky;top:0;white-space:nowrap}
th.asc::after{content:" ▲"} th.desc::after{content:" ▼"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td{background:#fdf0ef} td.reason{white-space:pre-wrap;max-width:720px}
.grade-优{color:#2f5d8a;font-weight:bold}.grade-差{color:#c0504d;font-weight:bold}
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
    const key=r=>{const v=r.cells[i].dataset.v; if(num){const x=parseFloat(v); return isNaN(x)?-Infinity:x;} return v;};
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


def _num(value: object, places: int = 2) -> tuple[str, str]:
    """(shown text, sort value) for a number that may be missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—", ""
    return f"{value:.{places}f}", repr(float(value))


def write_index(path: Path, frames: dict[str, pd.DataFrame], statuses: Sequence, run_at: str,
                charts: Sequence[str]) -> Path:
    summary = frames["项目汇总"]
    counts = summary["状态"].value_counts() if len(summary) else pd.Series(dtype=int)
    out = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<title>绩效评价批量汇总</title>", f"<style>{_CSS}</style></head><body>",
           "<h1>绩效评价批量汇总</h1>",
           f'<p class="meta">运行时间：<span id="run-at">{_e(run_at)}</span>　'
           f"汇总表：<a href=\"{SUMMARY_XLSX}\">{SUMMARY_XLSX}</a></p>",
           '<p class="counts">' + "".join(
               f"<span>{label} <b>{int(counts.get(label, 0))}</b></span>"
               for label in ("已生成", "已是最新", "仅评分", "失败")) +
           f"<span>共 <b>{len(summary)}</b> 个项目</span></p>"]
    if charts:
        out.append('<div class="charts">' + "".join(
            f'<img src="{CHART_DIR}/{name}.png" alt="{_e(CHARTS[name][0])}">' for name in charts)
            + "</div>")
    columns = [("项目编号", "text"), ("名称", "text"), ("单位", "text"), ("年度", "num"), ("总分", "num"),
               ("等级", "text"), ("执行率", "num"), ("核查发现", "num"), ("状态", "text"), ("报告", "text")]
    years = sorted({str(int(y)) for y in summary.get("年度", []) if y is not None and y == y})
    out.append('<div class="filters"><label>筛选 <input id="q" type="search" placeholder="项目编号、名称、单位…">'
               "</label>")
    for label, col, options in (("状态", 8, ("已生成", "已是最新", "仅评分", "失败")),
                                ("等级", 5, ("优", "良", "中", "差")), ("年度", 3, years)):
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
        shown_status = f'{status}（{_e(row["失败原因"].split("：")[0])}）' if status == "失败" else status
        year = "" if row["年度"] is None else str(int(row["年度"]))
        cells = [
            (row["项目编号"], _e(row["项目编号"]), ""), (row["项目名称"], _e(row["项目名称"]), ""),
            (row["实施单位"], _e(row["实施单位"]), ""), (year, _e(year), "num"),
            (total_v, total, "num"),
            (row["等级"], f'<span class="grade-{_e(row["等级"])}">{_e(row["等级"])}</span>', ""),
            (rate_v, rate if rate == "—" else f"{rate}%", "num"),
            ("" if n_findings is None else str(n_findings), "—" if n_findings is None else str(n_findings), "num"),
            (status, shown_status, ""), ("", links, ""),
        ]
        css = ' class="failed"' if status == "失败" else ""
        out.append(f"<tr{css}>" + "".join(
            f'<td data-v="{_e(v)}"{" class=num" if k == "num" else ""}>{shown}</td>'
            for v, shown, k in cells) + "</tr>")
    out.append("</tbody></table>")
    failed = frames["失败项目"]
    out.append(f"<h2>失败项目（{len(failed)} 个）</h2>")
    if len(failed):
        out.append("<table><thead><tr><th>项目编号</th><th>年度</th><th>文件</th><th>阶段</th><th>原因</th>"
                   "<th>执行记录</th></tr></thead><tbody>")
        for row in map(_clean, failed.to_dict(orient="records")):
            note = f"\n（{row['说明']}）" if row["说明"] else ""
            nb = f'<a href="{_href(row["执行记录"])}">{_e(Path(row["执行记录"]).name)}</a>' if row["执行记录"] else ""
            year = "" if row["年度"] is None else str(int(row["年度"]))
            out.append(f"<tr><td>{_e(row['项目编号'])}</td><td>{year}</td><td>{_e(Path(row['文件']).name)}</td>"
                       f"<td>{_e(row['阶段'])}</td><td class=\"reason\">{_e(row['原因'] + note)}</td>"
                       f"<td>{nb}</td></tr>")
        out.append("</tbody></table>")
    else:
        out.append("<p>全部项目均已成功。</p>")
    out.append(f"<script>{_JS}</script></body></html>\n")
    return write_bytes_atomic(path, "\n".join(out).encode("utf-8"))


# ----------------------------------------------------------------------------- all

def write_summary(result) -> dict[str, Path]:
    """Write summary.xlsx, index.html and charts/*.png into the batch folder."""
    root: Path = result.root
    frames = summary_frames(result)
    summary = frames["项目汇总"]
    scored = summary[summary["总分"].notna()] if len(summary) else summary
    written: dict[str, Path] = {}
    pngs = chart_pngs(scored)
    for name, data in pngs.items():
        written[name] = write_bytes_atomic(root / CHART_DIR / f"{name}.png", data)
    written["xlsx"] = write_xlsx(root / SUMMARY_XLSX, frames, result.run_at)
    written["html"] = write_index(root / INDEX_HTML, frames, result.statuses, result.run_at, list(pngs))
    return written
