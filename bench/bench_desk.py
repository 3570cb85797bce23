"""Desk pages' server time on 127.0.0.1 (issue 10: every page ≤ 200 ms except rendering and sealing). A township
with N submitted applications (their seal checks cached, as after the first look) and one posted 公示; each page is
fetched 20 times by a signed-in user; prints p50/p95 per page, and the same page's time with the seal check
cache cold for the inbox (what the first look costs).

Run: .venv/bin/python bench/bench_desk.py [N applications]
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.services.demo_users import demo_username
from api.services.identity import Role
from tests.support.public_world import OBJECTION, login
from tests.support.service_world import COUNTY, SAMPLE, TOWNSHIP, VILLAGE, World, serve_app


def desk_client(base: str, world: World, office: str, role: Role) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    name = demo_username(office, role)
    r = client.post("/desk/login", data={"username": name, "password": world.passwords[name]})
    assert r.status_code == 303, r.text
    return client


def timed(client: httpx.Client, path: str, runs: int = 20) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        r = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert r.status_code == 200, (path, r.status_code)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = World(Path(tmp))
        with serve_app(world) as base:
            clerk, reviewer = login(world, base, VILLAGE, Role.CLERK), login(world, base, TOWNSHIP, Role.REVIEWER)
            ids = []
            for _ in range(n):
                doc = clerk.post("/api/documents", json={"family": "dibao_application", "data": SAMPLE}).json()["id"]
                clerk.post(f"/api/documents/{doc}/seal", json={})
                clerk.post(f"/api/documents/{doc}/submit")
                ids.append(doc)
            reviewer.post(f"/api/documents/{ids[0]}/accept")
            notice = reviewer.post("/api/notices/build", json={"objection": OBJECTION}).json()[0]["document_id"]
            reviewer.post(f"/api/notices/{notice}/publish")
            clerk.close()
            reviewer.close()
            township = desk_client(base, world, TOWNSHIP, Role.REVIEWER)
            start = time.perf_counter()
            township.get("/desk/inbox")
            cold = (time.perf_counter() - start) * 1000
            village = desk_client(base, world, VILLAGE, Role.CLERK)
            admin = desk_client(base, world, COUNTY, Role.ADMIN)
            pages = [(village, "/desk"), (village, "/desk/new/dibao_application"), (township, "/desk"),
                     (township, "/desk/inbox"), (township, "/desk/documents"), (township, f"/desk/documents/{ids[1]}"),
                     (township, "/desk/notices"), (township, f"/desk/notices/{notice}"), (admin, "/desk/admin/users"),
                     (admin, "/desk/admin/seals"), (admin, "/desk/admin/audit")]
            print(f"desk pages, {n} applications in the township's inbox, 20 GETs each (ms, server + loopback):")
            print(f"  {'/desk/inbox (seal checks not yet cached)':<46}{cold:8.1f}  (once)")
            for client, path in pages:
                p50, p95 = timed(client, path)
                shown = re.sub(r"/[0-9a-f]{32}", "/{id}", path)
                print(f"  {shown:<46}{p50:8.1f} p50 {p95:8.1f} p95")
            form = village.get("/desk/new/dibao_application").text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
            times = []
            for _ in range(20):
                start = time.perf_counter()
                village.post("/desk/new/dibao_application", data={"csrf_token": csrf, "_action": "check"})
                times.append((time.perf_counter() - start) * 1000)
            print(f"  {'POST form check (all fields refused)':<46}{statistics.median(times):8.1f} p50")
            for c in (township, village, admin):
                c.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
