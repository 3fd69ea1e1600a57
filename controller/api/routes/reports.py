"""运行状况分析研判: the analysis of a period as JSON, the kept daily reports as JSON, CSV and PDF, and the case
count a site supplies for 入区率. Reports hold no identity numbers (names and case numbers only)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ...documents.report import render_report
from ...domain.errors import invalid
from ...services import analysis, reports
from ...store.db import Actor
from ..deps import ContainerDep, allow

router = APIRouter(prefix="/api/v1", tags=["reports"])
READERS = ("custody_staff", "supervisor", "admin")  # the centre's managers and its leadership
READ = Annotated[Actor, allow(*READERS)]


class CaseCountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_count: int = Field(ge=0, le=100_000)


@router.get("/analysis", summary="运行状况分析研判 for a period (at most 400 days)")
async def analyse(c: ContainerDep, actor: READ, start: Annotated[datetime, Query(alias="from")],
                  end: Annotated[datetime, Query(alias="to")],
                  case_count: Annotated[int | None, Query(ge=0, le=100_000)] = None) -> dict[str, Any]:
    if end <= start or end - start > timedelta(days=400):
        raise invalid("PERIOD_INVALID", "统计期间无效（须早于结束时间且不超过 400 天）",
                      "the period must end after it starts and span at most 400 days")
    return await c.db.read(lambda s: analysis.analyse(s, c.ctx, start, end, c.clock.now(), case_count))


@router.get("/reports/daily", summary="The kept daily reports, newest first")
async def list_daily(c: ContainerDep, actor: READ) -> list[dict[str, Any]]:
    return await c.db.read(reports.list_reports)


@router.get("/reports/daily/{day}.json", summary="One daily report as it was generated")
async def daily_json(day: date, c: ContainerDep, actor: READ) -> dict[str, Any]:
    report = await c.db.read(lambda s: reports.get_report(s, day))
    return dict(report.stats or {})


@router.get("/reports/daily/{day}.csv", summary="One daily report as CSV (metric,value)", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
async def daily_csv(day: date, c: ContainerDep, actor: READ) -> Response:
    report = await c.db.read(lambda s: reports.get_report(s, day))
    body = "\ufeff" + reports.to_csv(dict(report.stats or {}))  # BOM: spreadsheets then read the Chinese right
    return Response(body.encode(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="daily-report-{day}.csv"'})


@router.get("/reports/daily/{day}.pdf", summary="One daily report as PDF", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
async def daily_pdf(day: date, c: ContainerDep, actor: READ) -> Response:
    report = await c.db.read(lambda s: reports.get_report(s, day))
    doc_id = f"doc-{uuid.uuid4().hex[:16]}"
    pdf, sha = await asyncio.to_thread(render_report, dict(report.stats or {}), title=f"运行状况日报（{day}）",
                                       tz=c.site.site.timezone, now=c.clock.now(), document_id=doc_id)
    await c.db.write(actor, lambda uow: uow.record(
        "document_generated", entity="document", entity_id=doc_id, live=False,
        after={"kind": "daily_report", "title": "运行状况日报", "day": day.isoformat(), "document_id": doc_id,
               "sha256": sha, "bytes": len(pdf)}))
    return Response(pdf, media_type="application/pdf", headers={
        "X-Document-Sha256": sha, "X-Document-Id": doc_id, "Content-Disposition": f'inline; filename="daily-report-{day}.pdf"'})


@router.put("/reports/case-counts/{day}", summary="The number of cases the site handled that day (for 入区率)")
async def put_case_count(day: date, body: CaseCountIn, c: ContainerDep,
                         actor: Annotated[Actor, allow("supervisor", "admin")]) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: reports.set_case_count(uow, day, body.case_count))
