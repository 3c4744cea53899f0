"""The evaluation report composed from an `Evaluation`.

`compose(evaluation)` gives a `perfeval.report.document.ReportDoc` following the eight-part outline of the
reference report (一、基本情况 … 八、其他需要说明的问题, domain notes §4.3) plus 附表 (scoring table) and
附录 数据核查 (audit findings). Every number is computed from the evaluation; texts from the sheet are carried
as plain strings (renderers escape them). Nothing here does I/O, so HTML, PDF and Word renderers share one
source and tests can check the numbers directly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

from perfeval.display import SEVERITY_LABELS, fmt_money, fmt_num, fmt_pct, signed_pct
from perfeval.display import finite as _finite
from perfeval.report.document import (  # noqa: F401  (the rest of the old perfeval.report.narrative, re-exported)
    DRAFT_MARK,
    MISSING_MARK,
    OUTLINE,
    PART_KEYS,
    RENDERER_WORDS,
    Block,
    Figure,
    Heading,
    Paragraph,
    Part,
    Provenance,
    ReportDoc,
    Table,
    block_from_dict,
    circled,
    clean,
    cn_count,
    cn_number,
    doc_from_dict,
    join_cn,
    part_from_dict,
)
from perfeval.scoring.deviations import FUNDS_RULES, classify, deviating, tolerance
from perfeval.scoring.understood import for_evaluation

if TYPE_CHECKING:
    from perfeval.scoring.evaluate import Evaluation

#: headings that differ between a third-party evaluation report and a 自评 report
HEADINGS = {
    "third_party": {
        "二": "二、绩效评价工作开展情况", "二(一)": "（一）绩效评价目的、对象和范围",
        "二(一)1": "1.绩效评价目的", "二(一)2": "2.绩效评价对象和范围",
        "二(二)": "（二）绩效评价指标体系、评价方法和评价标准", "二(三)": "（三）绩效评价工作过程",
        "三": "三、综合评价情况及评价结论", "三(二)": "（二）综合评价结论",
        "四": "四、绩效评价指标分析", "五": "五、预算执行进度与绩效指标偏差",
        "六": "六、主要经验及做法、存在的问题及原因分析", "七": "七、有关建议",
        "附表": "附表\u3000绩效评价指标评分表", "subject": "评价", "team": "评价组",
    },
    "self": {
        "二": "二、绩效自评工作开展情况", "二(一)": "（一）自评目的、对象和范围",
        "二(一)1": "1.自评目的", "二(一)2": "2.自评对象和范围",
        "二(二)": "（二）自评指标体系、方法和标准", "二(三)": "（三）自评工作过程",
        "三": "三、综合评价情况及自评结论", "三(二)": "（二）自评结论",
        "四": "四、绩效目标实现情况", "五": "五、预算执行进度与绩效目标偏差情况",
        "六": "六、主要经验及做法、存在的问题及原因分析", "七": "七、下一步改进措施和建议",
        "附表": "附表\u3000项目支出绩效自评表", "subject": "自评", "team": "自评工作组",
    },
}


def with_project(name: str) -> str:
    """'X' -> 'X项目', 'X项目' -> 'X项目' (never 项目项目)."""
    name = clean(name)
    return name if name.endswith("项目") else f"{name}项目"


def quoted_project(name: str) -> str:
    """'X' -> '“X”项目', 'X项目' -> '“X项目”' (never “X项目”项目)."""
    name = clean(name)
    return f"“{name}”" if name.endswith("项目") else f"“{name}”项目"


def is_self_evaluation(ev: Evaluation) -> bool:
    """A report of the 自评 scheme reads as a 自评 report."""
    return ev.scheme.id == "self"


@dataclass(frozen=True)
class Issue:
    """One problem the data shows (六) and the suggestion that answers it (七)."""

    text: str
    advice: str


@dataclass
class _Ctx:
    ev: Evaluation
    places: int
    rate_places: int
    figures: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    drafted: list[str] = field(default_factory=list)
    _issues: list[Issue] | None = None
    _ind: pd.DataFrame | None = None

    @property
    def self_eval(self) -> bool:
        return is_self_evaluation(self.ev)

    def h(self, key: str) -> str:
        return HEADINGS["self" if self.self_eval else "third_party"][key]

    @property
    def ind(self) -> pd.DataFrame:
        """The evaluation's indicators with the deviation classification (perfeval.deviations)."""
        if self._ind is None:
            ind = self.ev.indicators
            self._ind = ind.join(classify(ind, self.ev.options.decimals))
        return self._ind

    def num(self, x: object) -> str:
        return fmt_num(x, self.places)

    def pct(self, x: object) -> str:
        return fmt_pct(x, self.rate_places)

    def dev(self, x: object) -> str:
        return signed_pct(x, self.rate_places)

    def figure(self, chart: str, title: str) -> Figure:
        self.figures.append(chart)
        return Figure(chart, f"图{len(self.figures)}　{title}")

    def table_caption(self, title: str) -> str:
        self.tables.append(title)
        return f"表{len(self.tables)}　{title}"

    def issues(self) -> list[Issue]:
        if self._issues is None:
            self._issues = _issues(self)
        return self._issues


