"""Names shared by the renderer, the sealer and the verifier for a document's seal boxes.

Dependency-free on purpose: ``templates`` imports it without pulling in cryptography or pyHanko.
"""

#: key in the PDF's document information dictionary holding the seal slots as JSON (without the PDF '/')
SLOTS_INFO_KEY = "MinSealSlots"
#: signature fields MinSeal creates are named FIELD_PREFIX + slot name ("MinSeal-village", "MinSeal-issuer")
FIELD_PREFIX = "MinSeal-"
