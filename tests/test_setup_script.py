"""scripts/setup.sh's virtual-environment logic on a tiny stand-in project (so it runs in seconds): a
.venv made with the first Python >= 3.11 on PATH, nothing reinstalled when nothing changed, a broken
.venv made again, PERFEVAL_PYTHON honoured."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "perfeval-setup-probe"
version = "0"

[project.optional-dependencies]
test = []

[project.scripts]
perfeval = "probe:main"

[tool.setuptools]
py-modules = ["probe"]
"""

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup.sh", tmp_path / "scripts" / "setup.sh")
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, "utf-8")
    (tmp_path / "probe.py").write_text("def main():\n    print('探针')\n", "utf-8")
    return tmp_path


def setup(project: Path, path: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PERFEVAL_", "VIRTUAL_ENV"))}
    return subprocess.run(["bash", "scripts/setup.sh"], cwd=project, capture_output=True, text=True,
                          timeout=600, env={**base, "PATH": path, **env})


def perfeval(project: Path) -> str:
    return subprocess.run([str(project / ".venv" / "bin" / "perfeval")], capture_output=True, text=True,
                          check=True).stdout.strip()


def python_dir_first() -> str:
    """PATH with the running interpreter's folder first (a pyenv or venv Python, as in CI)."""
    return f"{Path(sys.executable).parent}:/usr/bin:/bin"


def test_setup_makes_reuses_and_remakes_the_project_environment(project: Path) -> None:
    first = setup(project, python_dir_first())
    assert first.returncode == 0, first.stderr
    assert "making .venv with" in first.stderr and "installing perfeval" in first.stderr
    assert perfeval(project) == "探针"

    again = setup(project, python_dir_first())  # nothing changed: nothing installed
    assert again.returncode == 0 and "installing" not in again.stderr and "making" not in again.stderr

    python = project / ".venv" / "bin" / "python"
    python.unlink()
    python.symlink_to(project / "gone" / "python3")  # its Python was removed (e.g. a pyenv version)
    broken = setup(project, python_dir_first())
    assert broken.returncode == 0, broken.stderr
    assert ".venv is broken" in broken.stderr and "making .venv with" in broken.stderr
    assert perfeval(project) == "探针"

    (project / "pyproject.toml").write_text(PYPROJECT.replace('version = "0"', 'version = "1"'), "utf-8")
    changed = setup(project, python_dir_first())
    assert changed.returncode == 0 and "installing perfeval" in changed.stderr and "making" not in changed.stderr


@pytest.mark.skipif(not Path("/usr/bin/python3").is_file(), reason="没有系统 Python /usr/bin/python3")
def test_perfeval_python_chooses_the_interpreter(project: Path) -> None:
    version = subprocess.run(["/usr/bin/python3", "-c", "import sys; print(sys.version_info >= (3, 11))"],
                             capture_output=True, text=True).stdout.strip()
    if version != "True":
        pytest.skip("/usr/bin/python3 早于 3.11")
    run = setup(project, python_dir_first(), PERFEVAL_PYTHON="/usr/bin/python3")
    assert run.returncode == 0, run.stderr
    assert "making .venv with /usr/bin/python3" in run.stderr
    assert "home = /usr/bin" in (project / ".venv" / "pyvenv.cfg").read_text("utf-8")
