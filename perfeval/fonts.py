"""The CJK font perfeval renders Chinese with — never a system font.

The font is Noto Sans CJK (SIL Open Font License) from the PyPI package `noto-cjk-sans-otc`:
a TrueType collection whose Simplified-Chinese face is "Noto Sans CJK SC". Charts register it
with matplotlib (`register_cjk_font`); HTML and PDF exports embed a subset of it holding only
the characters a document uses (`subset_font`, `font_face_css`).

Subsets are cut by HarfBuzz (libharfbuzz-subset, which WeasyPrint already loads for the PDF's own font
subsets), called through cffi: about 20 ms for a report's 800 characters where fontTools' subsetter takes
about a second, the largest cost of a report after WeasyPrint's layout. Where the library is missing,
fontTools cuts the same glyphs (the bytes then differ: byte-identical reports assume one environment).
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
#: Brotli quality of the WOFF2 data (fontTools always uses 11): 10 makes a report's subset within 0.5 % of
#: the size at 11 in about a quarter of the time (≈ 0.2 s instead of 0.8 s for 800 characters); the font
#: itself (the decompressed tables) is the same
WOFF2_QUALITY = 10
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
    from matplotlib import font_manager, ft2font

    with _lock:
        entry = next((e for e in font_manager.fontManager.ttflist if e.name == FAMILY), None)
        if entry is None:
            font_manager.fontManager.addfont(str(font_path()))  # registers every face of the TTC
            entry = next(e for e in font_manager.fontManager.ttflist if e.name == FAMILY)
        face = ft2font.FT2Font(entry.fname, face_index=entry.index)
        sans = [name for name in mpl.rcParams["font.sans-serif"] if name != FAMILY]
        mpl.rcParams["font.sans-serif"] = [FAMILY, *sans]
        mpl.rcParams["font.family"] = ["sans-serif"]
        mpl.rcParams["axes.unicode_minus"] = 0x2212 in face.get_charmap()
    return FAMILY


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


_HB_DECLARATIONS = """
typedef struct hb_blob_t hb_blob_t; typedef struct hb_face_t hb_face_t; typedef struct hb_set_t hb_set_t;
typedef struct hb_subset_input_t hb_subset_input_t; typedef uint32_t hb_codepoint_t; typedef uint32_t hb_tag_t;
hb_blob_t *hb_blob_create_from_file_or_fail (const char *file_name);
void hb_blob_destroy (hb_blob_t *blob);
const char *hb_blob_get_data (hb_blob_t *blob, unsigned int *length);
hb_face_t *hb_face_create (hb_blob_t *blob, unsigned int index);
void hb_face_destroy (hb_face_t *face);
hb_blob_t *hb_face_reference_blob (hb_face_t *face);
void hb_set_add (hb_set_t *set, hb_codepoint_t codepoint);
void hb_set_add_sorted_array (hb_set_t *set, const hb_codepoint_t *sorted_codepoints, unsigned int num_codepoints);
hb_tag_t hb_tag_from_string (const char *str, int len);
hb_subset_input_t *hb_subset_input_create_or_fail (void);
void hb_subset_input_destroy (hb_subset_input_t *input);
hb_set_t *hb_subset_input_set (hb_subset_input_t *input, int set_type);
void hb_subset_input_set_flags (hb_subset_input_t *input, unsigned value);
hb_face_t *hb_subset_or_fail (hb_face_t *source, const hb_subset_input_t *input);
"""
#: hb_subset_sets_t and hb_subset_flags_t values (stable since HarfBuzz 2.9)
_HB_SET_UNICODE, _HB_SET_DROP_TABLE_TAG, _HB_SET_NAME_ID = 1, 3, 4
_HB_FLAG_NO_HINTING = 1
#: name records kept in a subset: HarfBuzz's default (0–6) and the OFL notice (13, 14)
_NAME_IDS = (0, 1, 2, 3, 4, 5, 6, 13, 14)


@lru_cache(maxsize=1)
def _harfbuzz():
    """(ffi, libharfbuzz, libharfbuzz-subset, the face) for subsetting with HarfBuzz, or None where the
    libraries are missing (WeasyPrint needs libharfbuzz; libharfbuzz-subset usually comes with it)."""
    try:
        import cffi

        ffi = cffi.FFI()
        ffi.cdef(_HB_DECLARATIONS)
        hb, hbs = _dlopen(ffi, "harfbuzz"), _dlopen(ffi, "harfbuzz-subset")
    except ImportError:
        return None
    if hb is None or hbs is None:
        return None
    blob = hb.hb_blob_create_from_file_or_fail(str(font_path()).encode())
    if blob == ffi.NULL:
        return None
    face = hb.hb_face_create(blob, face_index())
    hb.hb_blob_destroy(blob)  # the face holds its own reference
    return ffi, hb, hbs, face


def _dlopen(ffi, name: str):
    """The shared library `name` (e.g. "harfbuzz") by its usual file names on Linux, macOS and Windows, then as
    ctypes finds it (which runs ldconfig: only when the usual names fail); None if it cannot be loaded."""
    from ctypes.util import find_library

    for candidate in (f"lib{name}.so.0", f"lib{name}.0.dylib", f"lib{name}-0.dll", f"{name}-0", None):
        path = candidate or find_library(name)
        if not path:
            continue
        try:
            return ffi.dlopen(path)
        except (OSError, AttributeError):
            continue
    return None


def _harfbuzz_subset(characters: str) -> bytes | None:
    """The face cut down to `characters` by HarfBuzz (hb-subset: tens of milliseconds where fontTools takes
    about a second), as plain OpenType/CFF: no hints, `_DROPPED_TABLES` dropped, glyphs in the face's order;
    None where HarfBuzz is not available or fails."""
    loaded = _harfbuzz()
    if loaded is None:
        return None
    ffi, hb, hbs, face = loaded
    codepoints = sorted({ord(c) for c in characters})
    request = hbs.hb_subset_input_create_or_fail()
    if request == ffi.NULL:
        return None
    try:
        hb.hb_set_add_sorted_array(hbs.hb_subset_input_set(request, _HB_SET_UNICODE),
                                   ffi.new("hb_codepoint_t[]", codepoints), len(codepoints))
        dropped = hbs.hb_subset_input_set(request, _HB_SET_DROP_TABLE_TAG)
        for tag in _DROPPED_TABLES:
            hb.hb_set_add(dropped, hb.hb_tag_from_string(tag.encode("ascii"), -1))
        names = hbs.hb_subset_input_set(request, _HB_SET_NAME_ID)
        for name_id in _NAME_IDS:
            hb.hb_set_add(names, name_id)
        hbs.hb_subset_input_set_flags(request, _HB_FLAG_NO_HINTING)
        subset = hbs.hb_subset_or_fail(face, request)
    finally:
        hbs.hb_subset_input_destroy(request)
    if subset == ffi.NULL:
        return None
    blob = hb.hb_face_reference_blob(subset)
    try:
        length = ffi.new("unsigned int *")
        data = hb.hb_blob_get_data(blob, length)
        return bytes(ffi.buffer(data, length[0])) if length[0] else None
    finally:
        hb.hb_blob_destroy(blob)
        hb.hb_face_destroy(subset)


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
