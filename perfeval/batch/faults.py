"""Deliberate faults, for testing failure isolation (never set in normal use).

A test names projects and the fault each should suffer in the environment variable
``PERFEVAL_BATCH_FAULTS`` (JSON: ``{"<项目编号>": "cell" | "crash" | "hang"}``). The batch reads it
once, in the process that plans the jobs, and the fault travels with the job (so it works the
same on a Dask cluster) and is part of the job's fingerprint:

* ``cell`` — the report notebook runs on a kernel that loads this module as an IPython extension;
  the first cell after papermill's injected parameters then raises. This is a real failing cell
  (papermill raises its execution error, the executed notebook is kept), with no change to the
  report notebook itself.
* ``crash`` — the job process kills itself with SIGKILL (a worker that dies).
* ``hang`` — the job process sleeps forever (exercises ``--timeout``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ENV = "PERFEVAL_BATCH_FAULTS"
KINDS = ("cell", "crash", "hang")
KERNEL_NAME = "perfeval-fault-cell"
MESSAGE = "测试注入的故障：本单元格按 PERFEVAL_BATCH_FAULTS 的设置失败"


def planned() -> dict[str, str]:
    """{项目编号: fault} from the environment; unknown kinds are ignored."""
    text = os.environ.get(ENV, "").strip()
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items() if str(v) in KINDS} if isinstance(data, dict) else {}


def install_kernel(jupyter_data_dir: Path) -> str:
    """Write the fault kernelspec under `jupyter_data_dir` (put it on JUPYTER_PATH); returns its name."""
    folder = jupyter_data_dir / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                 "--ext=perfeval.batch.faults"],
        "display_name": "perfeval（故障注入）",
        "language": "python",
    }
    (folder / "kernel.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    return KERNEL_NAME


def load_ipython_extension(ip) -> None:  # pragma: no cover - runs inside the kernel
    """Make every cell after papermill's injected-parameters cell raise."""
    state = {"armed": False}

    def transform(lines: list[str]) -> list[str]:
        if state["armed"]:
            return [f"raise RuntimeError({MESSAGE!r})\n"]
        if lines and lines[0].startswith("# Parameters"):
            state["armed"] = True
        return lines

    ip.input_transformers_post.append(transform)
