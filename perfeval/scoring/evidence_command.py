"""`perfeval materials PROJECT [--out checklist.xlsx]` (CLI plugin, see perfeval.cli.PLUGINS): the per-indicator
佐证材料 checklist, printed and optionally written to Excel; with the ledger, the evidence findings too."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def register(subparsers: argparse._SubParsersAction) -> None:
    from perfeval.cli import example

    parser = subparsers.add_parser(
        "materials", help="按指标体系生成佐证材料清单（现场核查前需收集的资料）",
        description="按指标体系逐项生成佐证材料清单，供现场核查前收集资料；指标表有证据编号或佐证材料工作表时，"
                    "同时列出扣分、偏差缺少证据和证据编号不存在的指标。\n"
                    "退出码：0 完成，2 指标表或参数有误。",
        epilog=example("perfeval materials data/reference/AKT2022-001.xlsx",
                       "perfeval materials data/reference/AKT2022-001.xlsx --out 佐证材料清单.xlsx"))
    parser.add_argument("path", metavar="PROJECT", help=".xlsx 或 .csv 指标表")
    parser.add_argument("--out", metavar="CHECKLIST.xlsx", help="把清单写入 Excel 文件")
    parser.add_argument("--scheme", help="评价方案：third_party、self 或 .toml 文件（默认按表内评价方式）")
    parser.add_argument("--project", help="项目组合工作簿中的项目编号")
    parser.set_defaults(func=run)


def write_checklist(checklist: pd.DataFrame, findings: pd.DataFrame, path: str | Path) -> Path:
    """The checklist (sheet 佐证材料清单) and, when there are any, the evidence findings (sheet 证据核查),
    written atomically."""
    from perfeval.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="xlsxwriter") as writer:
        checklist.to_excel(writer, sheet_name="佐证材料清单", index=False)
        sheet = writer.sheets["佐证材料清单"]
        for j, width in enumerate((6, 8, 12, 16, 30, 12, 70, 16, 16)):
            sheet.set_column(j, j, width)
        sheet.freeze_panes(1, 0)
        if len(findings):
            shown = findings.rename(columns={"code": "代码", "severity": "级别", "message": "说明",
                                             "where": "位置"})
            shown.to_excel(writer, sheet_name="证据核查", index=False)
            writer.sheets["证据核查"].set_column(0, 3, 40)
    return path


def run(args: argparse.Namespace) -> int:
    from perfeval.errors import PerfevalError
    from perfeval.scoring.evaluate import evaluate
    from perfeval.scoring.evidence import checklist_text, evidence_findings, materials_checklist
    from perfeval.sheets.load import load_project

    if args.out and Path(args.out).suffix.lower() != ".xlsx":
        raise PerfevalError(f"输出文件「{args.out}」应为 .xlsx")
    project = load_project(args.path, args.scheme, args.project)
    evaluation = evaluate(project, args.scheme)
    checklist = materials_checklist(project, evaluation)
    findings = evidence_findings(evaluation)
    print(checklist_text(project, checklist))
    if project.ledger:
        if len(findings):
            print(f"\n证据核查：{len(findings)} 项")
            for rec in findings.itertuples():
                print(f"  ⚠ [{rec.code}] {rec.where}：{rec.message}")
        else:
            print("\n证据核查：失分指标均有证据编号，编号均在佐证材料表中")
    if args.out:
        write_checklist(checklist, findings, args.out)
        print(f"\n✓ 已写入 {args.out}")
    return 0
