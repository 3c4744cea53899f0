"""A validated `Project` written once as JSON, so the report notebook shows it without reading its sheet again.

`perfeval report` and `perfeval batch` read and validate a project once; the report notebook then receives
this file (beside the executed notebook, with its SHA-256 among the notebook's parameters) and rebuilds the
very same `Project` from it — the same numbers, the same texts, the same located findings (a project of a
portfolio keeps its rows in the portfolio), the same source file name and hash for the provenance.

JSON rather than pickle: a reviewer can open it, and loading it runs no code. Every value round-trips
exactly (floats are written with `repr`'s shortest round-tripping digits); a value of a type this format
does not know is refused, never approximated.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from pathlib import Path

import pandas as pd

from perfeval.errors import PerfevalError, Problem
from perfeval.model import Project

FORMAT = "perfeval.project/1"
SUFFIX = ".project.json"
_DTYPES = ("float64", "int64", "bool", "object", "str:python", "str:pyarrow")
_FRAMES = ("indicators", "stated", "materials", "panel")


def _scalar(value: object, where: str) -> object:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if hasattr(value, "item") and not isinstance(value, pd.Timestamp):  # a NumPy scalar
        return _scalar(value.item(), where)
    if value is pd.NA or value is pd.NaT:
        raise PerfevalError(f"无法保存项目快照：{where} 含缺失值标记 {value!r}")
    raise PerfevalError(f"无法保存项目快照：{where} 的值 {value!r} 类型为 {type(value).__name__}")


def _dtype_name(dtype) -> str:
    """"float64", "object" …; pandas' text dtype with its storage ("str:python", "str:pyarrow")."""
    if isinstance(dtype, pd.StringDtype) and str(dtype) == "str":
        return f"str:{dtype.storage}"
    return str(dtype)


def _dtype(name: str):
    if name.startswith("str:"):
        return pd.StringDtype(storage=name[4:], na_value=float("nan"))
    return name


def _frame_to_dict(frame: pd.DataFrame, name: str) -> dict:
    dtypes = [_dtype_name(t) for t in frame.dtypes]
    unknown = sorted({t for t in dtypes if t not in _DTYPES})
    if unknown:
        raise PerfevalError(f"无法保存项目快照：{name} 含不支持的列类型 {'、'.join(unknown)}")
    if any(not isinstance(c, str) for c in frame.columns):
        raise PerfevalError(f"无法保存项目快照：{name} 的列名不是文本")
    out: dict = {"columns": list(frame.columns), "dtypes": dtypes,
                 "data": [[_scalar(v, f"{name}.{c}") for v in frame[c].tolist()] for c in frame.columns]}
    if not frame.index.equals(pd.RangeIndex(len(frame))):
        out["index"] = [_scalar(v, f"{name} 的索引") for v in frame.index.tolist()]
    return out


def _frame_from_dict(data: dict) -> pd.DataFrame:
    columns = {}
    index = pd.Index(data["index"]) if "index" in data else pd.RangeIndex(len(data["data"][0]) if data["data"] else 0)
    for name, dtype, values in zip(data["columns"], data["dtypes"], data["data"], strict=True):
        columns[name] = pd.Series(values, dtype=_dtype(dtype), index=index)
    frame = pd.DataFrame(columns, index=index, columns=list(data["columns"]))
    if "index" not in data and not data["columns"]:
        frame = pd.DataFrame(columns=[], index=index)
    return frame


def project_to_dict(project: Project) -> dict:
    """Every field of `project` as JSON-safe data (`project_from_dict` rebuilds it exactly)."""
    out: dict = {"format": FORMAT}
    for f in fields(Project):
        value = getattr(project, f.name)
        if f.name in _FRAMES:
            out[f.name] = None if value is None else _frame_to_dict(value, f.name)
        elif f.name == "sheet_findings":
            out[f.name] = [{k.name: getattr(p, k.name) for k in fields(Problem)} for p in value]
        elif f.name == "source":
            out[f.name] = None if value is None else str(value)
        elif isinstance(value, dict):
            out[f.name] = {str(k): _scalar(v, f"{f.name}.{k}") for k, v in value.items()}
        else:
            out[f.name] = _scalar(value, f.name)
    return out


def project_from_dict(data: dict) -> Project:
    """The `Project` that `project_to_dict` wrote."""
    if data.get("format") != FORMAT:
        raise PerfevalError(f"项目快照格式不符（应为 {FORMAT}，实为 {data.get('format')!r}）")
    values: dict = {}
    for f in fields(Project):
        value = data[f.name]
        if f.name in _FRAMES:
            value = None if value is None else _frame_from_dict(value)
        elif f.name == "sheet_findings":
            value = tuple(Problem(**p) for p in value)
        elif f.name == "source":
            value = None if value is None else Path(value)
        values[f.name] = value
    return Project(**values)


def dumps(project: Project) -> bytes:
    """The snapshot's bytes (UTF-8 JSON; NaN written as NaN, which Python's json reads back)."""
    text = json.dumps(project_to_dict(project), ensure_ascii=False, indent=1, allow_nan=True)
    return (text + "\n").encode("utf-8")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_snapshot(path: str | Path, sha256: str | None = None) -> Project:
    """The project in a snapshot file; with `sha256`, refuse a file whose content changed since it was written."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PerfevalError(f"无法读取项目快照 {path}：{exc.strerror or exc}") from None
    if sha256 and digest(data) != sha256:
        raise PerfevalError(f"项目快照 {path.name} 的 SHA-256 与记录不符（文件在生成后被改动），已停止")
    return project_from_dict(json.loads(data.decode("utf-8")))