def _lines(ev: Evaluation, *keys: str) -> list[str]:
    out: list[str] = []
    for key in keys:
        text = clean(ev.project.narrative.get(key))
        out += [line.strip() for line in text.split("\n") if line.strip()]
    return out


def _narrative(ctx: _Ctx, *keys: str) -> list[Paragraph]:
    """The evaluator's 文字 sections (one paragraph per line), or one short missing mark: these
    sections need facts the indicator data cannot give."""
    lines = _lines(ctx.ev, *keys)
    if lines:
        return [Paragraph(line) for line in lines]
    ctx.missing.append("、".join(keys))
    return [Paragraph(MISSING_MARK, "missing")]


def _written_or_draft(ctx: _Ctx, key: str, draft: list[str]) -> list[Paragraph]:
    """A section is either the evaluator's text (文字 section `key`) or a draft composed from the
    data under its mark — never both."""
    lines = _lines(ctx.ev, key)
    if lines:
        return [Paragraph(line) for line in lines]
    if not draft:
        ctx.missing.append(key)
        return [Paragraph(MISSING_MARK, "missing")]
    ctx.drafted.append(key)
    return [Paragraph(DRAFT_MARK, "draft-mark"), *(Paragraph(t, "draft") for t in draft)]


def _level_heading(name: str, self_eval: bool = False) -> str:
    if self_eval:
        return "预算执行情况" if name == "预算执行率" else f"{name}指标完成情况"
    return f"项目{name}情况" if len(name) == 2 else f"{name}情况"


def _unique(values: pd.Series) -> list[str]:
    return [v for v in dict.fromkeys(clean(x) for x in values) if v]


def _lost(ctx: _Ctx, lost: float) -> bool:
    return lost > tolerance(ctx.places)


def _lost_text(ctx: _Ctx, lost: float, score: float, reason: str = "") -> str:
    if not _lost(ctx, lost):
        return f"该指标不扣分，得{ctx.num(score)}分"
    why = f"（{reason}）" if reason else ""
    return f"该指标扣{ctx.num(lost)}分{why}，得{ctx.num(score)}分"


def _deviation_tail(row) -> str:
    parts = []
    if clean(row.reason):
        parts.append(f"偏差原因：{clean(row.reason)}")
    if clean(row.measure):
        parts.append(f"改进措施：{clean(row.measure)}")
    return "。".join(p.rstrip("。；;") for p in parts) + ("。" if parts else "")


def outcome(ctx: _Ctx, row) -> str:
    """What the indicator achieved against its target, in words that fit its direction
    (正向/反向/成本/等于/区间/零目标/时效/定性) and whether the target was met."""
    d, met = row.direction, bool(row.met)
    dev = ctx.dev(row.deviation)
    off = ctx.pct(abs(row.deviation)) if _finite(row.deviation) else "—"
    if d == "正向":
        done = f"完成率{ctx.pct(row.completion)}" if _finite(row.completion) else "完成率无法计算"
        if met:
            over = _finite(row.completion) and row.completion > 1 + 1e-9
            return f"{done}，{'超额完成' if over else '达到'}预期目标"
        return f"{done}（偏差率{dev}），未达到预期目标"
    if d in ("反向", "成本"):
        ceiling = "成本控制目标" if d == "成本" else "控制目标"
        if met:
            return f"未超出{ceiling}，达到预期目标"
        return f"超出{ceiling}{off}（偏差率{dev}），未达到预期目标"
    if d == "等于":
        if met:
            above = _finite(row.deviation) and row.deviation > 1e-9
            return "高于指标值，达到预期目标" if above else "与指标值一致，达到预期目标"
        side = "高于" if _finite(row.deviation) and row.deviation > 0 else "低于"
        return f"{side}指标值{off}（偏差率{dev}），未达到预期目标"
    if d == "区间":
        if met:
            return "处于指标值区间内，达到预期目标"
        side = "高于区间上限" if _finite(row.deviation) and row.deviation > 0 else "低于区间下限"
        return f"{side}{off}（偏差率{dev}），未达到预期目标"
    if d == "零目标":
        return "实现零目标，达到预期目标" if met else "未实现零目标，未达到预期目标"
    if d == "时效":
        if met:
            return "按期完成，达到预期目标"
        months = getattr(row, "late_months", float("nan"))
        late = f"逾期{int(months)}个月完成" if _finite(months) and months > 0 else "未按期完成"
        return f"{late}，未达到预期目标"
    if d == "定性":
        level = clean(getattr(row, "qualitative_level", ""))
        said = f"评定为“{level}”" if level else "无法从实际完成情况判定等级"
        return f"{said}，{'达到' if met else '未完全达到'}预期目标"
    return "达到预期目标" if met else "未达到预期目标"


def _indicator_sentence(ctx: _Ctx, n: int, row) -> str:
    ev = ctx.ev
    head = f"（{n}）{clean(row.name)}："
    tail = _deviation_tail(row)
    source = clean(getattr(row, "data_source", ""))
    if source:  # where the figure comes from (a survey: n and the margin of error), before the deviation note
        tail = f"数据来源：{source.rstrip('。')}。{tail}"
    if row.rule in FUNDS_RULES:
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
    return (f"{head}{facts}，{outcome(ctx, row)}。按{row.rule_label}规则计分，"
            f"{_lost_text(ctx, row.lost, row.score, clean(row.deduction_reason))}。{tail}")


