"""The evaluation report as data: Chinese headings, paragraphs, tables and figure slots.

`compose(evaluation)` turns an `Evaluation` into a `ReportDoc` following the eight-part outline of
the reference report (一、基本情况 … 八、其他需要说明的问题, domain notes §4.3) plus 附表 (scoring
table) and 附录 数据核查 (audit findings). Every number is computed from the evaluation; texts from
the sheet are carried as plain strings (renderers escape them). Nothing here does I/O, so HTML,
PDF and Word renderers share one source and tests can check the numbers directly.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

from perfeval.understood import for_evaluation

if TYPE_CHECKING:
    from perfeval.evaluate import Evaluation

# ---------------------------------------------------------------- formatting


def _finite(x: object) -> bool:
    try:
        return x is not None and math.isfinite(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def fmt_num(x: object, places: int = 2) -> str:
    """20.0 -> '20', 19.780 -> '19.78', NaN -> '—' (scores and amounts as reports write them)."""
    if not _finite(x):
        return "—"
    text = f"{float(x):.{places}f}".rstrip("0").rstrip(".")  # type: ignore[arg-type]
    return "0" if text in ("-0", "") else text


def fmt_pct(rate: object, places: int = 1) -> str:
    """A fraction as a percentage: 0.95577 -> '95.6%', 1.0 -> '100%'."""
    return "—" if not _finite(rate) else fmt_num(float(rate) * 100, places) + "%"  # type: ignore[arg-type]


def fmt_money(x: object) -> str:
    return "—" if not _finite(x) else f"{fmt_num(x)}万元"


_CN_DIGITS = "零一二三四五六七八九"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals (一, 十, 十一, 二十三)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")
    return head + (_CN_DIGITS[ones] if ones else "")


def cn_count(n: int) -> str:
    """A count before a measure word: 2 -> '两' (两方面), otherwise `cn_number`."""
    return "两" if n == 2 else cn_number(n)


def circled(n: int) -> str:
    return _CIRCLED[n - 1] if 0 < n <= len(_CIRCLED) else f"({n})"


def join_cn(items: list[str]) -> str:
    """['a', 'b', 'c'] -> 'a、b和c'."""
    if len(items) <= 1:
        return "".join(items)
    return "、".join(items[:-1]) + "和" + items[-1]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: object) -> str:
    """Sheet text as a plain string: None/NaN -> '', control characters (illegal in XML) removed,
    Windows line ends normalised. Nothing is interpreted."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return _CONTROL.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n")).strip()


# ---------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Heading:
    level: int  # 1 = 一、 2 = （一） 3 = 1.
    text: str
    kind: str = "heading"


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: str = "body"  # body | note | missing
    kind: str = "paragraph"


@dataclass(frozen=True)
class Table:
    """A table of display strings. The first `merge` columns merge runs of equal values
    (the 一级/二级 columns of a scoring table); rows listed in `strong` are subtotal/total rows."""

    key: str
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()
    merge: int = 0
    strong: tuple[int, ...] = ()
    style: str = "grid"  # grid | kv
    widths: tuple[float, ...] = ()  # relative column widths (renderers normalise them)
    kind: str = "table"

    def fractions(self) -> tuple[float, ...]:
        """Column widths as fractions of the table width (empty: let the renderer decide)."""
        if len(self.widths) != len(self.columns) or sum(self.widths) <= 0:
            return ()
        total = sum(self.widths)
        return tuple(w / total for w in self.widths)

    def colspans(self) -> list[list[int]]:
        """Column spans: in strong (subtotal) rows the leading label cell also covers the empty
        cells right after it (e.g. 决策小计 across 一级/二级/三级); 0 marks a covered cell."""
        out = [[1] * len(row) for row in self.rows]
        for i in self.strong:
            row = self.rows[i]
            j = 1
            while j < len(row) and row[j] == "" and not (self.numeric and self.numeric[j]):
                out[i][0] += 1
                out[i][j] = 0
                j += 1
        return out

    def spans(self) -> list[list[int]]:
        """Row spans per cell: n > 0 starts a merged run of n rows, 0 is covered by the cell above.

        A run continues while the value (and every merged column to its left) repeats; strong
        (subtotal) rows and empty cells never merge."""
        out = [[1] * len(row) for row in self.rows]
        for col in range(min(self.merge, len(self.columns))):
            start = 0
            for i in range(1, len(self.rows) + 1):
                same = (
                    i < len(self.rows)
                    and i not in self.strong and start not in self.strong
                    and self.rows[i][col] != ""
                    and self.rows[i][: col + 1] == self.rows[start][: col + 1]
                    and all(out[i][c] == 0 for c in range(col))
                )
                if same:
                    out[i][col] = 0
                    continue
                out[start][col] = i - start
                start = i
        return out


