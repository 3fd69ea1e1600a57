"""Search (查询): stays by name, identity number (exact), case number, dates, officer, measure; past stays of a
person at this centre. POST with a JSON body so an identity number never appears in a URL or an access log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from ...services import search
from ...store.db import Actor
from ..deps import STAFF, ContainerDep, allow

router = APIRouter(prefix="/api/v1/search", tags=["search"])
INTAKE = ("custody_staff", "case_officer", "supervisor")


@router.post("/stays", summary="Find stays (identity number: exact match only)")
async def find_stays(body: search.StaySearch, c: ContainerDep,
                     actor: Annotated[Actor, allow(*STAFF)]) -> list[dict[str, Any]]:
    return await c.db.read(lambda s: search.search_stays(s, body, actor.roles))


@router.post("/past-stays", summary="A person's earlier stays at this centre (repeat visits: a risk signal)")
async def find_past_stays(body: search.PastStaysQuery, c: ContainerDep,
                          actor: Annotated[Actor, allow(*INTAKE)]) -> dict[str, Any]:
    return await c.db.read(lambda s: search.past_stays(s, body, actor.roles))
