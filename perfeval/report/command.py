"""`perfeval report PATH --format html,pdf,docx --out DIR` (CLI plugin, see perfeval.cli.PLUGINS)."""

from __future__ import annotations

import argparse
import sys

from perfeval.report.build import FORMATS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="生成项目绩效评价报告（papermill 运行报告笔记本，导出 HTML、PDF、Word）")
    parser.add_argument("path", metavar="PATH", help=".xlsx 或 .csv 指标表")
    parser.add_argument("--format", default=",".join(FORMATS), metavar="FORMATS",
                        help="导出格式，逗号分隔：html,pdf,docx（默认全部）")
    parser.add_argument("--out", default="reports", metavar="DIR", help="输出目录（默认 reports）")
    parser.add_argument("--scheme", help="评价方案：third_party、self 或 .toml 文件（默认按表内评价方式）")
    parser.add_argument("--project", help="项目组合工作簿中的项目编号")
    parser.add_argument("--option", action="append", metavar="KEY=VALUE",
                        help="评分选项，如 negative_rule=linear（可重复）")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="报告笔记本每个单元格的执行时限（秒）")
    parser.add_argument("--kernel", metavar="NAME", help="Jupyter 内核名（默认 python3）")
    parser.add_argument("--docx-template", metavar="FILE",
                        help="Word 导出所用的机构模板（.docx 或 .dotx）：沿用其样式、页眉页脚，正文内容作封面")
    from perfeval.cli import add_strict

    add_strict(parser)
    parser.set_defaults(func=run)


def _options(pairs: list[str] | None) -> dict[str, object]:
    from perfeval.errors import PerfevalError

    out: dict[str, object] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise PerfevalError(f"评分选项「{pair}」格式不正确，应为 KEY=VALUE")
        out[key.strip()] = _typed(value.strip())
    return out


def _typed(value: str) -> object:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            continue
    return value


def run(args: argparse.Namespace) -> int:
    from perfeval.report.build import build_report, parse_formats

    formats = parse_formats(args.format)
    options = _options(args.option)
    if args.docx_template:  # a bad template stops the run before the sheet is even read
        from perfeval.report.docx_template import read_template

        read_template(args.docx_template)
    if getattr(args, "strict", False):  # refuse before anything is written (SheetError → exit 2)
        from perfeval.validate import load_project

        load_project(args.path, args.scheme, args.project, strict=True)
    paths = build_report(args.path, args.out, formats, scheme=args.scheme, project_id=args.project,
                         extra_parameters={"options": options} if options else None,
                         timeout=args.timeout, kernel_name=args.kernel, docx_template=args.docx_template)
    labels = {"ipynb": "执行后的笔记本", "html": "HTML", "pdf": "PDF", "docx": "Word"}
    for kind, path in paths.items():
        sys.stdout.write(f"✓ {labels.get(kind, kind)}：{path}\n")
    return 0
