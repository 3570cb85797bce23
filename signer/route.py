"""The route rule, in one place: a file travels village → its township → its county, each office sealing its
own box in that order. Sealing (which box is next), verification (does the file follow its route) and the
service's workflow (who receives a file next) all ask this module; offices are matched by registry id only.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .errors import NotSealableError, SealStateError, WrongOfficeError
from .pki import Tier
from .report import REASONS, Finding, SignatureFacts
from .slots import FIELD_PREFIX, SealSlot, SlotTable

#: the route's tiers in order, lowest first: the one home of the order (a tier's Chinese name is ``Tier.label``)
TIER_ORDER: tuple[Tier, ...] = (Tier.VILLAGE, Tier.TOWNSHIP, Tier.COUNTY)
#: which tier an office's parent must have
PARENT_TIER: dict[Tier, Tier] = {Tier.VILLAGE: Tier.TOWNSHIP, Tier.TOWNSHIP: Tier.COUNTY}

#: clock difference tolerated between a signer's computer and the time-stamping authority
TIME_TOLERANCE = dt.timedelta(minutes=5)

#: given an office id, the ids of its route (itself, its parent, …), or None when the office is unknown
RouteLookup = Callable[[str], list[str] | None]


_TIER_VALUES = frozenset(t.value for t in Tier)


def tier_rank(tier: Tier | str) -> int:
    return TIER_ORDER.index(Tier(tier))


@dataclass(frozen=True)
class BoxPlan:
    """Where an office's seal goes next, and whether it certifies the document."""

    slot: SealSlot
    #: first seal of the file: a certification signature
    certify: bool
    #: a form's later tier boxes, created empty by the certifying seal so later seals only fill them
    reserve: tuple[SealSlot, ...] = ()
    #: a notice or certificate: the issuing seal, after which nothing may change
    issuing: bool = False


def plan_box(table: SlotTable, signed: frozenset[str], *, office_id: str, office_name: str, tier: Tier) -> BoxPlan:
    """The box ``office_id`` may seal now, or a refusal saying why (wrong office, out of order, sealed twice)."""
    slots = table.by_name
    if tier.value in slots:  # a form: one box per tier, sealed in route order
        slot = slots[tier.value]
        _check_office(slot, office_id, office_name)
        if slot.field_name in signed:
            raise SealStateError(f"「{office_name}」这一栏已经盖章，不能重复用印")
        index = tier_rank(tier)
        for earlier in TIER_ORDER[:index]:
            if earlier.value in slots and FIELD_PREFIX + earlier.value not in signed:
                raise SealStateError(f"应先由{earlier.label}单位盖章，再由{tier.label}单位盖章")
        certify = not signed
        reserve = tuple(slots[t.value] for t in TIER_ORDER[index + 1:] if t.value in slots) if certify else ()
        return BoxPlan(slot, certify=certify, reserve=reserve)
    if "issuer" in slots:  # a notice or certificate: one issuing seal, nothing may change after it
        if signed:
            raise SealStateError("该文书已由发布单位盖章，不能再次用印")
        if tier is Tier.VILLAGE:
            raise SealStateError("公示、公布和证明只能由乡镇或县级单位盖章")
        slot = slots["issuer"]
        _check_office(slot, office_id, office_name)
        return BoxPlan(slot, certify=True, issuing=True)
    raise NotSealableError(f"「{office_name}」在该文书上没有签章位")


def check_slots_form_a_route(table: SlotTable, route_of: RouteLookup) -> None:
    """A form's tier boxes must name one chain of offices (village, its township, its county), or no seal goes
    on it: sealing such a form would make a file the verifier refuses."""
    named = [slot.office_id for t in TIER_ORDER if (slot := table.by_name.get(t.value)) is not None]
    ids = [i for i in named if i is not None]
    if len(ids) < 2 or len(ids) != len(named):
        return
    route = route_of(ids[0]) or []
    if route[: len(ids)] != ids:
        raise NotSealableError(f"文书各栏的盖章单位（{'、'.join(str(i) for i in ids)}）不是同一流转路径上的上下级"
                               f"单位（名录中 {ids[0]} 的路径为 {'、'.join(route) or '未知'}），不能用印",
                               code="SLOTS_NOT_A_ROUTE")


def _check_office(slot: SealSlot, office_id: str, office_name: str) -> None:
    """A seal goes only where the document names this office (by registry id): a village seals only its own
    residents' forms."""
    if slot.office_id is None:
        raise NotSealableError("文书未记录此栏盖章单位的编号，不能用印；请在有单位名录的环境中重新生成",
                               code="SLOT_WITHOUT_OFFICE")
    if slot.office_id != office_id:
        raise WrongOfficeError(f"文书此栏应由「{slot.office or slot.office_id}」（{slot.office_id}）盖章，"
                               f"「{office_name}」（{office_id}）无权用印")


