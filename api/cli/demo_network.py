"""Section 5 of the main job: the network. Starts ``minseal serve`` on a free port and, over HTTP as the demo
users, takes a 低保 application village → township → county; a tampered upload is refused with its report."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from api.services.demo_users import demo_username, passwords_path, read_passwords
from api.services.identity import Role
from api.settings import Settings
from api.storage.files import write_atomic

VILLAGE, TOWNSHIP, COUNTY = "130634100201", "130634100", "130634"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(settings: Settings) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "MINSEAL_DATA_DIR": str(settings.data_dir.resolve()),
           "MINSEAL_KEYS_DIR": str(settings.keys_dir.resolve())}
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


def _ok(r: httpx.Response) -> dict[str, Any]:
    if r.status_code >= 400:
        raise RuntimeError(f"{r.request.method} {r.request.url.path} → {r.status_code} {r.text[:300]}")
    data: dict[str, Any] = r.json()
    return data


def run_network_demo(settings: Settings, out: Path, sample: dict[str, Any], tampered: bytes,
                     echo: Callable[[str], None]) -> None:
    passwords = read_passwords(passwords_path(settings))
    net = out / "network"
    with running_server(settings) as base:
        echo(f"5. 网络流转（minseal serve 于 {base}，接口文档 {base}/docs）")
        village = _login(base, passwords, VILLAGE, Role.CLERK)
        township = _login(base, passwords, TOWNSHIP, Role.REVIEWER)
        county = _login(base, passwords, COUNTY, Role.APPROVER)
        try:
            t0 = time.perf_counter()
            doc = _ok(village.post("/api/documents", json={"family": "dibao_application", "data": sample}))
            did = doc["id"]
            echo(f"  村经办人 新建低保申请 {did[:8]}（{time.perf_counter() - t0:.2f} s）")
            doc = _ok(village.post(f"/api/documents/{did}/seal", json={}))
            echo(f"  村经办人 盖章：{doc['status_label']}")
            doc = _ok(village.post(f"/api/documents/{did}/submit"))
            echo(f"  村经办人 报送乡镇：{doc['status_label']}")
            inbox = township.get("/api/inbox").json()
            pdf = township.get(f"/api/documents/{did}/pdf").content
            report = _ok(township.post("/api/verify", files={"file": ("f.pdf", pdf, "application/pdf")}))
            echo(f"  乡镇审核人 待办 {len(inbox)} 件，验章：{report['verdict_label']}")
            opinion = "经入户调查、家庭经济状况核对，情况属实，同意上报。"
            today = dt.date.today()
            preliminary = {"persons": 3, "monthly_amount": "2289.99", "handler": "王干事", "head": "赵镇长",
                           "notice_from": (today - dt.timedelta(days=10)).isoformat(),
                           "notice_to": (today - dt.timedelta(days=3)).isoformat()}
            doc = _ok(township.post(f"/api/documents/{did}/accept",
                                    data={"opinion": opinion, "decision": json.dumps(preliminary)}))
            echo(f"  乡镇审核人 验章并会签（初审：3 人，月 2289.99 元；公示 {preliminary['notice_from']} 至 "
                 f"{preliminary['notice_to']}）：{doc['status_label']}")
            doc = _ok(township.post(f"/api/documents/{did}/submit"))
            echo(f"  乡镇审核人 报送县级：{doc['status_label']}")
            opinion = "经审核确认，符合最低生活保障条件，同意纳入保障。"
            start = (today.replace(day=1) + dt.timedelta(days=32)).strftime("%Y-%m")
            decision = {"persons": 3, "category": "B类", "standard": "870.00", "monthly_amount": "2289.99",
                        "start_month": start, "handler": "孙股长", "head": "钱局长"}
            doc = _ok(county.post(f"/api/documents/{did}/accept",
                                  data={"opinion": opinion, "decision": json.dumps(decision)}))
            echo(f"  县审批人 验章并审批（核定 3 人，B类，月 2289.99 元，{start} 起发放）：{doc['status_label']}"
                 f"（第 {doc['current_version']} 版）")
            for v in doc["versions"]:
                path = net / f"dibao-{did[:8]}-v{v['number']}-{v['kind']}.pdf"
                write_atomic(path, county.get(f"/api/documents/{did}/versions/{v['number']}/pdf").content)
            r = county.post("/api/verify", files={"file": ("t.pdf", tampered, "application/pdf")})
            bad = r.json()
            reasons = "；".join(dict.fromkeys(f["message"] for f in bad["findings"]))
            echo(f"  篡改件上传核验：{bad['verdict_label']}（{reasons}）")
            write_atomic(net / "summary.json", json.dumps({"document": doc, "tampered_report": bad},
                                                         ensure_ascii=False, indent=2).encode())
            echo(f"  各版本与摘要 → {net}")
        finally:
            for client in (village, township, county):
                client.close()

