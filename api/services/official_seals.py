"""An office registers the official seal it holds (``minseal seals use-official``), and the demo makes stand-in
files for one (``minseal seals demo-official``).

Registering checks everything a later seal would trip over, each problem naming its file: the SES_Seal parses,
its maker's signature holds under the CA root given, it is valid now, the key file opens with the passphrase, the
key belongs to a certificate the seal lists, that certificate chains to the CA root, is valid now and names this
office. Then the files are copied into the installation's key area (``<keys_dir>/official/<office>/``, never in
git; the passphrase into ``<data_dir>/secrets/``), the office's ``seal_provider`` is set in ``registry.toml`` (the
registry's import format: left alone it would reset the database at its next import) and so in the database, and
the change is a row of the audit chain."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
import re
import secrets
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

from api.services.authority import SealAuthority
from api.services.offices import DatabaseRegistry, Office, Registry
from api.settings import Settings
from api.storage import audit
from api.storage.files import write_atomic
from signer import ses, sm2_pki
from signer.errors import InputFileError, KeyStoreError, RegistryError
from signer.pki import PkiEndpoints
from signer.provider_specs import OfficialSpec, OwnCaSpec, ProviderKind
from signer.providers import read_certificates
from signer.seal_image import SealFont, seal_svg
from signer.sm2 import Sm2PrivateKey, Sm2PublicKey, is_sm2_key
from signer.sm2_keyfile import encrypt_sm2_key, load_sm2_key_file, read_passphrase, to_pem

#: the seal's own checks that refuse a registration (ses.verify_seal's codes)
_REFUSING = ("SES_MALFORMED", "SES_VERSION_UNSUPPORTED", "SES_ALGORITHM_UNSUPPORTED",
             "SES_SEAL_MAKER_SIGNATURE_INVALID", "SES_MAKER_UNTRUSTED", "SES_MAKER_CERT_INVALID",
             "SES_SEAL_EXPIRED", "SES_SEAL_NOT_YET_VALID")
#: what a demo stand-in's names say, so nobody takes it for an official seal
DEMO_ROOT_NAME = "MinSeal 演示 SM2 根证书（非电子政务电子认证服务机构）"
DEMO_MAKER_NAME = "MinSeal 演示制章者（非电子印章制作管理单位）"
DEMO_ORGANIZATION = "MinSeal 演示（非电子印章制作管理单位）"
DEMO_CRL_URL = "http://minseal-demo-official.invalid/ca.crl"


@dataclass(frozen=True)
class OfficialFiles:
    """What the 制作管理单位 and the CA handed over, as the admin points at them."""

    ses: Path
    key: Path
    passphrase_file: Path
    ca_root: Path
    #: the CA's CRL (optional: without it the seals' revocation stays unknown to this installation)
    ca_crl: Path | None = None
    #: the signing certificate, needed only when the seal lists certificate digests instead of certificates
    certificate: Path | None = None


@dataclass(frozen=True)
class Registered:
    office: Office
    spec: OfficialSpec
    es_id: str
    seal_name: str
    valid_end: dt.datetime
    cert_serial: str
    #: notes for the admin (a trust-roots setting that leaves the CA root out)
    warnings: tuple[str, ...] = ()


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        raise InputFileError(f"无法读取{what} {path}", code="OFFICIAL_FILE_UNREADABLE") from None


def _pem_or_der(data: bytes, kind: str) -> bytes:
    if pem.detect(data):
        for found, _headers, der in pem.unarmor(data, multiple=True):
            if found == kind:
                return bytes(der)
        raise ValueError(f"no {kind}")
    return data


def _names_office(cert: asn1_x509.Certificate, office: Office) -> bool:
    subject = cert.subject.native
    return bool({str(subject.get(k)) for k in ("common_name", "organization_name", "serial_number")}
                & {office.name, office.id})


def check_files(office: Office, files: OfficialFiles, *, now: dt.datetime) -> tuple[bytes, asn1_x509.Certificate,
                                                                                     asn1_crl.CertificateList | None]:
    """The seal, the signing certificate and the CRL, once every check passed (see the module docstring);
    raises ``InputFileError`` / ``KeyStoreError`` with the failing check's code and the file's name."""
    seal_der = _read(files.ses, "电子印章文件")
    try:
        seal = ses.read_seal(seal_der)
        ses.cert_list(seal["eSealInfo"]["property"])
    except ValueError:
        raise InputFileError(f"电子印章文件 {files.ses} 无法解析：不是 GB/T 38540 电子印章数据（SES_Seal，DER）",
                             code="SES_SEAL_MALFORMED") from None
    roots = read_certificates(files.ca_root)
    if not all(is_sm2_key(r.public_key) for r in roots):
        raise InputFileError(f"CA 根证书 {files.ca_root} 不是 SM2 证书", code="OFFICIAL_ROOT_NOT_SM2")
    result = ses.verify_seal(seal_der, trust_roots=roots, when=now)
    for finding in result.findings:
        if finding.code in _REFUSING:
            raise InputFileError(f"电子印章文件 {files.ses}：{finding.message}", code=finding.code)
    passphrase = read_passphrase(files.passphrase_file)
    try:
        key = load_sm2_key_file(files.key, passphrase)
    except KeyStoreError as exc:
        raise KeyStoreError(f"加密私钥文件 {files.key}：{exc.message}", code=exc.code) from None
    cert = _signing_certificate(seal, key, files)
    path, problem = ses.chain_to(cert, now, roots)
    if path is None:
        raise InputFileError(f"签名证书（序列号 {cert.serial_number:x}）：{ses.reason(problem or 'CERT_UNTRUSTED')}"
                             f"（CA 根证书 {files.ca_root}）", code=problem or "CERT_UNTRUSTED")
    if not _names_office(cert, office):
        raise InputFileError(f"签名证书签发给「{cert.subject.human_friendly}」，不是「{office.name}」（{office.id}）",
                             code="PROVIDER_WRONG_OFFICE")
    crl = _check_crl(files.ca_crl, cert, path[1], now) if files.ca_crl is not None else None
    return seal_der, cert, crl


def _signing_certificate(seal: ses.SESeal, key: Sm2PrivateKey, files: OfficialFiles) -> asn1_x509.Certificate:
    """The certificate the seal lists for this key (or the one given, when the seal lists digests)."""
    kind, listed = ses.cert_list(seal["eSealInfo"]["property"])
    candidates: list[bytes] = []
    if files.certificate is not None:
        candidates = [c.dump() for c in read_certificates(files.certificate)[:1]]
    elif kind == ses.CERT_LIST_CERTS:
        candidates = [c for c in listed if isinstance(c, bytes)]
    else:
        raise InputFileError(f"电子印章文件 {files.ses} 只列出签章者证书的摘要：请用 --cert 提供签名证书",
                             code="OFFICIAL_CERT_NEEDED")
    for der in candidates:
        try:
            cert = asn1_x509.Certificate.load(der)
            if is_sm2_key(cert.public_key) and Sm2PublicKey.from_info(cert.public_key) == key.public_key \
                    and ses.signer_listed(seal, der):
                return cert
        except ValueError:
            continue
    raise InputFileError(f"加密私钥文件 {files.key} 的密钥不属于电子印章文件 {files.ses} 所列的任何签章者证书",
                         code="SES_SIGNER_NOT_IN_SEAL")


def _check_crl(path: Path, cert: asn1_x509.Certificate, issuer: asn1_x509.Certificate,
               now: dt.datetime) -> asn1_crl.CertificateList:
    try:
        crl = asn1_crl.CertificateList.load(_pem_or_der(_read(path, "吊销列表"), "X509 CRL"))
        crl.native  # noqa: B018 - parse it all now
    except ValueError:
        raise InputFileError(f"吊销列表 {path} 无法解析", code="OFFICIAL_CRL_INVALID") from None
    status, at = ses.revocation_status(cert, issuer, now, [], [crl])
    if status == "unknown":
        raise InputFileError(f"吊销列表 {path} 不是该 CA 根证书签发的，或已过下次更新时间", code="OFFICIAL_CRL_INVALID")
    if status.startswith("revoked"):
        raise InputFileError(f"签名证书已被吊销（{at:%Y-%m-%d}，吊销列表 {path}）", code="CERT_REVOKED")
    return crl


def register_official_seal(settings: Settings, authority: SealAuthority, office_id: str, files: OfficialFiles, *,
                           actor: str = "cli", now: dt.datetime | None = None) -> Registered:
    """Check ``files``, install them for ``office_id`` and switch the office to its official seal."""
    now = now or dt.datetime.now(dt.UTC)
    registry = authority.registry()
    office = registry.get(office_id)
    seal_der, cert, crl = check_files(office, files, now=now)
    area = settings.keys_dir / "official" / office.id
    area.mkdir(parents=True, exist_ok=True)
    area.chmod(0o700)
    roots = read_certificates(files.ca_root)
    spec = OfficialSpec(ses_seal=(area / "seal.ses").resolve(), key_file=(area / "key.p8").resolve(),
                        passphrase_file=(settings.secrets_dir / f"official-{office.id}.pass").resolve(),
                        certificate=(area / "signer.cer").resolve(), ca_root=(area / "ca-root.pem").resolve(),
                        ca_crl=(area / "ca.crl").resolve() if crl is not None else None)
    write_atomic(spec.ses_seal, seal_der)
    write_atomic(spec.key_file, _read(files.key, "加密私钥文件"), mode=0o600)
    write_atomic(spec.passphrase_file, read_passphrase(files.passphrase_file) + b"\n", mode=0o600)
    write_atomic(spec.certificate, pem.armor("CERTIFICATE", cert.dump()))
    assert spec.ca_root is not None
    write_atomic(spec.ca_root, b"".join(pem.armor("CERTIFICATE", r.dump()) for r in roots))
    if crl is not None and spec.ca_crl is not None:
        write_atomic(spec.ca_crl, crl.dump())
    _set_provider(settings, authority, registry, office, spec, actor=actor)
    seal = ses.read_seal(seal_der)
    info = seal["eSealInfo"]
    registered = Registered(office, spec, str(info["esID"].native), str(info["property"]["name"].native),
                            info["property"]["validEnd"].native, f"{cert.serial_number:x}",
                            _trust_warnings(settings, roots))
    with authority.database().session() as session:
        audit.append(session, actor=actor, action="seal.use-official", office_id=office.id, detail={
            "seal_provider": ProviderKind.OFFICIAL.value, "es_id": registered.es_id, "seal_name": registered.seal_name,
            "valid_end": registered.valid_end.isoformat(), "cert_serial": registered.cert_serial,
            "cert_subject": cert.subject.human_friendly, "maker": _maker_subject(seal),
            "ses_sha256": hashlib.sha256(seal_der).hexdigest(),
            "ca_root_sha256": [hashlib.sha256(r.dump()).hexdigest() for r in roots],
            "crl": crl is not None})
    return registered


def _maker_subject(seal: ses.SESeal) -> str:
    try:
        return str(asn1_x509.Certificate.load(bytes(seal["cert"].native)).subject.human_friendly)
    except ValueError:
        return "?"


def _trust_warnings(settings: Settings, roots: tuple[asn1_x509.Certificate, ...]) -> tuple[str, ...]:
    """MINSEAL_TRUST_ROOTS replaces the installation's default roots (its own and the registered CA roots): a
    list that leaves this CA out would refuse the office's seals in the installation's own checks."""
    if not settings.trust_roots:
        return ()
    configured = set()
    for path in settings.trust_roots:
        try:
            configured |= {c.dump() for c in read_certificates(path)}
        except KeyStoreError:
            continue
    if all(r.dump() in configured for r in roots):
        return ()
    listed = "、".join(str(p) for p in settings.trust_roots)
    return (f"注意：已设置 MINSEAL_TRUST_ROOTS（{listed}），其中没有该 CA 根证书；本机校验会拒绝本单位的正式电子印章，"
            "请把该 CA 根证书加入其中",)


def use_own_ca(settings: Settings, authority: SealAuthority, office_id: str, *, actor: str = "cli") -> Office:
    """Switch the office back to MinSeal's own CA (its official seal's files stay in the key area)."""
    registry = authority.registry()
    office = registry.get(office_id)
    before = office.seal_provider.kind
    _set_provider(settings, authority, registry, office, OwnCaSpec(), actor=actor)
    with authority.database().session() as session:
        audit.append(session, actor=actor, action="seal.use-minseal-ca", office_id=office.id,
                     detail={"seal_provider": ProviderKind.OWN_CA.value, "was": before.value})
    return office


def _set_provider(settings: Settings, authority: SealAuthority, registry: Registry, office: Office,
                  spec: OfficialSpec | OwnCaSpec, *, actor: str) -> None:
    """The office's ``seal_provider`` in registry.toml (then imported) or, without a file, in the database."""
    path = settings.registry_path
    if not path.exists():
        offices = [replace(o, seal_provider=spec) if o.id == office.id else o for o in registry]
        DatabaseRegistry(authority.database()).import_registry(Registry(offices), actor=actor)
        return
    text = path.read_text(encoding="utf-8")
    if isinstance(spec, OwnCaSpec):
        entry = f'seal_provider = "{ProviderKind.OWN_CA.value}"\n'
    else:
        entry = "seal_provider = { " + ", ".join(
            f"{name} = {json.dumps(str(value), ensure_ascii=False)}" for name, value in (
                ("kind", ProviderKind.OFFICIAL.value), ("ses_seal", spec.ses_seal), ("certificate", spec.certificate),
                ("key_file", spec.key_file), ("passphrase_file", spec.passphrase_file), ("ca_root", spec.ca_root),
                ("ca_crl", spec.ca_crl)) if value is not None) + " }\n"
    updated = set_office_line(text, office.id, entry)
    try:
        parsed = tomllib.loads(updated)
    except tomllib.TOMLDecodeError as exc:  # our own edit broke it: never write that
        raise RegistryError(f"无法更新单位名录 {path}：{exc}", code="REGISTRY_UPDATE_FAILED") from None
    assert any(o.get("id") == office.id and "seal_provider" in o for o in parsed.get("office", []))
    write_atomic(path, updated.encode("utf-8"))
    authority.registry()  # imports the changed file (validated there, as any edit of it)


