"""PKI, seals, PAdES signing and verification: bytes in, bytes or reports out.

Kept import-light on purpose: ``templates`` imports :mod:`signer.errors` for the shared error tree.
"""

import warnings

# pyHanko imports cryptography's DSA key types for its own isinstance checks; cryptography >= 47 warns on that
# import. MinSeal never makes or accepts DSA seals (the verifier's algorithm policy refuses them), so the warning
# says nothing to a clerk running `minseal verify` and would turn the test suite's warnings-as-errors red.
warnings.filterwarnings("ignore", message="DSA is deprecated", module="pyhanko")