@dataclass(frozen=True)
class Figure:
    chart: str  # key in perfeval.charts.CHARTS
    caption: str
    kind: str = "figure"


Block = Heading | Paragraph | Table | Figure
_KINDS = {"heading": Heading, "paragraph": Paragraph, "table": Table, "figure": Figure}


@dataclass(frozen=True)
class Part:
    """One top-level part of the report (一 … 八, 附表, 附录)."""

    key: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Provenance:
    source: str
    sha256: str
    version: str
    scheme_id: str
    scheme_name: str
    generated_at: str
    options: str = ""

    def lines(self) -> list[tuple[str, str]]:
        rows = [("输入文件", self.source), ("输入文件 SHA-256", self.sha256),
                ("perfeval 版本", self.version),
                ("评价方案", f"{self.scheme_id}（{self.scheme_name}）"),
                ("生成时间", self.generated_at)]
        if self.options:
            rows.append(("评分选项", self.options))
        return rows

    def text(self) -> str:
        return "；".join(f"{k}：{v}" for k, v in self.lines())


@dataclass(frozen=True)
class ReportDoc:
    title: str
    facts: tuple[tuple[str, str], ...]
    parts: tuple[Part, ...]
    provenance: Provenance

    def part(self, key: str) -> Part:
        for part in self.parts:
            if part.key == key:
                return part
        raise KeyError(key)

    def blocks(self) -> list[Block]:
        return [b for p in self.parts for b in p.blocks]

    def tables(self) -> dict[str, Table]:
        return {b.key: b for b in self.blocks() if isinstance(b, Table)}

    def text(self) -> str:
        """All the words of the report (for font subsetting and searching)."""
        words = [self.title, *(f"{k}{v}" for k, v in self.facts), self.provenance.text(),
                 "".join(PART_KEYS), RENDERER_WORDS]
        for block in self.blocks():
            if isinstance(block, Table):
                words += [block.caption, *block.columns, *("".join(r) for r in block.rows)]
            else:
                words.append(getattr(block, "text", "") or getattr(block, "caption", ""))
        return "\n".join(words)

    def to_dict(self) -> dict:
        return asdict(self)


def block_from_dict(data: dict) -> Block:
    cls = _KINDS[data["kind"]]
    if cls is Table:
        data = {**data, "columns": tuple(data["columns"]), "numeric": tuple(data["numeric"]),
                "rows": tuple(tuple(r) for r in data["rows"]), "strong": tuple(data["strong"]),
                "widths": tuple(data.get("widths", ()))}
    return cls(**data)


def part_from_dict(data: dict) -> Part:
    return Part(data["key"], tuple(block_from_dict(b) for b in data["blocks"]))


def doc_from_dict(data: dict) -> ReportDoc:
    return ReportDoc(data["title"], tuple(tuple(f) for f in data["facts"]),
                     tuple(part_from_dict(p) for p in data["parts"]),
                     Provenance(**data["provenance"]))


# ---------------------------------------------------------------- composition helpers

SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}
#: fixed words the renderers add around the blocks (headings, notes)
RENDERER_WORDS = "生成信息（图表未生成）输入 SHA-256 … · 第 页 / 共 页"
OUTLINE = ("一", "二", "三", "四", "五", "六", "七", "八")
PART_KEYS = ("封面", *OUTLINE, "附表", "附录")