def _where(row) -> str:
    return f"指标表第{int(row.row)}行" if _finite(row.row) else "指标表"


# ---------------------------------------------------------------- problems and suggestions

#: audit findings that describe the project's data (not the figures of a report under review),
#: each with the problem it shows and the suggestion that answers it
FINDING_ISSUES: dict[str, tuple[str, str]] = {
    "unit_mismatch": ("部分绩效指标的计量单位前后不一致，指标值与实际完成值口径不统一",
                      "统一绩效指标的计量单位和统计口径，指标值与实际完成值按同一单位填报"),
    "suspicious_operator": ("部分绩效指标的指标值设定方向不当（如成本指标设为下限、比率指标设为上限）",
                            "规范绩效指标的设定方向：成本类指标设上限（≤），比率类指标设下限（≥）"),
    "over_achievement": ("部分绩效指标实际完成值远超指标值，绩效目标可能设定偏低",
                         "科学、合理地设定年度绩效目标，避免目标设定偏低"),
    "weights": ("指标分值合计与评价方案不一致", "按评价方案核定各级指标分值，确保合计与方案一致"),
    "level_weight": ("一级指标分值与评价方案不一致", "按评价方案核定各一级指标分值"),
    "duplicate_indicator": ("指标表存在重复设置的绩效指标", "清理重复设置的绩效指标，一个考核内容只设一个指标"),
    "funding_breakdown": ("资金来源构成与预算数不一致", "核对各项资金来源，确保资金构成与预算数一致"),
    "overspend": ("实际支出超过预算或到位资金", "严格按预算执行，杜绝超预算支出"),
    "qualitative_unclassified": ("部分定性指标的实际完成情况表述不清，无法判定完成等级",
                                 "定性指标的实际完成情况应写明达成程度（达成/部分达成/未达成）及依据"),
}


def _indicator_issue(ctx: _Ctx, r) -> Issue:
    name, where = clean(r.name), _where(r)
    if r.rule in ("manual", "checklist"):
        why = clean(r.deduction_reason) or clean(r.reason)
        said = f"“{name}”扣{ctx.num(r.lost)}分" + (f"，扣分原因：{why.rstrip('。')}" if why else "，未说明扣分原因")
    else:
        said = (f"“{name}”指标值{clean(r.target) or '—'}，实际完成值{clean(r.actual) or '—'}，"
                f"{outcome(ctx, r)}，失{ctx.num(r.lost)}分")
        reason = clean(r.reason) or clean(r.deduction_reason)
        said += f"，原因：{reason.rstrip('。')}" if reason else "，指标表未说明偏差原因"
    text = f"{said}（{where}）。"
    if clean(r.measure):
        advice = f"落实“{name}”的改进措施：{clean(r.measure).rstrip('。')}。"
    elif r.direction in ("反向", "成本"):
        advice = f"加强“{name}”的过程控制，将其控制在{clean(r.target)}以内。"
    elif r.direction == "时效":
        advice = f"加强项目进度管理，合理安排实施计划，确保“{name}”按期完成。"
    elif r.direction == "定性":
        advice = f"细化“{name}”的工作举措，确保达到“{clean(r.target)}”的预期目标。"
    elif r.rule in ("manual", "checklist"):
        advice = f"针对“{name}”扣分反映的问题逐项整改，完善相关管理制度和资料。"
    else:
        advice = f"分析“{name}”未达标的原因，细化工作举措，确保完成年度指标值{clean(r.target) or ''}。"
    if r.unexplained:
        advice = advice.rstrip("。") + "；并补充该指标的偏差原因分析及改进措施。"
    return Issue(text, advice)


def _funds_issue(ctx: _Ctx, r) -> Issue:
    b = ctx.ev.budget
    if r.rule == "execution":
        text = (f"预算执行率{ctx.pct(b.execution_rate)}，预算资金未全部支出（执行数{fmt_money(b.spent)}，"
                f"{b.denominator_label}{fmt_money(b.budget if b.denominator == 'budget' else b.allocated)}）"
                f"（{_where(r)}）。")
        advice = "加快预算执行进度，按计划及时支付资金，提高资金使用效率。"
    else:
        text = (f"资金到位率{ctx.pct(b.arrival_rate)}，预算资金未全部到位（到位数{fmt_money(b.allocated)}，"
                f"预算数{fmt_money(b.budget)}）（{_where(r)}）。")
        advice = "加强与财政部门的沟通衔接，确保项目资金及时足额到位。"
    reason = clean(r.reason)
    if reason:
        text = text[:-1] + f"原因：{reason.rstrip('。')}。"
    return Issue(text, advice)


