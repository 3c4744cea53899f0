"""Shared fixtures: the reference project (transcribed from the published report) and broken copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_XLSX = ROOT / "data" / "reference" / "AKT2022-001.xlsx"
REFERENCE_CSV = ROOT / "data" / "reference" / "csv" / "AKT2022-001.csv"


@pytest.fixture(scope="session")
def reference_path() -> Path:
    return REFERENCE_XLSX


@pytest.fixture(scope="session")
def reference_project():
    import perfeval

    return perfeval.load_project(REFERENCE_XLSX)


@pytest.fixture(scope="session")
def reference_evaluation(reference_project):
    import perfeval

    return perfeval.evaluate(reference_project)


@pytest.fixture
def reference_copy(tmp_path: Path) -> Path:
    """A writable copy of the reference workbook."""
    target = tmp_path / REFERENCE_XLSX.name
    shutil.copy(REFERENCE_XLSX, target)
    return target


@pytest.fixture(scope="module")
def reference():
    """The reference project read from its CSV set (the workbench tests edit copies of it)."""
    import perfeval

    return perfeval.load_project(REFERENCE_CSV)


def index_of(project, name: str) -> int:
    """Row index of the indicator called `name`."""
    ind = project.indicators
    return int(ind.index[ind["name"] == name][0])
