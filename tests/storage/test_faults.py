"""The engine under faults, through the real CLI in subprocesses: SIGKILL at every named step of renew and
revoke (MINSEAL_TEST_KILL_AT), key material under wrong or missing secrets, device files, races."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy import select

from api.storage.engine import Database, database_url
from api.storage.ledger import DatabaseLedger
from api.storage.models import AuditRow

REPO = Path(__file__).resolve().parents[2]
VILLAGE, TOWNSHIP, COUNTY = "130634100201", "130634100", "130634"

#: three offices, all PKCS#12 (a fast installation for the crash tests; the token is tested in test_pki)
REGISTRY = f"""
[[office]]
id = "{COUNTY}"
name = "曲阳县民政局"
tier = "county"
parent = ""
seal = {{ diameter_mm = 45 }}
key_store = "p12"

[[office]]
id = "{TOWNSHIP}"
name = "燕赵镇人民政府"
tier = "township"
parent = "{COUNTY}"
seal = {{ diameter_mm = 42, emblem = "minseal:demo-stand-in" }}
key_store = "p12"

[[office]]
id = "{VILLAGE}"
name = "东沟南村村民委员会"
tier = "village"
parent = "{TOWNSHIP}"
seal = {{ diameter_mm = 42 }}
key_store = "p12"
"""


@dataclass(frozen=True)
class Install:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "var"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MINSEAL_")}
        env.update(MINSEAL_DATA_DIR=str(self.data), MINSEAL_KEYS_DIR=str(self.keys), PYTHONWARNINGS="error")
        env.update({f"MINSEAL_{k.upper()}": v for k, v in extra.items()})
        return env

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=REPO, env=self.env(**extra),
                              capture_output=True, text=True, timeout=120)

    def main(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str,
             **extra: str) -> subprocess.CompletedProcess[str]:
        """The same entry point in this process (for behaviour that is not about processes: it is faster)."""
        from api.cli.main import main

        with monkeypatch.context() as m:
            for key in [k for k in os.environ if k.startswith("MINSEAL_")]:
                m.delenv(key)
            for key, value in self.env(**extra).items():
                if key.startswith("MINSEAL_"):
                    m.setenv(key, value)
            capsys.readouterr()
            code = main(list(args))
        out = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out.out, out.err)

    def database(self) -> Database:
        return Database(database_url(None, self.data))

    def ledger(self) -> dict[str, object]:
        db = self.database()
        try:
            data = DatabaseLedger(db).load()
        finally:
            db.dispose()
        assert data is not None
        return data

    def seal_uses(self) -> list[dict[str, object]]:
        """The 用印日志 rows of the audit chain."""
        db = self.database()
        try:
            with db.session() as session:
                return [row.detail for row in session.execute(
                    select(AuditRow).where(AuditRow.action == "seal.use").order_by(AuditRow.seq)).scalars()]
        finally:
            db.dispose()

    def records(self, office: str) -> list[dict[str, str]]:
        return [r for r in self.ledger()["certificates"] if r["office_id"] == office]  # type: ignore[attr-defined]

    def passphrase(self) -> bytes:
        return (self.data / "secrets" / "keystore.pass").read_text().strip().encode()

    def key_serial(self, key_id: str) -> str:
        bundle = pkcs12.load_pkcs12((self.keys / "p12" / f"{key_id}.p12").read_bytes(), self.passphrase())
        assert bundle.key is not None and bundle.cert is not None
        return f"{bundle.cert.certificate.serial_number:x}"

    def copy(self, to: Path) -> Install:
        shutil.copytree(self.root, to)
        return Install(to)


def assert_no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout, done.stderr


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Install:
    install = Install(tmp_path_factory.mktemp("faults") / "base")
    install.data.mkdir(parents=True)
    (install.data / "registry.toml").write_text(REGISTRY, encoding="utf-8")
    done = install.run("init-demo")
    assert done.returncode == 0, done.stderr
    return install


@pytest.fixture()
def install(base: Install, tmp_path: Path) -> Install:
    return base.copy(tmp_path / "install")


def assert_consistent(inst: Install, office: str) -> None:
    """One active certificate, whose key is the office's current key; the CRL lists exactly the ledger's
    revoked certificates (DER and PEM alike); nothing pending."""
    ledger = inst.ledger()
    assert "pending" not in ledger
    mine = inst.records(office)
    active = [r for r in mine if r["status"] == "active"]
    assert len(active) == 1, mine
    assert inst.key_serial(office) == active[0]["serial"]
    crl_path = inst.data / "pki" / "crl" / "root.crl"
    der = x509.load_der_x509_crl(crl_path.read_bytes())
    pem = x509.load_pem_x509_crl(crl_path.with_suffix(".crl.pem").read_bytes())
    assert der == pem
    revoked = {int(r["serial"], 16) for r in ledger["certificates"] if r.get("revoked_at")}  # type: ignore[attr-defined]
    assert {e.serial_number for e in der} == revoked


RENEW_STEPS = ("renew:key-generated", "renew:staged", "renew:pending", "renew:promoted", "renew:committed",
               "crl:number-saved", "crl:der-written")
REVOKE_STEPS = ("revoke:ledger-saved", "crl:number-saved", "crl:der-written")


def _crash_and_recover(base: Install, root: Path, command: tuple[str, ...], step: str) -> tuple[Install, str]:
    inst = base.copy(root / step.replace(":", "_"))
    old = inst.records(VILLAGE)[-1]["serial"]
    killed = inst.run(*command, test_kill_at=step)
    assert killed.returncode == -signal.SIGKILL, (step, killed.returncode, killed.stderr)
    recovered = inst.run("seals", "list", "--json")  # the next start repairs
    assert recovered.returncode == 0, (step, recovered.stderr)
    assert_no_traceback(recovered)
    return inst, old


@pytest.mark.parametrize(("command", "steps"), [
    (("seals", "renew", VILLAGE), RENEW_STEPS),
    (("seals", "revoke", VILLAGE, "--reason", "key-compromise"), REVOKE_STEPS),
], ids=["renew", "revoke"])
def test_every_crash_point_is_consistent_or_repaired(base: Install, tmp_path: Path, command: tuple[str, ...],
                                                     steps: tuple[str, ...]) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda s: (s, *_crash_and_recover(base, tmp_path, command, s)), steps))
    for step, inst, old in results:
        records = inst.records(VILLAGE)
        if command[1] == "renew":
            assert_consistent(inst, VILLAGE)
            switched = records[-1]["serial"] != old
            # before the switch was recorded nothing changed; after it, the renewal is finished
            assert switched == (step not in ("renew:key-generated", "renew:staged")), step
            if switched:
                assert next(r for r in records if r["serial"] == old)["status"] == "superseded"
                archive = inst.keys / "p12" / "archive" / f"{VILLAGE}-{old}.p12"
                assert archive.exists(), "the replaced key is kept"
        else:
            assert records[-1]["status"] == "revoked", step
            assert_consistent_crl(inst)
        assert not list(inst.root.rglob("*.tmp")), step


def assert_consistent_crl(inst: Install) -> None:
    ledger = inst.ledger()
    crl_path = inst.data / "pki" / "crl" / "root.crl"
    der = x509.load_der_x509_crl(crl_path.read_bytes())
    assert der == x509.load_pem_x509_crl(crl_path.with_suffix(".crl.pem").read_bytes())
    revoked = {int(r["serial"], 16) for r in ledger["certificates"] if r.get("revoked_at")}  # type: ignore[attr-defined]
    assert {e.serial_number for e in der} == revoked


def test_seals_crl_republishes_after_a_crash(install: Install) -> None:
    killed = install.run("seals", "revoke", TOWNSHIP, "--reason", "affiliation-changed",
                         test_kill_at="revoke:ledger-saved")
    assert killed.returncode == -signal.SIGKILL
    crl_path = install.data / "pki" / "crl" / "root.crl"
    revoked = install.records(TOWNSHIP)[-1]
    assert revoked["status"] == "revoked"
    stale = x509.load_der_x509_crl(crl_path.read_bytes())
    assert stale.get_revoked_certificate_by_serial_number(int(revoked["serial"], 16)) is None
    done = install.run("seals", "crl")
    assert done.returncode == 0, done.stderr
    assert "已发布吊销列表" in done.stdout
    fresh = x509.load_der_x509_crl(crl_path.read_bytes())
    entry = fresh.get_revoked_certificate_by_serial_number(int(revoked["serial"], 16))
    assert entry is not None
    assert fresh.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number > \
        stale.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    seal = install.run("seal", str(REPO / "README.md"), "--office", TOWNSHIP, "-o", str(install.root / "x.pdf"))
    assert seal.returncode == 7 and "撤销原因：单位名称或隶属关系变更" in seal.stderr
    assert "affiliation" not in seal.stderr


def _key_files(inst: Install) -> dict[str, bytes]:
    return {str(p.relative_to(inst.root)): p.read_bytes()
            for p in sorted(inst.root.rglob("*")) if p.is_file() and ("keys" in p.parts or "secrets" in p.parts)}


def test_wrong_or_missing_secrets_never_touch_key_material(install: Install, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return install.main(monkeypatch, capsys, *args, **extra)

    before = _key_files(install)
    wrong = run("seals", "renew", VILLAGE, key_passphrase="wrong-passphrase")
    assert wrong.returncode == 8 and "WRONG_PASSPHRASE" in wrong.stderr and "根证书私钥" not in wrong.stderr
    assert "wrong-passphrase" not in wrong.stderr
    revoke = run("seals", "revoke", VILLAGE, "--reason", "key-compromise", key_passphrase="x")
    assert revoke.returncode == 8 and "WRONG_PASSPHRASE" in revoke.stderr
    secret = install.data / "secrets" / "keystore.pass"
    moved = secret.with_name("moved")
    secret.rename(moved)
    missing = run("seals", "renew", VILLAGE)
    assert missing.returncode == 8 and "SECRET_MISSING" in missing.stderr
    assert not secret.exists(), "a missing passphrase file is never silently created"
    secret.mkdir()
    assert "SECRET_UNREADABLE" in run("seals", "renew", VILLAGE).stderr
    secret.rmdir()
    for content, code in ((b"", "SECRET_EMPTY"), (b"\xff\xfe\x00", "SECRET_UNREADABLE")):
        secret.write_bytes(content)
        done = run("seals", "renew", VILLAGE)
        assert done.returncode == 8 and code in done.stderr, done.stderr
        assert_no_traceback(done)
    secret.unlink()
    moved.rename(secret)
    assert _key_files(install) == before, "no key, certificate or secret was created or changed"
    assert install.records(VILLAGE)[-1]["status"] == "active"
    good = run("seals", "renew", VILLAGE)
    assert good.returncode == 0, good.stderr
    assert_consistent(install, VILLAGE)


def test_wrong_passphrase_on_seal_keeps_the_tsa_key(install: Install, tmp_path: Path) -> None:
    """``minseal seal`` with a wrong passphrase used to overwrite the TSA's key store, then make a new one."""
    from api.services.documents import DocumentService
    from api.settings import Settings

    pdf = DocumentService(Settings(data_dir=install.data, keys_dir=install.keys)).render(
        "dibao_certificate", json.loads((REPO / "templates" / "dibao_certificate" / "sample.json").read_text())
    ).rendered.pdf
    source = tmp_path / "c.pdf"
    source.write_bytes(pdf)
    tsa = install.keys / "p12" / "_tsa.p12"
    before = tsa.read_bytes()
    done = install.run("seal", str(source), "--office", TOWNSHIP, "-o", str(tmp_path / "s.pdf"),
                       key_passphrase="wrong")
    assert done.returncode == 8 and "WRONG_PASSPHRASE" in done.stderr and "CA_KEY" not in done.stderr
    assert tsa.read_bytes() == before and not (tmp_path / "s.pdf").exists()
    tsa_cert = (install.data / "pki" / "tsa.crt.pem").read_bytes()
    ok = install.run("seal", str(source), "--office", TOWNSHIP, "-o", str(tmp_path / "s.pdf"), seal_level="B-T")
    assert ok.returncode == 0, ok.stderr
    assert tsa.read_bytes() == before and (install.data / "pki" / "tsa.crt.pem").read_bytes() == tsa_cert


