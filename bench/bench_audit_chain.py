"""The audit chain is one serialisation point: every write transaction appends under one lock. How many appends
per second does it take, on PostgreSQL (fsync on) with 1 and 4 writer processes, and on SQLite? Gates nothing.

    .venv/bin/python bench/bench_audit_chain.py [--appends 200]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.storage.audit import verify_chain
from api.storage.engine import Database
from api.storage.migrate import upgrade
from api.storage.models import AuditRow
from tests.support import concurrency
from tests.support.pg_cluster import cluster, new_database


def run(url: str, writers: int, appends: int) -> tuple[float, float]:
    """Appends per second, and how long all writers were appending at once (the race the test relies on)."""
    db = Database(url)
    upgrade(db.engine)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(writers) as pool:
        start = manager.Barrier(writers)  # every writer connected before the first append
        done = pool.starmap(concurrency.append_audit, [(url, w, appends // writers, start)
                                                       for w in range(writers)])
    elapsed = max(e for _, _, e in done) - min(b for _, b, _ in done)
    overlap = min(e for _, _, e in done) - max(b for _, b, _ in done)
    with db.session() as s:
        assert verify_chain(s.query(AuditRow).order_by(AuditRow.seq).all()).ok
    db.dispose()
    return sum(n for n, _, _ in done) / elapsed, overlap / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appends", type=int, default=400)
    args = parser.parse_args()
    print(f"{'database':<26}{'writers':>8}{'appends/s':>11}{'all writing':>13}")
    with tempfile.TemporaryDirectory() as tmp, cluster(durable=True) as pg:
        for writers in (1, 4):
            for name, url in (("PostgreSQL 15, fsync on", new_database(pg, "a")),
                              ("SQLite WAL, synchronous", f"sqlite:///{tmp}/a{writers}.db")):
                rate, together = run(url, writers, args.appends)
                print(f"{name:<26}{writers:>8}{rate:>11.0f}{together:>12.0%}")
    print("all writing: the share of the run during which every writer was appending (the race overlapped)")

if __name__ == "__main__":
    main()
