"""The report for differently shaped projects: the bundled third-party report, a 自评 project
(perfeval.synth) and a made-up 12-indicator project with many deviations (社区老年人助餐服务补贴项目,
written by save_project and read back). Checks the composed document model; one slow test renders
the PDFs and looks for captions left at the bottom of a page."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import perfeval
from perfeval.devtools.synth import generate
from perfeval.model import INDICATOR_COLUMNS, Project
from perfeval.report import compose as n
from perfeval.sheets.write import save_project

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"
GENERATED = "2024-05-06 07:08:09+08:00"
ELDERLY = "社区老年人助餐服务补贴项目"

# (一级, 二级, 三级/名称, 分值, 指标值, 实际完成值, 评分方法, 扣分, 扣分原因, 偏差原因, 改进措施)
_ROWS = [
    ("决策", "项目立项", "立项依据充分性", 5, "", "符合民政部门职责和养老服务规划", "扣分", 0, "", "", ""),
    ("决策", "绩效目标", "绩效目标合理性", 5, "", "部分目标未量化", "扣分", 1, "2项效益目标未量化", "", ""),
    ("决策", "资金投入", "资金分配合理性", 10, "", "按街道老年人口分配", "扣分", 2, "", "", ""),
    ("过程", "资金管理", "资金到位率", 5, "＝100%", "100%", "", None, "", "", ""),
    ("过程", "资金管理", "预算执行率", 10, "＝100%", "88%", "", None, "", "", ""),
    ("过程", "组织实施", "制度执行有效性", 5, "", "制度执行到位", "扣分", 0, "", "", ""),
    ("产出", "产出数量", "助餐服务人次（人次）", 10, "≥36000人次", "3.1万人次", "", None, "", "", ""),
    ("产出", "产出数量", "助餐点建设数量（个）", 10, "≥12个", "12个", "", None, "", "", ""),
    ("产出", "产出质量", "餐食抽检合格率（%）", 5, "≥98%", "96%", "", None, "", "两批次餐食留样不规范",
     "加强食品安全培训"),
    ("产出", "产出时效", "补贴发放及时性", 5, "2024年6月30日前", "2024年8月15日", "", None, "", "", ""),
    ("产出", "产出成本", "每餐补贴成本（元/餐）", 10, "≤8元", "8.42元", "", None, "", "", ""),
    ("效益", "社会效益", "老年人就餐便利程度", 10, "有效提升", "基本达到", "", None, "", "", ""),
    ("效益", "满意度", "服务对象满意度（%）", 10, "≥90%", "93.5%", "", None, "", "", ""),
]


def _elderly_project():
    rows = []
    for i, (l1, l2, name, w, target, actual, method, ded, ded_why, why, measure) in enumerate(_ROWS):
        rows.append({"row": i + 2, "level1": l1, "level2": l2, "level3": name, "name": name, "weight": float(w),
                     "target": target, "actual": actual, "method": "manual" if method else "",
                     "stated_score": np.nan, "deduction": np.nan if ded is None else float(ded),
                     "deduction_reason": ded_why, "reason": why, "measure": measure})
    indicators = pd.DataFrame(rows, columns=list(INDICATOR_COLUMNS))
    return Project(
        id="SQZC2024-01", name=ELDERLY, department="某区民政局", unit="某区养老服务指导中心", year=2024,
        method="第三方评价", scheme_id="third_party", budget=120.0, allocated=120.0, spent=105.6,
        indicators=indicators, info={"评价机构": "某某会计师事务所有限公司", "评价依据": "财预〔2020〕10号"})


@pytest.fixture(scope="module")
def projects(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("projects")
    elderly = save_project(_elderly_project(), folder / "elderly.xlsx")
    synth = next(s.project for s in generate(3, seed=1, broken_share=0)
                 if s.project.scheme_id == "self")
    own = save_project(synth, folder / "self.xlsx")
    return {"third_party": perfeval.evaluate(perfeval.load_project(REFERENCE)),
            "self": perfeval.evaluate(perfeval.load_project(own)),
            "deviations": perfeval.evaluate(perfeval.load_project(elderly))}


@pytest.fixture(scope="module")
def docs(projects) -> dict[str, n.ReportDoc]:
    return {k: n.compose(ev, GENERATED) for k, ev in projects.items()}


def _paragraphs(part: n.Part) -> list[n.Paragraph]:
    return [b for b in part.blocks if isinstance(b, n.Paragraph)]


def _text(part: n.Part) -> str:
    return "\n".join(b.text for b in part.blocks if isinstance(b, n.Paragraph | n.Heading))


# ------------------------------------------------------------------ every number from the evaluation

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?%?")


def _sheet_texts(ev) -> list[str]:
    """Texts copied from the sheet (their digits are the sheet's, not perfeval's), longest first."""
    ind = ev.indicators
    texts = {n.clean(ev.project.name), *(n.clean(v) for v in ev.project.narrative.values())}
    for column in ("level1", "level2", "level3", "name", "target", "actual", "reason", "measure",
                   "deduction_reason", "qualitative_level"):
        texts |= {n.clean(v) for v in ind[column]} if column in ind else set()
    return sorted((t for t in texts if t), key=len, reverse=True)


def _allowed(ev) -> set[str]:
    """Every figure 三, 四 and 五 may state, recomputed from the Evaluation (not from the narrative)."""
    places = max(ev.options.rate_decimals - 2, 0)
    num = lambda x: n.fmt_num(x, ev.options.decimals)  # noqa: E731
    pct = lambda x: n.fmt_pct(x, places)  # noqa: E731
    ind, b = ev.indicators, ev.budget
    out = {num(ev.total), num(ev.scheme.total_weight), num(ev.levels["weight"].sum()),
           pct(ev.total / ev.levels["weight"].sum()), str(ev.project.year), "12", "31", "1", "2"}
    for r in ev.levels.itertuples():
        out |= {num(r.weight), num(r.score), pct(r.score_rate), num(r.weight - r.score)}
    out |= {num(b.budget), num(b.allocated), num(b.spent), pct(b.execution_rate), pct(b.arrival_rate),
            pct(b.deviation_rate), pct(ev.options.deviation_threshold)}
    out |= {num(v) for v in b.funding.values()}
    tol = 0.5 * 10.0 ** -ev.options.decimals
    deviating = ((ind["lost"] > tol) | ((ind["fraction"] < 1 - 1e-9) & (ind["weight"] > 0)))
    for r in ind.itertuples():
        out |= {num(r.weight), num(r.score), num(r.lost), num(r.deduction), str(int(r.row))}
        if np.isfinite(r.completion):
            out.add(pct(r.completion))
        if np.isfinite(r.deviation):
            out |= {pct(abs(r.deviation)), pct(r.deviation)}
            sign = "+" if r.deviation > 0 else ""
            out.add(sign + pct(r.deviation))
        if np.isfinite(getattr(r, "late_months", np.nan)):
            out.add(str(int(r.late_months)))
    funds = ind["rule"].isin(["execution", "arrival"])
    dev = ind[deviating & ~funds]
    out |= {str(len(dev)), str(int((dev["deviation"].abs() > ev.options.deviation_threshold).sum())),
            str(int((dev["reason"].fillna("").str.strip().eq("")
                     & dev["deduction_reason"].fillna("").str.strip().eq("")).sum())),
            str(int(deviating.sum()))}
    out |= {str(len(ind[ind["level1"] == lv])) for lv in ev.levels["name"]}
    out |= {str(k) for k in range(1, len(ind) + 2)}  # ordinals （1）… and 序号
    return out


@pytest.mark.parametrize("kind", ["third_party", "self", "deviations"])
def test_every_number_in_three_four_five_is_the_evaluations(projects, docs, kind):
    ev, doc = projects[kind], docs[kind]
    allowed, sheet = _allowed(ev), _sheet_texts(ev)
    checked = 0
    for key in ("三", "四", "五"):
        for block in doc.part(key).blocks:
            if isinstance(block, n.Table):
                cells = [c for row in block.rows for c in row]
            elif isinstance(block, n.Paragraph | n.Heading):
                cells = [block.text]
            else:
                continue
            for cell in cells:
                for text in sheet:
                    cell = cell.replace(text, "")
                for number in _NUMBER.findall(cell):
                    checked += 1
                    assert number.lstrip("+") in allowed or number in allowed, (kind, key, number, cell)
    assert checked > 30


@pytest.mark.parametrize("kind", ["third_party", "self", "deviations"])
def test_headline_figures_recomputed(projects, docs, kind):
    ev, doc = projects[kind], docs[kind]
    total = n.fmt_num(round(float(ev.indicators["score"].sum()), 2))
    assert total == n.fmt_num(ev.total)
    assert f"本项目总得分为{total}分，绩效评级为“{ev.grade}”" in _text(doc.part("三"))
    levels = doc.tables()["levels"].rows
    for row, (name, group) in zip(levels, ev.indicators.groupby("level1", sort=False), strict=False):
        assert row[0] == name and row[2] == n.fmt_num(round(float(group["score"].sum()), 2))
    assert levels[-1][2] == total


# ------------------------------------------------------------------ the cases of issue 9


def test_project_is_never_doubled(docs):
    doc = docs["deviations"]
    words = doc.text()
    assert "项目”项目" not in words and "项目项目" not in words
    assert doc.title == f"{ELDERLY}支出绩效评价报告"
    assert f"“{ELDERLY}”预算120万元" in _text(doc.part("五"))
    assert doc.tables()["scores"].caption == f"附表\u3000{ELDERLY}绩效评价指标评分表"


def test_deviations_table_text_and_audit_agree(projects, docs):
    ev, doc = projects["deviations"], docs["deviations"]
    table = doc.tables()["deviations"]
    by_name = {r[1]: r for r in table.rows}
    # favourable results are not deviations; 扣分原因 explains a deduction
    assert "服务对象满意度（%）" not in by_name and "助餐点建设数量（个）" not in by_name
    assert by_name["绩效目标合理性"][7] == "扣分原因：2项效益目标未量化"
    unexplained_rows = {int(r[2]) for r in table.rows if r[7] == "未说明"}
    audit = ev.findings[ev.findings["code"] == "unexplained_deviation"]
    audit_rows = {int(re.search(r"第(\d+)行", w).group(1)) for w in audit["where"]}
    assert unexplained_rows == audit_rows and len(audit_rows) == 5
    text = _text(doc.part("五"))
    assert f"未说明偏差原因的{len(audit_rows)}个" in text
    assert f"绩效指标中有{len(table.rows)}个未达到预期目标或失分" in text
    # the funds rows are the budget paragraph's, never counted as unexplained indicators
    assert "预算执行率" not in by_name and "预算执行率指标失1.2分（指标表第6行），未说明原因" in text


def test_cost_over_its_ceiling_reads_as_exceeded(docs):
    text = _text(docs["deviations"].part("四"))
    sentence = next(line for line in text.split("\n") if "每餐补贴成本" in line)
    assert "超出成本控制目标5.3%（偏差率+5.3%），未达到预期目标" in sentence
    assert "完成率" not in sentence
    assert "服务对象满意度（%）：指标值≥90%，实际完成值93.5%，完成率103.9%，超额完成预期目标" in text
    late = next(line for line in text.split("\n") if "补贴发放及时性" in line)
    assert "逾期2个月完成，未达到预期目标" in late


def test_signed_deviation_is_the_same_in_table_and_text(docs):
    doc = docs["deviations"]
    words = _text(doc.part("四")) + _text(doc.part("五"))
    for row in doc.tables()["deviations"].rows:
        if row[5] != "—":
            assert f"偏差率{row[5]}" in words, row
    assert "偏差率-13.9%" in words and "偏差率13.9%" not in words


def test_every_info_field_is_in_the_basic_table(docs):
    rows = dict(docs["deviations"].tables()["info"].rows)
    assert rows["评价机构"] == "某某会计师事务所有限公司"
    assert rows["项目名称"] == ELDERLY and rows["年度"] == "2024年度"
    assert docs["deviations"].tables()["info"].caption == "表1\u3000项目基本信息"


def test_drafts_where_the_text_sheet_is_silent(docs):
    doc = docs["deviations"]
    for key, heading in (("一", "1.总体目标"), ("三", "（二）综合评价结论"), ("五", "（二）偏差原因分析"),
                         ("六", "（二）存在的问题及原因分析"), ("七", "七、有关建议")):
        blocks = list(doc.part(key).blocks)
        at = next(i for i, b in enumerate(blocks) if isinstance(b, n.Heading) and b.text == heading)
        mark = blocks[at + 1]
        assert (mark.style, mark.text) == ("draft-mark", n.DRAFT_MARK), key
        body = [b for b in blocks[at + 2:] if not isinstance(b, n.Paragraph) or b.style != "draft"]
        assert blocks[at + 2].style == "draft" and (not body or isinstance(body[0], n.Heading | n.Figure))
    problems = [b.text for b in _paragraphs(doc.part("六")) if b.style == "draft"]
    advice = [b.text for b in _paragraphs(doc.part("七")) if b.style == "draft"]
    assert len(problems) == len(advice) >= 7
    assert all(re.search(r"（指标表第\d+行", p) for p in problems)
    assert any("每餐补贴成本" in p and "（指标表第12行）" in p for p in problems)
    assert "指标表未说明偏差原因" in next(p for p in problems if "助餐服务人次" in p)
    conclusion = next(b.text for b in _paragraphs(doc.part("三")) if b.style == "draft")
    assert conclusion.startswith(f"经评价，“{ELDERLY}”2024年度总得分")


def test_missing_sections_carry_one_short_mark(docs):
    doc = docs["deviations"]
    marks = [b for b in doc.blocks() if isinstance(b, n.Paragraph) and b.style == "missing"]
    assert marks and {b.text for b in marks} == {n.MISSING_MARK}
    assert "工作表未填写" not in doc.text()
    note = [b.text for b in _paragraphs(doc.part("封面"))]
    assert any("项目背景" in t and "经验做法" in t for t in note)


def test_evaluators_text_is_never_mixed_with_a_draft(docs):
    doc = docs["third_party"]
    six = _paragraphs(doc.part("六"))
    assert not [b for b in six if b.style.startswith("draft")]
    assert "从评分结果看" not in _text(doc.part("六"))
    three = _paragraphs(doc.part("三"))
    assert not [b for b in three if b.style.startswith("draft")]


def test_self_evaluation_reads_as_a_self_report(projects, docs):
    ev, doc = projects["self"], docs["self"]
    assert doc.title.endswith("支出绩效自评报告") and "项目项目" not in doc.title
    level1 = [b.text for b in doc.blocks() if isinstance(b, n.Heading) and b.level == 1]
    assert level1[1] == "二、绩效自评工作开展情况" and level1[2] == "三、综合评价情况及自评结论"
    assert level1[3] == "四、绩效目标实现情况" and level1[8] == "附表\u3000项目支出绩效自评表"
    level2 = [b.text for b in doc.part("四").blocks if isinstance(b, n.Heading) and b.level == 2]
    assert level2 == ["（一）预算执行情况", "（二）产出指标完成情况", "（三）效益指标完成情况",
                      "（四）满意度指标完成情况"]
    tables = doc.tables()
    assert tables["selfeval_funds"].columns[1:] == ("全年预算数（A）", "全年执行数（B）", "分值", "执行率（B/A）",
                                                    "得分")
    self_table = tables["selfeval"]
    assert self_table.columns[-1] == "偏差原因分析及改进措施"
    assert self_table.rows[-1][:1] == ("总分",) and self_table.rows[-1][6] == n.fmt_num(ev.total)
    body = [r for i, r in enumerate(self_table.rows) if i not in self_table.strong]
    assert len(body) == int((ev.indicators["rule"] != "execution").sum())
    assert "评价组对照" not in _text(doc.part("三"))


def test_html_and_word_show_the_draft_mark(projects):
    import io

    from docx import Document

    from perfeval.report import html as report_html
    from perfeval.report.docx import render_docx

    doc = n.compose(projects["deviations"], GENERATED)
    markup = report_html.render_part(doc.part("七"))
    assert f'<p class="draft-mark">{n.DRAFT_MARK}</p>' in markup and '<p class="draft">' in markup
    word = Document(io.BytesIO(render_docx(doc, {})))
    marks = [p for p in word.paragraphs if p.text == n.DRAFT_MARK]
    assert len(marks) == 5
    assert all(p.runs[0].bold and p._p.pPr.find(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}shd") is not None for p in marks)
    caption = report_html.render_block(doc.tables()["deviations"], {})
    assert caption.startswith('<div class="table-block keep"><p class="caption">表')


def test_self_headings_in_word(projects):
    import io

    from docx import Document

    from perfeval.report.docx import render_docx

    doc = n.compose(projects["self"], GENERATED)
    word = Document(io.BytesIO(render_docx(doc, {})))
    headings = [p.text for p in word.paragraphs if p.style.name == "Heading 1"]
    assert "二、绩效自评工作开展情况" in headings and "附表\u3000项目支出绩效自评表" in headings


def test_report_and_audit_agree_over_a_portfolio():
    """Over a synthetic portfolio (both schemes): 五 counts, 表3 marks and the audit flag the same rows,
    and ceilings read as ceilings."""
    for synth in generate(12, seed=1, broken_share=0):
        ev = perfeval.evaluate(synth.project)
        doc = n.compose(ev, GENERATED)
        audit = ev.findings[ev.findings["code"] == "unexplained_deviation"]
        audit_rows = {int(re.search(r"第(\d+)行", w).group(1)) for w in audit["where"]}
        five = _text(doc.part("五"))
        assert f"未说明偏差原因的{len(audit_rows)}个" in five or (not audit_rows and "无偏差" in five)
        table = doc.tables().get("deviations")
        marked = {int(r[2]) for r in table.rows if r[7] == "未说明"} if table else set()
        assert marked == audit_rows, synth.project.id
        four = _text(doc.part("四")).split("\n")
        for r in ev.indicators[ev.indicators["rule"] == "negative"].itertuples():
            line = next(x for x in four if x.startswith("（") and f"）{r.name}：" in x)
            assert "完成率" not in line and ("未超出" in line or "超出" in line), line


# ------------------------------------------------------------------ rendered pages (slow)


def _page_lines(pdf: Path, page: int) -> list[str]:
    text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [line for line in lines if not re.search(r"第\s*\d+\s*页\s*/\s*共\s*\d+\s*页", line)]


def _pdf(ev, path: Path) -> tuple[n.ReportDoc, int]:
    """The report's PDF from its notebook outputs (no kernel): the document and its page count."""
    import nbformat

    from perfeval.fonts import font_face_css
    from perfeval.report import html as report_html
    from perfeval.report.pdf import render_pdf
    from perfeval.report.view import ReportView

    doc = n.compose(ev, GENERATED)
    view = ReportView(ev, doc)
    nb = nbformat.v4.new_notebook()
    for key in ("封面", *n.OUTLINE, "附表", "附录", "生成信息"):
        data, metadata = view.bundle(key)
        nb.cells.append(nbformat.v4.new_code_cell("", outputs=[
            nbformat.v4.new_output("display_data", data=data, metadata=metadata)]))
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)
    path.write_bytes(render_pdf(report_html.export_html(nb, doc.title, font_face_css(doc.text()))))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return doc, int(re.search(r"Pages:\s+(\d+)", info).group(1))


