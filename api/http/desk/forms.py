"""An HTML form made from a family's field schema (templates/schema.py), and the posted form made back into the
family's data. What the user typed is kept as typed (strings) so a refused form comes back exactly as it was,
with each problem beside its field."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from signer.errors import FieldProblem
from templates.schema import FieldSpec

#: filled by the service from the office registry, never typed
ROUTE_FILLED = frozenset({"offices"})
_TOKEN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d{1,2})\])?$")
MAX_ROWS = 20


@dataclass
class Node:
    """One thing on the form: a field (``kind`` is its input), a group (fieldset) or repeated rows."""

    node: str  # "field" | "group" | "rows"
    name: str  # the form field name: applicant.name, members[1].health
    spec: FieldSpec
    kind: str = "text"
    value: str = ""
    errors: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    rows: list[list[Node]] = field(default_factory=list)

    @property
    def dom_id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.name)


def _kind(spec: FieldSpec) -> str:
    return {"enum": "select", "date": "date", "integer": "number", "boolean": "checkbox", "text": "textarea",
            "amount": "amount", "id_number": "code", "mobile": "tel", "phone": "tel", "url": "url"}.get(
        spec.type, "text")


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def build(root: FieldSpec, values: Mapping[str, Any], problems: list[FieldProblem] | None = None,
          *, add_row: str | None = None) -> tuple[list[Node], list[str]]:
    """The form's nodes with ``values`` (nested, as :func:`values_of` reads them) and each problem placed beside
    its field; problems that match no field are returned for the top of the page."""
    by_path: dict[str, list[str]] = {}
    for p in problems or []:
        by_path.setdefault(p.path, []).append(p.message)
    placed: set[str] = set()

    def errors_for(name: str) -> list[str]:
        if name in by_path:
            placed.add(name)
            return by_path[name]
        return []

    def nodes(spec: FieldSpec, data: Mapping[str, Any], prefix: str, top: bool) -> list[Node]:
        out = []
        for child in spec.children:
            if top and child.name in ROUTE_FILLED:
                continue
            name = _join(prefix, child.name)
            value = data.get(child.name)
            if child.type == "object":
                out.append(Node("group", name, child, errors=errors_for(name),
                                children=nodes(child, value if isinstance(value, Mapping) else {}, name, False)))
            elif child.type == "list":
                items = [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
                if add_row == name or not items:
                    items = [*items, {}]
                rows = [nodes(child, item, f"{name}[{i}]", False) for i, item in enumerate(items[:MAX_ROWS])]
                out.append(Node("rows", name, child, errors=errors_for(name), rows=rows))
            else:
                shown = "" if value is None else str(value)
                out.append(Node("field", name, child, kind=_kind(child), value=shown, errors=errors_for(name)))
        return out

    tree = nodes(root, values, "", True)
    rest = [f"{p.path}：{m}" if p.path not in ("", "$") else m
            for p in problems or [] if p.path not in placed for m in [p.message]]
    return tree, rest


def values_of(form: FormData, *, remove_row: str | None = None) -> dict[str, Any]:
    """The posted fields as a nested structure of strings (lists compacted in index order); form controls
    (``csrf_token``, ``_action``) are not data. ``remove_row``: ``members[2]`` drops that row."""
    root: dict[str, Any] = {}
    for key, raw in form.multi_items():
        if key.startswith("_") or key == "csrf_token" or not isinstance(raw, str):
            continue
        if remove_row and (key.startswith(remove_row + ".") or key == remove_row):
            continue
        tokens = [_TOKEN.match(t) for t in key.split(".")]
        if not all(tokens) or len(tokens) > 4:
            continue
        node: Any = root
        for i, match in enumerate(tokens):
            assert match is not None
            name, index = match.group(1), match.group(2)
            last = i == len(tokens) - 1
            if index is None:
                if last:
                    node[name] = raw
                else:
                    node = node.setdefault(name, {})
            else:
                rows = node.setdefault(name, {})  # index → row, compacted below
                row = rows.setdefault(int(index), {} if not last else raw)
                node = row
    compacted: dict[str, Any] = _compact(root)
    return compacted


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        if value and all(isinstance(k, int) for k in value):
            return [_compact(value[k]) for k in sorted(value)]
        return {k: _compact(v) for k, v in value.items()}
    return value


def data_of(root: FieldSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """The family's data from the typed strings: blanks left out, checkboxes as booleans, whole numbers as ints,
    rows left entirely blank dropped. Anything odd is passed on as typed, for the schema to name."""

    def convert(spec: FieldSpec, data: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in spec.children:
            value = data.get(child.name)
            if child.type == "object":
                inner = convert(child, value if isinstance(value, Mapping) else {})
                if inner:
                    out[child.name] = inner
            elif child.type == "list":
                rows = [convert(child, v) for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
                out[child.name] = [r for r in rows if r]
            elif child.type == "boolean":
                out[child.name] = value in ("on", "true", "1", "是")
            elif isinstance(value, str) and value.strip():
                text = value.strip() if child.type != "text" else value.replace("\r\n", "\n").strip()
                out[child.name] = int(text) if child.type == "integer" and text.isdigit() else text
        return out

    return convert(root, values)


def as_values(data: Any) -> Any:
    """Stored data (dates, amounts, booleans) as the strings a form shows."""
    if isinstance(data, Mapping):
        return {k: as_values(v) for k, v in data.items()}
    if isinstance(data, list):
        return [as_values(v) for v in data]
    if isinstance(data, bool):
        return "on" if data else ""
    if isinstance(data, dt.date):
        return data.isoformat()
    return "" if data is None else str(data)


def defaults(root: FieldSpec, *, office_name: str, today: dt.date) -> dict[str, Any]:
    """A fresh form: today's date in the date the form is made on, the signed-in office as the issuer."""
    out: dict[str, Any] = {}
    for child in root.children:
        if child.name in ("filled_on", "issued_on") and child.type == "date":
            out[child.name] = today.isoformat()
        elif child.name == "issuer" and child.type == "string":
            out[child.name] = office_name
        elif child.default is not None and child.type not in ("object", "list"):
            out[child.name] = as_values(child.default)
    return out
