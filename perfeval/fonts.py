"""The CJK font perfeval renders Chinese with — never a system font.

The font is Noto Sans CJK (SIL Open Font License) from the PyPI package `noto-cjk-sans-otc`:
a TrueType collection whose Simplified-Chinese face is "Noto Sans CJK SC". Charts register it
with matplotlib (`register_cjk_font`); HTML and PDF exports embed a subset of it holding only
the characters a document uses (`subset_font`, `font_face_css`).

Subsets are cut by HarfBuzz's subsetter through uharfbuzz (the HarfBuzz project's Python binding, which
carries its own HarfBuzz, so the bytes are the same on every machine): about 20 ms for a report's 800
characters where fontTools' subsetter takes about a second, the largest cost of a report after WeasyPrint's
layout. Where uharfbuzz cannot be imported, fontTools cuts the same glyphs (the bytes then differ).
"""

from __future__ import annotations

import base64
import contextlib
import io
import threading
from functools import lru_cache
from pathlib import Path

#: the face perfeval uses (Simplified Chinese)
FAMILY = "Noto Sans CJK SC"
#: the family name an embedded subset is declared under in HTML/PDF (so it never
#: silently resolves to an installed copy with different metrics)
EMBEDDED_FAMILY = "PerfevalCJK"
#: tables a horizontal, unhinted subset does not need (vertical metrics, OpenType layout:
#: Chinese running text uses no ligatures or contextual forms)
_DROPPED_TABLES = ("GSUB", "GPOS", "VORG", "vhea", "vmtx")
#: Brotli quality of the WOFF2 data (fontTools always uses 11). For a report's subset (≈ 500 characters, 78 KB
#: plain) quality 11 takes 0.57 s, 10 0.19 s and 9 0.03 s, for 63.7, 63.9 and 68.5 KB: 9 costs a report about
#: 5 KB and saves it a sixth of a second. The font itself (the decompressed tables) is the same at any quality
WOFF2_QUALITY = 9
_lock = threading.Lock()
_woff2_lock = threading.Lock()


def font_path() -> Path:
    """The TTC file shipped by `noto-cjk-sans-otc`."""
    import noto_cjk_sans_otc

    return Path(noto_cjk_sans_otc.FONT_PATH)


@lru_cache(maxsize=1)
def face_index() -> int:
    """Index of the Simplified-Chinese face inside the collection."""
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(font_path()), lazy=True)
    try:
        for index, face in enumerate(collection.fonts):
            if face["name"].getDebugName(1) == FAMILY:
                return index
    finally:
        collection.close()
    raise LookupError(f"{font_path()} has no face named {FAMILY!r}")


@lru_cache(maxsize=1)
def _cmap() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(font_path()), fontNumber=face_index(), lazy=True) as face:
        return frozenset(face.getBestCmap())


def has_glyph(char: str) -> bool:
    """Whether the face has a glyph for `char` (one character)."""
    return ord(char) in _cmap()


def register_cjk_font() -> str:
    """Make matplotlib draw text in the CJK face; returns the family name. Idempotent.

    Sets the face first in `font.sans-serif` (matplotlib falls back glyph by glyph to the
    rest of the list) and `axes.unicode_minus` to whether the face has U+2212, so negative
    tick labels never hit a missing glyph.
    """
    import matplotlib as mpl
    from matplotlib import font_manager

    with _lock:
        entry = next((e for e in font_manager.fontManager.ttflist if e.name == FAMILY), None)
        if entry is None:
            font_manager.fontManager.addfont(str(font_path()))  # registers every face of the TTC
            entry = next(e for e in font_manager.fontManager.ttflist if e.name == FAMILY)
        sans = [name for name in mpl.rcParams["font.sans-serif"] if name != FAMILY]
        mpl.rcParams["font.sans-serif"] = [FAMILY, *sans]
        mpl.rcParams["font.family"] = ["sans-serif"]
        mpl.rcParams["axes.unicode_minus"] = _has_minus(entry.fname, entry.index)
    return FAMILY


@lru_cache(maxsize=4)
def _has_minus(path: str, index: int) -> bool:
    """Whether the face has U+2212, read once per face: opening the collection's face and reading its
    character map took ~10 ms on every chart (three per report)."""
    from matplotlib import ft2font

    return 0x2212 in ft2font.FT2Font(path, face_index=index).get_charmap()


#: characters always kept in a subset (digits, Latin, common CJK punctuation), so small edits
#: such as a page counter or a date never fall back to another font
BASE_CHARACTERS = (
    "".join(chr(c) for c in range(0x20, 0x7F))
    + "，。、；：？！“”‘’（）《》〔〕【】—…·％＋－×÷≥≤＝≠±～"
    + "一二三四五六七八九十百千万亿零元年月日时分秒第页共表图附录"
)


class _Brotli:
    """What fontTools' WOFF2 writer uses of the `brotli` module, compressing at `WOFF2_QUALITY`."""

    def __init__(self, module) -> None:
        self._module = module
        self.MODE_FONT, self.MODE_TEXT = module.MODE_FONT, module.MODE_TEXT
        self.decompress = module.decompress

    def compress(self, data: bytes, **kwargs) -> bytes:
        return self._module.compress(data, **{"quality": WOFF2_QUALITY, **kwargs})


