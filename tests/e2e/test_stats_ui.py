"""The 统计 view of the duty dashboard in a real browser, over a seeded week: the figures match GET /analysis for
the same period, the three charts are drawn by the locally served Chart.js, and nothing loads from elsewhere."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine

from bench.centre_seed import seed_centre

pytestmark = pytest.mark.slow
TZ = ZoneInfo("Asia/Shanghai")


def test_stats_view_charts_a_seeded_week(screens: Any, controller: Any) -> None:
    now = datetime.fromisoformat(controller.call("GET", "/dev/clock", "300001")["now"]).astimezone(TZ)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    engine = create_engine(f"sqlite:///{controller.proc.data_dir / 'controller.db'}", connect_args={"timeout": 30})
    seeded = seed_centre(engine, today - timedelta(days=6), days=6, per_day=20, seed=11)  # the six days before today
    engine.dispose()
    assert seeded["stays"] == 120

    s = screens(width=1400, height=1000)
    page = s.open("dashboard.html")
    s.sign_in("300001")  # 张伟, supervisor
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.locator("[data-action=stats-open]").click()
    view = page.locator("#stats")
    expect(view).to_have_attribute("data-ready", "1")
    # the same period as the view shows (its form), so the figures compare like with like
    shown_from = view.locator("[name=from]").input_value()
    shown_to = view.locator("[name=to]").input_value()
    start = datetime.fromisoformat(shown_from).replace(tzinfo=TZ)
    end = datetime.fromisoformat(shown_to).replace(tzinfo=TZ) + timedelta(days=1)
    assert start <= today - timedelta(days=6) + timedelta(days=1)  # the view's week covers the seeded days
    st = controller.call("GET", f"/analysis?from={start.isoformat().replace('+', '%2B')}"
                                f"&to={end.isoformat().replace('+', '%2B')}", "300001")
    assert st["entries"]["count"] >= 120
    expect(view.locator("[data-stat=entries] .stat-value")).to_have_text(str(st["entries"]["count"]))
    expect(view.locator("[data-stat=overdue] .stat-value")).to_have_text(str(st["overdue"]["count"]))
    seeded_days = {(today - timedelta(days=n)).date().isoformat() for n in range(1, 7)}
    shown = {d["day"]: d["entries"] for d in st["entries"]["by_day"] if d["day"] in seeded_days}
    assert len(shown) >= 5 and all(n >= 20 for n in shown.values()), shown  # 20 seeded on each of those days
    for chart in ("chart-by-day", "chart-by-measure", "chart-alarms"):
        drawn = page.evaluate(f"() => !!window.Chart && !!window.Chart.getChart(document.getElementById('{chart}'))")
        assert drawn, chart
    assert any(u.endswith("/ui/vendor/chartjs/chart.umd.min.js") for u in requests)
    assert all(u.startswith(controller.url) or u.startswith(("blob:", "data:")) for u in requests), requests
    s.shot("dashboard-stats")
    page.locator("[data-action=stats-close]").click()
    expect(page.locator("#floor")).to_be_visible()
