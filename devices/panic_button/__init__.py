"""Panic buttons over MQTT: a press is an event with an event_id."""
