"""MinSeal's own time-stamping authority's key and certificate (a timeStamping certificate under the root).
What serves it (in process or on ``/pki/tsa``) lives in ``signer``; this module only keeps its key material."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from api.services.authority.ca import RootCA
from api.services.authority.paths import AuthorityPaths
from api.services.authority.stores import STAGING_PREFIX, KeyStores
from api.storage.files import write_atomic
from signer import pki, sm2_pki
from signer.errors import KeyStoreError
from signer.keystore import Pkcs12KeyStore, Sm2FileKeyStore
from signer.sm2 import Sm2PrivateKey, Sm2PublicKey

TSA_KEY_ID = "_tsa"


class TsaKeys:
    def __init__(self, paths: AuthorityPaths, stores: KeyStores, ca: RootCA) -> None:
        self.paths, self.stores, self.ca = paths, stores, ca

    def store(self, *, create: bool = False) -> Pkcs12KeyStore | Sm2FileKeyStore:
        return self.stores.tsa(create=create)

    def ensure(self, *, create: bool = False) -> x509.Certificate:
        """Opened as it exists — a store that does not open is an error, never a reason to make a new key; made
        only by init-demo."""
        store = self.store(create=create)
        if store.has_key(TSA_KEY_ID):
            return store.certificate(TSA_KEY_ID)
        if not create:
            raise KeyStoreError("时间戳服务的密钥不存在：新安装请先运行 minseal init-demo", code="TSA_MISSING")
        root = self.ca.ensure()
        staged = STAGING_PREFIX + TSA_KEY_ID
        store.discard(staged)
        ca_key = self.ca.key()
        if isinstance(store, Sm2FileKeyStore) and isinstance(ca_key, Sm2PrivateKey):
            # an SM2 TSA under an SM2 root: its tokens are SM2 over SM3 (signer.sm2_cms.Sm2TimeStamper)
            sm2_public = store.generate(staged, pki.KeyAlgorithm.SM2_SM3)
            cert = x509.load_der_x509_certificate(sm2_pki.issue_tsa_certificate(
                public_key=sm2_public, ca_cert=pki.to_asn1(root), ca_key=ca_key, endpoints=self.ca.endpoints(),
                common_name="MinSeal 时间戳服务").dump())
        else:
            # RSA: pyHanko's in-process TSA signs with RSA only
            public_key = store.generate(staged, pki.KeyAlgorithm.RSA_2048)
            if isinstance(public_key, Sm2PublicKey):  # an SM2 store under a root that is not SM2
                raise KeyStoreError("时间戳服务的 SM2 密钥须由 SM2 根证书签发", code="CA_ALGORITHM_MISMATCH")
            cert = pki.issue_tsa_certificate(public_key=public_key, ca_cert=root, ca_key=ca_key,
                                             endpoints=self.ca.endpoints(), common_name="MinSeal 时间戳服务")
        store.install_certificate(staged, cert, [root])
        write_atomic(self.paths.tsa_cert, cert.public_bytes(serialization.Encoding.PEM))
        store.promote(staged, TSA_KEY_ID, archive_id=None)
        return cert
