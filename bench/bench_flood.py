"""Flood benchmark (issue 16): ``/healthz`` latency while one panic button's account floods 5,000 presses, against
the same requests on the quiet centre in the same run. The centre is the integration bench: real Mosquitto with the
generated accounts and ACL, every simulated MQTT device signed in with its own credentials, the real controller.

Figures: healthz median during the flood over quiet (recorded, no target yet), and the worst flood latency against
1 s (the issue's bound, the target). The run also checks that the flood ends as one
panic alarm counting 5,000 presses.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt

from bench.report import figure, write

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from controller import ops  # noqa: E402
from controller.app import create_app  # noqa: E402
from controller.clock import FakeClock  # noqa: E402
from controller.container import build  # noqa: E402
from controller.settings import Settings, load_site, parse_site  # noqa: E402
from controller.store.migrate import upgrade  # noqa: E402
from hw_sim.broker import start_broker  # noqa: E402
from hw_sim.site import SimSite  # noqa: E402
from tests.conftest import DEMO_SITE, Api, seed_staff  # noqa: E402
from tests.integration.conftest import bench_site, free_port  # noqa: E402

FLOOD = 5000
SAMPLES = 40


async def healthz_times(client: httpx.AsyncClient, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = await client.get("/healthz")
        out.append(time.perf_counter() - t0)
        assert r.status_code == 200
    return out


async def run(tmp: Path) -> list[dict[str, object]]:
    clock = FakeClock(datetime(2026, 11, 22, 1, 0, tzinfo=UTC))
    settings = Settings(site_file=DEMO_SITE, data_dir=tmp / "data", fake_clock=True)
    upgrade(settings.db_url())
    seed = build(settings, load_site(DEMO_SITE), clock)
    seed_staff(seed)
    seed.db.close()
    port = free_port()
    raw = bench_site(tmp / "sim", port)
    (tmp / "sim").mkdir()
    creds = tmp / "mqtt"
    ops.issue_credentials(parse_site(raw), creds)
    raw["mqtt"] |= {"username": "controller", "password_file": str(creds / "controller.password"),
                    "device_keys_dir": str(creds / "keys")}
    broker = await start_broker(port, auth_dir=creds)
    sims = SimSite(raw, tmp / "sim", credentials=creds / "credentials.json")
    sims.build()
    await sims.start()
    container = build(settings, parse_site(raw), clock, with_devices=True)
    bus = container.devices
    assert bus is not None
    await bus.start()
    app = create_app(container, start_background=False)
    password = json.loads((creds / "credentials.json").read_text())["clients"]["panic-wait-3"]["password"]
    button = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-flood")
    button.username_pw_set("panic-wait-3", password)
    button.connect("127.0.0.1", port)
    button.loop_start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as client:
            await asyncio.sleep(2)  # let the adapters subscribe (a benchmark, not a test)
            quiet = await healthz_times(client, SAMPLES)
            for i in range(FLOOD):
                button.publish("hcc/demo-centre/panic_button/panic-wait-3/event/pressed",
                               json.dumps({"v": 1, "event_id": f"flood-{i}", "ts": 1.0}), qos=1)
            flood = await healthz_times(client, SAMPLES)
            api = Api(client)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                _, rows = await api.get("/api/v1/alarms?state=open")
                panic = [a for a in rows if a["kind"] == "panic"]
                if panic and panic[0]["occurrences"] == FLOOD:
                    break
                await asyncio.sleep(0.2)
            assert len(panic) == 1 and panic[0]["occurrences"] == FLOOD, panic
            print(f"flood folded into {bus.alarm_gate.writes} alarm writes", flush=True)
    finally:
        button.loop_stop()
        button.disconnect()
        await bus.stop()
        container.db.close()
        await sims.stop()
        await broker.stop()
    qmed, fmed = statistics.median(quiet), statistics.median(flood)
    # the median during the flood is recorded beside the quiet one (no target yet: the loop still decodes every
    # message); the issue's bound is the worst answer within 1 s
    return [figure("healthz median, 5,000-press flood vs quiet", "latency", "s", fmed, qmed, target=None,
                   runs=SAMPLES),
            figure("healthz worst during the flood vs 1 s", "latency", "s", max(flood), 1.0, target=1.0,
                   runs=SAMPLES)]


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="hcc-bench-flood-"))
    try:
        figures = asyncio.run(run(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write("flood", figures)
    return 0 if all(f["ok"] for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
