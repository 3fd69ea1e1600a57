"""Simulated alarm beacon: ``on``/``off`` commands set its light and sound; the state is published retained."""

from __future__ import annotations

from typing import Any

from devices import mqtt_proto as proto
from devices.alarm_beacon import protocol as p
from hw_sim.mqtt_device import MqttSimDevice


class AlarmBeaconSim(MqttSimDevice):
    kind = p.KIND
    COMMANDS = p.COMMANDS

    def __init__(self, device_id: str, **kw: Any) -> None:
        super().__init__(device_id, **kw)
        self.on = False
        self.pattern: p.Pattern = "steady"
        self.severity: p.Severity = "info"

    def on_connected(self) -> None:
        self._publish()

    def _publish(self) -> None:
        self.publish_state(p.BeaconStateMsg(ts=self.clock(), on=self.on, pattern=self.pattern,
                                            severity=self.severity))

    def handle_command(self, name: str, cmd: proto.Command) -> proto.Reply:
        if isinstance(cmd, p.OnCmd):
            self.on, self.pattern, self.severity = True, cmd.pattern, cmd.severity
        else:
            self.on = False
        self._publish()
        return self.ok(cmd, on=self.on)

    def state_info(self) -> dict[str, Any]:
        return {"on": self.on, "pattern": self.pattern, "severity": self.severity}
