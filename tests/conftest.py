from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.services.documents import DocumentService
from api.services.offices import DEMO_REGISTRY, Registry
from api.settings import Settings
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


# -- both databases (issue 12): SQLite (the embedded default) and a throwaway PostgreSQL 15 cluster ----------------
@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The cluster ``scripts/test`` started (``MINSEAL_TEST_PG_URL``), else one started here for this session."""
    import os

    from tests.support.pg_cluster import ENV_URL, cluster

    if os.environ.get(ENV_URL):
        yield os.environ[ENV_URL]
        return
    with cluster() as url:
        yield url


BACKENDS = ["sqlite", "postgresql"]


def database_url_for(backend: str, request: pytest.FixtureRequest, root: Path) -> str:
    """A fresh, empty database of ``backend``."""
    if backend == "sqlite":
        return f"sqlite:///{root / 'minseal.db'}"
    from tests.support.pg_cluster import new_database

    return new_database(request.getfixturevalue("pg_server"))