@dataclass
class _Ctx:
    ev: Evaluation
    places: int
    rate_places: int
    figures: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)

    def num(self, x: object) -> str:
        return fmt_num(x, self.places)

    def pct(self, x: object) -> str:
        return fmt_pct(x, self.rate_places)

    def figure(self, chart: str, title: str) -> Figure:
        self.figures.append(chart)
        return Figure(chart, f"图{len(self.figures)}　{title}")

    def table_caption(self, title: str) -> str:
        self.tables.append(title)
        return f"表{len(self.tables)}　{title}"


def _narrative(ev: Evaluation, *keys: str) -> list[Paragraph]:
    """Paragraphs of the sheet's 文字 sections (one per line), or a note that they are missing."""
    out: list[Paragraph] = []
    for key in keys:
        text = clean(ev.project.narrative.get(key))
        out += [Paragraph(line.strip()) for line in text.split("\n") if line.strip()]
    if not out:
        out.append(Paragraph(f"（指标表「文字」工作表未填写「{'、'.join(keys)}」。）", "missing"))
    return out


def _level_heading(name: str) -> str:
    return f"项目{name}情况" if len(name) == 2 else f"{name}情况"


def _unique(values: pd.Series) -> list[str]:
    return [v for v in dict.fromkeys(clean(x) for x in values) if v]


def _lost_text(ctx: _Ctx, lost: float, score: float, reason: str = "") -> str:
    if not lost > 0.5 * 10.0 ** -ctx.places:
        return f"该指标不扣分，得{ctx.num(score)}分"
    why = f"（{reason}）" if reason else ""
    return f"该指标扣{ctx.num(lost)}分{why}，得{ctx.num(score)}分"


def _deviation_tail(row) -> str:
    parts = []
    if clean(row.reason):
        parts.append(f"偏差原因：{clean(row.reason)}")
    if clean(row.measure):
        parts.append(f"改进措施：{clean(row.measure)}")
    return "。".join(parts) + ("。" if parts else "")


def _indicator_sentence(ctx: _Ctx, n: int, row) -> str:
    ev = ctx.ev
    head = f"（{n}）{clean(row.name)}："
    tail = _deviation_tail(row)
    if row.rule in ("execution", "arrival"):
        b = ev.budget
        if row.rule == "execution":
            facts = (f"预算数{fmt_money(b.budget)}，到位数{fmt_money(b.allocated)}，执行数"
                     f"{fmt_money(b.spent)}，预算执行率{ctx.pct(b.execution_rate)}"
                     f"（执行数/{b.denominator_label}）")
        else:
            facts = (f"预算数{fmt_money(b.budget)}，实际到位{fmt_money(b.allocated)}，"
                     f"资金到位率{ctx.pct(b.arrival_rate)}")
        target = f"，指标值{clean(row.target)}" if clean(row.target) else ""
        return f"{head}{facts}{target}。根据评分标准，{_lost_text(ctx, row.lost, row.score)}。{tail}"
    if row.rule in ("manual", "checklist") or not clean(row.target):
        said = clean(row.actual) or "（未填写实际完成情况）"
        said = said.rstrip("。；;，,")
        return (f"{head}{said}。"
                f"根据评分标准，{_lost_text(ctx, row.lost, row.score, clean(row.deduction_reason))}。{tail}")
    facts = f"指标值{clean(row.target)}，实际完成值{clean(row.actual) or '未填写'}"
    if _finite(row.completion) and row.rule != "qualitative":
        facts += f"，完成率{ctx.pct(row.completion)}"
    if row.rule == "qualitative" and clean(getattr(row, "qualitative_level", "")):
        facts += f"，评定为“{clean(row.qualitative_level)}”"
    lost = row.lost > 0.5 * 10.0 ** -ctx.places
    if lost:
        verdict = "未完全达到预期目标"
    elif _finite(row.deviation) and abs(row.deviation) > 1e-9:
        verdict = "达到预期目标"
    else:
        verdict = "与预期目标一致"
    return (f"{head}{facts}，{verdict}。按{row.rule_label}规则计分，"
            f"{_lost_text(ctx, row.lost, row.score, clean(row.deduction_reason))}。{tail}")


# ---------------------------------------------------------------- parts


