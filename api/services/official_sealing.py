"""Sealing with an office's official seal (正式电子印章, GB/T 38540): the branch of ``SealingService.seal`` for an
office whose registry entry names ``seal_provider = { kind = "official", … }``.

The seal goes into the same box the PAdES path would fill (``SealingService.plan``: the tier's slot, its page
and rectangle), as an SES_Signature v4 over the document (``signer.ses_pdf.seal_pdf``). What the box shows is the
seal's own picture from the SES_Seal, nothing else: the opinion, date and figures that MinSeal's own PAdES seal
draws beside its picture would have to be drawn by MinSeal outside the seal maker's picture, and GB/T 38540 signs
only what the signature dictionary covers — so the office's opinion is recorded in the 用印日志 entry and in the
case's own records (the workflow's ``document.accept`` row), not drawn. Everything the PAdES path guarantees still
holds: the office may seal (``check_can_seal``), the file passes the installation's check before anything is
added, the output is delivered before the use is logged, errors are typed with Chinese messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from api.services.offices import Office
from signer import ses, ses_pdf
from signer.errors import NotSealableError, SealingError
from signer.provider_specs import ProviderKind
from signer.providers import OfficialSealProvider, read_certificates
from signer.sign import PdfToSeal, SealLevel

if TYPE_CHECKING:
    from api.services.authority import CertRecord
    from api.services.sealing import SealingService, SealResult


class OfficialLevel(StrEnum):
    """The level a GB/T 38540 seal is reported at (as ``signer.verify.SES_LEVEL``): it is not PAdES."""

    GBT38540 = "GB/T 38540"


#: the seal's own checks that stop a use before anything is signed (maker's signature, validity period, maker's CA)
_BLOCKING = ("SES_MALFORMED", "SES_VERSION_UNSUPPORTED", "SES_ALGORITHM_UNSUPPORTED",
             "SES_SEAL_MAKER_SIGNATURE_INVALID", "SES_SEAL_EXPIRED", "SES_SEAL_NOT_YET_VALID",
             "SES_MAKER_UNTRUSTED", "SES_MAKER_CERT_INVALID")


def check_seal_usable(provider: OfficialSealProvider, office: Office, *, when: dt.datetime) -> bytes:
    """The SES_Seal, checked as a use needs it: it parses, its maker signed it (under the registered CA root,
    when one is registered), it is in its validity period at ``when``, and it lists the signing certificate.
    Raises ``SealingError`` with the seal's own code (SES_SEAL_EXPIRED, SES_SIGNER_NOT_IN_SEAL, …)."""
    seal = provider.ses_seal()
    spec = provider.spec
    roots = read_certificates(spec.ca_root) if spec.ca_root is not None else ()
    result = ses.verify_seal(seal, trust_roots=roots, when=when)
    ignored = set() if roots else {"SES_MAKER_UNTRUSTED", "SES_MAKER_CERT_INVALID"}  # no root registered
    for finding in result.findings:
        if finding.code in _BLOCKING and finding.code not in ignored:
            raise SealingError(f"「{office.name}」的正式电子印章（{spec.ses_seal.name}）不能使用：{finding.message}",
                               code=finding.code)
    if not ses.signer_listed(ses.read_seal(seal), provider.certificates()[0].dump()):
        raise SealingError(f"「{office.name}」的签名证书（{spec.certificate.name}）不在正式电子印章"
                           f"（{spec.ses_seal.name}）的签章者证书列表中，不能用印", code="SES_SIGNER_NOT_IN_SEAL")
    return seal


def seal_official(service: SealingService, pdf: bytes, office: Office, record: CertRecord, *,
                  opinion: str | None, day: dt.date, actor: str, deliver: Callable[[bytes], None] | None,
                  decision: object) -> SealResult:
    """``pdf`` with the office's official seal in its box (see the module docstring)."""
    from api.services.sealing import SealResult, _use_entry

    provider = service.provider_for(office)
    if not isinstance(provider, OfficialSealProvider):  # the registry said official; the cache must agree
        raise NotSealableError(f"「{office.name}」未登记正式电子印章", code="PROVIDER_MISMATCH")
    doc = PdfToSeal(pdf)
    # the plan decides the box, and validates the tier's figures as for any seal (a bad decision is refused)
    plan = service.plan(doc, office, opinion=opinion, level=SealLevel.B_B, day=day, decision=decision)
    if plan.certify:
        raise NotSealableError(
            f"「{office.name}」的正式电子印章（GB/T 38540）不能作为文书的首个印章：首个印章须为认证签名，"
            "锁定其余签章位，GB/T 38540 签章没有这一机制。请先由首个用印单位以本系统印章用印",
            code="OFFICIAL_SEAL_CANNOT_CERTIFY")
    service._refuse_unless_passes(doc, office)
    when = dt.datetime.now(dt.UTC).replace(microsecond=0)
    seal = check_seal_usable(provider, office, when=when)
    cert = provider.certificates()[0]
    target = plan.target
    out = ses_pdf.seal_pdf(pdf, seal=seal, signer_key=provider.private_key(), signer_cert=cert.dump(),
                           page=target.page_index, box=target.rect, field_name=target.field_name, when=when)
    if deliver is not None:
        deliver(out)
    parsed = ses.read_seal(seal)
    entry = _use_entry(actor=actor, office=office, record=record, field=target.field_name, before=pdf, after=out,
                       level=OfficialLevel.GBT38540, certified=False, provider=ProviderKind.OFFICIAL)
    # the opinion is not drawn (the box shows the official seal's picture only): the log keeps it
    entry.update({"standard": "GB/T 38540-2020", "es_id": str(parsed["eSealInfo"]["esID"].native),
                  "seal_name": ses_pdf.ses_name(parsed), "signed_at": when.isoformat(), "opinion": plan.reason})
    service._use_log(entry)
    return SealResult(out, target.field_name, False, office, record.serial, OfficialLevel.GBT38540, entry)


__all__ = ["OfficialLevel", "check_seal_usable", "seal_official"]
