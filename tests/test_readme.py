"""README states exactly two set-up commands; CI runs the second one verbatim; both use the project
virtual environment that scripts/setup.sh makes (never a bare `python3`/`perfeval` from PATH)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETUP = "bash scripts/setup.sh && "


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Set-up commands", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line for line in block.splitlines() if line.strip()]


def test_readme_has_exactly_two_commands():
    main, tests = readme_commands()
    assert main.startswith(SETUP + ".venv/bin/perfeval batch ")
    assert tests.startswith(SETUP) and ".venv/bin/python -m pytest" in tests


def test_readme_commands_use_the_project_environment():
    for command in readme_commands():
        for step in command.split(" && ")[1:]:
            assert step.startswith(".venv/bin/"), step


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_commands()[1] in ci
    assert "set -euo pipefail" in ci


def test_venv_is_ignored():
    assert "/.venv/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