def _orphan_captions(doc: n.ReportDoc, pdf: Path, pages: int) -> list[tuple[int, str]]:
    """Pages whose last line is a table caption (its table then starts on the next page)."""
    def squeeze(text: str) -> str:
        return re.sub(r"[\s\u3000]+", "", text)

    captions = [squeeze(t.caption)[:8] for t in doc.tables().values() if t.caption.startswith(("表", "附表"))]
    assert captions
    out = []
    for page in range(1, pages + 1):
        lines = _page_lines(pdf, page)
        if lines and any(squeeze(lines[-1]).startswith(c) for c in captions):
            out.append((page, lines[-1]))
    return out


@pytest.mark.slow
def test_no_caption_ends_a_page(projects, tmp_path):
    """The three projects, and the many-deviations one with its 项目背景 growing a line at a time so
    every table caption passes the bottom of a page (before the fix 表1 was left there at 4 and 5
    lines)."""
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed")
    for kind, ev in projects.items():
        doc, pages = _pdf(ev, tmp_path / f"{kind}.pdf")
        assert _orphan_captions(doc, tmp_path / f"{kind}.pdf", pages) == [], kind
    line = "项目立项背景说明文字，用于推动版面位置变化以检验标题与表格是否分离。"
    for k in range(24):
        project = _elderly_project().replace(narrative={"项目背景": "\n".join([line] * k)})
        pdf = tmp_path / f"shift{k}.pdf"
        doc, pages = _pdf(perfeval.evaluate(project), pdf)
        assert _orphan_captions(doc, pdf, pages) == [], k


def test_word_keeps_charts_with_their_captions(projects):
    import io

    from docx import Document

    from perfeval.report.docx import render_docx
    from perfeval.report.view import ReportView

    doc = n.compose(projects["deviations"], GENERATED)
    view = ReportView(projects["deviations"], doc)
    images = {k: v for part in doc.parts for k, v in view.images(part).items()}
    word = Document(io.BytesIO(render_docx(doc, images)))
    paragraphs = word.paragraphs
    pictures = [i for i, p in enumerate(paragraphs) if p._p.xpath(".//pic:pic")]
    assert len(pictures) == 3
    for i in pictures:
        assert paragraphs[i].paragraph_format.keep_with_next
        assert paragraphs[i + 1].text.startswith("图") and paragraphs[i + 1].style.name == "Caption"
    captions = [p for p in paragraphs if p.style.name == "Caption" and p.text.startswith("表")]
    assert captions and all(p.paragraph_format.keep_with_next or p.style.paragraph_format.keep_with_next
                            for p in captions)
