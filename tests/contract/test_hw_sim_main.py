"""``python -m hw_sim`` as a subprocess on a copy of the demo site (free ports): it starts, its control interface
lists the MQTT devices, a fault switched over HTTP takes effect on the wire, and SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tomllib
from pathlib import Path

import httpx

from devices import mqtt_proto as proto
from devices.transport.mqtt import MqttLink
from hw_sim.broker import find_mosquitto, free_port
from tests.contract.conftest import Collector, needs_mosquitto

ROOT = Path(__file__).resolve().parents[2]
MQTT_KINDS = {"wristband_reader", "door_lock", "panic_button", "alarm_beacon", "recorder"}


@needs_mosquitto
async def test_hw_sim_starts_serves_control_and_stops_on_sigterm(tmp_path: Path) -> None:
    assert find_mosquitto()
    broker_port, camera_port, control_port = free_port(), free_port(), free_port()
    text = (ROOT / "site/demo-site.toml").read_text(encoding="utf-8")
    text = text.replace("127.0.0.1:18830", f"127.0.0.1:{broker_port}").replace("127.0.0.1:18081",
                                                                                f"127.0.0.1:{camera_port}")
    site_file = tmp_path / "site.toml"
    site_file.write_text(text, encoding="utf-8")
    raw = tomllib.loads(text)
    site_id = raw["site"]["id"]
    mqtt_ids = {d["id"] for d in raw["devices"] if d["kind"] in MQTT_KINDS}

    log_file = (tmp_path / "hw_sim.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hw_sim", "--site", str(site_file), "--run-dir", str(tmp_path / "sim"), "--open-bench",
        "--broker", "mosquitto", "--control-port", str(control_port), "--log-level", "WARNING",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=log_file,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        ready = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert ready.startswith(b"hw_sim ready"), ready

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{control_port}", timeout=5) as http:
            listed = (await http.get("/devices")).json()
            assert listed["site"] == site_id
            by_id = {d["id"]: d for d in listed["devices"]}
            assert mqtt_ids <= set(by_id)
            assert all(by_id[i]["connected"] for i in mqtt_ids)

            seen = Collector()
            watcher = MqttLink(f"mqtt://127.0.0.1:{broker_port}", site=site_id)
            topic = proto.availability_topic(site_id, "panic_button", "panic-wait-3")
            watcher.subscribe(topic, lambda t, p: seen(p))
            await watcher.start()
            try:
                await seen.wait_for(lambda p: p == b"online")
                r = await http.post("/devices/panic-wait-3/faults", json={"name": "offline"})
                assert r.status_code == 200 and "offline" in r.json()["faults"]
                await seen.wait_for(lambda p: p == b"offline")  # the sim's last will, fired by the broker
                r = await http.delete("/devices/panic-wait-3/faults/offline")
                assert r.status_code == 200
                await seen.wait_count(lambda p: p == b"online", 2)
            finally:
                await watcher.stop()

            r = await http.post("/devices/panic-wait-3/faults", json={"name": "no-such-fault"})
            assert r.status_code == 400
            assert (await http.post("/devices/nobody/actions/press")).status_code == 404
            r = await http.post("/devices/band-wait-2/actions/tag_move", json={"params": {"tag_id": "t-1"}})
            assert r.status_code == 200 and r.json()["result"]["to"] == "band-wait-2"
            r = await http.post("/scenarios/tag_moves_wait2_to_int1", json={"params": {"tag_id": "t-2"}})
            assert r.status_code == 200 and json.dumps(r.json()).count("band-int-1") == 1

        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
        # it stopped the broker it started
        try:
            _, w = await asyncio.open_connection("127.0.0.1", broker_port)
        except OSError:
            pass
        else:
            w.close()
            raise AssertionError("the broker is still listening after hw_sim stopped")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        log_file.close()
