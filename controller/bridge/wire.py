"""Where the controller and its bridge meet on the broker: one topic tree per controller instance.

The instance is a digest of the controller's data directory, so two controllers of the same site id on one broker
(a test run beside a demo) never hear each other's commands; the persistent MQTT sessions use it in their client
ids too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from devices import mqtt_proto


def instance_of(data_dir: Path) -> str:
    return hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:10]


@dataclass(frozen=True)
class BridgeTopics:
    site: str
    instance: str

    @classmethod
    def for_site(cls, site: str, data_dir: Path) -> BridgeTopics:
        return cls(mqtt_proto.check_id(site, "site"), instance_of(data_dir))

    def _t(self, *rest: str) -> str:
        return "/".join((mqtt_proto.TOPIC_ROOT, self.site, "bridge", self.instance, *rest))

    def client_id(self, side: str) -> str:
        return f"hcc-{self.site}-{side}-{self.instance}"

    @property
    def cmd(self) -> str:
        return self._t("cmd")

    def result(self, request_id: str) -> str:
        return self._t("result", request_id)

    @property
    def results(self) -> str:
        return self._t("result", "+")

    @property
    def event(self) -> str:
        return self._t("event")

    @property
    def presence(self) -> str:
        return self._t("presence")

    @property
    def devices(self) -> str:
        return self._t("devices")

    @property
    def availability(self) -> str:
        return self._t("availability")

    @property
    def roster(self) -> str:
        return self._t("roster")


def read_secret(path: Path | str | None) -> str | None:
    return None if path is None else Path(path).read_text(encoding="utf-8").strip()
