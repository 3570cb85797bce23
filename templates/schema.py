"""Field schemas: loaded from a family's ``schema.toml``, they validate input before anything renders.

A schema is a flat list of ``[[field]]`` entries whose ``path`` says where the field sits
(``applicant.name``, ``members[].id_number``). Validation collects *every* problem with its path, converts
values to Python types (dates, Decimal amounts) and fills defaults. ``private = true`` marks personal data that
documents for the public must mask (ID numbers) or omit (everything else).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from signer.errors import FieldProblem

from . import validators

LEAF_TYPES = frozenset(
    {"string", "text", "integer", "amount", "date", "id_number", "mobile", "phone", "credit_code", "enum",
     "boolean", "url"}
)
CONTAINER_TYPES = frozenset({"object", "list"})


@dataclass(frozen=True)
class FieldSpec:
    """One field of a family's input data."""

    name: str
    label: str
    type: str
    required: bool = False
    private: bool = False
    description: str = ""
    max_length: int | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    choices: tuple[str, ...] = ()
    min_items: int = 0
    max_items: int | None = None
    default: Any = None
    children: tuple[FieldSpec, ...] = ()
    #: a list of plain values (reasons, missing papers, names) rather than of objects: the items' type and length
    item_type: str | None = None
    item_max_length: int | None = None

    def child(self, name: str) -> FieldSpec | None:
        return next((c for c in self.children if c.name == name), None)


