"""Corrections are held to the same field models as registration: each refused value (422 INVALID_VALUE, nothing
written) and the allowed corrections. Before, a two-million-character name was stored, and a null name or an object
as the case number answered 500."""

from __future__ import annotations

import pytest

from tests.api.test_rules import refused
from tests.conftest import registration, walk


async def correction(api, stay, field, value):
    return f"/api/v1/stays/{stay['id']}/corrections", {
        "corrects_seq": stay["timeline"][0]["seq"], "field": field, "value": value, "reason": "登记时笔误"}


@pytest.mark.parametrize(("field", "value"), [
    ("subject.name", "张" * 201),  # (two million characters are a 413 now: over the body limit before parsing)
    ("subject.name", None),
    ("subject.name", ""),
    ("subject.name", {"x": 1}),
    ("subject.address", "路" * 201),
    ("subject.ethnicity", "族" * 41),
    ("case.case_no", {}),
    ("case.case_no", None),
    ("case.case_no", "A" * 65),
    ("case.summary", "案" * 2001),
    ("collection.notes", "记" * 1001),
    ("flags", {"intoxicated": "maybe"}),
    ("flags", {"not_a_flag": True}),
    ("flags", "intoxicated"),
    ("search.findings", {"injuries": "伤" * 1001}),
    ("search.findings", {"weapons": "刀"}),
])
async def test_value_registration_would_refuse_is_refused(api, field, value):
    stay = await walk(api, "collected")
    path, body = await correction(api, stay, field, value)
    err = await refused(api, path, body, "INVALID_VALUE", status=422, as_="1001", stay_id=stay["id"])
    assert err["details"]["field"] == field


@pytest.mark.parametrize(("field", "value", "read"), [
    ("subject.name", "  张三  ", lambda s: s["subject"]["name"] == "张三"),
    ("subject.address", None, lambda s: s["subject"]["address"] is None),
    ("subject.ethnicity", "汉", lambda s: s["subject"]["ethnicity"] == "汉"),
    ("case.case_no", "A-2026-009", lambda s: s["case"]["case_no"] == "A-2026-009"),
    ("flags", {"intoxicated": True}, lambda s: s["flags"]["intoxicated"] is True),
])
async def test_valid_correction_is_stored(api, field, value, read):
    stay = await walk(api, "collected")
    path, body = await correction(api, stay, field, value)
    status, got = await api.post(path, body, as_="1001")
    assert status == 201, got
    _, s = await api.get(f"/api/v1/stays/{stay['id']}")
    assert read(s), s
    assert s["timeline"][-1]["action"] == "correction"


# --- identity facts at correction: the same consistency as at registration ----------------------------------------

async def test_sex_correction_contradicting_the_number_is_refused(api):
    stay = await walk(api, "collected")  # a man, by sex and by number
    path, body = await correction(api, stay, "subject.sex", "female")
    await refused(api, path, body, "ID_SEX_MISMATCH", status=422, as_="1001", stay_id=stay["id"])


async def test_birth_date_correction_contradicting_the_number_is_refused(api):
    stay = await walk(api, "collected")
    path, body = await correction(api, stay, "subject.birth_date", "1991-03-07")
    await refused(api, path, body, "ID_BIRTH_DATE_MISMATCH", status=422, as_="1001", stay_id=stay["id"])
    path, body = await correction(api, stay, "subject.birth_date", "not a date")
    await refused(api, path, body, "INVALID_VALUE", status=422, as_="1001", stay_id=stay["id"])


async def test_passport_holders_birth_date_corrected_and_minority_follows(api):
    body = registration(birth="1990-03-07")
    body["subject"].update(id_type="passport", id_number="E12345678", nationality="GBR")
    body["identity_source"] = "manual"
    stay = await walk(api, "collected", body=body)
    assert stay["subject"]["is_minor"] is False
    path, corr = await correction(api, stay, "subject.birth_date", "2009-01-01")
    status, got = await api.post(path, corr, as_="1001")
    assert status == 201, got
    _, s = await api.get(f"/api/v1/stays/{stay['id']}")
    assert s["subject"]["birth_date"] == "2009-01-01" and s["subject"]["is_minor"] is True
    assert s["timeline"][-1]["after"]["subject.birth_date"] == "2009-01-01"
