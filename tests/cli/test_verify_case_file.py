"""``minseal verify`` on a 案卷: its own seal and every paper, one report, non-zero exit naming a bad file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli.main import main
from api.errors import EXIT_CODE
from api.services.documents import DocumentService
from signer.errors import ErrorCategory
from tests.support.case_files import CaseFileWorld


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> CaseFileWorld:
    return CaseFileWorld(tmp_path_factory.mktemp("cli_case_file"), documents)


@pytest.fixture()
def installation(world: CaseFileWorld, monkeypatch: pytest.MonkeyPatch) -> CaseFileWorld:
    """The CLI reads the same installation (roots, CRL, registry) that sealed the 案卷."""
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(world.settings.data_dir))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(world.settings.keys_dir))
    return world


def test_verify_good_case_file_exits_zero_and_reports_every_paper(
    installation: CaseFileWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "案卷.pdf"
    path.write_bytes(installation.good)
    assert main(["verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("案卷通过：共 3 件")
    assert "案卷印章：通过：1 个签章（曲阳县民政局）" in out
    assert "最低生活保障 · 张秀兰 · 东沟南村，案卷号 QY-DB-2026-0012" in out
    for paper in installation.papers:
        assert f"{paper.title}（{paper.name}）：通过" in out
    assert main(["verify", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == "PASSED" and report["outer"]["verdict"] == "PASSED"
    assert [p["ok"] for p in report["papers"]] == [True, True, True]


def test_verify_bad_case_file_exits_non_zero_naming_the_file(
    installation: CaseFileWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "changed.pdf"
    path.write_bytes(installation.changed())
    assert main(["verify", str(path)]) == EXIT_CODE[ErrorCategory.REFUSED]
    out = capsys.readouterr().out
    name = installation.papers[2].name
    assert out.startswith("案卷不通过")
    assert f"{installation.papers[2].title}（{name}）：不通过。「{name}」与目录记载的摘要不一致" in out
    assert f"{installation.papers[0].title}（{installation.papers[0].name}）：通过" in out


def test_verify_plain_sealed_pdf_is_unchanged(installation: CaseFileWorld, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "form.pdf"
    path.write_bytes(installation.papers[0].data)
    assert main(["verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("通过：3 个签章") and "案卷" not in out


def test_the_verify_endpoint_checks_a_case_file_whole(world: CaseFileWorld) -> None:
    """POST /api/verify gives the same answer as ``minseal verify``: one changed attachment fails the 案卷."""
    import httpx

    from api.services.container import Services
    from tests.support.servers import free_port, serve

    services = Services.build(world.settings)
    services.prepare()
    with services.db.session() as session:
        services.identity.add_user(session, username="county-checker", office_id="130634", role="clerk",
                                   password="case-file-checker-1", actor="test")
    with serve(world.settings, free_port(), ready="/healthz", lifespan="on") as base, \
            httpx.Client(base_url=base, timeout=120) as client:
        r = client.post("/api/auth/login", json={"username": "county-checker", "password": "case-file-checker-1"})
        client.headers["x-csrf-token"] = r.json()["csrf_token"]
        good = client.post("/api/verify", files={"file": ("案卷.pdf", world.good, "application/pdf")}).json()
        assert good["verdict"] == "PASSED" and [p["ok"] for p in good["case_file"]["papers"]] == [True, True, True]
        changed = client.post("/api/verify", files={"file": ("案卷.pdf", world.changed(), "application/pdf")})
        body = changed.json()
        assert body["verdict"] == "FAILED", body["case_file"]
        assert [p["ok"] for p in body["case_file"]["papers"]] == [True, True, False]
        assert body["signatures"][0]["office_name"] == "曲阳县民政局"  # the 案卷's own seal is still reported
        page = client.post("/api/verify", files={"file": ("案卷.pdf", world.changed(), "application/pdf")},
                           headers={"Accept": "text/html"}).text
        assert "案卷不通过" in page and world.papers[2].name in page
    services.close()
