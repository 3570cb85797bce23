"""Render benchmark: warm in-process time, PDF size and memory per family, against a bare WeasyPrint render
of the same HTML in the same run. Prints figures; gates nothing.

    .venv/bin/python bench/bench_render.py [--repeat 15] [--soak 200]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from weasyprint import HTML

from templates import Catalogue, PdfRenderer
from templates.render_pdf import ASSETS

TARGETS_MS = {"form": 150.0, "notice200": 600.0}


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    fn()  # warm-up
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), result


def bare_html(renderer: PdfRenderer, prepared) -> str:  # type: ignore[no-untyped-def]
    """The same document as a plain WeasyPrint user would feed it: stylesheets linked from the HTML."""
    html = renderer.html(prepared, verify_url="http://127.0.0.1:8000/v/0123456789abcdef")
    family = prepared.family
    sheets = (ASSETS / "common.css", ASSETS / f"{family.kind}.css", family.directory / "style.css")
    links = "".join(f'<link rel="stylesheet" href="file://{p}">' for p in sheets if p.exists())
    return html.replace("</head>", links + "</head>", 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--soak", type=int, default=200)
    args = parser.parse_args()

    catalogue = Catalogue.load()
    renderer = PdfRenderer(catalogue)
    url = "http://127.0.0.1:8000/v/0123456789abcdef"
    print(f"{'document':<34}{'MinSeal ms':>11}{'bare WP ms':>11}{'ratio':>7}{'KB':>7}{'bare KB':>8}{'pages':>6}")
    cases = [(f.id, f.sample()) for f in catalogue]
    notice = catalogue.family("dibao_notice").sample()
    villages = ["东沟南村", "北养马村", "西燕川村", "南赵邱村"]
    notice200 = notice | {"households": [
        {"head_name": f"张{'国建志秀桂长德'[i % 7]}{'英兰福胜刚梅华'[i % 7 - 1]}", "village": villages[i % 4],
         "persons": 1 + i % 5, "monthly_amount": f"{500 + i % 900}.00"} for i in range(200)]}
    cases.append(("dibao_notice (200 households)", notice200))
    for name, data in cases:
        family_id = name.split(" ")[0]
        prepared = catalogue.prepare(family_id, data)
        ours_ms, ours = timed(lambda p=prepared: renderer.render(p, verify_url=url), args.repeat)
        html = bare_html(renderer, prepared)
        bare_ms, bare = timed(lambda h=html: HTML(string=h, base_url=str(ASSETS) + "/").write_pdf(), args.repeat)
        print(f"{name:<34}{ours_ms:>11.0f}{bare_ms:>11.0f}{bare_ms / ours_ms:>6.1f}x"
              f"{len(ours.pdf) / 1024:>7.0f}{len(bare) / 1024:>8.0f}{ours.page_count:>6}")  # type: ignore[attr-defined]

    form = catalogue.prepare("dibao_application", catalogue.family("dibao_application").sample())
    no_pdfa = PdfRenderer(catalogue, pdf_variant=None)
    plain_ms, _ = timed(lambda: no_pdfa.render(form), args.repeat)
    print(f"\nform without PDF/A-2b: {plain_ms:.0f} ms (PDF/A adds the sRGB output intent and XMP)")

    soak_start = rss_mb()
    marks = []
    for i in range(args.soak):
        renderer.render(form)
        if i in (19, args.soak // 2, args.soak - 1):
            marks.append(rss_mb())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"memory over {args.soak} form renders: RSS {soak_start:.0f} → {marks[0]:.0f} (after 20) → "
          f"{marks[1]:.0f} (half) → {marks[-1]:.0f} MB (end); peak RSS {peak:.0f} MB")
    print(f"targets: 1-page form ≤ {TARGETS_MS['form']:.0f} ms and ≤ 120 KB; 200-household notice ≤ "
          f"{TARGETS_MS['notice200']:.0f} ms; memory flat and ≤ 250 MB")


if __name__ == "__main__":
    main()
