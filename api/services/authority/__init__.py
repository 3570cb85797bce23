"""The seal authority: the CA and CRL, each office's key store and certificate, the certificate ledger, seal
images and the time-stamping authority's key, behind one facade (``SealAuthority``)."""

from api.services.authority.facade import SealAuthority
from api.services.authority.records import (
    REASONS,
    STATUS_LABELS,
    CertRecord,
    LedgerState,
    Reason,
    SealState,
    SealStatus,
    reason_label,
)

__all__ = ["REASONS", "STATUS_LABELS", "CertRecord", "LedgerState", "Reason", "SealAuthority", "SealState",
           "SealStatus", "reason_label"]
