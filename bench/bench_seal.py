"""Seal benchmark: warm seal time per PAdES level and key type, against a plain pyHanko ``sign_pdf`` of the
same file in the same run, and the bytes each seal adds. Prints figures; gates nothing.

    .venv/bin/python bench/bench_seal.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from api import logs
from api.services.authority import SealAuthority
from api.services.documents import DocumentService, seal_font
from api.services.sealing import SealingService
from api.services.verification import VerificationService
from api.settings import Settings

VILLAGE = "130634100201"


def timed(fn: Callable[[], bytes], repeat: int) -> tuple[float, bytes]:
    result = fn()  # warm-up: keys, fonts, seal artwork loaded once per process
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), result


def bench_algorithm(algorithm: str, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "var", keys_dir=Path(tmp) / "keys", key_algorithm=algorithm)
        authority = SealAuthority(settings)
        authority.init_demo(seal_font())
        sealing = SealingService(settings, authority, check=VerificationService(settings, authority).verify)
        docs = DocumentService(settings)
        pdf = docs.render("dibao_application", docs.catalogue.family("dibao_application").sample()).rendered.pdf
        p12 = settings.keys_dir / "p12" / f"{VILLAGE}.p12"
        passphrase = (settings.data_dir / "secrets" / "keystore.pass").read_text().strip().encode()
        slot = (111.6, 337.1, 558.8, 450.4)

        def plain(signer: signers.Signer | None = None) -> bytes:
            """What a plain pyHanko user writes: load the PKCS#12, sign a visible field (default stamp)."""
            s = signer or signers.SimpleSigner.load_pkcs12(str(p12), passphrase=passphrase)
            out = BytesIO()
            signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf)), signers.PdfSignatureMetadata(field_name="Sig1"),
                             signer=s, new_field_spec=fields.SigFieldSpec("Sig1", on_page=0, box=slot), output=out)
            return out.getvalue()

        plain_ms, plain_pdf = timed(plain, repeat)
        cached = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=passphrase)
        cached_ms, _ = timed(lambda: plain(cached), repeat)
        for level in ("B-B", "B-T", "B-LT", "B-LTA"):
            ms, sealed = timed(lambda lv=level: sealing.seal(pdf, VILLAGE, level=lv, actor="bench").pdf,  # type: ignore[misc]
                               repeat)
            print(f"{algorithm:<11}{level:<7}{ms:>11.1f}{(len(sealed) - len(pdf)) / 1024:>6.0f}"
                  f"{plain_ms:>10.1f}{cached_ms:>13.1f}{(len(plain_pdf) - len(pdf)) / 1024:>6.0f}"
                  f"{plain_ms / ms:>6.1f}x")


def main() -> None:
    logs.configure()
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(f"{'key':<11}{'level':<7}{'MinSeal ms':>11}{'+KB':>6}{'plain ms':>10}{'plain cached':>13}{'+KB':>6}"
          f"{'ratio':>7}")
    for algorithm in ("ecdsa-p256", "rsa-2048"):
        bench_algorithm(algorithm, args.repeat)
    print("plain = pyHanko sign_pdf, B-B, default visible stamp, PKCS#12 loaded per call (cached: loaded once).")
    print("ratio = plain / MinSeal. targets: visible ECDSA B-B seal ≤ 30 ms; RSA ≤ 50 ms")


if __name__ == "__main__":
    main()
