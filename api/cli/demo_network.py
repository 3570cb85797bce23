"""Section 5 of the main job: the network. Starts ``minseal serve`` on a free port and, over HTTP as the demo
users, runs real cases through the register with the real clock: a 低保 case (village → township 初审 → 公示 →
报县 → 县审核确认 → 结果公布 → 证明, as far as today allows) and a 临时救助 case the township closes within its
limit. A re-run files nobody twice: it finds each case in the register and continues it where it stands. The
sealed 公示, 结果公布 and 证明 written to the output folder come from the register, so their QR codes resolve
on the service (``settings.public_base_url``: ``minseal demo --serve``'s address)."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from api.services.demo_users import demo_username, passwords_path, read_passwords
from api.services.identity import Role
from api.services.local_rules import local_rules
from api.services.public_links import Clock
from api.settings import Settings
from api.storage.files import write_atomic
from signer.decision import dibao_amount, next_month

VILLAGE, TOWNSHIP, COUNTY = "130634100201", "130634100", "130634"
#: the 临时救助 sample's own village and township (下河村, 孝墓镇)
RELIEF_VILLAGE, RELIEF_TOWNSHIP = "130634101201", "130634101"
#: the files the register's documents are written to in the output folder (rewritten on every run)
REGISTERED_FILES = ("dibao_notice.sealed.pdf", "dibao_result_notice.sealed.pdf", "dibao_certificate.sealed.pdf")
#: a case in these outcomes no longer holds its people: the same person may be filed again
CLOSED_WITHOUT_BENEFIT = ("refused", "withdrawn")
OBJECTION_CONTACT = {"phone": "0312-4211001", "address": "燕赵镇人民政府民政办（一楼103室）"}
SUPERVISION_CONTACT = {"phone": "0312-4212345", "address": "曲阳县民政局社会救助股"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(settings: Settings, *, port: int | None = None) -> Iterator[str]:
    """``minseal serve`` on ``port`` (default: a free one) over the same data: the QR codes of what it seals
    carry ``settings.public_base_url``, the address ``minseal demo --serve`` answers on, not this port."""
    port = port or _free_port()
    env = {**os.environ, "MINSEAL_DATA_DIR": str(settings.data_dir.resolve()),
           "MINSEAL_KEYS_DIR": str(settings.keys_dir.resolve()),
           "MINSEAL_PUBLIC_BASE_URL": settings.public_base_url}
    if settings.fixed_today is not None:
        env["MINSEAL_FIXED_TODAY"] = settings.fixed_today.isoformat()
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("minseal serve did not start")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _login(base: str, passwords: dict[str, str], office: str, role: Role) -> httpx.Client:
    name = demo_username(office, role)
    client = httpx.Client(base_url=base, timeout=120)
    r = client.post("/api/auth/login", json={"username": name, "password": passwords[name]})
    r.raise_for_status()
    client.headers["x-csrf-token"] = r.json()["csrf_token"]
    return client


def _ok(r: httpx.Response) -> Any:
    if r.status_code >= 400:
        raise RuntimeError(f"{r.request.method} {r.request.url.path} → {r.status_code} {r.text[:300]}")
    return r.json()


def dated_copy(sample: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """The demo's copy of a sample application, filled in today (never dated before or after its seals)."""
    data: dict[str, Any] = json.loads(json.dumps(sample))
    data["filled_on"] = today.isoformat()
    if isinstance(data.get("serial"), str) and "〔" in data["serial"]:
        head, _, rest = data["serial"].partition("〔")
        data["serial"] = f"{head}〔{today.year}〕{rest.partition('〕')[2]}"
    return data


