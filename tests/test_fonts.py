"""The CJK font: registered with matplotlib from the PyPI package, subset for HTML/PDF."""

from __future__ import annotations

import base64
import io

import matplotlib as mpl
import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager

from perfeval import fonts


def test_register_returns_the_face_and_is_idempotent():
    assert fonts.register_cjk_font() == fonts.FAMILY
    before = sum(entry.name == fonts.FAMILY for entry in font_manager.fontManager.ttflist)
    assert fonts.register_cjk_font() == fonts.FAMILY
    after = sum(entry.name == fonts.FAMILY for entry in font_manager.fontManager.ttflist)
    assert before == after >= 1
    assert mpl.rcParams["font.sans-serif"][0] == fonts.FAMILY
    assert mpl.rcParams["font.sans-serif"].count(fonts.FAMILY) == 1


def test_matplotlib_finds_the_packaged_file_not_a_system_font():
    fonts.register_cjk_font()
    found = font_manager.findfont(font_manager.FontProperties(family=fonts.FAMILY),
                                  fallback_to_default=False)
    assert str(found).startswith(str(fonts.font_path()))


def test_minus_sign_setting_matches_the_face():
    fonts.register_cjk_font()
    assert fonts.has_glyph("\u2212")  # Noto Sans CJK has U+2212 MINUS SIGN …
    assert mpl.rcParams["axes.unicode_minus"] is True  # … so the proper minus is kept


def test_subset_holds_exactly_the_needed_characters():
    text = "预算执行率95.6%，偏差率4.4%"
    data = fonts.subset_font(text, flavor=None)
    with TTFont(io.BytesIO(data)) as face:
        cmap = face.getBestCmap()
        assert face["name"].getDebugName(13)  # the OFL licence notice travels with the font
    assert all(ord(ch) in cmap for ch in text)
    assert ord("鑫") not in cmap  # not in the text nor in the base set
    assert len(cmap) < 600  # a subset, not the 44 000-character face


def test_woff2_data_uri():
    css = fonts.font_face_css("绩效评价报告")
    assert css.startswith("@font-face") and fonts.EMBEDDED_FAMILY in css
    payload = css.split("base64,", 1)[1].split('"', 1)[0]
    assert base64.b64decode(payload)[:4] == b"wOF2"


@pytest.mark.parametrize(("made_for", "shown", "ok"), [
    ("绩效评价", "绩效评价", True),
    ("绩效", "绩效评价", False),
    ("绩效", "绩效 123 abc，。", True),  # ASCII and common punctuation are always in
    ("绩效", "绩效\U0001F600", True),  # a character the face lacks cannot be added anyway
])
def test_covers(made_for, shown, ok):
    assert fonts.covers(made_for, shown) is ok