def _cover(ctx: _Ctx) -> Part:
    ev, b = ctx.ev, ctx.ev.budget
    counts = ev.findings_by_severity
    summary = Table(
        "summary", "评价结果摘要", ("项目", "结果"),
        (("总得分", f"{ctx.num(ev.total)}分（满分{ctx.num(ev.scheme.total_weight)}分）"),
         ("绩效等级", ev.grade),
         ("预算执行率", ctx.pct(b.execution_rate)),
         ("偏差率", ctx.pct(b.deviation_rate)),
         ("数据核查", f"错误{counts['error']}项，警告{counts['warning']}项，提示{counts['info']}项")),
        (False, False), style="kv")
    return Part("封面", (summary,))


def _part_one(ctx: _Ctx) -> Part:
    ev, p, b = ctx.ev, ctx.ev.project, ctx.ev.budget
    blocks: list[Block] = [Heading(1, "一、基本情况"), Heading(2, "（一）项目概况"),
                           Heading(3, "1.项目背景"), *_narrative(ev, "项目背景"),
                           Heading(3, "2.主要内容及实施情况"), *_narrative(ev, "主要内容", "实施情况"),
                           Heading(3, "3.项目实施主体")]
    who = [f"主管部门：{clean(p.department)}" if clean(p.department) else "",
           f"实施单位：{clean(p.unit)}" if clean(p.unit) else ""]
    if any(who):
        blocks.append(Paragraph("；".join(w for w in who if w) + "。"))
    if clean(p.narrative.get("项目实施主体")):
        blocks += _narrative(ev, "项目实施主体")
    blocks.append(Heading(3, "4.资金投入和使用情况"))
    sources = [(k, v) for k, v in b.funding.items() if _finite(v)]
    money = (f"本项目年度预算数{fmt_money(b.budget)}，实际到位{fmt_money(b.allocated)}，"
             f"资金到位率{ctx.pct(b.arrival_rate)}")
    if sources:
        money += "。其中：" + "，".join(f"{clean(k)}{fmt_money(v)}" for k, v in sources)
    blocks.append(Paragraph(
        money + f"。截至{p.year}年12月31日，实际支出{fmt_money(b.spent)}，预算执行率"
        f"{ctx.pct(b.execution_rate)}（执行数/{b.denominator_label}），偏差率{ctx.pct(b.deviation_rate)}。"))
    rows = [("年度资金总额", ctx.num(b.budget), ctx.num(b.allocated), ctx.num(b.spent),
             ctx.pct(b.arrival_rate), ctx.pct(b.execution_rate), ctx.pct(b.deviation_rate))]
    rows += [(f"其中：{clean(k)}", ctx.num(v), "—", "—", "—", "—", "—") for k, v in sources]
    blocks.append(Table("funds", ctx.table_caption("项目资金情况（单位：万元）"),
                        ("项目", "预算数", "到位数", "执行数", "资金到位率", "预算执行率", "偏差率"),
                        tuple(rows), (False, True, True, True, True, True, True), strong=(0,),
                        widths=(22, 12, 12, 12, 14, 14, 12)))
    blocks.append(ctx.figure("budget", "预算资金到位与执行情况"))
    blocks += [Heading(2, "（二）项目绩效目标"), Heading(3, "1.总体目标"), *_narrative(ev, "总体目标"),
               Heading(3, "2.阶段性目标及绩效指标")]
    if clean(p.narrative.get("阶段性目标")):
        blocks += _narrative(ev, "阶段性目标")
    blocks += _targets(ctx)
    return Part("一", tuple(blocks))


def _targets(ctx: _Ctx) -> list[Block]:
    ind = ctx.ev.indicators
    # performance targets: what the project set out to deliver, not the evaluation's own
    # criteria (budget execution, fund arrival, deduction checklists)
    criteria = ind["rule"].isin(["execution", "arrival", "manual", "checklist"])
    with_target = ind[(ind["target"].map(clean) != "") & ~criteria]
    if with_target.empty:
        return [Paragraph("指标表未设定量化指标值。", "missing")]
    out: list[Block] = [Paragraph(f"项目共设置{len(with_target)}个有指标值的绩效指标，具体如下：")]
    for i, (level, group) in enumerate(with_target.groupby("level1", sort=False), start=1):
        out.append(Paragraph(f"（{i}）项目{level}目标", "lead"))
        for j, (level2, sub) in enumerate(group.groupby("level2", sort=False), start=1):
            items = "；".join(f"“{clean(r.name)}”指标，预期指标值为{clean(r.target)}"
                             for r in sub.itertuples())
            out.append(Paragraph(f"{circled(j)}{clean(level2)}：{items}。"))
    return out


