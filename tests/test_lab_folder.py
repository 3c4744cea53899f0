"""`perfeval lab` in the user's folder: the notebook is placed there (an edited copy is never overwritten),
scenarios are saved there, printed paths work in the shell the user launched from, saving over an existing
scenario asks first, and running as root is said, not done silently."""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

import pytest

from perfeval.errors import PerfevalError
from perfeval.workbench import command, whatif
from perfeval.workbench import portfolio as pf
from perfeval.workbench.userpath import LAUNCH_DIR_ENV, paste_path
from perfeval.workbench.widgets import OVERWRITE_LABEL, SAVE_LABEL, Workbench
from tests.conftest import REFERENCE_CSV, index_of

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "notebooks" / "explore.ipynb"


def lab_args(data: str | None = None, folder: str | None = None) -> argparse.Namespace:
    return argparse.Namespace(data=data, dir=folder, port=None, no_browser=True, scheme=None)


@pytest.fixture
def user_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "我的 评价"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv(pf.DATA_ENV, raising=False)
    monkeypatch.delenv(LAUNCH_DIR_ENV, raising=False)
    return folder


# ---------------------------------------------------------------- placing the notebook

def test_lab_serves_the_current_folder_and_places_the_notebook_there(user_folder: Path) -> None:
    launch = command.lab_launch(lab_args())
    assert launch.folder == user_folder.resolve()
    assert f"--ServerApp.root_dir={user_folder.resolve()}" in launch.argv
    assert (user_folder / "explore.ipynb").read_bytes() == SHIPPED.read_bytes()
    assert "已放置工作台笔记本：explore.ipynb" in launch.notes
    assert launch.env[LAUNCH_DIR_ENV] == str(user_folder)
    # no data named: the bundled reference project, found wherever perfeval is installed
    assert (Path(launch.env[pf.DATA_ENV]) / "AKT2022-001.xlsx").is_file()
    assert not (ROOT / "notebooks" / "情景").exists() or not any((ROOT / "notebooks" / "情景").iterdir())

    again = command.lab_launch(lab_args())  # the same copy: nothing to say
    assert not [n for n in again.notes if "explore.ipynb" in n]


def test_an_edited_notebook_is_kept_and_the_user_is_told(user_folder: Path) -> None:
    mine = user_folder / "explore.ipynb"
    edited = SHIPPED.read_text("utf-8").replace("DATA = None", "DATA = '我的项目'")
    assert edited != SHIPPED.read_text("utf-8")
    mine.write_text(edited, "utf-8")
    launch = command.lab_launch(lab_args())
    assert mine.read_text("utf-8") == edited
    (note,) = [n for n in launch.notes if "explore.ipynb" in n]
    assert note.startswith("explore.ipynb 与随 perfeval 安装的版本不同") and "保留您的版本，未覆盖" in note
    assert str(SHIPPED) in note  # where to compare with