def set_office_line(text: str, office_id: str, line: str) -> str:
    """``text`` (registry.toml) with the office's ``seal_provider`` line replaced by ``line`` (or added after its
    ``id``). Comments and every other line are kept as they are."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, raw in enumerate(lines) if raw.strip() == "[[office]]"] + [len(lines)]
    id_line = re.compile(r'^\s*id\s*=\s*["\']' + re.escape(office_id) + r'["\']\s*(#.*)?$')
    for start, end in itertools.pairwise(starts):
        block = lines[start:end]
        at = next((i for i, raw in enumerate(block) if id_line.match(raw.rstrip("\r\n"))), None)
        if at is None:
            continue
        kept = [raw for raw in block if not re.match(r"^\s*seal_provider\s*=", raw)]
        at = next(i for i, raw in enumerate(kept) if id_line.match(raw.rstrip("\r\n")))
        kept.insert(at + 1, line)
        return "".join([*lines[:start], *kept, *lines[end:]])
    raise RegistryError(f"单位名录中没有编号为「{office_id}」的单位", code="UNKNOWN_OFFICE")


# -- demo stand-ins ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoOfficial:
    """Stand-in files for an office's official seal, as a 制作管理单位 would hand them over — made by MinSeal
    under a demo SM2 root, **not** an official seal."""

    directory: Path
    ses: Path
    key: Path
    passphrase_file: Path
    ca_root: Path
    ca_crl: Path
    certificate: Path

    def files(self) -> OfficialFiles:
        return OfficialFiles(ses=self.ses, key=self.key, passphrase_file=self.passphrase_file,
                             ca_root=self.ca_root, ca_crl=self.ca_crl)


def make_demo_official(office: Office, out: Path, font: SealFont, *, valid_start: dt.datetime | None = None,
                       valid_end: dt.datetime | None = None) -> DemoOfficial:
    """A demo SM2 root (演示, not a licensed CA), a seal maker's certificate under it (演示, not an
    电子印章制作管理单位), the office's SM2 certificate, an SES_Seal with the office's drawn seal as SVG listing that
    certificate, the office's key as an encrypted PKCS#8 file with a random passphrase, and the root's CRL
    (valid a year: the demo has no CA that republishes it)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = valid_start or now - dt.timedelta(minutes=5)
    issued = min(start, now)  # the demo's CA, maker and certificate exist from the seal's start on
    root_key, maker_key, office_key = Sm2PrivateKey.generate(), Sm2PrivateKey.generate(), Sm2PrivateKey.generate()
    root = sm2_pki.make_root(root_key, common_name=DEMO_ROOT_NAME, organization=DEMO_ORGANIZATION, years=10,
                             now=issued)
    maker = sm2_pki.issue_signing_certificate(public_key=maker_key.public_key, ca_cert=root, ca_key=root_key,
                                              common_name=DEMO_MAKER_NAME, organization=DEMO_ORGANIZATION,
                                              crl_url=DEMO_CRL_URL, now=issued)
    cert = sm2_pki.issue_office_certificate(office=office.identity, public_key=office_key.public_key, ca_cert=root,
                                            ca_key=root_key, endpoints=PkiEndpoints(crl_url=DEMO_CRL_URL,
                                                                                    ocsp_url=None,
                                                                                    ca_issuers_url=None),
                                            now=issued)
    spec = office.seal_spec
    size = math.ceil(spec.diameter_mm)
    picture = ses.SealPicture("SVG", seal_svg(spec, font).encode("utf-8"), size, size)
    info = ses.SealInfo(es_id=f"DEMO{office.id}{secrets.randbelow(10_000):04d}", name=office.name,
                        signer_certs=(cert.dump(),), picture=picture, valid_start=start,
                        valid_end=valid_end or now + dt.timedelta(days=2 * 365), created=issued)
    seal = ses.make_seal(info, maker_key=maker_key, maker_cert=maker.dump())
    crl = sm2_pki.make_crl(ca_cert=root, ca_key=root_key, revoked=[], number=1, next_update=dt.timedelta(days=365))
    passphrase = secrets.token_urlsafe(24).encode()
    out.mkdir(parents=True, exist_ok=True)
    made = DemoOfficial(directory=out, ses=out / f"{office.id}.ses", key=out / f"{office.id}.p8",
                        passphrase_file=out / f"{office.id}.pass", ca_root=out / "demo-sm2-root.pem",
                        ca_crl=out / "demo-sm2-root.crl", certificate=out / f"{office.id}.cer")
    write_atomic(made.ses, seal)
    write_atomic(made.key, to_pem(encrypt_sm2_key(office_key, passphrase)), mode=0o600)
    write_atomic(made.passphrase_file, passphrase + b"\n", mode=0o600)
    write_atomic(made.ca_root, pem.armor("CERTIFICATE", root.dump()))
    write_atomic(made.ca_crl, crl.dump())
    write_atomic(made.certificate, pem.armor("CERTIFICATE", cert.dump()))
    return made


__all__ = ["DEMO_MAKER_NAME", "DEMO_ROOT_NAME", "DemoOfficial", "OfficialFiles", "Registered", "check_files",
           "make_demo_official", "register_official_seal", "set_office_line", "use_own_ca"]
