"""PKI, seals, PAdES signing and verification: bytes in, bytes or reports out.

Kept import-light on purpose: ``templates`` imports :mod:`signer.errors` for the shared error tree.
"""
