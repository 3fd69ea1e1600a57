"""Door locks (electromagnetic) over MQTT: state, lock/unlock commands, forced-open events."""
