"""Byte pipes and message links on the asyncio loop: serial (pyserial), MQTT (paho), HTTP."""
