"""`perfeval report PATH --format html,pdf,docx --out DIR` (CLI plugin, see perfeval.cli.PLUGINS)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from perfeval.report.build import FORMATS

if TYPE_CHECKING:
    from perfeval.model import Project


#: the same words in `report -h` and `batch -h`: both run the notebook in the kernel it declares by default
KERNEL_HELP = "运行报告笔记本的 Jupyter 内核（默认：报告笔记本声明的内核，即 python3）"


def register(subparsers: argparse._SubParsersAction) -> None:
    from perfeval.cli import add_strict, example, option_help

    parser = subparsers.add_parser(
        "report", help="生成项目绩效评价报告（papermill 运行报告笔记本，导出 HTML、PDF、Word）",
        description="为一个项目生成绩效评价报告：papermill 运行报告笔记本，导出自包含 HTML、A4 PDF 和 Word，"
                    "执行后的笔记本留作审计记录。\n"
                    "报告写入 DIR/<年度>/<项目编号>/（与 perfeval batch 相同）；指标表有误时不写任何文件。\n"
                    "退出码：0 完成，2 指标表或参数有误。",
        epilog=example("perfeval report data/reference/AKT2022-001.xlsx",
                       "perfeval report data/reference/AKT2022-001.xlsx --format pdf --out 报告",
                       "perfeval report 项目组合.xlsx --project AKT2022-001 --option negative_rule=linear"))
    parser.add_argument("path", metavar="PATH", help=".xlsx 或 .csv 指标表（项目组合工作簿须加 --project）")
    parser.add_argument("--format", default=",".join(FORMATS), metavar="FORMATS",
                        help="导出格式，逗号分隔：html,pdf,docx（默认全部）")
    parser.add_argument("--out", default="reports", metavar="DIR",
                        help="输出文件夹（默认 reports）；报告写入 DIR/<年度>/<项目编号>/")
    parser.add_argument("--scheme", help="评价方案：third_party、self 或 .toml 文件（默认按表内评价方式）")
    parser.add_argument("--project", metavar="ID", help="项目组合工作簿中的项目编号")
    parser.add_argument("--option", action="append", metavar="KEY=VALUE", help=option_help())
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="报告笔记本每个单元格的执行时限（秒）")
    parser.add_argument("--kernel", metavar="NAME", help=KERNEL_HELP)
    parser.add_argument("--docx-template", metavar="FILE",
                        help="Word 导出所用的机构模板（.docx 或 .dotx）：沿用其样式、页眉页脚，正文内容作封面")
    add_strict(parser)
    parser.set_defaults(func=run)


def project_folder(out: str | Path, project: Project) -> Path:
    """Where a project's reports go under `out`: <年度>/<项目编号>/, named exactly as `perfeval batch` names it."""
    from perfeval.batch.manifest import Layout, folder_names

    return Layout(Path(out)).project_dir(project.year, folder_names([project.id])[project.id])


def run(args: argparse.Namespace) -> int:
    from perfeval.report.startup import lighten_imports

    lighten_imports()  # this process is the command's own: papermill without jsonschema's RFC 3987 grammar
    from perfeval.cli import parse_options
    from perfeval.report.build import build, evaluate_sheet, parse_formats

    formats = parse_formats(args.format)
    options = parse_options(args.option)
    template = None
    if args.docx_template:  # a bad template stops the run before the sheet is even read
        from perfeval.report.docx_template import read_template

        checked = read_template(args.docx_template)
        template = (checked, str(args.docx_template)) if "docx" in formats else None
    # read once (and, with --strict, refuse) before anything is written (SheetError → exit 2); the year names the folder
    evaluation = evaluate_sheet(args.path, args.scheme, args.project, options, strict=getattr(args, "strict", False))
    paths = build(evaluation, formats, project_folder(args.out, evaluation.project), timeout=args.timeout,
                  kernel=args.kernel, docx_template=template)
    labels = {"ipynb": "执行后的笔记本", "html": "HTML", "pdf": "PDF", "docx": "Word"}
    for kind, path in paths.items():
        sys.stdout.write(f"✓ {labels.get(kind, kind)}：{path}\n")
    return 0
