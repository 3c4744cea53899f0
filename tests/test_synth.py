"""Synthetic portfolios: valid sheets score as generated, broken ones are caught, output is reproducible."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

import perfeval
from perfeval.cli import main
from perfeval.devtools import synth


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_identical_files_and_other_seed_differs(tmp_path: Path) -> None:
    synth.write_portfolio(tmp_path / "a", 6, seed=11, broken_share=0.2)
    synth.write_portfolio(tmp_path / "b", 6, seed=11, broken_share=0.2)
    synth.write_portfolio(tmp_path / "c", 6, seed=12, broken_share=0.2)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    assert _digests(tmp_path / "a") != _digests(tmp_path / "c")


def test_valid_workbooks_read_back_to_the_generated_scores(tmp_path: Path) -> None:
    generated = synth.generate(24, seed=5, broken_share=0.0)
    for s in generated:
        synth.write_project_workbook(s, tmp_path / s.file_name)
    loaded = [perfeval.load_project(tmp_path / s.file_name) for s in generated]
    expected = perfeval.evaluate_frames([s.project for s in generated]).projects
    got = perfeval.evaluate_frames(loaded).projects
    np.testing.assert_allclose(got["total"], expected["total"])
    assert list(got["grade"]) == list(expected["grade"])
    # the portfolio covers both schemes and the notations people type
    assert set(got["scheme"]) == {"third_party", "self"}
    targets = " ".join(t for p in loaded for t in p.indicators["target"])
    for notation in ("≥", "不低于", "％", "万元", "-", "有效提升"):
        assert notation in targets or notation in targets.replace("%", "％")
    styles = {s.style["merged"] for s in generated}
    assert styles == {"repeat", "blank", "merge"}


@pytest.mark.parametrize("breakage", synth.BREAKAGES)
def test_every_breakage_is_caught_by_validation(tmp_path: Path, breakage: str) -> None:
    [s] = synth.generate(1, seed=3, broken_share=1.0, breakages=(breakage,))
    path = synth.write_project_workbook(s, tmp_path / s.file_name)
    assert perfeval.validate_paths([path]), f"{breakage} was not caught"


def test_broken_share_sets_how_many_are_broken(tmp_path: Path) -> None:
    files = synth.write_portfolio(tmp_path, 20, seed=2, broken_share=0.15)
    bad = [f for f in files if perfeval.validate_paths([f])]
    assert len(files) == 20 and len(bad) == 3


def test_portfolio_workbook_isolates_broken_projects(tmp_path: Path) -> None:
    [path] = synth.write_portfolio(tmp_path, 12, seed=4, broken_share=0.25, portfolio=True)
    reads = perfeval.read_projects(path, strict=True)  # strict: weights that do not add up refuse too
    assert len(reads) == 12
    assert sum(1 for r in reads if r.problems) == 3
    assert sum(1 for r in reads if r.project is not None) == 9
    # by default a project whose only problem is auditable (here its weights) is read and scored
    reads = perfeval.read_projects(path)
    auditable = [r for r in reads if r.problems and all(p.auditable for p in r.problems)]
    assert len(auditable) == 1 and auditable[0].project is not None
    assert sum(1 for r in reads if r.project is not None) == 10


def test_cli_synth(tmp_path: Path, capsys) -> None:
    assert main(["synth", "--projects", "4", "--out", str(tmp_path), "--seed", "1",
                 "--broken-share", "0.25"]) == 0
    assert len(list(tmp_path.glob("*.xlsx"))) == 4
    assert "1 个故意出错" in capsys.readouterr().out
    assert main(["synth", "--projects", "0", "--out", str(tmp_path)]) == 2
    assert main(["synth", "--projects", "3", "--out", str(tmp_path), "--broken-share", "2"]) == 2