def _issues(ctx: _Ctx) -> list[Issue]:
    """Problems the data shows, each traceable to its row: indicators that lost points or missed
    their target (largest loss first), then audit findings about the project's data."""
    ind = ctx.ind[ctx.ind["deviating"]]
    ind = ind.sort_values("lost", ascending=False, kind="stable")
    out = [(_funds_issue if r.rule in FUNDS_RULES else _indicator_issue)(ctx, r) for r in ind.itertuples()]
    f = ctx.ev.findings
    if len(f):
        wanted = f[f["code"].isin(list(FINDING_ISSUES)) & f["severity"].isin(["error", "warning"])]
        for code, group in wanted.groupby("code", sort=False):
            title, advice = FINDING_ISSUES[str(code)]
            places = "；".join(dict.fromkeys(clean(w) for w in group["where"] if clean(w)))
            out.append(Issue(f"{title}（{places or '见附录数据核查'}）。", advice + "。"))
    return out


# ---------------------------------------------------------------- drafts


def _targets_draft(ctx: _Ctx) -> list[str]:
    """总体目标 from the indicators the project set itself (not the evaluation's criteria)."""
    ind = ctx.ind
    own = ind[(ind["target"].map(clean) != "") & ~ind["rule"].isin([*FUNDS_RULES, "manual", "checklist"])]
    if own.empty:
        return []
    parts = []
    for level, group in own.groupby("level1", sort=False):
        items = "、".join(f"“{clean(r.name)}”{clean(r.target)}" for r in group.itertuples())
        parts.append(f"{clean(level)}方面，{items}")
    return [f"根据指标表设定的绩效指标，{quoted_project(ctx.ev.project.name)}{ctx.ev.project.year}年度绩效目标为："
            + "；".join(parts) + "。"]


_GRADE_WORDS = {"优": "较好地完成了年度绩效目标", "良": "基本完成了年度绩效目标，部分指标尚有差距",
                "中": "部分完成了年度绩效目标，与预期目标存在较明显差距", "差": "年度绩效目标完成情况较差"}


def _conclusion_draft(ctx: _Ctx) -> list[str]:
    ev = ctx.ev
    text = (f"经{ctx.h('subject')}，{quoted_project(ev.project.name)}{ev.project.year}年度总得分"
            f"{ctx.num(ev.total)}分，绩效等级为“{ev.grade}”，{_GRADE_WORDS.get(ev.grade, '')}。")
    full = [r.name for r in ev.levels.itertuples() if r.weight > 0 and not _lost(ctx, r.weight - r.score)]
    short = [f"{r.name}类指标失{ctx.num(r.weight - r.score)}分" for r in ev.levels.itertuples()
             if r.weight > 0 and _lost(ctx, r.weight - r.score)]
    if full:
        text += f"{join_cn(full)}类指标得满分"
        text += "；" if short else "。"
    if short:
        text += "，".join(short) + "。"
    dev = ctx.ind[ctx.ind["deviating"]]
    if len(dev):
        names = "、".join(f"“{clean(r.name)}”" for r in dev.itertuples())
        text += f"未达到预期目标或失分的指标共{len(dev)}个：{names}，详见本报告五、六部分。"
    return [text]


def _deviation_draft(ctx: _Ctx) -> list[str]:
    dev = ctx.ind[ctx.ind["deviating"] & ctx.ind["reason_expected"]]
    out = []
    for n, r in enumerate(dev.itertuples(), start=1):
        if r.rule in ("manual", "checklist"):
            said = f"扣{ctx.num(r.lost)}分"
        else:
            said = f"指标值{clean(r.target) or '—'}，实际完成值{clean(r.actual) or '—'}，{outcome(ctx, r)}"
        reason = clean(r.reason) or clean(r.deduction_reason)
        why = f"偏差原因：{reason.rstrip('。')}。" if reason else "指标表未说明偏差原因，需补充。"
        out.append(f"（{n}）“{clean(r.name)}”（{_where(r)}）：{said}。{why}")
    return out


def _problems_draft(ctx: _Ctx) -> list[str]:
    return [f"（{i}）{issue.text}" for i, issue in enumerate(ctx.issues(), start=1)]


def _advice_draft(ctx: _Ctx) -> list[str]:
    return [f"（{i}）{issue.advice}" for i, issue in enumerate(ctx.issues(), start=1)]


# ---------------------------------------------------------------- parts


def _cover(ctx: _Ctx) -> Part:
    """Built last (it notes which sections are drafts and which are missing)."""
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
    blocks: list[Block] = [summary]
    if ctx.drafted:
        blocks.append(Paragraph(f"标有“{DRAFT_MARK}”的部分（{'、'.join(dict.fromkeys(ctx.drafted))}）"
                                "由 perfeval 按指标数据生成，须经评价人员复核、修改后使用。", "note"))
    if ctx.missing:
        blocks.append(Paragraph(f"标有“{MISSING_MARK}”的部分（{'、'.join(dict.fromkeys(ctx.missing))}）"
                                "需要指标数据以外的资料，请在指标表「文字」工作表（或「项目信息」）填写后重新生成。",
                                "note"))
    return Part("封面", tuple(blocks))


