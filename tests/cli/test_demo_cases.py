"""The demo's network part runs real cases through the register: a re-run files nobody twice (it continues the
case where it stands), and every QR code on the sealed files it writes opens a page on the service."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from api.cli.demo_network import _free_port, run_network_demo, running_server
from api.cli.main import main
from api.services.container import Services
from api.settings import Settings
from api.storage.models import CasePersonRow, CaseRow
from templates import Catalogue

pytestmark = pytest.mark.skipif(shutil.which("zbarimg") is None or shutil.which("pdftoppm") is None,
                                reason="needs zbarimg (zbar-tools) and pdftoppm (poppler-utils)")


def qr_codes(pdf: Path, work: Path) -> list[str]:
    """Every QR code on every page, read by a real decoder from the page rendered at 150 dpi."""
    prefix = work / pdf.stem
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(prefix)], check=True)
    found: list[str] = []
    for page in sorted(work.glob(f"{pdf.stem}-*.png")):
        done = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(page)],
                              capture_output=True, text=True)
        assert done.returncode in (0, 4), done.stderr  # 4: no symbol on this page
        found += [line for line in done.stdout.splitlines() if line.strip()]
    return found


def test_rerun_files_nobody_twice_and_every_qr_code_resolves(tmp_path: Path, catalogue: Catalogue,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("MINSEAL_")]:
        monkeypatch.delenv(key)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("MINSEAL_PUBLIC_BASE_URL", base)
    assert main(["init-demo"]) == 0
    settings = Settings()
    samples = {f: catalogue.family(f).sample() for f in ("dibao_application", "temp_relief_application")}
    out = tmp_path / "out"
    lines: list[str] = []

    # today, with the real clock: filed, 初审, 公示 published; 报县 refused while the 公示 runs
    run_network_demo(settings, out, samples, None, lines.append)
    assert any("409 NOTICE_RUNNING" in line for line in lines), lines
    assert any("乡镇审核人 审批" in line and line.endswith("：已审批") for line in lines), lines
    # the same day again: both cases found and continued, nobody filed twice
    lines.clear()
    run_network_demo(settings, out, samples, None, lines.append)
    assert sum("接着办理，不重复立案" in line for line in lines) == 2, lines
    assert not any("新建" in line for line in lines), lines

    services = Services(settings)
    with services.db.session() as session:
        notice_end = dt.date.fromisoformat(session.scalars(select(CaseRow).where(CaseRow.kind == "dibao"))
                                           .one().facts["notice"]["end"])
    # a re-run after the 公示 (the clock moved as tests move it): 报县, 审核确认, 结果公布 and the certificate
    later = settings.model_copy(update={"fixed_today": notice_end + dt.timedelta(days=1)})
    run_network_demo(later, out, samples, None, lines.append)

    with services.db.session() as session:
        cases = session.scalars(select(CaseRow)).all()
        persons = session.scalars(select(CasePersonRow)).all()
    assert sorted(c.kind for c in cases) == ["dibao", "relief"]
    assert {c.kind: c.stage for c in cases} == {"dibao": "announced", "relief": "approved"}
    twice = [n for n, k in Counter(p.id_number for p in persons).items() if k > 1]
    assert twice == [], f"in two cases: {twice}"
    services.close()

    registered = {p.name for p in out.glob("*.sealed.pdf")}
    assert registered == {"dibao_notice.sealed.pdf", "dibao_result_notice.sealed.pdf",
                          "dibao_certificate.sealed.pdf"}
    work = tmp_path / "pages"
    work.mkdir()
    urls = {pdf.relative_to(out).as_posix(): qr_codes(pdf, work) for pdf in sorted(out.rglob("*.pdf"))}
    for name in registered:
        assert len(urls[name]) == 1, (name, urls[name])
    with running_server(settings, port=port):
        for name, found in urls.items():
            for url in found:
                # (a certificate's QR code is upper case, alphanumeric mode: scheme and host read the same)
                assert url.lower().startswith(base + "/"), (name, url)
                r = httpx.get(url, timeout=30)
                assert r.status_code == 200, (name, url, r.status_code)
