"""Printed documents of a stay as PDF: ``GET /api/v1/stays/{id}/documents/{kind}.pdf`` (role-gated).

The PDF is rendered off the event loop, then its sha256 and document id are written to the audit trail in one
transaction before the bytes are returned, so no page leaves the controller unrecorded.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter
from fastapi.responses import Response

from ...documents import render_stay_document
from ...domain.actor import Actor
from ...services import documents
from ..deps import ContainerDep, allow

router = APIRouter(prefix="/api/v1", tags=["documents"])
DOC_ROLES = ("custody_staff", "case_officer", "supervisor", "admin")
Kind = Literal["registration", "security_check", "property_list", "exit_handover", "custody_record"]


@router.get("/stays/{stay_id}/documents/{kind}.pdf", summary="A printed document of the stay (PDF), hash audited",
            response_class=Response,
            responses={200: {"content": {"application/pdf": {}},
                             "description": "the PDF; X-Document-Sha256 and X-Document-Id name its audit entry"}})
async def stay_document(stay_id: str, kind: Kind, c: ContainerDep,
                        actor: Annotated[Actor, allow(*DOC_ROLES)]) -> Response:
    spec = documents.document_kind(kind)
    data = await c.db.read(lambda s: documents.document_data(s, kind, stay_id, actor.roles))
    masked = not documents.may_see_identity(actor.roles)
    site = c.site
    rendered = await asyncio.to_thread(
        render_stay_document, kind, spec.title, data, document_id=f"doc-{uuid.uuid4().hex[:16]}",
        now=c.clock.now(), tz=site.site.timezone, site_name=site.site.name,
        rooms={r.id: r.name for r in site.rooms}, signatures_dir=c.settings.data_dir / "signatures")
    await c.db.write(actor, lambda uow: documents.record_generated(
        uow, kind, stay_id, rendered.document_id, rendered.sha256, len(rendered.pdf), masked))
    filename = f"{kind}-{stay_id}.pdf"
    return Response(rendered.pdf, media_type="application/pdf", headers={
        "X-Document-Sha256": rendered.sha256, "X-Document-Id": rendered.document_id,
        "Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"})