def _part_two(ctx: _Ctx) -> Part:
    ev, p = ctx.ev, ctx.ev.project
    ind = ev.indicators
    blocks: list[Block] = [Heading(1, "二、绩效评价工作开展情况"),
                           Heading(2, "（一）绩效评价目的、对象和范围"), Heading(3, "1.绩效评价目的"),
                           *_narrative(ev, "评价目的"), Heading(3, "2.绩效评价对象和范围")]
    blocks.append(Paragraph(
        f"本次评价对象为{p.year}年度“{clean(p.name)}”项目（项目编号{clean(p.id)}），范围涵盖项目预算资金"
        f"{fmt_money(ev.budget.budget)}的全部支出、项目绩效目标及{len(ind)}个三级绩效指标的完成情况。"))
    blocks += [Heading(2, "（二）绩效评价指标体系、评价方法和评价标准"), Heading(3, "1.评价依据")]
    basis = clean(p.info.get("评价依据"))
    blocks.append(Paragraph(f"本次评价依据：{basis}。" if basis else
                            "（项目信息未填写「评价依据」。）", "body" if basis else "missing"))
    blocks.append(Heading(3, "2.绩效评价指标体系"))
    weights = "、".join(f"{lv.name}{ctx.num(lv.weight)}分" for lv in ev.scheme.levels)
    blocks.append(Paragraph(
        f"本次评价采用“{ev.scheme.name}”指标体系，总分{ctx.num(ev.scheme.total_weight)}分，"
        f"其中{weights}；共{len(ind)}个三级指标（详见附表）。"))
    for label, column in (("一级", "level1"), ("二级", "level2"), ("三级", "level3")):
        blocks.append(Paragraph(f"{label}指标为：{'、'.join(_unique(ind[column]))}。"))
    blocks.append(Heading(3, "3.评价方法和计分规则"))
    rules = ind.groupby("rule_label", sort=False).size()
    rule_text = "、".join(f"{label}{n}个" for label, n in rules.items())
    o = ev.options
    rounding = {"half_up": "四舍五入", "half_even": "银行家舍入", "truncate": "截尾"}[o.rounding]
    blocks.append(Paragraph(
        f"各三级指标按其评分方法计分：{rule_text}。单项得分保留{o.decimals}位小数（{rounding}），"
        f"一级指标得分为其下各三级指标得分之和，总得分为各一级指标得分之和；预算执行率＝执行数/"
        f"{ev.budget.denominator_label}；偏差率绝对值超过{ctx.pct(o.deviation_threshold)}的指标须说明偏差原因。"))
    blocks.append(Heading(3, "4.评价标准"))
    blocks.append(Paragraph(_grade_text(ctx) + "。"))
    blocks += [Heading(2, "（三）绩效评价工作过程"), *_narrative(ev, "评价工作过程")]
    team = clean(p.info.get("评价组"))
    if team:
        blocks.append(Paragraph(f"评价组成员：{team}。"))
    return Part("二", tuple(blocks))


def _grade_text(ctx: _Ctx) -> str:
    bands = ctx.ev.scheme.grade_bands  # highest first
    names = "、".join(g for g, _ in bands)
    parts, upper = [], ctx.ev.scheme.total_weight
    for grade, lower in bands:
        low = f"{ctx.num(lower)}分（含）" if lower > 0 else "0分"
        parts.append(f"{grade}（{low}—{ctx.num(upper)}分）")
        upper = lower
    return f"评价结果分为{names}{cn_count(len(bands))}个等级：" + "；".join(parts)


