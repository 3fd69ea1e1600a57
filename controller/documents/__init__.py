"""Printed documents: ``templates`` lays out a kind's data as blocks, ``pdf`` renders blocks with ReportLab."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .pdf import Document, render
from .templates import TEMPLATES, Ctx


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    sha256: str
    document_id: str


def render_stay_document(kind: str, title: str, data: dict[str, Any], *, document_id: str, now: datetime,
                         tz: str, site_name: str, rooms: dict[str, str], signatures_dir: Path) -> Rendered:
    """The PDF of one stay document (blocking: run it off the event loop)."""
    zone = ZoneInfo(tz)
    ctx = Ctx(tz=zone, rooms=rooms, signatures_dir=signatures_dir)
    subtitle = f"{site_name} · 案件编号 {data.get('case_no', '—')} · 记录号 {data.get('stay_id', '—')}"
    doc = Document(title=title, blocks=TEMPLATES[kind](data, ctx), document_id=document_id,
                   generated_at=now.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"), site_name=site_name,
                   subtitle=subtitle)
    pdf = render(doc)
    return Rendered(pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(), document_id=document_id)
