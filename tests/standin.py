"""Stand-ins for `build_report` that batch tests pass as `report_fn`: the batch pickles `report_fn` into its job
processes, so each stand-in is a module-level function. They load the sheet as `build_report` does (a sheet
that does not load fails the same way) and write one small file per format instead of a report."""

from __future__ import annotations

from pathlib import Path

import perfeval
from perfeval.atomic import write_bytes_atomic


def write_formats(out_dir, name: str, formats, content: bytes) -> dict[str, Path]:
    """`content` written atomically as `<name>.<format>` in `out_dir` (created) for each format: {format: path}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return {fmt: write_bytes_atomic(out / f"{name}.{fmt}", content) for fmt in formats}


def fake_report(workbook, out_dir, formats=("html",), scheme=None, project_id=None,
                extra_parameters=None, timeout=None, kernel_name=None) -> dict[str, Path]:
    """Loads the project like `build_report` and writes its 项目编号 as `<项目编号>.<format>`."""
    project = perfeval.load_project(workbook, scheme, project_id)
    return write_formats(out_dir, project.id, formats, project.id.encode())
