"""Batches: what they are, how one item runs, and how far a batch has got.

Every item is idempotent: it runs as the user who asked for the batch, through the same workflow as a person at the
desk (authorisation, rendering, sealing, audit chain), and it is bound to the one document it makes. A re-run after
a crash (or a second worker running the same item) finds that binding and never seals twice: sealing goes through
the document's own state machine (draft → issued, version-checked), and a re-seal's replacement is unique per
document. A failed item (bad data, a document that cannot be re-sealed) is recorded with its reason; the batch
goes on.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from api.services.batch_inputs import check_count
from api.services.container import Services
from api.services.identity import Principal, Role, active_principal
from api.storage import audit, repositories
from api.storage.engine import Session
from api.storage.models import utcnow
from signer.errors import ConflictError, ForbiddenError, MinSealError, NotFoundError, TemplateDataError
from signer.pki import Tier


class BatchKind(StrEnum):
    CERTIFICATES = "certificates"
    NOTICES = "notices"
    RESEAL = "reseal"

    @property
    def label(self) -> str:
        return {"certificates": "批量出具证明", "notices": "批量发布公示", "reseal": "批量重新签章"}[self.value]


#: an item that keeps failing for reasons outside the domain (or keeps killing its worker) is failed after this
MAX_ATTEMPTS = 3
DEFAULT_FAMILY = {BatchKind.CERTIFICATES: "dibao_certificate", BatchKind.NOTICES: "dibao_notice"}


@dataclass(frozen=True)
class ItemView:
    number: int
    label: str
    state: str
    document_id: str | None
    error_code: str | None
    error: str | None
    attempts: int


@dataclass(frozen=True)
class Progress:
    id: str
    kind: str
    family: str | None
    office_id: str
    total: int
    done: int
    failed: int
    running: int
    pending: int
    finished: bool
    #: seconds until the last item is expected to finish (from the rate so far); None before the first finishes
    eta_seconds: float | None
    items_per_second: float | None
    failures: list[ItemView]
    items: list[ItemView] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _label(kind: BatchKind, payload: dict[str, Any], number: int) -> str:
    if kind is BatchKind.RESEAL:
        return str(payload.get("document_id", number))
    data = payload.get("data") or {}
    holder = data.get("holder") if isinstance(data, dict) else None
    for candidate in ((holder or {}).get("name") if isinstance(holder, dict) else None,
                      data.get("village") if isinstance(data, dict) else None,
                      data.get("title") if isinstance(data, dict) else None):
        if isinstance(candidate, str) and candidate:
            return candidate
    return f"第 {number} 项"


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class BatchService:
    def __init__(self, services: Services) -> None:
        self.services = services

    # -- creating ---------------------------------------------------------------------------------------------
    def create(self, who: Principal, kind: str, items: list[Any], *, family: str | None = None) -> str:
        """Record a batch and its items (pending); the caller puts the items on the queue."""
        try:
            batch_kind = BatchKind(kind)
        except ValueError:
            raise TemplateDataError([], f"未知的批量任务类型「{kind}」（certificates、notices 或 reseal）") from None
        if who.tier is Tier.VILLAGE or who.role is Role.ADMIN:
            raise ForbiddenError("批量出具证明、发布公示和重新签章由乡镇或县级单位的经办人、审核人或审批人进行",
                                 code="BATCH_FORBIDDEN")
        check_count(items)
        if batch_kind is BatchKind.RESEAL:
            family = None
            payloads = [{"document_id": str(i)} for i in items]
        else:
            family = family or DEFAULT_FAMILY[batch_kind]
            self.services.documents.catalogue.family(family)  # unknown family: refused before anything is stored
            payloads = [{"data": i} for i in items]
        batch_id = secrets.token_hex(12)
        with self.services.db.session() as session:
            repositories.add_batch(session, batch_id=batch_id, kind=batch_kind.value, family=family,
                                   user_id=who.user_id, office_id=who.office_id,
                                   items=[(_label(batch_kind, p, n), p) for n, p in enumerate(payloads, start=1)])
            audit.append(session, actor=who.actor, action="batch.create", office_id=who.office_id,
                         detail={"batch": batch_id, "kind": batch_kind.value, "family": family,
                                 "total": len(payloads)})
        return batch_id

    def numbers(self, batch_id: str, *, unfinished_only: bool = True) -> list[int]:
        with self.services.db.session() as session:
            states = ("pending", "running") if unfinished_only else None
            return [i.number for i in repositories.batch_items(session, batch_id, states=states)]

    # -- running one item ----------------------------------------------------------------------------------------
    def run_item(self, batch_id: str, number: int) -> str:
        """Run one item to done or failed; a finished item is skipped. Returns the item's final state."""
        with self.services.db.session() as session:
            batch = repositories.batch(session, batch_id)
            item = repositories.start_batch_item(session, batch_id, number)
            if item.state in ("done", "failed"):
                return item.state
            item_id, payload, bound, attempts = item.id, dict(item.payload), item.document_id, item.attempts
            kind, family, user_id = BatchKind(batch.kind), batch.family, batch.user_id
        try:
            with self.services.db.session() as session:
                who = self.principal_of(session, user_id)
            self._run(who, kind, family, item_id, payload, bound)
        except MinSealError as error:
            with self.services.db.session() as session:
                repositories.finish_batch_item(session, item_id, failed=True, error_code=error.code,
                                               error=_reason(error))
            return "failed"
        except Exception as error:  # database gone, disk full …: the queue retries, up to MAX_ATTEMPTS in all
            if attempts < MAX_ATTEMPTS:
                raise
            with self.services.db.session() as session:
                repositories.finish_batch_item(session, item_id, failed=True, error_code="INTERNAL_ERROR",
                                               error=f"办理 {attempts} 次均出错：{type(error).__name__}")
            return "failed"
        with self.services.db.session() as session:
            repositories.finish_batch_item(session, item_id)
        return "done"

    def _run(self, who: Principal, kind: BatchKind, family: str | None, item_id: int, payload: dict[str, Any],
             bound: str | None) -> None:
        flow = self.services.workflow
        if bound is None:
            bound = self._make_document(who, kind, family, item_id, payload)
        view = flow.get(who, bound)
        if view.status == "draft":
            try:
                flow.seal(who, bound)
            except ConflictError:  # another run of this item sealed it a moment ago: fine if it is issued now
                if flow.get(who, bound).status != "issued":
                    raise

    def _make_document(self, who: Principal, kind: BatchKind, family: str | None, item_id: int,
                       payload: dict[str, Any]) -> str:
        flow = self.services.workflow
        if kind is BatchKind.RESEAL:
            old_id = str(payload["document_id"])
            with self.services.db.session() as session:
                already = repositories.replacement_of(session, old_id)
            if already is None:
                old = flow.get(who, old_id)
                if old.status != "issued" or old.data is None or old.route != [who.office_id]:
                    raise ConflictError(f"文书状态为「{old.status_label}」，只有本单位已发布、由系统生成的公示或证明"
                                        "可以重新签章", code="NOT_RESEALABLE")
                try:
                    already = flow.create(who, old.family, old.data, replaces=old_id).id
                except repositories.DuplicateRow:  # another run replaced it between our check and our insert
                    with self.services.db.session() as session:
                        already = repositories.replacement_of(session, old_id)
                    if already is None:
                        raise
            made = already
        else:
            assert family is not None
            made = flow.create(who, family, payload.get("data")).id
        with self.services.db.session() as session:
            return repositories.link_batch_item(session, item_id, made)

    @staticmethod
    def principal_of(session: Session, user_id: int) -> Principal:
        """The user a batch runs as; refused once that user is disabled."""
        who = active_principal(session, user_id)
        if who is None:
            raise ForbiddenError("提交批量任务的用户已停用", code="USER_DISABLED")
        return who

    # -- progress ----------------------------------------------------------------------------------------------
    def progress(self, batch_id: str, *, who: Principal | None = None, with_items: bool = False) -> Progress:
        """done/failed/total and an ETA; ``who``: only the batch's own office (or an office above it) may look."""
        with self.services.db.session() as session:
            batch = repositories.batch(session, batch_id)
            if who is not None and who.office_id != batch.office_id and \
                    batch.office_id not in repositories.offices_below(session, who.office_id):
                raise NotFoundError("没有找到该批量任务", code="UNKNOWN_BATCH")
            counts = repositories.batch_counts(session, batch_id)
            first, last, finished = repositories.batch_timing(session, batch_id)
            failed_rows = repositories.batch_items(session, batch_id, states=("failed",))
            all_rows = repositories.batch_items(session, batch_id) if with_items else None

            def view(r: Any) -> ItemView:
                return ItemView(r.number, r.label, r.state, r.document_id, r.error_code, r.error, r.attempts)

            failures = [view(r) for r in failed_rows]
            items = [view(r) for r in all_rows] if all_rows is not None else None
            total, kind, family, office = batch.total, batch.kind, batch.family, batch.office_id
        done, failed = counts.get("done", 0), counts.get("failed", 0)
        remaining = total - done - failed
        rate = eta = None
        if first is not None and finished:
            elapsed = ((_aware(last) if last else utcnow()) - _aware(first)).total_seconds()
            if elapsed > 0:
                rate = finished / elapsed
                eta = remaining / rate
        return Progress(batch_id, kind, family, office, total, done, failed, counts.get("running", 0),
                        counts.get("pending", 0), remaining == 0, eta, rate, failures, items)


def _reason(error: MinSealError) -> str:
    if isinstance(error, TemplateDataError) and error.problems:
        return f"{error.message}：" + "；".join(str(p) for p in error.problems[:10])
    return error.message
