"""Batches: what they are, how one item runs, and how far a batch has got.

Three kinds, all derived, never retyped: ``certificates`` names approved cases (by case id or by an ID number the
case holds) and issues each one's 低保证明 from the county's decision stored in the case, exactly as
``POST /api/cases/{id}/certificate`` does; ``reseal`` re-issues documents from their stored data (after a seal
renewal); ``case_files`` exports each named case's sealed 案卷 (api/services/case_files.py) and keeps it for the
batch's download. 公示 are built from the township's cases at the desk (``POST /api/notices/build``), not in batches.

Every item is idempotent: it runs as the user who asked for the batch, through the same services as a person at the
desk (authorisation, the case's order, rendering, sealing, audit chain), and it is bound to the one document it
makes. A re-run after a crash (or a second worker running the same item) finds that binding and never seals twice:
sealing goes through the document's own state machine (draft → issued, version-checked), publishing through the
publication register (draft → published), and a re-seal's replacement is unique per document. A failed item (a case
not approved, a document that cannot be re-sealed) is recorded with its reason; the batch goes on.
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
from api.storage import cases as case_store
from api.storage.engine import Session
from api.storage.models import CaseRow, utcnow
from signer.errors import (
    ConflictError,
    FieldProblem,
    ForbiddenError,
    MinSealError,
    NotFoundError,
    TemplateDataError,
)
from signer.pki import Tier


class BatchKind(StrEnum):
    CERTIFICATES = "certificates"
    RESEAL = "reseal"
    CASE_FILES = "case_files"

    @property
    def label(self) -> str:
        return {"certificates": "批量出具证明", "reseal": "批量重新签章", "case_files": "批量导出案卷"}[self.value]


#: an item that keeps failing for reasons outside the domain (or keeps killing its worker) is failed after this
MAX_ATTEMPTS = 3
#: the one family a certificate item makes (the publication service derives it from the case)
CERTIFICATE_FAMILY = "dibao_certificate"
#: a certificate item's fields: which case (one of the first two), and what the desk's form also takes
CERTIFICATE_FIELDS = {"case_id": 64, "id_number": 18, "recipient": 40, "purpose": 60}


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


def _certificate_item(raw: Any, number: int) -> tuple[dict[str, str], list[FieldProblem]]:
    """One certificate item as stored: ``case_id`` or ``id_number``, optional ``recipient`` and ``purpose``
    (text; a CSV reader may hand whole numbers over as numbers)."""
    where = f"items[{number - 1}]"
    if not isinstance(raw, dict):
        return {}, [FieldProblem(where, "应为对象：{\"case_id\": …} 或 {\"id_number\": …}，可加 recipient、purpose")]
    problems = [FieldProblem(f"{where}.{k}", "不是证明条目的字段（case_id、id_number、recipient、purpose）")
                for k in raw if k not in CERTIFICATE_FIELDS]
    item: dict[str, str] = {}
    for key, longest in CERTIFICATE_FIELDS.items():
        value = raw.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            problems.append(FieldProblem(f"{where}.{key}", "应为文本"))
            continue
        text = str(value).strip()
        if len(text) > longest:
            problems.append(FieldProblem(f"{where}.{key}", f"最多 {longest} 个字符"))
        elif text:
            item[key] = text.upper() if key == "id_number" else text
    if not problems and ("case_id" in item) == ("id_number" in item):
        problems.append(FieldProblem(where, "应写明 case_id（案件编号）或 id_number（持证户成员的身份证号码）之一"))
    return item, problems


def _in_area(who: Principal, case: CaseRow) -> bool:
    return who.office_id in (case.township_id, case.county_id)


def _certificate_payloads(session: Session, who: Principal, items: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, payload) per item: an ID number becomes the case that holds it, when that case is in the office's
    area; the label is the applicant's name (an unresolved item keeps its number and fails when it runs)."""
    checked = [_certificate_item(raw, n) for n, raw in enumerate(items, start=1)]
    problems = [p for _, ps in checked for p in ps]
    if problems:
        raise TemplateDataError(problems[:20], "批量出具证明的条目格式不对：每项写明案件编号或身份证号码")
    by_id = case_store.cases_by_id(session, [i["case_id"] for i, _ in checked if "case_id" in i])
    by_number = case_store.holders(session, [i["id_number"] for i, _ in checked if "id_number" in i])
    out = []
    for number, (item, _) in enumerate(checked, start=1):
        case = by_id.get(item["case_id"]) if "case_id" in item else by_number.get(item["id_number"])
        if case is not None and _in_area(who, case):
            item = {**{k: v for k, v in item.items() if k != "id_number"}, "case_id": case.id}
            out.append((case.applicant_name, dict(item)))
        else:
            out.append((f"第 {number} 项", dict(item)))
    return out


