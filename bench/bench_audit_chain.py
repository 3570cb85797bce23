"""The audit chain is one serialisation point: every write transaction appends under one lock. How many appends
per second does it take, on PostgreSQL (fsync on) with 1 and 4 writer processes, and on SQLite? Gates nothing.

    .venv/bin/python bench/bench_audit_chain.py [--appends 200]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.storage.audit import verify_chain
from api.storage.engine import Database
from api.storage.migrate import upgrade
from api.storage.models import AuditRow
from tests.support import concurrency
from tests.support.pg_cluster import cluster, new_database


def run(url: str, writers: int, appends: int) -> float:
    db = Database(url)
    upgrade(db.engine)
    start_at = time.time() + 5
    with multiprocessing.get_context("spawn").Pool(writers) as pool:
        done = pool.starmap(concurrency.append_audit, [(url, w, appends // writers, start_at)
                                                       for w in range(writers)])
    elapsed = max(e for _, _, e in done) - min(b for _, b, _ in done)
    with db.session() as s:
        assert verify_chain(s.query(AuditRow).order_by(AuditRow.seq).all()).ok
    db.dispose()
    return sum(n for n, _, _ in done) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appends", type=int, default=400)
    args = parser.parse_args()
    print(f"{'database':<26}{'writers':>8}{'appends/s':>11}")
    with tempfile.TemporaryDirectory() as tmp, cluster(durable=True) as pg:
        for writers in (1, 4):
            pg_rate = run(new_database(pg, "a"), writers, args.appends)
            print(f"{'PostgreSQL 15, fsync on':<26}{writers:>8}{pg_rate:>11.0f}")
            print(f"{'SQLite WAL, synchronous':<26}{writers:>8}"
                  f"{run(f'sqlite:///{tmp}/a{writers}.db', writers, args.appends):>11.0f}")


if __name__ == "__main__":
    main()
