"""Linear loading (issue 10): a portfolio workbook is read and validated once per process however many of its
projects are asked for one by one, and the one-pass splitting returns the same projects as before."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

import perfeval
import perfeval.sheets.load as validate
from perfeval.errors import SheetError
from perfeval.sheets.read import Table
from perfeval.sheets.stated import narrative, narratives
from perfeval.sheets.write import save_portfolio

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"


@pytest.fixture()
def portfolio(tmp_path: Path) -> Path:
    base = perfeval.load_project(REFERENCE, field_data=False)
    variants = [base.with_indicator(15, actual=f"{90 + i}%").replace(id=f"P{i:02d}", name=f"项目{i}",
                                                                       spent=round(base.spent - i * 0.5, 2))
                for i in range(4)]
    return save_portfolio(variants, tmp_path / "组合.xlsx")


@pytest.fixture()
def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    seen: list[Path] = []
    real = validate.read_workbook

    def counting(path):
        seen.append(Path(path))
        return real(path)

    monkeypatch.setattr(validate, "read_workbook", counting)
    validate._READS_CACHE.clear()
    return seen


def _same(a: perfeval.Project, b: perfeval.Project) -> None:
    pd.testing.assert_frame_equal(a.indicators, b.indicators)
    pd.testing.assert_frame_equal(a.stated, b.stated)
    assert (a.id, a.name, a.spent, a.narrative, a.sheet_findings) == (b.id, b.name, b.spent, b.narrative,
                                                                      b.sheet_findings)


def test_each_project_of_a_portfolio_reads_the_workbook_once(portfolio: Path, count_reads: list[Path]) -> None:
    every = perfeval.load_projects(portfolio, field_data=False)
    assert len(count_reads) == 1
    one_by_one = [perfeval.load_project(portfolio, project_id=p.id, field_data=False) for p in every]
    assert len(count_reads) == 2  # load_projects once, then every load_project(…, project_id) from one read
    for a, b in zip(every, one_by_one, strict=True):
        _same(a, b)
    scored = [perfeval.evaluate(p).total for p in one_by_one]
    assert scored == perfeval.evaluate_frames(every).projects["total"].tolist()


def test_a_changed_workbook_is_read_again(portfolio: Path, count_reads: list[Path], tmp_path: Path) -> None:
    first = perfeval.load_project(portfolio, project_id="P01", field_data=False)
    base = perfeval.load_project(REFERENCE, field_data=False)
    changed = [base.replace(id="P01", name="改过的项目", spent=1.0), base.replace(id="P02")]
    stamp = os.stat(portfolio).st_mtime_ns
    save_portfolio(changed, portfolio)
    os.utime(portfolio, ns=(stamp + 10**9, stamp + 10**9))
    again = perfeval.load_project(portfolio, project_id="P01", field_data=False)
    assert count_reads.count(portfolio) == 2
    assert (first.name, again.name, again.spent) == ("项目1", "改过的项目", 1.0)
    with pytest.raises(SheetError) as exc:
        perfeval.load_project(portfolio, project_id="P03", field_data=False)
    assert "文件中没有该项目编号的项目" in str(exc.value)
    assert count_reads.count(portfolio) == 2


def test_split_by_key_keeps_each_projects_rows_in_order() -> None:
    frame = pd.DataFrame({"row": [2, 3, 4, 5, 6, 7], "weight": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                          "_key": ["b", "a", "b", "c", "a", "b"]})
    parts = validate._split_by_key(frame)
    assert list(parts) == ["b", "a", "c"]
    assert parts["b"]["row"].tolist() == [2, 4, 7] and parts["a"]["weight"].tolist() == [2.0, 5.0]
    assert all(list(p.index) == list(range(len(p))) and "_key" not in p for p in parts.values())
    assert validate._split_by_key(frame.iloc[:0]) == {}


def test_narratives_of_many_projects_in_one_pass() -> None:
    frame = pd.DataFrame({"section": ["背景", "背景", "目标", "", "背景"], "content": ["一", "二", "三", "四", "五"],
                          "row": [2, 3, 4, 5, 6]})
    table = Table("文字", frame, 1)
    by_key = narratives(table, pd.Series(["x", "x", "x", "y", "y"]))
    assert by_key == {"x": {"背景": "一\n二", "目标": "三"}, "y": {"背景": "五"}}
    assert narrative(table) == {"背景": "一\n二\n五", "目标": "三"}
    assert narrative(None) == {}


def test_separate_workbooks_validated_together_read_as_one_by_one(tmp_path: Path) -> None:
    """read_inputs validates one-project workbooks of one shape in one pass: every project, problem (located in
    its own file, in the same order) and refusal is what reading each file alone gives."""
    import subprocess
    import sys

    from perfeval.sheets.inputs import input_files
    from perfeval.sheets.load import read_inputs, read_projects

    folder = tmp_path / "many"
    subprocess.run([sys.executable, "-m", "perfeval.cli", "synth", "--projects", "16", "--broken-share", "0.5",
                    "--out", str(folder)], check=True, capture_output=True, env={**os.environ,
                                                                                  "PYTHONPATH": str(ROOT)})
    files = input_files([folder, REFERENCE])
    alone = []
    for file in files:
        try:
            alone.extend(read_projects(file))
        except SheetError as exc:
            alone.append(validate.ProjectRead(file.stem, None, list(exc.problems)))
    together = read_inputs(files)
    assert [r.key for r in together] == [r.key for r in alone]
    assert sum(r.project is None for r in together) >= 4  # the broken ones stay refused, each on its own
    for a, b in zip(alone, together, strict=True):
        assert a.problems == b.problems
        assert (a.project is None) == (b.project is None)
        if a.project is not None:
            _same(a.project, b.project)
            assert a.project.source == b.project.source