def _facts_table(ctx: _Ctx) -> Table:
    """Every 项目信息 field: the standard ones and any the sheet adds (评价机构, 评价组 …)."""
    p = ctx.ev.project
    rows = [("项目名称", clean(p.name)), ("项目编号", clean(p.id)), ("主管部门", clean(p.department)),
            ("实施单位", clean(p.unit)), ("年度", f"{p.year}年度"), ("评价方式", clean(p.method)),
            ("评价方案", ctx.ev.scheme.name)]
    known = {k for k, _ in rows}
    rows += [(clean(k), clean(v)) for k, v in p.info.items() if clean(k) and clean(k) not in known and clean(v)]
    return Table("info", ctx.table_caption("项目基本信息"), ("项目", "内容"),
                 tuple((k, v or "—") for k, v in rows), (False, False), style="kv", widths=(22, 78))


def _part_one(ctx: _Ctx) -> Part:
    ev, p, b = ctx.ev, ctx.ev.project, ctx.ev.budget
    blocks: list[Block] = [Heading(1, "一、基本情况"), Heading(2, "（一）项目概况"), _facts_table(ctx),
                           Heading(3, "1.项目背景"), *_narrative(ctx, "项目背景"),
                           Heading(3, "2.主要内容及实施情况"), *_narrative(ctx, "主要内容", "实施情况"),
                           Heading(3, "3.项目实施主体")]
    who = [f"主管部门：{clean(p.department)}" if clean(p.department) else "",
           f"实施单位：{clean(p.unit)}" if clean(p.unit) else ""]
    if any(who):
        blocks.append(Paragraph("；".join(w for w in who if w) + "。"))
    if clean(p.narrative.get("项目实施主体")) or not any(who):
        blocks += _narrative(ctx, "项目实施主体")
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
    blocks += [Heading(2, "（二）项目绩效目标"), Heading(3, "1.总体目标"),
               *_written_or_draft(ctx, "总体目标", _targets_draft(ctx)),
               Heading(3, "2.阶段性目标及绩效指标")]
    if clean(p.narrative.get("阶段性目标")):
        blocks += [Paragraph(line) for line in _lines(ev, "阶段性目标")]
    blocks += _targets(ctx)
    return Part("一", tuple(blocks))


def _targets(ctx: _Ctx) -> list[Block]:
    ind = ctx.ev.indicators
    # performance targets: what the project set out to deliver, not the evaluation's own
    # criteria (budget execution, fund arrival, deduction checklists)
    criteria = ind["rule"].isin([*FUNDS_RULES, "manual", "checklist"])
    with_target = ind[(ind["target"].map(clean) != "") & ~criteria]
    if with_target.empty:
        return [Paragraph("指标表未设定量化指标值。", "missing")]
    out: list[Block] = [Paragraph(f"项目共设置{len(with_target)}个有指标值的绩效指标，具体如下：")]
    for i, (level, group) in enumerate(with_target.groupby("level1", sort=False), start=1):
        out.append(Paragraph(f"（{i}）{'' if ctx.self_eval else '项目'}{level}目标", "lead"))
        for j, (level2, sub) in enumerate(group.groupby("level2", sort=False), start=1):
            items = "；".join(f"“{clean(r.name)}”指标，预期指标值为{clean(r.target)}"
                             for r in sub.itertuples())
            out.append(Paragraph(f"{circled(j)}{clean(level2)}：{items}。"))
    return out


def _part_two(ctx: _Ctx) -> Part:
    ev, p = ctx.ev, ctx.ev.project
    ind = ev.indicators
    subject = ctx.h("subject")
    blocks: list[Block] = [Heading(1, ctx.h("二")), Heading(2, ctx.h("二(一)")), Heading(3, ctx.h("二(一)1")),
                           *_narrative(ctx, "评价目的"), Heading(3, ctx.h("二(一)2"))]
    blocks.append(Paragraph(
        f"本次{subject}对象为{p.year}年度{quoted_project(p.name)}（项目编号{clean(p.id)}），范围涵盖项目预算资金"
        f"{fmt_money(ev.budget.budget)}的全部支出、项目绩效目标及{len(ind)}个三级绩效指标的完成情况。"))
    blocks += [Heading(2, ctx.h("二(二)")), Heading(3, f"1.{subject}依据")]
    basis = clean(p.info.get("评价依据"))
    if basis:
        blocks.append(Paragraph(f"本次{subject}依据：{basis.rstrip('。')}。"))
    else:
        ctx.missing.append("评价依据")
        blocks.append(Paragraph(MISSING_MARK, "missing"))
    blocks.append(Heading(3, f"2.{subject}指标体系"))
    weights = "、".join(f"{lv.name}{ctx.num(lv.weight)}分" for lv in ev.scheme.levels)
    blocks.append(Paragraph(
        f"本次{subject}采用“{ev.scheme.name}”指标体系，总分{ctx.num(ev.scheme.total_weight)}分，"
        f"其中{weights}；共{len(ind)}个三级指标（详见附表）。"))
    for label, column in (("一级", "level1"), ("二级", "level2"), ("三级", "level3")):
        blocks.append(Paragraph(f"{label}指标为：{'、'.join(_unique(ind[column]))}。"))
    blocks.append(Heading(3, f"3.{subject}方法和计分规则"))
    rules = ind.groupby("rule_label", sort=False).size()
    rule_text = "、".join(f"{label}{n}个" for label, n in rules.items())
    o = ev.options
    rounding = {"half_up": "四舍五入", "half_even": "银行家舍入", "truncate": "截尾"}[o.rounding]
    blocks.append(Paragraph(
        f"各三级指标按其评分方法计分：{rule_text}。单项得分保留{o.decimals}位小数（{rounding}），"
        f"一级指标得分为其下各三级指标得分之和，总得分为各一级指标得分之和；预算执行率＝执行数/"
        f"{ev.budget.denominator_label}；未达到指标值或失分的指标须说明偏差原因，偏差率＝（实际完成值－指标值）"
        f"/指标值，绝对值超过{ctx.pct(o.deviation_threshold)}的另行列示。"))
    blocks.append(Heading(3, f"4.{subject}标准"))
    blocks.append(Paragraph(_grade_text(ctx) + "。"))
    blocks += [Heading(2, ctx.h("二(三)")), *_narrative(ctx, "评价工作过程")]
    team = clean(p.info.get("评价组"))
    if team:
        blocks.append(Paragraph(f"{ctx.h('team')}成员：{team.rstrip('。')}。"))
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
    who = "自评工作组" if ctx.self_eval else "评价组"
    blocks: list[Block] = [
        Heading(1, ctx.h("三")), Heading(2, "（一）综合评价情况"),
        Paragraph(f"{who}对照项目绩效评价指标体系，从{join_cn(list(ev.levels['name']))}"
                  f"{cn_count(len(ev.levels))}个维度，对{quoted_project(ev.project.name)}绩效进行评价，"
                  f"本项目总得分为{ctx.num(ev.total)}分，绩效评级为“{ev.grade}”。其中，{levels}。"
                  "各项指标得分详见附表。"),
        Table("levels", ctx.table_caption("一级指标得分情况"), ("一级指标", "分值", "得分", "得分率"),
              tuple(rows), (False, True, True, True), strong=(len(rows) - 1,),
              widths=(40, 20, 20, 20)),
        ctx.figure("score_rate", "各一级指标得分率"),
        Heading(2, ctx.h("三(二)")),
        *_written_or_draft(ctx, "综合评价结论", _conclusion_draft(ctx)),
    ]
    return Part("三", tuple(blocks))