def _case_file_payloads(session: Session, who: Principal, items: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, payload) per 案卷 item: a case id of the office's area (an unknown one keeps its number and fails
    when it runs, like any item)."""
    problems = [FieldProblem(f"items[{n}]", "应为案件编号（文本）") for n, raw in enumerate(items)
                if not isinstance(raw, str) or not raw.strip() or len(raw) > 64]
    if problems:
        raise TemplateDataError(problems[:20], "批量导出案卷的条目应为案件编号")
    by_id = case_store.cases_by_id(session, [str(i).strip() for i in items])
    out = []
    for number, raw in enumerate(items, start=1):
        case = by_id.get(str(raw).strip())
        if case is not None and who.office_id in (case.village_id, case.township_id, case.county_id):
            out.append((case.applicant_name, {"case_id": case.id}))
        else:
            out.append((f"第 {number} 项", {"case_id": str(raw).strip()}))
    return out


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
            raise TemplateDataError([], f"未知的批量任务类型「{kind}」（certificates、reseal 或 case_files；公示请在"
                                        "“公示”页面由案件生成）") from None
        if who.tier is Tier.VILLAGE or who.role is Role.ADMIN:
            raise ForbiddenError("批量出具证明和重新签章由乡镇或县级单位的经办人、审核人或审批人进行",
                                 code="BATCH_FORBIDDEN")
        check_count(items)
        if batch_kind is BatchKind.CERTIFICATES and family is not None and family != CERTIFICATE_FAMILY:
            self.services.documents.catalogue.family(family)  # unknown family: refused as such
            raise TemplateDataError([FieldProblem("family", f"证明由案件生成，模板只能是 {CERTIFICATE_FAMILY}")])
        batch_id = secrets.token_hex(12)
        with self.services.db.session() as session:
            if batch_kind is BatchKind.RESEAL:
                family = None
                labelled = [(str(i), {"document_id": str(i)}) for i in items]
            elif batch_kind is BatchKind.CASE_FILES:
                family = None
                labelled = _case_file_payloads(session, who, items)
            else:
                family = CERTIFICATE_FAMILY
                labelled = _certificate_payloads(session, who, items)
            repositories.add_batch(session, batch_id=batch_id, kind=batch_kind.value, family=family,
                                   user_id=who.user_id, office_id=who.office_id, items=labelled)
            audit.append(session, actor=who.actor, action="batch.create", office_id=who.office_id,
                         detail={"batch": batch_id, "kind": batch_kind.value, "family": family,
                                 "total": len(labelled)})
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
            kind_name, user_id = batch.kind, batch.user_id
        try:
            try:
                kind = BatchKind(kind_name)
            except ValueError:  # recorded before that kind was withdrawn (typed 公示): nothing may run it now
                raise ConflictError(f"批量任务类型「{kind_name}」已停用：公示须由案件生成", code="BATCH_KIND_REMOVED") \
                    from None
            with self.services.db.session() as session:
                who = self.principal_of(session, user_id)
            self._run(who, kind, item_id, payload, bound)
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

    def _run(self, who: Principal, kind: BatchKind, item_id: int, payload: dict[str, Any],
             bound: str | None) -> None:
        if kind is BatchKind.CERTIFICATES:
            self._certificate(who, item_id, payload, bound)
            return
        if kind is BatchKind.CASE_FILES:
            self._case_file(who, item_id, payload)
            return
        flow = self.services.workflow
        if bound is None:
            bound = self._replacement(who, item_id, payload)
        view = flow.get(who, bound)
        if view.status == "draft":
            try:
                flow.seal(who, bound)
            except ConflictError:  # another run of this item sealed it a moment ago: fine if it is issued now
                if flow.get(who, bound).status != "issued":
                    raise

    def _certificate(self, who: Principal, item_id: int, payload: dict[str, Any], bound: str | None) -> None:
        """Draft the case's certificate (bound to the item before anything is sealed), then seal and publish it
        through the publication register, which records it on the case."""
        publication = self.services.publication
        if bound is None:
            case_id = payload.get("case_id")
            if case_id is None:
                raise NotFoundError("没有找到持有该身份证号码、属于本单位辖区的案件", code="UNKNOWN_CASE")
            draft = publication.draft_certificate(who, str(case_id), recipient=payload.get("recipient"),
                                                  purpose=payload.get("purpose"))
            with self.services.db.session() as session:
                bound = repositories.link_batch_item(session, item_id, draft.document_id)
        if publication.get(who, bound).state == "draft":
            try:
                publication.publish(who, bound)
            except ConflictError:  # another run of this item published it a moment ago: fine if it is out now
                if publication.get(who, bound).state == "draft":
                    raise

    def _case_file(self, who: Principal, item_id: int, payload: dict[str, Any]) -> None:
        """Export one case's 案卷 and keep it (its hash in the item) for the batch's download; a re-run of an item
        that already kept one does nothing."""
        if payload.get("sha256"):
            return
        out = self.services.case_files.export(who, str(payload.get("case_id") or ""))
        sha = self.services.blobs.put(out.pdf)
        with self.services.db.session() as session:
            repositories.keep_batch_result(session, item_id, {**payload, "sha256": sha, "filename": out.filename})

    def archive(self, who: Principal, batch_id: str) -> tuple[str, list[tuple[str, bytes]]]:
        """The files a batch kept (a 案卷 batch's PDFs), for one zip download; only the batch's office sees it."""
        progress = self.progress(batch_id, who=who)
        if progress.kind != BatchKind.CASE_FILES:
            raise NotFoundError("该批量任务没有可下载的文件", code="NO_ARCHIVE")
        with self.services.db.session() as session:
            rows = repositories.batch_items(session, batch_id, states=("done",))
            kept = [(str(r.payload.get("filename")), str(r.payload.get("sha256"))) for r in rows
                    if r.payload.get("sha256")]
        return f"案卷-{batch_id[:8]}.zip", [(name, self.services.blobs.get(sha)) for name, sha in kept]

    def _replacement(self, who: Principal, item_id: int, payload: dict[str, Any]) -> str:
        """A re-seal: a new document from the old one's stored data (derived, never retyped), unique per old one."""
        flow = self.services.workflow
        old_id = str(payload["document_id"])
        with self.services.db.session() as session:
            already = repositories.replacement_of(session, old_id)
        if already is None:
            old = flow.get(who, old_id)
            if old.status != "issued" or old.data is None or old.route != [who.office_id]:
                raise ConflictError(f"文书状态为「{old.status_label}」，只有本单位已发布、由系统生成的公示或证明"
                                    "可以重新签章", code="NOT_RESEALABLE")
            try:
                already = flow.create(who, old.family, old.data, replaces=old_id, derived=True).id
            except repositories.DuplicateRow:  # another run replaced it between our check and our insert
                with self.services.db.session() as session:
                    already = repositories.replacement_of(session, old_id)
                if already is None:
                    raise
        with self.services.db.session() as session:
            return repositories.link_batch_item(session, item_id, already)

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
