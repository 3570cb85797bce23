"""Server-rendered pages (public verification): one jinja Environment, autoescaped, strict."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

PAGES = Path(__file__).parent


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(PAGES)), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