def _part_four(ctx: _Ctx) -> Part:
    ev = ctx.ev
    ind = ctx.ind
    blocks: list[Block] = [Heading(1, ctx.h("四"))]
    for i, level in enumerate(ev.levels.itertuples(), start=1):
        rows = ind[ind["level1"] == level.name]
        blocks.append(Heading(2, f"（{cn_number(i)}）{_level_heading(level.name, ctx.self_eval)}"))
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
    """The indicators 五 lists in 表3 (perfeval.deviations: lost points or target not met; the
    funds rows are covered by the budget paragraph)."""
    return deviating(ev.indicators, ev.options.decimals)


def _funds_sentence(ctx: _Ctx) -> str:
    """The funds rows that lost points, with their reasons (the 自评表 gives them no reason cell)."""
    rows = ctx.ind[ctx.ind["deviating"] & ~ctx.ind["reason_expected"]]
    out = []
    for r in rows.itertuples():
        label = "预算执行率" if r.rule == "execution" else "资金到位率"
        text = f"{label}指标失{ctx.num(r.lost)}分（{_where(r)}）"
        tail = _deviation_tail(r)
        out.append(text + ("，" + tail if tail else "，未说明原因。"))
    return "".join(out)


def _part_five(ctx: _Ctx) -> Part:
    ev, b, p = ctx.ev, ctx.ev.budget, ctx.ev.project
    dev = deviating_indicators(ev)
    threshold = ev.options.deviation_threshold
    large = dev["deviation"].abs() > threshold + 1e-12
    unexplained = dev[dev["unexplained"]]
    budget_off = _finite(b.deviation_rate) and abs(b.deviation_rate) > 1e-9
    has = len(dev) > 0 or budget_off
    text = (f"{'有偏差' if has else '无偏差'}：{quoted_project(p.name)}预算{fmt_money(b.budget)}，"
            f"到位{fmt_money(b.allocated)}，实际支出{fmt_money(b.spent)}，预算执行率为"
            f"{ctx.pct(b.execution_rate)}，偏差率为{ctx.pct(b.deviation_rate)}（1－预算执行率）。")
    text += _funds_sentence(ctx)
    if len(dev):
        text += (f"绩效指标中有{len(dev)}个未达到预期目标或失分，其中偏差率绝对值超过"
                 f"{ctx.pct(threshold)}的{int(large.sum())}个，未说明偏差原因的{len(unexplained)}个，"
                 "逐项列示如下。")
    else:
        text += "各项绩效指标均达到预期目标，无偏差。"
    blocks: list[Block] = [Heading(1, ctx.h("五")), Heading(2, "（一）预算执行及绩效指标偏差情况"), Paragraph(text)]
    if len(dev):
        rows = tuple(
            (str(n), clean(r.name), str(int(r.row)) if _finite(r.row) else "—", clean(r.target) or "—",
             clean(r.actual) or "—", ctx.dev(r.deviation), ctx.num(r.lost),
             clean(r.reason) or (f"扣分原因：{clean(r.deduction_reason)}" if clean(r.deduction_reason) else "未说明"),
             clean(r.measure) or "—")
            for n, r in enumerate(dev.itertuples(), start=1))
        blocks.append(Table(
            "deviations", ctx.table_caption("绩效指标偏差及原因"),
            ("序号", "指标", "表内行", "指标值", "实际完成值", "偏差率", "失分", "偏差原因", "改进措施"), rows,
            (True, False, True, False, False, True, True, False, False),
            widths=(5, 17, 6, 10, 10, 8, 6, 19, 19)))
        blocks.append(Paragraph("偏差率＝（实际完成值－指标值）/指标值，负值表示低于指标值；“表内行”为指标表中的行号。",
                                "note"))
        blocks += [Heading(2, "（二）偏差原因分析"), *_written_or_draft(ctx, "偏差分析", _deviation_draft(ctx))]
    return Part("五", tuple(blocks))


