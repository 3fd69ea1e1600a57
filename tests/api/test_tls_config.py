"""TLS: a production site serves HTTPS with HSTS, and check-config refuses a production site without it, or with
a remote broker reached anonymously or in clear. The demo stays on loopback HTTP."""

from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

from controller.__main__ import cmd_check_config, uvicorn_config
from controller.app import create_app
from controller.settings import SiteConfigError, parse_site
from tests.conftest import DEMO_SITE


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def to_toml(raw: dict[str, Any]) -> str:
    """Just enough TOML for a site file: top-level tables and arrays of tables."""
    out = []
    for key, value in raw.items():
        if isinstance(value, dict):
            out.append(f"[{key}]")
            out += [f"{k} = {_value(v)}" for k, v in value.items()]
        elif isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            for item in value:
                out.append(f"[[{key}]]")
                out += [f"{k} = {_value(v)}" for k, v in item.items()]
        else:
            out.insert(0, f"{key} = {_value(value)}")
    return "\n".join(out) + "\n"


SIGNED_IN = {"username": "controller", "password_file": "/etc/hcc/mqtt/controller.password",
             "device_keys_dir": "/etc/hcc/mqtt/keys"}


def production(**changes: Any) -> dict[str, Any]:
    raw = tomllib.loads(DEMO_SITE.read_text())
    raw["site"]["production"] = True
    raw["security"]["kiosk_enrolment"] = "required"
    raw["mqtt"] = raw["mqtt"] | SIGNED_IN
    raw.update(changes)
    return raw


def check_config(raw: dict[str, Any], tmp_path: Path, capsys: Any) -> tuple[int, str]:
    path = tmp_path / "site.toml"
    path.write_text(to_toml(raw))
    assert tomllib.loads(path.read_text()) == raw
    code = cmd_check_config(argparse.Namespace(file=path))
    return code, capsys.readouterr().err


def test_check_config_refuses_a_production_site_on_plain_http(tmp_path: Path, capsys: Any) -> None:
    code, err = check_config(production(), tmp_path, capsys)
    assert code == 2 and "tls.mode" in err
    code, _ = check_config(production(tls={"mode": "reverse_proxy"}), tmp_path, capsys)
    assert code == 0


def test_check_config_needs_the_certificate_files(tmp_path: Path, capsys: Any) -> None:
    with pytest.raises(SiteConfigError, match="cert_file"):
        parse_site(production(tls={"mode": "uvicorn"}))
    tls = {"mode": "uvicorn", "cert_file": str(tmp_path / "site.crt"), "key_file": str(tmp_path / "site.key")}
    code, err = check_config(production(tls=tls), tmp_path, capsys)
    assert code == 2 and "site.crt" in err
    (tmp_path / "site.crt").write_text("cert")
    (tmp_path / "site.key").write_text("key")
    code, _ = check_config(production(tls=tls), tmp_path, capsys)
    assert code == 0


@pytest.mark.parametrize(("mqtt", "problem"), [
    ({"url": "mqtt://10.0.0.5:1883"}, "username and password_file"),
    ({"url": "mqtt://10.0.0.5:1883", "username": "controller", "password_file": "/etc/hcc/mqtt.pw"}, "mqtts"),
    ({"url": "mqtts://10.0.0.5:8883"}, "username and password_file"),
])
def test_check_config_refuses_a_remote_broker_without_credentials_and_tls(
        tmp_path: Path, capsys: Any, mqtt: dict[str, str], problem: str) -> None:
    code, err = check_config(production(tls={"mode": "reverse_proxy"}, mqtt=mqtt), tmp_path, capsys)
    assert code == 2 and problem in err


@pytest.mark.parametrize(("mqtt", "problem"), [
    ({"url": "mqtt://127.0.0.1:1883"}, "signs in to its broker"),  # anonymous even on this PC: refused
    ({"url": "mqtt://127.0.0.1:1883", "username": "controller", "password_file": "/etc/hcc/mqtt.pw"},
     "device_keys_dir"),  # recorders' confirmations could not be checked
])
def test_check_config_refuses_a_production_site_with_anonymous_or_unverified_devices(
        tmp_path: Path, capsys: Any, mqtt: dict[str, str], problem: str) -> None:
    code, err = check_config(production(tls={"mode": "reverse_proxy"}, mqtt=mqtt), tmp_path, capsys)
    assert code == 2 and problem in err
    bench = tomllib.loads(DEMO_SITE.read_text())  # a bench site may still run open
    bench["mqtt"] = mqtt
    assert check_config(bench, tmp_path, capsys)[0] == 0


def test_a_remote_broker_with_credentials_and_tls_passes(tmp_path: Path, capsys: Any) -> None:
    mqtt = {"url": "mqtts://10.0.0.5:8883"} | SIGNED_IN
    code, _ = check_config(production(tls={"mode": "reverse_proxy"}, mqtt=mqtt), tmp_path, capsys)
    assert code == 0


def test_the_demo_site_stays_on_loopback_http(tmp_path: Path, capsys: Any) -> None:
    raw = tomllib.loads(DEMO_SITE.read_text())
    code, _ = check_config(raw, tmp_path, capsys)
    assert code == 0 and parse_site(raw).tls.mode == "none"


def test_uvicorn_serves_the_sites_certificate(container: Any, tmp_path: Path) -> None:
    tls = {"mode": "uvicorn", "cert_file": str(tmp_path / "c.pem"), "key_file": str(tmp_path / "k.pem")}
    site = parse_site(production(tls=tls))
    config = uvicorn_config(create_app(container, start_background=False), container.settings, site)
    assert config.ssl_certfile == str(tmp_path / "c.pem") and config.ssl_keyfile == str(tmp_path / "k.pem")
    plain = uvicorn_config(create_app(container, start_background=False), container.settings, container.site)
    assert plain.ssl_certfile is None


async def test_https_responses_carry_hsts(container: Any) -> None:
    app = create_app(container, start_background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://hcc.local") as client:
        r = await client.get("/healthz")
        assert r.headers["strict-transport-security"].startswith("max-age=31536000")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        r = await client.get("/healthz")
        assert "strict-transport-security" not in r.headers
