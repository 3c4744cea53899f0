"""Reports byte-identical before and after a change: the reference and the bundled synthetic projects.

    git archive main | tar -x -C /tmp/base
    python3 benchmarks/report_identity.py --base /tmp/base [--formats html,pdf]

Builds every project of data/reference/AKT2022-001.xlsx and data/synthetic/ with SOURCE_DATE_EPOCH set, once
with the checkout given by --base (`perfeval report`'s `build_report`) and once with this checkout, both with
`build_report` and with `perfeval batch`; compares the files' SHA-256. Word files are not compared unless
asked for (python-docx stamps the time of writing into them, so they differ between two runs of the same code).
Exit code 1 when a file differs. The last line is `files= identical= differ=`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EPOCH = "1704038400"
BUILD = """
import hashlib, json, sys
from pathlib import Path
from perfeval.report import build_report
root, out, formats = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
files = [root / "data/reference/AKT2022-001.xlsx", *sorted((root / "data/synthetic").glob("*.xlsx"))]
found = {}
for f in files:
    for kind, path in build_report(f, out / f.stem, formats).items():
        if kind in formats.split(","):
            found[f"{f.stem}.{kind}"] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
print(json.dumps(found))
"""


def built_with(checkout: Path, out: Path, formats: str) -> dict[str, str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, "-c", BUILD, str(checkout), str(out), formats], env=env, cwd=checkout,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def batched(out: Path, formats: str) -> dict[str, str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "perfeval.cli", "batch", str(ROOT / "data/reference/AKT2022-001.xlsx"),
                    str(ROOT / "data/synthetic"), "--out", str(out), "--format", formats], env=env, cwd=ROOT,
                   check=True, capture_output=True)
    wanted = set(formats.split(","))
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*"))
            if p.suffix.lstrip(".") in wanted and p.parent.parent.parent == out}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, type=Path, help="a checkout of the code before the change")
    parser.add_argument("--formats", default="html,pdf")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="perfeval-identity-") as tmp:
        work = Path(tmp)
        before = built_with(args.base.resolve(), work / "before", args.formats)
        after = built_with(ROOT, work / "after", args.formats)
        batch = batched(work / "batch", args.formats)
    differ = []
    for name, digest in sorted(before.items()):
        for label, side in (("report", after), ("batch", batch)):
            if side.get(name) != digest:
                differ.append(f"{label}:{name}")
    for item in differ:
        print(f"differs: {item}")
    print(f"files={len(before)} identical={2 * len(before) - len(differ)} differ={len(differ)}")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
