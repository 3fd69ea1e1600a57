"""Actor lives in the domain; the store still re-exports it for code written before the move."""

from __future__ import annotations

from controller.domain.actor import Actor


def test_the_store_re_exports_the_domain_actor() -> None:
    from controller.store.db import Actor as StoreActor

    assert StoreActor is Actor


def test_the_system_actor_names_its_task() -> None:
    timer = Actor.system("timer")
    assert (timer.id, timer.role, timer.name, timer.roles) == ("timer", "system", "timer", ("system",))
