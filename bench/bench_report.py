"""Report benchmark: 运行状况分析研判 over one year of a busy centre (100 stays a day, seeded: 36,500 stays with
their interviews, alarms and welfare checks) against a bare SQL count of the same stays, in the same process on
the same database file. Also the daily report of one day (analysis + CSV + PDF) against the same bare count.

Figures: median time of each over RUNS runs and the ratio to the count. No fixed target for the year (it is a
report generated once a day, off the event loop); the figure shows how far from a single count it is.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.centre_seed import seed_centre  # noqa: E402
from bench.report import figure, write  # noqa: E402
from controller.clock import FakeClock  # noqa: E402
from controller.documents.report import render_report  # noqa: E402
from controller.services import analysis, reports  # noqa: E402
from controller.services.context import SiteContext  # noqa: E402
from controller.settings import Settings, load_site  # noqa: E402
from controller.store.db import Database  # noqa: E402
from controller.store.migrate import upgrade  # noqa: E402

RUNS = 5
DAYS, PER_DAY = 365, 100


def timed(fn: object, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(site_file=ROOT / "site" / "demo-site.toml", data_dir=Path(tmp), fake_clock=True)
        upgrade(settings.db_url())
        site = load_site(settings.site_file)
        ctx = SiteContext.from_config(site)
        first = datetime(2025, 1, 1, tzinfo=UTC)
        end = datetime(2026, 1, 1, tzinfo=UTC)
        db = Database(settings.db_url(), FakeClock(end))
        t0 = time.perf_counter()
        counts = seed_centre(db.engine, first, DAYS, PER_DAY)
        print(f"seeded {counts} in {time.perf_counter() - t0:.1f} s", flush=True)

        def bare() -> int:
            return int(db.read_sync(lambda s: s.connection().execute(text(
                "SELECT count(*) FROM stay WHERE entered_at >= :a AND entered_at < :b"),
                {"a": first.strftime("%Y-%m-%d %H:%M:%S"), "b": end.strftime("%Y-%m-%d %H:%M:%S")}).scalar()))

        assert bare() == DAYS * PER_DAY, bare()
        year = db.read_sync(lambda s: analysis.analyse(s, ctx, first, end, end))
        assert year["entries"]["count"] == DAYS * PER_DAY, year["entries"]
        base = timed(bare)
        year_t = timed(lambda: db.read_sync(lambda s: analysis.analyse(s, ctx, first, end, end)))

        day = date(2025, 7, 1)
        start_d, end_d = reports.day_bounds(ctx, day)

        def daily() -> None:
            st = db.read_sync(lambda s: analysis.analyse(s, ctx, start_d, end_d, end))
            reports.to_csv(st)
            render_report(st, title="运行状况日报", tz=site.site.timezone, now=end, document_id="bench")

        daily_t = timed(daily)
        write("report", [
            figure("year_analysis_vs_count", f"analysis of {DAYS * PER_DAY} stays (1 year)", "s", year_t, base,
                   target=None, runs=RUNS),
            figure("daily_report_vs_count", "one day's report: analysis + CSV + PDF, in a year's data", "s", daily_t,
                   base, target=None, runs=RUNS),
        ])
        db.close()


if __name__ == "__main__":
    main()
