"""Item lists for batches: JSON (a list of objects, or {"items": [...]}) or CSV (one row per item; column names are
field paths such as ``holder.name``; empty cells are left out)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from signer.errors import FieldProblem, TemplateDataError

MAX_ITEMS = 100_000


def _nested(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in row.items():
        if path is None or value is None or value == "":
            continue
        node = out
        *parents, leaf = path.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _scalar(value)
    return out


def _scalar(value: str) -> Any:
    """CSV cells are text; whole numbers become numbers (persons, days) — amounts stay text ("1260.00")."""
    return int(value) if value.isdigit() and not value.startswith("0") else value


def parse_items(text: str, *, suffix: str = ".json") -> list[Any]:
    if suffix.lower() == ".csv":
        return [_nested(row) for row in csv.DictReader(io.StringIO(text))]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise TemplateDataError([], f"批量数据不是有效的 JSON：第 {error.lineno} 行") from None
    if isinstance(data, dict) and "items" in data:
        data = data["items"]
    if not isinstance(data, list):
        raise TemplateDataError([FieldProblem("items", "应为列表")], "批量数据应为列表")
    return data


def read_items(path: Path) -> list[Any]:
    return check_count(parse_items(path.read_text("utf-8-sig"), suffix=path.suffix))


def check_count(items: list[Any]) -> list[Any]:
    if not items:
        raise TemplateDataError([FieldProblem("items", "至少一项")], "批量任务没有任何条目")
    if len(items) > MAX_ITEMS:
        raise TemplateDataError([FieldProblem("items", f"最多 {MAX_ITEMS} 项")], "批量任务条目过多")
    return items