@pytest.fixture()
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    yield path


def test_outputs_refuse_devices_twice_used_paths_and_inputs(install: Install, tmp_path: Path, fifo: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data.json"
    data.write_text((REPO / "templates" / "dibao_certificate" / "sample.json").read_text("utf-8"), "utf-8")
    render = ("render", "dibao_certificate", "--data", str(data))
    cases = [
        ((*render, "-o", str(fifo)), "OUTPUT_NOT_REGULAR"),
        ((*render, "-o", str(tmp_path / "x.pdf"), "--docx", str(tmp_path / "x.pdf")), "OUTPUT_TWICE"),
        ((*render, "-o", str(tmp_path / "a.pdf"), "--slots", str(tmp_path / "sub" / ".." / "a.pdf")),
         "OUTPUT_TWICE"),
        ((*render, "-o", str(data)), "OUTPUT_IS_INPUT"),
        (("seal", str(data), "--office", VILLAGE, "-o", str(data)), "OUTPUT_IS_INPUT"),
        (("verify", str(data), "--html", str(data)), "OUTPUT_IS_INPUT"),
        (("seal", str(fifo), "--office", VILLAGE, "-o", str(tmp_path / "y.pdf")), "INPUT_FILE"),
        (("render", "dibao_certificate", "--data", str(fifo), "-o", str(tmp_path / "y.pdf")), "INPUT_FILE"),
    ]
    (tmp_path / "sub").mkdir()
    for args, code in cases:
        # device files through a real process (a FIFO would block a reader forever); the rest in-process
        done = install.run(*args) if str(fifo) in args else install.main(monkeypatch, capsys, *args)
        assert done.returncode == 3 and code in done.stderr, (args, done.returncode, done.stderr)
        assert_no_traceback(done)
    assert fifo.exists() and not fifo.is_file()  # still a FIFO: never replaced, never written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.json", "install", "pipe", "sub"]


def test_a_killed_write_leaves_no_temp_file_behind(install: Install, tmp_path: Path) -> None:
    data = tmp_path / "data.json"
    data.write_text((REPO / "templates" / "dibao_certificate" / "sample.json").read_text("utf-8"), "utf-8")
    out = tmp_path / "out" / "c.pdf"
    killed = install.run("render", "dibao_certificate", "--data", str(data), "-o", str(out),
                         test_kill_at="write:before-rename")
    assert killed.returncode == -signal.SIGKILL
    left = [p.name for p in out.parent.iterdir()]
    assert not out.exists() and len(left) == 1 and left[0].startswith(".c.pdf.")
    done = install.run("render", "dibao_certificate", "--data", str(data), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert [p.name for p in out.parent.iterdir()] == ["c.pdf"]


def test_seal_racing_revoke_ends_in_seal_revoked_never_a_traceback(install: Install, tmp_path: Path) -> None:
    from api.services.documents import DocumentService
    from api.settings import Settings

    pdf = DocumentService(Settings(data_dir=install.data, keys_dir=install.keys)).render(
        "dibao_certificate", json.loads((REPO / "templates" / "dibao_certificate" / "sample.json").read_text())
    ).rendered.pdf
    source = tmp_path / "c.pdf"
    source.write_bytes(pdf)
    outputs: list[subprocess.CompletedProcess[str]] = []

    def seal(i: int) -> None:
        outputs.append(install.run("seal", str(source), "--office", TOWNSHIP, "-o", str(tmp_path / "same.pdf")))

    threads = [threading.Thread(target=seal, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    revoked = install.run("seals", "revoke", TOWNSHIP, "--reason", "key-compromise")
    for t in threads:
        t.join()
    assert revoked.returncode == 0, revoked.stderr
    for done in outputs:
        assert_no_traceback(done)
        assert done.returncode in (0, 7), done.stderr
        if done.returncode == 7:
            assert "SEAL_REVOKED" in done.stderr
    after = install.run("seal", str(source), "--office", TOWNSHIP, "-o", str(tmp_path / "late.pdf"))
    assert after.returncode == 7 and "SEAL_REVOKED" in after.stderr and "密钥泄露" in after.stderr
    if any(d.returncode == 0 for d in outputs):  # the last writer won, with a whole file
        from pyhanko.pdf_utils.reader import PdfFileReader

        with (tmp_path / "same.pdf").open("rb") as handle:
            assert len(PdfFileReader(handle).embedded_signatures) == 1
    assert not list(tmp_path.glob(".*.tmp"))
    assert len(install.seal_uses()) == sum(d.returncode == 0 for d in outputs)


#: every exit code the CLI may give: success, usage (click) and the categories of api/errors.py — never 1
ALLOWED_EXITS = {0, 2, *__import__("api.errors", fromlist=["EXIT_CODE"]).EXIT_CODE.values()}


def _mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    op = rng.choice(("flip", "truncate", "zero", "splice"))
    if op == "flip":
        for _ in range(rng.randint(1, 16)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif op == "truncate":
        del b[rng.randrange(len(b)):]
    elif op == "zero":
        at = rng.randrange(len(b))
        b[at:at + 64] = bytes(len(b[at:at + 64]))
    else:
        at, src = rng.randrange(len(b)), rng.randrange(len(b))
        b[at:at] = b[src:src + rng.randint(1, 400)]
    return bytes(b)


def _json_mutant(rng: random.Random, sample: dict[str, object]) -> bytes:
    hostile: list[object] = [
        None, "\x7f", "\u202e", "１３０６３４", "x" * 5000, [], {}, -1, 1e308, True, "0" * 3, [[[[]]]], "\u0000",
        "2026-02-30", "13063419680512002x", "\u0085", 10**30,
    ]
    data = json.loads(json.dumps(sample))
    households = data.get("households")
    target = rng.choice(households) if isinstance(households, list) and households else data
    key = rng.choice(list(target))
    target[key] = rng.choice(hostile)
    if rng.random() < 0.2:
        target[f"extra{rng.randrange(9)}"] = rng.choice(hostile)
    return json.dumps(data, ensure_ascii=rng.random() < 0.5).encode()


def test_bounded_cli_fuzz_of_bad_input(install: Install, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Hostile data files, arguments and damaged PDFs: never a traceback, always an exit code from the mapping.
    Bounded by count (a fixed seed, every run made), not by a time budget that a slow machine would cut short."""
    from api.services.documents import DocumentService
    from api.settings import Settings

    rng = random.Random(14)
    sample = json.loads((REPO / "templates" / "dibao_notice" / "sample.json").read_text("utf-8"))
    out = tmp_path / "out.pdf"
    fixed: list[tuple[str, ...]] = []
    specials = {
        "bigint.json": b'{"households": [{"persons": ' + b"9" * 4400 + b"}]}",
        "deep.json": b"[" * 1000 + b"]" * 1000,
        "deeper.json": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        "nul.json": b"\x00" * 100,
        "latin1.json": "{\"issuer\": \"é\"}".encode("latin-1"),
        "empty.json": b"",
        "bom.json": b"\xef\xbb\xbf{}",
    }
    for name, content in specials.items():
        (tmp_path / name).write_bytes(content)
        fixed.append(("render", "dibao_notice", "--data", str(tmp_path / name), "-o", str(out)))
    data = tmp_path / "sample.json"
    data.write_text(json.dumps(sample, ensure_ascii=False), "utf-8")
    fixed += [
        ("render", "dibao_notice", "--data", str(data), "-o", str(out), "--verify-url", "http://x/" + "a" * 5000),
        ("render", "dibao_notice", "--data", str(data), "-o", str(out), "--verify-url", "javascript:alert(1)"),
        ("render", "dibao_notice", "--data", str(tmp_path), "-o", str(out)),
        ("seals", "revoke", "不存在", "--reason", "superseded"),
        ("seals", "renew", "\x7f"),
        ("seals", "issue", VILLAGE, "--algorithm", "dsa"),
        ("seal", str(data), "--office", VILLAGE, "-o", str(out)),
        ("seal", str(tmp_path / "none.pdf"), "--office", VILLAGE, "-o", str(out)),
        ("verify", str(data)),
        ("verify", str(tmp_path)),
    ]
    pdf = DocumentService(Settings(data_dir=install.data, keys_dir=install.keys)).render(
        "dibao_application", json.loads((REPO / "templates" / "dibao_application" / "sample.json").read_text())
    ).rendered.pdf
    runs: list[tuple[str, ...]] = list(fixed)
    for i in range(40):
        path = tmp_path / f"m{i}.json"
        path.write_bytes(_json_mutant(rng, sample))
        runs.append(("render", "dibao_notice", "--data", str(path), "-o", str(out)))
    for i in range(60):
        path = tmp_path / f"m{i}.pdf"
        path.write_bytes(_mutate(rng, pdf))
        runs.append(("seal", str(path), "--office", VILLAGE, "--level", "B-B", "-o", str(tmp_path / f"s{i}.pdf"))
                    if i % 2 else ("verify", str(path)))
    done_count = 0
    for args in runs:
        done = install.main(monkeypatch, capsys, *args)
        done_count += 1
        assert done.returncode in ALLOWED_EXITS, (args, done.returncode, done.stderr)
        assert_no_traceback(done)
        if done.returncode not in (0, 2) and args[0] != "verify":  # verify reports a verdict, not an error
            assert done.stderr.startswith("错误["), (args, done.stderr)
    assert done_count == len(runs) == len(fixed) + 100  # every run, whatever the machine's speed
    for name in ("bigint.json", "deep.json"):
        done = install.main(monkeypatch, capsys, "render", "dibao_notice", "--data", str(tmp_path / name), "-o",
                            str(out))
        assert done.returncode == 3 and "INPUT_FILE" in done.stderr
