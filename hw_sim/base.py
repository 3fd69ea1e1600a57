"""The shape every simulated device shares, so `python -m hw_sim` and its control interface drive them alike.

A simulated device speaks the real wire protocol (through ``devices/<kind>/protocol.py`` in the device role) on a
real transport: a pty for serial devices, a real MQTT client for MQTT devices, real HTTP for cameras. Faults are
switched on and off at run time by name; each device documents the faults it supports in ``FAULTS``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, runtime_checkable

# Fault names shared across kinds; a kind supports the subset it lists in FAULTS and may add its own.
SILENT = "silent"  # reads requests, answers nothing
DELAYED = "delayed"  # answers after `delay_s`
GARBLED = "garbled"  # answers with noise / a truncated frame
BAD_CHECKSUM = "bad_checksum"  # answers with a frame whose checksum is wrong
OFFLINE = "offline"  # the link goes away (pty closed / MQTT client disconnected without clean close)


@runtime_checkable
class SimDevice(Protocol):
    device_id: str
    kind: str
    FAULTS: ClassVar[tuple[str, ...]]

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def set_fault(self, name: str, **params: Any) -> None:
        """Switch a fault on (params such as delay_s); raises ValueError for a fault this kind does not support."""

    def clear_fault(self, name: str | None = None) -> None:
        """Switch one fault off, or every fault when name is None."""

    def info(self) -> dict[str, Any]:
        """A JSON-able snapshot: id, kind, url/path, active faults, and kind-specific state."""
