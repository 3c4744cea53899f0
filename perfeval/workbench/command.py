"""`perfeval lab`: open the workbench notebook (explore.ipynb) in JupyterLab.

The data to explore reaches the notebook through the PERFEVAL_DATA environment variable, which
the kernel inherits from the server, so the notebook itself stays free of paths.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from perfeval.errors import PerfevalError
from perfeval.workbench.portfolio import DATA_ENV, SCHEME_ENV, scheme_spec

NOTEBOOK = "explore.ipynb"


def notebook_sources() -> list[Path]:
    """Where explore.ipynb ships: the source checkout's notebooks/ folder, or package data."""
    package = Path(__file__).resolve().parents[1]
    return [package.parent / "notebooks" / NOTEBOOK, package / "notebooks" / NOTEBOOK]


def prepare_folder(folder: Path | None) -> Path:
    """The notebook folder to serve; a folder without explore.ipynb gets a copy of it."""
    sources = [s for s in notebook_sources() if s.is_file()]
    if folder is None:
        if not sources:
            raise PerfevalError("找不到工作台笔记本 explore.ipynb；请用 --dir 指定笔记本文件夹")
        return sources[0].parent
    folder = folder.expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise PerfevalError(f"--dir 应为文件夹，而 {folder} 是一个文件")
    target = folder / NOTEBOOK
    if not target.is_file():
        if not sources:
            raise PerfevalError(f"{folder} 中没有 {NOTEBOOK}，也找不到可复制的工作台笔记本")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sources[0], target)
    return folder


def lab_command(args: argparse.Namespace) -> tuple[list[str], dict[str, str], Path]:
    """(argv, environment, working folder) for the JupyterLab server."""
    folder = prepare_folder(Path(args.dir) if args.dir else None)
    env = dict(os.environ)
    if args.data:
        data = Path(args.data).expanduser().resolve()
        if not data.exists():
            raise PerfevalError(f"数据路径不存在：{data}")
        env[DATA_ENV] = str(data)
    scheme = scheme_spec(getattr(args, "scheme", None))  # a bad scheme file fails here, not in the kernel
    if scheme:
        env[SCHEME_ENV] = scheme
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}", NOTEBOOK]
    if args.port:
        argv.append(f"--port={args.port}")
    if args.no_browser:
        argv.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # containers and CI run as root; JupyterLab refuses otherwise
    return argv, env, folder


def register(subparsers: argparse._SubParsersAction) -> None:
    from perfeval.cli import example

    parser = subparsers.add_parser(
        "lab", help="在 JupyterLab 中打开绩效评价工作台（项目组合、明细、情景模拟、等级稳健性）",
        description="在 JupyterLab 中打开绩效评价工作台（explore.ipynb）：项目组合一览、单个项目明细、"
                    "情景模拟（改一个值看得分变化）和等级稳健性。\n按 Ctrl+C 停止。",
        epilog=example("perfeval lab",
                       "perfeval lab data/synthetic",
                       "perfeval lab reports --no-browser --port 8890"))
    parser.add_argument("data", nargs="?", metavar="DATA",
                        help="项目文件夹、项目组合工作簿、单个指标表或 perfeval batch 输出文件夹（默认：内置参考项目）")
    parser.add_argument("--dir", metavar="FOLDER",
                        help="笔记本文件夹（默认：notebooks/；文件夹中没有 explore.ipynb 时复制一份进去）")
    parser.add_argument("--port", type=int, help="JupyterLab 端口（默认 8888 起第一个空闲端口）")
    parser.add_argument("--no-browser", action="store_true", help="不自动打开浏览器")
    parser.add_argument("--scheme", help="评价方案：third_party、self 或 .toml 文件（默认按表内评价方式）")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    argv, env, folder = lab_command(args)
    data = env.get(DATA_ENV) or "内置参考项目"
    print(f"启动 JupyterLab：{folder / NOTEBOOK}（数据：{data}；按 Ctrl+C 停止）", flush=True)
    if os.name == "posix":
        # become the server, so stopping this process stops JupyterLab (no orphaned server)
        os.chdir(folder)
        os.execve(argv[0], argv, env)
    return subprocess.call(argv, env=env, cwd=folder)
