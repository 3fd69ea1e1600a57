"""Simulated panic button: ``press()`` publishes one ``pressed`` event (or several copies under ``duplicate``)."""

from __future__ import annotations

from typing import Any, ClassVar

from devices.panic_button import protocol as p
from hw_sim.mqtt_device import MqttSimDevice


class PanicButtonSim(MqttSimDevice):
    kind = p.KIND
    ACTIONS: ClassVar[tuple[str, ...]] = ("press",)

    def press(self) -> dict[str, Any]:
        msg = p.PressedMsg(**self.new_event_fields())
        self.publish_event("pressed", msg)
        return {"event_id": msg.event_id}
