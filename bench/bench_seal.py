"""Seal benchmark: warm seal time per PAdES level and key type — the first seal (certify) and a countersign
(whose pre-countersign check runs first, uncached as the CLI runs it, or from a cached report as the service's
accept path leaves it) — against a plain pyHanko ``sign_pdf`` of the same file in the same run; the bytes each
seal adds; and how many times one seal parses a PDF (``PdfFileReader`` constructions, counted by wrapping its
``__init__``: pyHanko's own long-term steps — the DSS revision of B-LT, the document timestamp of B-LTA — open
the output again and are counted too). Prints figures; gates nothing.

    .venv/bin/python bench/bench_seal.py [--repeat 15] [--only-sm2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

from cryptography import x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers

from api import logs
from api.services.authority import SealAuthority
from api.services.documents import DocumentService, seal_font
from api.services.sealing import SealingService
from api.services.verification import VerificationService
from api.settings import Settings
from signer import sm2_pki
from signer.pki import PkiEndpoints
from signer.report import VerificationReport
from signer.sign import PdfToSeal, Sealer, SealLevel
from signer.signers import Revocation, sm2_key_signer, sm2_local_timestamper
from signer.sm2 import Sm2PrivateKey

VILLAGE, TOWNSHIP = "130634100201", "130634100"
LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")

_PARSES = 0
_reader_init = PdfFileReader.__init__


def _counting_init(self: PdfFileReader, *args: Any, **kwargs: Any) -> None:
    global _PARSES
    _PARSES += 1
    _reader_init(self, *args, **kwargs)


PdfFileReader.__init__ = _counting_init


def timed(fn: Callable[[], bytes], repeat: int) -> tuple[float, float, bytes]:
    """Median milliseconds, PDF parses per call, and the last result (after one warm-up call: keys, fonts, seal
    artwork and the signature's reserved size are loaded or learnt once per process)."""
    global _PARSES
    result = fn()
    samples = []
    _PARSES = 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), _PARSES / repeat, result


def bench_algorithm(algorithm: str, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "var", keys_dir=Path(tmp) / "keys", key_algorithm=algorithm)
        authority = SealAuthority(settings)
        authority.init_demo(seal_font())
        verification = VerificationService(settings, authority)
        sealing = SealingService(settings, authority, check=verification.verify)
        reports: dict[bytes, VerificationReport] = {}

        def cached_check(pdf: bytes, **kwargs: Any) -> VerificationReport:
            """What the service's report cache does once the accept path has checked the file."""
            if pdf not in reports:
                reports[pdf] = verification.verify(pdf, **kwargs)
            return reports[pdf]

        served = SealingService(settings, authority, check=cached_check)
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

        plain_ms, plain_parses, plain_pdf = timed(plain, repeat)
        cached = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=passphrase)
        cached_ms, _, _ = timed(lambda: plain(cached), repeat)
        plain_kb = (len(plain_pdf) - len(pdf)) / 1024

        def row(step: str, level: str, ms: float, parses: float, added: int) -> None:
            print(f"{algorithm:<11}{step:<19}{level:<7}{ms:>9.1f}{parses:>8.1f}{added / 1024:>6.0f}"
                  f"{plain_ms:>9.1f}{plain_parses:>7.1f}{cached_ms:>9.1f}{plain_kb:>6.0f}{plain_ms / ms:>7.2f}x")

        for level in LEVELS:
            ms, parses, sealed = timed(lambda lv=level: sealing.seal(  # type: ignore[misc]
                pdf, VILLAGE, level=lv, actor="bench").pdf, repeat)
            row("certify", level, ms, parses, len(sealed) - len(pdf))
        first = sealing.seal(pdf, VILLAGE, level="B-LT", actor="bench").pdf
        for step, service in (("countersign", sealing), ("countersign cached", served)):
            for level in LEVELS:
                ms, parses, sealed = timed(lambda lv=level, s=service: s.seal(  # type: ignore[misc]
                    first, TOWNSHIP, level=lv, actor="bench").pdf, repeat)
                row(step, level, ms, parses, len(sealed) - len(first))


