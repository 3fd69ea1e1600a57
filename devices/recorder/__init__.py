"""Interview-room recorders (同步录音录像) over MQTT: start/stop request/response, heartbeats, failure events."""
