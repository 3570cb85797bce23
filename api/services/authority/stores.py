"""Secrets (the key-store passphrase, the PKCS#11 PINs) and the offices' key stores, each opened once per
process. Reading never creates anything: only ``init-demo`` (``create=True``) makes a secret or a token."""

from __future__ import annotations

from collections.abc import Callable

from api.services.authority.paths import AuthorityPaths
from api.services.offices import Office
from api.settings import Settings
from api.storage.secrets import read_or_create
from signer.keystore import KeyStore, Pkcs11KeyStore, Pkcs12KeyStore, Sm2FileKeyStore, init_softhsm_token

#: key ids of keys being made (not yet in the ledger) and of keys replaced by a renewal (kept, never deleted)
STAGING_PREFIX = "staging/"
ARCHIVE_PREFIX = "archive/"


class Secrets:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def passphrase(self, *, create: bool = False) -> bytes:
        """The PKCS#12 stores' and the CA key's passphrase."""
        path = self.settings.key_passphrase_file or self.settings.secrets_dir / "keystore.pass"
        return read_or_create(self.settings.key_passphrase, path, create=create, what="密钥库口令").encode()

    def pin(self, *, create: bool = False) -> str:
        path = self.settings.pkcs11_pin_file or self.settings.secrets_dir / "pkcs11.pin"
        return read_or_create(self.settings.pkcs11_pin, path, create=create, length=12, what="PKCS#11 PIN 码")

    def so_pin(self) -> str:
        """The token's security officer PIN; asked for only when ``init-demo`` makes a token."""
        return read_or_create(None, self.settings.secrets_dir / "pkcs11.so-pin", create=True,
                              what="PKCS#11 安全员 PIN 码")


class KeyStores:
    """The offices' stores and the TSA's. ``check_passphrase`` is the CA's: a wrong passphrase is named as such
    before any store is opened (never as a CA-key error). ``sm2``: whether the root is an SM2 root — then every
    office's key, and the TSA's, is in the SM2 key files whatever the registry names (a PKCS#11 token such as
    SoftHSM2 cannot make SM2 keys; see docs/sm2.md)."""

    def __init__(self, settings: Settings, paths: AuthorityPaths, secrets: Secrets,
                 check_passphrase: Callable[[bytes], None], *, sm2: Callable[[], bool] = lambda: False) -> None:
        self.settings, self.paths, self.secrets = settings, paths, secrets
        self._check_passphrase = check_passphrase
        self._sm2 = sm2
        self._stores: dict[str, KeyStore] = {}
        self._sm2_store: Sm2FileKeyStore | None = None

    def p12(self, *, create: bool = False) -> Pkcs12KeyStore:
        """The PKCS#12 directory, its passphrase checked first."""
        passphrase = self.secrets.passphrase(create=create)
        self._check_passphrase(passphrase)
        return Pkcs12KeyStore(self.paths.p12_dir, passphrase)

    def sm2(self, *, create: bool = False) -> Sm2FileKeyStore:
        """The SM2 key files (one store per process: it keeps the keys it decrypted), passphrase checked first."""
        if self._sm2_store is None:
            passphrase = self.secrets.passphrase(create=create)
            self._check_passphrase(passphrase)
            self._sm2_store = Sm2FileKeyStore(self.paths.sm2_dir, passphrase)
        return self._sm2_store

    def is_sm2(self) -> bool:
        return self._sm2()

    def tsa(self, *, create: bool = False) -> Pkcs12KeyStore | Sm2FileKeyStore:
        """Where MinSeal's own TSA key lives: beside the offices' SM2 keys under an SM2 root, else PKCS#12."""
        return self.sm2(create=create) if self._sm2() else self.p12(create=create)

    def for_office(self, office: Office, *, create: bool = False) -> KeyStore:
        """The office's store, opened as it exists; ``create`` (init-demo) may make a SoftHSM2 token first."""
        if self._sm2():
            return self.sm2(create=create)
        if office.key_store not in self._stores:
            if office.key_store == "p12":
                self._stores[office.key_store] = self.p12(create=create)
            else:
                self._stores[office.key_store] = self._pkcs11(office.key_store.removeprefix("pkcs11:"), create)
        return self._stores[office.key_store]

    def _pkcs11(self, label: str, create: bool) -> Pkcs11KeyStore:
        conf = self.settings.softhsm_dir / "softhsm2.conf"
        if create and self.settings.pkcs11_module.endswith("libsofthsm2.so"):
            conf = init_softhsm_token(token_dir=self.settings.softhsm_dir, label=label,
                                      pin=self.secrets.pin(create=True), so_pin=self.secrets.so_pin(),
                                      module_path=self.settings.pkcs11_module)
        return Pkcs11KeyStore(self.settings.pkcs11_module, label, self.secrets.pin(),
                              softhsm_conf=conf if conf.exists() else None)
