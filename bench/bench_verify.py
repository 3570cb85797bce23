"""Verify benchmark: warm time to verify files with 1, 2 and 3 seals under the full MinSeal policy, against
pyHanko's plain ``validate_pdf_signature`` of every signature of the same files, in the same run; then the worst
cases of hostile input under the size limit (time and peak RSS of a fresh process-fork for each).

    .venv/bin/python bench/bench_verify.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
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

ROUTE = ("130634100201", "130634100", "130634")


def timed(fn: Callable[[], object], repeat: int) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    logs.configure()
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
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

        def plain(data: bytes) -> None:
            """pyHanko alone: each signature, trust root and local CRL, default diff policy."""
            reader = PdfFileReader(BytesIO(data))
            for sig in reader.embedded_regular_signatures:
                vc = ValidationContext(trust_roots=[root], crls=[crl], allow_fetching=False)
                validate_pdf_signature(sig, signer_validation_context=vc)

        print(f"{'seals':<7}{'MinSeal ms':>11}{'plain pyHanko ms':>18}{'ratio':>8}{'KB':>6}")
        for count in (1, 2, 3):
            sealed = pdf
            for office in ROUTE[:count]:
                sealed = sealing.seal(sealed, office).pdf
            assert verification.verify(sealed).verdict.value == "PASSED"
            ours = timed(lambda s=sealed: verification.verify(s), args.repeat)  # type: ignore[misc]
            theirs = timed(lambda s=sealed: plain(s), args.repeat)  # type: ignore[misc]
            print(f"{count:<7}{ours:>11.1f}{theirs:>18.1f}{theirs / ours:>7.2f}x{len(sealed) / 1024:>6.0f}")
        print("B-LT seals (DSS embedded). targets: 1 seal ≤ 20 ms; village → township → county ≤ 120 ms")
        worst_cases(verification, sealed)


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