def test_dir_is_relative_to_the_launch_folder_and_messages_say_so(user_folder: Path,
                                                                  capsys: pytest.CaptureFixture,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[tuple[str, list[str], dict[str, str]]] = []

    class Exec(Exception):
        pass

    def execve(exe: str, argv: list[str], env: dict[str, str]) -> None:
        ran.append((exe, argv, env))
        raise Exec

    monkeypatch.setattr(command.os, "execve", execve)
    monkeypatch.setattr(command.os, "chdir", lambda folder: None)
    with pytest.raises(Exec):
        command.run(lab_args(str(REFERENCE_CSV), "工作/nb"))
    out = capsys.readouterr().out
    assert (user_folder / "工作" / "nb" / "explore.ipynb").is_file()
    assert "已放置工作台笔记本：工作/nb/explore.ipynb" in out
    assert "启动 JupyterLab：工作/nb/explore.ipynb" in out and "情景保存到 工作/nb/情景/" in out
    (_, _, env), = ran
    assert env[LAUNCH_DIR_ENV] == str(user_folder) and env[pf.DATA_ENV] == str(REFERENCE_CSV.resolve())


def test_a_folder_that_cannot_hold_the_notebook_is_a_clear_error(user_folder: Path) -> None:
    (user_folder / "文件").write_text("x")
    with pytest.raises(PerfevalError, match="--dir 应为文件夹"):
        command.lab_launch(lab_args(folder="文件"))
    with pytest.raises(PerfevalError, match=r"无法在 .* 中放置工作台笔记本"):
        command.lab_launch(lab_args(folder="文件/nb"))


@pytest.mark.parametrize("uid", [0, 1000])
def test_root_gets_allow_root_and_is_told(user_folder: Path, monkeypatch: pytest.MonkeyPatch, uid: int) -> None:
    monkeypatch.setattr(command.os, "geteuid", lambda: uid)
    launch = command.lab_launch(lab_args())
    said = [n for n in launch.notes if "root" in n]
    if uid == 0:
        assert "--allow-root" in launch.argv
        assert said == ["以 root 身份运行：已为 JupyterLab 加上 --allow-root（JupyterLab 默认拒绝以 root 运行；"
                        "建议以普通用户运行）"]
    else:
        assert "--allow-root" not in launch.argv and not said


# ---------------------------------------------------------------- paths the user can paste

def test_paste_path(tmp_path: Path) -> None:
    assert paste_path(tmp_path / "情景" / "A.xlsx", tmp_path) == "情景/A.xlsx"
    assert paste_path(tmp_path / "a b" / "A.xlsx", tmp_path) == "'a b/A.xlsx'"
    assert paste_path(tmp_path / "-x.xlsx", tmp_path) == "./-x.xlsx"
    assert paste_path("/etc/x.xlsx", tmp_path) == "/etc/x.xlsx"


def test_the_save_message_works_from_the_launch_shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture) -> None:
    """The kernel works in the notebook folder (launched with --dir nb); the user's shell is one above."""
    from perfeval.cli import main

    kernel_dir = tmp_path / "nb"
    kernel_dir.mkdir()
    monkeypatch.setenv(LAUNCH_DIR_ENV, str(tmp_path))
    monkeypatch.chdir(kernel_dir)
    bench = Workbench(REFERENCE_CSV, draws=1000)  # default save_dir 情景/ (relative to the kernel)
    panel = bench.whatif
    panel.scale.value = "four_grade"  # an option change: a scheme file goes beside the workbook
    panel.save_button.click()
    saved = panel.saved
    assert saved is not None and saved.workbook.resolve().parent == kernel_dir / "情景"
    message = panel.message.value
    assert "可运行：perfeval score nb/情景/" in message and "--scheme nb/情景/" in message
    command_line = message.split("可运行：", 1)[1].split("<", 1)[0]
    assert command_line == saved.command
    monkeypatch.chdir(tmp_path)  # the user's shell
    capsys.readouterr()
    assert main([*shlex.split(saved.command)[1:], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == saved.total


# ---------------------------------------------------------------- saving over an existing scenario

def test_save_scenario_never_overwrites_without_being_told(reference, tmp_path: Path) -> None:
    cost = index_of(reference, "社保金缴费（万元）")
    first = whatif.Scenario(reference).edit(cost, actual="25万元")
    saved = whatif.save_scenario(first, tmp_path / "A.xlsx")
    before = saved.workbook.read_bytes()
    second = whatif.Scenario(reference).edit(cost, actual="20万元")
    with pytest.raises(whatif.ScenarioExists, match=r"A\.xlsx 已存在，未保存"):
        whatif.save_scenario(second, tmp_path / "A.xlsx")
    assert saved.workbook.read_bytes() == before
    replaced = whatif.save_scenario(second, tmp_path / "A.xlsx", overwrite=True)
    assert replaced.total == second.evaluate().total != first.evaluate().total
    assert replaced.workbook.read_bytes() != before

    # a scheme file left beside a workbook counts too
    (tmp_path / "B.方案.toml").write_text("# 旧方案\n", "utf-8")
    scaled = whatif.Scenario(reference).with_options(qualitative_scale="four_grade")
    with pytest.raises(whatif.ScenarioExists, match=r"B\.方案\.toml 已存在"):
        whatif.save_scenario(scaled, tmp_path / "B.xlsx")
    assert not (tmp_path / "B.xlsx").exists()
    assert (tmp_path / "B.方案.toml").read_text("utf-8") == "# 旧方案\n"


def test_the_panel_asks_before_overwriting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LAUNCH_DIR_ENV, str(tmp_path))
    bench = Workbench(REFERENCE_CSV, save_dir=tmp_path / "情景", draws=1000)
    panel = bench.whatif
    project = panel.portfolio.project(panel.picker.value)
    panel.indicator.value = index_of(project, "服务群众满意度（%）")
    panel.actual.value = "80%"
    panel.save_button.click()
    first = panel.saved
    assert first is not None and "已保存情景：情景/" in panel.message.value
    before = first.workbook.read_bytes()

    panel.actual.value = "60%"
    panel.save_button.click()  # the name is taken: ask, write nothing
    assert panel.save_button.description == OVERWRITE_LABEL
    assert "已存在，未保存" in panel.message.value and f"再次点击「{OVERWRITE_LABEL}」将覆盖" in panel.message.value
    assert first.workbook.read_bytes() == before and panel.saved is first

    panel.save_button.click()  # confirmed
    assert panel.save_button.description == SAVE_LABEL and "已保存情景" in panel.message.value
    assert panel.saved is not first and panel.saved.total == panel.evaluation.total
    assert first.workbook.read_bytes() != before

    # a new name, or a changed scenario, cancels the pending confirmation
    panel.actual.value = "70%"
    panel.save_button.click()
    assert panel.save_button.description == OVERWRITE_LABEL
    panel.actual.value = "75%"
    assert panel.save_button.description == SAVE_LABEL
    overwritten = first.workbook.read_bytes()
    panel.save_button.click()
    assert panel.save_button.description == OVERWRITE_LABEL and first.workbook.read_bytes() == overwritten
    panel.save_path.value = str(tmp_path / "情景" / "另一个.xlsx")
    assert panel.save_button.description == SAVE_LABEL
    panel.save_button.click()
    assert (tmp_path / "情景" / "另一个.xlsx").is_file() and first.workbook.read_bytes() == overwritten
