"""Render + seal throughput with one worker process per core (issue 12): each process loads the catalogue, the
stylesheets, fonts and keys once (DocumentService + SealingService, as a `minseal worker` does), then renders and
seals documents at B-LT for a fixed time. Prints documents/s for 1 and N processes and the 200-household 公示.
Gates nothing.

    .venv/bin/python bench/bench_throughput.py [--seconds 20] [--processes 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

VILLAGE, TOWNSHIP = "130634100201", "130634100"


def _services(root: str) -> tuple[Any, Any]:
    from api.services.authority import SealAuthority
    from api.services.documents import DocumentService
    from api.services.sealing import SealingService
    from api.services.verification import VerificationService
    from api.settings import Settings

    settings = Settings(data_dir=Path(root) / "var", keys_dir=Path(root) / "keys", seal_level="B-LT")
    authority = SealAuthority(settings)
    check = VerificationService(settings, authority).verify  # a countersign verifies first, as the service does
    return DocumentService(settings), SealingService(settings, authority, check=check)


def _one(docs: Any, sealing: Any, kind: str) -> None:
    """One document from data to sealed PDF: a 1-page certificate (township) or a form (village box)."""
    if kind == "certificate":
        pdf = docs.render("dibao_certificate", docs.catalogue.family("dibao_certificate").sample()).rendered.pdf
        sealing.seal(pdf, TOWNSHIP)
    else:
        pdf = docs.render("dibao_application", docs.catalogue.family("dibao_application").sample()).rendered.pdf
        sealing.seal(pdf, VILLAGE, opinion="经入户了解，情况属实。")


def worker(root: str, seconds: float, start_at: float, out: Any) -> None:
    from api import logs

    logs.configure()
    docs, sealing = _services(root)
    load_start = time.perf_counter()
    for kind in ("certificate", "form"):  # warm: templates, stylesheets, fonts, keys, seal artwork
        _one(docs, sealing, kind)
    warm_s = time.perf_counter() - load_start
    time.sleep(max(0.0, start_at - time.time()))
    counts = {"certificate": 0, "form": 0}
    stop = time.time() + seconds
    i = 0
    while time.time() < stop:
        kind = ("certificate", "form")[i % 2]
        _one(docs, sealing, kind)
        counts[kind] += 1
        i += 1
    out.put((os.getpid(), counts, warm_s))


def run(root: str, processes: int, seconds: float) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 12 + 3 * processes  # every process warm before the clock starts
    procs = [ctx.Process(target=worker, args=(root, seconds, start_at, out)) for _ in range(processes)]
    for p in procs:
        p.start()
    results = [out.get(timeout=start_at - time.time() + seconds + 120) for _ in procs]
    for p in procs:
        p.join()
    total = sum(sum(c.values()) for _, c, _ in results)
    return {"docs_per_s": total / seconds, "certificates": sum(c["certificate"] for _, c, _ in results),
            "forms": sum(c["form"] for _, c, _ in results), "warm_s": max(w for *_, w in results)}


def notice_200(root: str, repeat: int = 3) -> tuple[float, float]:
    """The 200-household 公示 (4 pages or so): render, then seal (with the 骑缝章), warm, median seconds."""
    from bench.bench_large import households

    docs, sealing = _services(root)
    data = docs.catalogue.family("dibao_notice").sample() | {"households": households(200)}
    render_s, seal_s = [], []
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        pdf = docs.render("dibao_notice", data).rendered.pdf
        t1 = time.perf_counter()
        sealing.seal(pdf, TOWNSHIP)
        t2 = time.perf_counter()
        render_s.append(t1 - t0)
        seal_s.append(t2 - t1)
    return statistics.median(render_s[1:]), statistics.median(seal_s[1:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    from api import logs
    from api.services.authority import SealAuthority
    from api.services.documents import seal_font
    from api.settings import Settings

    logs.configure()
    with tempfile.TemporaryDirectory() as root:
        SealAuthority(Settings(data_dir=Path(root) / "var", keys_dir=Path(root) / "keys")).init_demo(seal_font())
        print(f"render + seal at B-LT, certificate and form alternating, {args.seconds:.0f} s per run, "
              f"{os.cpu_count()} cores")
        print(f"{'processes':>9}{'docs/s':>9}{'certs':>7}{'forms':>7}{'warm-up s':>11}{'scaling':>9}")
        one = None
        for n in sorted({1, args.processes}):
            r = run(root, n, args.seconds)
            one = one or r["docs_per_s"]
            print(f"{n:>9}{r['docs_per_s']:>9.2f}{r['certificates']:>7}{r['forms']:>7}{r['warm_s']:>11.1f}"
                  f"{r['docs_per_s'] / one:>8.2f}x")
        render_s, seal_s = notice_200(root)
        print(f"200-household 公示: render {render_s * 1000:.0f} ms + seal {seal_s * 1000:.0f} ms = "
              f"{(render_s + seal_s) * 1000:.0f} ms (one process, warm)")


if __name__ == "__main__":
    main()
