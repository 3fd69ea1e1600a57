"""Identity facts that must agree with themselves at registration: sex and birth date against the resident identity
number (GB 11643), and the age of criminal responsibility of a suspect under a criminal measure (Criminal Law art. 17
as amended in 2020). Each refusal: status, stable code, nothing written; and the allowed cases."""

from __future__ import annotations

import pytest

from tests.api.test_rules import refused
from tests.conftest import registration, resident_id

# The test clock reads 2026-11-22.


def body_for(birth: str, *, basis: str = "criminal_summons", role: str = "suspect", **case: str) -> dict:
    body = registration(birth=birth, basis=basis, role=role)
    body["case"].update(case)
    return body


async def test_female_with_a_mans_identity_number_is_refused(api):
    body = registration(sex="female")
    body["subject"]["id_number"] = resident_id("19900307", sex="male")  # odd 17th digit: a man
    err = await refused(api, "/api/v1/stays", body, "ID_SEX_MISMATCH", status=422)
    assert err["details"]["sex_in_id_number"] == "male"


async def test_male_with_a_womans_identity_number_is_refused(api):
    body = registration(sex="male")
    body["subject"]["id_number"] = resident_id("19900307", sex="female")
    await refused(api, "/api/v1/stays", body, "ID_SEX_MISMATCH", status=422)


async def test_birth_date_contradicting_the_number_is_refused(api):
    body = registration()
    body["subject"]["birth_date"] = "1990-03-08"
    await refused(api, "/api/v1/stays", body, "ID_BIRTH_DATE_MISMATCH", status=422)


@pytest.mark.parametrize("sex", ["male", "female"])
async def test_consistent_identity_is_accepted(api, sex):
    status, stay = await api.post("/api/v1/stays", registration(sex=sex))
    assert status == 201, stay
    assert stay["subject"]["sex"] == sex


async def test_passport_is_not_held_to_the_resident_number_rules(api):
    body = registration(sex="female")
    body["subject"].update(id_type="passport", id_number="E12345678", nationality="GBR")
    body["identity_source"] = "manual"
    status, stay = await api.post("/api/v1/stays", body)
    assert status == 201, stay


# --- Criminal Law art. 17 ------------------------------------------------------------------------------------

async def test_ten_year_old_under_criminal_summons_is_refused(api):
    err = await refused(api, "/api/v1/stays", body_for("2016-05-01"), "UNDER_AGE_OF_CRIMINAL_RESPONSIBILITY",
                        status=422)
    assert err["details"]["age"] == 10


async def test_eleven_year_old_refused_even_for_homicide(api):
    body = body_for("2015-01-01", offence_category="intentional_homicide", spp_approval_no="高检核字〔2026〕1号")
    await refused(api, "/api/v1/stays", body, "UNDER_AGE_OF_CRIMINAL_RESPONSIBILITY", status=422)


@pytest.mark.parametrize("basis", ["compelled_appearance", "criminal_detention", "voluntary_surrender"])
async def test_every_criminal_measure_is_held_to_the_age_rule(api, basis):
    await refused(api, "/api/v1/stays", body_for("2016-05-01", basis=basis), "UNDER_AGE_OF_CRIMINAL_RESPONSIBILITY",
                  status=422)


async def test_child_as_witness_is_not_refused(api):
    status, stay = await api.post("/api/v1/stays", body_for("2016-05-01", basis="witness_inquiry", role="witness"))
    assert status == 201, stay


async def test_thirteen_year_old_needs_a_listed_offence(api):
    await refused(api, "/api/v1/stays", body_for("2013-01-01"), "OFFENCE_CATEGORY_REQUIRED", status=422)
    await refused(api, "/api/v1/stays", body_for("2013-01-01", offence_category="robbery", spp_approval_no="X-1"),
                  "OFFENCE_NOT_LISTED_FOR_AGE", status=422)


async def test_thirteen_year_old_needs_the_spp_approval(api):
    body = body_for("2013-01-01", offence_category="intentional_homicide")
    await refused(api, "/api/v1/stays", body, "SPP_APPROVAL_REQUIRED", status=422)


async def test_thirteen_year_old_with_listed_offence_and_approval_is_recorded(api):
    body = body_for("2013-01-01", offence_category="intentional_homicide", spp_approval_no="高检核字〔2026〕1号")
    status, stay = await api.post("/api/v1/stays", body)
    assert status == 201, stay
    assert stay["case"]["offence_category"] == "intentional_homicide"
    assert stay["case"]["spp_approval_no"] == "高检核字〔2026〕1号"
    registered = [e for e in stay["timeline"] if e["action"] == "stay_registered"][0]
    assert registered["after"]["offence_category"] == "intentional_homicide"


async def test_fifteen_year_old_only_for_the_eight_listed_offences(api):
    await refused(api, "/api/v1/stays", body_for("2011-06-01"), "OFFENCE_CATEGORY_REQUIRED", status=422)
    # theft is no category the law lists at any age under 16: the request itself is malformed
    await refused(api, "/api/v1/stays", body_for("2011-06-01", offence_category="theft"), "VALIDATION_ERROR",
                  status=422)
    status, stay = await api.post("/api/v1/stays", body_for("2011-06-01", offence_category="robbery"))
    assert status == 201, stay
    assert stay["case"]["offence_category"] == "robbery" and stay["case"]["spp_approval_no"] is None


async def test_sixteen_year_old_needs_no_offence_category(api):
    status, stay = await api.post("/api/v1/stays", body_for("2010-11-22"))
    assert status == 201, stay
