"""`perfeval lab`: open the workbench notebook (explore.ipynb) in JupyterLab, in the user's folder.

The server serves the current folder (or --dir): explore.ipynb is copied there unless the user already
has one (an edited copy is kept, never overwritten), and the workbench saves scenarios there (情景/).
The data to explore reaches the notebook through the PERFEVAL_DATA environment variable, which the
kernel inherits from the server, so the notebook itself stays free of paths; PERFEVAL_LAUNCH_DIR tells
it where the user launched from, so the paths it prints can be pasted into that shell.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from perfeval.errors import PerfevalError
from perfeval.shipped import shipped_file
from perfeval.workbench.portfolio import DATA_ENV, SCHEME_ENV, scheme_spec
from perfeval.workbench.userpath import LAUNCH_DIR_ENV, paste_path

NOTEBOOK = "explore.ipynb"
#: the bundled project the workbench opens when no data is named
REFERENCE = "data/reference/AKT2022-001.xlsx"
#: folder (inside the notebook folder) the what-if panel saves scenarios to
SCENARIO_DIR = "情景"


def notebook_sources() -> list[Path]:
    """Where explore.ipynb ships: package data (wheel) or the checkout's notebooks/ (editable)."""
    found = shipped_file(f"notebooks/{NOTEBOOK}")
    return [found] if found is not None else []


@dataclass(frozen=True)
class Placement:
    """The workbench notebook in the folder to serve: `status` is "copied" (it was not there), "same"
    (identical to the shipped copy) or "kept" (the user's edited copy, left as it is)."""

    folder: Path
    notebook: Path
    shipped: Path
    status: str


def place_notebook(folder: Path) -> Placement:
    """Put explore.ipynb into `folder` unless a copy is there; never overwrite one."""
    sources = notebook_sources()
    if not sources:
        raise PerfevalError(f"找不到随 perfeval 安装的工作台笔记本 {NOTEBOOK}；请重新安装 perfeval")
    folder = folder.expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise PerfevalError(f"--dir 应为文件夹，而 {folder} 是一个文件")
    target = folder / NOTEBOOK
    if target.is_file():
        same = target.read_bytes() == sources[0].read_bytes()
        return Placement(folder, target, sources[0], "same" if same else "kept")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sources[0], target)
    except OSError as exc:
        raise PerfevalError(f"无法在 {folder} 中放置工作台笔记本 {NOTEBOOK}（{exc.strerror or exc}）；"
                            "请在可写的文件夹中运行，或用 --dir 指定一个") from None
    return Placement(folder, target, sources[0], "copied")


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass
class LabLaunch:
    """What `perfeval lab` runs: the server's argv and environment, the folder it serves, and the
    messages for the user (paths relative to the folder the command was typed in)."""

    argv: list[str]
    env: dict[str, str]
    folder: Path
    notes: list[str] = field(default_factory=list)


def lab_launch(args: argparse.Namespace) -> LabLaunch:
    """Prepare the folder and the JupyterLab command for `perfeval lab`."""
    launched_from = Path.cwd()
    placed = place_notebook(Path(args.dir) if args.dir else launched_from)
    folder = placed.folder
    env = dict(os.environ)
    env[LAUNCH_DIR_ENV] = str(launched_from)
    if args.data:
        data = Path(args.data).expanduser().resolve()
        if not data.exists():
            raise PerfevalError(f"数据路径不存在：{data}")
        env[DATA_ENV] = str(data)
    elif not env.get(DATA_ENV, "").strip():
        reference = shipped_file(REFERENCE)
        if reference is not None:
            env[DATA_ENV] = str(reference.parent)
    scheme = scheme_spec(getattr(args, "scheme", None))  # a bad scheme file fails here, not in the kernel
    if scheme:
        env[SCHEME_ENV] = scheme
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}", NOTEBOOK]
    if args.port:
        argv.append(f"--port={args.port}")
    if args.no_browser:
        argv.append("--no-browser")
    notes = []
    here = paste_path(placed.notebook, launched_from)
    if placed.status == "copied":
        notes.append(f"已放置工作台笔记本：{here}")
    elif placed.status == "kept":
        notes.append(f"{here} 与随 perfeval 安装的版本不同（已修改），保留您的版本，未覆盖；要换用安装的版本，"
                     f"请先将它改名或删除（安装的版本：{placed.shipped}）")
    if running_as_root():
        argv.append("--allow-root")  # containers and CI run as root; JupyterLab refuses otherwise
        notes.append("以 root 身份运行：已为 JupyterLab 加上 --allow-root（JupyterLab 默认拒绝以 root 运行；"
                     "建议以普通用户运行）")
    return LabLaunch(argv, env, folder, notes)


def lab_command(args: argparse.Namespace) -> tuple[list[str], dict[str, str], Path]:
    """(argv, environment, working folder) for the JupyterLab server (see lab_launch)."""
    launch = lab_launch(args)
    return launch.argv, launch.env, launch.folder


def register(subparsers: argparse._SubParsersAction) -> None:
    from perfeval.cli import example

    parser = subparsers.add_parser(
        "lab", help="在 JupyterLab 中打开绩效评价工作台（项目组合、明细、情景模拟、等级稳健性）",
        description="在 JupyterLab 中打开绩效评价工作台（explore.ipynb）：项目组合一览、单个项目明细、"
                    "情景模拟（改一个值看得分变化）、等级稳健性，以及专家组评分与满意度问卷。\n按 Ctrl+C 停止。",
        epilog=example("perfeval lab",
                       "perfeval lab data/synthetic",
                       "perfeval lab reports --no-browser --port 8890"))
    parser.add_argument("data", nargs="?", metavar="DATA",
                        help="项目文件夹、项目组合工作簿、单个指标表或 perfeval batch 输出文件夹（默认：内置参考项目）")
    parser.add_argument("--dir", metavar="FOLDER",
                        help="工作文件夹（默认：当前文件夹）：没有 explore.ipynb 时复制一份进去（已有的不覆盖），"
                             "情景保存到其中的 情景/")
    parser.add_argument("--port", type=int, help="JupyterLab 端口（默认 8888 起第一个空闲端口）")
    parser.add_argument("--no-browser", action="store_true", help="不自动打开浏览器")
    parser.add_argument("--scheme", help="评价方案：third_party、self 或 .toml 文件（默认按表内评价方式）")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    launch = lab_launch(args)
    for note in launch.notes:
        print(note, flush=True)
    data = launch.env.get(DATA_ENV) or "内置参考项目"
    launched_from = Path(launch.env[LAUNCH_DIR_ENV])
    print(f"启动 JupyterLab：{paste_path(launch.folder / NOTEBOOK, launched_from)}（数据：{data}；情景保存到 "
          f"{paste_path(launch.folder / SCENARIO_DIR, launched_from)}/；按 Ctrl+C 停止）", flush=True)
    if os.name == "posix":
        # become the server, so stopping this process stops JupyterLab (no orphaned server)
        os.chdir(launch.folder)
        os.execve(launch.argv[0], launch.argv, launch.env)
    return subprocess.call(launch.argv, env=launch.env, cwd=launch.folder)
