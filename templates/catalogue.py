"""The document families: each folder under ``templates/`` with a ``family.toml`` is one family.

A family = ``family.toml`` (metadata + field schema), ``template.html.j2`` (PDF via WeasyPrint), ``family.py``
(derived values, cross-field rules and the python-docx builder) and ``sample.json``.
"""

from __future__ import annotations

import importlib
import json
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, cast

from signer.errors import FieldProblem, TemplateDataError, UnknownFamilyError

from .rules import DEFAULT_RULES, DocumentRules
from .schema import FieldSpec, Schema, public_view

TEMPLATES_ROOT = Path(__file__).resolve().parent

#: form: filled and sealed along the route; notice: posted (公示/公布); certificate: shown by its holder to a third
#: party; letter: a decision or notice sent to the applicant (leaves the office, so it carries a QR code);
#: record: a paper kept in the case file (授权书, 调查表, 评议记录 …; no QR code)
Kind = Literal["form", "notice", "certificate", "letter", "record"]
#: the kinds whose copies leave the office and so carry a QR code to their public verification page
PUBLIC_KINDS: frozenset[str] = frozenset({"notice", "certificate", "letter"})
Audience = Literal["internal", "public", "holder"]


@dataclass(frozen=True)
class Family:
    """One kind of document and everything needed to check, render and edit it."""

    id: str
    title: str
    kind: Kind
    #: internal forms show personal data in full; public notices mask/omit private fields; a certificate
    #: goes to its holder (full ID) but its QR page is public.
    audience: Audience
    directory: Path
    schema: Schema
    #: the tiers whose opinion boxes the form carries, in route order (forms only)
    tiers: tuple[str, ...]
    #: dotted path to the issuing office's name in the data: PDF author and seal position
    issuer_field: str
    #: derived values (totals, ages …) the documents show, under the local rules
    derive: Callable[[dict[str, Any], DocumentRules], dict[str, Any]]
    #: cross-field rules; a refusal names the rule it follows
    check: Callable[[dict[str, Any], DocumentRules], list[FieldProblem]]
    build_docx: Callable[[dict[str, Any]], Any]
    #: functions the family's HTML template may call, so PDF and DOCX share one wording
    helpers: Mapping[str, Callable[..., Any]]
    #: the tiers that may issue this paper of a case (letters, records, certificates); empty for forms
    issued_by: tuple[str, ...] = ()
    #: the case kind ("dibao", "relief") a case paper belongs to; None for forms and 公示/公布
    case_kind: str | None = None

    @property
    def public(self) -> bool:
        """Whether copies leave the office (and so carry a QR code to the public verification page)."""
        return self.kind in PUBLIC_KINDS

    @property
    def sample_path(self) -> Path:
        return self.directory / "sample.json"

    def sample(self) -> dict[str, Any]:
        return cast(dict[str, Any], json.loads(self.sample_path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Prepared:
    """Validated input: ``data`` as converted, ``view`` as the document may show it."""

    family: Family
    data: dict[str, Any]
    view: dict[str, Any]

    @property
    def issuer(self) -> str:
        value: Any = self.data
        for part in self.family.issuer_field.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        return str(value or "")


class Catalogue:
    """All families found under ``templates/``; loaded once per process."""

    def __init__(self, families: Mapping[str, Family]) -> None:
        self._families = dict(families)

    @classmethod
    def load(cls, root: Path = TEMPLATES_ROOT) -> Catalogue:
        families = {}
        for meta in sorted(root.glob("*/family.toml")):
            family = _load_family(meta)
            families[family.id] = family
        return cls(families)

    def __iter__(self) -> Iterator[Family]:
        return iter(self._families.values())

    def __len__(self) -> int:
        return len(self._families)

    def family(self, family_id: str) -> Family:
        try:
            return self._families[family_id]
        except KeyError:
            known = "、".join(self._families)
            raise UnknownFamilyError(f"没有模板「{family_id}」；可用的模板：{known}") from None

    def prepare(self, family_id: str, data: object, *, today: date | None = None,
                rules: DocumentRules | None = None) -> Prepared:
        """Validate ``data`` against the family's schema and rules; raise with every bad field named."""
        family = self.family(family_id)
        rules = rules or DEFAULT_RULES
        clean, problems = family.schema.validate(data, today=today)
        if not problems:
            problems = family.check(clean, rules)
        if problems:
            raise TemplateDataError(problems, f"「{family.title}」数据有误（共 {len(problems)} 处）")
        shown = clean if family.audience != "public" else public_view(family.schema.root, clean)
        return Prepared(family=family, data=clean, view=family.derive(dict(shown), rules))


def _load_family(meta_path: Path) -> Family:
    raw = tomllib.loads(meta_path.read_text(encoding="utf-8"))
    meta = raw["family"]
    directory = meta_path.parent
    module = importlib.import_module(f"templates.{directory.name}.family")
    entries: list[dict[str, Any]] = []
    for shared in meta.get("include", []):
        entries += tomllib.loads((TEMPLATES_ROOT / shared).read_text(encoding="utf-8")).get("field", [])
    entries += raw.get("field", [])
    return Family(
        id=meta["id"],
        title=meta["title"],
        kind=meta["kind"],
        audience=meta["audience"],
        directory=directory,
        schema=Schema.from_entries(entries, source=str(meta_path)),
        tiers=tuple(meta.get("tiers", ())),
        issuer_field=meta["issuer_field"],
        derive=getattr(module, "derive", lambda view, rules: view),
        check=getattr(module, "check", lambda data, rules: []),
        build_docx=module.build_docx,
        helpers=dict(getattr(module, "TEMPLATE_HELPERS", {})),
        issued_by=tuple(meta.get("issued_by", ())),
        case_kind=meta.get("case_kind"),
    )


def iter_strings(spec: FieldSpec, data: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) for every string value in validated data, for glyph-coverage checks."""
    if isinstance(data, str):
        yield prefix, data
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from iter_strings(spec, item, f"{prefix}[{i}]")
    elif isinstance(data, Mapping):
        for child in spec.children:
            path = f"{prefix}.{child.name}" if prefix else child.name
            yield from iter_strings(child, data.get(child.name), path)
