"""The report as data: headings, paragraphs, tables and figure slots grouped in parts (`ReportDoc`), the
Chinese text helpers they are written with, and their round trip through JSON (the notebook's outputs).

Composed by `perfeval.report.compose`; rendered by `report.html`, `report.pdf` and `report.docx`, which need
only this module. Nothing here computes a figure."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

_CN_DIGITS = "零一二三四五六七八九"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals (一, 十, 十一, 二十三)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")
    return head + (_CN_DIGITS[ones] if ones else "")


def cn_count(n: int) -> str:
    """A count before a measure word: 2 -> '两' (两方面), otherwise `cn_number`."""
    return "两" if n == 2 else cn_number(n)


def circled(n: int) -> str:
    return _CIRCLED[n - 1] if 0 < n <= len(_CIRCLED) else f"({n})"


def join_cn(items: list[str]) -> str:
    """['a', 'b', 'c'] -> 'a、b和c'."""
    if len(items) <= 1:
        return "".join(items)
    return "、".join(items[:-1]) + "和" + items[-1]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: object) -> str:
    """Sheet text as a plain string: None/NaN -> '', control characters (illegal in XML) removed,
    Windows line ends normalised. Nothing is interpreted."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return _CONTROL.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n")).strip()


# ---------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Heading:
    level: int  # 1 = 一、 2 = （一） 3 = 1.
    text: str
    kind: str = "heading"


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: str = "body"  # body | lead | note | missing | draft | draft-mark
    kind: str = "paragraph"


@dataclass(frozen=True)
class Table:
    """A table of display strings. The first `merge` columns merge runs of equal values
    (the 一级/二级 columns of a scoring table); rows listed in `strong` are subtotal/total rows."""

    key: str
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()
    merge: int = 0
    strong: tuple[int, ...] = ()
    style: str = "grid"  # grid | kv
    widths: tuple[float, ...] = ()  # relative column widths (renderers normalise them)
    kind: str = "table"

    def fractions(self) -> tuple[float, ...]:
        """Column widths as fractions of the table width (empty: let the renderer decide)."""
        if len(self.widths) != len(self.columns) or sum(self.widths) <= 0:
            return ()
        total = sum(self.widths)
        return tuple(w / total for w in self.widths)

    def colspans(self) -> list[list[int]]:
        """Column spans: in strong (subtotal) rows the leading label cell also covers the empty
        cells right after it (e.g. 决策小计 across 一级/二级/三级); 0 marks a covered cell."""
        out = [[1] * len(row) for row in self.rows]
        for i in self.strong:
            row = self.rows[i]
            j = 1
            while j < len(row) and row[j] == "" and not (self.numeric and self.numeric[j]):
                out[i][0] += 1
                out[i][j] = 0
                j += 1
        return out

    def spans(self) -> list[list[int]]:
        """Row spans per cell: n > 0 starts a merged run of n rows, 0 is covered by the cell above.

        A run continues while the value (and every merged column to its left) repeats; strong
        (subtotal) rows and empty cells never merge."""
        out = [[1] * len(row) for row in self.rows]
        for col in range(min(self.merge, len(self.columns))):
            start = 0
            for i in range(1, len(self.rows) + 1):
                same = (
                    i < len(self.rows)
                    and i not in self.strong and start not in self.strong
                    and self.rows[i][col] != ""
                    and self.rows[i][: col + 1] == self.rows[start][: col + 1]
                    and all(out[i][c] == 0 for c in range(col))
                )
                if same:
                    out[i][col] = 0
                    continue
                out[start][col] = i - start
                start = i
        return out


@dataclass(frozen=True)
class Figure:
    chart: str  # key in perfeval.charts.CHARTS
    caption: str
    kind: str = "figure"


Block = Heading | Paragraph | Table | Figure
_KINDS = {"heading": Heading, "paragraph": Paragraph, "table": Table, "figure": Figure}


@dataclass(frozen=True)
class Part:
    """One top-level part of the report (一 … 八, 附表, 附录)."""

    key: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Provenance:
    source: str
    sha256: str
    version: str
    scheme_id: str
    scheme_name: str
    generated_at: str
    options: str = ""

    def lines(self) -> list[tuple[str, str]]:
        rows = [("输入文件", self.source), ("输入文件 SHA-256", self.sha256),
                ("perfeval 版本", self.version),
                ("评价方案", f"{self.scheme_id}（{self.scheme_name}）"),
                ("生成时间", self.generated_at)]
        if self.options:
            rows.append(("评分选项", self.options))
        return rows

    def text(self) -> str:
        return "；".join(f"{k}：{v}" for k, v in self.lines())


@dataclass(frozen=True)
class ReportDoc:
    title: str
    facts: tuple[tuple[str, str], ...]
    parts: tuple[Part, ...]
    provenance: Provenance

    def part(self, key: str) -> Part:
        for part in self.parts:
            if part.key == key:
                return part
        raise KeyError(key)

    def blocks(self) -> list[Block]:
        return [b for p in self.parts for b in p.blocks]

    def tables(self) -> dict[str, Table]:
        return {b.key: b for b in self.blocks() if isinstance(b, Table)}

    def text(self) -> str:
        """All the words of the report (for font subsetting and searching)."""
        words = [self.title, *(f"{k}{v}" for k, v in self.facts), self.provenance.text(),
                 "".join(PART_KEYS), RENDERER_WORDS]
        for block in self.blocks():
            if isinstance(block, Table):
                words += [block.caption, *block.columns, *("".join(r) for r in block.rows)]
            else:
                words.append(getattr(block, "text", "") or getattr(block, "caption", ""))
        return "\n".join(words)

    def to_dict(self) -> dict:
        return asdict(self)


def block_from_dict(data: dict) -> Block:
    cls = _KINDS[data["kind"]]
    if cls is Table:
        data = {**data, "columns": tuple(data["columns"]), "numeric": tuple(data["numeric"]),
                "rows": tuple(tuple(r) for r in data["rows"]), "strong": tuple(data["strong"]),
                "widths": tuple(data.get("widths", ()))}
    return cls(**data)


def part_from_dict(data: dict) -> Part:
    return Part(data["key"], tuple(block_from_dict(b) for b in data["blocks"]))


def doc_from_dict(data: dict) -> ReportDoc:
    return ReportDoc(data["title"], tuple(tuple(f) for f in data["facts"]),
                     tuple(part_from_dict(p) for p in data["parts"]),
                     Provenance(**data["provenance"]))


#: fixed words the renderers add around the blocks (headings, notes)
RENDERER_WORDS = "生成信息（图表未生成）输入 SHA-256 … · 第 页 / 共 页"
OUTLINE = ("一", "二", "三", "四", "五", "六", "七", "八")
PART_KEYS = ("封面", *OUTLINE, "附表", "附录")
#: the mark above every section perfeval composed from the data (never mixed with the evaluator's text)
DRAFT_MARK = "草稿（由指标数据生成，请复核）"
#: the mark of a section that needs facts the data cannot give
MISSING_MARK = "〔待补充〕"
