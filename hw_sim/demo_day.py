"""A scripted day in the demo centre: several subjects at once moving through the centre, driven the way the world
would drive it (cards placed, people walking through the gate, locker doors shut, wristbands moving, a recorder
failing, a panic button), with one of each alarm along the way.

It talks only HTTP: to the controller's API as the demo staff, and to hw_sim's control interface. Run it against
a running ``make demo``::

    python -m hw_sim.demo_day            # or: make demo-day
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import httpx

STAFF_FILE = Path("var/demo/demo-staff.json")


class Day:
    def __init__(self, api: str, control: str, staff: list[list[str]]) -> None:
        self.api = httpx.AsyncClient(base_url=api, timeout=20)
        self.sim = httpx.AsyncClient(base_url=control, timeout=20)
        self.passwords = {row[0]: row[3] for row in staff}
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    async def login(self, police_no: str) -> str:
        if police_no not in self.tokens:
            r = await self.api.post("/api/v1/auth/login", json={"police_no": police_no,
                                                                "password": self.passwords[police_no]})
            r.raise_for_status()
            self.tokens[police_no] = r.json()["token"]
            self.ids[police_no] = r.json()["staff"]["id"]
        return self.tokens[police_no]

    async def call(self, method: str, path: str, body: Any = None, as_: str = "200001", ok: bool = True) -> Any:
        for _ in range(2):
            token = await self.login(as_)
            r = await self.api.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
            if r.status_code == 401:
                self.tokens.pop(as_, None)
                continue
            break
        if ok and r.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
        return r.json() if r.content else None

    async def act(self, device: str, action: str, **params: Any) -> Any:
        r = await self.sim.post(f"/devices/{device}/actions/{action}", json={"params": params})
        r.raise_for_status()
        return r.json()

    async def fault(self, device: str, name: str, on: bool = True) -> None:
        if on:
            (await self.sim.post(f"/devices/{device}/faults", json={"name": name, "params": {}})).raise_for_status()
        else:
            (await self.sim.delete(f"/devices/{device}/faults/{name}")).raise_for_status()

    async def sid(self, police_no: str) -> str:
        await self.login(police_no)
        return self.ids[police_no]

    async def advance(self, minutes: float) -> None:
        await self.call("POST", "/api/v1/dev/clock/advance", {"seconds": minutes * 60}, as_="900001")

    def say(self, text: str) -> None:
        print(f"· {text}", flush=True)

    async def wait_card(self) -> dict[str, Any]:
        for _ in range(100):
            got = await self.call("GET", "/api/v1/devices/idr-reg/last-read")
            if got.get("card"):
                return got["card"]
            await asyncio.sleep(0.1)
        raise RuntimeError("the ID reader read no card")

    async def intake(self, body: dict[str, Any], room: str, gate_zones: list[int] | None = None,
                     override_reason: str | None = None) -> dict[str, Any]:
        stay = await self.call("POST", "/api/v1/stays", body)
        zones = gate_zones or []
        before = (await self.call("GET", "/api/v1/devices/gate-1/last-read"))["transits"]
        await self.act("gate-1", "walk_through", zones=zones)
        transit = None
        for _ in range(100):
            transits = (await self.call("GET", "/api/v1/devices/gate-1/last-read"))["transits"]
            if len(transits) > len(before) or (transits and transits[-1] not in before):
                transit = transits[-1]
                break
            await asyncio.sleep(0.1)
        female = body["subject"]["sex"] == "female"
        search: dict[str, Any] = {"checker_id": await self.sid("200001" if female else "200002"),
                  "witness_id": await self.sid("100001"), "gate_result": "alarm" if zones else "pass",
                  "gate_zones": zones or None}
        if transit:
            search |= {"gate_device_id": "gate-1", "gate_counter": transit["counter"]}
        if zones:
            search |= {"handheld_result": "found", "findings": {"contraband": "打火机一个"}}
        await self.call("POST", f"/api/v1/stays/{stay['id']}/search", search)
        await self.call("POST", f"/api/v1/stays/{stay['id']}/collection", {"fingerprints_taken": True,
                                                                            "dna_taken": False})
        lockers = await self.call("GET", "/api/v1/lockers")
        locker = next(lk for lk in lockers if lk["state"] == "free")
        await self.call("POST", f"/api/v1/stays/{stay['id']}/property", {
            "custodian_id": await self.sid("200001"), "locker_id": locker["id"],
            "items": [{"description": "手机", "category": "phone"}, {"description": "钱包", "category": "valuable"}]})
        await self.act(locker["bus"], "put_item", board=locker["board"], channel=locker["channel"])
        await self.act(locker["bus"], "close_door", board=locker["board"], channel=locker["channel"])
        placement: dict[str, Any] = {"room_id": room}
        if override_reason:  # custody staff ask; the duty supervisor grants in his own session
            ask = await self.call("POST", "/api/v1/approvals", {"kind": "placement_override", "stay_id": stay["id"],
                                                                "room_id": room, "reason": override_reason})
            await self.call("POST", f"/api/v1/approvals/{ask['id']}/grant", {"note": "同意"}, as_="300001")
            placement["approval_id"] = ask["id"]
        for _ in range(50):  # the board reports the door shut within a poll or two
            r = await self.call("POST", f"/api/v1/stays/{stay['id']}/placement", placement, ok=False)
            if not (isinstance(r, dict) and r.get("code") == "LOCKER_NOT_CLOSED"):
                break
            await asyncio.sleep(0.2)
        if isinstance(r, dict) and "code" in r:
            raise RuntimeError(f"placement refused: {r}")
        return r

    async def run(self) -> None:
        officers = [await self.sid("100001"), await self.sid("100002")]
        self.say("08:00 the door controller of 询问室2 is unplugged for maintenance (it stays offline)")
        await self.fault("door-inq-2", "offline")
        self.say("08:30 张三 arrives: ID card read at registration, gate alarms in zone 3")
        await self.act("idr-reg", "place_card")
        card = await self.wait_card()
        a = await self.intake({
            "subject": {"name": card["name"], "id_type": "resident_id", "id_number": card["id_number"],
                        "sex": card["sex"], "birth_date": card["birth_date"], "ethnicity": card["ethnicity"],
                        "address": card["address"]},
            "role": "suspect", "case": {"case_no": "A-2026-0815", "case_kind": "criminal", "summary": "盗窃案"},
            "legal_basis": "criminal_summons", "case_officer_ids": officers, "wristband_id": "band-0001",
            "identity_source": "id_card", "id_reader_id": "idr-reg"}, "wait-1", gate_zones=[3])
        await self.act("idr-reg", "remove_card")
        self.say("08:40 李芳 (manual entry, female) and 王五 (a witness) arrive")
        b = await self.intake({
            "subject": {"name": "李芳", "id_type": "passport", "id_number": "E88812345", "sex": "female",
                        "birth_date": "1995-04-12", "nationality": "CHN"},
            "role": "suspect", "case": {"case_no": "A-2026-0901", "case_kind": "administrative"},
            "legal_basis": "admin_summons", "case_officer_ids": officers, "wristband_id": "band-0002",
            "identity_source": "manual", "manual_entry_reason": "未携带身份证"}, "wait-3")
        c = await self.intake({
            "subject": {"name": "王五", "id_type": "passport", "id_number": "E77700001", "sex": "male",
                        "birth_date": "1980-01-01", "nationality": "CHN"},
            "role": "witness", "case": {"case_no": "A-2026-0815", "case_kind": "criminal"},
            "legal_basis": "witness_inquiry", "case_officer_ids": officers[:1], "wristband_id": "band-0003"},
            "wait-5")
        self.say("08:50 赵六 placed with the witness 王五 by the duty supervisor: every other room is taken (override)")
        d = await self.intake({
            "subject": {"name": "赵六", "id_type": "passport", "id_number": "E66600001", "sex": "male",
                        "birth_date": "1985-05-05", "nationality": "CHN"},
            "role": "suspect", "case": {"case_no": "A-2026-0815", "case_kind": "criminal"},
            "legal_basis": "criminal_summons", "case_officer_ids": officers, "wristband_id": "band-0004"},
            "wait-5", override_reason="其余候问室已满，临时安置")
        for tag, room in (("band-0001", "wait-1"), ("band-0002", "wait-3"), ("band-0004", "wait-5")):
            await self.act(f"band-{room}", "tag_move", tag_id=tag)
        for no, tag in (("100001", "tag-off-1"), ("100002", "tag-off-2")):
            await self.call("POST", f"/api/v1/staff/{await self.sid(no)}/tag", {"tag_id": tag}, as_="300001")
        self.say("09:00 张三 interrogated in 讯问室1; the recorder fails mid-interview and the interview pauses")
        iv = await self.call("POST", f"/api/v1/stays/{a['id']}/interviews",
                             {"room_id": "int-1", "officer_ids": officers}, as_="100001")
        for tag in ("band-0001", "tag-off-1", "tag-off-2"):
            await self.act("band-int-1", "tag_move", tag_id=tag)
        await self.act("rec-int-1", "fail", code="DISK_FULL", detail="录像硬盘已满")
        await asyncio.sleep(1.0)
        await self.call("POST", f"/api/v1/interviews/{iv['interview_id']}/resume", {"reason": "更换硬盘后继续"},
                        as_="100001")
        self.say("09:20 one officer leaves the room: lone officer")
        await self.act("band-wait-4", "tag_move", tag_id="tag-off-2")
        await self.advance(2)
        self.say("09:25 赵六 walks into 讯问室1's corridor… into 候问室1 with his co-accused: co-case contact")
        await self.act("band-wait-1", "tag_move", tag_id="band-0004")
        await self.act("band-int-1", "tag_move", tag_id="tag-off-2")
        await self.call("POST", f"/api/v1/interviews/{iv['interview_id']}/end", {}, as_="100001")
        await self.act("band-wait-1", "tag_move", tag_id="band-0001")
        await self.act("band-wait-5", "tag_move", tag_id="band-0004")
        self.say("09:30 李芳 wanders into the drug-test room alone: unattended, and not where her stay allows")
        await self.act("band-activity", "tag_move", tag_id="band-0002")
        await self.advance(3)
        await self.act("band-wait-3", "tag_move", tag_id="band-0002")
        self.say("09:40 panic button in 候问室3; an unknown wristband in 候问室5; 李芳's strap is cut")
        await self.act("panic-wait-3", "press")
        await self.act("band-wait-5", "tag_move", tag_id="band-9999")
        await self.act("band-wait-3", "tag_remove", tag_id="band-0002", reason="cut")
        self.say("09:50 a locker opened by hand; the door of 讯问室2 forced open")
        await self.act("lock-bus-1", "open_by_hand", board=2, channel=15)
        await self.act("door-int-2", "force_open")
        self.say("10:00 nobody looks into the waiting rooms for 35 minutes: late welfare checks")
        await self.advance(35)
        await self.call("POST", "/api/v1/rooms/wait-1/welfare-checks", {"observation": "ok", "note": "情绪稳定"})
        await self.call("POST", f"/api/v1/stays/{a['id']}/care", {"kind": "meal", "note": "午餐"})
        self.say("10:40 王五 leaves: property returned, exit search, released")
        await self.call("POST", f"/api/v1/stays/{c['id']}/exit", {"disposition": "released"})
        items = (await self.call("GET", f"/api/v1/stays/{c['id']}"))["property"]["items"]
        await self.call("POST", f"/api/v1/stays/{c['id']}/exit/complete", {
            "exit_search": {"checker_id": await self.sid("200002"), "findings": {}},
            "items": [{"item_id": i["id"], "disposition": "returned"} for i in items], "signature_id": "sig-demo"})
        self.say("time runs on towards 张三's deadline: warnings, then overdue")
        await self.advance(11 * 60)
        await self.advance(40)
        for _ in range(150):  # the offline alarm waits out its grace period in real seconds
            alarms = await self.call("GET", "/api/v1/alarms?state=open")
            if any(x["kind"] == "device_offline" for x in alarms):
                break
            await asyncio.sleep(0.1)
        self.say("the door controller of 询问室2 is back")
        await self.fault("door-inq-2", "offline", on=False)
        alarms = await self.call("GET", "/api/v1/alarms")
        kinds = sorted({x["kind"] for x in alarms})
        still_open = sum(1 for x in alarms if x["state"] != "resolved")
        self.say(f"alarms today: {len(alarms)} ({still_open} open) of kinds {', '.join(kinds)}")
        self.say(f"still inside: {a['subject']['name']}, {b['subject']['name']}, {d['subject']['name']}")

    async def close(self) -> None:
        await self.api.aclose()
        await self.sim.aclose()


async def amain(args: argparse.Namespace, staff: list[list[str]]) -> int:
    day = Day(args.api, args.control, staff)
    try:
        await day.run()
    finally:
        await day.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hw_sim.demo_day", description=__doc__)
    ap.add_argument("--api", default="http://127.0.0.1:8080")
    ap.add_argument("--control", default="http://127.0.0.1:18099")
    ap.add_argument("--staff", default=str(STAFF_FILE))
    args = ap.parse_args(argv)
    staff = json.loads(Path(args.staff).read_text(encoding="utf-8"))
    return asyncio.run(amain(args, staff))


if __name__ == "__main__":
    sys.exit(main())
