"""The papers of a case at the desk: each paper the case page offers gets a small form of only what the clerk types
(the rest comes from the case), built from the family's own schema; the 案卷 download.

Form names follow the data's paths: ``findings.housing``, ``investigators[0].name``; a list of texts is one
textarea, a line per item."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.http.desk.common import DeskUser, see_other
from api.http.downloads import disposition
from api.services.case_papers import PAPERS, PaperOption
from signer.errors import MinSealError, TemplateDataError
from templates.catalogue import Catalogue
from templates.schema import FieldSpec

router = APIRouter()

#: longest value one form field may carry (the schema's own limits are checked by the service)
MAX_FIELD = 2000
#: rows offered for a list of records with no fixed count
DEFAULT_ROWS = 3


@dataclass(frozen=True)
class Input:
    """One control of a paper's form."""

    name: str
    label: str
    control: str  # input | date | number | textarea | lines | select | group | rows
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    children: tuple[Input, ...] = ()
    rows: int = 0
    help: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _input(spec: FieldSpec, name: str) -> Input:
    if spec.type == "object":
        return Input(name, spec.label, "group", spec.required,
                     children=tuple(_input(c, f"{name}.{c.name}") for c in spec.children))
    if spec.type == "list":
        if spec.item_type is not None or not spec.children:
            return Input(name, spec.label, "lines", spec.required, max_length=spec.item_max_length, help="每行一项")
        rows = spec.max_items if spec.max_items and spec.max_items == spec.min_items else max(spec.min_items,
                                                                                             DEFAULT_ROWS)
        return Input(name, spec.label, "rows", spec.required, rows=rows,
                     children=tuple(_input(c, c.name) for c in spec.children),
                     help="" if rows == spec.max_items else "不用的行留空")
    if spec.type == "enum":
        return Input(name, spec.label, "select", spec.required, choices=spec.choices)
    if spec.type == "date":
        return Input(name, spec.label, "date", spec.required)
    if spec.type in ("integer", "amount"):
        return Input(name, spec.label, "number", spec.required)
    if spec.type == "text":
        return Input(name, spec.label, "textarea", spec.required, max_length=spec.max_length)
    return Input(name, spec.label, "input", spec.required, max_length=spec.max_length)


def paper_inputs(catalogue: Catalogue, family_id: str) -> list[Input]:
    """The controls of what the clerk types for this paper (the rule's inputs, in the schema's order)."""
    root = catalogue.family(family_id).schema.root
    wanted = PAPERS[family_id].inputs
    return [_input(spec, spec.name) for spec in root.children if spec.name in wanted]


def read_inputs(form: Any, inputs: list[Input]) -> dict[str, Any]:
    """The typed values as the paper's data (blank controls left out, so the schema names what is missing)."""
    def text(name: str) -> str:
        value = form.get(name)
        return str(value).strip()[:MAX_FIELD] if isinstance(value, str) else ""

    def one(control: Input, name: str) -> Any:
        if control.control == "group":
            group = {c.name.rsplit(".", 1)[-1]: one(c, f"{name}.{c.name.rsplit('.', 1)[-1]}")
                     for c in control.children}
            return {k: v for k, v in group.items() if v not in ("", None, [])}
        if control.control == "rows":
            out = []
            for i in range(control.rows):
                row = {c.name: one(c, f"{name}[{i}].{c.name}") for c in control.children}
                row = {k: v for k, v in row.items() if v not in ("", None, [])}
                if row:
                    out.append(row)
            return out
        if control.control == "lines":
            return [line.strip() for line in text(name).splitlines() if line.strip()]
        return text(name)

    out = {}
    for control in inputs:
        value = one(control, control.name)
        if value not in ("", None, [], {}):
            out[control.name] = value
    return out


def paper_forms(catalogue: Catalogue, options: list[PaperOption]) -> dict[str, list[Input]]:
    return {o.family: paper_inputs(catalogue, o.family) for o in options if o.allowed}


@router.post("/cases/{case_id}/papers/{family_id}", response_model=None)
async def issue(case_id: str, family_id: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    """Issue one paper of the case; a refusal comes back on the case page with every bad field named."""
    from api.http.desk.cases import case_page

    if family_id not in PAPERS:
        return await case_page(desk, case_id, error="没有这种案件文书", status=404)
    form = await desk.form()
    inputs = paper_inputs(desk.services.documents.catalogue, family_id)
    typed = read_inputs(form, inputs)
    try:
        view = await desk.call(desk.services.papers.issue, desk.user, case_id, family_id, typed)
    except TemplateDataError as problem:
        details = "；".join(f"{p.path}：{p.message}" if p.path else p.message for p in problem.problems)
        return await case_page(desk, case_id, error=f"{problem.message}{'：' + details if details else ''}",
                               status=422, paper=family_id, paper_typed={k: form.get(k) for k in form})
    except MinSealError as problem:
        return await case_page(desk, case_id, error=problem.message, status=409)
    return see_other(f"/desk/documents/{view.id}?done=issued")


@router.get("/cases/{case_id}/case-file")
async def case_file(case_id: str, desk: DeskUser) -> Response:
    """The sealed 案卷 of the case, as a download named after the applicant."""
    out = await desk.call(desk.services.case_files.export, desk.user, case_id)
    return Response(out.pdf, media_type="application/pdf",
                    headers={"Content-Disposition": disposition(out.filename), "Cache-Control": "no-store",
                             "X-Content-Type-Options": "nosniff"})


__all__ = ["Input", "paper_forms", "paper_inputs", "read_inputs", "router"]