def _part_three(ctx: _Ctx) -> Part:
    ev = ctx.ev
    levels = "，".join(f"{r.name}类指标得分{ctx.num(r.score)}分" for r in ev.levels.itertuples())
    rows = [(r.name, ctx.num(r.weight), ctx.num(r.score), ctx.pct(r.score_rate))
            for r in ev.levels.itertuples()]
    weight = float(ev.levels["weight"].sum())
    rows.append(("合计", ctx.num(weight), ctx.num(ev.total),
                 ctx.pct(ev.total / weight if weight else float("nan"))))
    blocks: list[Block] = [
        Heading(1, "三、综合评价情况及评价结论"), Heading(2, "（一）综合评价情况"),
        Paragraph(f"评价组对照项目绩效评价指标体系，从{join_cn(list(ev.levels['name']))}"
                  f"{cn_count(len(ev.levels))}个维度，对“{clean(ev.project.name)}”项目绩效进行评价，"
                  f"本项目总得分为{ctx.num(ev.total)}分，绩效评级为“{ev.grade}”。其中，{levels}。"
                  "各项指标得分详见附表。"),
        Table("levels", ctx.table_caption("一级指标得分情况"), ("一级指标", "分值", "得分", "得分率"),
              tuple(rows), (False, True, True, True), strong=(len(rows) - 1,),
              widths=(40, 20, 20, 20)),
        ctx.figure("score_rate", "各一级指标得分率"),
        Heading(2, "（二）综合评价结论"),
        Paragraph(f"经评价，本项目总得分{ctx.num(ev.total)}分，评价等级为“{ev.grade}”。"),
    ]
    if clean(ev.project.narrative.get("综合评价结论")):
        blocks += _narrative(ev, "综合评价结论")
    return Part("三", tuple(blocks))


def _part_four(ctx: _Ctx) -> Part:
    ev = ctx.ev
    ind = ev.indicators
    blocks: list[Block] = [Heading(1, "四、绩效评价指标分析")]
    for i, level in enumerate(ev.levels.itertuples(), start=1):
        rows = ind[ind["level1"] == level.name]
        blocks.append(Heading(2, f"（{cn_number(i)}）{_level_heading(level.name)}"))
        if rows.empty:
            blocks.append(Paragraph(f"本项目未设置{level.name}类指标。", "missing"))
            continue
        level2 = _unique(rows["level2"])
        blocks.append(Paragraph(
            f"项目{level.name}类指标包括{join_cn(level2)}{cn_count(len(level2))}方面的内容，"
            f"由{len(rows)}个三级指标构成，权重分为{ctx.num(level.weight)}分，实际得分"
            f"{ctx.num(level.score)}分，得分率为{ctx.pct(level.score_rate)}。"))
        blocks += [Paragraph(_indicator_sentence(ctx, n, r))
                   for n, r in enumerate(rows.itertuples(), start=1)]
    blocks.append(ctx.figure("points_lost", "各指标失分情况（从大到小）"))
    return Part("四", tuple(blocks))


def deviating_indicators(ev: Evaluation) -> pd.DataFrame:
    """Indicators the deviation section lists: off target, losing points, or with a stated reason."""
    ind = ev.indicators
    tol = 0.5 * 10.0 ** -ev.options.decimals
    off = ind["deviation"].abs().fillna(0) > 1e-9
    explained = (ind["reason"].map(clean) != "") | (ind["measure"].map(clean) != "")
    return ind[off | (ind["lost"] > tol) | explained]


