"""The PKI endpoints MinSeal serves itself: root certificate, CRL, OCSP responder and RFC 3161 TSA.

Their URLs are written into every seal certificate (CRL distribution point, OCSP), so any verifier — ours,
poppler's, Acrobat's — can check revocation online; the TSA gives every seal a trusted time.
"""

from __future__ import annotations

import datetime as dt

from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from fastapi import APIRouter, HTTPException, Request, Response

from api.services.authority import REASONS, SealAuthority
from api.services.sealing import SealingService


def pki_router(authority: SealAuthority, sealing: SealingService) -> APIRouter:
    router = APIRouter(prefix="/pki", tags=["pki"])

    @router.get("/root.crt")
    def root_certificate() -> Response:
        der = authority.root_certificate().public_bytes(serialization.Encoding.DER)
        return Response(der, media_type="application/pkix-cert")

    @router.get("/crl/root.crl")
    def crl() -> Response:
        current = authority.crl()
        if current.next_update_utc is not None and current.next_update_utc < dt.datetime.now(dt.UTC):
            current = authority.publish_crl()
        return Response(current.public_bytes(serialization.Encoding.DER), media_type="application/pkix-crl")

    @router.post("/ocsp")
    async def ocsp_responder(request: Request) -> Response:
        body = await request.body()
        try:
            req = ocsp.load_der_ocsp_request(body)
        except ValueError:
            der = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
            return Response(der.public_bytes(serialization.Encoding.DER), media_type="application/ocsp-response")
        return Response(_ocsp_answer(authority, req), media_type="application/ocsp-response")

    @router.post("/tsa")
    async def timestamp(request: Request) -> Response:
        body = await request.body()
        try:
            req = tsp.TimeStampReq.load(body)
            _ = req.native  # parse fully now: a broken request fails here, not inside the TSA
        except (ValueError, TypeError):
            raise HTTPException(status_code=400, detail="时间戳请求格式错误") from None
        response = sealing.local_timestamper().request_tsa_response(req)
        return Response(response.dump(), media_type="application/timestamp-reply")

    return router


def _ocsp_answer(authority: SealAuthority, req: ocsp.OCSPRequest) -> bytes:
    root = authority.root_certificate()
    serial = f"{req.serial_number:x}"
    record = next((r for r in authority.records() if r.serial == serial), None)
    if record is None:
        der = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        return der.public_bytes(serialization.Encoding.DER)
    cert = x509.load_pem_x509_certificate(authority.cert_path(record).read_bytes())
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    revoked = record.revoked_at is not None and record.reason is not None
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=cert, issuer=root, algorithm=req.hash_algorithm,
        cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
        this_update=now, next_update=now + dt.timedelta(days=1),
        revocation_time=dt.datetime.fromisoformat(record.revoked_at) if revoked else None,  # type: ignore[arg-type]
        revocation_reason=REASONS[record.reason][0] if revoked else None,  # type: ignore[index]
    ).responder_id(ocsp.OCSPResponderEncoding.HASH, root)
    try:
        nonce = req.extensions.get_extension_for_class(x509.OCSPNonce).value
        builder = builder.add_extension(nonce, critical=False)
    except x509.ExtensionNotFound:
        pass
    response = builder.sign(authority.root_key(), hashes.SHA256())
    return response.public_bytes(serialization.Encoding.DER)
