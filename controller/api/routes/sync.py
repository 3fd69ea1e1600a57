"""Central platform sync endpoints: the pull feed, the occupancy snapshot, the published schema, sync status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ...domain.actor import Actor
from ...services.commands import MAX_SEQ
from ...sync import feed, schema
from ..deps import ContainerDep, allow
from ..visibility import mask, reads_identity

router = APIRouter(prefix="/api/v1/sync", tags=["sync"])


def _entitled(c: Any) -> bool:
    return bool(c.site.sync.include_identity_numbers)


def _as_seen_by(actor: Actor, entitled: bool, body: dict[str, Any]) -> dict[str, Any]:
    """The platform's entitlement is the platform's: an admin reading the same feed (the sync panel, a check of
    what goes out) sees the numbers masked, as everywhere else (``visibility.py``)."""
    if entitled and actor.role != "platform" and not reads_identity(actor.roles):
        return mask(body)  # type: ignore[no-any-return]
    return body


@router.get("/changes")
async def changes(c: ContainerDep, actor: Annotated[Actor, allow("platform", "admin")],
                  after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
                  limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> dict[str, Any]:
    """The change feed for platforms that pull: ``{changes: [...], next_after}``; page with ``after=next_after``
    until ``changes`` is empty. Same change objects as the push batches."""
    entitled = _entitled(c)
    return _as_seen_by(actor, entitled, await c.db.read(lambda s: feed.changes_page(s, after, limit, entitled)))


@router.get("/occupancy")
async def occupancy(c: ContainerDep,
                    actor: Annotated[Actor, allow("platform", "admin", "supervisor")]) -> dict[str, Any]:
    """Who is inside now, in which room, since when, and their deadline."""
    entitled, now = _entitled(c), c.clock.now()
    return _as_seen_by(actor, entitled, await c.db.read(lambda s: feed.occupancy(s, c.site, now, entitled)))


@router.get("/schema")
async def sync_schema(actor: Annotated[Actor, allow("platform", "admin")]) -> dict[str, Any]:
    """JSON Schema of the push batch, the acknowledgement, each change type and the occupancy snapshot."""
    return schema.document()


@router.get("/status")
async def status(c: ContainerDep, actor: Annotated[Actor, allow("admin", "supervisor")]) -> dict[str, Any]:
    """Lag (rows and seconds), last success, last error, and whether this process is the one pushing."""
    pusher = c.sync_pusher
    if pusher is not None:
        return dict(await pusher.status())
    now = c.clock.now()
    lag = await c.db.read(lambda s: feed.lag(s, now))
    return {"configured": False, "platform_url": None, "role": "stopped", **lag}
