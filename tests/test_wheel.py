"""`pip install .` gives a working perfeval: the wheel carries the notebooks, templates, schemes and the
reference project, and `perfeval report` runs from it outside the checkout.

The wheel is built from the tracked files only (a copy of `git ls-files`) and installed without its
dependencies into a fresh virtual environment whose only other path is the running environment's
site-packages (a .pth file). That keeps the test fast and still honest about the point: every perfeval
file comes from the wheel (the checkout is not on the path, nor PYTHONPATH, nor the cwd), while the
third-party dependencies are the same releases the rest of the tests run against; the wheel's declared
requirements are checked to be what provides them. The dependencies' data files (nbconvert's templates,
the ipykernel kernel spec), which a real install would put under the venv's share/jupyter, are found
through JUPYTER_PATH pointing at the running environment's share/jupyter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"
PACKAGE_DATA = (
    "perfeval/notebooks/evaluation.ipynb",
    "perfeval/notebooks/explore.ipynb",
    "perfeval/data/reference/AKT2022-001.xlsx",
    "perfeval/schemes/third_party.toml",
    "perfeval/schemes/self.toml",
    "perfeval/report/templates/report.css",
    "perfeval/report/templates/perfeval_report/conf.json",
    "perfeval/report/templates/perfeval_report/index.html.j2",
)

#: where the running environment's dependencies keep their Jupyter data files
DEPS_DATA = str(Path(sys.prefix) / "share" / "jupyter")

pytestmark = pytest.mark.slow


def tracked_copy(target: Path) -> Path:
    """The checkout's tracked files (as they are on disk) copied to `target`."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("需要 git 与源码检出（git ls-files）来复制被跟踪的文件")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in files.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PERFEVAL_", "VIRTUAL_ENV"))}
    return {**env, **extra}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tracked_copy(tmp_path_factory.mktemp("source"))
    dist = tmp_path_factory.mktemp("dist")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)],
                           capture_output=True, text=True, timeout=600, env=clean_env())
    assert build.returncode == 0, build.stderr
    (built,) = dist.glob("perfeval-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True, timeout=120)
    python = home / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    deps = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    (site / "_perfeval_test_deps.pth").write_text("".join(f"{p}\n" for p in deps), "utf-8")
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                              "--no-index", "-q", str(wheel)], capture_output=True, text=True, timeout=300,
                             env=clean_env())
    assert install.returncode == 0, install.stderr
    return home


def test_the_wheel_carries_the_package_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in PACKAGE_DATA if name not in names]
    assert not missing, f"not in {wheel.name}: {missing}"
    assert not [n for n in names if n.startswith(("tests/", "notebooks/", "data/", "benchmarks/"))]


def test_the_wheel_carries_every_module(wheel: Path) -> None:
    """Every module of the checkout, subpackages (sheets/, sheets/layouts/, scoring/, devtools/ …) included."""
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "perfeval").rglob("*.py"))
    assert "perfeval/sheets/layouts/selfeval.py" in modules
    assert [m for m in modules if m not in names] == []


def test_perfeval_comes_from_the_wheel_and_its_requirements_are_met(venv: Path, tmp_path: Path) -> None:
    probe = (
        "import importlib.metadata as md, sys\n"
        "from packaging.requirements import Requirement\n"
        "import perfeval\n"
        "print(perfeval.__file__)\n"
        "bad = []\n"
        "for text in md.requires('perfeval') or []:\n"
        "    req = Requirement(text)\n"
        "    if req.marker is not None and not req.marker.evaluate({'extra': ''}):\n"
        "        continue\n"
        "    try:\n"
        "        version = md.version(req.name)\n"
        "    except md.PackageNotFoundError:\n"
        "        bad.append(f'{req} (missing)'); continue\n"
        "    if not req.specifier.contains(version, prereleases=True):\n"
        "        bad.append(f'{req} (have {version})')\n"
        "print(bad)\n"
    )
    run = subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True,
                         cwd=tmp_path, env=clean_env(), timeout=120)
    assert run.returncode == 0, run.stderr
    where, bad = run.stdout.splitlines()
    assert Path(where).is_relative_to(venv) and not Path(where).is_relative_to(ROOT)
    assert bad == "[]"


def test_perfeval_report_from_the_wheel_outside_the_checkout(venv: Path, tmp_path: Path) -> None:
    work = tmp_path / "用户文件夹"
    work.mkdir()
    shutil.copy(REFERENCE, work / REFERENCE.name)
    env = clean_env(PATH=f"{venv / 'bin'}:/usr/bin:/bin", JUPYTER_PATH=DEPS_DATA)
    run = subprocess.run([str(venv / "bin" / "perfeval"), "report", REFERENCE.name, "--format", "html"],
                         capture_output=True, text=True, cwd=work, env=env,
                         timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    pages = list(work.rglob("*.html"))
    assert len(pages) == 1, pages
    page = pages[0].read_text("utf-8")
    assert "98.94" in page and "优" in page
    assert "Traceback" not in run.stderr


def test_perfeval_lab_from_the_wheel_places_its_notebook(venv: Path, tmp_path: Path) -> None:
    probe = (
        "import argparse, json\n"
        "from perfeval.workbench.command import lab_launch\n"
        "launch = lab_launch(argparse.Namespace(data=None, dir=None, port=None, no_browser=True, scheme=None))\n"
        "print(json.dumps({'folder': str(launch.folder), 'data': launch.env['PERFEVAL_DATA'],\n"
        "                  'notes': launch.notes}))\n"
    )
    run = subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True,
                         cwd=tmp_path, env=clean_env(), timeout=120)
    assert run.returncode == 0, run.stderr
    launched = json.loads(run.stdout)
    assert launched["folder"] == str(tmp_path.resolve())
    assert (tmp_path / "explore.ipynb").read_bytes() == (ROOT / "notebooks" / "explore.ipynb").read_bytes()
    assert Path(launched["data"]).is_relative_to(venv) and (Path(launched["data"]) / REFERENCE.name).is_file()
