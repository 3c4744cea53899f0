"""Print what perfeval makes of the published tables in tests/data/published (figures for notes and README).

    python3 scripts/published_corpus_report.py
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from published_corpus import ALARM_CODES, CODE_MAP, tables

import perfeval
from perfeval.errors import SheetError
from perfeval.sheets.load import read_projects


def main() -> int:
    counts = dict.fromkeys(("tables", "scored", "refused", "items", "reproduced", "issues", "recalled",
                            "agreed", "false_alarms"), 0)
    for table in tables():
        counts["tables"] += 1
        decided = tomllib.loads((table.folder / "after_run.toml").read_text(encoding="utf-8"))
        try:
            reads = read_projects(table.csv_path)
        except SheetError as exc:
            reads, first = [], str(exc.problems[0])
        else:
            first = next((str(p) for r in reads for p in r.problems), "")
        projects = [r.project for r in reads if r.project is not None]
        if not projects:
            counts["refused"] += 1
            print(f"{table.name:40} refused  {first[:110]}")
            continue
        counts["scored"] += 1
        ev = perfeval.evaluate(projects[0])
        f = ev.findings
        stated = ev.indicators["stated_score"].notna()
        flagged = set(f.loc[f["code"] == "stated_item_score", "where"])
        places = [f"指标表第{int(r.row)}行「{r.level1}/{r.name}」" for r in ev.indicators[stated].itertuples()]
        reproduced = sum(p not in flagged for p in places)
        alarms = f[f["severity"].isin(["error", "warning"]) & f["code"].isin(ALARM_CODES)]
        issues = [i for i in table.issues if i["code"] != "unreadable"]
        recalled = sum(alarms["code"].isin(CODE_MAP[i["code"]]).any() for i in issues
                       if i["code"] not in {m["code"] for m in decided.get("missed", [])})
        false = sum(any(a.code == e["code"] and e["match"] in a.message for e in decided.get("false_alarm", []))
                    for a in alarms.itertuples())
        counts["items"] += int(stated.sum())
        counts["reproduced"] += reproduced
        counts["issues"] += len(issues)
        counts["recalled"] += recalled
        counts["agreed"] += len(decided.get("agreed", []))
        counts["false_alarms"] += false
        print(f"{table.name:40} scored   total {ev.total:g} {ev.grade}  items reproduced "
              f"{reproduced}/{int(stated.sum())}  reviewer issues raised {recalled}/{len(issues)}"
              f"  false alarms {false}")
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
