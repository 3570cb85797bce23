from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.offices import DEMO_REGISTRY, Registry
from api.settings import Settings
from api.workflow import DocumentService
from templates import Catalogue, PdfRenderer


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return Catalogue.load()


@pytest.fixture(scope="session")
def renderer(catalogue: Catalogue) -> Iterator[PdfRenderer]:
    r = PdfRenderer(catalogue)
    yield r
    r.close()


@pytest.fixture(scope="session")
def documents(catalogue: Catalogue, renderer: PdfRenderer) -> DocumentService:
    return DocumentService(Settings(), catalogue=catalogue, renderer=renderer, registry=Registry.load(DEMO_REGISTRY))


@pytest.fixture()
def write_pdf(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(pdf: bytes, name: str = "doc.pdf") -> Path:
        path = tmp_path / name
        path.write_bytes(pdf)
        return path

    return write
