"""The office hierarchy (county → townships → villages) and its route rules, read from a TOML registry."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signer.errors import FieldProblem, TemplateDataError
from signer.errors import RegistryError as RegistryError  # re-exported: moved to the one error tree
from signer.errors import UnknownOfficeError as UnknownOfficeError
from signer.pki import OfficeIdentity, Tier
from signer.provider_specs import (
    OfficialSpec,
    OwnCaSpec,
    ProviderKind,
    ProviderSpec,
    RemoteSpec,
    spec_from_json,
    spec_to_json,
)
from signer.route import PARENT_TIER
from signer.seal_image import Emblem, SealSpec, emblem_from_svg
from templates import Prepared
from templates.validators import check_credit_code

if TYPE_CHECKING:  # `minseal verify` reads a registry without loading SQLAlchemy
    from api.storage.engine import Database

DEMO_REGISTRY = Path(__file__).with_name("demo_registry.toml")
#: the demo's marked stand-in for the national emblem (a framed cross, NOT the emblem), by this name in a registry
DEMO_EMBLEM_REF = "minseal:demo-stand-in"
DEMO_EMBLEM = Path(__file__).with_name("demo_emblem_stand_in.svg")
#: offices whose seal carries the national emblem (国发〔1999〕25号: 县级以上和乡镇人民政府)
NATIONAL_EMBLEM_SUFFIX = "人民政府"
#: default seal diameter of a county office (Settings.county_seal_diameter_mm)
COUNTY_SEAL_MM = 42.0


@dataclass(frozen=True)
class Office:
    id: str
    name: str
    tier: Tier
    parent: str | None
    credit_code: str | None
    seal_diameter_mm: float
    seal_bottom_text: str | None
    key_store: str  # "p12" | "pkcs11:<token label>"
    #: 防伪编码 drawn along the seal's lower arc, where the office's seal carries one
    seal_security_code: str | None = None
    #: the centre emblem where the office's seal carries another than the star (from its artwork file)
    seal_emblem: Emblem | None = None
    #: where the office's seal comes from (signer/providers.py): MinSeal's own CA unless the registry says
    seal_provider: ProviderSpec = field(default_factory=OwnCaSpec)

    @property
    def identity(self) -> OfficeIdentity:
        return OfficeIdentity(office_id=self.id, name=self.name, tier=self.tier, credit_code=self.credit_code,
                              parent_id=self.parent)

    @property
    def seal_spec(self) -> SealSpec:
        return SealSpec(self.name, self.seal_diameter_mm, self.seal_bottom_text or None,
                        security_code=self.seal_security_code or None, emblem=self.seal_emblem or None)


class Registry:
    def __init__(self, offices: list[Office]) -> None:
        self._offices = {o.id: o for o in offices}

    @classmethod
    def load(cls, path: Path, *, county_seal_mm: float = COUNTY_SEAL_MM) -> Registry:
        """``county_seal_mm``: the diameter of a county office whose entry gives none (a setting)."""
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RegistryError(f"找不到单位名录 {path}；可先运行 minseal init-demo", code="REGISTRY_MISSING") from None
        except tomllib.TOMLDecodeError as exc:
            raise RegistryError(f"单位名录 {path} 格式错误：{exc}") from None
        offices, problems = [], []
        for i, entry in enumerate(raw.get("office", [])):
            office, entry_problems = _parse_office(entry, county_seal_mm=county_seal_mm, base=path.parent)
            problems += [f"office[{i}]（{entry.get('id', '?')}）：{p}" for p in entry_problems]
            if office:
                offices.append(office)
        registry = cls(offices)
        problems += registry._check_hierarchy()
        if problems:
            raise RegistryError("单位名录有误：" + "；".join(problems))
        return registry

    def _check_hierarchy(self) -> list[str]:
        problems = []
        if len(self._offices) == 0:
            problems.append("名录为空")
        for office in self._offices.values():
            want = PARENT_TIER.get(office.tier)
            if want is None:
                if office.parent:
                    problems.append(f"{office.id}：县级单位不应有上级")
                continue
            parent = self._offices.get(office.parent or "")
            if parent is None:
                problems.append(f"{office.id}：上级单位 {office.parent} 不在名录中")
            elif parent.tier is not want:
                problems.append(f"{office.id}：上级单位 {parent.id} 应为{want.label}单位")
        return problems

    def __iter__(self) -> Iterator[Office]:
        return iter(self._offices.values())

    def get(self, office_id: str) -> Office:
        """By registry id only: two offices may share a display name, never an id."""
        if office_id in self._offices:
            return self._offices[office_id]
        hint = f"（「{named.name}」的编号是 {named.id}）" if (named := self.by_name(office_id)) else ""
        raise UnknownOfficeError(f"名录中没有编号为「{office_id}」的单位{hint}")

    def by_name(self, name: str) -> Office | None:
        return next((o for o in self._offices.values() if o.name == name), None)

    def route(self, office_id: str) -> list[Office]:
        """The offices a file from ``office_id`` passes, in order: village → its township → its county."""
        chain = [self.get(office_id)]
        while chain[-1].parent:
            chain.append(self.get(chain[-1].parent))
        return chain


def resolve_office_ids(prepared: Prepared, registry: Registry) -> dict[str, str]:
    """The registry ids of the offices a document's data names for its seal boxes (tiers, or the issuer).

    This is where a typed name is resolved once, at input; from here on sealing and verification match the ids
    written into the file. A name that is not in the registry is a field error naming the field."""
    family = prepared.family
    wanted: dict[str, tuple[str, str]] = {}
    if family.tiers:
        offices = prepared.data.get("offices", {}) if isinstance(prepared.data, dict) else {}
        wanted = {tier: (f"offices.{tier}", str(offices.get(tier, ""))) for tier in family.tiers}
    else:
        wanted = {"issuer": (family.issuer_field, prepared.issuer)}
    ids, problems = {}, []
    for slot, (path, name) in wanted.items():
        office = registry.by_name(name)
        if office is None:
            problems.append(FieldProblem(path, f"单位名录中没有「{name}」"))
        else:
            ids[slot] = office.id
    if problems:
        raise TemplateDataError(problems, "文书中的单位不在单位名录中")
    return ids


def _parse_office(entry: dict[str, Any], *, county_seal_mm: float = 42.0,
                  base: Path = Path(".")) -> tuple[Office | None, list[str]]:
    problems = []
    provider, provider_problems = parse_seal_provider(entry.get("seal_provider"), base)
    if provider is not None and provider.kind is not ProviderKind.OWN_CA:
        entry = {"key_store": "p12", **entry}  # the key is elsewhere: no MinSeal key store to name
    for key in ("id", "name", "tier", "key_store"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            problems.append(f"缺少 {key}")
    if problems:
        return None, problems
    try:
        tier = Tier(entry["tier"])
    except ValueError:
        return None, [f"tier 只能是 village/township/county（实际 {entry['tier']}）"]
    code = entry.get("credit_code") or None
    if code and (message := check_credit_code(code)):
        problems.append(message)
    seal = entry.get("seal", {})
    # 国发〔1999〕25号: 乡(镇) 4.2 cm; a county office's default is a setting (its bureaus commonly 4.2 cm)
    diameter = seal.get("diameter_mm", county_seal_mm if tier is Tier.COUNTY else 42)
    security = seal.get("security_code")
    if security is not None and (not isinstance(security, str) or not security.isdigit() or len(security) > 16):
        problems.append("防伪编码（security_code）应为不超过 16 位的数字")
    if not isinstance(diameter, (int, float)) or not 30 <= diameter <= 60:
        problems.append("印章直径应在 30–60 mm 之间")
    emblem, emblem_problem = _emblem_artwork(entry, seal.get("emblem"), base)
    if emblem_problem:
        problems.append(emblem_problem)
    store = entry["key_store"]
    if store != "p12" and not (store.startswith("pkcs11:") and len(store) > len("pkcs11:")):
        problems.append("key_store 只能是 p12 或 pkcs11:<令牌标签>")
    problems += provider_problems
    if problems or provider is None:
        return None, problems
    return Office(id=entry["id"], name=entry["name"], tier=tier, parent=entry.get("parent") or None,
                  credit_code=code, seal_diameter_mm=float(diameter), seal_bottom_text=seal.get("bottom_text"),
                  key_store=store, seal_security_code=security, seal_emblem=emblem, seal_provider=provider), []


_PROVIDER_FIELDS = {ProviderKind.REMOTE: ({"url", "seal_id", "credential_file"}, {"timeout_s", "tls_ca_file"}),
                    ProviderKind.OFFICIAL: ({"ses_seal", "key_file", "passphrase_file", "certificate"},
                                            {"ca_root", "ca_crl"})}


def parse_seal_provider(raw: object, base: Path) -> tuple[ProviderSpec | None, list[str]]:
    """An office's ``seal_provider`` (absent or ``"minseal-ca"``: MinSeal's own CA), or the problems, each
    naming the field. Files are relative to the registry; whether they exist is checked when the seal is used
    (the machine that only verifies does not hold them)."""
    if raw is None or raw == ProviderKind.OWN_CA.value:
        return OwnCaSpec(), []
    choices = '"minseal-ca"、{ kind = "remote", … } 或 { kind = "official", … }'
    if not isinstance(raw, dict):
        return None, [f"seal_provider 只能是 {choices}（实际 {raw!r}）"]
    try:
        kind = ProviderKind(str(raw.get("kind")))
    except ValueError:
        return None, [f"seal_provider.kind 只能是 minseal-ca、remote 或 official（实际 {raw.get('kind')!r}）"]
    if kind is ProviderKind.OWN_CA:
        return OwnCaSpec(), [f"seal_provider.{k} 不适用于 minseal-ca" for k in sorted(set(raw) - {"kind"})]
    required, optional = _PROVIDER_FIELDS[kind]
    problems = [f"seal_provider 缺少 {k}" for k in sorted(required)
                if not isinstance(raw.get(k), str) or not raw[k].strip()]
    problems += [f"seal_provider 中有未知字段 {k}" for k in sorted(set(raw) - required - optional - {"kind"})]
    if problems:
        return None, problems

    def path(key: str) -> Path:
        return (base / str(raw[key])).resolve()

    if kind is ProviderKind.OFFICIAL:
        extra = [k for k in ("ca_root", "ca_crl") if k in raw]
        problems += [f"seal_provider.{k} 应为文件路径" for k in extra
                     if not isinstance(raw[k], str) or not raw[k].strip()]
        if problems:
            return None, problems
        return OfficialSpec(ses_seal=path("ses_seal"), key_file=path("key_file"),
                            passphrase_file=path("passphrase_file"), certificate=path("certificate"),
                            ca_root=path("ca_root") if "ca_root" in raw else None,
                            ca_crl=path("ca_crl") if "ca_crl" in raw else None), []
    url = str(raw["url"]).strip()
    local = url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
    if not (url.startswith("https://") or local):
        problems.append(f"seal_provider.url 须为 https:// 地址（实际 {url}）")
    timeout = raw.get("timeout_s", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 1 <= timeout <= 120:
        problems.append("seal_provider.timeout_s 应为 1–120 秒")
    tls_ca = raw.get("tls_ca_file")
    if tls_ca is not None and (not isinstance(tls_ca, str) or not tls_ca.strip()):
        problems.append("seal_provider.tls_ca_file 应为文件路径")
    if problems:
        return None, problems
    return RemoteSpec(url=url, seal_id=str(raw["seal_id"]).strip(), credential_file=path("credential_file"),
                      timeout_s=float(timeout), tls_ca_file=path("tls_ca_file") if tls_ca else None), []


def _emblem_artwork(entry: dict[str, Any], artwork: object, base: Path) -> tuple[Emblem | None, str | None]:
    """The seal's centre emblem from its artwork file, or the problem. A 人民政府's seal carries the national
    emblem, which MinSeal never draws: without a file (``seal.emblem``, or ``emblems/<id>.svg`` beside the
    registry) it is refused, naming the file, rather than given a star."""
    conventional = base / "emblems" / f"{entry['id']}.svg"
    if artwork is None and conventional.exists():
        artwork = f"emblems/{entry['id']}.svg"
    if artwork is None:
        if str(entry["name"]).strip().endswith(NATIONAL_EMBLEM_SUFFIX):
            return None, (f"「{entry['name']}」的印章中央为国徽（国发〔1999〕25号），不能以五角星代替："
                          f"请提供国徽图案文件 {conventional}（SVG），或在 seal.emblem 中写明其路径")
        return None, None
    file = DEMO_EMBLEM if artwork == DEMO_EMBLEM_REF else base / str(artwork)  # relative to the registry file
    try:
        return emblem_from_svg(file.read_text(encoding="utf-8")), None
    except (OSError, UnicodeDecodeError):
        return None, f"无法读取印章图案文件 {file}"
    except ValueError as exc:
        return None, f"印章图案文件 {file}：{exc}"


class DatabaseRegistry:
    """The registry as the database holds it; ``registry.toml`` is its import format: a file that differs from
    the last one imported (by SHA-256) is validated and imported — new offices added, changed ones updated, none
    deleted — and the import is a row of the audit chain."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def load(self) -> Registry | None:
        """None when no office was ever imported."""
        from api.storage import offices_store

        offices = [Office(id=r.id, name=r.name, tier=Tier(r.tier), parent=r.parent_id, credit_code=r.credit_code,
                          seal_diameter_mm=r.seal_diameter_mm, seal_bottom_text=r.seal_bottom_text,
                          key_store=r.key_store, seal_security_code=r.seal_security_code,
                          seal_emblem=_emblem(r.seal_emblem), seal_provider=spec_from_json(r.seal_provider))
                   for r in offices_store.office_rows(self.db)]
        return Registry(offices) if offices else None

    def import_file(self, path: Path, *, county_seal_mm: float, actor: str = "system") -> int:
        """Import ``path`` unless it is the file imported last (with the same county seal default); returns how
        many offices changed."""
        from api.storage import offices_store

        sha = hashlib.sha256(path.read_bytes() + f"\0county_seal_mm={county_seal_mm}".encode()).hexdigest()
        if offices_store.imported_sha(self.db) == sha:
            return 0
        return self.import_registry(Registry.load(path, county_seal_mm=county_seal_mm), sha=sha, actor=actor)

    def import_registry(self, registry: Registry, *, sha: str | None = None, actor: str = "system") -> int:
        rows = [(o.id, o.name, o.tier.value, o.parent, o.credit_code, o.seal_diameter_mm, o.seal_bottom_text,
                 o.key_store, o.seal_security_code, _stored(o.seal_emblem), spec_to_json(o.seal_provider))
                for o in registry]
        from api.storage import offices_store

        return offices_store.store_offices(self.db, rows, sha=sha, actor=actor)


def _stored(emblem: Emblem | None) -> list[Any] | None:
    return [[list(point) for point in poly] for poly in emblem] if emblem else None


def _emblem(stored: list[Any] | None) -> Emblem | None:
    return tuple(tuple((float(x), float(y)) for x, y in poly) for poly in stored) if stored else None