def _part_six(ctx: _Ctx) -> Part:
    blocks: list[Block] = [Heading(1, ctx.h("六")),
                           Heading(2, "（一）主要经验及做法"), *_narrative(ctx, "经验做法"),
                           Heading(2, "（二）存在的问题及原因分析"),
                           *_written_or_draft(ctx, "存在问题", _problems_draft(ctx))]
    return Part("六", tuple(blocks))


def _part_seven(ctx: _Ctx) -> Part:
    return Part("七", (Heading(1, ctx.h("七")), *_written_or_draft(ctx, "建议", _advice_draft(ctx))))


def _part_eight(ctx: _Ctx) -> Part:
    return Part("八", (Heading(1, "八、其他需要说明的问题"), *_narrative(ctx, "其他需要说明的问题")))


def _scoring_table(ctx: _Ctx, title: str) -> Table:
    ev = ctx.ev
    ind = ev.indicators
    read = for_evaluation(ev, sep="\n")["understood"]
    named = bool((ind["name"].map(clean) != ind["level3"].map(clean)).any())
    ledger = bool(ev.project.ledger) and "evidence" in ind
    columns = ("一级指标", "二级指标", "三级指标", *(("指标名称",) if named else ()),
               "分值", "指标值", "实际完成值", "解读", "得分", "得分率", *(("证据编号",) if ledger else ()))
    extra = ("",) if ledger else ()
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
                         ctx.num(r.score), ctx.pct(rate),
                         *((clean(getattr(r, "evidence", "")) or "—",) if ledger else ())))
        strong.append(len(rows))
        rows.append((f"{level.name}小计", "", "", *pad, ctx.num(level.weight), "", "", "",
                     ctx.num(level.score), ctx.pct(level.score_rate), *extra))
    weight = float(ev.levels["weight"].sum())
    strong.append(len(rows))
    rows.append(("合计", "", "", *pad, ctx.num(weight), "", "", "", ctx.num(ev.total),
                 ctx.pct(ev.total / weight if weight else float("nan")), *extra))
    numeric = (False, False, False, *((False,) if named else ()), True, False, False, False, True, True,
               *((False,) if ledger else ()))
    widths = (5.5, 7, 10, *((13,) if named else ()), 5, 9, 17.5, 17.5, 6, 7, *((8,) if ledger else ()))
    return Table("scores", title, columns, tuple(rows), numeric, merge=2, strong=tuple(strong), widths=widths)


_READING_NOTE = ("“解读”列为评分所依据的读数：目标与实际完成值按所写数值、单位换算后的结果，"
                 "定性指标的判定等级，扣分指标的扣分，以及按资金计算的执行率、到位率。")


def _selfeval_tables(ctx: _Ctx) -> list[Block]:
    """The 项目支出绩效自评表 (10号 附件2) itself: header, funds block, 年度总体目标, indicators, total."""
    ev, p, b = ctx.ev, ctx.ev.project, ctx.ev.budget
    ind = ctx.ind
    execution = ind[ind["rule"] == "execution"]
    weight = float(execution["weight"].sum()) if len(execution) else float("nan")
    score = float(execution["score"].sum()) if len(execution) else float("nan")
    head = Table("selfeval_head", "", ("项目", "内容"),
                 (("项目名称", clean(p.name)), ("主管部门", clean(p.department) or "—"),
                  ("实施单位", clean(p.unit) or "—"), ("年度", f"{p.year}年度")),
                 (False, False), style="kv", widths=(22, 78))
    funds = [("年度资金总额", ctx.num(b.budget), ctx.num(b.spent), ctx.num(weight),
              ctx.pct(b.execution_rate), ctx.num(score))]
    funds += [(f"其中：{clean(k)}", ctx.num(v), "—", "—", "—", "—")
              for k, v in b.funding.items() if _finite(v)]
    funds_table = Table("selfeval_funds", "项目资金（万元）",
                        ("项目", "全年预算数（A）", "全年执行数（B）", "分值", "执行率（B/A）", "得分"),
                        tuple(funds), (False, True, True, True, True, True), strong=(0,),
                        widths=(24, 16, 16, 12, 16, 16))
    goal = _lines(ev, "总体目标")
    done = _lines(ev, "总体目标完成情况")
    goal_table = Table("selfeval_goal", "年度总体目标", ("预期目标", "实际完成情况"),
                       (("\n".join(goal) or MISSING_MARK, "\n".join(done) or MISSING_MARK),),
                       (False, False), widths=(50, 50))
    rows: list[tuple[str, ...]] = []
    for r in ind[ind["rule"] != "execution"].itertuples():
        why = "；".join(x for x in (clean(r.reason), clean(r.measure)) if x)
        rows.append((clean(r.level1), clean(r.level2), clean(r.name), clean(r.target) or "—",
                     clean(r.actual) or "—", ctx.num(r.weight), ctx.num(r.score), why or "—"))
    total_weight = float(ev.levels["weight"].sum())
    strong = (len(rows),)
    rows.append(("总分", "", "", "", "", ctx.num(total_weight), ctx.num(ev.total), f"自评等级：{ev.grade}"))
    indicators = Table("selfeval", "绩效指标",
                       ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
                        "偏差原因分析及改进措施"), tuple(rows),
                       (False, False, False, False, False, True, True, False), merge=2, strong=strong,
                       widths=(8, 9, 18, 11, 11, 6, 6, 31))
    return [head, funds_table, goal_table, indicators]