@contextlib.contextmanager
def _woff2_quality():
    """fontTools' WOFF2 writer compressing at `WOFF2_QUALITY` for the duration (it has no option for it)."""
    from fontTools.ttLib import woff2

    with _woff2_lock:
        original = woff2.brotli
        woff2.brotli = _Brotli(original)
        try:
            yield
        finally:
            woff2.brotli = original


#: name records kept in a subset: HarfBuzz's default (0–6) and the OFL notice (13, 14)
_NAME_IDS = (0, 1, 2, 3, 4, 5, 6, 13, 14)


@lru_cache(maxsize=1)
def _harfbuzz():
    """(uharfbuzz, the face) for subsetting with HarfBuzz, or None where uharfbuzz cannot be imported (a
    platform without its wheel: fontTools cuts the subset instead)."""
    try:
        import uharfbuzz
    except ImportError:
        return None
    blob = uharfbuzz.Blob.from_file_path(str(font_path()))
    return uharfbuzz, uharfbuzz.Face(blob, face_index())


def _tag(text: str) -> int:
    """An OpenType table tag as HarfBuzz numbers it (hb_tag_t: four ASCII bytes, big-endian)."""
    return int.from_bytes(text.ljust(4).encode("ascii"), "big")


def _harfbuzz_subset(characters: str) -> bytes | None:
    """The face cut down to `characters` by HarfBuzz (hb-subset: tens of milliseconds where fontTools takes
    about a second), as plain OpenType/CFF: no hints, `_DROPPED_TABLES` dropped, glyphs in the face's order;
    None where HarfBuzz is not available or fails."""
    loaded = _harfbuzz()
    if loaded is None:
        return None
    hb, face = loaded
    request = hb.SubsetInput()
    request.unicode_set.update(sorted({ord(c) for c in characters}))
    request.drop_table_tag_set.update(_tag(tag) for tag in _DROPPED_TABLES)
    request.name_id_set.update(_NAME_IDS)
    request.flags = hb.SubsetFlags.NO_HINTING
    try:
        subset = hb.subset(face, request)
    except Exception:  # uharfbuzz raises when hb_subset_or_fail fails: fontTools cuts it instead
        return None
    data = subset.blob.data if subset is not None else b""
    return bytes(data) or None


def _fonttools_subset(characters: str, flavor: str | None) -> bytes:
    """The face cut down to `characters` by fontTools (where HarfBuzz is not available)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = flavor
    options.layout_features = []
    options.hinting = False
    options.recalc_bounds = False
    options.drop_tables += list(_DROPPED_TABLES)
    options.name_IDs = list(_NAME_IDS)  # keep copyright (0) and OFL notice (13, 14)
    with TTFont(str(font_path()), fontNumber=face_index(), lazy=True, recalcBBoxes=False,
                recalcTimestamp=False) as face:
        for tag in _DROPPED_TABLES:  # dropped anyway: removed before the subsetter reads them (GSUB, GPOS:
            if tag in face:          # ≈ 0.1 s per subset)
                del face[tag]
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=characters)
        subsetter.subset(face)
        face.flavor = flavor
        out = io.BytesIO()
        with _woff2_quality() if flavor == "woff2" else contextlib.nullcontext():
            face.save(out)
    return out.getvalue()


def _with_flavor(font: bytes, flavor: str | None) -> bytes:
    """Plain OpenType `font` as `flavor` (tables as they are: no timestamp or bounds recomputed)."""
    if flavor is None:
        return font
    from fontTools.ttLib import TTFont

    with TTFont(io.BytesIO(font), recalcBBoxes=False, recalcTimestamp=False) as face:
        face.flavor = flavor
        out = io.BytesIO()
        with _woff2_quality() if flavor == "woff2" else contextlib.nullcontext():
            face.save(out)
    return out.getvalue()


@lru_cache(maxsize=8)
def _subset_bytes(characters: str, flavor: str | None) -> bytes:
    font = _harfbuzz_subset(characters)
    return _fonttools_subset(characters, flavor) if font is None else _with_flavor(font, flavor)


def subset_font(text: str, flavor: str | None = "woff2") -> bytes:
    """The face cut down to the characters of `text` (plus `BASE_CHARACTERS`).

    `flavor`: "woff2" (for HTML), "woff" or None (plain OpenType/CFF)."""
    characters = "".join(sorted(set(text) | set(BASE_CHARACTERS)))
    return _subset_bytes(characters, flavor)


def covers(font_text: str, text: str) -> bool:
    """Whether a subset made for `font_text` holds every character of `text` the face has."""
    have = set(font_text) | set(BASE_CHARACTERS)
    cmap = _cmap()
    return all(ch in have or ord(ch) not in cmap for ch in set(text))


def font_face_css(text: str, family: str = EMBEDDED_FAMILY) -> str:
    """An @font-face rule embedding the WOFF2 subset for `text` as a data: URI."""
    data = base64.b64encode(subset_font(text, "woff2")).decode("ascii")
    return (f'@font-face {{ font-family: "{family}"; font-style: normal; font-weight: 400; '
            f'src: url("data:font/woff2;base64,{data}") format("woff2"); }}')
