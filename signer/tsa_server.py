"""Serving RFC 3161 time-stamp requests over HTTP (``/pki/tsa``): DER request in, DER reply out, answered by
MinSeal's own timestamper (:mod:`signer.tsa`)."""

from __future__ import annotations

from collections.abc import Callable

from asn1crypto import tsp
from pyhanko.sign.timestamps import TimeStamper

from .errors import InputFileError

MEDIA_TYPE = "application/timestamp-reply"


class BadTimeStampRequest(InputFileError):
    code = "BAD_TIMESTAMP_REQUEST"
    default_message = "时间戳请求格式错误"


def respond(request: bytes, timestamper: Callable[[], TimeStamper]) -> bytes:
    """The DER reply. The request is parsed in full first: a broken one raises :class:`BadTimeStampRequest`
    here (before any key is loaded), never somewhere inside the TSA."""
    try:
        req = tsp.TimeStampReq.load(request)
        _ = req.native
    except (ValueError, TypeError):
        raise BadTimeStampRequest() from None
    reply: tsp.TimeStampResp = timestamper().request_tsa_response(req)
    return bytes(reply.dump())
