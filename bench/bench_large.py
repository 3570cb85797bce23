"""Large household lists: time and peak memory of the 公示 notice as DOCX and as PDF, for 1,000 and 5,000
households (each measurement in a fresh process, so peak RSS is its own). Prints figures; gates nothing.

    .venv/bin/python bench/bench_large.py [--sizes 1000 5000] [--family dibao_notice]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

VILLAGES = ("东沟南村", "北养马村", "西燕川村", "南赵邱村")


def households(n: int) -> list[dict[str, Any]]:
    return [{"head_name": f"张{'国建志秀桂长德'[i % 7]}{'英兰福胜刚梅华'[i % 7 - 1]}", "village": VILLAGES[i % 4],
             "persons": 1 + i % 5, "monthly_amount": f"{500 + i % 900}.00"} for i in range(n)]


def measure(family_id: str, n: int, kind: str) -> dict[str, float]:
    """In this process: validate + build one document; seconds and peak RSS."""
    from templates import Catalogue, PdfRenderer, render_docx

    catalogue = Catalogue.load()
    data = catalogue.family(family_id).sample()
    if family_id == "dibao_result_notice":
        rows = [h | {"township": "燕赵镇", "category": "A类"} for h in households(n)]
    else:
        rows = households(n)
    data = data | {"households": rows}
    renderer = PdfRenderer(catalogue) if kind == "pdf" else None
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    prepared = catalogue.prepare(family_id, data)
    if renderer is not None:
        result = renderer.render(prepared, verify_url="http://127.0.0.1:8000/v/0123456789abcdef")
        size, pages = len(result.pdf), result.page_count
    else:
        size, pages = len(render_docx(prepared)), 0
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak, "start_mb": base_rss, "kb": size / 1024, "pages": pages}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--family", default="dibao_notice")
    parser.add_argument("--one", nargs=2, metavar=("N", "KIND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.family, int(args.one[0]), args.one[1])))
        return
    print(f"{args.family}: one fresh process per row (validate + build)")
    print(f"{'households':>10}{'kind':>6}{'seconds':>9}{'µs/row':>8}{'peak MB':>9}{'KB':>8}{'pages':>7}")
    for n in args.sizes:
        for kind in ("docx", "pdf"):
            done = subprocess.run([sys.executable, __file__, "--family", args.family, "--one", str(n), kind],
                                  capture_output=True, text=True, check=True)
            r = json.loads(done.stdout.splitlines()[-1])
            print(f"{n:>10}{kind:>6}{r['seconds']:>9.2f}{r['seconds'] / n * 1e6:>8.0f}{r['peak_mb']:>9.0f}"
                  f"{r['kb']:>8.0f}{r['pages'] or '':>7}")


if __name__ == "__main__":
    main()
