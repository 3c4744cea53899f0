"""Published tables, as printed, against what a careful reviewer computed by hand before perfeval ran.

Each folder of tests/data/published/ holds a transcription (table.csv), the reviewer's figures and issues written
before any run (meta.toml), and what was decided after the first run (after_run.toml): whether perfeval should
score or refuse the table, reviewer's issues perfeval does not raise (`missed`, with why), findings the reviewer
had not raised and agrees with after reading them (`agreed`), and known false alarms (`false_alarm`).
Every table is read twice: the CSV as transcribed, and an .xlsx typed from it with the printed merges.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from published_corpus import ALARM_CODES, CODE_MAP, Table, build_xlsx, tables

import perfeval
from perfeval.errors import SheetError
from perfeval.sheets.load import read_projects

TABLES = tables()
#: codes reported once per level or per cause: one reviewer issue explains any number of them
PRESENCE_CODES = frozenset({"weights", "level_weight", "stated_total", "stated_inconsistent", "stated_subtotal",
                            "stated_rate", "funding_breakdown"})


def after_run(table: Table) -> dict:
    with (table.folder / "after_run.toml").open("rb") as handle:
        return tomllib.load(handle)


@pytest.fixture(params=["csv", "xlsx"])
def kind(request) -> str:
    return request.param


def read(table: Table, kind: str, tmp_path: Path):
    path = table.csv_path if kind == "csv" else build_xlsx(table, tmp_path / f"{table.name}.xlsx")
    try:
        return path, read_projects(path)
    except SheetError as exc:
        return path, exc.problems


def test_the_corpus_is_large_and_varied() -> None:
    assert len(TABLES) >= 15
    assert len({t.meta["layout"].split(":")[0] for t in TABLES}) >= 4
    assert len({t.meta["source"] for t in TABLES}) >= 15


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_published_table(table: Table, kind: str, tmp_path: Path) -> None:
    decided = after_run(table)
    path, result = read(table, kind, tmp_path)
    loaded = [r.project for r in result if getattr(r, "project", None) is not None]
    if decided["outcome"] == "refused":
        problems = result if not loaded and result and not hasattr(result[0], "project") else \
            [p for r in result for p in r.problems]
        assert not loaded and problems
        # refused, never crashed nor guessed: every problem names the file and a place in it
        assert all(Path(p.file).name == path.name and (p.row or p.column or p.sheet) for p in problems)
        return
    assert len(loaded) == 1, [str(p) for r in result for p in r.problems]
    project = loaded[0]
    reviewer = table.reviewer
    ind = project.indicators
    assert ind["stated_score"].sum() == pytest.approx(reviewer["items_sum"])
    assert ind["weight"].sum() == pytest.approx(reviewer["weights_sum"])
    ev = perfeval.evaluate(project)
    if "execution_rate" in reviewer and project.budget > 0:
        assert ev.budget.execution_rate == pytest.approx(reviewer["execution_rate"], abs=5e-5)

    alarms = ev.findings[ev.findings["severity"].isin(["error", "warning"]) & ev.findings["code"].isin(ALARM_CODES)]
    missed = {m["code"] for m in decided.get("missed", [])}
    # every inconsistency the reviewer raised is raised (unless documented as missed, with why)
    for issue in table.issues:
        if issue["code"] == "unreadable" or issue["code"] in missed:
            continue
        assert alarms["code"].isin(CODE_MAP[issue["code"]]).any(), issue
    for code in missed:
        assert not alarms["code"].isin(CODE_MAP[code] - PRESENCE_CODES).any(), f"{code} is raised now: update"

    # no alarm the reviewer did not raise, except those agreed after reading them or known false alarms
    explained = [*decided.get("agreed", []), *decided.get("false_alarm", [])]
    for finding in alarms.itertuples():
        if any(finding.code == e["code"] and e["match"] in finding.message for e in explained):
            continue
        raised = [i for i in table.issues if finding.code in CODE_MAP.get(i["code"], ())]
        assert raised, f"false alarm: {finding.code}: {finding.message}"
        if finding.code not in PRESENCE_CODES:  # one finding per item: no more than the reviewer's count
            unexplained = alarms[(alarms["code"] == finding.code) & ~alarms["message"].map(
                lambda m, c=finding.code: any(c == e["code"] and e["match"] in m for e in explained))]
            assert len(unexplained) <= len(raised), f"more {finding.code} than the reviewer raised"