def bench_sm2(repeat: int) -> None:
    """SM2/SM3 beside ECDSA P-256 in the same run and the same path: the service's plan for the village's box,
    sealed by ``Sealer.seal`` — ECDSA with the demo's key, RSA TSA and CRL/OCSP; SM2 with an SM2 root, office
    key, TSA, CRL and OCSP responder built here (signer.sm2_pki). The signature's reserved size is learnt from
    the first seal, as the service does. Then both through ``SealingService.seal``, SM2 in an ``init-demo --sm2``
    installation."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "var", keys_dir=Path(tmp) / "keys", key_algorithm="ecdsa-p256")
        authority = SealAuthority(settings)
        authority.init_demo(seal_font())
        sealing = SealingService(settings, authority, check=VerificationService(settings, authority).verify)
        docs = DocumentService(settings)
        pdf = docs.render("dibao_application", docs.catalogue.family("dibao_application").sample()).rendered.pdf
        office, record = authority.check_can_seal(VILLAGE)
        endpoints = PkiEndpoints(crl_url="http://127.0.0.1/pki/crl", ocsp_url="http://127.0.0.1/pki/ocsp",
                                 ca_issuers_url=None)
        root_key, office_key, tsa_key = (Sm2PrivateKey.generate() for _ in range(3))
        root = sm2_pki.make_root(root_key, common_name="SM2 bench root", organization="MinSeal")
        cert = sm2_pki.issue_office_certificate(office=office.identity, public_key=office_key.public_key,
                                                ca_cert=root, ca_key=root_key, endpoints=endpoints)
        tsa = sm2_pki.issue_tsa_certificate(public_key=tsa_key.public_key, ca_cert=root, ca_key=root_key,
                                            endpoints=endpoints, common_name="SM2 bench TSA")
        as_x509 = [x509.load_der_x509_certificate(c.dump()) for c in (root, cert, tsa)]
        statuses = {c.serial_number: sm2_pki.Sm2CertificateStatus(c) for c in (cert, tsa)}
        sm2_revocation = Revocation(
            root=lambda: as_x509[0],
            crl=lambda: sm2_pki.make_crl(ca_cert=root, ca_key=root_key, revoked=[], number=1).dump(),
            ocsp=lambda req: sm2_pki.ocsp_respond(req, issuer=lambda: root, issuer_key=lambda: root_key,
                                                  status_of=statuses.get))
        kinds = {
            "ecdsa-p256": (sealing.signer_for(office, record), sealing.timestamper(), sealing.revocation()),
            "sm2-sm3": (sm2_key_signer(office_key, as_x509[1], root=as_x509[0]),
                        sm2_local_timestamper(as_x509[2], tsa_key, root=as_x509[0]), sm2_revocation),
        }
        results: dict[tuple[str, str], float] = {}
        for level in LEVELS:
            for kind, (signer, timestamper, revocation) in kinds.items():
                reserve: dict[str, int] = {}

                def once(lv: str = level, s: Any = signer, t: Any = timestamper, r: Any = revocation,
                         res: dict[str, int] = reserve) -> bytes:
                    doc = PdfToSeal(pdf)
                    plan = sealing.plan(doc, office, opinion=None, level=SealLevel(lv), day=dt.date.today())
                    sealer = Sealer(timestamper=t if lv != "B-B" else None, revocation=r)
                    sealed = sealer.seal(doc, plan, s, reserve=res.get("hex"))
                    res.setdefault("hex", sealed.container_hex + 2048)
                    return sealed.pdf

                ms, parses, sealed = timed(once, repeat)
                results[kind, level] = ms
                ratio = f"{ms / results['ecdsa-p256', level]:.2f}x" if kind == "sm2-sm3" else ""
                print(f"{kind:<11}{'certify (Sealer)':<19}{level:<7}{ms:>9.1f}{parses:>8.1f}"
                      f"{(len(sealed) - len(pdf)) / 1024:>6.0f}{'':>31}{ratio:>8}")
        # the whole service path: an installation made by ``init-demo --sm2`` beside the ECDSA one
        sm2_settings = Settings(data_dir=Path(tmp) / "sm2" / "var", keys_dir=Path(tmp) / "sm2" / "keys",
                                key_algorithm="sm2-sm3")
        sm2_authority = SealAuthority(sm2_settings)
        sm2_authority.init_demo(seal_font())
        services = {"ecdsa-p256": sealing, "sm2-sm3": SealingService(
            sm2_settings, sm2_authority, check=VerificationService(sm2_settings, sm2_authority).verify)}
        for level in LEVELS:
            for kind, service in services.items():
                ms, parses, sealed = timed(lambda lv=level, sv=service: sv.seal(  # type: ignore[misc]
                    pdf, VILLAGE, level=lv, actor="bench").pdf, repeat)
                results[f"{kind} service", level] = ms
                ratio = f"{ms / results['ecdsa-p256 service', level]:.2f}x" if kind == "sm2-sm3" else ""
                print(f"{kind:<11}{'certify (service)':<19}{level:<7}{ms:>9.1f}{parses:>8.1f}"
                      f"{(len(sealed) - len(pdf)) / 1024:>6.0f}{'':>31}{ratio:>8}")


def main() -> None:
    logs.configure()
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only-sm2", action="store_true", help="only the SM2 / ECDSA rows")
    args = parser.parse_args()
    print(f"{'key':<11}{'step':<19}{'level':<7}{'seal ms':>9}{'parses':>8}{'+KB':>6}{'plain ms':>9}{'parses':>7}"
          f"{'cached':>9}{'+KB':>6}{'ratio':>8}")
    for algorithm in () if args.only_sm2 else ("ecdsa-p256", "rsa-2048"):
        bench_algorithm(algorithm, args.repeat)
    bench_sm2(args.repeat)
    print("seal = SealingService.seal, warm; countersign: the township seals the village's B-LT file, its check of "
          "the file uncached (as the CLI) or cached (as the service after accepting).")
    print("parses = PdfFileReader constructions per seal (pyHanko's own B-LT/B-LTA steps open the output again).")
    print("plain = pyHanko sign_pdf, B-B, default visible stamp, PKCS#12 loaded per call (cached: loaded once).")
    print("ratio = plain / seal. targets: visible ECDSA B-B seal ≤ 30 ms; RSA ≤ 50 ms")
    print("certify (Sealer) rows: the same plan and Sealer.seal for both keys (no service bookkeeping); certify "
          "(service) rows: SealingService.seal in the demo installation and in one made by init-demo --sm2 (SM2 "
          "root, office key, TSA, CRL, OCSP); ratio = SM2 / ECDSA at that level. target: SM2 ≤ 1.5 × ECDSA")


if __name__ == "__main__":
    main()
