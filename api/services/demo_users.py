"""The demo's users: one per office and role that office has, passwords in a 0600 file in the data dir."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from api.services.container import Services
from api.services.identity import Role
from api.settings import Settings
from api.storage.offices_store import office_rows
from signer.pki import Tier

#: roles each tier's offices get in the demo
DEMO_ROLES: dict[Tier, tuple[Role, ...]] = {
    Tier.VILLAGE: (Role.CLERK, Role.ADMIN),
    Tier.TOWNSHIP: (Role.CLERK, Role.REVIEWER, Role.ADMIN),
    Tier.COUNTY: (Role.CLERK, Role.APPROVER, Role.ADMIN),
}


def demo_username(office_id: str, role: Role) -> str:
    return f"{role.value}-{office_id}"


def passwords_path(settings: Settings) -> Path:
    return settings.secrets_dir / "demo-users.txt"


def create_demo_users(services: Services) -> tuple[Path, int]:
    """Idempotent: users that exist keep their passwords; new ones are appended to the file."""
    path = passwords_path(services.settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    created = 0
    offices = sorted(office_rows(services.db), key=lambda o: o.id)
    lines = []
    for office in offices:
        for role in DEMO_ROLES[Tier(office.tier)]:
            username = demo_username(office.id, role)
            with services.db.session() as session:
                try:
                    services.identity.user(session, username)
                    continue
                except Exception:
                    pass
                password = secrets.token_urlsafe(12)
                services.identity.add_user(session, username=username, office_id=office.id, role=role.value,
                                           password=password, display_name=f"{office.name}{role.label}",
                                           actor="init-demo")
            lines.append(f"{username}\t{password}\t{office.name}\t{role.label}\n")
            created += 1
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, "".join(lines).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return path, created


def read_passwords(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            out[parts[0]] = parts[1]
    return out
