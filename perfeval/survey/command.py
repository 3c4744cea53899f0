"""`perfeval survey PROJECT ANSWERS --mapping M [--out project.xlsx] [--excluded FILE] [--json]`
(CLI plugin, see perfeval.cli.PLUGINS): screen a questionnaire export, compute the 满意度 indicators, show
what the project states against it, and optionally write the project with the survey's values."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd

from perfeval.display import fmt_num

#: excluded responses printed one by one (all of them go to --excluded / --json)
SHOWN_EXCLUDED = 20


def register(subparsers: argparse._SubParsersAction) -> None:
    from perfeval.cli import example

    parser = subparsers.add_parser(
        "survey", help="满意度问卷：筛除无效答卷，计算满意度（样本量、误差）并写入指标",
        description="满意度问卷：读取问卷工具导出的答卷，按映射把题目对应到满意度指标，筛除无效答卷（不完整、"
                    "重复答卷编号、全部同一选项、不在调查期内，逐份列出原因），计算满意率或加权得分、有效样本量和"
                    "95% 置信误差，写入指标的实际完成值；表内原填数值超出问卷区间的列为核查发现。\n"
                    "退出码：0 完成，2 指标表、答卷、映射或参数有误（不写任何文件）。",
        epilog=example("perfeval survey 项目.xlsx 答卷.xlsx --mapping 问卷映射.toml",
                       "perfeval survey 项目.xlsx 答卷.xlsx --mapping 问卷映射.toml --out 项目_问卷.xlsx "
                       "--excluded 无效答卷.xlsx"))
    parser.add_argument("path", metavar="PROJECT", help=".xlsx 或 .csv 指标表")
    parser.add_argument("answers", metavar="ANSWERS", help="问卷导出的答卷（.xlsx 或 .csv，每行一份答卷）")
    parser.add_argument("--mapping", required=True, metavar="M.toml",
                        help="问卷映射：题目列 → 满意度指标（格式见 docs/survey.md）")
    parser.add_argument("--out", metavar="PROJECT.xlsx", help="写出实际完成值已替换为问卷结果的指标表")
    parser.add_argument("--excluded", metavar="FILE", help="把全部无效答卷及原因写入 .xlsx 或 .csv")
    parser.add_argument("--force", action="store_true", help="覆盖已存在的输出文件")
    parser.add_argument("--scheme", help="评价方案：third_party、self 或 .toml 文件（默认按表内评价方式）")
    parser.add_argument("--project", help="项目组合工作簿中的项目编号")
    parser.add_argument("--json", action="store_true", help="输出 JSON")
    parser.set_defaults(func=run)


def _num(x: object, places: int = 4) -> float | None:
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return round(value, places) if math.isfinite(value) else None


def to_dict(result, applied) -> dict:
    """The `--json` object: screening counts, per indicator, per item, every excluded response, findings."""
    excluded = result.excluded
    return {
        "screening": result.screening.counts,
        "indicators": [{"indicator": r.indicator, "row": int(t.row), "mode": r.mode, "n": int(r.n),
                        "value": _num(r.value), "margin": _num(r.margin), "low": _num(r.low), "high": _num(r.high),
                        "stated": t.stated, "actual": t.actual, "supported": t.supported, "formula": r.formula}
                       for r, t in zip(result.indicators.itertuples(), applied.table.itertuples(), strict=True)],
        "items": [{k: (_num(v) if isinstance(v, float) else v) for k, v in rec.items()}
                  for rec in result.items.to_dict(orient="records")],
        "excluded": [{"row": int(r[0]), "respondent": r[1] or None,
                      "time": None if pd.isna(r[2]) else pd.Timestamp(r[2]).isoformat(sep=" "),
                      "reason": r[3], "codes": r[4].split(",")}
                     for r in excluded.itertuples(index=False)],
        "findings": applied.findings_frame().to_dict(orient="records"),
    }


def summary_text(result, applied) -> str:
    counts = result.screening.counts
    lines = [f"答卷 {counts['total']} 份，有效 {counts['valid']} 份，剔除 {counts['excluded']} 份"
             f"（不完整 {counts['incomplete']}，编号重复 {counts['duplicate']}，"
             f"直线作答 {counts['straightlining']}，不在调查期间 {counts['out_of_period']}）"]
    lines.append("满意度指标：")
    for rec in applied.table.itertuples():
        unit = "%" if rec.mode == "rate" else ""
        verdict = {True: "✓ 表内数值在区间内", False: "✗ 表内数值不被问卷支持", None: "表内无可比数值"}[rec.supported]
        low, high = fmt_num(rec.low, 2, trim=False), fmt_num(rec.high, 2, trim=False)
        lines.append(f"  第{rec.row}行 {rec.name}：{rec.actual}（n={rec.n}，95%置信区间 "
                     f"{low}–{high}{unit}）；表内原值「{rec.stated}」 {verdict}")
    lines.append("各题：")
    for rec in result.items.to_dict(orient="records"):
        share = "" if not math.isfinite(rec["satisfied"]) else \
            f"满意 {fmt_num(rec['satisfied'], 2, trim=False)}% ±{fmt_num(rec['margin'], 2, trim=False)}"
        lines.append(f"  {rec['column']} → {rec['indicator']}：{share}")
    if len(result.excluded):
        lines.append(f"无效答卷（前 {min(SHOWN_EXCLUDED, len(result.excluded))} 份，共 {len(result.excluded)} 份）：")
        for r in result.excluded.head(SHOWN_EXCLUDED).itertuples(index=False):
            lines.append(f"  第{r[0]}行 {r[1] or ''} {r[3]}")
    for rec in applied.findings_frame().itertuples():
        lines.append(f"  ✗ [{rec.code}] {rec.where}：{rec.message}")
    return "\n".join(lines)


def write_excluded(excluded: pd.DataFrame, path: Path) -> None:
    from perfeval.atomic import atomic_path

    shown = excluded.rename(columns={"reasons": "规则代码"})
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".csv":
            shown.to_csv(tmp, index=False, encoding="utf-8-sig")
        else:
            shown.to_excel(tmp, index=False, sheet_name="无效答卷", engine="xlsxwriter")


def run(args: argparse.Namespace) -> int:
    from perfeval.errors import PerfevalError
    from perfeval.sheets.load import load_project
    from perfeval.sheets.write import save_project
    from perfeval.survey.apply import apply_survey
    from perfeval.survey.compute import run_survey

    outputs = [Path(p) for p in (args.out, args.excluded) if p]
    if args.out and Path(args.out).suffix.lower() != ".xlsx":
        raise PerfevalError(f"输出文件「{args.out}」应为 .xlsx")
    if args.excluded and Path(args.excluded).suffix.lower() not in (".xlsx", ".csv"):
        raise PerfevalError(f"无效答卷清单「{args.excluded}」应为 .xlsx 或 .csv")
    for path in outputs:
        if path.resolve() in (Path(args.path).resolve(), Path(args.answers).resolve()):
            raise PerfevalError(f"输出文件「{path}」不能覆盖输入文件")
        if path.exists() and not args.force:
            raise PerfevalError(f"{path} 已存在；如需覆盖请加 --force")
    project = load_project(args.path, args.scheme, args.project, field_data=False)  # the survey is given here
    result = run_survey(args.answers, args.mapping)
    applied = apply_survey(project, result)  # every check done before anything is written
    if args.excluded:
        write_excluded(result.excluded, Path(args.excluded))
    if args.out:
        save_project(applied.project, args.out)
    if args.json:
        print(json.dumps(to_dict(result, applied), ensure_ascii=False, indent=2, allow_nan=False, default=str))
    else:
        print(summary_text(result, applied))
        for path in outputs:
            print(f"✓ 已写入 {path}")
    sys.stdout.flush()
    return 0
