"""Command line: `perfeval validate|score|template` here; report, batch, synth and lab come from plugins.

Every error a user can cause ends as a Chinese message and an exit code, never a traceback:
0 = done and clean, 1 = done with failures (batch), 2 = invalid input or arguments.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import re
import shutil
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from perfeval import __version__
from perfeval.errors import PerfevalError, SheetError

#: modules that add subcommands: each defines register(subparsers) and run(args) -> int
PLUGINS = (
    "perfeval.report.command",
    "perfeval.batch.command",
    "perfeval.devtools.synth",
    "perfeval.workbench.command",
    "perfeval.panel.command",
    "perfeval.survey.command",
    "perfeval.scoring.evidence_command",
)

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


#: a run of printable ASCII (an option, a path, key=value, DIR/<年度>/<项目编号>/) is never broken; any other
#: character may end a line
_TOKEN = re.compile(r"(?:[\x21-\x7e]*<[^<>\s]{1,12}>)+[\x21-\x7e]*|[\x21-\x7e]+|\s+|.", re.S)
_NO_LINE_START = set("，。、；：！？）」』】》”’,.;:!?)")
_NO_LINE_END = set("（「『【《“‘(")


def display_width(text: str) -> int:
    """Terminal columns of `text` (a CJK character or full-width sign takes two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap_cjk(text: str, width: int) -> list[str]:
    """Lines of at most `width` columns, broken between Chinese characters or at spaces, never inside an
    ASCII token (qualitative_scale=four_grade stays whole; a longer token gets a line of its own), and
    never before closing or after opening punctuation."""
    tokens: list[str] = []
    for token in _TOKEN.findall(" ".join(text.split())):
        if tokens and not tokens[-1].isspace() and (token[0] in _NO_LINE_START or tokens[-1][-1] in _NO_LINE_END):
            tokens[-1] += token
        else:
            tokens.append(token)
    lines: list[str] = []
    line = ""
    for token in tokens:
        if token.isspace():
            line += " " if line else ""
            continue
        if line and display_width(line + token) > width:
            lines.append(line.rstrip())
            line = ""
        line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help at most 100 columns wide, wrapped by display width without breaking a word or option; the
    description's and epilog's own lines (the 示例 commands) are kept, and wrapped only when too long."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 28,
                 width: int | None = None) -> None:
        width = width or max(40, min(shutil.get_terminal_size().columns - 2, 100))
        super().__init__(prog, indent_increment, max_help_position, width)

    def add_argument(self, action: argparse.Action) -> None:
        # argparse measures subcommand names without the indent it prints them with, so the longest name
        # ("materials") would push its help onto the next line; count that indent too.
        super().add_argument(action)
        if action.help is not argparse.SUPPRESS and hasattr(action, "_get_subactions"):
            longest = max((len(self._format_action_invocation(sub)) for sub in action._get_subactions()), default=0)
            self._action_max_length = max(self._action_max_length,
                                          longest + self._current_indent + 2 * self._indent_increment)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap_cjk(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out: list[str] = []
        for line in text.splitlines():
            lead = indent + line[:len(line) - len(line.lstrip())]
            if display_width(lead + line.strip()) <= width or not line.strip():
                out.append((indent + line).rstrip())
            else:
                more = "    " if lead.strip(" ") != lead or line[:1].isspace() else ""  # an example's own line
                parts = wrap_cjk(line, width - display_width(lead + more))
                out.extend([lead + parts[0], *(lead + more + part for part in parts[1:])])
        return "\n".join(out)


class _Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and a Chinese hint instead of its English usage dump, and
    formats help with `HelpFormatter` (every subcommand's parser is one of these)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出")

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"perfeval：参数错误：{chinese_error(message)}\n（perfeval {self._command()}-h 查看帮助）\n")
        raise SystemExit(EXIT_INVALID)

    def _command(self) -> str:
        words = self.prog.split()[1:]
        return f"{' '.join(words)} " if words else ""

    def format_usage(self) -> str:
        return super().format_usage().replace("usage:", "用法：", 1)

    def format_help(self) -> str:
        return super().format_help().replace("usage:", "用法：", 1)


#: argparse's own messages, in Chinese (anything else is passed through)
_ARGPARSE_MESSAGES = (
    (re.compile(r"^the following arguments are required: (.+)$"), "缺少必需的参数：{0}"),
    (re.compile(r"^unrecognized arguments: (.+)$"), "无法识别的参数：{0}"),
    (re.compile(r"^argument (.+?): invalid choice: '(.*)' \(choose from (.+)\)$"), "{0} 不能是「{1}」，可选：{2}"),
    (re.compile(r"^argument (.+?): expected one argument$"), "{0} 后面需要一个值"),
    (re.compile(r"^argument (.+?): invalid int value: '(.*)'$"), "{0} 应为整数：{1}"),
    (re.compile(r"^argument (.+?): invalid float value: '(.*)'$"), "{0} 应为数值：{1}"),
    (re.compile(r"^argument (.+?): ignored explicit argument '(.*)'$"), "{0} 不接受值：{1}"),
    (re.compile(r"^argument (.+?): (.+)$"), "{0}：{1}"),
)


def chinese_error(message: str) -> str:
    """An argparse error message in Chinese (known patterns; others unchanged)."""
    for pattern, template in _ARGPARSE_MESSAGES:
        match = pattern.match(message)
        if match:
            return template.format(*(g.replace("'", "") for g in match.groups()))
    return message


def example(*lines: str) -> str:
    """An epilog of example commands (`perfeval COMMAND -h` ends with them)."""
    return "示例：\n" + "\n".join(f"  {line}" for line in lines)


AUDITABLE_NOTE = "（可评分：score/report/batch 按表内所写评分并列为核查发现；加 --strict 则拒绝）"


#: how a problem is marked by severity in the terminal
PROBLEM_MARKS = {"error": "✗", "warning": "⚠", "info": "ℹ"}


def print_problems(error: SheetError, stream=None, mark_auditable: bool = False) -> None:
    stream = stream or sys.stderr
    errors = sum(1 for p in error.problems if p.severity == "error")
    others = len(error.problems) - errors
    counts = f"{errors} 个错误" + (f"、{others} 个提示" if others else "") if errors else f"{others} 个提示"
    stream.write(f"发现 {len(error.problems)} 个问题（{counts}）：\n")
    for problem in error.problems:
        note = AUDITABLE_NOTE if mark_auditable and problem.auditable and problem.severity == "error" else ""
        stream.write(f"  {PROBLEM_MARKS.get(problem.severity, '✗')} {problem}{note}\n")


def _cmd_validate(args: argparse.Namespace) -> int:
    from perfeval.sheets.load import validate_paths

    paths = [Path(p) for p in args.paths]
    problems = validate_paths(paths, args.scheme)
    if args.json:
        print(json.dumps([p.to_dict() for p in problems], ensure_ascii=False, indent=2, allow_nan=False))
    elif problems:
        print_problems(SheetError(problems), sys.stdout, mark_auditable=not args.strict)
    else:
        print(f"✓ {len(paths)} 个文件全部通过校验")
    # warnings (an unreplaced template placeholder, a year taken from the fill-in date …) are shown but do not
    # fail validation unless --strict; errors do
    failing = problems if args.strict else [p for p in problems if p.severity == "error"]
    if problems and not failing and not args.json:
        print(f"✓ 没有错误：{len(paths)} 个文件可以评分（以上提示请复核）")
    return EXIT_INVALID if failing else EXIT_OK


def _cmd_score(args: argparse.Namespace) -> int:
    from perfeval.report.summary import summary_text
    from perfeval.scoring.evaluate import evaluate
    from perfeval.sheets.load import load_project

    options = parse_options(args.option)  # a bad option stops before the sheet is read
    project = load_project(args.path, args.scheme, args.project, strict=args.strict)
    evaluation = evaluate(project, args.scheme, options or None)
    if args.json:
        print(json.dumps(evaluation.to_dict(), ensure_ascii=False, indent=2, allow_nan=False))
    else:
        print(summary_text(evaluation))
    return EXIT_OK


def option_keys() -> list[str]:
    """The scoring options `--option KEY=VALUE` accepts (the fields of `ScoringOptions`)."""
    from dataclasses import fields

    from perfeval.scheme import ScoringOptions

    return [f.name for f in fields(ScoringOptions)]


def parse_options(pairs: Sequence[str] | None) -> dict[str, object]:
    """{key: value} from `--option KEY=VALUE` arguments, each value of its option's type, checked before
    any work: a pair without "=", an unknown key (the valid ones are listed), a value of the wrong type or
    not among an option's choices raises PerfevalError with a Chinese message."""
    from perfeval.scheme import ScoringOptions

    defaults = ScoringOptions()
    keys = option_keys()
    valid = "、".join(keys)
    out: dict[str, object] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise PerfevalError(f"评分选项「{pair}」格式不正确，应为 KEY=VALUE，如 negative_rule=linear；可用：{valid}")
        if key not in keys:
            raise PerfevalError(f"未知的评分选项：{key}；可用：{valid}")
        kind = type(getattr(defaults, key))
        if kind is str:
            out[key] = value
            continue
        try:
            number = kind(value)
        except ValueError:
            number = None
        if number is None or not math.isfinite(number):
            raise PerfevalError(f"评分选项 {key}=「{value}」无效，应为{'整数' if kind is int else '数值'}"
                                f"（默认 {getattr(defaults, key)}）")
        out[key] = number
    defaults.updated(**out)  # choices (rounding=half_up …) checked here, with the allowed values named
    return out


def _cmd_template(args: argparse.Namespace) -> int:
    from perfeval.sheets.write import write_template

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


SCHEME_HELP = "评价方案：third_party、self 或 .toml 文件（默认按表内评价方式）"


def option_help() -> str:
    """The help of `--option` (score and report): the format and every valid key."""
    return "评分选项，可重复，如 negative_rule=linear、rounding=truncate；可用：" + "、".join(option_keys())


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="perfeval",
        description="财政项目支出绩效评价工作台：校验指标表、评分定级、核查报告数值、生成报告与项目组合汇总。\n"
                    "退出码：0 完成，1 批量中有项目失败，2 输入或参数错误。",
        epilog=example("perfeval validate data/reference/AKT2022-001.xlsx",
                       "perfeval score data/reference/AKT2022-001.xlsx",
                       "perfeval batch data/synthetic --out reports",
                       "perfeval 命令 -h        查看某个命令的说明和示例"))
    parser.add_argument("--version", action="version", version=f"perfeval {__version__}",
                        help="显示版本号并退出")
    sub = parser.add_subparsers(dest="command", metavar="命令", parser_class=_Parser)

    p = sub.add_parser(
        "validate", help="校验指标表，一次列出全部问题",
        description="校验一个或多个指标表（.xlsx、.csv、自评表、评分表），一次列出全部问题："
                    "文件、工作表、行、列、值和应填写的内容。\n"
                    "退出码：0 没有错误（提示不影响），2 有错误（加 --strict 时有任何问题）。",
        epilog=example("perfeval validate data/reference/AKT2022-001.xlsx",
                       "perfeval validate 指标表/*.xlsx --json > 问题.json"))
    p.add_argument("paths", nargs="+", metavar="PATH", help=".xlsx 或 .csv 指标表（可多个）")
    p.add_argument("--scheme", help=SCHEME_HELP)
    p.add_argument("--json", action="store_true", help="以 JSON 输出问题列表")
    add_strict(p)
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser(
        "score", help="计算得分、等级、预算执行率并核查报告数值",
        description="为一个项目评分：总分、等级、各一级指标得分、预算执行率、每个指标的得分及其指标值的理解方式，"
                    "以及报告所写数值的核查发现。\n退出码：0 完成，2 指标表或参数有误。",
        epilog=example("perfeval score data/reference/AKT2022-001.xlsx",
                       "perfeval score data/reference/AKT2022-001.xlsx --json",
                       "perfeval score 项目.xlsx --option negative_rule=linear --option rounding=truncate",
                       "perfeval score 项目组合.xlsx --project AKT2022-001 --scheme self"))
    p.add_argument("path", metavar="PATH", help=".xlsx 或 .csv 指标表（项目组合工作簿须加 --project）")
    p.add_argument("--scheme", help=SCHEME_HELP)
    p.add_argument("--project", metavar="ID", help="项目组合工作簿中的项目编号")
    p.add_argument("--option", action="append", metavar="KEY=VALUE", help=option_help())
    p.add_argument("--json", action="store_true", help="输出 JSON")
    add_strict(p)
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser(
        "template", help="生成空白指标表模板（含下拉选项和示例行）",
        description="生成一个空白的指标表工作簿：项目信息、指标、报告数值、文字四个工作表，带表头、下拉选项和一行示例。",
        epilog=example("perfeval template 新项目.xlsx",
                       "perfeval template 自评表.xlsx --scheme self --force"))
    p.add_argument("out", metavar="OUT.xlsx", help="要生成的 .xlsx 文件（已存在时须加 --force）")
    p.add_argument("--scheme", default="third_party", help="third_party（第三方评价，默认）或 self（自评）")
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
    _register_installed(sub)
    return parser


def _register_installed(sub: argparse._SubParsersAction) -> None:
    """Subcommands of installed extensions (entry point group `perfeval.commands`, see `perfeval.plugins`).
    A built-in name is never replaced; an extension that fails to load is skipped with a warning."""
    from perfeval.plugins import COMMANDS, describe, installed

    for name, point in installed(COMMANDS).items():
        if name in sub.choices or point.value in PLUGINS:
            if point.value not in PLUGINS:
                sys.stderr.write(f"perfeval：插件{describe(point)}与已有命令同名，已忽略\n")
            continue
        try:
            loaded = point.load()
            before = set(sub.choices)
            loaded.register(sub)
            if not set(sub.choices) - before:
                raise PerfevalError("register(subparsers) 没有添加任何命令")
        except Exception as exc:  # an extension's own bug must not take the built-in commands down
            sys.stderr.write(f"perfeval：插件{describe(point)}无法加载，已跳过：{type(exc).__name__}：{exc}\n")


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
