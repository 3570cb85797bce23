"""The database engine and sessions. SQLite (WAL) under the data dir is the embedded default;
``MINSEAL_DATABASE_URL`` selects another database. Built by composition roots, never at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session as Session  # re-exported: services name the transaction without SQLAlchemy
from sqlalchemy.orm import sessionmaker


def database_url(explicit: str | None, data_dir: Path) -> str:
    if explicit:
        return explicit
    return f"sqlite:///{(data_dir / 'minseal.db').resolve()}"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL: readers never block the writer; busy_timeout: writers queue instead of failing;
            # autocommit off in the driver so BEGIN IMMEDIATE below takes the write lock up front
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(postgres_driver(url), pool_pre_ping=True, pool_size=5, max_overflow=10)


def postgres_driver(url: str) -> str:
    """``postgresql://…`` (what operators write) → the psycopg 3 driver, the one installed."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url.removeprefix(plain)
    return url


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql", "postgres:"))


class Database:
    """One per process: the engine and a session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()
