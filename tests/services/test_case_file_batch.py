"""A batch of 案卷 (``minseal batch case-files``, SQLite in-process): every named case exported and sealed, an
unknown case failed with its reason, a re-run exports nothing twice, and the files written out verify whole."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.cli.main import main
from api.services.batches import BatchService
from api.services.demo_users import demo_username
from api.services.documents import DocumentService
from api.services.identity import Role
from api.storage import cases as store
from signer import case_file
from tests.support.cases import approved_by, staff
from tests.support.public_world import DAY0
from tests.support.service_world import COUNTY, World


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> Iterator[World]:
    built = World(tmp_path_factory.mktemp("case-file-batch"), documents)
    yield built
    built.services.db.dispose()


def test_a_batch_of_case_files(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    s = staff(world)
    docs = [approved_by(world, s, day0=DAY0 + dt.timedelta(days=30 * i)) for i in range(2)]
    with world.services.db.session() as session:
        case_ids = [store.case_of_application(session, d).id for d in docs]  # type: ignore[union-attr]
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(world.settings.data_dir))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(world.settings.keys_dir))
    monkeypatch.setenv("MINSEAL_FIXED_TODAY", world.services.clock.today().isoformat())
    ids = tmp_path / "cases.txt"
    ids.write_text("\n".join([*case_ids, "no-such-case"]) + "\n", "utf-8")
    out = tmp_path / "out"
    code = main(["batch", "case-files", str(ids), "--as", demo_username(COUNTY, Role.APPROVER), "--out", str(out)])
    captured = capsys.readouterr()
    assert code != 0 and "完成 2，失败 1，共 3" in captured.out, captured
    assert "UNKNOWN_CASE" in captured.err or "没有这个案件" in captured.err
    files = sorted(out.glob("*.pdf"))
    assert len(files) == 2 and all("案卷" in f.name for f in files)
    for f in files:
        report = world.services.verification.verify_case_file(f.read_bytes())
        assert report.verdict.value == "PASSED", (report.summary(), report.outer and report.outer.codes)
        contents = case_file.read(f.read_bytes())
        assert contents is not None and len(contents.manifest["papers"]) >= 2  # the application and its 公示
    batch_id = re.search(r"[0-9a-f]{24}", captured.out).group(0)  # type: ignore[union-attr]
    runner = BatchService(world.services)
    before = len(world.services.audit_rows())
    assert [runner.run_item(batch_id, n) for n in (1, 2, 3)] == ["done", "done", "failed"]
    assert len(world.services.audit_rows()) == before  # nothing exported or sealed twice
