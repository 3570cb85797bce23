"""Alembic migrations, run from code (``minseal db upgrade``, the app factory and the CLI on start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is there already."""
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # several workers or hosts starting at once: one migrates
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(4851632425275716)")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
