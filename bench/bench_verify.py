"""Verify benchmark: warm time to verify files with 1, 2 and 3 seals (village → township → county, B-LT) under
the full MinSeal policy (``signer.verify.verify_pdf``), against pyHanko's plain ``validate_pdf_signature`` of every
signature of the same files (one reader, a validation context per seal, pyHanko's own parser), in the same run —
wall and CPU time; then ``minseal verify FILE --trust ROOT`` as a fresh process (an empty data directory: another
site) against a process that only imports pyHanko's validation; then the worst cases of hostile input under the
size limit (time and peak RSS of a fresh process-fork for each).

    .venv/bin/python bench/bench_verify.py [--repeat 15] [--processes 7] [--no-worst]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from api import logs
from api.services.authority import SealAuthority
from api.services.documents import DocumentService, seal_font
from api.services.sealing import SealingService
from api.services.verification import VerificationService
from api.settings import Settings
from signer import fastpdf
from signer.verify import verify_pdf

ROUTE = ("130634100201", "130634100", "130634")
REPO = Path(__file__).resolve().parents[1]


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall ms and median CPU ms (the CPU figure moves less when other jobs share the machine)."""
    fn()
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def process_seconds(cmds: list[list[str]], env: dict[str, str], repeat: int) -> list[float]:
    """Median wall time of each command as a fresh process, run in turns (one of each per round) so that the
    machine's drift falls on all of them alike."""
    samples: list[list[float]] = [[] for _ in cmds]
    for i in range(repeat + 1):
        for cmd, times in zip(cmds, samples, strict=True):
            start = time.perf_counter()
            done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, check=False)
            if done.returncode not in (0, 3, 4):
                raise SystemExit(f"{' '.join(cmd)} → {done.returncode}\n{done.stderr.decode()}")
            if i:  # (the first round warms the page cache)
                times.append(time.perf_counter() - start)
    return [statistics.median(times) for times in samples]


def main() -> None:
    logs.configure()
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--processes", type=int, default=7)
    parser.add_argument("--no-worst", action="store_true", help="skip the hostile worst cases")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "var", keys_dir=Path(tmp) / "keys")
        authority = SealAuthority(settings)
        authority.init_demo(seal_font())
        sealing = SealingService(settings, authority, check=VerificationService(settings, authority).verify)
        verification = VerificationService(settings, authority)
        docs = DocumentService(settings)
        pdf = docs.render("dibao_application", docs.catalogue.family("dibao_application").sample()).rendered.pdf
        root = asn1_x509.Certificate.load(authority.root_certificate().public_bytes(serialization.Encoding.DER))
        crl = authority.crl().public_bytes(serialization.Encoding.DER)

        trust = verification.trust()

        def plain(data: bytes) -> None:
            """pyHanko alone, as a caller would use it: one reader, each signature validated with the trust root
            and the local CRL, default diff policy; pyHanko's own parser throughout."""
            with fastpdf.originals():
                reader = PdfFileReader(BytesIO(data))
                for sig in reader.embedded_regular_signatures:
                    vc = ValidationContext(trust_roots=[root], crls=[crl], allow_fetching=False)
                    validate_pdf_signature(sig, signer_validation_context=vc)

        print(f"{'seals':<7}{'MinSeal ms':>11}{'CPU':>7}{'plain pyHanko ms':>18}{'CPU':>7}{'ratio (CPU)':>13}{'KB':>6}")
        for count in (1, 2, 3):
            sealed = pdf
            for office in ROUTE[:count]:
                sealed = sealing.seal(sealed, office).pdf
            assert verify_pdf(sealed, trust).verdict.value == "PASSED"
            ours, ours_cpu = timed(lambda s=sealed: verify_pdf(s, trust), args.repeat)  # type: ignore[misc]
            theirs, theirs_cpu = timed(lambda s=sealed: plain(s), args.repeat)  # type: ignore[misc]
            print(f"{count:<7}{ours:>11.1f}{ours_cpu:>7.1f}{theirs:>18.1f}{theirs_cpu:>7.1f}"
                  f"{theirs_cpu / ours_cpu:>12.2f}x{len(sealed) / 1024:>6.0f}")
        print("B-LT seals (DSS embedded). targets: full policy no slower than plain pyHanko; 3 seals ≤ 100 ms")
        cli(sealed, authority.root_cert_path, Path(tmp), args.processes)
        if not args.no_worst:
            worst_cases(verification, sealed)


