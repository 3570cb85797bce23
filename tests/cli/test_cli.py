"""The ``minseal`` commands, called in-process through their real entry point."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from api.cli.main import main
from templates import Catalogue

REPO = Path(__file__).resolve().parents[2]


def test_templates_lists_families_and_fields(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    notice = next(f for f in listing if f["id"] == "dibao_notice")
    ids = {f["path"]: f for f in notice["fields"]}
    assert ids["households[].id_number"]["private"] is True
    assert ids["period.days"]["type"] == "integer"
    assert main(["templates"]) == 0
    assert "最低生活保障申请审批表" in capsys.readouterr().out


def test_render_writes_pdf_docx_and_slots(tmp_path: Path, catalogue: Catalogue,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data.json"
    data.write_text(json.dumps(catalogue.family("dibao_certificate").sample(), ensure_ascii=False), "utf-8")
    pdf, word, slots = tmp_path / "c.pdf", tmp_path / "c.docx", tmp_path / "slots.json"
    code = main(["render", "dibao_certificate", "--data", str(data), "-o", str(pdf), "--docx", str(word),
                 "--slots", str(slots), "--verify-url", "http://127.0.0.1:8000/v/abc"])
    assert code == 0, capsys.readouterr().err
    assert len(PdfReader(pdf).pages) == 1
    assert word.read_bytes()[:2] == b"PK"
    assert {s["name"] for s in json.loads(slots.read_text())} == {"issuer", "qr"}
    printed = capsys.readouterr().out
    assert "已生成" in printed and "未在登记簿登记" not in printed  # the caller gave the QR code's address


def test_notice_or_certificate_made_outside_the_register_has_no_qr_code_and_says_so(
    tmp_path: Path, catalogue: Catalogue, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A QR code must never lead to 没有找到这份公示或证明: a file rendered or sealed by the CLI is not in the
    register, so it prints none, and the CLI says in one line where a verifiable one comes from."""
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(tmp_path / "keys"))
    assert main(["init-demo"]) == 0
    capsys.readouterr()
    data = tmp_path / "data.json"
    data.write_text(json.dumps(catalogue.family("dibao_certificate").sample(), ensure_ascii=False), "utf-8")
    pdf, sealed = tmp_path / "c.pdf", tmp_path / "c.sealed.pdf"
    assert main(["render", "dibao_certificate", "--data", str(data), "-o", str(pdf)]) == 0
    note = [line for line in capsys.readouterr().out.splitlines() if "未在登记簿登记" in line]
    assert len(note) == 1 and "不带可扫码核验的二维码" in note[0]
    assert "扫码核验" not in re.sub(r"\s+", "", subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                                                               text=True, check=True).stdout)
    assert main(["seal", str(pdf), "--office", "130634100", "-o", str(sealed), "--level", "B-B"]) == 0
    assert sum("未在登记簿登记" in line for line in capsys.readouterr().out.splitlines()) == 1
    form = tmp_path / "form.json"
    form.write_text(json.dumps(catalogue.family("dibao_application").sample(), ensure_ascii=False), "utf-8")
    assert main(["render", "dibao_application", "--data", str(form), "-o", str(tmp_path / "f.pdf")]) == 0
    assert "未在登记簿登记" not in capsys.readouterr().out  # a form has no QR code to speak of


def test_render_refuses_bad_data_with_every_field_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "bad.json"
    data.write_text(json.dumps({"issuer": "燕赵镇人民政府", "issued_on": "2026-13-01",
                                "households": [{"head_name": "甲", "persons": 0}]}), "utf-8")
    pdf = tmp_path / "x.pdf"
    assert main(["render", "dibao_notice", "--data", str(data), "-o", str(pdf)]) == 3
    err = capsys.readouterr().err
    for path in ("issued_on", "period", "objection", "households[0].persons", "households[0].village",
                 "households[0].monthly_amount"):
        assert f"  - {path}：" in err, path
    assert "Traceback" not in err
    assert not pdf.exists() and list(tmp_path.iterdir()) == [data]


@pytest.mark.parametrize(("content", "expected"), [
    (None, "找不到数据文件"),
    (b"{not json", "不是有效的 JSON：第 1 行"),
    (b"\xff\xfe\x00bad", "UTF-8"),
])
def test_render_reports_unreadable_input(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         content: bytes | None, expected: str) -> None:
    data = tmp_path / "d.json"
    if content is not None:
        data.write_bytes(content)
    assert main(["render", "dibao_notice", "--data", str(data), "-o", str(tmp_path / "x.pdf")]) == 3
    assert expected in capsys.readouterr().err


def test_unknown_family_and_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.json"
    data.write_text("{}")
    assert main(["render", "nope", "--data", str(data), "-o", str(tmp_path / "x.pdf")]) == 4
    assert "没有模板「nope」" in capsys.readouterr().err
    assert main(["render"]) == 2


