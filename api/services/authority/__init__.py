"""The seal authority: the CA and CRL, each office's key store and certificate, the certificate ledger, seal
images and the time-stamping authority, behind one facade (``SealAuthority``)."""

from api.services.authority.facade import REASONS, STATUS_LABELS, CertRecord, SealAuthority, SealStatus, reason_label

__all__ = ["REASONS", "STATUS_LABELS", "CertRecord", "SealAuthority", "SealStatus", "reason_label"]
