"""The PKI endpoints MinSeal serves itself: root certificate, CRL, OCSP responder and RFC 3161 TSA.

Their URLs are written into every seal certificate (CRL distribution point, OCSP), so any verifier — ours,
poppler's, Acrobat's — can check revocation online; the TSA gives every seal a trusted time. These routes only
read the request and write the response: the answers are made in ``signer`` (``ocsp``, ``tsa_server``) from what
the seal authority knows.
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, HTTPException, Request, Response

from api.http.client import client_address
from api.http.deps import run_blocking
from api.services.authority import SealAuthority
from api.services.sealing import SealingService
from api.services.throttle import Rate
from signer import ocsp, tsa_server


def pki_router(authority: SealAuthority, sealing: SealingService) -> APIRouter:
    router = APIRouter(prefix="/pki", tags=["pki"])

    @router.get("/root.crt")
    def root_certificate() -> Response:
        der = authority.root_certificate().public_bytes(serialization.Encoding.DER)
        return Response(der, media_type="application/pkix-cert")

    @router.get("/crl/root.crl")
    def crl() -> Response:
        return Response(authority.crl().public_bytes(serialization.Encoding.DER), media_type="application/pkix-crl")

    @router.post("/ocsp")
    async def ocsp_responder(request: Request) -> Response:
        der = authority.ocsp_respond(await request.body())  # SM2-signed under an SM2 root
        return Response(der, media_type=ocsp.MEDIA_TYPE)

    settings = sealing.settings

    @router.post("/tsa")
    async def timestamp(request: Request) -> Response:
        """Trusted time for whoever may have it (settings: ``tsa_token``, ``tsa_rate_limit``): a timestamp from
        here makes any file's claim "existed at" trusted under our root, so it is not minted for anyone."""
        if settings.tsa_token is not None:
            expected = f"Bearer {settings.tsa_token.get_secret_value()}".encode()
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                raise HTTPException(status_code=401, detail="时间戳服务需要本机构的访问令牌",
                                    headers={"WWW-Authenticate": "Bearer"})
        # counted in the database like the public pages: every worker shares one count per client address
        services = request.app.state.services
        await run_blocking(request, services.throttle.hit, "tsa", client_address(request, settings.trusted_proxies),
                           Rate.parse(settings.tsa_rate_limit), message="时间戳请求过于频繁，请稍后再试")
        try:
            reply = tsa_server.respond(await request.body(), sealing.local_timestamper)
        except tsa_server.BadTimeStampRequest as error:
            raise HTTPException(status_code=400, detail=error.message) from None
        return Response(reply, media_type=tsa_server.MEDIA_TYPE)

    return router
