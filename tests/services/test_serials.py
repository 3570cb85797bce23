"""文号 serials under concurrency, on SQLite and PostgreSQL: two 受理通知书 issued by one township at the same moment
get two numbers (they were count + 1 of the same count before), and many takers of one series get each number once."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from api.services.documents import DocumentService
from api.services.serials import next_serial
from api.storage import cases as store
from api.storage import repositories
from api.storage.models import DocumentRow
from tests.conftest import BACKENDS, database_url_for
from tests.support.cases import Staff, approved_by, filed_by, household, staff
from tests.support.public_world import DAY0
from tests.support.service_world import TOWNSHIP, World

T = TypeVar("T")


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          documents: DocumentService) -> Iterator[World]:
    root: Path = tmp_path_factory.mktemp(f"serials-{request.param}")
    built = World(root, documents, database_url=database_url_for(request.param, request, root))
    built.services.clock.set(DAY0)
    yield built
    built.services.db.dispose()


def together(calls: list[Callable[[], T]]) -> list[T]:
    """Run the calls in threads that start together (a barrier: each waits until all are ready)."""
    gate = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        gate.wait(timeout=120)
        try:
            results[i] = calls[i]()
        except BaseException as error:  # handed back to the test thread
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


def _numbers(world: World, case_ids: list[str], family: str) -> list[str]:
    with world.services.db.session() as session:
        return sorted(p["doc_number"] for c in case_ids
                      for p in (store.case(session, c).facts or {}).get("papers") or [] if p["family"] == family)


def test_two_papers_issued_at_once_get_two_numbers(world: World) -> None:
    s: Staff = staff(world)
    case_ids = []
    for _ in range(2):
        doc = filed_by(world, s, household())
        with world.services.db.session() as session:
            row = store.case_of_application(session, doc)
            assert row is not None
            case_ids.append(row.id)
    papers = world.services.papers
    together([lambda c=c: papers.issue(s.township, c, "dibao_acceptance_notice", {"contact_phone": "0312-4211234"})
              for c in case_ids])
    assert _numbers(world, case_ids, "dibao_acceptance_notice") == [
        f"燕赵镇民受〔{DAY0.year}〕1号", f"燕赵镇民受〔{DAY0.year}〕2号"]


def test_many_takers_of_one_series_get_each_number_once(world: World) -> None:
    """The counter's first row is made by one of them (the others retry on its key), then each UPDATE waits."""
    db = world.services.db

    def take_five() -> list[int]:
        return [next_serial(db, TOWNSHIP, "test:race", before=lambda _session: 7) for _ in range(5)]

    taken = [n for batch in together([take_five for _ in range(6)]) for n in batch]
    assert sorted(taken) == list(range(8, 38))
    with db.session() as session:  # a series counted on from what the office gave before the counter
        assert repositories.next_serial(session, TOWNSHIP, "test:other", floor=3) == 4


def test_both_kinds_of_certificate_share_one_series(world: World) -> None:
    """The register's 低保证明 and the case paper 低保状态证明 are both 低证: one office never prints the same
    文号 on the two (each flow once counted its own kind), and the numbers carry no padding (GB/T 9704)."""
    s: Staff = staff(world)
    doc = approved_by(world, s, household())
    with world.services.db.session() as session:
        row = store.case_of_application(session, doc)
        assert row is not None
        case_id = row.id
    register = world.services.publication.issue_certificate(s.township, case_id, recipient="曲阳县第一中学",
                                                            purpose="助学金申请")
    paper = world.services.papers.issue(s.township, case_id, "dibao_status_certificate",
                                        {"recipient": "曲阳县人民医院", "purpose": "医疗救助"})
    with world.services.db.session() as session:
        certificate = session.get(DocumentRow, register.document_id)
        assert certificate is not None
        numbers = [str((certificate.data or {})["serial"])]
    numbers += _numbers(world, [case_id], "dibao_status_certificate")
    year = world.services.clock.today().year
    serials = [int(re.fullmatch(r".*〕(\d+)号", n).group(1)) for n in numbers]  # type: ignore[union-attr]
    assert len(set(serials)) == 2, numbers  # (0001 and 1 were the same number printed twice)
    assert all(n is not None and n.startswith(f"燕赵镇低证〔{year}〕") and "〕0" not in n for n in numbers), numbers
    assert paper is not None