def find_case(client: httpx.Client, kind: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """The case the register already holds for this applicant (matched on the application's ID number), if
    any: the demo continues it instead of filing the person again."""
    applicant = data.get("applicant") or {}
    number = str(applicant.get("id_number") or "").upper()
    for case in _ok(client.get("/api/cases")):
        if case["kind"] != kind or case["applicant_name"] != applicant.get("name") \
                or case["outcome"] in CLOSED_WITHOUT_BENEFIT:
            continue
        doc = _ok(client.get(f"/api/documents/{case['application_id']}"))
        filed = str(((doc.get("data") or {}).get("applicant") or {}).get("id_number") or "").upper()
        if filed == number:
            return dict(case)
    return None


class _Desk:
    """The demo users' HTTP sessions, opened on first use."""

    def __init__(self, base: str, passwords: dict[str, str], stack: ExitStack) -> None:
        self.base, self.passwords, self.stack = base, passwords, stack
        self._clients: dict[tuple[str, Role], httpx.Client] = {}

    def __call__(self, office: str, role: Role) -> httpx.Client:
        key = (office, role)
        if key not in self._clients:
            client = _login(self.base, self.passwords, office, role)
            self.stack.callback(client.close)
            self._clients[key] = client
        return self._clients[key]


def run_network_demo(settings: Settings, out: Path, samples: dict[str, dict[str, Any]], tampered: bytes | None,
                     echo: Callable[[str], None]) -> list[Path]:
    """Run (or continue) the demo's cases; returns the register's sealed files written to ``out``."""
    passwords = read_passwords(passwords_path(settings))
    today = Clock(settings.fixed_today).today()
    net = out / "network"
    for name in REGISTERED_FILES:  # rewritten below from the register, never left over from another data dir
        (out / name).unlink(missing_ok=True)
    with running_server(settings) as base, ExitStack() as stack:
        echo(f"5. 网络流转（minseal serve 于 {base}，接口文档 {base}/docs；今天 {today.isoformat()}；"
             f"二维码指向 {settings.public_base_url}）")
        desk = _Desk(base, passwords, stack)
        written = _dibao_case(desk, settings, out, net, dated_copy(samples["dibao_application"], today), today,
                              echo)
        _relief_case(desk, settings, net, dated_copy(samples["temp_relief_application"], today), echo)
        if tampered is not None:
            r = desk(COUNTY, Role.APPROVER).post("/api/verify",
                                                 files={"file": ("t.pdf", tampered, "application/pdf")})
            bad = r.json()
            reasons = "；".join(dict.fromkeys(f["message"] for f in bad["findings"]))
            echo(f"  篡改件上传核验：{bad['verdict_label']}（{reasons}）")
        echo(f"  各版本与摘要 → {net}")
    return written


def _dibao_case(desk: _Desk, settings: Settings, out: Path, net: Path, data: dict[str, Any], today: dt.date,
                echo: Callable[[str], None]) -> list[Path]:
    village, township = desk(VILLAGE, Role.CLERK), desk(TOWNSHIP, Role.REVIEWER)
    county = desk(COUNTY, Role.APPROVER)
    name = data["applicant"]["name"]
    echo(f"  【低保】申请人 {name}（{data['category']}）")
    case = find_case(village, "dibao", data)
    if case is None:
        t0 = time.perf_counter()
        doc = _ok(village.post("/api/documents", json={"family": "dibao_application", "data": data}))
        echo(f"  村经办人 新建低保申请 {doc['id'][:8]}，立案（{time.perf_counter() - t0:.2f} s）")
        case = _ok(village.get(f"/api/documents/{doc['id']}/case"))
    else:
        echo(f"  登记簿已有 {name} 的案件 {case['id'][:8]}（{case['stage_label']}）：接着办理，不重复立案")
    rules = local_rules(settings)
    while True:
        did, stage = case["application_id"], case["stage"]
        if stage == "filed":
            doc = _ok(village.post(f"/api/documents/{did}/seal", json={}))
            echo(f"  村经办人 盖章：{doc['status_label']}")
        elif stage == "sealed":
            doc = _ok(village.post(f"/api/documents/{did}/submit"))
            echo(f"  村经办人 报送乡镇：{doc['status_label']}")
        elif stage == "received":
            _issue_papers(case, [(township, "dibao_acceptance_notice", {"contact_phone": OBJECTION_CONTACT["phone"]}),
                                 (township, "dibao_authorisation", {}),
                                 (township, "dibao_investigation", _investigation(today))], echo)
            pdf = township.get(f"/api/documents/{did}/pdf").content
            report = _ok(township.post("/api/verify", files={"file": ("f.pdf", pdf, "application/pdf")}))
            echo(f"  乡镇审核人 收件验章：{report['verdict_label']}")
            figures = _dibao_figures(data, rules.dibao_standard(data["category"]))
            preliminary = {"persons": figures["persons"], "monthly_amount": figures["monthly_amount"],
                           "handler": "王干事", "head": "赵镇长"}
            doc = _ok(township.post(f"/api/documents/{did}/accept", data={
                "opinion": "经入户调查、家庭经济状况核对，情况属实，拟同意，在村公示。",
                "decision": json.dumps(preliminary)}))
            echo(f"  乡镇审核人 初审签章（{figures['persons']} 人，标准 {figures['standard']} 元，"
                 f"月 {figures['monthly_amount']} 元）：{doc['status_label']}")
        elif stage == "preliminary":
            built = _ok(township.post("/api/notices/build", json={
                "objection": OBJECTION_CONTACT, "application_ids": [did], "start": today.isoformat()}))
            notice = _ok(township.post(f"/api/notices/{built[0]['document_id']}/publish"))
            echo(f"  乡镇审核人 生成并发布公示（骑缝章）：{notice['start_on']} 至 {notice['end_on']}，"
                 f"共 {notice['days']} 天")
        elif stage == "notice":
            end = dt.date.fromisoformat(case["facts"]["notice"]["end"])
            r = township.post(f"/api/documents/{did}/submit")
            if today <= end:
                if r.status_code != 409:
                    raise RuntimeError(f"公示期内报送县级应被拒绝，实际 {r.status_code} {r.text[:200]}")
                refusal = r.json()
                echo(f"  乡镇审核人 报送县级：被拒绝（{r.status_code} {refusal['code']}）：{refusal['message']}")
                echo(f"  公示期至 {end.isoformat()}；{(end + dt.timedelta(days=1)).isoformat()} 起再次运行演示，"
                     "接着报县、审核确认、结果公布和出具证明")
                break
            doc = _ok(r)
            echo(f"  乡镇审核人 公示期满无异议，报送县级：{doc['status_label']}")
        elif stage == "reported":
            township_figures = case["facts"]["township"]
            start = next_month(today).strftime("%Y-%m")
            decision = {"persons": int(township_figures["persons"]), "category": "B类",
                        "standard": str(rules.dibao_standard(data["category"])),
                        "monthly_amount": str(township_figures["monthly_amount"]), "start_month": start,
                        "handler": "孙股长", "head": "钱局长"}
            doc = _ok(county.post(f"/api/documents/{did}/accept", data={
                "opinion": "经审核确认，符合最低生活保障条件，同意纳入保障。", "decision": json.dumps(decision)}))
            echo(f"  县审批人 验章并审核确认（{decision['persons']} 人，B类，标准 {decision['standard']} 元，"
                 f"月 {decision['monthly_amount']} 元，{start} 起发放）：{doc['status_label']}")
        elif stage == "approved":
            _issue_papers(case, [(county, "dibao_decision", {}), (county, "dibao_card", {})], echo)
            start_month = str(case["facts"]["decision"]["start_month"])
            built = _ok(county.post("/api/notices/results", json={
                "benefit_from": f"{start_month}-01", "supervision": SUPERVISION_CONTACT}))
            _ok(county.post(f"/api/notices/{built['document_id']}/publish"))
            echo("  县审批人 结果公布：已发布")
        elif stage == "announced":
            if case["facts"].get("certificates"):
                echo(f"  案件已办结（{case['stage_label']}），证明已出具")
                break
            cert = _ok(township.post(f"/api/cases/{case['id']}/certificate", json={"purpose": "办理医疗救助"}))
            echo(f"  乡镇审核人 出具低保证明：{cert['status']}")
        else:
            echo(f"  案件当前为「{case['stage_label']}」，演示不代为处理")
            break
        case = _ok(village.get(f"/api/cases/{case['id']}"))
    steps = dict.fromkeys(s["label"] + ("" if s["allowed"] else "（暂不可办）") for s in case["next_steps"])
    echo(f"  案件 {case['id'][:8]}：{case['stage_label']}（下一步：{'；'.join(steps) or '无'}）")
    return _write_dibao_files(desk, settings, case, out, net, echo)


def _issue_papers(case: dict[str, Any], papers: list[tuple[httpx.Client, str, dict[str, Any]]],
                  echo: Callable[[str], None]) -> None:
    """Issue the case's papers the demo shows at this stage, once: each built from the case by the service (the
    demo types only what a clerk would), sealed by the issuing office."""
    done = {p["family"] for p in (case["facts"].get("papers") or [])}
    for client, family, data in papers:
        if family in done:
            continue
        doc = _ok(client.post(f"/api/cases/{case['id']}/papers", json={"family": family, "data": data}))
        number = doc["data"].get("doc_number") or doc["data"].get("card_number") or ""
        echo(f"  出具《{doc['title']}》{number}（{doc['status_label']}）")


def _investigation(today: dt.date) -> dict[str, Any]:
    """What the township's two investigators found on their home visit (入户调查)."""
    return {"visited_on": today.isoformat(), "investigators": [{"name": "王干事", "post": "民政助理员"},
                                                               {"name": "李委员", "post": "包村干部"}],
            "findings": {"housing": "自建平房一处，约80平方米，无其他房产",
                         "income": "申请人务农，月收入约320元；配偶无收入",
                         "property": "无机动车，存款约1500元/人",
                         "living": "配偶残疾长期服药，女儿在读，生活困难"},
            "conclusion": "家庭人均收入低于当地低保标准，财产状况符合规定，情况属实。"}


def _dibao_figures(data: dict[str, Any], standard: Decimal) -> dict[str, Any]:
    """The 初审 figures by the one rule (signer.decision.dibao_amount): the household and its income."""
    members = data.get("members") or []
    size = max(len(members), 1)
    total = sum((Decimal(str(m.get("monthly_income") or "0")) for m in members), Decimal("0"))
    amount = dibao_amount(standard, total / size, size)
    return {"persons": size, "standard": str(standard), "monthly_amount": str(amount.monthly_amount)}


def _write_dibao_files(desk: _Desk, settings: Settings, case: dict[str, Any], out: Path, net: Path,
                       echo: Callable[[str], None]) -> list[Path]:
    """The application's versions, and the register's sealed 公示, 结果公布 and 证明 as far as the case has them."""
    village, township, county = desk(VILLAGE, Role.CLERK), desk(TOWNSHIP, Role.REVIEWER), desk(COUNTY, Role.APPROVER)
    did = case["application_id"]
    doc = _ok(village.get(f"/api/documents/{did}"))
    for v in doc["versions"]:
        path = net / f"dibao-{did[:8]}-v{v['number']}-{v['kind']}.pdf"
        write_atomic(path, _pdf(village.get(f"/api/documents/{did}/versions/{v['number']}/pdf")))
    write_atomic(net / "summary.json", json.dumps({"case": case, "document": doc}, ensure_ascii=False,
                                                  indent=2).encode())
    facts = case["facts"]
    wanted: list[tuple[dict[str, Any], httpx.Client, str, str]] = []
    if facts.get("notice"):
        wanted.append((facts["notice"], township, "dibao_notice.sealed.pdf", "公示（骑缝章）"))
    if facts.get("announced"):
        wanted.append((facts["announced"], county, "dibao_result_notice.sealed.pdf", "结果公布"))
    if facts.get("certificates"):
        wanted.append((facts["certificates"][-1], township, "dibao_certificate.sealed.pdf", "低保证明"))
    written = []
    for entry, client, name, label in wanted:
        pdf = _pdf(client.get(f"/api/documents/{entry['document_id']}/pdf"))
        report = _ok(client.post("/api/verify", files={"file": (name, pdf, "application/pdf")}))
        write_atomic(out / name, pdf)
        written.append(out / name)
        echo(f"  {label}（登记簿出具，扫码核验 {settings.verify_url(entry['public_id'])}）："
             f"{report['verdict_label']} → {out / name}")
    return written


def _pdf(r: httpx.Response) -> bytes:
    if r.status_code >= 400:
        raise RuntimeError(f"{r.request.method} {r.request.url.path} → {r.status_code} {r.text[:300]}")
    return r.content


def _relief_case(desk: _Desk, settings: Settings, net: Path, data: dict[str, Any],
                 echo: Callable[[str], None]) -> None:
    village, township = desk(RELIEF_VILLAGE, Role.CLERK), desk(RELIEF_TOWNSHIP, Role.REVIEWER)
    name = data["applicant"]["name"]
    limit = local_rules(settings).relief_township_limit
    echo(f"  【临时救助】申请人 {name}（乡镇审批权限 {limit} 元以内由乡镇审批办结，不公示）")
    case = find_case(village, "relief", data)
    if case is None:
        doc = _ok(village.post("/api/documents", json={"family": "temp_relief_application", "data": data}))
        echo(f"  村经办人 新建临时救助申请 {doc['id'][:8]}，立案")
        case = _ok(village.get(f"/api/documents/{doc['id']}/case"))
    else:
        echo(f"  登记簿已有 {name} 的案件 {case['id'][:8]}（{case['stage_label']}）：接着办理，不重复立案")
    while True:
        did, stage = case["application_id"], case["stage"]
        if stage == "filed":
            doc = _ok(village.post(f"/api/documents/{did}/seal", json={}))
            echo(f"  村经办人 盖章：{doc['status_label']}")
        elif stage == "sealed":
            doc = _ok(village.post(f"/api/documents/{did}/submit"))
            echo(f"  村经办人 报送乡镇：{doc['status_label']}")
        elif stage == "received":
            requested = Decimal(str(data["hardship"]["requested"]))
            amount = str(min(requested, limit))
            decision = {"proposed_amount": amount, "method": "救助金", "approved_amount": amount,
                        "handler": "刘干事", "head": "周镇长"}
            doc = _ok(township.post(f"/api/documents/{did}/accept", data={"decision": json.dumps(decision)}))
            echo(f"  乡镇审核人 审批（申请 {requested} 元，批准 {amount} 元，救助金，不超过权限 {limit} 元）："
                 f"{doc['status_label']}")
        else:
            break
        case = _ok(village.get(f"/api/cases/{case['id']}"))
    if case["stage"] == "approved":
        amount = str(case["facts"]["decision"].get("approved_amount"))
        _issue_papers(case, [(township, "relief_decision", {}), (township, "relief_payment", {"payments": [
            {"paid_on": case["last_on"], "amount": amount, "method": "银行代发", "reference": "农商行代发"}]})], echo)
        case = _ok(village.get(f"/api/cases/{case['id']}"))
        file = _pdf(township.get(f"/api/cases/{case['id']}/case-file"))
        write_atomic(net / "relief-case-file.pdf", file)
        echo(f"  乡镇审核人 导出案卷（卷内目录、{len(case['facts'].get('papers') or []) + 1} 份盖章文件附于其中、"
             f"乡镇盖章）→ {net / 'relief-case-file.pdf'}；核验：minseal verify {net / 'relief-case-file.pdf'}")
    doc = _ok(township.get(f"/api/documents/{case['application_id']}"))
    echo(f"  临时救助案件 {case['id'][:8]}：{case['stage_label']}（{case['outcome_label']}），"
         f"文书状态 {doc['status_label']}，{case['received_on']} 受理，{case['last_on']} 办结")
    for v in doc["versions"]:
        write_atomic(net / f"relief-{doc['id'][:8]}-v{v['number']}-{v['kind']}.pdf",
                     _pdf(township.get(f"/api/documents/{doc['id']}/versions/{v['number']}/pdf")))
