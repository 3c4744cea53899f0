"""README's set-up on a stock Debian 12 Python as an ordinary user: a new user, a clean copy of the
checkout in their home, `python3` being /usr/bin/python3 (externally managed, PEP 668; no pyenv on PATH),
then `bash scripts/setup.sh` and README's main command verbatim. Needs root (to add the user); downloads the
dependencies into the new user's empty pip cache, so it takes minutes."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.test_readme import readme_commands
from tests.test_wheel import tracked_copy

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = Path("/usr/bin/python3")
USER = "perfeval-stock"
PATH = "/usr/local/bin:/usr/bin:/bin"  # a stock user's PATH: no pyenv, no virtual environment

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(3600),
    pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                       reason="需要 root 来新建一个普通用户（useradd）"),
    pytest.mark.skipif(not SYSTEM_PYTHON.is_file(), reason="没有系统 Python /usr/bin/python3"),
    pytest.mark.skipif(shutil.which("useradd") is None or shutil.which("runuser") is None,
                       reason="需要 useradd 与 runuser"),
]


@pytest.fixture
def stock_user():
    # a leftover from an interrupted run: its processes first (userdel refuses a user who still runs one)
    subprocess.run(["pkill", "-KILL", "-u", USER], capture_output=True)
    subprocess.run(["userdel", "-r", USER], capture_output=True)
    subprocess.run(["useradd", "-m", "-s", "/bin/bash", USER], check=True)
    try:
        yield pwd.getpwnam(USER)
    finally:
        subprocess.run(["userdel", "-r", USER], capture_output=True)


def as_user(user: pwd.struct_passwd, folder: Path, command: str) -> tuple[subprocess.CompletedProcess, float]:
    """`command` run by bash in `folder` as `user` with a clean stock environment; (result, wall seconds)."""
    start = time.monotonic()
    run = subprocess.run(["runuser", "-u", user.pw_name, "--", "env", "-i", f"HOME={user.pw_dir}",
                          f"USER={user.pw_name}", f"PATH={PATH}", "LANG=C.UTF-8",
                          "bash", "-c", f"cd {folder} && {command}"],
                         capture_output=True, text=True, timeout=3000)
    return run, time.monotonic() - start


def test_readme_main_command_on_stock_debian_python_as_an_ordinary_user(stock_user: pwd.struct_passwd) -> None:
    system = subprocess.run([SYSTEM_PYTHON, "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if not (Path(system) / "EXTERNALLY-MANAGED").is_file():
        pytest.skip(f"{SYSTEM_PYTHON} 不是 externally managed（PEP 668）的 Debian 系统 Python")
    folder = Path(stock_user.pw_dir) / "perfeval"
    folder.mkdir()
    tracked_copy(folder)
    subprocess.run(["chown", "-R", f"{stock_user.pw_uid}:{stock_user.pw_gid}", str(folder)], check=True)
    which = as_user(stock_user, folder, "command -v python3")[0].stdout.strip()
    assert which == "/usr/bin/python3", which

    setup, setup_s = as_user(stock_user, folder, "bash scripts/setup.sh")
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "externally-managed" not in setup.stderr
    cfg = (folder / ".venv" / "pyvenv.cfg").read_text("utf-8")
    assert "home = /usr/bin" in cfg, cfg
    assert (folder / ".venv").stat().st_uid == stock_user.pw_uid

    main_command = readme_commands()[0]  # README's main command, verbatim (setup.sh is quick the second time)
    main, main_s = as_user(stock_user, folder, main_command)
    assert main.returncode == 0, main.stdout[-3000:] + main.stderr[-3000:]
    assert (folder / "reports" / "index.html").is_file() and (folder / "reports" / "summary.xlsx").is_file()
    assert "13 个项目：已生成 13 个" in main.stdout, main.stdout[-2000:]
    assert len(list((folder / "reports").rglob("*.pdf"))) == 13

    record = (f"setup.sh (fresh .venv, /usr/bin/python3, ordinary user): {setup_s:.0f} s\n"
              f"README main command ({main_command}): {main_s:.0f} s\n")
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "setup-stock-times.txt").write_text(record, "utf-8")
    print(record)
