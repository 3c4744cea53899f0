"""Hostile workbooks: `perfeval validate` on a 13 KB file with a cell at XFD1048576 and on a file with a huge
shared-string table must answer with a located error in under 5 s and under 300 MB (issue 8).

Each file is validated in a fresh process under /usr/bin/time, next to the baseline of the same run: validating
the ordinary reference workbook. Wall time on this shared machine measures the neighbours too, so CPU seconds
are printed beside it.

    python3 benchmarks/bench_hostile_files.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_excel_realities import _big_strings_file, _far_cell_file, _validate_in_subprocess  # noqa: E402

REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"


def measure(path: Path, runs: int) -> tuple[float, float, float, int]:
    """(median wall s, median CPU s, max peak RSS MB, exit code) of `perfeval validate path`."""
    results = [_validate_in_subprocess(path) for _ in range(runs)]
    return (statistics.median(r[1] for r in results), statistics.median(r[2] for r in results),
            max(r[3] for r in results), results[-1][0].returncode)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = {"reference": REFERENCE, "far_cell": _far_cell_file(Path(tmp) / "far.xlsx"),
                 "strings": _big_strings_file(Path(tmp) / "strings.xlsx")}
        figures = {}
        for name, path in files.items():
            wall, cpu, rss, code = measure(path, args.runs)
            figures[name] = (wall, cpu, rss)
            print(f"{name:10} {path.stat().st_size / 1024:8.0f} KB  exit {code}  wall {wall:.2f} s  "
                  f"cpu {cpu:.2f} s  peak RSS {rss:.0f} MB")
    base = figures["reference"]
    for name in ("far_cell", "strings"):
        wall, cpu, rss = figures[name]
        print(f"{name}: {wall / base[0]:.2f}× the reference's wall time, {rss / base[2]:.2f}× its memory; "
              f"target < 5 s and < 300 MB: {'met' if wall < 5 and rss < 300 else 'MISSED'}")
    print(" ".join(f"{name}_s={figures[name][0]:.2f} {name}_cpu_s={figures[name][1]:.2f} "
                   f"{name}_rss_mb={figures[name][2]:.0f}" for name in figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