def _part_five(ctx: _Ctx) -> Part:
    ev, b, p = ctx.ev, ctx.ev.budget, ctx.ev.project
    dev = deviating_indicators(ev)
    threshold = ev.options.deviation_threshold
    large = dev["deviation"].abs() > threshold + 1e-12
    unexplained = dev[(dev["reason"].map(clean) == "")]
    has = len(dev) > 0 or (_finite(b.deviation_rate) and abs(b.deviation_rate) > 1e-9)
    text = (f"{'有偏差' if has else '无偏差'}：“{clean(p.name)}”项目预算{fmt_money(b.budget)}，"
            f"到位{fmt_money(b.allocated)}，实际支出{fmt_money(b.spent)}，预算执行率为"
            f"{ctx.pct(b.execution_rate)}，偏差率为{ctx.pct(b.deviation_rate)}。")
    if len(dev):
        text += (f"绩效指标中有{len(dev)}个存在偏差、失分或填写了偏差原因，其中偏差率绝对值超过"
                 f"{ctx.pct(threshold)}的{int(large.sum())}个，未说明偏差原因的{len(unexplained)}个，"
                 "逐项列示如下。")
    else:
        text += "各项绩效指标均按指标值完成，无偏差。"
    blocks: list[Block] = [Heading(1, "五、预算执行进度与绩效指标偏差"), Paragraph(text)]
    if len(dev):
        rows = tuple(
            (str(n), clean(r.name), clean(r.target) or "—", clean(r.actual) or "—",
             ctx.pct(r.deviation), ctx.num(r.lost), clean(r.reason) or "未说明",
             clean(r.measure) or "未说明")
            for n, r in enumerate(dev.itertuples(), start=1))
        blocks.append(Table(
            "deviations", ctx.table_caption("绩效指标偏差及原因"),
            ("序号", "指标", "指标值", "实际完成值", "偏差率", "失分", "偏差原因", "改进措施"), rows,
            (True, False, False, False, True, True, False, False),
            widths=(5, 19, 10, 10, 8, 6, 21, 21)))
    return Part("五", tuple(blocks))


def _part_six(ctx: _Ctx) -> Part:
    ev = ctx.ev
    blocks: list[Block] = [Heading(1, "六、主要经验及做法、存在的问题及原因分析"),
                           Heading(2, "（一）主要经验及做法"), *_narrative(ev, "经验做法"),
                           Heading(2, "（二）存在问题及原因分析"), *_narrative(ev, "存在问题")]
    lost = ev.indicators[ev.indicators["lost"] > 0.5 * 10.0 ** -ev.options.decimals]
    if len(lost):
        lost = lost.sort_values("lost", ascending=False, kind="stable")
        items = "、".join(f"“{clean(r.name)}”（失{ctx.num(r.lost)}分）" for r in lost.itertuples())
        blocks.append(Paragraph(f"从评分结果看，共{len(lost)}个指标失分，合计失{ctx.num(lost['lost'].sum())}分："
                                f"{items}。"))
    return Part("六", tuple(blocks))


def _part_simple(key: str, heading: str, *sections: str):
    def build(ctx: _Ctx) -> Part:
        return Part(key, (Heading(1, heading), *_narrative(ctx.ev, *sections)))
    return build


def _scoring_table(ctx: _Ctx) -> Part:
    ev = ctx.ev
    ind = ev.indicators
    read = for_evaluation(ev, sep="\n")["understood"]
    named = bool((ind["name"].map(clean) != ind["level3"].map(clean)).any())
    columns = ("一级指标", "二级指标", "三级指标", *(("指标名称",) if named else ()),
               "分值", "指标值", "实际完成值", "解读", "得分", "得分率")
    rows: list[tuple[str, ...]] = []
    strong: list[int] = []
    pad = ("",) if named else ()
    for level in ev.levels.itertuples():
        members = ind["level1"] == level.name
        for r, understood in zip(ind[members].itertuples(), read[members], strict=True):
            rate = r.score / r.weight if r.weight else float("nan")
            rows.append((clean(r.level1), clean(r.level2), clean(r.level3),
                         *((clean(r.name),) if named else ()), ctx.num(r.weight),
                         clean(r.target) or "—", clean(r.actual) or "—", understood or "—",
                         ctx.num(r.score), ctx.pct(rate)))
        strong.append(len(rows))
        rows.append((f"{level.name}小计", "", "", *pad, ctx.num(level.weight), "", "", "",
                     ctx.num(level.score), ctx.pct(level.score_rate)))
    weight = float(ev.levels["weight"].sum())
    strong.append(len(rows))
    rows.append(("合计", "", "", *pad, ctx.num(weight), "", "", "", ctx.num(ev.total),
                 ctx.pct(ev.total / weight if weight else float("nan"))))
    numeric = (False, False, False, *((False,) if named else ()), True, False, False, False, True, True)
    widths = (5.5, 7, 10, *((13,) if named else ()), 5, 9, 17.5, 17.5, 6, 7)
    table = Table("scores", f"附表　{clean(ev.project.name)}项目绩效评价指标评分表", columns,
                  tuple(rows), numeric, merge=2, strong=tuple(strong), widths=widths)
    note = ("“解读”列为评分所依据的读数：目标与实际完成值按所写数值、单位换算后的结果，"
            "定性指标的判定等级，扣分指标的扣分，以及按资金计算的执行率、到位率。")
    return Part("附表", (Heading(1, "附表　绩效评价指标评分表"), table,
                         Paragraph(f"总得分{ctx.num(ev.total)}分，绩效等级“{ev.grade}”。", "note"),
                         Paragraph(note, "note")))


