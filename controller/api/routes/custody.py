"""Case property (涉案财物) and case files (卷宗): register, hand over (the locker opens after), list, trail;
and photo upload for items the collection camera did not take."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from ...domain.actor import Actor
from ...domain.errors import RuleViolation, invalid
from ...services import case_property as svc
from ...services import lockers
from ...services.captures import write_image
from ...store.tables import Capture, Staff
from ..deps import ContainerDep, allow, step_up
from ..visibility import for_roles

router = APIRouter(prefix="/api/v1", tags=["case property"])
HANDLERS = ("custody_staff", "case_officer", "supervisor")
Handler = Annotated[Actor, allow(*HANDLERS)]
# an admin may read the lists and trails (he runs the system), with the owner's identity number masked
Reader = Annotated[Actor, allow(*HANDLERS, "admin")]
MAX_PHOTO = 5 * 1024 * 1024


async def _prove(request: Request, c: ContainerDep, actor: Actor, body: svc.HandoverIn) -> dict[str, str]:
    """Who proved himself for this handover, and how. The signed-in user by his session; the other party only by
    server-checked step-up credentials in ``body.step_up`` (``deps.step_up``), and they must be that party's own.
    Without them the other side stays unproven and the service refuses (HANDOVER_NOT_AUTHENTICATED)."""
    auth = {side: "session" for side, sid in (("giver", body.giver_id), ("receiver", body.receiver_id))
            if sid == actor.id}
    other = next(((side, sid) for side, sid in (("giver", body.giver_id), ("receiver", body.receiver_id))
                  if side not in auth), None)
    if other is None or body.step_up is None:
        return auth
    side, sid = other
    person = await c.db.read(lambda s: s.get(Staff, sid))
    role = svc.step_up_role(list(person.roles) if person is not None else [])
    proven, method = await step_up(request, c, body.step_up, role=role)
    if proven.id != sid:
        raise RuleViolation("STEP_UP_NOT_PARTY", "验证身份的人员不是所填的交接一方",
                            "the person who proved himself is not the named party", party=side)
    auth[side] = method
    return auth


def _card(c: ContainerDep, owner: svc.OwnerIdentity | None) -> dict[str, Any] | None:
    """What the owner's ID card reader last read (kept in memory by the devicebus), when the identity is said to
    come from it; the service compares the two, so a typed identity cannot pass as a card read."""
    if owner is None or owner.source != "id_card" or owner.id_reader_id is None:
        return None
    bus = c.devices
    if bus is None or not any(d.id == owner.id_reader_id and d.kind == "id_reader" for d in c.site.devices):
        return None
    card: dict[str, Any] | None = bus.cards.get(owner.id_reader_id)
    return card


def _routes(kind: str, base: str, zh: str) -> None:
    @router.post(f"/{base}", status_code=201, summary=f"Register {kind} ({zh})", name=f"register_{kind}")
    async def register(body: svc.RegisterItem, c: ContainerDep, actor: Handler) -> dict[str, Any]:
        return await c.db.write(actor, lambda uow: svc.register(uow, c.ctx, kind, body))

    @router.get(f"/{base}", summary=f"List {kind}", name=f"list_{kind}")
    async def list_(c: ContainerDep, actor: Reader, case_no: str | None = None,
                    status: Annotated[str | None, Query(pattern=r"^(registered|in_store|out|closed)$")] = None,
                    ) -> list[dict[str, Any]]:
        return await c.db.read(lambda s: svc.list_items(s, kind, case_no, status))

    @router.get(f"/{base}/{{item_id}}/trail", summary=f"Chain of custody of one {kind}", name=f"trail_{kind}")
    async def trail(item_id: str, c: ContainerDep, actor: Reader) -> dict[str, Any]:
        view = await c.db.read(lambda s: svc.trail(s, kind, item_id))
        return for_roles(actor.roles, view)  # type: ignore[no-any-return]

    @router.post(f"/{base}/{{item_id}}/handovers", status_code=201, summary=f"Hand over one {kind}",
                 name=f"handover_{kind}")
    async def handover(item_id: str, body: svc.HandoverIn, request: Request, c: ContainerDep,
                       actor: Handler) -> dict[str, Any]:
        if actor.id not in (body.giver_id, body.receiver_id):
            raise RuleViolation("HANDOVER_NOT_PARTY", "交接须由移交人或接收人本人在终端登录操作",
                                "the signed-in user must be the giver or the receiver", field="giver_id")
        auth = await _prove(request, c, actor, body)
        card = _card(c, body.owner)
        result = await c.db.write(actor, lambda uow: svc.handover(uow, c.ctx, kind, item_id, body, auth, card))
        # the handover stands; the compartment opens after, under the one locker-opening failure contract
        opened = await lockers.open_after_step(c.db, c.lockers, actor, result.pop("opens_locker_id"), result)
        return for_roles(actor.roles, opened)  # type: ignore[no-any-return]


_routes("case_property", "case-property", "涉案财物")
_routes("case_file", "case-files", "卷宗")


@router.post("/case-property/photos", status_code=201, summary="Upload a photo of an item (JPEG body)")
async def upload_photo(request: Request, c: ContainerDep, actor: Handler) -> dict[str, Any]:
    raw = await request.body()
    if not raw.startswith(b"\xff\xd8\xff") or len(raw) > MAX_PHOTO:
        raise invalid("PHOTO_INVALID", "照片须为不超过5兆字节的图片（拍照格式）", "the photo must be a JPEG of at most 5 MB",
                      size=len(raw))
    sha = hashlib.sha256(raw).hexdigest()
    path = await asyncio.to_thread(write_image, c.settings.data_dir, sha, raw)

    def write(uow: Any) -> dict[str, Any]:
        row = Capture(id=f"photo-{uuid.uuid4().hex[:10]}", stay_id=None, camera_id="upload", sha256=sha,
                      path=str(path.relative_to(c.settings.data_dir)), report={"source": "upload"},
                      taken_at=uow.now, taken_by=uow.actor.id)
        uow.session.add(row)
        uow.record("item_photo_uploaded", entity="capture", entity_id=row.id, after={"sha256": sha, "bytes": len(raw)})
        return {"photo_id": row.id, "sha256": sha}

    return await c.db.write(actor, write)



@router.get("/storage-locations", summary="Where case property and case files are kept (from the site file)")
async def storage_locations(c: ContainerDep, actor: Reader,
                            holds: Annotated[str | None, Query(pattern=r"^(case_property|case_file)$")] = None,
                            ) -> list[dict[str, Any]]:
    """The places a handover into store may name, with their names in both languages (a screen shows a name,
    never the id); ``has_lock``: a compartment the lock board opens for the handover."""
    return [{"id": lo.id, "name": lo.name, "name_en": lo.name_en or lo.name, "kind": lo.kind, "holds": lo.holds,
             "has_lock": lo.locker_id is not None}
            for lo in c.ctx.config.storage_locations if holds is None or lo.holds == holds]
