"""One settings object, read from ``MINSEAL_*`` environment variables with embedded defaults.

Built only by composition roots (the CLI's ``main``, the app factory); nothing reads the environment elsewhere.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from signer.decision import NATIONAL_NOTICE_DAYS

if TYPE_CHECKING:
    pass


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

    #: passphrase of the PKCS#12 key stores and the CA key; else read from ``key_passphrase_file``
    key_passphrase: SecretStr | None = None
    #: default: <data_dir>/secrets/keystore.pass (created with a random value by ``init-demo``)
    key_passphrase_file: Path | None = None
    #: PIN of the PKCS#11 token(s); else read from ``pkcs11_pin_file`` (default <data_dir>/secrets/pkcs11.pin)
    pkcs11_pin: SecretStr | None = None
    pkcs11_pin_file: Path | None = None
    #: the PKCS#11 module (Debian softhsm2 by default; a vendor's .so for a real token)
    pkcs11_module: str = "/usr/lib/softhsm/libsofthsm2.so"
    #: key algorithm for new seals: ecdsa-p256 or rsa-2048
    key_algorithm: str = "ecdsa-p256"
    #: seal certificate lifetime, and how long a CRL is good for
    cert_days: int = 3 * 365
    crl_days: int = 7
    #: RFC 3161 TSA; unset = MinSeal's own TSA, in process (its certificate is under the same root)
    tsa_url: str | None = None
    #: who may use this installation's ``/pki/tsa``: with a token set, only callers that send it
    #: (``Authorization: Bearer …``: other installations set the same token with their ``tsa_url``); unset, anyone
    #: within ``tsa_rate_limit``. Either way a timestamp vouches only for a time, never for an office.
    tsa_token: SecretStr | None = None
    #: timestamps per client address on ``/pki/tsa`` (limits' notation), token or not
    tsa_rate_limit: str = "60/minute"
    #: fetch CRLs/OCSP over HTTP for LTV (the service's own endpoints or a real CA's); else use the local CRL
    fetch_revocation: bool = False
    #: default PAdES level of a seal: B-B, B-T, B-LT, B-LTA
    seal_level: str = "B-LT"
    #: lowest PAdES level a seal must reach to pass verification: B-B, B-T, B-LT, B-LTA
    min_level: str = "B-T"
    #: roots the verifier trusts (PEM files); empty = this installation's own root
    trust_roots: list[Path] = []
    #: tests only: SIGKILL the process at this named step (see api/faults.py); never set in production
    test_kill_at: str | None = None

    #: SQLAlchemy URL; unset = SQLite (WAL) at <data_dir>/minseal.db
    database_url: str | None = None
    #: threads that run WeasyPrint and signing off the event loop
    worker_threads: int = 4
    #: uploads (PDF to verify or import): bytes and pages
    max_upload_bytes: int = 20 * 2**20
    max_upload_pages: int = 50
    #: a scan of a page signed by hand (PDF, JPEG or PNG) kept with its case: largest size in bytes
    scan_max_bytes: int = Field(default=10 * 2**20, ge=1)
    #: a signed-in browser session ends after this long without use
    session_minutes: int = 30
    #: cookies only over HTTPS (set true behind TLS)
    secure_cookies: bool = False
    #: batch workers (issue 12): heartbeat interval, and silence after which a worker's job is re-queued
    worker_heartbeat_s: float = 10.0
    worker_stalled_after_s: float = 30.0

    # -- local rules: read through api/services/local_rules.py only -------------------------------------------
    #: the 公示 period in days, also its shortest allowed length (民发〔2021〕57号 art. 19: 7, the national floor)
    notice_days: int = Field(default=NATIONAL_NOTICE_DAYS, ge=NATIONAL_NOTICE_DAYS)
    #: the 公示 period is counted in calendar days, or in working days
    notice_working_days: bool = False
    #: working-day counting skips weekends and these dates, and counts these weekend dates as working (调休)
    notice_holidays: list[dt.date] = []
    notice_extra_workdays: list[dt.date] = []
    #: show 保障类别 on public lists (art. 24 allows only 姓名, 人数, 金额 unless a local rule requires more)
    notice_show_category: bool = False
    #: monthly 低保标准 (yuan per person) per 申请类别 城市 / 农村: the amount is (standard − per-capita income) ×
    #: persons; the urban one is also the base of the 临时救助 limit
    dibao_standard_urban: Decimal = Decimal("870.00")
    dibao_standard_rural: Decimal = Decimal("700.00")
    #: 临时救助 the township approves itself up to this amount (yuan); unset = 3 × dibao_standard_urban
    relief_township_limit: Decimal | None = None
    #: 民发〔2021〕57号's time limits in working days (local values may be stricter): 审核确认 within 30 of 受理
    #: (45 in special cases), a refusal told to the applicant within 3, re-investigation after an objection within 15
    case_decide_working_days: int = Field(default=30, ge=1)
    case_decide_special_working_days: int = Field(default=45, ge=1)
    case_refusal_notice_working_days: int = Field(default=3, ge=1)
    case_reinvestigate_working_days: int = Field(default=15, ge=1)
    #: a 低保证明 is valid for this many days from its issue (the holder asks again after)
    certificate_valid_days: int = Field(default=90, ge=1, le=366)
    #: a 低保证 (the household's card) holds until the yearly review, unless set otherwise
    card_valid_days: int = Field(default=365, ge=30, le=1096)
    #: where an applicant may seek 行政复议 against the county's decision (行政复议法 2023 art. 24: the county's
    #: 人民政府) and within how many days (art. 20: 60); empty = derived from the county's name
    appeal_review_body: str = Field(default="", max_length=40)
    appeal_review_days: int = Field(default=60, ge=60, le=365)
    #: the court for 行政诉讼 (行政诉讼法 art. 18: the basic court where the office sits) and the time limit in
    #: months (art. 46: 6); empty = derived from the county's name
    appeal_court: str = Field(default="", max_length=40)
    appeal_litigation_months: int = Field(default=6, ge=6, le=12)
    #: seal diameter (mm) of a county bureau whose registry entry gives none (国发〔1999〕25号: 乡镇 42 mm,
    #: 县级人民政府 45 mm; its departments such as the 民政局 commonly 42 mm)
    county_seal_diameter_mm: float = 42.0

    #: tests only: the service's "today" (the clock tests move); unset = the real date
    fixed_today: dt.date | None = None
    #: requests per client address on the public pages (limits' notation), and uploads to their check form
    public_rate_limit: str = "120/minute"
    public_upload_rate_limit: str = "10/minute"
    #: largest file a member of the public may upload to compare
    public_max_upload_bytes: int = 10 * 2**20

    # -- the front door: sign-in throttle, proxies, connections (docs/operations.md) ----------------------------
    #: failed sign-ins that lock an account (the right password too) until the window passes or an admin unlocks
    signin_max_failures: int = Field(default=5, ge=1)
    #: failed sign-ins from one client address (any accounts) before the address must wait
    signin_address_failures: int = Field(default=20, ge=1)
    #: the window both counts run over, and how long a lockout lasts
    signin_window_minutes: int = Field(default=15, ge=1)
    #: reverse proxies whose X-Forwarded-For is believed (addresses or networks, e.g. ["10.0.0.5", "10.1.0.0/24"]);
    #: empty = none: the client address is the peer's, and X-Forwarded-For is ignored
    trusted_proxies: list[str] = []
    #: `minseal serve`: open connections before new ones are refused (uvicorn limit_concurrency), keep-alive seconds
    max_connections: int = Field(default=200, ge=1)
    keep_alive_s: int = Field(default=5, ge=1)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"MINSEAL_TRUSTED_PROXIES：「{entry}」不是 IP 地址或网段") from None
        return value

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def registry_path(self) -> Path:
        return self.data_dir / "registry.toml"

    @property
    def pki_dir(self) -> Path:
        return self.data_dir / "pki"

    @property
    def seals_dir(self) -> Path:
        return self.data_dir / "seals"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def softhsm_dir(self) -> Path:
        return self.keys_dir / "softhsm"

    @property
    def crl_url(self) -> str:
        return f"{self.public_base_url.rstrip('/')}/pki/crl/root.crl"

    @property
    def ocsp_url(self) -> str:
        return f"{self.public_base_url.rstrip('/')}/pki/ocsp"

    @property
    def ca_issuers_url(self) -> str:
        return f"{self.public_base_url.rstrip('/')}/pki/root.crt"

    @property
    def pdf_variant_or_none(self) -> str | None:
        return self.pdf_variant or None

    def verify_url(self, document_id: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/v/{document_id}"
