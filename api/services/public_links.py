"""What a QR code carries and how the public page checks it: the service's clock, the public content of a
document (what its public page may show, nothing more), and the signed token in the QR URL."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from api.services.authority import SealAuthority
from api.services.local_rules import document_rules
from api.settings import Settings
from signer.errors import MinSealError, PublicTokenError
from signer.formats import money
from signer.public_token import TokenClaims, content_digest, encode_token, read_claims, verify_token
from templates import Catalogue

log = logging.getLogger(__name__)


class Clock:
    """The service's notion of today. Tests move it (``set``); production reads the real date, or the
    ``fixed_today`` setting."""

    def __init__(self, fixed: dt.date | None = None) -> None:
        self._fixed = fixed

    def today(self) -> dt.date:
        return self._fixed or dt.date.today()

    def now(self) -> dt.datetime:
        if self._fixed is None:
            return dt.datetime.now(dt.UTC)
        return dt.datetime.combine(self._fixed, dt.datetime.now(dt.UTC).time(), tzinfo=dt.UTC)

    def set(self, day: dt.date | None) -> None:
        self._fixed = day


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def public_content(family_id: str, kind: str, title: str, view: dict[str, Any]) -> dict[str, Any]:
    """Exactly what the public page of a notice or certificate shows (57号 art. 24: name, village, persons,
    amount — no ID number, phone, address, income or health). The QR token signs its digest."""
    out: dict[str, Any] = {"family": family_id, "title": view.get("heading") or title,
                           "issuer": view.get("issuer"), "issued_on": _iso(view.get("issued_on"))}
    if kind == "notice":
        out["rows"] = [{"name": h["head_name"], "village": h["village"], "persons": int(h["persons"]),
                        "amount": money(h["monthly_amount"])} for h in view.get("households") or []]
        if isinstance(view.get("period"), dict):
            p = view["period"]
            out["period"] = {"start": _iso(p["start"]), "end": _iso(p["end"]), "days": int(p["days"])}
        objection = view.get("objection")
        if isinstance(objection, dict) and (objection.get("phone") or objection.get("address")):
            # where to object: the office's own phone and address (public by nature), never the objector's
            out["objection"] = {k: str(objection.get(k) or "") for k in ("office", "phone", "address")}
    elif kind in ("certificate", "letter"):
        # a paper held by a person: its number, how long it holds, and whose it is (the name only, so a copy
        # bearing another name does not look genuine), never the ID number or the figures
        out["serial"] = view.get("serial") or view.get("card_number") or view.get("doc_number")
        out["valid_until"] = _iso(view.get("valid_until"))
        holder = view.get("holder") or view.get("applicant") or {}
        if isinstance(holder, dict) and holder.get("name"):
            out["holder"] = holder["name"]
    return out


def qr_base(base_url: str) -> str:
    """Scheme and host in upper case (they are case-insensitive), so an upper-case token keeps the whole URL in
    the QR code's compact alphanumeric mode; a path is kept as it is."""
    parts = urlsplit(base_url.rstrip("/"))
    return f"{parts.scheme.upper()}://{parts.netloc.upper()}{parts.path}"


@dataclass(frozen=True)
class TokenCheck:
    ok: bool
    message: str
    claims: TokenClaims | None = None


class PublicLinks:
    """Builds the QR URL of a new notice or certificate (signed by its issuing office) and checks one."""

    def __init__(self, settings: Settings, authority: SealAuthority, catalogue: Catalogue) -> None:
        self.settings = settings
        self.authority = authority
        self.catalogue = catalogue

    def plain_url(self, public_id: str) -> str:
        return self.settings.verify_url(public_id)

    def qr_url(self, public_id: str, *, family_id: str | None = None, data: Any = None,
               office_id: str | None = None) -> str:
        """``{BASE}/V/{token}`` for a notice or certificate whose issuer can sign; else the plain page URL."""
        if family_id is None or office_id is None or not isinstance(data, dict):
            return self.plain_url(public_id)
        family = self.catalogue.family(family_id)
        if not family.public:
            return self.plain_url(public_id)
        prepared = self.catalogue.prepare(family_id, data, rules=document_rules(self.settings))
        view = prepared.view
        content = public_content(family_id, family.kind, family.title, view)
        period = None
        if isinstance(view.get("period"), dict):
            period = (view["period"]["start"], view["period"]["end"])
        claims = TokenClaims(public_id, content_digest(content), office_id, view["issued_on"], period)
        try:
            office = self.authority.registry().get(office_id)
            if self.authority.is_sm2():  # COSE has no SM2 algorithm: an SM2 installation prints the plain URL
                return self.plain_url(public_id)
            store = self.authority.key_store(office)
            if not isinstance(store.certificate(office.id).public_key(), _ec_public()):
                return self.plain_url(public_id)
            token = encode_token(claims, lambda tbs: store.sign(office.id, tbs))
        except MinSealError as exc:  # no key yet: the page still works, without the signed token
            log.warning("QR token not signed for %s: %s", office_id, exc.message)
            return self.plain_url(public_id)
        return f"{qr_base(self.settings.public_base_url)}/V/{token}"

    def certificates(self, office_id: str) -> list[x509.Certificate]:
        """Every seal certificate the office has held (a token outlives a renewal), newest first."""
        out = []
        for record in reversed(self.authority.records()):
            if record.office_id == office_id:
                path = self.authority.cert_path(record)
                if path.exists():
                    out.append(x509.load_pem_x509_certificate(path.read_bytes()))
        return out

    def check(self, token: str) -> TokenCheck:
        """Verify a token with its issuer's certificate(s) under our root."""
        try:
            claims = read_claims(token)
        except PublicTokenError as exc:
            return TokenCheck(False, exc.message)
        root = self.authority.root_certificate()
        for cert in self.certificates(claims.issuer):
            try:
                cert.verify_directly_issued_by(root)
                return TokenCheck(True, "二维码签名有效", verify_token(token, cert))
            except PublicTokenError:
                continue
            except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):  # an SM2 key: no token
                continue
        return TokenCheck(False, "二维码签名无法用签发单位的印章证书验证（可能被伪造或篡改）", claims)


def _ec_public() -> type:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.EllipticCurvePublicKey