def _panel_blocks(ctx: _Ctx) -> list[Block]:
    """The expert panel's per-expert table (`Project.panel`, written by `perfeval panel merge`), when the
    judged indicators were scored by a panel."""
    panel = ctx.ev.project.panel
    if panel is None or panel.empty:
        return []
    shown = [c for c in panel.columns if c not in ("扣分理由（合并）", "核查说明")]
    fixed = {"指标表行号": 4, "指标名称": 24, "分值": 6, "专家组得分": 8, "极差": 6, "标准差": 6, "意见分歧": 7}
    experts = [c for c in shown if c not in fixed]

    def header(column: str) -> str:
        return "行" if column == "指标表行号" else column

    def cell(column: str, value: object) -> str:
        if column in ("指标表行号",):
            return clean(value).removesuffix(".0")
        if column in ("指标名称", "意见分歧"):
            return clean(value) or ("—" if column == "意见分歧" else "")
        return ctx.num(float(value)) if _finite(pd.to_numeric(value, errors="coerce")) else "—"

    rows = tuple(tuple(cell(c, rec[c]) for c in shown) for rec in panel.to_dict(orient="records"))
    flagged = int((panel.get("意见分歧", pd.Series(dtype=object)).astype(str) == "是").sum())
    said = clean(ctx.ev.project.info.get("专家组评分", "")).rstrip("。")
    note = ((said or f"{len(experts)}位专家对{len(panel)}项需评判的指标独立评分") + "。"
            + (f"{flagged}项指标专家意见分歧，详见附录数据核查。" if flagged else "各指标专家意见无明显分歧。"))
    each = max(6.0, 40 / max(len(experts), 1))
    table = Table("panel", f"附表　{with_project(ctx.ev.project.name)}专家组评分表", tuple(map(header, shown)), rows,
                  tuple(c not in ("指标名称", "意见分歧") for c in shown),
                  widths=tuple(float(fixed.get(c, each)) for c in shown))
    return [Heading(2, "专家组评分表"), Paragraph(note), table]


def _appendix_tables(ctx: _Ctx) -> Part:
    ev = ctx.ev
    total = Paragraph(f"总得分{ctx.num(ev.total)}分，绩效等级“{ev.grade}”。", "note")
    if ctx.self_eval:
        blocks: list[Block] = [Heading(1, ctx.h("附表")),
                               Paragraph(f"{ev.project.year}年度项目支出绩效自评表", "lead"),
                               *_selfeval_tables(ctx), total,
                               Heading(2, "附表计分明细\u3000各指标评分依据"),
                               _scoring_table(ctx, f"{with_project(ev.project.name)}绩效自评指标计分明细"),
                               Paragraph(_READING_NOTE, "note"), *_panel_blocks(ctx)]
        return Part("附表", tuple(blocks))
    table = _scoring_table(ctx, f"附表　{with_project(ev.project.name)}绩效评价指标评分表")
    return Part("附表", (Heading(1, ctx.h("附表")), table, total, Paragraph(_READING_NOTE, "note"),
                        *_panel_blocks(ctx)))


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


#: parts in outline order after the cover (the cover is composed last: it notes drafts and gaps)
PART_BUILDERS = (
    _part_one, _part_two, _part_three, _part_four, _part_five, _part_six, _part_seven, _part_eight,
    _appendix_tables, _appendix,
)


def report_title(ev: Evaluation) -> str:
    kind = "支出绩效自评报告" if is_self_evaluation(ev) else "支出绩效评价报告"
    return f"{with_project(ev.project.name)}{kind}"


def _options_note(ev: Evaluation) -> str:
    changed = [f"{k}={v}" for k, v in asdict(ev.options).items()
               if getattr(ev.scheme.options, k) != v]
    return "，".join(changed)


def provenance(ev: Evaluation, generated_at: datetime | str | None = None) -> Provenance:
    from perfeval._version import __version__

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
    body = tuple(build(ctx) for build in PART_BUILDERS)
    parts = (_cover(ctx), *body)
    return ReportDoc(report_title(ev), tuple((k, v) for k, v in facts if v), parts,
                     provenance(ev, generated_at))
