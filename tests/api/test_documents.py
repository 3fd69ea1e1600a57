"""Printed documents: each PDF renders with Chinese text (read back with pypdf), its sha256 is in the audit trail,
identity numbers are masked for a role that may not read them, the subject's intake and exit signatures are on the
property list, and one page is rasterised with pdftoppm as an artefact (tests/artifacts/property_list.png)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from pypdf import PdfReader

from controller.services.documents import mask_number
from tests.conftest import ROOT, audit_count, registration, resident_id, walk

ARTIFACTS = ROOT / "tests" / "artifacts"
KINDS = ["registration", "security_check", "property_list", "exit_handover", "custody_record"]


def signature_png(stroke: int = 0) -> str:
    img = np.full((120, 400), 255, np.uint8)
    cv2.line(img, (20, 90 - stroke), (380, 30 + stroke), 0, 5)
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode()


async def sign(api: Any, stay_id: str, stroke: int = 0) -> str:
    status, sig = await api.post("/api/v1/ui/signatures", {"png": signature_png(stroke), "stay_id": stay_id})
    assert status == 201, sig
    return sig["signature_id"]


async def pdf(api: Any, stay_id: str, kind: str, as_: str = "2001") -> tuple[bytes, Any]:
    token = await api.login(as_)
    r = await api.client.get(f"/api/v1/stays/{stay_id}/documents/{kind}.pdf",
                             headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    return r.content, r.headers


def text_of(raw: bytes) -> str:
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(raw)).pages)


async def full_stay(api: Any, container: Any, recorder: Any) -> tuple[dict[str, Any], str]:
    """A stay taken from registration to exit: signed property list at intake, an interview with a recording
    gap, a welfare check, an overdue deadline alarm, exit with every item disposed and signed."""
    number = resident_id("19790101", sex="male")
    body2 = registration(case_no="A-2026-778", basis="admin_summons")
    body2["subject"].update(name="李四光", id_number=number, birth_date="1979-01-01")
    s2 = await walk(api, "collected", body=body2)
    sig_in = await sign(api, s2["id"])
    status, s2 = await api.post(f"/api/v1/stays/{s2['id']}/property", {
        "custodian_id": "cus-f", "locker_id": "a-15", "signature_id": sig_in,
        "items": [{"description": "华为手机", "quantity": 1, "category": "phone"},
                  {"description": "现金人民币", "quantity": 350, "category": "cash"}]})
    assert status == 200, s2
    assert s2["timeline"][-1]["after"]["signature_id"] == sig_in
    status, s2 = await api.post(f"/api/v1/stays/{s2['id']}/placement", {"room_id": "wait-1"})
    assert status == 200, s2
    status, iv = await api.post(f"/api/v1/stays/{s2['id']}/interviews",
                                {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]}, as_="1001")
    assert status == 201, iv
    await container.clock.advance_async(600)
    assert (await api.post(f"/api/v1/interviews/{iv['interview_id']}/pause", {"reason": "休息"}, as_="1001"))[0] == 200
    await container.clock.advance_async(300)
    assert (await api.post(f"/api/v1/interviews/{iv['interview_id']}/resume", {}, as_="1001"))[0] == 200
    await container.clock.advance_async(900)
    assert (await api.post(f"/api/v1/interviews/{iv['interview_id']}/end", {}, as_="1001"))[0] == 200
    assert (await api.post("/api/v1/rooms/wait-1/welfare-checks", {"observation": "ok"}))[0] == 201
    await container.clock.advance_async(8 * 3600)  # past the 8 h limit of an administrative summons
    status, s2 = await api.post(f"/api/v1/stays/{s2['id']}/exit", {"disposition": "released"})
    assert status == 200, s2
    items = s2["property"]["items"]
    sig_out = await sign(api, s2["id"], stroke=40)
    status, s2 = await api.post(f"/api/v1/stays/{s2['id']}/exit/complete", {
        "exit_search": {"checker_id": "cus-m", "findings": {}}, "signature_id": sig_out,
        "items": [{"item_id": items[0]["id"], "disposition": "returned"},
                  {"item_id": items[1]["id"], "disposition": "handed_to_family",
                   "receiver": {"name": "李小红", "id_number": resident_id("19800202", sex="female")}}]})
    assert status == 200, s2
    return s2, number


async def test_every_document_renders_chinese_text_and_its_hash_is_audited(api, container, recorder):
    stay, _ = await full_stay(api, container, recorder)
    number = stay["subject"]["id_number"]
    expect = {
        "registration": ["入区登记表", "李四光", number, "A-2026-778", "治安传唤", "王建国"],
        "security_check": ["人身安全检查记录", "李四光", "刘强", "通过", "入区检查", "出区检查"],
        "property_list": ["随身物品清单", "华为手机", "现金人民币", "350", "本人领回", "家属代领", "李小红",
                          "入区时 被带入人员确认", "出区时 被带入人员确认"],
        "exit_handover": ["出区交接单", "释放", "华为手机", "移交人"],
        "custody_record": ["办案区全程记录", "入区登记", "讯（询）问开始", "讯（询）问暂停", "候问室",
                           "已超过法定时限", "巡查记录", "正常", "录像中断", "共5分00秒"],
    }
    for kind in KINDS:
        raw, headers = await pdf(api, stay["id"], kind)
        text = text_of(raw)
        for want in expect[kind]:
            assert want in text.replace("\n", ""), (kind, want)
        assert headers["x-document-id"] in text  # the printed page names the audit entry it belongs to
        digest = hashlib.sha256(raw).hexdigest()
        assert headers["x-document-sha256"] == digest
        _, got = await api.get(f"/api/v1/stays/{stay['id']}")
        entry = got["timeline"][-1]
        assert entry["action"] == "document_generated" and entry["after"]["sha256"] == digest
        assert entry["after"]["kind"] == kind and entry["after"]["document_id"] == headers["x-document-id"]
    status, chain = await api.get("/api/v1/audit/verify", as_="9001")
    assert status == 200 and chain["ok"]


async def test_property_list_carries_both_signatures_and_rasterises(api, container, recorder):
    stay, _ = await full_stay(api, container, recorder)
    raw, _h = await pdf(api, stay["id"], "property_list")
    page = PdfReader(io.BytesIO(raw)).pages[0]
    images = list(page.images)
    assert len(images) == 2  # the intake and the exit signature, as drawn
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed; scripts/system-deps.sh installs it")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    src = ARTIFACTS / "property_list.pdf"
    src.write_bytes(raw)
    await asyncio.to_thread(subprocess.run, ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(src),
                    str(ARTIFACTS / "property_list")], check=True, timeout=60)
    png = ARTIFACTS / "property_list.png"
    img = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    assert img is not None and img.shape[0] > 800
    assert (img < 128).mean() > 0.01  # ink on the page: text, grid and signatures were drawn
    done = await asyncio.to_thread(subprocess.run, ["pdftotext", str(src), "-"], capture_output=True, text=True,
                                   check=True)
    text = done.stdout
    assert "随身物品清单" in text and "华为手机" in text  # a second, independent extractor reads the same


async def test_identity_numbers_are_masked_for_a_role_that_may_not_read_them(api, container, recorder):
    stay, _ = await full_stay(api, container, recorder)
    number = stay["subject"]["id_number"]
    for kind in ("registration", "property_list", "custody_record"):
        raw, _h = await pdf(api, stay["id"], kind, as_="9001")  # the administrator
        text = text_of(raw).replace("\n", "")
        assert number not in text and number[6:16] not in text
        assert mask_number(number) in text  # the area code and last two characters, the rest starred
    assert "已脱敏" in text
    raw, _h = await pdf(api, stay["id"], "registration", as_="3001")
    assert number in text_of(raw)


async def test_handover_sheet_before_exit_is_refused_and_writes_nothing(api):
    stay = await walk(api, "waiting")
    await api.login("9101")  # signing in is itself audited: do it before counting
    before = await audit_count(api)
    status, err = await api.get(f"/api/v1/stays/{stay['id']}/documents/exit_handover.pdf")
    assert status == 409 and err["code"] == "DOCUMENT_NOT_READY" and err["message"] and err["message_en"]
    status, err = await api.get("/api/v1/stays/no-such-stay/documents/registration.pdf")
    assert status == 404 and err["code"] == "NOT_FOUND"
    status, err = await api.get(f"/api/v1/stays/{stay['id']}/documents/payroll.pdf")
    assert status == 422
    status, err = await api.get(f"/api/v1/stays/{stay['id']}/documents/registration.pdf", as_="9101")
    assert status == 403 and err["code"] == "FORBIDDEN_ROLE"
    assert await audit_count(api) == before


def test_pdf_is_deterministic_for_the_same_content(tmp_path: Path):
    from datetime import UTC, datetime

    from controller.documents import render_stay_document

    data = {"stay_id": "stay-1", "case_no": "A-1", "state": "waiting", "subject": {
        "name": "王五", "id_type": "resident_id", "id_number": "110105********12", "id_masked": True, "sex": "male",
        "birth_date": "1990-01-01", "nationality": "CHN", "is_minor": False}, "role": "suspect",
        "identity_source": "manual", "manual_entry_reason": "no_card", "case_kind": "criminal",
        "legal_basis": "criminal_summons", "basis_started_at": "2026-11-22T01:00:00+00:00",
        "entered_at": "2026-11-22T01:00:00+00:00", "deadline_at": "2026-11-22T13:00:00+00:00",
        "case_officers": ["王建国"], "registered_by": "陈静", "flags": {}}
    kw: dict[str, Any] = dict(document_id="doc-1", now=datetime(2026, 11, 22, 2, 0, tzinfo=UTC), tz="Asia/Shanghai",
                              site_name="示范办案中心", rooms={}, signatures_dir=tmp_path)
    a = render_stay_document("registration", "入区登记表", data, **kw)
    b = render_stay_document("registration", "入区登记表", data, **kw)
    assert a.sha256 == b.sha256 and a.pdf == b.pdf
    assert "手工录入" not in text_of(a.pdf) and "人工录入（未携带证件）" in text_of(a.pdf)
