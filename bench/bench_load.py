"""Load test (issue 12): `minseal serve --workers N` on a throwaway PostgreSQL cluster (fsync on), driven by locust
(headless, 127.0.0.1, bounded in time) through a day's mix (bench/locustfile.py), for 1 and 2 workers in one run.
Prints requests/s, p50/p95/p99 and errors per request type. Gates nothing.

    .venv/bin/python bench/bench_load.py [--seconds 40] [--users 8] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api import logs
from api.services.demo_users import demo_username
from api.services.identity import Role
from tests.support.pg_cluster import cluster, new_database
from tests.support.servers import free_port
from tests.support.service_world import SAMPLE, TOWNSHIP, World

VILLAGES = ("130634100201", "130634100202", "130634100203")
ROOT = Path(__file__).resolve().parents[1]


def fixture(world: World, out: Path) -> Path:
    """API tokens for the mix's users, sample data, and some documents and sealed files to view and verify."""
    s = world.services
    with s.db.session() as session:
        def token(name: str) -> str:
            return s.identity.create_token(session, s.identity.user(session, name).id, "load", actor="bench")

        tokens = {"village_clerks": [token(demo_username(v, Role.CLERK)) for v in VILLAGES],
                  "township_clerk": token(demo_username(TOWNSHIP, Role.CLERK)),
                  "reviewer": token(demo_username(TOWNSHIP, Role.REVIEWER))}
    with s.db.session() as session:
        clerk = s.identity.authenticate(session, demo_username(TOWNSHIP, Role.CLERK),
                                        world.passwords[demo_username(TOWNSHIP, Role.CLERK)])
    cert = s.documents.catalogue.family("dibao_certificate").sample()
    documents, files, public_ids = [], [], []
    for i in range(6):
        doc = s.workflow.seal(clerk, s.workflow.create(clerk, "dibao_certificate", cert).id)
        documents.append(doc.id)
        public_ids.append(doc.public_id)
        path = out / f"sealed-{i}.pdf"
        path.write_bytes(s.workflow.pdf(clerk, doc.id)[1])
        files.append(str(path))
    path = out / "load.json"
    path.write_text(json.dumps({**tokens, "form": SAMPLE, "certificate": cert, "documents": documents,
                                "public_ids": public_ids, "sealed_files": files}, ensure_ascii=False), "utf-8")
    return path


def serve(world: World, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "MINSEAL_DATA_DIR": str(world.settings.data_dir),
           "MINSEAL_KEYS_DIR": str(world.settings.keys_dir), "MINSEAL_DATABASE_URL": world.services.db.url,
           # every locust user comes from 127.0.0.1: the per-address limit on public pages would count them as one
           "MINSEAL_PUBLIC_RATE_LIMIT": "100000/minute"}
    with (world.settings.data_dir / "serve.log").open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--workers", str(workers), "--port",
                                 str(port)], env=env, cwd=ROOT, start_new_session=True, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError("minseal serve did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)  # uvicorn's supervisor and its worker processes
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def locust(url: str, fixture_path: Path, seconds: int, users: int, prefix: Path) -> list[dict[str, str]]:
    subprocess.run([str(Path(sys.executable).with_name("locust")), "-f", str(ROOT / "bench/locustfile.py"),
                    "--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", url,
                    "--csv", str(prefix), "--only-summary", "--loglevel", "ERROR", "--stop-timeout", "30"],
                   env={**os.environ, "MINSEAL_LOAD_FIXTURE": str(fixture_path)}, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(f"{prefix}_failures.csv", encoding="utf-8") as handle:
        for failure in csv.DictReader(handle):
            print(f"  failure: {failure['Method']} {failure['Name']} ×{failure['Occurrences']}: "
                  f"{failure['Error'][:300]}")
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    logs.configure()
    with tempfile.TemporaryDirectory() as tmp, cluster(durable=True) as pg:
        print(f"locust: {args.users} users, {args.seconds} s per run, PostgreSQL 15 (fsync on), "
              f"{os.cpu_count()} cores")
        summary = []
        for workers in args.workers:
            root = Path(tmp) / f"w{workers}"
            world = World(root, database_url=new_database(pg, "load"))
            path = fixture(world, root)
            proc, url = serve(world, workers)
            try:
                rows = locust(url, path, args.seconds, args.users, root / "locust")
                if os.environ.get("MINSEAL_LOAD_SHOW_LOG"):
                    print((world.settings.data_dir / "serve.log").read_text("utf-8", "replace")[-6000:])
            finally:
                stop(proc)
                world.services.db.dispose()
            print(f"\n-- {workers} worker(s)")
            print(f"{'request':<32}{'count':>7}{'fail':>6}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}")
            for r in rows:
                print(f"{r['Name'][:31]:<32}{r['Request Count']:>7}{r['Failure Count']:>6}"
                      f"{float(r['Requests/s']):>8.2f}{r['50%']:>8}{r['95%']:>8}{r['99%']:>8}")
                if r["Name"] == "Aggregated":
                    summary.append((workers, float(r["Requests/s"]), r["Failure Count"], r["95%"]))
        print("\nworkers  req/s  failures  p95 ms  scaling")
        for workers, rps, failures, p95 in summary:
            print(f"{workers:>7}{rps:>7.2f}{failures:>10}{p95:>8}{rps / summary[0][1]:>8.2f}x")


if __name__ == "__main__":
    main()
