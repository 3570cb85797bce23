"""Verify benchmark: warm time to verify files with 1, 2 and 3 seals under the full MinSeal policy, against
pyHanko's plain ``validate_pdf_signature`` of every signature of the same files, in the same run.

    .venv/bin/python bench/bench_verify.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from api import logs
from api.sealing import SealingService
from api.seals import SealAuthority
from api.settings import Settings
from api.verification import VerificationService
from api.workflow import DocumentService, seal_font

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
        sealing = SealingService(settings, authority)
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


if __name__ == "__main__":
    main()