def route_findings(facts: Sequence[SignatureFacts], *, first_certified: bool | None, table: SlotTable | None,
                   route_of: RouteLookup | None) -> list[Finding]:
    """The MinSeal policy for documents that carry our seal slots (the slots are inside the certified
    revision, so they are as trustworthy as the first seal). Files without slots that still carry several of
    our office seals must at least follow a route: tiers ascending, each office the parent of the one before."""
    out: list[Finding] = []
    if table is None:
        ours = [f for f in facts if f.tier is not None]
        if len(ours) > 1:
            ranks = [tier_rank(f.tier) for f in ours if f.tier in _TIER_VALUES]
            if ranks != sorted(set(ranks)) or len(ranks) != len(ours):
                out.append(Finding("ROUTE_ORDER", REASONS["ROUTE_ORDER"]))
            registry_ok = False
            if route_of is not None and ours[0].office_id:
                route = route_of(ours[0].office_id) or []
                registry_ok = [f.office_id for f in ours] == route[: len(ours)]
                if not registry_ok:
                    out.append(Finding("ROUTE_MISMATCH", REASONS["ROUTE_MISMATCH"]))
            out += parent_chain_findings(ours, registry_confirms=registry_ok)
        return out + time_findings(facts)
    slots = table.by_name
    if facts and first_certified is False:
        out.append(Finding("NOT_CERTIFIED", REASONS["NOT_CERTIFIED"], field=facts[0].field_name))
    tiers = [t.value for t in TIER_ORDER if t.value in slots]
    allowed = [FIELD_PREFIX + t for t in tiers] if tiers else [FIELD_PREFIX + "issuer"]
    names = [f.field_name for f in facts]
    for fact in facts:
        if fact.field_name not in allowed:
            out.append(Finding("UNEXPECTED_SIGNATURE", REASONS["UNEXPECTED_SIGNATURE"], field=fact.field_name))
    expected_order = [n for n in allowed if n in names]
    if names != expected_order or names != allowed[: len(names)]:
        out.append(Finding("ROUTE_ORDER", REASONS["ROUTE_ORDER"]))
    for fact in facts:
        slot = slots.get(fact.slot or "")
        if slot is None:
            continue
        if fact.tier is None:
            out.append(Finding("NOT_OUR_SEAL", REASONS["NOT_OUR_SEAL"], field=fact.field_name))
        if slot.office_id is None:
            out.append(Finding("BAD_SLOTS", REASONS["BAD_SLOTS"] + "（签章栏未记录单位编号）", field=fact.field_name))
        elif slot.office_id != fact.office_id:
            out.append(Finding("WRONG_OFFICE", f"{REASONS['WRONG_OFFICE']}：此栏应为「{slot.office}」"
                               f"（{slot.office_id}），实为「{fact.office_name}」（{fact.office_id}）",
                               field=fact.field_name))
        if fact.slot in tiers and fact.tier != fact.slot:
            out.append(Finding("WRONG_TIER", REASONS["WRONG_TIER"], field=fact.field_name))
        if fact.slot == "issuer" and fact.tier == Tier.VILLAGE.value:
            out.append(Finding("WRONG_TIER", REASONS["WRONG_TIER"], field=fact.field_name))
    if route_of is not None and tiers and facts and facts[0].office_id:
        full_route = route_of(facts[0].office_id)
        signer_ids = [f.office_id for f in facts]
        registry_ok = full_route is not None and signer_ids == full_route[: len(signer_ids)]
        if not registry_ok:
            out.append(Finding("ROUTE_MISMATCH", REASONS["ROUTE_MISMATCH"]))
    else:
        registry_ok = False
    if tiers:
        out += parent_chain_findings([f for f in facts if f.slot in tiers], registry_confirms=registry_ok)
    return out + time_findings(facts)


def parent_chain_findings(route: Sequence[SignatureFacts], *, registry_confirms: bool = False) -> list[Finding]:
    """The parent chain from the certificates alone: each seal's office must be the parent office that the
    previous seal's certificate names (MinSeal's parent-office extension). A certificate without it cannot prove
    the chain; the registry, where present and agreeing, stands in for it (certificates issued before the
    extension existed)."""
    out: list[Finding] = []
    for lower, upper in itertools.pairwise(route):
        if lower.parent_id is None:
            if not registry_confirms:
                out.append(Finding("PARENT_UNKNOWN", REASONS["PARENT_UNKNOWN"], field=lower.field_name))
        elif upper.office_id != lower.parent_id:
            out.append(Finding("ROUTE_MISMATCH", f"{REASONS['ROUTE_MISMATCH']}：「{lower.office_name}」的上级单位"
                               f"为 {lower.parent_id}，此后盖章的是「{upper.office_name}」（{upper.office_id}）",
                               field=upper.field_name))
    return out


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def time_findings(facts: Sequence[SignatureFacts]) -> list[Finding]:
    """Times must not contradict the revision order: a later seal covers the earlier one, so its claimed signing
    time cannot be before the earlier seal's trusted timestamp, and timestamps never go backwards. A seal's own
    claim cannot be after its own timestamp either. (Tolerance: TIME_TOLERANCE for computer clocks.)"""
    out: list[Finding] = []
    latest_ts: dt.datetime | None = None
    for fact in facts:
        claimed, stamped = _time(fact.claimed_signing_time), _time(fact.timestamp_time)
        problem = None
        if latest_ts is not None and claimed is not None and claimed < latest_ts - TIME_TOLERANCE:
            problem = f"声称签章时间 {fact.claimed_signing_time} 早于此前印章的时间戳 {latest_ts.isoformat()}"
        elif latest_ts is not None and stamped is not None and stamped < latest_ts - TIME_TOLERANCE:
            problem = f"时间戳 {fact.timestamp_time} 早于此前印章的时间戳 {latest_ts.isoformat()}"
        elif claimed is not None and stamped is not None and claimed > stamped + TIME_TOLERANCE:
            problem = f"声称签章时间 {fact.claimed_signing_time} 晚于其自身的时间戳 {fact.timestamp_time}"
        if problem:
            out.append(Finding("TIME_ORDER", f"{REASONS['TIME_ORDER']}：{problem}", field=fact.field_name))
        if stamped is not None and (latest_ts is None or stamped > latest_ts):
            latest_ts = stamped
    return out
