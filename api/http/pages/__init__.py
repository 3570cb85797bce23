"""Server-rendered pages (public verification): one jinja Environment, autoescaped, strict."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from signer.formats import cn_date_text, money, when_text

PAGES = Path(__file__).parent


@cache
def environment() -> jinja2.Environment:
    """The pages' one Environment, with the one date formatter as filters: ``cn_date`` (2026年11月22日) and
    ``when`` (a timestamp as local wall time, to the minute)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(PAGES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(cn_date=cn_date_text, when=when_text, money=money)
    return env


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
