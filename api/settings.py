"""One settings object, read from ``MINSEAL_*`` environment variables with embedded defaults.

Built only by composition roots (the CLI's ``main``, the app factory); nothing reads the environment elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MINSEAL_", extra="ignore")

    #: documents, registry, CRLs, database (SQLite by default)
    data_dir: Path = Path("var")
    #: key stores (PKCS#12 files, SoftHSM2 token directory); only its README and layout are in git
    keys_dir: Path = Path("keys")
    #: base of the public QR verification pages printed on notices and certificates
    public_base_url: str = "http://127.0.0.1:8000"
    #: WeasyPrint PDF variant; PDF/A-2b keeps archived files readable, "" turns it off
    pdf_variant: str = "pdf/a-2b"

    @property
    def pdf_variant_or_none(self) -> str | None:
        return self.pdf_variant or None

    def verify_url(self, document_id: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/v/{document_id}"
