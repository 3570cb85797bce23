"""Where the seal authority's files live: certificates, CRLs and the lock under ``pki_dir``, the CA key under
``keys_dir``, seal images under ``seals_dir``. One place, so no two modules spell a path differently."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from api.settings import Settings


@dataclass(frozen=True)
class AuthorityPaths:
    settings: Settings

    @property
    def root_cert(self) -> Path:
        return self.settings.pki_dir / "root.crt.pem"

    @property
    def root_key(self) -> Path:
        return self.settings.keys_dir / "ca" / "root.key.pem"

    @property
    def legacy_ledger(self) -> Path:
        """Where earlier versions kept the ledger; imported into the database once."""
        return self.settings.pki_dir / "ledger.json"

    @property
    def lock(self) -> Path:
        """One writer at a time for the ledger and the CRL, across processes."""
        return self.settings.pki_dir / "ledger.lock"

    @property
    def crl(self) -> Path:
        """The CRL as DER; the PEM copy sits next to it (:attr:`crl_pem`)."""
        return self.settings.pki_dir / "crl" / "root.crl"

    @property
    def crl_pem(self) -> Path:
        return self.crl.with_suffix(".crl.pem")

    @property
    def tsa_cert(self) -> Path:
        return self.settings.pki_dir / "tsa.crt.pem"

    @property
    def p12_dir(self) -> Path:
        return self.settings.keys_dir / "p12"

    @property
    def sm2_dir(self) -> Path:
        """SM2 key files (an SM2 installation's offices and TSA): PKCS#12 cannot hold SM2 keys."""
        return self.settings.keys_dir / "sm2"

    def cert(self, office_id: str, serial: str) -> Path:
        return self.settings.pki_dir / "certs" / f"{office_id}-{serial}.pem"

    def seal_images(self, office_id: str) -> tuple[Path, Path]:
        """(SVG, PNG) of an office's seal."""
        return self.settings.seals_dir / f"{office_id}.svg", self.settings.seals_dir / f"{office_id}.png"
