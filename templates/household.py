"""Household rules shared by the 申请审批表 families: who the members are and what they earn.

After 民发〔2021〕57号 the form names an 申请人 (one of the 共同生活家庭成员, not a 户主), each member's relation to
the applicant, and a 近亲属备案 (art. 11)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from signer.errors import FieldProblem


def birth_date(id_number: str | None) -> date | None:
    if not id_number or len(id_number) != 18 or "*" in id_number:
        return None
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def age_on(born: date | None, day: date) -> int | None:
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def check_members(data: dict[str, Any]) -> list[FieldProblem]:
    """The applicant appears once as 本人 with the same name and ID; no ID twice; a grade only for 残疾; a
    近亲属备案 says with whom (57号 art. 11)."""
    problems: list[FieldProblem] = []
    members = data.get("members") or []
    applicant = data.get("applicant") or {}
    selves = [i for i, m in enumerate(members) if m.get("relation") == "本人"]
    if len(selves) != 1:
        problems.append(FieldProblem("members", f"家庭成员中应有且只有一位「本人」（申请人），实际 {len(selves)} 位"))
    else:
        me = members[selves[0]]
        if me.get("id_number") != applicant.get("id_number"):
            problems.append(FieldProblem(f"members[{selves[0]}].id_number", "「本人」的身份证号码与申请人不一致"))
        if me.get("name") != applicant.get("name"):
            problems.append(FieldProblem(f"members[{selves[0]}].name", "「本人」的姓名与申请人不一致"))
    seen: dict[str, int] = {}
    for i, m in enumerate(members):
        number = m.get("id_number")
        if number in seen:
            problems.append(FieldProblem(f"members[{i}].id_number", f"与第 {seen[number] + 1} 位成员的身份证号码重复"))
        seen.setdefault(number, i)
        if m.get("disability_grade") and m.get("health") != "残疾":
            problems.append(FieldProblem(f"members[{i}].disability_grade", "只有身体状况为「残疾」时才填写残疾等级"))
    kinship = data.get("kinship") or {}
    if kinship.get("registered") and not kinship.get("detail"):
        problems.append(FieldProblem("kinship.detail", "近亲属备案应写明与哪位经办人员或村(居)委会成员、何种关系"
                                                       "（《最低生活保障审核确认办法》第十一条）"))
    problems += _kinship_ages(members, on=data.get("filled_on"))
    for i, m in enumerate(members):
        if m.get("identity") == "无劳动能力" and m.get("labor") == "有劳动能力":
            problems.append(FieldProblem(f"members[{i}].labor",
                                         "身份类别为「无劳动能力」，劳动能力不能填「有劳动能力」"))
    signed = data.get("signed_on")
    if signed is not None and data.get("filled_on") is not None and signed < data["filled_on"]:
        problems.append(FieldProblem("signed_on", "申请人签字日期不能早于填表日期"))
    return problems


TIERS = ("village", "township", "county")

#: relations younger / older than the applicant by a generation: a parent is at least this much older
GENERATION_YEARS = 12
_YOUNGER = {"子", "女", "孙子", "孙女", "儿媳", "女婿"}
_OLDER = {"父亲", "母亲"}


def _kinship_ages(members: list[dict[str, Any]], *, on: date | None) -> list[FieldProblem]:
    """A 子 older than the applicant less a generation, or a 父亲 younger than the applicant plus one, is
    implausible (a typing slip in an ID or a relation): refused until the clerk confirms it (``confirmed``)."""
    me = next((m for m in members if m.get("relation") == "本人"), None)
    day = on or date.today()
    mine = age_on(birth_date((me or {}).get("id_number")), day)
    if mine is None:
        return []
    problems = []
    for i, m in enumerate(members):
        age = age_on(birth_date(m.get("id_number")), day)
        if age is None or m.get("confirmed"):
            continue
        relation = m.get("relation")
        if (relation in _YOUNGER and age > mine - GENERATION_YEARS) or \
                (relation in _OLDER and age < mine + GENERATION_YEARS):
            problems.append(FieldProblem(f"members[{i}].relation", f"与申请人关系为「{relation}」，但年龄 {age} 岁"
                                         f"（申请人 {mine} 岁）不合常理：请核对身份证号码和关系；核实无误的，"
                                         "勾选「经办人已核实」（confirmed）"))
    return problems


def labor_of(member: dict[str, Any], age: int | None) -> str:
    """劳动能力 as the form shows it: as typed, else derived from 身份类别 and age, so the column never stands
    empty beside 无劳动能力."""
    if member.get("labor"):
        return str(member["labor"])
    if member.get("identity") == "无劳动能力":
        return "完全丧失劳动能力"
    if member.get("identity") == "学龄前儿童" or (age is not None and age < 16):
        return "无（未成年）"
    return ""


def derive_household(view: dict[str, Any], *, on: date) -> dict[str, Any]:
    """Ages, household size and income figures the form shows beside what was typed."""
    members = []
    total = Decimal("0.00")
    for m in view.get("members") or []:
        m = dict(m)
        m["age"] = age_on(birth_date(m.get("id_number")), on) or ""
        m["labor"] = labor_of(m, m["age"] if m["age"] != "" else None)
        health = m.get("health") or ""
        m["health_text"] = f"{health}{m['disability_grade']}" if m.get("disability_grade") else health
        total += m.get("monthly_income") or Decimal("0")
        members.append(m)
    view["members"] = members
    view["household_size"] = len(members)
    view["total_income"] = total
    # shown to the fen; the amount is computed from the total and the size, rounded once (signer.decision)
    view["per_capita_income"] = (total / len(members)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) \
        if members else Decimal("0")
    applicant = dict(view.get("applicant") or {})
    applicant["birth_date"] = birth_date(applicant.get("id_number"))
    view["applicant"] = applicant
    staff = view.get("staff") or {}
    view["staff"] = {tier: {"handler": (staff.get(tier) or {}).get("handler") or "",
                            "head": (staff.get(tier) or {}).get("head") or ""} for tier in TIERS}
    # the applicant signs the form when it is filled in with the clerk: the date line is never left blank
    view["signed_on"] = view.get("signed_on") or view.get("filled_on")
    kinship = view.get("kinship") or {}
    view["kinship_text"] = (f"是。{kinship.get('detail') or ''}" if kinship.get("registered") else "否")
    return view


def form_facts(view: dict[str, Any]) -> dict[str, Any]:
    """What the seal step needs to know of the form (household size, total and per-capita income for the
    decision — the amount is computed from total ÷ size, the per-capita figure is what the form shows — and the
    staff names for the boxes); written into the PDF and trusted as of the first seal."""
    return {"household_size": view["household_size"], "total_income": str(view["total_income"]),
            "per_capita_income": str(view["per_capita_income"]),
            "category": view.get("category"), "applicant": (view.get("applicant") or {}).get("name"),
            "serial": view.get("serial") or "", "staff": view["staff"]}
