"""A demo installation with a second county, its services and users, served on 127.0.0.1 by a real uvicorn."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from api.http.app import create_app
from api.services.container import Services
from api.services.demo_users import passwords_path, read_passwords
from api.services.documents import DocumentService
from api.services.offices import DEMO_REGISTRY
from api.settings import Settings
from tests.support.installations import install_demo
from tests.support.servers import free_port, serve

VILLAGE, OTHER_VILLAGE, TOWNSHIP, OTHER_TOWNSHIP, COUNTY = (
    "130634100201", "130634100202", "130634100", "130634101", "130634")
#: a second county with one township and one village (nobody there may see the first county's files)
FAR_COUNTY, FAR_TOWNSHIP, FAR_VILLAGE = "130635", "130635100", "130635100201"
FAR_OFFICES = f"""
[[office]]
id = "{FAR_COUNTY}"
name = "远山县民政局"
tier = "county"
parent = ""
key_store = "p12"

[[office]]
id = "{FAR_TOWNSHIP}"
name = "远山镇人民政府"
tier = "township"
parent = "{FAR_COUNTY}"
seal = {{ emblem = "minseal:demo-stand-in" }}
key_store = "p12"

[[office]]
id = "{FAR_VILLAGE}"
name = "远山村村民委员会"
tier = "village"
parent = "{FAR_TOWNSHIP}"
key_store = "p12"
"""
SAMPLE = json.loads((Path(__file__).parents[2] / "templates/dibao_application/sample.json").read_text("utf-8"))


class World:
    def __init__(self, root: Path, documents: DocumentService | None = None, database_url: str | None = None) -> None:
        self.settings = Settings(data_dir=root / "var", keys_dir=root / "keys", database_url=database_url)
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings.registry_path.write_text(DEMO_REGISTRY.read_text("utf-8") + FAR_OFFICES, encoding="utf-8")
        # init-demo and the demo users, as a copy of an installation prepared once (tests.support.installations)
        install_demo(self.settings, users=True, documents=documents)
        self.services = Services.build(self.settings, documents=documents)
        self.services.prepare()
        self.passwords = read_passwords(passwords_path(self.settings))


class Api:
    """One signed-in user over HTTP: cookie session + CSRF header."""

    def __init__(self, base: str, username: str, password: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=60)
        r = self.client.post("/api/auth/login", json={"username": username, "password": password})
        r.raise_for_status()
        self.client.headers["x-csrf-token"] = r.json()["csrf_token"]

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def close(self) -> None:
        self.client.close()


@contextmanager
def serve_app(world: World) -> Iterator[str]:
    """The full service (lifespan on: migrations and registry import) on a free port."""
    app = create_app(world.settings, services=world.services)
    with serve(world.settings, free_port(), app=app, ready="/healthz", lifespan="on") as base:
        yield base
