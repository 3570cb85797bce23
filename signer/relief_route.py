"""临时救助 approval by amount (国发〔2014〕47号 and local rules): the township approves up to a limit (a setting,
default 3 × the monthly urban 低保标准) and the file ends there; above it the county approves.

The route rule for tier order stays in :mod:`signer.route`; this module only says which tier has the last word
for a given amount, for the seal step (refuse a township approval above its limit) and for the service's
workflow (after the township's seal, close the file or send it to the county)."""

from __future__ import annotations

from decimal import Decimal

from .pki import Tier


def relief_approver(amount: Decimal, *, township_limit: Decimal) -> Tier:
    """The tier that approves ``amount`` yuan: the township up to and including its limit, else the county."""
    return Tier.TOWNSHIP if amount <= township_limit else Tier.COUNTY


def relief_file_ends_after(tier: Tier, amount: Decimal, *, township_limit: Decimal) -> bool:
    """Whether the file is complete once ``tier`` has sealed with this approved (or proposed) amount."""
    return tier is Tier.COUNTY or (tier is Tier.TOWNSHIP and relief_approver(amount, township_limit=township_limit)
                                   is Tier.TOWNSHIP)
