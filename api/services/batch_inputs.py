"""Item lists for batches: JSON (a list of objects, or {"items": [...]}) or CSV (one row per item; column names are
the item's fields — for certificates ``case_id``, ``id_number``, ``recipient``, ``purpose``; empty cells are left
out)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from signer.errors import FieldProblem, TemplateDataError

MAX_ITEMS = 100_000


def _row(row: dict[str, str]) -> dict[str, str]:
    """One CSV row as an item: its non-empty cells, as text (an ID number or a case id is never a number)."""
    return {key.strip(): value.strip() for key, value in row.items()
            if key is not None and key.strip() and value is not None and value.strip()}


def parse_items(text: str, *, suffix: str = ".json") -> list[Any]:
    if suffix.lower() == ".csv":
        return [_row(row) for row in csv.DictReader(io.StringIO(text))]
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
