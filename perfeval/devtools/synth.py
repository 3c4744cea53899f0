"""Synthetic project portfolios for tests, benchmarks and demos (`perfeval synth`).

Every generated project is realistic enough to exercise the whole pipeline: both schemes
(第三方评价 决策/过程/产出/效益 and 单位自评 预算执行率/产出/效益/满意度), several sectors, the
notations people actually type (full-width and word operators, ranges, units, 元 amounts,
merged-cell blanks, header aliases, "产出指标(40分)" level headers, qualitative texts), a
报告数值 sheet with the figures a report would state (a few of them deliberately misstated, so
the audit has something to find) and a 文字 sheet. A configurable share of the workbooks is
broken on purpose — each in one named way that `perfeval validate` must catch.

Output is deterministic for a given seed (same bytes), so a synthetic portfolio can be
regenerated instead of stored.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import math
import os
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import xlsxwriter

from perfeval.atomic import atomic_path
from perfeval.display import fmt_num
from perfeval.model import INDICATOR_COLUMNS, STATED_COLUMNS, Project
from perfeval.sheets.write import cell_value

#: fixed document date so the same seed gives byte-identical workbooks
_CREATED = dt.datetime(2024, 1, 1)

# ----------------------------------------------------------------------------- catalogue

#: output indicator templates: (二级, 三级, name, unit, kind, (low, high) of the target)
#: kind: count (≥ n unit), rate (≥/＝ %), cost (≤ amount), time (≤ n 月/天), range, zero
_OUTPUT = {
    "教育": [
        ("产出数量", "实际完成率", "资助家庭经济困难学生人数（人）", "人", "count", (200, 5000)),
        ("产出数量", "实际完成率", "教师培训人次（人次）", "人次", "count", (100, 2000)),
        ("产出数量", "实际完成率", "维修改造校舍面积（㎡）", "㎡", "count", (500, 20000)),
        ("产出质量", "质量达标率", "校舍维修工程验收合格率（%）", "%", "rate", (95, 100)),
        ("产出时效", "完成及时性", "资助资金发放及时率（%）", "%", "rate", (95, 100)),
        ("产出成本", "成本节约率", "生均资助标准（元/人）", "元/人", "cost", (500, 3000)),
    ],
    "卫生健康": [
        ("产出数量", "实际完成率", "免费健康体检人数（人）", "人", "count", (1000, 30000)),
        ("产出数量", "实际完成率", "家庭医生签约服务户数（户）", "户", "count", (500, 8000)),
        ("产出质量", "质量达标率", "适龄儿童免疫规划疫苗接种率（%）", "%", "rate", (90, 98)),
        ("产出质量", "质量达标率", "医疗废物规范处置率（%）", "%", "rate", (98, 100)),
        ("产出时效", "完成及时性", "项目完成时间（月）", "月", "time", (10, 12)),
        ("产出成本", "成本节约率", "设备采购成本（万元）", "万元", "cost_budget", (0, 0)),
    ],
    "农业农村": [
        ("产出数量", "实际完成率", "高标准农田建设面积（亩）", "亩", "count", (1000, 30000)),
        ("产出数量", "实际完成率", "受益农户数（户）", "户", "count", (200, 6000)),
        ("产出数量", "实际完成率", "农技培训场次（场）", "场", "range_count", (4, 12)),
        ("产出质量", "质量达标率", "工程验收合格率（%）", "%", "rate", (95, 100)),
        ("产出时效", "完成及时性", "建设工期（月）", "月", "time", (8, 12)),
        ("产出成本", "成本节约率", "亩均建设成本（元/亩）", "元/亩", "cost", (1200, 3000)),
    ],
    "交通运输": [
        ("产出数量", "实际完成率", "农村公路提质改造里程（公里）", "公里", "count", (5, 120)),
        ("产出数量", "实际完成率", "危桥改造数量（座）", "座", "count", (2, 20)),
        ("产出质量", "质量达标率", "交工验收合格率（%）", "%", "rate", (98, 100)),
        ("产出时效", "完成及时性", "工程完工时间（月）", "月", "time", (10, 12)),
        ("产出成本", "成本节约率", "工程建设成本（万元）", "万元", "cost_budget", (0, 0)),
        ("产出质量", "质量达标率", "安全生产责任事故（起）", "起", "zero", (0, 0)),
    ],
    "社会保障": [
        ("产出数量", "实际完成率", "社会化聘用人员社保缴费人数（人）", "人", "count", (10, 300)),
        ("产出数量", "实际完成率", "社保缴费险种（种）", "种", "count", (4, 5)),
        ("产出质量", "质量达标率", "补贴对象认定准确率（%）", "%", "rate", (98, 100)),
        ("产出时效", "完成及时性", "社保金按月缴纳及时率（%）", "%", "rate_exact", (100, 100)),
        ("产出成本", "成本节约率", "社保缴费支出（万元）", "万元", "cost_budget", (0, 0)),
    ],
    "文化旅游": [
        ("产出数量", "实际完成率", "送戏下乡演出场次（场）", "场", "count", (20, 300)),
        ("产出数量", "实际完成率", "新增图书馆藏量（册）", "册", "count", (2000, 50000)),
        ("产出数量", "实际完成率", "文化活动参与人次（人次）", "人次", "range_count", (3000, 9000)),
        ("产出质量", "质量达标率", "演出节目审查通过率（%）", "%", "rate", (95, 100)),
        ("产出时效", "完成及时性", "活动按计划开展率（%）", "%", "rate", (90, 100)),
        ("产出成本", "成本节约率", "场均演出补助（万元）", "万元", "cost", (0.5, 3)),
    ],
    "生态环境": [
        ("产出数量", "实际完成率", "植树造林面积（亩）", "亩", "count", (500, 20000)),
        ("产出数量", "实际完成率", "新建污水管网长度（公里）", "公里", "count", (2, 60)),
        ("产出质量", "质量达标率", "苗木成活率（%）", "%", "rate", (85, 95)),
        ("产出质量", "质量达标率", "出水水质达标率（%）", "%", "range_rate", (90, 100)),
        ("产出时效", "完成及时性", "项目建设周期（天）", "天", "time", (180, 360)),
        ("产出成本", "成本节约率", "项目总成本（万元）", "万元", "cost_budget", (0, 0)),
    ],
}

_DEPARTMENTS = {
    "教育": ("县教育局", ("县第一中学", "县实验小学", "县职业技术学校", "县教育局")),
    "卫生健康": ("县卫生健康委员会", ("县人民医院", "县疾病预防控制中心", "县妇幼保健院")),
    "农业农村": ("县农业农村局", ("县农业技术推广中心", "县农田建设管理站", "县农业农村局")),
    "交通运输": ("县交通运输局", ("县公路管理段", "县农村公路建设办公室", "县交通运输局")),
    "社会保障": ("县人力资源和社会保障局", ("县社会保险事业管理中心", "县总工会", "县就业服务中心")),
    "文化旅游": ("县文化体育广播电视和旅游局", ("县文化馆", "县图书馆", "县文工团")),
    "生态环境": ("县林业和草原局", ("县国有林场", "县生态环境监测站", "县污水处理厂")),
}
_PROJECT_NAMES = {
    "教育": ("学生资助补助经费", "义务教育薄弱环节改善与能力提升", "教师队伍建设专项"),
    "卫生健康": ("基本公共卫生服务项目", "家庭医生签约服务补助", "公立医院设备购置"),
    "农业农村": ("高标准农田建设项目", "农业技术推广与培训", "农村人居环境整治"),
    "交通运输": ("农村公路提质改造工程", "危桥改造工程", "公路养护专项资金"),
    "社会保障": ("社会化聘用人员社保缴费", "就业创业补贴资金", "困难职工帮扶资金"),
    "文化旅游": ("送戏下乡惠民演出", "公共图书馆免费开放补助", "乡村文化活动专项"),
    "生态环境": ("国土绿化造林项目", "城镇污水管网建设", "重点生态公益林管护"),
}
_BENEFIT = [
    # (二级, 三级, name, target text, kind)
    ("项目效益", "社会效益", "群众生产生活条件改善情况", "有效提升", "qual"),
    ("项目效益", "社会效益", "公共服务水平提升情况", "明显改善", "qual"),
    ("项目效益", "经济效益", "带动群众增收（万元）", "万元", "econ"),
    ("项目效益", "生态效益", "项目区环境质量改善情况", "逐步改善", "qual"),
    ("项目效益", "可持续影响", "工程设施持续发挥效益年限（年）", "年", "years"),
    ("项目效益", "可持续影响", "长效管护机制建立情况", "长效机制健全", "qual"),
]
_SATISFACTION = [
    ("满意度", "服务对象满意度", "服务对象满意度（%）"),
    ("满意度", "服务对象满意度", "受益群众满意度（%）"),
]
_DECISION = [
    ("项目立项", "立项依据充分性", "符合国家法律法规、发展规划和部门职责，与其他项目不重复"),
    ("项目立项", "立项程序规范性", "按规定程序申请设立，经集体决策，审批文件齐全"),
    ("绩效目标", "绩效目标合理性", "绩效目标明确，与实际工作内容相关，与预算相匹配"),
    ("绩效目标", "绩效指标明确性", "绩效目标已细化分解为具体、可衡量的绩效指标"),
    ("资金投入", "预算编制科学性", "预算编制经过论证，内容与项目内容匹配，测算依据充分"),
    ("资金投入", "资金分配合理性", "资金分配依据充分，分配额度与实际需求相适应"),
]
_PROCESS = [
    ("资金管理", "资金到位率", None),
    ("资金管理", "预算执行率", None),
    ("资金管理", "资金使用合规性", "符合财务管理制度和专项资金管理办法，未发现截留、挤占、挪用、虚列支出"),
    ("组织实施", "管理制度健全性", "已制定项目管理办法和资金管理制度，制度合法合规完整"),
    ("组织实施", "制度执行有效性", "按制度执行，调整手续完备，合同、验收资料齐全并及时归档"),
]
_DEDUCTION_REASONS = ("绩效指标量化不足，部分指标未细化", "个别支出审批手续不完整",
                      "项目档案资料归档不及时", "预算测算依据不够充分", "部分制度未及时修订")
_WEIGHT_SPLITS = ((20, 20, 40, 20), (15, 15, 40, 30), (20, 20, 30, 30), (10, 20, 40, 30),
                  (20, 20, 35, 25))
_GE_WORDS = ("≥{}", "≥{}", "≧{}", ">={}", "不低于{}", "不少于{}", "达到{}")
_LE_WORDS = ("≤{}", "≤{}", "≦{}", "<={}", "不高于{}", "不超过{}", "控制在{}以内")
_EQ_WORDS = ("＝{}", "={}", "等于{}")
_QUAL_ACTUAL = {"达成": ("达成预期指标", "有效提升", "明显改善", "已达到预期目标"),
                "部分达成": ("基本达成", "有所提升", "部分完成"),
                "未达成": ("未达到预期", "未完成")}

#: the ways a broken sheet is broken (each must be caught by validation)
BREAKAGES = ("weights", "notation", "missing_column", "year", "amount", "duplicate", "method",
             "not_excel", "missing_info")


@dataclass
class SynthProject:
    """One generated project plus how it is written (and broken)."""

    project: Project
    sector: str
    style: dict[str, object] = field(default_factory=dict)
    broken: str | None = None

    @property
    def file_name(self) -> str:
        return f"{self.project.id}.xlsx"


# ----------------------------------------------------------------------------- numbers

def _split(total: float, parts: int, rng: random.Random, step: float = 1.0) -> list[float]:
    """`parts` positive multiples of `step` that add up to `total` exactly."""
    units = round(total / step)
    parts = min(parts, units)
    cuts = sorted(rng.sample(range(1, units), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, units]
    return [(b - a) * step for a, b in itertools.pairwise(bounds)]


def _round_target(x: float) -> float:
    if x >= 1000:
        return round(x, -2)
    if x >= 100:
        return round(x, -1)
    if x >= 10:
        return round(x)
    return round(x, 1)


# ----------------------------------------------------------------------------- generation

def _quantitative(rng: random.Random, level: str, template: tuple, budget: float,
                  spent: float) -> dict[str, object]:
    level2, level3, name, unit, kind, (low, high) = template
    met = rng.random() < 0.72
    short = rng.uniform(0.70, 0.99)
    ge, le = rng.choice(_GE_WORDS), rng.choice(_LE_WORDS)
    if kind == "count":
        t = _round_target(rng.uniform(low, high))
        t = max(t, 1.0)
        a = t * (rng.uniform(1.0, 1.15) if met else short)
        a = round(a) if t >= 10 else round(a, 1)
        target, actual = ge.format(f"{fmt_num(t)}{unit}"), f"{fmt_num(a)}{unit}"
    elif kind in ("rate", "rate_exact"):
        t = round(rng.uniform(low, high)) if kind == "rate" else 100
        a = min(100.0, t + rng.uniform(0, 3)) if met else t * rng.uniform(0.85, 0.995)
        pct = rng.choice(("%", "%", "％"))
        word = rng.choice(_EQ_WORDS) if t == 100 else ge
        target = word.format(f"{fmt_num(t)}{pct}")
        actual = f"{fmt_num(a, 1)}{pct}"
    elif kind == "cost":
        t = round(rng.uniform(low, high), 2 if high < 10 else 0)
        a = t * (rng.uniform(0.9, 1.0) if met else rng.uniform(1.02, 1.2))
        target, actual = le.format(f"{fmt_num(t)}{unit}"), f"{fmt_num(a)}{unit}"
    elif kind == "cost_budget":
        # the cost ceiling is the budget; amounts sometimes in 元 in the actual cell
        target = le.format(f"{fmt_num(budget)}万元")
        actual = (f"{fmt_num(spent * 10000, 0)}元" if rng.random() < 0.25 else f"{fmt_num(spent)}万元")
    elif kind == "time":
        t = round(rng.uniform(low, high))
        a = t - rng.randint(0, 2) if met else t + rng.randint(1, 3)
        target = le.format(f"{t}{'个' if unit == '月' and rng.random() < 0.5 else ''}{unit}")
        actual = f"{a}{unit}"
    elif kind in ("range_count", "range_rate"):
        lo = round(rng.uniform(low, (low + high) / 2))
        hi = max(lo + 1, round(rng.uniform((low + high) / 2, high)))
        sep = rng.choice(("-", "~", "～")) if kind == "range_count" else "-"
        u = "%" if kind == "range_rate" else unit
        target = f"{lo}{u}{sep}{hi}{u}" if kind == "range_rate" else f"{lo}{sep}{hi}{u}"
        a = rng.uniform(lo, hi) if met else lo * short
        actual = f"{fmt_num(a, 1 if kind == 'range_rate' else 0)}{u}"
    elif kind == "zero":
        target = rng.choice(("≤0起", "＝0起", "0起"))
        actual = "0起" if rng.random() < 0.9 else "1起"
    else:  # pragma: no cover - catalogue error
        raise ValueError(kind)
    return {"level1": level, "level2": level2, "level3": level3, "name": name,
            "target": target, "actual": actual, "method": ""}


def _benefit(rng: random.Random, template: tuple) -> dict[str, object]:
    level2, level3, name, text, kind = template
    if kind == "qual":
        band = rng.choices(list(_QUAL_ACTUAL), weights=(0.75, 0.2, 0.05))[0]
        target, actual = text, rng.choice(_QUAL_ACTUAL[band])
    elif kind == "econ":
        t = _round_target(rng.uniform(20, 500))
        a = t * (rng.uniform(1.0, 1.3) if rng.random() < 0.75 else rng.uniform(0.6, 0.95))
        target, actual = rng.choice(_GE_WORDS).format(f"{fmt_num(t)}万元"), f"{fmt_num(a)}万元"
    else:  # years
        t = rng.choice((2, 3, 5, 10))
        target, actual = f"≥{t}年", f"{t}年"
    return {"level1": "效益", "level2": level2, "level3": level3, "name": name,
            "target": target, "actual": actual, "method": ""}


def _satisfaction(rng: random.Random, template: tuple, level: str) -> dict[str, object]:
    level2, level3, name = template
    t = rng.choice((85, 90, 95))
    a = round(rng.uniform(t, 99.5) if rng.random() < 0.8 else rng.uniform(t - 8, t), 1)
    return {"level1": level, "level2": level2, "level3": level3, "name": name,
            "target": rng.choice(_GE_WORDS).format(f"{t}%"), "actual": f"{fmt_num(a)}%", "method": ""}


def _manual(rng: random.Random, level: str, template: tuple, weight: float) -> dict[str, object]:
    level2, level3, text = template
    if rng.random() < 0.3:  # 评价要点: passed / total checkpoints
        total = rng.choice((2, 3, 4, 5))
        passed = total if rng.random() < 0.6 else total - 1
        return {"level1": level, "level2": level2, "level3": level3, "name": level3, "target": "",
                "actual": f"{passed}/{total}", "method": "评价要点"}
    deduction = 0.0 if rng.random() < 0.7 else min(weight, rng.choice((0.5, 1.0)))
    return {"level1": level, "level2": level2, "level3": level3, "name": level3, "target": "",
            "actual": text, "method": "扣分", "deduction": deduction,
            "deduction_reason": rng.choice(_DEDUCTION_REASONS) if deduction else ""}


def _indicator_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    records = []
    for i, row in enumerate(rows):
        rec = {c: row.get(c, "") for c in INDICATOR_COLUMNS}
        rec["row"] = i + 2
        for c in ("stated_score", "deduction"):
            rec[c] = row.get(c, math.nan)
            if rec[c] == "" or rec[c] is None:
                rec[c] = math.nan
        records.append(rec)
    frame = pd.DataFrame.from_records(records, columns=list(INDICATOR_COLUMNS))
    for c in ("weight", "stated_score", "deduction"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    return frame


def _method_id(label: str) -> str:
    from perfeval.rules import resolve_method

    return resolve_method(label) or ""


def make_project(rng: random.Random, index: int) -> SynthProject:
    """One valid project (stated figures are filled in later, after scoring)."""
    sector = rng.choice(list(_OUTPUT))
    year = rng.choice((2021, 2022, 2023, 2024))
    scheme_id = "self" if rng.random() < 0.4 else "third_party"
    department, units = _DEPARTMENTS[sector]
    unit = rng.choice(units)
    budget = round(rng.choice((rng.uniform(8, 80), rng.uniform(80, 800), rng.uniform(800, 6000))), 2)
    allocated = budget if rng.random() < 0.8 else round(budget * rng.uniform(0.85, 0.99), 2)
    spent = round(allocated * (rng.uniform(0.95, 1.0) if rng.random() < 0.6 else rng.uniform(0.6, 0.95)), 2)
    outputs = rng.sample(_OUTPUT[sector], k=min(len(_OUTPUT[sector]), rng.randint(4, 6)))
    rows: list[dict[str, object]] = []
    if scheme_id == "third_party":
        method = rng.choice(("第三方评价", "部门评价", "财政评价", "重点评价"))
        w_dec, w_proc, w_out, w_ben = rng.choice(_WEIGHT_SPLITS)
        for tpl, w in zip(_DECISION, _split(w_dec, len(_DECISION), rng), strict=False):
            rows.append({**_manual(rng, "决策", tpl, w), "weight": w})
        for tpl, w in zip(_PROCESS, _split(w_proc, len(_PROCESS), rng), strict=False):
            if tpl[2] is None:  # 资金到位率 / 预算执行率: computed from the amounts
                rate = (allocated if tpl[1] == "资金到位率" else spent) / budget
                rows.append({"level1": "过程", "level2": tpl[0], "level3": tpl[1], "name": tpl[1],
                             "weight": w, "target": rng.choice(("＝100%", "=100%", "≥100%")),
                             "actual": f"{fmt_num(100 * rate, 1)}%",
                             "method": tpl[1]})
            else:
                rows.append({**_manual(rng, "过程", tpl, w), "weight": w})
        out_weights = _split(w_out, len(outputs), rng)
        benefit = rng.sample(_BENEFIT, k=rng.randint(2, 3))
        sat = [rng.choice(_SATISFACTION)]
        ben_weights = _split(w_ben, len(benefit) + 1, rng)
        for tpl, w in zip(outputs, out_weights, strict=False):
            rows.append({**_quantitative(rng, "产出", tpl, budget, spent), "weight": w})
        for tpl, w in zip(benefit, ben_weights, strict=False):
            rows.append({**_benefit(rng, tpl), "weight": w})
        rows.append({**_satisfaction(rng, sat[0], "效益"), "weight": ben_weights[-1]})
    else:
        method = rng.choice(("单位自评", "自评", "绩效自评"))
        rows.append({"level1": "预算执行率", "level2": "预算执行率", "level3": "预算执行率",
                     "name": "预算执行率", "weight": 10.0, "target": "＝100%",
                     "actual": f"{fmt_num(100 * spent / budget, 1)}%", "method": "预算执行率"})
        for tpl, w in zip(outputs, _split(50, len(outputs), rng), strict=False):
            rows.append({**_quantitative(rng, "产出", tpl, budget, spent), "weight": w})
        benefit = rng.sample(_BENEFIT, k=rng.randint(2, 4))
        for tpl, w in zip(benefit, _split(30, len(benefit), rng), strict=False):
            rows.append({**_benefit(rng, tpl), "weight": w})
        sats = rng.sample(_SATISFACTION, k=rng.randint(1, 2))
        for tpl, w in zip(sats, _split(10, len(sats), rng), strict=False):
            rows.append({**_satisfaction(rng, tpl, "满意度"), "weight": w})
    for row in rows:  # a deviation reason for the indicators that fell short
        if rng.random() < 0.5 and row.get("method") == "":
            row["reason"] = rng.choice(("受天气影响工期延后", "部分对象动态调整", "年初目标设定偏高",
                                        "资金拨付滞后"))
            row["measure"] = rng.choice(("加强项目进度管理", "科学合理设定绩效目标", "加快资金拨付进度"))
        row["method"] = _method_id(str(row.get("method", "")))
    code = rng.choice(("JY", "WJ", "NY", "JT", "SB", "WL", "ST"))
    project_id = f"{code}{year}-{index:04d}"
    funding_local = round(budget * rng.choice((1.0, 1.0, 0.6, 0.5)), 2)
    funding = {"本级财政资金": funding_local, "上级财政资金": round(budget - funding_local, 2),
               "上年结转资金": 0.0}
    name = f"{year}年度{rng.choice(_PROJECT_NAMES[sector])}"
    uses = [str(r["name"]).split("（")[0] for r in rows if r["level1"] == "产出"][:3]
    narrative = {
        "项目背景": f"为落实{department}年度重点工作任务，{unit}申报实施{name}项目。",
        "主要内容": f"项目预算{fmt_num(budget)}万元，主要用于{'、'.join(uses)}等。",
        "存在问题": rng.choice(("部分绩效指标设置不够细化，量化程度不高。", "项目资金拨付进度滞后于工程进度。",
                              "项目档案管理不够规范。")),
        "建议": rng.choice(("进一步细化量化绩效指标。", "加快预算执行进度，提高资金使用效益。",
                          "完善项目档案管理制度。")),
    }
    project = Project(
        id=project_id, name=name, department=department, unit=unit, year=year, method=method,
        scheme_id=scheme_id, budget=budget, allocated=allocated, spent=spent, funding=funding,
        indicators=_indicator_frame(rows), stated=pd.DataFrame(columns=list(STATED_COLUMNS)),
        narrative=narrative,
    )
    style = {
        "merged": rng.choice(("repeat", "blank", "merge")),
        "level_weights": rng.random() < 0.3,
        "headers": rng.randrange(3),
        "amount_yuan": rng.random() < 0.15,
        "sheet_alias": rng.random() < 0.3,
        "round_total": rng.random() < 0.4,
    }
    return SynthProject(project, sector, style)


def _stated_frame(project: Project, ev_row: pd.Series, levels: pd.DataFrame, rng: random.Random,
                  round_total: bool) -> pd.DataFrame:
    """Figures the report states, mostly right, sometimes rounded or misstated (as in real reports)."""
    total = float(ev_row["total"])
    total_text = fmt_num(round(total) if round_total else total)
    rows = [("总分", total_text, "三(一)"), ("等级", str(ev_row["grade"]), "三(一)")]
    for lv in levels.itertuples():
        score = float(lv.score)
        if rng.random() < 0.1:  # a misstated subtotal
            score = min(float(lv.weight), score + rng.choice((0.5, 1.0)))
        rows.append((f"{lv.name}得分", fmt_num(score), "三(一)"))
    rate = float(ev_row["execution_rate"])
    if rng.random() < 0.1:  # a misstated rate
        rate += 0.01
    rows += [("预算数", f"{fmt_num(project.budget)}万元", "一(一)"),
             ("执行数", f"{fmt_num(project.spent)}万元", "一(一)"),
             ("预算执行率", f"{fmt_num(100 * rate, 1)}%", "一(一)")]
    return pd.DataFrame([{"item": i, "value": math.nan, "text": t, "where": w} for i, t, w in rows],
                        columns=list(STATED_COLUMNS))


def _with_stated(projects: list[SynthProject], rng: random.Random) -> None:
    """Score every project in one vectorised pass and add its 报告数值 and 报告得分."""
    from perfeval.scoring.evaluate import evaluate_frames

    frames = evaluate_frames([s.project for s in projects])
    head = frames.projects.set_index("pidx")
    levels = {k: g for k, g in frames.levels.groupby("pidx")}
    scores = {k: g for k, g in frames.indicators.groupby("pidx")}
    for i, s in enumerate(projects):
        ind = s.project.indicators.copy()
        score = scores[i]["score"].to_numpy()
        stated = [(fmt_num(x) if rng.random() < 0.95 else fmt_num(max(0.0, x - 0.5))) for x in score]
        ind["stated_score"] = pd.to_numeric(pd.Series(stated), errors="coerce").to_numpy()
        s.project = replace(s.project, indicators=ind,
                            stated=_stated_frame(s.project, head.loc[i], levels[i], rng,
                                                 bool(s.style["round_total"])))


# ----------------------------------------------------------------------------- breaking

def _break(s: SynthProject, how: str, rng: random.Random) -> SynthProject:
    """A copy of `s` broken in the one named way."""
    p = s.project
    ind = p.indicators.copy()
    if how == "weights":
        i = rng.randrange(len(ind))
        ind.loc[i, "weight"] = float(ind.loc[i, "weight"]) + rng.choice((1.0, 2.0, -0.5))
    elif how == "notation":
        i = int(ind.index[ind["target"].astype(bool) & (ind["method"] == "")][0])
        number = re.search(r"\d[\d.,]*\D*$", str(ind.loc[i, "target"]))
        written = number.group(0) if number else "24人"
        ind.loc[i, "target"] = rng.choice((f"≈{written}", f"约{written}"))  # approximations are unreadable
    elif how == "duplicate":
        ind = pd.concat([ind, ind.iloc[[-1]]], ignore_index=True)
        ind.loc[len(ind) - 1, "weight"] = 0.0
    elif how == "method":
        ind.loc[rng.randrange(len(ind)), "method"] = "综合打分法"
    return replace(s, project=replace(p, indicators=ind), broken=how)


# ----------------------------------------------------------------------------- writing

_HEADER_SETS = (
    {"weight": "分值", "target": "指标值", "actual": "实际完成值", "stated_score": "报告得分",
     "reason": "偏差原因"},
    {"weight": "权重", "target": "年度指标值", "actual": "全年实际完成值", "stated_score": "得分",
     "reason": "偏差原因分析"},
    {"weight": "指标分值", "target": "目标值", "actual": "实际值", "stated_score": "评价得分",
     "reason": "偏差原因"},
)
_COLUMNS = ("level1", "level2", "level3", "name", "weight", "target", "actual", "method",
            "deduction", "deduction_reason", "stated_score", "reason", "measure")
_FIXED_HEADERS = {"level1": "一级指标", "level2": "二级指标", "level3": "三级指标", "name": "指标名称",
                  "method": "评分方法", "deduction": "扣分", "deduction_reason": "扣分原因",
                  "measure": "改进措施"}


def _indicator_rows(s: SynthProject) -> tuple[list[str], list[list[object]], list[str]]:
    """Header, body rows (merged-cell blanks applied) and the 一级 label of every row."""
    from perfeval.rules import RULE_LABELS

    headers = {**_FIXED_HEADERS, **_HEADER_SETS[int(s.style["headers"])]}
    columns = [c for c in _COLUMNS if not (s.broken == "missing_column" and c == "weight")]
    ind = s.project.indicators
    level_weight = ind.groupby("level1", sort=False)["weight"].sum()
    rows, labels = [], []
    for rec in ind.to_dict(orient="records"):
        label = rec["level1"]
        if s.style["level_weights"]:
            label = f"{label}指标({fmt_num(level_weight[rec['level1']])}分)"
        labels.append(label)
        rec = {**rec, "level1": label, "method": RULE_LABELS.get(rec["method"], rec["method"])}
        rows.append([cell_value(rec[c]) for c in columns])
    if s.style["merged"] != "repeat":  # blank the repeated 一级/二级 cells below the first
        for j in (1, 0):
            for i in range(len(rows) - 1, 0, -1):
                if rows[i][j] == rows[i - 1][j] and rows[i][0] in (rows[i - 1][0], ""):
                    rows[i][j] = ""
    return [headers[c] for c in columns], rows, labels


def _info_rows(s: SynthProject) -> list[tuple[str, object]]:
    p = s.project

    def amount(x: float) -> object:
        return f"{fmt_num(x * 10000, 0)}元" if s.style["amount_yuan"] else x

    year: object = p.year if s.broken != "year" else f"{p.year}年度（暂定）"
    budget: object = amount(p.budget) if s.broken != "amount" else f"-{fmt_num(p.budget)}"
    rows = [("项目编号", p.id), ("项目名称", p.name), ("主管部门", p.department), ("实施单位", p.unit),
            ("年度", year), ("评价方式", p.method), ("预算数", budget), ("到位数", amount(p.allocated)),
            ("执行数", amount(p.spent))]
    rows += list(p.funding.items())
    return rows


def _write_book(path: Path, build) -> None:
    """Write a workbook atomically (temp name in the same folder, then rename)."""
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False,
                                              "strings_to_urls": False})
        book.set_properties({"created": _CREATED, "author": "perfeval synth"})
        build(book)
        book.close()


def write_project_workbook(s: SynthProject, path: Path) -> Path:
    """One project per workbook, in the layout (and quirks) chosen for it."""
    if s.broken == "not_excel":
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text("这不是Excel文件：导出时中断\n" + s.project.name, encoding="utf-8")
        os.replace(tmp, path)
        return path

    def build(book: xlsxwriter.Workbook) -> None:
        head = book.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7", "text_wrap": True})
        merged = book.add_format({"valign": "vcenter", "border": 1})
        if s.broken != "missing_info":
            info = book.add_worksheet("基本信息" if s.style["sheet_alias"] else "项目信息")
            info.write_row(0, 0, ["字段", "值"], head)
            for i, (k, v) in enumerate(_info_rows(s), start=1):
                info.write_row(i, 0, [k, cell_value(v)])
            info.set_column(0, 0, 14)
            info.set_column(1, 1, 40)
        sheet = book.add_worksheet("绩效指标" if s.style["sheet_alias"] else "指标")
        headers, rows, labels = _indicator_rows(s)
        sheet.write_row(0, 0, headers, head)
        for i, row in enumerate(rows, start=1):
            sheet.write_row(i, 0, row)
        if s.style["merged"] == "merge":  # real merged cells for runs of the same 一级 label
            start = 0
            for i in range(1, len(labels) + 1):
                if i == len(labels) or labels[i] != labels[start]:
                    if i - start > 1:
                        sheet.merge_range(start + 1, 0, i, 0, labels[start], merged)
                    start = i
        sheet.set_column(0, 2, 12)
        sheet.set_column(3, 3, 30)
        stated = book.add_worksheet("报告数值")
        stated.write_row(0, 0, ["数据项", "报告值", "出处"], head)
        for i, rec in enumerate(s.project.stated.to_dict(orient="records"), start=1):
            stated.write_row(i, 0, [rec["item"], rec["text"], rec["where"]])
        text = book.add_worksheet("文字")
        text.write_row(0, 0, ["章节", "内容"], head)
        for i, (k, v) in enumerate(s.project.narrative.items(), start=1):
            text.write_row(i, 0, [k, v])

    _write_book(path, build)
    return path


def write_portfolio_workbook(projects: Sequence[SynthProject], path: Path) -> Path:
    """Many projects in one workbook: 项目信息 as a table, other sheets keyed by 项目编号.

    Only the per-project breakages can live in a portfolio (file-level ones would break all)."""

    def build(book: xlsxwriter.Workbook) -> None:
        head = book.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7"})
        info = book.add_worksheet("项目信息")
        keys = [k for k, _ in _info_rows(projects[0])]
        info.write_row(0, 0, keys, head)
        for i, s in enumerate(projects, start=1):
            values = dict(_info_rows(s))
            info.write_row(i, 0, [cell_value(values.get(k, "")) for k in keys])
        sheet = book.add_worksheet("指标")
        stated = book.add_worksheet("报告数值")
        text = book.add_worksheet("文字")
        stated.write_row(0, 0, ["项目编号", "数据项", "报告值", "出处"], head)
        text.write_row(0, 0, ["项目编号", "章节", "内容"], head)
        r_ind = r_st = r_tx = 1
        for n, s in enumerate(projects):
            s = replace(s, style={**s.style, "headers": 0, "merged": "repeat"})
            headers, rows, _ = _indicator_rows(s)
            if n == 0:
                sheet.write_row(0, 0, ["项目编号", *headers], head)
            for row in rows:
                sheet.write_row(r_ind, 0, [s.project.id, *row])
                r_ind += 1
            for rec in s.project.stated.to_dict(orient="records"):
                stated.write_row(r_st, 0, [s.project.id, rec["item"], rec["text"], rec["where"]])
                r_st += 1
            for k, v in s.project.narrative.items():
                text.write_row(r_tx, 0, [s.project.id, k, v])
                r_tx += 1

    _write_book(path, build)
    return path


# ----------------------------------------------------------------------------- API

def generate(n: int, seed: int = 0, broken_share: float = 0.1,
             breakages: Sequence[str] = BREAKAGES) -> list[SynthProject]:
    """`n` projects; round(n × broken_share) of them broken (each in one of `breakages`, in turn)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = random.Random(seed)
    projects = [make_project(rng, i + 1) for i in range(n)]
    if projects:
        _with_stated(projects, rng)
    n_broken = min(n, round(n * broken_share))
    which = sorted(rng.sample(range(n), n_broken))
    for k, i in enumerate(which):
        projects[i] = _break(projects[i], breakages[k % len(breakages)], rng)
    return projects