def _appendix(ctx: _Ctx) -> Part:
    ev = ctx.ev
    f = ev.findings
    counts = ev.findings_by_severity
    blocks: list[Block] = [Heading(1, "附录　数据核查")]
    intro = ("本附录由 perfeval 按指标表、项目信息和报告数值逐项复核生成，列出报告所述数值与按指标表"
             "计算的结果不一致之处及其他需要核实的事项，供审核人员参考。")
    if f.empty:
        blocks.append(Paragraph(intro + "本次复核未发现问题。"))
        return Part("附录", tuple(blocks))
    blocks.append(Paragraph(intro + f"共{len(f)}项：错误{counts['error']}项，警告{counts['warning']}项，"
                                    f"提示{counts['info']}项。"))
    order = {"error": 0, "warning": 1, "info": 2}
    ranked = f.assign(_o=f["severity"].map(order).fillna(3)).sort_values("_o", kind="stable")
    rows = tuple((str(n), SEVERITY_LABELS.get(r.severity, clean(r.severity)), clean(r.message),
                  clean(r.where)) for n, r in enumerate(ranked.itertuples(), start=1))
    blocks.append(Table("findings", ctx.table_caption("数据核查结果"), ("序号", "级别", "说明", "位置"),
                        rows, (True, False, False, False), widths=(5, 7, 63, 25)))
    return Part("附录", tuple(blocks))


PART_BUILDERS = (
    _cover, _part_one, _part_two, _part_three, _part_four, _part_five, _part_six,
    _part_simple("七", "七、有关建议", "建议"),
    _part_simple("八", "八、其他需要说明的问题", "其他需要说明的问题"),
    _scoring_table, _appendix,
)


def report_title(ev: Evaluation) -> str:
    name = clean(ev.project.name)
    return f"{name}{'' if name.endswith('项目') else '项目'}支出绩效评价报告"


def _options_note(ev: Evaluation) -> str:
    changed = [f"{k}={v}" for k, v in asdict(ev.options).items()
               if getattr(ev.scheme.options, k) != v]
    return "，".join(changed)


def provenance(ev: Evaluation, generated_at: datetime | str | None = None) -> Provenance:
    from perfeval import __version__

    if generated_at is None:
        generated_at = datetime.now().astimezone()
    if isinstance(generated_at, datetime):
        generated_at = generated_at.isoformat(sep=" ", timespec="seconds")
    p = ev.project
    source = p.source.name if p.source is not None else "（内存中的项目）"
    return Provenance(source=clean(source), sha256=p.sha256 or "（无）", version=__version__,
                      scheme_id=ev.scheme.id, scheme_name=ev.scheme.name,
                      generated_at=str(generated_at), options=_options_note(ev))


def compose(ev: Evaluation, generated_at: datetime | str | None = None) -> ReportDoc:
    """The whole report for one evaluation."""
    p = ev.project
    ctx = _Ctx(ev, ev.options.decimals, max(ev.options.rate_decimals - 2, 0))
    facts = (("项目名称", clean(p.name)), ("项目编号", clean(p.id)), ("主管部门", clean(p.department)),
             ("实施单位", clean(p.unit)), ("评价年度", f"{p.year}年度"), ("评价方式", clean(p.method)),
             ("评价方案", ev.scheme.name))
    parts = tuple(build(ctx) for build in PART_BUILDERS)
    return ReportDoc(report_title(ev), tuple((k, v) for k, v in facts if v), parts,
                     provenance(ev, generated_at))
