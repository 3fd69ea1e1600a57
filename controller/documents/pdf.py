"""PDF rendering of the centre's documents with ReportLab and the CJK font the project installs.

Why ReportLab: it is pure Python on PyPI (one wheel, no Cairo/Pango system libraries as WeasyPrint needs), embeds a
subset of a TrueType/TrueType-collection font so Chinese prints and extracts back as text, and with ``invariant``
the same content gives the same bytes, so a document's sha256 in the audit trail is meaningful. Templates
(``templates.py``) describe a page as a list of blocks below; this module is the only place that knows ReportLab.

The font is WenQuanYi Micro Hei (``fonts-wqy-microhei``, installed by ``scripts/system-deps.sh``); Noto Sans CJK is
taken where that is what the machine has. No font is downloaded at run time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "HccCJK"
FONT_CANDIDATES = (
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), 2),  # index 2: the SC (simplified) face
)


class FontMissing(RuntimeError):
    """No CJK font on this machine: run scripts/system-deps.sh (installs fonts-wqy-microhei)."""


_registered = False


def register_font() -> str:
    global _registered
    if _registered:
        return FONT
    for path, index in FONT_CANDIDATES:
        if path.is_file():
            pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=index))
            _registered = True
            return FONT
    raise FontMissing("no CJK font found; install fonts-wqy-microhei (scripts/system-deps.sh)")


# ---------------------------------------------------------------- blocks a template is made of
@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Text:
    text: str
    small: bool = False


@dataclass(frozen=True)
class Fields:
    """Label/value pairs laid out in ``columns`` pairs per row (a form)."""

    pairs: list[tuple[str, str]]
    columns: int = 2


@dataclass(frozen=True)
class Grid:
    header: list[str]
    rows: list[list[str]]
    widths: list[float] | None = None  # relative; the table fills the page width
    empty: str = "（无）"


@dataclass(frozen=True)
class Signatures:
    """Signature boxes: (label, PNG path or None, caption). None leaves the box blank for a pen; a path that does
    not exist (no signature drawn on the kiosk) prints so."""

    boxes: list[tuple[str, Path | None, str]]


@dataclass(frozen=True)
class Chart:
    """A simple horizontal bar chart drawn as a table of bars (no image library needed)."""

    title: str
    bars: list[tuple[str, float, str]]  # label, value, printed value


Block = Heading | Text | Fields | Grid | Signatures | Chart


@dataclass
class Document:
    title: str
    blocks: list[Block]
    document_id: str
    generated_at: str  # local time, already formatted
    site_name: str
    subtitle: str = ""
    footer_note: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- rendering
PAGE_W, PAGE_H = A4
MARGIN = 16 * mm
WIDTH = PAGE_W - 2 * MARGIN


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#444444")),
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, alignment=1, spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10, alignment=1,
                                   textColor=colors.HexColor("#444444"), spaceAfter=6),
        "h": ParagraphStyle("h", parent=base, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=12),
        "label": ParagraphStyle("label", parent=base, fontSize=9, leading=12, textColor=colors.HexColor("#333333")),
    }


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


GRID = [("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#777777")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]


def _flow(block: Block, st: dict[str, ParagraphStyle]) -> list[Any]:
    if isinstance(block, Heading):
        return [Paragraph(_esc(block.text), st["h"])]
    if isinstance(block, Text):
        return [Paragraph(_esc(block.text).replace("\n", "<br/>"), st["small" if block.small else "base"])]
    if isinstance(block, Fields):
        cols = block.columns
        cells: list[list[Any]] = []
        for i in range(0, len(block.pairs), cols):
            row: list[Any] = []
            for label, value in block.pairs[i:i + cols]:
                row += [Paragraph(_esc(label), st["label"]), Paragraph(_esc(value or "—"), st["cell"])]
            row += [""] * (2 * cols - len(row))
            cells.append(row)
        lw = 26 * mm
        vw = (WIDTH - cols * lw) / cols
        t = Table(cells, colWidths=[lw, vw] * cols)
        t.setStyle(TableStyle([*GRID, *[("BACKGROUND", (2 * c, 0), (2 * c, -1), colors.HexColor("#eeeeee"))
                                        for c in range(cols)]]))
        return [t]
    if isinstance(block, Grid):
        rows = block.rows or [[block.empty] + [""] * (len(block.header) - 1)]
        data = [[Paragraph(_esc(h), st["label"]) for h in block.header]]
        data += [[Paragraph(_esc(str(c)), st["cell"]) for c in r] for r in rows]
        rel = block.widths or [1.0] * len(block.header)
        t = Table(data, colWidths=[WIDTH * w / sum(rel) for w in rel], repeatRows=1)
        t.setStyle(TableStyle([*GRID, ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4e4e4"))]))
        return [t]
    if isinstance(block, Signatures):
        cells = []
        for label, png, caption in block.boxes:
            img: Any = ""  # a blank box: signed by pen on the printed page
            if png is not None and not png.is_file():
                img = Paragraph("（未在终端签名）", st["small"])
            elif png is not None:
                img = Image(str(png), width=55 * mm, height=14 * mm, kind="proportional")
            cells.append([Paragraph(_esc(label), st["label"]), img, Paragraph(_esc(caption), st["small"])])
        t = Table(cells, colWidths=[40 * mm, 70 * mm, WIDTH - 110 * mm], rowHeights=[18 * mm] * len(cells))
        t.setStyle(TableStyle(GRID))
        return [KeepTogether([t])]
    if isinstance(block, Chart):
        top = max((v for _l, v, _p in block.bars), default=0.0) or 1.0
        bar_w = WIDTH - 70 * mm
        rows = []
        for bar_label, amount, printed in block.bars:
            inner = Table([[""]], colWidths=[max(0.5, bar_w * amount / top)], rowHeights=[4 * mm])
            inner.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#3b6ea8"))]))
            rows.append([Paragraph(_esc(bar_label), st["cell"]), inner, Paragraph(_esc(printed), st["cell"])])
        if not rows:
            rows = [[Paragraph("（无）", st["cell"]), "", ""]]
        t = Table(rows, colWidths=[45 * mm, bar_w, 25 * mm])
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (1, 0), (1, -1), "LEFT")]))
        return [Paragraph(_esc(block.title), st["label"]), t]
    raise TypeError(f"unknown block {block!r}")


def render(doc: Document) -> bytes:
    """The PDF bytes of ``doc``. Deterministic: the same document gives the same bytes (and so the same hash)."""
    font = register_font()
    st = _styles(font)
    buf = io.BytesIO()

    def page_footer(canvas: Any, pdf: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#444444"))
        canvas.drawString(MARGIN, 9 * mm, f"{doc.site_name} · {doc.title} · 文书编号 {doc.document_id}")
        canvas.drawRightString(PAGE_W - MARGIN, 9 * mm, f"生成时间 {doc.generated_at} · 第 {pdf.page} 页")
        canvas.restoreState()

    pdf = SimpleDocTemplate(buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=16 * mm, title=doc.title, author=doc.site_name,
                            subject=doc.document_id, creator="hcc-controller", invariant=1)
    story: list[Any] = [Paragraph(_esc(doc.title), st["title"])]
    if doc.subtitle:
        story.append(Paragraph(_esc(doc.subtitle), st["subtitle"]))
    for block in doc.blocks:
        story.extend(_flow(block, st))
        story.append(Spacer(1, 3 * mm))
    if doc.footer_note:
        story.append(Paragraph(_esc(doc.footer_note), st["small"]))
    pdf.build(story, onFirstPage=page_footer, onLaterPages=page_footer)
    return buf.getvalue()
