"""Wristband (RFID/UWB tag) readers: one per room, reporting which tags are present over MQTT."""
