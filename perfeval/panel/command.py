"""`perfeval panel template|merge|synth` (CLI plugin, see perfeval.cli.PLUGINS).

    perfeval panel template PROJECT --experts 5 --out 专家评分/      one blank workbook per expert
    perfeval panel merge PROJECT 专家评分/*.xlsx [--out merged.xlsx] [--json]
    perfeval panel synth PROJECT --experts 5 --out 专家评分/ [--seed S] [--disagree N]   filled, for tests/demos
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from perfeval.display import fmt_num as _fmt
from perfeval.errors import PerfevalError


def register(subparsers: argparse._SubParsersAction) -> None:
    from perfeval.cli import _Parser, example

    parser = subparsers.add_parser(
        "panel", help="专家组评分：生成专家评分表、合并专家评分",
        description="专家组评分：为每位专家生成评分表（定性、扣分、评价要点类指标），合并填好的评分表为专家组得分，"
                    "标出意见分歧，合并后的项目可直接用于 perfeval report。\n"
                    "退出码：0 完成，2 指标表、评分表或参数有误（一次列出全部问题，不写任何文件）。",
        epilog=example("perfeval panel template data/reference/AKT2022-001.xlsx --experts 5 --out 专家评分",
                       "perfeval panel merge data/reference/AKT2022-001.xlsx 专家评分 --out 合并后.xlsx",
                       "perfeval panel synth data/reference/AKT2022-001.xlsx --experts 5 --out 专家评分 --seed 1"))
    sub = parser.add_subparsers(dest="panel_command", parser_class=_Parser,
                                help="template 生成评分表；merge 合并评分表；synth 生成模拟评分表")
    parser.set_defaults(func=lambda args: _help(parser))

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("project", metavar="PROJECT", help="项目指标表（.xlsx 或 .csv）")
        p.add_argument("--scheme", help="评价方案：third_party、self 或 .toml 文件（默认按表内评价方式）")
        p.add_argument("--project-id", dest="project_id", metavar="ID", help="项目组合工作簿中的项目编号")

    p = sub.add_parser("template", help="为每位专家生成一份评分表（定性、扣分、评价要点类指标）")
    common(p)
    p.add_argument("--experts", type=int, required=True, metavar="N", help="专家人数")
    p.add_argument("--names", metavar="姓名,姓名,…", help="专家姓名（逗号分隔，可少于专家人数）")
    p.add_argument("--out", required=True, metavar="DIR", help="输出文件夹")
    p.add_argument("--force", action="store_true", help="覆盖已存在的评分表")
    p.set_defaults(func=run_template)

    p = sub.add_parser("merge", help="合并专家评分表：专家组得分、意见分歧、合并后的总分和等级")
    common(p)
    p.add_argument("sheets", nargs="+", metavar="SHEETS", help="各专家填好的评分表（.xlsx），或存放它们的文件夹")
    p.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help="评分选项，如 panel_rule=trimmed_mean、panel_disagreement_range=0.2（可重复；"
                        "perfeval score -h 列出全部）")
    p.add_argument("--out", metavar="merged.xlsx", help="写出合并后的项目指标表（可直接用于 perfeval report）")
    p.add_argument("--force", action="store_true", help="覆盖已存在的 --out 文件")
    p.add_argument("--json", action="store_true", help="输出 JSON")
    p.set_defaults(func=run_merge)

    p = sub.add_parser("synth", help="生成已填写的模拟专家评分表（测试、基准和演示用）")
    common(p)
    p.add_argument("--experts", type=int, required=True, metavar="N", help="专家人数")
    p.add_argument("--out", required=True, metavar="DIR", help="输出文件夹")
    p.add_argument("--seed", type=int, default=0, help="随机种子（默认 0）")
    p.add_argument("--disagree", type=int, default=0, metavar="K",
                   help="植入意见分歧的指标数（某位专家的评分明显偏离，默认 0）")
    p.add_argument("--force", action="store_true", help="覆盖已存在的评分表")
    p.set_defaults(func=run_synth)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _load(args: argparse.Namespace):
    from perfeval.sheets.load import load_project

    return load_project(args.project, args.scheme, args.project_id, field_data=False)  # merged by hand here


def run_template(args: argparse.Namespace) -> int:
    from perfeval.panel.template import write_templates

    names = [n.strip() for n in (args.names or "").replace("，", ",").split(",") if n.strip()]
    paths = write_templates(_load(args), args.experts, args.out, names, args.scheme, args.force)
    sys.stdout.write(f"✓ 已生成 {len(paths)} 份专家评分表：{Path(args.out)}\n")
    for path in paths:
        sys.stdout.write(f"  {path.name}\n")
    return 0


def run_synth(args: argparse.Namespace) -> int:
    import numpy as np

    from perfeval.panel.synth import synth_panel, write_panel
    from perfeval.panel.template import expert_ids, judged_indicators, sheet_name

    project = _load(args)
    judged = judged_indicators(project, args.scheme)
    if judged.empty:
        raise PerfevalError(f"项目 {project.id} 没有需要专家评判的指标")
    if not 0 <= args.disagree <= len(judged):
        raise PerfevalError(f"--disagree 应在 0 至 {len(judged)}（需专家评判的指标数）之间")
    out = Path(args.out)
    existing = [out / sheet_name(project.id, e) for e in expert_ids(max(args.experts, 1))]
    if not args.force and any(p.exists() for p in existing):
        raise PerfevalError(f"{out} 中已有评分表；如需覆盖请加 --force")
    rng = np.random.default_rng(args.seed)
    planted = sorted(rng.choice(judged["position"].to_numpy(), size=args.disagree, replace=False).tolist())
    panel = synth_panel(project, args.experts, args.seed, disagree=planted, scheme=args.scheme, judged=judged)
    paths = write_panel(project, panel, out)
    sys.stdout.write(f"✓ 已生成 {len(paths)} 份模拟专家评分表：{out}\n")
    if planted:
        names = judged.set_index("position").loc[planted, "name"]
        sys.stdout.write(f"  植入意见分歧：{'、'.join(names)}\n")
    return 0


def _sheet_paths(items: list[str]) -> list[Path]:
    """Files as given; from a folder, the expert sheets in it (the project's own workbook may sit beside them)."""
    from perfeval.panel.read import expert_sheets_in

    paths: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = expert_sheets_in(path)
            if not found:
                raise PerfevalError(f"文件夹 {path} 中没有专家评分表（含「评分说明」和「专家评分」工作表的 .xlsx）")
            paths += found
        else:
            paths.append(path)
    return paths


def _options(pairs: list[str] | None) -> dict[str, object] | None:
    from perfeval.cli import parse_options

    return parse_options(pairs) or None


def run_merge(args: argparse.Namespace) -> int:
    from perfeval.panel.apply import merge_sheets
    from perfeval.scoring.evaluate import evaluate

    project = _load(args)
    out = Path(args.out) if args.out else None
    if out is not None:
        if out.suffix.lower() != ".xlsx":
            raise PerfevalError(f"--out 应为 .xlsx 文件，而不是「{out.name}」")
        if out.exists() and not args.force:
            raise PerfevalError(f"{out} 已存在；如需覆盖请加 --force")
    result = merge_sheets(project, _sheet_paths(args.sheets), args.scheme, _options(args.option))
    before = evaluate(project, result.scheme, result.options)
    after = result.evaluate()
    if out is not None:
        from perfeval.sheets.write import save_project

        save_project(result.project, out)
    if args.json:
        sys.stdout.write(json.dumps(_json(result, before, after, out), ensure_ascii=False, indent=2,
                                    allow_nan=False) + "\n")
    else:
        sys.stdout.write(_text(result, before, after, out))
    return 0


def _json(result, before, after, out: Path | None) -> dict:
    m = result.merged
    labels = m.labels
    return {
        "project": result.project.id,
        "experts": [{"id": e, "label": labels.get(e, e)} for e in m.experts],
        "rule": m.rule,
        "indicators": [
            {"row": int(r.row), "name": r.name, "weight": float(r.weight),
             "scores": {e: float(result.panel.scores.at[pos, e]) for e in m.experts},
             "panel_score": float(r.score), "range": round(float(r.range), 6), "std": round(float(r.std), 6),
             "disagreement": bool(r.disagreement), "reason": r.reason}
            for pos, r in zip(m.frame.index, m.frame.itertuples(), strict=True)],
        "findings": m.findings.to_dict(orient="records"),
        "before": {"total": before.total, "grade": before.grade},
        "total": after.total, "grade": after.grade,
        "out": str(out) if out else None,
    }


def _text(result, before, after, out: Path | None) -> str:
    m = result.merged
    lines = [f"{result.project.id} {result.project.name}",
             f"专家组：{len(m.experts)} 位（{'、'.join(m.labels.get(e, e) for e in m.experts)}）；"
             f"专家组得分取{m.rule_label}", ""]
    for pos, r in zip(m.frame.index, m.frame.itertuples(), strict=True):
        scores = "  ".join(f"{e} {_fmt(result.panel.scores.at[pos, e])}" for e in m.experts)
        flag = "  ⚠ 意见分歧" if r.disagreement else ""
        lines.append(f"  {r.name}（{_fmt(r.weight)}分）：{scores}  → 专家组 {_fmt(r.score)} 分"
                     f"（极差 {_fmt(r.range)}，标准差 {_fmt(r.std, 2, trim=False)}）{flag}")
    if len(m.findings):
        lines += ["", "专家组核查发现："]
        lines += [f"  ⚠ {f.message}（{f.where}）" for f in m.findings.itertuples()]
    lines += ["", f"合并前：总分 {_fmt(before.total)}（{before.grade}）",
              f"合并后：总分 {_fmt(after.total)}（{after.grade}）"]
    if out is not None:
        lines.append(f"✓ 已写出合并后的指标表：{out}（可用于 perfeval report / score）")
    return "\n".join(lines) + "\n"
