"""The demo installation: registry, CA, TSA, every office's key and certificate, seal images and the CRL."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from api.services.offices import DEMO_REGISTRY
from signer.seal_image import SealFont

if TYPE_CHECKING:
    from api.services.authority.facade import SealAuthority
    from api.services.authority.records import SealStatus


def init_demo(authority: SealAuthority, font: SealFont) -> list[SealStatus]:
    """Safe to run again. The one command that creates secrets and key material (and never replaces any that
    exist)."""
    settings = authority.settings
    if not settings.registry_path.exists():
        settings.registry_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DEMO_REGISTRY, settings.registry_path)
    authority.secrets.passphrase(create=True)
    authority.ca.ensure(create=True)
    authority.tsa.ensure(create=True)
    lifecycle = authority.lifecycle
    with lifecycle.locked():
        lifecycle.issue_missing(font)
        if authority.crl_publisher.needs_publishing() or not authority.paths.crl.exists():
            authority.crl_publisher.publish()
    return lifecycle.status()
