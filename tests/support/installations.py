"""Demo installations for test fixtures, prepared once per test process and copied.

``init-demo`` (a root CA, a TSA, a key, certificate and seal image for every office, a CRL, SoftHSM2 tokens) and
the demo users (a password hash each) take 10–15 s; a fixture that only needs *an* installation gets a copy of one
prepared earlier with the same settings: its data and keys directories copied (SoftHSM2's config re-pointed at the
copied tokens) and, on PostgreSQL, its database cloned (``CREATE DATABASE … TEMPLATE``). The copy is byte for byte
what ``init_demo`` made; ``init_demo`` itself is still run and tested from scratch by the PKI, CLI and fault tests.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path

from api.services.authority import SealAuthority
from api.services.documents import DocumentService, seal_font
from api.settings import Settings

#: cache key -> the prepared installation's settings (its data dir, keys dir and database)
_PREPARED: dict[str, Settings] = {}
_ROOT: Path | None = None
#: SQLite's file in the data dir when no database URL is set (Settings)
DATABASE = "minseal.db"


def _root() -> Path:
    global _ROOT
    if _ROOT is None:
        _ROOT = Path(tempfile.mkdtemp(prefix="minseal-test-installations-"))
        atexit.register(shutil.rmtree, _ROOT, True)
    return _ROOT


def _sqlite_file(database_url: str | None) -> Path | None:
    """The SQLite file an explicit ``sqlite:///…`` URL names (None: the default one in the data dir, or not SQLite)."""
    if database_url is None or not database_url.startswith("sqlite:///"):
        return None
    return Path(database_url.removeprefix("sqlite:///"))


def _backend(database_url: str | None) -> str:
    """``sqlite`` (in the data dir or the file a URL names: the same database) or the PostgreSQL server (its URL
    without the database name)."""
    if database_url is None or _sqlite_file(database_url) is not None:
        return "sqlite"
    return database_url.rsplit("/", 1)[0]


def _key(settings: Settings, *, users: bool) -> str:
    """Everything that shapes what ``init_demo`` makes: the settings (bar where things live), the registry, the
    users, the database server."""
    shaping = settings.model_dump(mode="json", exclude={"data_dir", "keys_dir", "database_url"})
    for name in ("key_passphrase", "pkcs11_pin"):  # dumped as "**********"
        secret = getattr(settings, name)
        shaping[name] = None if secret is None else secret.get_secret_value()
    registry = settings.registry_path.read_text("utf-8") if settings.registry_path.exists() else None
    return json.dumps([shaping, registry, users, _backend(settings.database_url)], sort_keys=True, default=str)


def _prepare(settings: Settings, *, users: bool, documents: DocumentService | None) -> Settings:
    from tests.support.pg_cluster import new_database

    n = len(_PREPARED)
    root = _root() / f"i{n}"
    url = None if _backend(settings.database_url) == "sqlite" else new_database(_backend(settings.database_url),
                                                                                prefix="tmpl")
    template = settings.model_copy(update={"data_dir": root / "var", "keys_dir": root / "keys", "database_url": url})
    if settings.registry_path.exists():
        template.data_dir.mkdir(parents=True)
        shutil.copyfile(settings.registry_path, template.registry_path)
    authority = SealAuthority(template)
    authority.init_demo(seal_font())
    authority.database().dispose()
    if users:
        from api.services.container import Services
        from api.services.demo_users import create_demo_users

        services = Services.build(template, documents=documents)
        services.prepare()
        create_demo_users(services)
        services.close()
    return template


def install_demo(settings: Settings, *, users: bool = False, documents: DocumentService | None = None) -> None:
    """Make ``settings``' data dir, keys dir and (fresh, empty) database an ``init_demo`` installation — with the
    demo users (``create_demo_users``) when ``users``. A registry.toml already in the data dir is the one used."""
    key = _key(settings, users=users)
    if key not in _PREPARED:
        _PREPARED[key] = _prepare(settings, users=users, documents=documents)
    template = _PREPARED[key]
    target = _sqlite_file(settings.database_url)
    database = shutil.ignore_patterns(f"{DATABASE}*") if target is not None else None
    shutil.copytree(template.data_dir, settings.data_dir, dirs_exist_ok=True, ignore=database)
    shutil.copytree(template.keys_dir, settings.keys_dir, dirs_exist_ok=True)
    conf = settings.softhsm_dir / "softhsm2.conf"
    if conf.exists():
        old = str(template.softhsm_dir / "tokens")
        conf.write_text(conf.read_text().replace(old, str(settings.softhsm_dir / "tokens")))
    if target is not None:  # SQLite at a file the URL names: the template's database, copied there
        assert not target.exists(), f"{target} is not a fresh database"
        for suffix in ("", "-wal", "-shm"):
            source = template.data_dir / f"{DATABASE}{suffix}"
            if source.exists():
                shutil.copyfile(source, f"{target}{suffix}")
    elif settings.database_url is not None:
        from tests.support.pg_cluster import clone_database

        assert template.database_url is not None
        clone_database(template.database_url, settings.database_url)
