"""Runs the Alembic migrations programmatically: a fresh database is made only this way."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    from .db import private_sqlite

    private_sqlite(url)  # the file is made here, 0600 in a 0700 directory, before Alembic opens it
    command.upgrade(alembic_config(url), revision)


def revision(url: str, message: str) -> None:
    """Developer helper: autogenerate a migration from the tables (``python -m controller.store.migrate MSG``)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        url = f"sqlite:///{d}/gen.db"
        upgrade(url)
        revision(url, " ".join(sys.argv[1:]) or "change")


def migrate(url: str, data_dir: Path) -> None:
    """The data directory (for SQLite) and every migration up to head: ``run``, ``migrate`` and ``init`` use it."""
    if url.startswith("sqlite"):
        data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(url)
