"""Command line: `perfeval validate|score|template` here; report, batch, synth and lab come from plugins.

Every error a user can cause ends as a Chinese message and an exit code, never a traceback:
0 = done and clean, 1 = done with failures (batch), 2 = invalid input or arguments.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from perfeval import __version__
from perfeval.errors import PerfevalError, SheetError

#: modules that add subcommands: each defines register(subparsers) and run(args) -> int
PLUGINS = (
    "perfeval.report.command",
    "perfeval.batch.command",
    "perfeval.synth",
    "perfeval.workbench.command",
    "perfeval.survey.command",
    "perfeval.evidence_command",
)

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and a Chinese hint instead of its English usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"perfeval：参数错误：{message}\n（perfeval -h 查看帮助）\n")
        raise SystemExit(EXIT_INVALID)


AUDITABLE_NOTE = "（可评分：score/report/batch 按表内所写评分并列为核查发现；加 --strict 则拒绝）"


def print_problems(error: SheetError, stream=None, mark_auditable: bool = False) -> None:
    stream = stream or sys.stderr
    stream.write(f"发现 {len(error.problems)} 个问题：\n")
    for problem in error.problems:
        note = AUDITABLE_NOTE if mark_auditable and problem.auditable else ""
        stream.write(f"  ✗ {problem}{note}\n")


def _cmd_validate(args: argparse.Namespace) -> int:
    from perfeval.validate import validate_paths

    paths = [Path(p) for p in args.paths]
    problems = validate_paths(paths, args.scheme)
    if args.json:
        print(json.dumps([p.to_dict() for p in problems], ensure_ascii=False, indent=2, allow_nan=False))
    elif problems:
        print_problems(SheetError(problems), sys.stdout, mark_auditable=not args.strict)
    else:
        print(f"✓ {len(paths)} 个文件全部通过校验")
    return EXIT_INVALID if problems else EXIT_OK


def _cmd_score(args: argparse.Namespace) -> int:
    from perfeval.evaluate import evaluate
    from perfeval.summary import summary_text
    from perfeval.validate import load_project

    project = load_project(args.path, args.scheme, args.project, strict=args.strict)
    options = dict(kv.split("=", 1) for kv in args.option or ())
    evaluation = evaluate(project, args.scheme, _typed(options) or None)
    if args.json:
        print(json.dumps(evaluation.to_dict(), ensure_ascii=False, indent=2, allow_nan=False))
    else:
        print(summary_text(evaluation))
    return EXIT_OK


def _typed(options: dict[str, str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in options.items():
        try:
            out[key] = int(value)
        except ValueError:
            try:
                out[key] = float(value)
            except ValueError:
                out[key] = value
    return out


def _cmd_template(args: argparse.Namespace) -> int:
    from perfeval.workbook import write_template

    path = Path(args.out)
    if path.exists() and not args.force:
        sys.stderr.write(f"perfeval：{path} 已存在；如需覆盖请加 --force\n")
        return EXIT_INVALID
    write_template(path, scheme=args.scheme)
    print(f"✓ 已生成模板：{path}")
    return EXIT_OK


def add_strict(parser: argparse.ArgumentParser) -> None:
    """`--strict`: refuse a table whose weights do not match the scheme or that repeats a row,
    instead of scoring it as written with the problems as error findings."""
    parser.add_argument("--strict", action="store_true",
                        help="严格模式：分值合计与评价方案不符、指标重复等问题也拒绝评分（默认按表内所写评分并列为核查发现）")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="perfeval", description="财政项目支出绩效评价工作台")
    parser.add_argument("--version", action="version", version=f"perfeval {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="命令", parser_class=_Parser)

    p = sub.add_parser("validate", help="校验指标表，一次列出全部问题")
    p.add_argument("paths", nargs="+", metavar="PATH", help=".xlsx 或 .csv 指标表")
    p.add_argument("--scheme", help="评价方案：third_party、self 或 .toml 文件（默认按表内评价方式）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出问题列表")
    add_strict(p)
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("score", help="计算得分、等级、预算执行率并核查报告数值")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--scheme", help="评价方案：third_party、self 或 .toml 文件")
    p.add_argument("--project", help="项目组合工作簿中的项目编号")
    p.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help="评分选项，如 negative_rule=linear、rounding=truncate、"
                        "qualitative_scale=four_grade、execution_denominator=allocated")
    p.add_argument("--json", action="store_true", help="输出 JSON")
    add_strict(p)
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("template", help="生成空白指标表模板（含下拉选项和示例行）")
    p.add_argument("out", metavar="OUT.xlsx")
    p.add_argument("--scheme", default="third_party", help="third_party（默认）或 self")
    p.add_argument("--force", action="store_true", help="覆盖已存在的文件")
    p.set_defaults(func=_cmd_template)

    for name in PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # that feature is not installed in this build
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_INVALID
    try:
        return int(args.func(args))
    except SheetError as exc:
        print_problems(exc)
        return EXIT_INVALID
    except PerfevalError as exc:
        sys.stderr.write(f"perfeval：{exc}\n")
        return EXIT_INVALID
    except BrokenPipeError:  # e.g. `perfeval score … | head`
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        sys.stderr.write("perfeval：已中断\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
