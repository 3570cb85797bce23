"""A seal certificate's life: issue, renew, revoke — one writer at a time (a lock file across processes), every
step crash-safe, and whatever an interrupted process left behind repaired before the next change (``_recover``).

Fault points (``faults.point``) name each step so the crash tests can kill the process there."""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from api import faults
from api.services.authority.ca import CrlPublisher, RootCA
from api.services.authority.images import SealImages
from api.services.authority.ledger import Ledger
from api.services.authority.paths import AuthorityPaths
from api.services.authority.records import (
    REASONS,
    CertRecord,
    PendingSwitch,
    Reason,
    SealState,
    SealStatus,
    iso,
    reason_label,
)
from api.services.authority.stores import ARCHIVE_PREFIX, STAGING_PREFIX, KeyStores
from api.services.offices import Office, Registry
from api.settings import Settings
from api.storage.files import write_atomic
from signer import pki, sm2_pki
from signer.errors import ErrorCategory, SealNotIssuedError, SealRevokedError, SealStateError
from signer.seal_image import SealFont
from signer.sm2 import Sm2PrivateKey, Sm2PublicKey

log = logging.getLogger("minseal.seals")


def key_algorithm(value: str | None, fallback: str) -> pki.KeyAlgorithm:
    try:
        return pki.KeyAlgorithm(value or fallback)
    except ValueError:
        raise SealStateError(f"密钥算法只能是：{'、'.join(a.value for a in pki.KeyAlgorithm)}",
                             code="BAD_ALGORITHM", category=ErrorCategory.INVALID) from None


def store_name(office: Office, kind: str) -> str:
    """What a ledger record says held the key: the registry's store, or ``sm2`` where an SM2 installation keeps
    every office's key in its SM2 key files (whatever store the registry names)."""
    return "sm2" if kind == "sm2" else office.key_store


