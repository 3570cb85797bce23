"""Render + seal through the API with 1, 4 and 16 concurrent clients on 127.0.0.1, against the same work
in-process in the same run; then accept (verify + countersign) the same way. Prints documents/s and p50/p95.

Run: .venv/bin/python bench/bench_api.py [N per level]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.services.demo_users import demo_username
from api.services.identity import Role
from tests.support.service_world import SAMPLE, TOWNSHIP, VILLAGE, Api, World, serve_app


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = World(Path(tmp))
        principal = {}
        with world.services.db.session() as s:
            for office, role in ((VILLAGE, Role.CLERK), (TOWNSHIP, Role.REVIEWER)):
                u = world.services.identity.user(s, demo_username(office, role))
                principal[role] = world.services.identity.authenticate(
                    s, u.username, world.passwords[u.username])
        wf = world.services.workflow

        def in_process() -> str:
            doc = wf.create(principal[Role.CLERK], "dibao_application", SAMPLE)
            wf.seal(principal[Role.CLERK], doc.id)
            wf.submit(principal[Role.CLERK], doc.id)
            return doc.id

        in_process()  # warm fonts, keys, TSA
        t = []
        ids = []
        for _ in range(n):
            t0 = time.perf_counter()
            ids.append(in_process())
            t.append(time.perf_counter() - t0)
        print(f"in-process render+seal+submit: {n / sum(t):.2f} docs/s, p50 {statistics.median(t) * 1000:.0f} ms")
        base_rate = n / sum(t)
        t = []
        for doc_id in ids:
            t0 = time.perf_counter()
            wf.accept(principal[Role.REVIEWER], doc_id)
            t.append(time.perf_counter() - t0)
        print(f"in-process accept (verify+countersign): {n / sum(t):.2f} docs/s, "
              f"p50 {statistics.median(t) * 1000:.0f} ms")
        accept_rate = n / sum(t)

        with serve_app(world) as base:
            for clients in (1, 4, 16):
                clerk = demo_username(VILLAGE, Role.CLERK)
                apis = [Api(base, clerk, world.passwords[clerk]) for _ in range(clients)]
                reviewers = [Api(base, demo_username(TOWNSHIP, Role.REVIEWER),
                                 world.passwords[demo_username(TOWNSHIP, Role.REVIEWER)]) for _ in range(clients)]

                def one(i: int, apis: list[Api] = apis, clients: int = clients) -> tuple[float, str]:
                    api = apis[i % clients]
                    t0 = time.perf_counter()
                    d = api.post("/api/documents", json={"family": "dibao_application", "data": SAMPLE}).json()
                    api.post(f"/api/documents/{d['id']}/seal", json={})
                    api.post(f"/api/documents/{d['id']}/submit")
                    return time.perf_counter() - t0, d["id"]

                def acc(item: tuple[int, str], reviewers: list[Api] = reviewers, clients: int = clients) -> float:
                    t0 = time.perf_counter()
                    r = reviewers[item[0] % clients].post(f"/api/documents/{item[1]}/accept")
                    assert r.status_code == 200, r.text
                    return time.perf_counter() - t0

                total = max(n, clients * 2)
                with ThreadPoolExecutor(clients) as pool:
                    t0 = time.perf_counter()
                    results = list(pool.map(one, range(total)))
                    wall = time.perf_counter() - t0
                    lat = [r[0] for r in results]
                    print(f"HTTP {clients:>2} clients render+seal+submit: {total / wall:.2f} docs/s "
                          f"(×{total / wall / base_rate:.2f} of in-process), p50 {pct(lat, .5) * 1000:.0f} ms, "
                          f"p95 {pct(lat, .95) * 1000:.0f} ms")
                    t0 = time.perf_counter()
                    lat = list(pool.map(acc, enumerate(r[1] for r in results)))
                    wall = time.perf_counter() - t0
                    print(f"HTTP {clients:>2} clients accept: {total / wall:.2f} docs/s "
                          f"(×{total / wall / accept_rate:.2f} of in-process), p50 {pct(lat, .5) * 1000:.0f} ms, "
                          f"p95 {pct(lat, .95) * 1000:.0f} ms")
                for a in apis + reviewers:
                    a.close()
        world.services.db.dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 16)
