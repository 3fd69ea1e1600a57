"""The devicebus: the site's devices on the controller's side, in rooms that each say one thing.

- ``bus``: the device registry and a typed dispatch table (event class -> handler) for what devices report;
- ``presence``: live locations from the wristband readers and rule 8 on them;
- ``reactions``: committed changes followed by device side effects (interview doors, alarm beacons);
- ``ports``: the services' ports (recorder, lock board) filled with real adapters;
- ``tasks``: the background tasks they share, cancelled together at stop.

Every database write goes through a service; none of these rooms imports another's internals.
"""

from .bus import DeviceBus
from .ports import DeviceLockerPort, DeviceRecorderPort, LockerPositions

__all__ = ["DeviceBus", "DeviceLockerPort", "DeviceRecorderPort", "LockerPositions"]
