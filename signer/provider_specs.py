"""What the registry says of an office's seal source (docs/seal-providers.md): the provider kind and its frozen
spec, stored as JSON. Kept apart from ``signer.providers``, which makes signers (and imports pyHanko's signing
side): reading the registry — every command, the verifier too — needs only this."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar


class ProviderKind(StrEnum):
    OWN_CA = "minseal-ca"
    OFFICIAL = "official"
    REMOTE = "remote"

    @property
    def label(self) -> str:
        return {"minseal-ca": "本系统自建CA印章", "official": "正式电子印章", "remote": "远程签章服务"}[self.value]


# -- what the registry says (frozen specs) ----------------------------------------------------------------------
@dataclass(frozen=True)
class OwnCaSpec:
    """MinSeal's own CA: the key store named by the office's ``key_store``."""

    kind: ClassVar[ProviderKind] = ProviderKind.OWN_CA


@dataclass(frozen=True)
class RemoteSpec:
    """A remote signing service (the provincial seal platform)."""

    kind: ClassVar[ProviderKind] = ProviderKind.REMOTE
    #: the service's base URL (https; http only on 127.0.0.1/localhost)
    url: str
    #: the office's seal at the service
    seal_id: str
    #: a file holding the API credential (first line); never the credential itself
    credential_file: Path
    #: seconds per request
    timeout_s: float = 10.0
    #: CA certificates (PEM) the service's TLS certificate is checked against; None: the system's
    tls_ca_file: Path | None = None


@dataclass(frozen=True)
class OfficialSpec:
    """An official seal held by the office: the files its 电子印章制作管理单位 handed over."""

    kind: ClassVar[ProviderKind] = ProviderKind.OFFICIAL
    #: the GB/T 38540 seal data (SES_Seal, DER)
    ses_seal: Path
    #: the SM2 signing key, encrypted PKCS#8 (PBES2)
    key_file: Path
    #: a file holding the key file's passphrase (first line)
    passphrase_file: Path
    #: the signing certificate (PEM or DER; a PEM file may carry the chain after it)
    certificate: Path
    #: the root of the licensed CA that certified the seal maker and the signer (PEM or DER): trusted by this
    #: installation's own checks once the office registered it (``minseal seals use-official --ca-root``)
    ca_root: Path | None = None
    #: that CA's CRL as the installation last fetched it (DER or PEM), for the revocation check of its seals
    ca_crl: Path | None = None


ProviderSpec = OwnCaSpec | RemoteSpec | OfficialSpec


def spec_to_json(spec: ProviderSpec) -> dict[str, Any] | None:
    """The spec as the database stores it (None: the default, MinSeal's own CA). Paths are absolute."""
    if isinstance(spec, OwnCaSpec):
        return None
    if isinstance(spec, RemoteSpec):
        return {"kind": spec.kind.value, "url": spec.url, "seal_id": spec.seal_id,
                "credential_file": str(spec.credential_file), "timeout_s": spec.timeout_s,
                "tls_ca_file": str(spec.tls_ca_file) if spec.tls_ca_file else None}
    optional = {name: str(value) for name, value in (("ca_root", spec.ca_root), ("ca_crl", spec.ca_crl))
                if value is not None}
    return {"kind": spec.kind.value, "ses_seal": str(spec.ses_seal), "key_file": str(spec.key_file),
            "passphrase_file": str(spec.passphrase_file), "certificate": str(spec.certificate), **optional}


def spec_from_json(stored: dict[str, Any] | None) -> ProviderSpec:
    """The inverse of :func:`spec_to_json` (rows written by it, already validated at import)."""
    if not stored:
        return OwnCaSpec()
    if stored["kind"] == ProviderKind.REMOTE:
        ca = stored.get("tls_ca_file")
        return RemoteSpec(url=stored["url"], seal_id=stored["seal_id"],
                          credential_file=Path(stored["credential_file"]),
                          timeout_s=float(stored.get("timeout_s", 10.0)), tls_ca_file=Path(ca) if ca else None)
    return OfficialSpec(ses_seal=Path(stored["ses_seal"]), key_file=Path(stored["key_file"]),
                        passphrase_file=Path(stored["passphrase_file"]), certificate=Path(stored["certificate"]),
                        ca_root=Path(stored["ca_root"]) if stored.get("ca_root") else None,
                        ca_crl=Path(stored["ca_crl"]) if stored.get("ca_crl") else None)