def write_portfolio(out_dir: str | Path, n: int, seed: int = 0, broken_share: float = 0.1,
                    portfolio: bool = False) -> list[Path]:
    """Write `n` synthetic projects into `out_dir`: one workbook each, or (portfolio=True) one
    portfolio workbook `组合-<seed>.xlsx`. Returns the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if portfolio:
        kinds = tuple(b for b in BREAKAGES if b in ("weights", "notation", "duplicate", "method",
                                                     "year", "amount"))
        projects = generate(n, seed, broken_share, kinds)
        return [write_portfolio_workbook(projects, out / f"组合-{seed}.xlsx")]
    return [write_project_workbook(s, out / s.file_name) for s in generate(n, seed, broken_share)]


# ----------------------------------------------------------------------------- CLI

def register(subparsers: argparse._SubParsersAction) -> None:
    from perfeval.cli import example

    p = subparsers.add_parser(
        "synth", help="生成合成项目组合（测试、基准和演示用）",
        description="生成一个逼真的合成项目组合：两种评价方案、各种常见写法，以及一定比例故意出错的工作簿"
                    "（用于测试校验）；或用 --panel / --survey 为一个项目生成专家评分表或满意度问卷答卷。"
                    "相同种子生成相同文件。",
        epilog=example("perfeval synth --projects 12 --seed 1 --broken-share 0 --out data/synthetic",
                       "perfeval synth --projects 1000 --out 合成 --portfolio",
                       "perfeval synth --panel data/reference/AKT2022-001.xlsx --experts 5 --out 专家评分",
                       "perfeval synth --survey data/reference/AKT2022-001.xlsx --responses 300 --out 问卷",
                       "perfeval batch 合成 --out 合成报告 --format none"))
    p.add_argument("--projects", type=int, metavar="N", help="项目个数（生成项目组合时必填）")
    p.add_argument("--panel", metavar="PROJECT",
                   help="改为给该项目生成已填写的专家评分表（专家有各自的宽严偏差和随机误差），配合 --experts")
    p.add_argument("--experts", type=int, default=5, metavar="N", help="--panel 的专家人数（默认 5）")
    p.add_argument("--disagree", type=int, default=0, metavar="K", help="--panel 植入意见分歧的指标数（默认 0）")
    p.add_argument("--survey", metavar="PROJECT",
                   help="改为给该项目的满意度指标生成问卷答卷 answers.xlsx 和映射 mapping.toml（含一定比例无效答卷）")
    p.add_argument("--responses", type=int, default=300, metavar="N", help="--survey 的答卷份数（默认 300）")
    p.add_argument("--out", required=True, metavar="DIR", help="输出文件夹")
    p.add_argument("--seed", type=int, default=0, help="随机种子（相同种子生成相同文件）")
    p.add_argument("--broken-share", type=float, default=0.1, metavar="F",
                   help="故意出错的工作簿比例，0 到 1（默认 0.1）")
    p.add_argument("--portfolio", action="store_true",
                   help="写成一个项目组合工作簿（每行一个项目），而不是每个项目一个文件")
    p.add_argument("--clean", action="store_true", help="先清空输出文件夹中的 .xlsx 文件")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    chosen = [flag for flag, value in (("--projects", args.projects), ("--panel", args.panel),
                                       ("--survey", args.survey)) if value is not None]
    if len(chosen) != 1:
        sys.stderr.write("perfeval synth：请在 --projects N、--panel PROJECT、--survey PROJECT 中选择一个\n")
        return 2
    if args.panel is not None:
        return _run_panel(args)
    if args.survey is not None:
        return _run_survey(args)
    if args.projects < 1:
        sys.stderr.write("perfeval synth：--projects 应为正整数\n")
        return 2
    if not 0.0 <= args.broken_share <= 1.0:
        sys.stderr.write("perfeval synth：--broken-share 应在 0 到 1 之间\n")
        return 2
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        sys.stderr.write(f"perfeval synth：{out} 不是文件夹\n")
        return 2
    if args.clean and out.is_dir():
        for old in out.glob("*.xlsx"):
            old.unlink()
    files = write_portfolio(out, args.projects, args.seed, args.broken_share, args.portfolio)
    n_broken = min(args.projects, round(args.projects * args.broken_share))
    shape = "1 个项目组合工作簿" if args.portfolio else f"{len(files)} 个工作簿"
    print(f"✓ 已生成 {args.projects} 个合成项目（{shape}，其中 {n_broken} 个故意出错）：{out}")
    return 0



def _run_panel(args: argparse.Namespace) -> int:
    """`perfeval synth --panel PROJECT`: the same as `perfeval panel synth PROJECT`."""
    from perfeval.panel.command import run_synth

    return run_synth(argparse.Namespace(project=args.panel, scheme=None, project_id=None, experts=args.experts,
                                        out=args.out, seed=args.seed, disagree=args.disagree, force=args.clean))


def _run_survey(args: argparse.Namespace) -> int:
    """`perfeval synth --survey PROJECT`: answers.xlsx + mapping.toml for the project's 满意度 indicators, with the
    generator's default share of invalid responses of each kind (see perfeval.survey.synth)."""
    import sys

    from perfeval.sheets.load import load_project
    from perfeval.survey.synth import items_for, write_survey

    if args.responses < 10:
        sys.stderr.write("perfeval synth：--responses 应不少于 10\n")
        return 2
    project = load_project(args.survey)
    answers, mapping, truth = write_survey(args.out, args.responses, args.seed, items=items_for(project))
    planted = sum(len(rows) for rows in truth.planted.values())
    print(f"✓ 已生成 {args.responses} 份模拟答卷（其中 {planted} 份无效）：{answers}")
    print(f"  问卷映射：{mapping}")
    print(f"  下一步：perfeval survey {args.survey} {answers} --mapping {mapping} --out 项目_问卷.xlsx")
    return 0
