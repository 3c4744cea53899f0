"""Paths as the user can paste them into the shell they launched `perfeval lab` from.

`perfeval lab` records that folder in PERFEVAL_LAUNCH_DIR; the kernel inherits it, so a path the
workbench writes (relative to the notebook's folder, the kernel's working folder) is shown relative
to where the user typed the command, or absolute when it lies elsewhere.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

#: environment variable `perfeval lab` sets to the folder it was launched from
LAUNCH_DIR_ENV = "PERFEVAL_LAUNCH_DIR"

_SHELL_SPECIAL = re.compile(r"[\s'\"\\$`!*?&;|<>(){}\[\]#~=]")


def launch_dir() -> Path:
    """The folder the user launched from (the working folder outside `perfeval lab`)."""
    env = os.environ.get(LAUNCH_DIR_ENV, "").strip()
    return Path(env) if env else Path.cwd()


def paste_path(path: str | Path, base: Path | None = None) -> str:
    """`path` for a shell in `base` (default: the launch folder): relative when inside it, else absolute;
    quoted only when the shell would otherwise split or expand it."""
    full = Path(path).expanduser().resolve()
    base = (base or launch_dir()).resolve()
    text = str(full.relative_to(base)) if full.is_relative_to(base) else str(full)
    if text.startswith("-"):
        text = f"./{text}"  # never read as an option
    return shlex.quote(text) if _SHELL_SPECIAL.search(text) else text