class Lifecycle:
    def __init__(self, settings: Settings, paths: AuthorityPaths, *, ledger: Ledger, ca: RootCA, crl: CrlPublisher,
                 stores: KeyStores, images: SealImages, registry: Callable[[], Registry]) -> None:
        self.settings, self.paths, self.ledger, self.ca, self.crl = settings, paths, ledger, ca, crl
        self.stores, self.images, self.registry = stores, images, registry

    # -- reading -------------------------------------------------------------------------------------------------
    def default_algorithm(self) -> str:
        """The algorithm of a new seal: the root's under an SM2 root (the choice init-demo made), else the
        setting."""
        return (self.ca.algorithm() or self.settings.key_algorithm) if self.paths.root_cert.exists() \
            else self.settings.key_algorithm

    def latest(self, office_id: str) -> CertRecord | None:
        return self.ledger.state().latest(office_id)

    def status(self) -> list[SealStatus]:
        with self.locked():
            pass  # finishes an interrupted change first
        state = self.ledger.state()
        out = []
        for office in self.registry():
            record = state.latest(office.id)
            out.append(SealStatus(office, record.status if record else SealState.NONE, record))
        return out

    def check_can_seal(self, office_key: str) -> tuple[Office, CertRecord]:
        office = self.registry().get(office_key)
        with self.locked():
            record = self.latest(office.id)
        if record is None:
            raise SealNotIssuedError(f"「{office.name}」尚未签发印章证书")
        if record.status is not SealState.ACTIVE:
            raise SealRevokedError(
                f"「{office.name}」的印章证书已于 {record.revoked_at} {record.status.label}"
                f"（撤销原因：{reason_label(record.reason)}），不能用印")
        return office, record

    # -- changes -------------------------------------------------------------------------------------------------
    def issue(self, office_key: str, *, algorithm: str | None = None, font: SealFont | None = None) -> CertRecord:
        chosen = key_algorithm(algorithm, self.default_algorithm())
        office = self.registry().get(office_key)
        with self.locked():
            current = self.latest(office.id)
            if current and current.status is SealState.ACTIVE:
                raise SealStateError(
                    f"「{office.name}」已有有效印章证书（序列号 {current.serial}），如需更换请用 renew")
            return self.replace(office, chosen, font, old=current, reason=None)

    def renew(self, office_key: str, *, algorithm: str | None = None, font: SealFont | None = None) -> CertRecord:
        """New key and certificate first; only once both exist is the office switched to them and the old
        certificate revoked as superseded (earlier signatures with a timestamp from before stay valid)."""
        office = self.registry().get(office_key)
        with self.locked():
            current = self.latest(office.id)
            if current is None:
                raise SealNotIssuedError(f"「{office.name}」尚未签发印章证书，请用 issue")
            chosen = key_algorithm(algorithm, current.algorithm)
            reason = Reason.SUPERSEDED if current.status is SealState.ACTIVE else None
            return self.replace(office, chosen, font, old=current, reason=reason)

    def revoke(self, office_key: str, *, reason: str) -> CertRecord:
        if reason not in REASONS:
            raise SealStateError(f"吊销原因只能是：{'、'.join(REASONS)}", code="BAD_REASON",
                                 category=ErrorCategory.INVALID)
        office = self.registry().get(office_key)
        with self.locked():
            current = self.latest(office.id)
            if current is None:
                raise SealNotIssuedError(f"「{office.name}」尚未签发印章证书")
            if current.status is not SealState.ACTIVE:
                raise SealStateError(f"「{office.name}」的印章证书已是「{current.status.label}」状态")
            return self._revoke(office, current, Reason(reason))

    def publish_crl(self) -> x509.CertificateRevocationList:
        """Sign and publish a new CRL from the ledger (``minseal seals crl``)."""
        with self.locked():
            return self.crl.publish()

    def current_crl(self) -> x509.CertificateRevocationList:
        """The published CRL, republished first when it disagrees with the ledger or has expired."""
        if self.crl.needs_publishing():
            return self.publish_crl()
        return self.crl.current()

    # -- the steps (the caller holds the lock) ---------------------------------------------------------------------
    def replace(self, office: Office, algorithm: pki.KeyAlgorithm, font: SealFont | None, *,
                old: CertRecord | None, reason: Reason | None, create: bool = False) -> CertRecord:
        """Caller holds the lock. Steps, each crash point safe:
        1. stage: new key (under a staging id) and its certificate — nothing else changes;
        2. record the pending switch in the ledger (one atomic write);
        3. commit: promote the staged key (the old one is archived, never deleted), mark the new record
           active and the old one superseded in one ledger write, then publish the CRL.
        A crash before 2 leaves the office as it was (the staged key is discarded by the next attempt); a crash
        after 2 is finished by the next start (``_recover``)."""
        root = self.ca.certificate()
        sm2_root = pki.is_sm2_certificate(root)
        if sm2_root != (algorithm is pki.KeyAlgorithm.SM2_SM3):
            raise SealStateError("SM2 根证书只签发 SM2 印章证书" if sm2_root else
                                 "SM2 印章证书须由 SM2 根证书签发：请在新安装中运行 minseal init-demo --sm2",
                                 code="BAD_ALGORITHM", category=ErrorCategory.INVALID)
        ca_key = self.ca.key()
        store = self.stores.for_office(office, create=create)
        staged = STAGING_PREFIX + office.id
        store.discard(staged)
        public_key = store.generate(staged, algorithm)
        faults.point("renew:key-generated")
        if isinstance(public_key, Sm2PublicKey) and isinstance(ca_key, Sm2PrivateKey):
            cert = x509.load_der_x509_certificate(sm2_pki.issue_office_certificate(
                office=office.identity, public_key=public_key, ca_cert=pki.to_asn1(root), ca_key=ca_key,
                endpoints=self.ca.endpoints(), days=self.settings.cert_days).dump())
        elif not isinstance(public_key, Sm2PublicKey):
            cert = pki.issue_office_certificate(office=office.identity, public_key=public_key, ca_cert=root,
                                                ca_key=ca_key, endpoints=self.ca.endpoints(),
                                                days=self.settings.cert_days)
        else:
            raise SealStateError("SM2 印章证书须由 SM2 根证书签发", code="BAD_ALGORITHM",
                                 category=ErrorCategory.INVALID)
        store.install_certificate(staged, cert, [root])
        record = CertRecord(serial=f"{cert.serial_number:x}", office_id=office.id, algorithm=algorithm.value,
                            key_store=store_name(office, store.kind), not_before=iso(cert.not_valid_before_utc),
                            not_after=iso(cert.not_valid_after_utc), status=SealState.ACTIVE)
        write_atomic(self.paths.cert(record.office_id, record.serial), cert.public_bytes(serialization.Encoding.PEM))
        faults.point("renew:staged")
        archive = f"{ARCHIVE_PREFIX}{office.id}-{old.serial if old else 'unrecorded-' + record.serial}"
        pending = PendingSwitch(office_id=office.id, staged=staged, archive=archive, record=record,
                                old_serial=old.serial if old else None, reason=reason,
                                at=iso(dt.datetime.now(dt.UTC)))
        self.ledger.save(dataclasses.replace(self.ledger.state(), pending=pending))
        faults.point("renew:pending")
        self._commit_pending()
        if font is not None:
            self.images.draw(office, font)
        log.info("seal issued office=%s serial=%s store=%s", office.id, record.serial, office.key_store)
        return record

    def _commit_pending(self) -> None:
        """Caller holds the lock. Finishes a recorded switch (idempotent: safe to run again after a crash)."""
        state = self.ledger.state()
        pending = state.pending
        if pending is None:
            return
        office = self.registry().get(pending.office_id)
        store = self.stores.for_office(office)
        if store.has_key(pending.staged):
            store.promote(pending.staged, office.id, archive_id=pending.archive)
        faults.point("renew:promoted")
        if pending.reason is not None:
            for r in state.certificates:
                if r.serial == pending.old_serial and r.status is SealState.ACTIVE:
                    state = state.with_record(r.ended(pending.reason, pending.at))
        if not any(r.serial == pending.record.serial for r in state.certificates):
            state = state.with_record(pending.record)
        self.ledger.save(dataclasses.replace(state, pending=None))
        faults.point("renew:committed")
        if pending.reason is not None:
            self.crl.publish()

    def _revoke(self, office: Office, record: CertRecord, reason: Reason) -> CertRecord:
        """Caller holds the lock. The CA key is unlocked first (a locked key changes nothing); then the ledger
        records the revocation, then the CRL is published. A crash between the two is repaired by the next
        start, which republishes any CRL that disagrees with the ledger (``_recover``)."""
        self.ca.key()
        ended = record.ended(reason, iso(dt.datetime.now(dt.UTC)))
        self.ledger.save(self.ledger.state().with_record(ended))
        faults.point("revoke:ledger-saved")
        self.crl.publish()
        log.info("seal revoked office=%s serial=%s reason=%s", office.id, ended.serial, reason.value)
        return ended

    def issue_missing(self, font: SealFont) -> None:
        """Caller holds the lock. Every office without an active certificate gets one (init-demo)."""
        for office in self.registry():
            current = self.latest(office.id)
            if current is None or current.status is not SealState.ACTIVE:
                self.replace(office, pki.KeyAlgorithm(self.default_algorithm()), font, old=current,
                             reason=None, create=True)
            elif not self.images.exist(office.id):
                self.images.draw(office, font)

    # -- the lock ------------------------------------------------------------------------------------------------
    @contextmanager
    def _lock(self) -> Iterator[None]:
        """One writer at a time for the ledger and the CRL, across processes (flock on a lock file)."""
        path = self.paths.lock
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """The lock, after repairing whatever an interrupted process left behind."""
        with self._lock():
            self._recover()
            yield

    def _recover(self) -> None:
        """Caller holds the lock. Finishes a recorded key switch and republishes a CRL that is missing, stale
        (it disagrees with the ledger) or half-written (DER and PEM differ)."""
        if not self.ledger.recorded():
            return
        self._commit_pending()
        if self.crl.needs_publishing():
            log.warning("CRL disagrees with the ledger: republishing")
            self.crl.publish()
