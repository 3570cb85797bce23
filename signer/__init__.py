"""PKI, seals, PAdES signing and verification: bytes in, bytes or reports out.

Kept import-light on purpose: ``templates`` imports :mod:`signer.errors` for the shared error tree.
"""

import logging
import warnings

# pyHanko imports cryptography's DSA key types for its own isinstance checks; cryptography >= 47 warns on that
# import. MinSeal never makes or accepts DSA seals (the verifier's algorithm policy refuses them), so the warning
# says nothing to a clerk running `minseal verify` and would turn the test suite's warnings-as-errors red.
warnings.filterwarnings("ignore", message="DSA is deprecated", module="pyhanko")

# AR PL KaitiM GB's glyf table is 4 bytes longer than its loca says; harmless, but fontTools warns on every load —
# from whichever module loads a face first (a seal's text, a seal picture for a GB/T 38540 seal …)
logging.getLogger("fontTools.ttLib.tables._g_l_y_f").setLevel(logging.ERROR)
