"""An SM2 PKI beside the demo installation (whose registry, forms and seal layout it reuses): an SM2 root, an
SM2 seal certificate per office of the route, an SM2 TSA, a CRL and an OCSP responder — and a seal call that
goes through the same ``Sealer`` and plan as the service's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509

from api.services.authority import SealAuthority
from api.services.sealing import SealingService
from api.services.verification import VerificationService
from api.settings import Settings
from signer import sm2_pki
from signer.pki import PkiEndpoints
from signer.report import VerificationReport
from signer.sign import PdfToSeal, Sealer, SealLevel
from signer.signers import KeySigner, Revocation, sm2_key_signer, sm2_local_timestamper
from signer.sm2 import Sm2PrivateKey
from signer.verify import TrustSettings, verify_pdf
from tests.support.installations import install_demo

VILLAGE, OTHER_VILLAGE, TOWNSHIP, COUNTY = "130634100201", "130634100202", "130634100", "130634"
ENDPOINTS = PkiEndpoints(crl_url="http://127.0.0.1:9/pki/crl", ocsp_url="http://127.0.0.1:9/pki/ocsp",
                         ca_issuers_url=None)


def crypto(cert: asn1_x509.Certificate) -> x509.Certificate:
    """``cryptography`` loads SM2 certificates (not their keys): the type roots travel as."""
    return x509.load_der_x509_certificate(cert.dump())


@dataclass
class Sm2World:
    root: Path
    settings: Settings = field(init=False)
    authority: SealAuthority = field(init=False)
    sealing: SealingService = field(init=False)
    root_key: Sm2PrivateKey = field(init=False)
    root_cert: asn1_x509.Certificate = field(init=False)
    keys: dict[str, Sm2PrivateKey] = field(init=False, default_factory=dict)
    certs: dict[str, asn1_x509.Certificate] = field(init=False, default_factory=dict)
    revoked: list[sm2_pki.RevokedEntry] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.settings = Settings(data_dir=self.root / "var", keys_dir=self.root / "keys")
        install_demo(self.settings)
        self.authority = SealAuthority(self.settings)
        verification = VerificationService(self.settings, self.authority)
        self.sealing = SealingService(self.settings, self.authority, check=self.verify)
        self._route = verification._route_of
        self.root_key = Sm2PrivateKey.generate()
        self.root_cert = sm2_pki.make_root(self.root_key, common_name="MinSeal 演示 SM2 根证书",
                                           organization="MinSeal 演示")
        registry = self.authority.registry()
        for office_id in (VILLAGE, OTHER_VILLAGE, TOWNSHIP, COUNTY):
            key = Sm2PrivateKey.generate()
            self.keys[office_id] = key
            self.certs[office_id] = sm2_pki.issue_office_certificate(
                office=registry.get(office_id).identity, public_key=key.public_key, ca_cert=self.root_cert,
                ca_key=self.root_key, endpoints=ENDPOINTS)
        self.tsa_key = Sm2PrivateKey.generate()
        self.tsa_cert = sm2_pki.issue_tsa_certificate(public_key=self.tsa_key.public_key, ca_cert=self.root_cert,
                                                      ca_key=self.root_key, endpoints=ENDPOINTS,
                                                      common_name="MinSeal SM2 时间戳服务")
        self.timestamper = sm2_local_timestamper(crypto(self.tsa_cert), self.tsa_key, root=crypto(self.root_cert))

    # -- the CA's services -------------------------------------------------------------------------------------
    def crl(self) -> bytes:
        der: bytes = sm2_pki.make_crl(ca_cert=self.root_cert, ca_key=self.root_key, revoked=self.revoked,
                                      number=len(self.revoked) + 1).dump()
        return der

    def status_of(self, serial: int) -> sm2_pki.Sm2CertificateStatus | None:
        for cert in [*self.certs.values(), self.tsa_cert]:
            if cert.serial_number == serial:
                entry = next((r for r in self.revoked if r.serial == serial), None)
                if entry is None:
                    return sm2_pki.Sm2CertificateStatus(cert)
                return sm2_pki.Sm2CertificateStatus(cert, entry.revoked_at, entry.reason.name)
        return None

    def ocsp(self, request: bytes) -> bytes:
        return sm2_pki.ocsp_respond(request, issuer=lambda: self.root_cert, issuer_key=lambda: self.root_key,
                                    status_of=self.status_of)

    def revocation(self) -> Revocation:
        return Revocation(root=lambda: crypto(self.root_cert), crl=self.crl, ocsp=self.ocsp)

    # -- sealing and verifying ---------------------------------------------------------------------------------
    def signer(self, office_id: str) -> KeySigner:
        return sm2_key_signer(self.keys[office_id], crypto(self.certs[office_id]), root=crypto(self.root_cert))

    def seal(self, pdf: bytes, office_id: str, *, level: SealLevel = SealLevel.B_LT,
             signer_of: str | None = None) -> bytes:
        """The service's plan for ``office_id``'s box, sealed with ``signer_of``'s key (default: the same)."""
        office = self.authority.registry().get(office_id)
        doc = PdfToSeal(pdf)
        plan = self.sealing.plan(doc, office, opinion=None, level=level, day=dt.date.today())
        sealer = Sealer(timestamper=self.timestamper if level is not SealLevel.B_B else None,
                        revocation=self.revocation())
        return sealer.seal(doc, plan, self.signer(signer_of or office_id)).pdf

    def trust(self, **kwargs: object) -> TrustSettings:
        return TrustSettings(roots=(crypto(self.root_cert),), **kwargs)  # type: ignore[arg-type]

    def verify(self, pdf: bytes, *, parsed: object = None, **kwargs: object) -> VerificationReport:
        return verify_pdf(pdf, self.trust(**kwargs), route_of=self._route)