def cli(sealed: bytes, root: Path, tmp: Path, repeat: int) -> None:
    """``minseal verify`` of the 3-seal file with only ``--trust ROOT`` in an empty data directory, as a fresh
    process, beside a process that only imports pyHanko's validation (the floor for a verifier on pyHanko)."""
    path = tmp / "three-seals.pdf"
    path.write_bytes(sealed)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINSEAL_")}
    env.update(MINSEAL_DATA_DIR=str(tmp / "elsewhere"), MINSEAL_KEYS_DIR=str(tmp / "elsewhere-keys"))
    # the same import with the cyclic collector paused, as minseal's entry point loads its modules (api/cli/entry.py):
    # how much of the ratio is that, and how much is the rest of MinSeal
    floor, paused, ours, bare = process_seconds([
        [sys.executable, "-c", "import pyhanko.sign.validation"],
        [sys.executable, "-c", "import gc; gc.disable(); import pyhanko.sign.validation"],
        [sys.executable, "-m", "api.cli", "verify", str(path), "--trust", str(root)],
        [sys.executable, "-c", "pass"],
    ], env, repeat)
    print(f"\n{'fresh process (median of ' + str(repeat) + ')':<44}{'s':>7}")
    print(f"{'python -c pass':<44}{bare:>7.3f}")
    label = 'python -c "import pyhanko.sign.validation"'
    print(f"{label:<44}{floor:>7.3f}")
    print(f"{'  the same, collector paused (gc.disable)':<44}{paused:>7.3f}")
    print(f"{'minseal verify FILE --trust ROOT (3 seals)':<44}{ours:>7.3f}  = {ours / floor:.2f} x the import"
          f" (target ≤ 1.5 x); {ours / paused:.2f} x the import with the collector paused")


def _pad_contents(pdf: bytes, size: int) -> bytes:
    """The issue's 47 MB file: the last signature's /Contents padded with ``size`` bytes of hex zeros."""
    at = pdf.rindex(b"/Contents <") + len(b"/Contents <")
    return pdf[:at] + b"0" * size + pdf[at:]


def _appended_object(pdf: bytes, body: bytes) -> bytes:
    """A new revision after the last seal holding one unreferenced object (as the mutation run found)."""
    size = int(pdf[pdf.rindex(b"/Size") + 5:].split()[0]) if b"/Size" in pdf else 1000
    prev = int(pdf[pdf.rindex(b"startxref") + 9:].split()[0])
    offset = len(pdf) + 1
    obj = b"\n%d 0 obj\n" % size + body + b"\nendobj\n"
    xref_at = offset + len(obj) - 1
    return pdf + obj + (b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00000 n \ntrailer\n<</Size %d/Prev %d"
                        b"/Root 2 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (size, offset, size + 1, prev, xref_at))


def _measure(verification: VerificationService, data: bytes, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    report = verification.verify(data)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put((elapsed, before, peak, report.verdict.value, ",".join(dict.fromkeys(report.codes))[:60]))


def worst_cases(verification: VerificationService, sealed: bytes) -> None:
    bomb = zlib.compress(b"\0" * 2**30, 9)  # 1 GiB of zeros in ~1 MB
    many_bombs = b"".join(b"%d 0 obj<</Filter/FlateDecode/Length %d>>stream\n" % (900 + i, len(bomb2)) + bomb2
                          + b"\nendstream endobj\n" for i, bomb2 in enumerate([zlib.compress(b"\0" * 30 * 2**20)] * 8))
    cases = {
        "45 MB /Contents padding (47 MB file)": _pad_contents(sealed, 45 * 2**20),
        "1 GiB Flate bomb after the last seal": _appended_object(
            sealed, b"<</Filter/FlateDecode/Length %d>>stream\n" % len(bomb) + bomb + b"\nendstream"),
        "8 streams of 30 MB decoded each": sealed + many_bombs,
        "10^6-deep array after the last seal": _appended_object(sealed, b"[" * 10**6 + b"]" * 10**6),
        "genuine 3 seals": sealed,
    }
    context = multiprocessing.get_context("fork")
    print(f"\n{'worst case':<40}{'MB':>6}{'verify s':>10}{'peak RSS MB':>13}{'+MB':>7}  verdict, codes")
    for name, data in cases.items():
        queue: multiprocessing.Queue = context.Queue()  # type: ignore[type-arg]
        child = context.Process(target=_measure, args=(verification, data, queue))
        child.start()
        elapsed, before, peak, verdict, codes = queue.get(timeout=120)
        child.join()
        print(f"{name:<40}{len(data) / 2**20:>6.1f}{elapsed:>10.2f}{peak / 1024:>13.0f}{(peak - before) / 1024:>7.0f}"
              f"  {verdict} {codes}")


if __name__ == "__main__":
    main()
