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


# --- the subset is cut by HarfBuzz (fontTools where libharfbuzz-subset is missing): same glyphs either way

SAMPLE = "工会社会化聘用人员社保缴费项目支出绩效评价报告：预算执行率95.6%，偏差率4.4%（优）"


def _glyph_shapes(data: bytes, text: str) -> dict[str, tuple]:
    """For each character of `text`: its advance width and outline bounds in the font `data`."""
    from fontTools.pens.boundsPen import BoundsPen

    with TTFont(io.BytesIO(data)) as face:
        cmap, glyphs, metrics = face.getBestCmap(), face.getGlyphSet(), face["hmtx"].metrics
        shapes = {}
        for ch in set(text):
            name = cmap[ord(ch)]
            pen = BoundsPen(glyphs)
            glyphs[name].draw(pen)
            shapes[ch] = (metrics[name][0], pen.bounds)
    return shapes


def test_harfbuzz_is_used_here_and_cuts_the_same_glyphs_as_fonttools():
    assert fonts._harfbuzz() is not None  # uharfbuzz is a dependency
    characters = "".join(sorted(set(SAMPLE) | set(fonts.BASE_CHARACTERS)))
    by_harfbuzz = fonts._harfbuzz_subset(characters)
    by_fonttools = fonts._fonttools_subset(characters, None)
    assert by_harfbuzz is not None
    assert _glyph_shapes(by_harfbuzz, SAMPLE) == _glyph_shapes(by_fonttools, SAMPLE)


def test_harfbuzz_subset_drops_hints_and_tables_and_keeps_the_licence():
    data = fonts.subset_font(SAMPLE, flavor=None)
    with TTFont(io.BytesIO(data)) as face:
        assert not set(fonts._DROPPED_TABLES) & set(face.keys())
        assert face["name"].getDebugName(13) and face["name"].getDebugName(14)  # OFL notice and URL
        assert {n.nameID for n in face["name"].names} <= set(fonts._NAME_IDS)
        assert face["head"].modified == _original_modified()  # no timestamp of the day: reproducible bytes
        cff = face["CFF "].cff
        top = cff[cff.fontNames[0]]
        charstrings = top.CharStrings
        for name in (face.getBestCmap()[ord(ch)] for ch in "绩效"):
            program = charstrings[name]
            program.decompile()
            assert not {"hstem", "vstem", "hstemhm", "vstemhm", "hintmask", "cntrmask"} & {
                op for op in program.program if isinstance(op, str)}


def _original_modified() -> int:
    with TTFont(str(fonts.font_path()), fontNumber=fonts.face_index(), lazy=True) as face:
        return face["head"].modified


def test_subsets_are_reproducible_and_woff2_holds_the_same_tables():
    fonts._subset_bytes.cache_clear()
    first = fonts.subset_font(SAMPLE)
    fonts._subset_bytes.cache_clear()
    assert fonts.subset_font(SAMPLE) == first
    plain = fonts.subset_font(SAMPLE, flavor=None)
    with TTFont(io.BytesIO(first)) as woff2, TTFont(io.BytesIO(plain)) as otf:
        assert woff2.flavor == "woff2"
        for tag in sorted(otf.keys()):
            if tag not in ("GlyphOrder", "head"):  # head carries the file's checksum adjustment
                assert woff2.getTableData(tag) == otf.getTableData(tag), tag


def test_without_harfbuzz_fonttools_cuts_the_subset(monkeypatch):
    characters = "".join(sorted(set(SAMPLE) | set(fonts.BASE_CHARACTERS)))
    monkeypatch.setattr(fonts, "_harfbuzz", lambda: None)
    fonts._subset_bytes.cache_clear()
    try:
        data = fonts.subset_font(SAMPLE, flavor=None)
    finally:
        fonts._subset_bytes.cache_clear()
    assert data == fonts._fonttools_subset(characters, None)
    with TTFont(io.BytesIO(data)) as face:
        assert all(ord(ch) in face.getBestCmap() for ch in SAMPLE)
