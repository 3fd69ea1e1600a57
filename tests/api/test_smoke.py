"""A first walk through the API: sign in, register, and read the ledger."""

from tests.conftest import registration


async def test_register_and_read_back(api):
    status, stay = await api.post("/api/v1/stays", registration())
    assert status == 201, stay
    assert stay["state"] == "registered"
    status, got = await api.get(f"/api/v1/stays/{stay['id']}")
    assert status == 200
    assert got["timeline"][0]["action"] == "stay_registered"
