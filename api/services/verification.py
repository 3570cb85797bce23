"""Use case: check a file's seals before accepting it. Trust, revocation data and the route come from this
installation (roots, local CRL, office registry); the verdict comes from ``signer.verify``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import pem
from cryptography import x509

from api.services.authority import SealAuthority
from api.services.offices import RegistryError, UnknownOfficeError
from api.settings import Settings
from signer.case_file import CaseFileReport, check, is_case_file
from signer.errors import InputFileError
from signer.provider_specs import OfficialSpec
from signer.report import VerificationReport
from signer.verify import ParsedPdf, TrustSettings, verify_pdf


def load_roots(paths: Sequence[Path]) -> tuple[x509.Certificate, ...]:
    roots = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            raise InputFileError(f"无法读取根证书文件：{path}") from None
        try:
            roots += x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data else [
                x509.load_der_x509_certificate(data)]
        except ValueError:
            raise InputFileError(f"根证书文件格式错误（应为 PEM 或 DER）：{path}") from None
    return tuple(roots)


class VerificationService:
    def __init__(self, settings: Settings, authority: SealAuthority) -> None:
        self.settings = settings
        self.authority = authority

    def trust(self, roots: Sequence[Path] = (), *, min_level: str | None = None,
              crls: Sequence[Path] = ()) -> TrustSettings:
        """The roots: those given (``--trust``), else ``MINSEAL_TRUST_ROOTS``, else this installation's own root
        and the CA roots its offices registered with their official seals (``seals use-official --ca-root``).
        The CRLs: the installation's own and the registered official CAs' copies, whichever roots apply (a CRL
        only counts for certificates of the CA that signed it), and ``crls`` — files a verifier elsewhere was given
        (``--crl``: e.g. a provincial CA's current list), which count as current until their next update."""
        official_roots, official_crls = self._official_trust()
        paths = list(roots) or list(self.settings.trust_roots) or [self.authority.root_cert_path, *official_roots]
        own = (self.authority.crl_path.read_bytes(),) if self.authority.crl_path.exists() else ()
        given = tuple(_crl_file(path) for path in crls)
        crls_all: tuple[bytes, ...] = own + official_crls + given
        return TrustSettings(roots=load_roots(paths), own_crls=crls_all, allow_fetching=self.settings.fetch_revocation,
                             min_level=min_level or self.settings.min_level)

    def _official_trust(self) -> tuple[list[Path], tuple[bytes, ...]]:
        """The CA roots and CRL copies the registry's official seals name (none on a machine that only
        verifies). A CRL file that is missing is skipped (its seals' revocation stays unknown); a PEM CRL is
        read as DER."""
        registry = self.authority.registry_or_none()
        roots: list[Path] = []
        crls: list[bytes] = []
        for office in registry or ():
            spec = office.seal_provider
            if not isinstance(spec, OfficialSpec):
                continue
            if spec.ca_root is not None and spec.ca_root not in roots:
                roots.append(spec.ca_root)
            if spec.ca_crl is not None:
                try:
                    data = spec.ca_crl.read_bytes()
                except OSError:
                    continue
                data = _der(data)
                if data not in crls:
                    crls.append(data)
        return roots, tuple(crls)

    def _route_of(self, office_id: str) -> list[str] | None:
        try:
            return [o.id for o in self.authority.registry().route(office_id)]
        except (UnknownOfficeError, RegistryError):
            return None

    def verify(self, pdf: bytes, *, roots: Sequence[Path] = (), expected_offices: Sequence[str] = (),
               min_level: str | None = None, parsed: ParsedPdf | None = None,
               crls: Sequence[Path] = ()) -> VerificationReport:
        """``parsed``: the sealer's own parse of ``pdf``, so a pre-countersign check does not parse it again."""
        route_of = self._route_of if self.authority.registry_or_none() is not None else None
        return verify_pdf(pdf, self.trust(roots, min_level=min_level, crls=crls), expected_offices=expected_offices,
                          route_of=route_of, parsed=parsed)

    def is_case_file(self, pdf: bytes) -> bool:
        """Whether ``pdf`` is a 案卷 (index page with the case's papers attached): its verification is
        :meth:`verify_case_file`."""
        return is_case_file(pdf)

    def verify_case_file(self, pdf: bytes, *, roots: Sequence[Path] = (), expected_offices: Sequence[str] = (),
                         min_level: str | None = None, crls: Sequence[Path] = ()) -> CaseFileReport:
        """A 案卷 as a whole: its own seal as any sealed PDF (the index page is a single-issuer document, family
        ``case_file``; ``expected_offices`` apply to it), then every paper against the manifest, each sealed
        paper verified with the same trust and route rules as any file brought to this installation."""
        trust = self.trust(roots, min_level=min_level, crls=crls)
        route_of = self._route_of if self.authority.registry_or_none() is not None else None
        outer = verify_pdf(pdf, trust, expected_offices=expected_offices, route_of=route_of)
        contents = check(pdf, lambda paper: verify_pdf(paper, trust, route_of=route_of))
        return replace(contents, outer=outer)


def _crl_file(path: Path) -> bytes:
    """A CRL file a verifier was given (PEM or DER), as DER; anything else is refused, naming the file."""
    try:
        data = path.read_bytes()
    except OSError:
        raise InputFileError(f"无法读取吊销列表文件：{path}", code="BAD_CRL") from None
    data = _der(data)
    try:
        asn1_crl.CertificateList.load(data, strict=True).native  # noqa: B018 - parse it all
    except Exception:  # asn1crypto raises several kinds on a file that is not DER
        raise InputFileError(f"{path.name} 不是吊销列表（CRL，PEM 或 DER 格式）", code="BAD_CRL") from None
    return data


def _der(data: bytes) -> bytes:
    """A CRL file's bytes as DER (PEM is unarmoured)."""
    return pem.unarmor(data)[2] if pem.detect(data) else data

