"""Small endpoints the touchscreen UI needs beyond the core API: storing the exit signature drawn on screen.

The signature is a PNG kept content-addressed under ``<data_dir>/signatures/``; its id (a prefix of the sha256)
is what ``POST /stays/{id}/exit/complete`` records as ``signature_id``, so the audited exit names the exact image.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import os
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from ...domain.actor import Actor
from ...domain.errors import invalid
from ...services.commands import Id
from ...services.common import load_stay
from ..deps import ContainerDep, allow
from ..scope import ensure_stay

router = APIRouter(prefix="/api/v1/ui", tags=["ui"])
INTAKE = ("custody_staff", "case_officer", "supervisor")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class SignatureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    png: str = Field(min_length=30, max_length=600_000, pattern=r"^data:image/png;base64,")
    stay_id: Id


def _write_once(path: Path, raw: bytes) -> None:
    if path.exists():
        return  # same bytes, same name: content-addressed
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(raw)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@router.post("/signatures", status_code=201, summary="Store a signature drawn on the kiosk (PNG data URL)")
async def store_signature(body: SignatureIn, c: ContainerDep,
                          actor: Annotated[Actor, allow(*INTAKE)]) -> dict[str, Any]:
    await c.db.read(lambda s: load_stay(s, body.stay_id))
    await ensure_stay(c, actor, body.stay_id)
    try:
        raw = base64.b64decode(body.png.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        raise invalid("SIGNATURE_INVALID", "签名图像无效", "the signature image is not valid base64") from None
    if not raw.startswith(PNG_MAGIC):
        raise invalid("SIGNATURE_INVALID", "签名图像无效", "the signature is not a PNG image")
    digest = hashlib.sha256(raw).hexdigest()
    sig_id = f"sig-{digest[:32]}"
    await asyncio.to_thread(_write_once, c.settings.data_dir / "signatures" / f"{sig_id}.png", raw)
    return {"signature_id": sig_id, "sha256": digest, "bytes": len(raw)}
