"""A throwaway PostgreSQL 15 cluster for the test command and the load bench.

initdb into a temporary directory as an unprivileged user (``nobody`` when we run as root, as CI may), listen on a
free port on 127.0.0.1 only, trust authentication (nothing else can reach it), stopped and deleted at the end.

``python -m tests.support.pg_cluster CMD …`` runs CMD with ``MINSEAL_TEST_PG_URL`` set to the cluster's base URL
(``scripts/test`` runs pytest this way); the ``pg_server`` fixture starts one itself when that variable is unset.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import free_port

PG_BIN = Path(os.environ.get("MINSEAL_PG_BIN", "/usr/lib/postgresql/15/bin"))
ENV_URL = "MINSEAL_TEST_PG_URL"
UNPRIVILEGED = "nobody"


def _as_owner(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: drop to an unprivileged user for initdb and pg_ctl."""
    if os.geteuid() == 0:
        return ["runuser", "-u", UNPRIVILEGED, "--", *cmd]
    return cmd


@contextmanager
def cluster(*, durable: bool = False) -> Iterator[str]:
    """Start a cluster; yield ``postgresql+psycopg://minseal@127.0.0.1:PORT`` (append ``/dbname``).
    ``durable``: keep fsync on (the load bench measures real commits; tests do not need them)."""
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError(f"PostgreSQL 15 is not installed ({PG_BIN}/initdb missing): run scripts/setup")
    root = Path(tempfile.mkdtemp(prefix="minseal-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, UNPRIVILEGED)
    port = free_port()
    run = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    try:
        subprocess.run(_as_owner([str(PG_BIN / "initdb"), "-D", str(data), "-U", "minseal", "--auth=trust",
                                  "-E", "UTF8", "--locale=C", "--no-sync"]), **run)  # type: ignore[call-overload]
        options = f"-p {port} -h 127.0.0.1 -k {root} -c max_connections=200"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(_as_owner([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                                  str(root / "server.log"), "-w", "-t", "60", "start"]),
                       **run)  # type: ignore[call-overload]
        yield f"postgresql+psycopg://minseal@127.0.0.1:{port}"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_owner([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(root, ignore_errors=True)


def new_database(base_url: str, prefix: str = "t") -> str:
    """A fresh, empty database on the cluster; its URL."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    plain = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    return f"{base_url}/{name}"


def clone_database(template_url: str, fresh_url: str) -> None:
    """Replace the fresh, empty database at ``fresh_url`` by a copy of ``template_url``'s (nobody may be connected
    to the template)."""
    import psycopg

    base, template = template_url.rsplit("/", 1)
    fresh_base, name = fresh_url.rsplit("/", 1)
    assert base == fresh_base, (template_url, fresh_url)
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/{name}") as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        assert tables == (0,), f"{name} is not empty"
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}"')  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')  # type: ignore[arg-type]


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m tests.support.pg_cluster CMD [ARG …]", file=sys.stderr)
        return 2
    with cluster() as url:
        return subprocess.call(argv, env={**os.environ, ENV_URL: url})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
