"""Who did something: the authenticated staff member, kiosk or system task behind a change.

A plain value of the domain, so routes and services can name a user without importing the store. The server builds
it only from what authenticated (a session, a kiosk token, the controller's own tasks), never from a request body.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Actor:
    id: str
    role: str
    name: str = ""
    sex: str = ""
    roles: tuple[str, ...] = ()

    @classmethod
    def system(cls, what: str = "system") -> Actor:
        """The controller itself (timers, devices, sync) as the author of a change."""
        return cls(id=what, role="system", name=what, roles=("system",))
