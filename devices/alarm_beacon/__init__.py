"""Alarm beacons (sound and light) over MQTT: on/off commands with pattern and severity."""