@dataclass(frozen=True)
class Schema:
    """The root object of a family's data, plus the flat list for listings."""

    root: FieldSpec
    flat: tuple[tuple[str, FieldSpec], ...] = field(default=())

    @classmethod
    def load(cls, path: Path) -> Schema:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return cls.from_entries(raw.get("field", []), source=str(path))

    @classmethod
    def from_entries(cls, entries: list[dict[str, Any]], *, source: str = "<schema>") -> Schema:
        # Build a mutable tree first (children lists), then freeze it bottom-up.
        nodes: dict[str, dict[str, Any]] = {"": {"spec": {"name": "", "label": "", "type": "object"}, "kids": []}}
        order: list[str] = []
        for entry in entries:
            path = entry["path"]
            parent, _, name = path.rpartition(".")
            parent_key = parent.removesuffix("[]")
            if parent_key not in nodes:
                raise ValueError(f"{source}: field {path!r} declared before its parent {parent_key!r}")
            if entry.get("type") not in LEAF_TYPES | CONTAINER_TYPES:
                raise ValueError(f"{source}: field {path!r} has unknown type {entry.get('type')!r}")
            if entry.get("item_type") is not None and (entry.get("type") != "list"
                                                       or entry["item_type"] not in LEAF_TYPES):
                raise ValueError(f"{source}: field {path!r}: item_type is for lists of plain values")
            key = path
            nodes[key] = {"spec": {**entry, "name": name}, "kids": []}
            nodes[parent_key]["kids"].append(key)
            order.append(key)

        def freeze(key: str) -> FieldSpec:
            raw = dict(nodes[key]["spec"])
            raw.pop("path", None)
            for bound in ("minimum", "maximum"):
                if raw.get(bound) is not None:
                    raw[bound] = Decimal(str(raw[bound]))
            raw["choices"] = tuple(raw.get("choices", ()))
            raw["children"] = tuple(freeze(k) for k in nodes[key]["kids"])
            return FieldSpec(**raw)

        frozen_nodes: dict[str, FieldSpec] = {}
        root = freeze("")

        def index(spec: FieldSpec, prefix: str) -> None:
            for child in spec.children:
                p = f"{prefix}.{child.name}" if prefix else child.name
                frozen_nodes[p] = child
                index(child, p + "[]" if child.type == "list" else p)

        index(root, "")
        return cls(root=root, flat=tuple((p, frozen_nodes[p]) for p in frozen_nodes))

    def validate(self, data: object, *, today: date | None = None) -> tuple[dict[str, Any], list[FieldProblem]]:
        """Returns the converted data and every problem found (empty when the data is good)."""
        problems: list[FieldProblem] = []
        if not isinstance(data, Mapping):
            return {}, [FieldProblem("$", "数据应为一个 JSON 对象")]
        clean = _validate_object(self.root, data, "", problems, today or date.today())
        return clean, problems


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _validate_object(
    spec: FieldSpec, data: Mapping[str, Any], prefix: str, problems: list[FieldProblem], today: date
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    known = {c.name for c in spec.children}
    for extra in sorted(set(data) - known):
        problems.append(FieldProblem(_join(prefix, str(extra)), "未知字段（模板中没有此项）"))
    for child in spec.children:
        path = _join(prefix, child.name)
        value = data.get(child.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if child.required:
                problems.append(FieldProblem(path, f"必填项「{child.label}」未填写"))
            default = child.default
            out[child.name] = [] if child.type == "list" and default is None else default
            continue
        out[child.name] = _validate_value(child, value, path, problems, today)
    return out


def _validate_value(spec: FieldSpec, value: Any, path: str, problems: list[FieldProblem], today: date) -> Any:
    def bad(message: str) -> None:
        problems.append(FieldProblem(path, f"「{spec.label}」{message}"))

    if spec.type == "object":
        if not isinstance(value, Mapping):
            bad("应为对象")
            return None
        return _validate_object(spec, value, path, problems, today)
    if spec.type == "list":
        if not isinstance(value, list):
            bad("应为列表")
            return []
        if len(value) < spec.min_items:
            bad(f"至少需要 {spec.min_items} 项")
        if spec.max_items is not None and len(value) > spec.max_items:
            bad(f"最多 {spec.max_items} 项，实际 {len(value)} 项")
        items = []
        if spec.item_type is not None:
            leaf = FieldSpec(name=spec.name, label=f"{spec.label}第", type=spec.item_type,
                             max_length=spec.item_max_length, required=True)
            for i, item in enumerate(value):
                item_path = f"{path}[{i}]"
                if item is None or (isinstance(item, str) and not item.strip()):
                    problems.append(FieldProblem(item_path, f"「{spec.label}」第 {i + 1} 项为空"))
                    continue
                items.append(_validate_value(replace(leaf, label=f"{spec.label}第 {i + 1} 项"), item, item_path,
                                             problems, today))
            return items
        for i, item in enumerate(value):
            item_path = f"{path}[{i}]"
            if not isinstance(item, Mapping):
                problems.append(FieldProblem(item_path, f"「{spec.label}」第 {i + 1} 项应为对象"))
                continue
            items.append(_validate_object(spec, item, item_path, problems, today))
        return items
    checker = _LEAF_CHECKERS[spec.type]
    result = checker(spec, value, today)
    if isinstance(result, _Problem):
        bad(result.message)
        return None
    return result


@dataclass(frozen=True)
class _Problem:
    message: str


def _text(spec: FieldSpec, value: Any, _today: date) -> str | _Problem:
    if not isinstance(value, str):
        return _Problem("应为文字")
    value = value.strip()
    limit = spec.max_length or (2000 if spec.type == "text" else 100)
    if len(value) > limit:
        return _Problem(f"过长（最多 {limit} 字，实际 {len(value)} 字）")
    bad = validators.control_chars(value)
    if bad:
        return _Problem(f"含有控制字符（{'、'.join(bad)}）")
    if spec.type == "string" and "\n" in value:
        return _Problem("不能换行")
    return str(value)


def _integer(spec: FieldSpec, value: Any, _today: date) -> int | _Problem:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        else:
            return _Problem("应为整数")
    result: int | _Problem = _bounded(spec, value, str(value))
    return result


def _bounded(spec: FieldSpec, value: Any, shown: str) -> Any:
    if spec.minimum is not None and value < spec.minimum:
        return _Problem(f"不能小于 {spec.minimum}（实际 {shown}）")
    if spec.maximum is not None and value > spec.maximum:
        return _Problem(f"不能大于 {spec.maximum}（实际 {shown}）")
    return value


def _amount(spec: FieldSpec, value: Any, _today: date) -> Decimal | _Problem:
    parsed = validators.parse_amount(value)
    if isinstance(parsed, str):
        return _Problem(parsed)
    return _bounded(spec, parsed, f"{parsed}")  # type: ignore[no-any-return]


def _date(spec: FieldSpec, value: Any, _today: date) -> date | _Problem:
    parsed = validators.parse_date(value)
    return _Problem(parsed) if isinstance(parsed, str) else parsed


def _with_check(check: Callable[..., str | None]) -> Callable[[FieldSpec, Any, date], str | _Problem]:
    def run(spec: FieldSpec, value: Any, today: date) -> str | _Problem:
        if not isinstance(value, str):
            return _Problem("应为文字")
        bad = validators.control_chars(value, allow="")
        if bad:
            return _Problem(f"含有控制字符（{'、'.join(bad)}）")
        value = validators.normalize_code(value)
        message = check(value, today=today) if spec.type == "id_number" else check(value)
        return _Problem(message) if message else value

    return run


def _enum(spec: FieldSpec, value: Any, _today: date) -> str | _Problem:
    if value not in spec.choices:
        return _Problem(f"只能是：{'、'.join(spec.choices)}（实际「{value}」）")
    return str(value)


def _boolean(spec: FieldSpec, value: Any, _today: date) -> bool | _Problem:
    return value if isinstance(value, bool) else _Problem("应为 true 或 false")


def _url(spec: FieldSpec, value: Any, _today: date) -> str | _Problem:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")) or len(value) > 500:
        return _Problem("应为 http(s) 网址")
    if validators.control_chars(value, allow="") or any(c.isspace() for c in value):
        return _Problem("网址含有空白或控制字符")
    return value


_LEAF_CHECKERS: dict[str, Callable[[FieldSpec, Any, date], Any]] = {
    "string": _text,
    "text": _text,
    "integer": _integer,
    "amount": _amount,
    "date": _date,
    "id_number": _with_check(validators.check_id_number),
    "mobile": _with_check(validators.check_mobile),
    "phone": _with_check(validators.check_phone),
    "credit_code": _with_check(validators.check_credit_code),
    "enum": _enum,
    "boolean": _boolean,
    "url": _url,
}


def public_view(spec: FieldSpec, data: Any) -> Any:
    """The data as a public document may show it: every private field removed — ID numbers too, not even
    masked (57号 art. 24: a public list shows 申请人姓名, 家庭成员数量, 保障金额; the last digits of a masked
    number still reveal sex)."""
    if spec.type == "list":
        if spec.item_type is not None:
            return None if spec.private else list(data or [])
        return [public_view_object(spec, item) for item in data or []]
    if spec.type == "object":
        return public_view_object(spec, data) if data is not None else None
    return data


def public_view_object(spec: FieldSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in spec.children:
        value = data.get(child.name)
        if child.private:
            out[child.name] = None
            continue
        out[child.name] = public_view(child, value)
    return out