def test_demo_builds_pki_and_renders_every_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(tmp_path / "keys"))
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert "dibao_notice.pdf" in names and "dibao_application.docx" in names
    assert "dibao_certificate.slots.json" in names
    assert len(list((out / "seals").glob("*.png"))) == 8
    assert (tmp_path / "var" / "pki" / "crl" / "root.crl").exists()
    printed = capsys.readouterr().out
    assert "曲阳县民政局（县级，pkcs11:minseal-county）有效" in printed
    assert "县级审批意见：曲阳县民政局 会签，签名 3 个" in printed
    assert "dibao_application.sealed-3-county.pdf：通过：3 个签章" in printed
    assert re.search(r"篡改副本 .*：不通过：.*签章后文件被做了不允许的修改", printed)
    # the demo's sealed file, made offline (built-in TSA, local CRL), passes poppler with our root trusted
    db = tmp_path / "nss"
    db.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True)
    subprocess.run(["certutil", "-A", "-n", "root", "-t", "CT,C,C", "-i",
                    str(tmp_path / "var" / "pki" / "root.crt.pem"), "-d", f"sql:{db}"], check=True)
    report = subprocess.run(["pdfsig", "-no-ocsp", "-nssdir", f"sql:{db}",
                             str(out / "dibao_application.sealed-3-county.pdf")],
                            capture_output=True, text=True, check=True).stdout
    assert report.count("Signature is Valid.") == 3 and report.count("Certificate is Trusted.") == 3
    # the sealed 公示 comes from the register (the case, today: published, 报县 refused while it runs); the
    # certificate only once the county has decided and payment has begun, on a later run
    assert (out / "dibao_notice.sealed.pdf").exists() and not (out / "dibao_certificate.sealed.pdf").exists()
    assert re.search(r"报送县级：被拒绝（409 NOTICE_RUNNING）：公示期未满", printed)
    assert re.search(r"公示（骑缝章）（登记簿出具，扫码核验 http://\S+/v/\S+）：通过", printed)
    # sample renders: no QR code on notices and certificates
    assert "扫码核验" not in re.sub(r"\s+", "", subprocess.run(
        ["pdftotext", str(out / "dibao_certificate.pdf"), "-"], capture_output=True, text=True, check=True).stdout)


def test_unusable_output_paths_are_refused_before_any_work(tmp_path: Path, catalogue: Catalogue,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data.json"
    data.write_text(json.dumps(catalogue.family("dibao_certificate").sample(), ensure_ascii=False), "utf-8")
    pdf = tmp_path / "c.pdf"
    folder = tmp_path / "folder"
    folder.mkdir()
    assert main(["render", "dibao_certificate", "--data", str(data), "-o", str(pdf), "--docx", str(folder)]) == 3
    assert "输出路径是一个目录" in capsys.readouterr().err and not pdf.exists()
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    assert main(["render", "dibao_certificate", "--data", str(data), "-o", str(blocker / "x.pdf")]) == 3
    assert "Traceback" not in capsys.readouterr().err


def test_verify_and_seal_commands_do_not_load_the_renderer(tmp_path: Path) -> None:
    """Start-up: a command imports what it needs when it runs (``minseal verify`` took 1.3 s before reading the
    file when every command imported WeasyPrint). Times are in bench/bench_cli.py and bench/bench_verify.py; here,
    what is loaded: not the renderer, the database, the web stack, the report page's templates (only ``--html``
    needs jinja2) or the seal drawing libraries (Pillow, fontTools). Run through the console script's entry point,
    which loads the command's modules with the cyclic collector paused: it must leave the collector on and what it
    loaded frozen (api/cli/entry.py)."""
    probe = (
        "import gc, sys\n"
        "from api.cli.entry import main\n"
        "code = main(['verify', sys.argv[1]])\n"
        "assert gc.isenabled() and gc.get_freeze_count() > 100_000, (gc.isenabled(), gc.get_freeze_count())\n"
        "assert 'signer.verify' in sys.modules\n"
        "loaded = sorted(m for m in ('weasyprint', 'alembic', 'sqlalchemy', 'fastapi', 'docx', 'jinja2', 'PIL',\n"
        "                            'fontTools') if m in sys.modules)\n"
        "print(code, ','.join(loaded))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINSEAL_")}
    env.update(MINSEAL_DATA_DIR=str(tmp_path / "var"), MINSEAL_KEYS_DIR=str(tmp_path / "keys"))
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "none.pdf")], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    code, _, loaded = done.stdout.strip().partition(" ")
    assert code == "3", done.stdout + done.stderr
    assert loaded == "", f"minseal verify loaded {loaded}"
