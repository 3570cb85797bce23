"""A reference remote signing service: it STANDS IN for a vendor's provincial seal platform, so that MinSeal's
adapter (signer/remote.py) is tested against a real process over real HTTP. It is not a product: one seal, one
credential, a key in a file.

    python -m tests.support.remote_seal_service --port 0 --key key.pem --cert chain.pem \
        --seal-id SEAL-1 --credential-file cred.txt --log uses.jsonl

prints ``port <n>`` once it listens on 127.0.0.1. ``--crl`` (DER) is served at ``GET /crl`` without a
credential: the platform CA's distribution point, for verifiers. The key is a PEM PKCS#8 key: ECDSA P-256 (signs SHA-256
digests) or SM2 (signs the SM3 ``e`` of GB/T 32918.2 as given). Every request is a JSON line in ``--log``
(time, seal, request id, digest, outcome) — never the credential."""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import hmac
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from asn1crypto import pem
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from gmalglib import sm2 as gm_sm2

from signer.sm2 import DEFAULT_ID, Sm2PrivateKey, raw_to_signature


class Seal:
    """The one seal this service holds."""

    def __init__(self, key_pem: bytes, chain_pem: bytes, seal_id: str, credential: str, log: Path) -> None:
        self.seal_id, self._credential, self._log = seal_id, credential, log
        self.chain = [der for kind, _h, der in pem.unarmor(chain_pem, multiple=True) if kind == "CERTIFICATE"]
        self._ec: ec.EllipticCurvePrivateKey | None = None
        self._sm2: Sm2PrivateKey | None = None
        try:
            loaded = serialization.load_pem_private_key(key_pem, password=None)
            if not isinstance(loaded, ec.EllipticCurvePrivateKey):
                raise SystemExit("only ECDSA or SM2 keys")
            self._ec = loaded
        except (ValueError, TypeError, UnsupportedAlgorithm):  # cryptography cannot load SM2
            _kind, _h, der = pem.unarmor(key_pem)
            self._sm2 = Sm2PrivateKey.from_pkcs8(der)
        self._lock = threading.Lock()

    def credential_ok(self, header: str | None) -> bool:
        given = (header or "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), self._credential.encode())

    def sign(self, algorithm: str, digest: bytes) -> bytes | None:
        """The signature over ``digest``; None when the algorithm does not fit the key."""
        if self._ec is not None and algorithm == "sha256" and len(digest) == 32:
            return self._ec.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        if self._sm2 is not None and algorithm == "sm3" and len(digest) == 32:
            signer = gm_sm2.SM2(sk=self._sm2.scalar, pk=self._sm2.public_key.point, uid=DEFAULT_ID)
            return raw_to_signature(signer.sign_digest(digest))
        return None

    def record(self, **entry: Any) -> None:
        line = json.dumps({"at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "seal_id": self.seal_id,
                           **entry}, ensure_ascii=False)
        with self._lock, self._log.open("a", encoding="utf-8") as out:
            out.write(line + "\n")


def handler_for(seal: Seal, crl: bytes | None = None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # every use goes to the JSON log instead (stderr would show nothing more)

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, code: str, message: str, **log: Any) -> None:
            seal.record(outcome=code, **log)
            self._reply(status, {"error": {"code": code, "message": message}})

        def _route(self) -> str | None:
            """``""`` or ``"/sign"`` for this seal; None for anything else."""
            prefix = f"/v1/seals/{seal.seal_id}"
            if self.path == prefix or self.path == prefix + "/sign":
                return self.path.removeprefix(prefix)
            return None

        def _certificates(self) -> list[str]:
            return [base64.b64encode(c).decode() for c in seal.chain]

        def do_GET(self) -> None:
            if self.path == "/crl" and crl is not None:
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(crl)))
                self.end_headers()
                self.wfile.write(crl)
                return None
            if not seal.credential_ok(self.headers.get("Authorization")):
                return self._error(401, "BAD_CREDENTIAL", "credential refused", request="certificates")
            if self._route() != "":
                return self._error(404, "UNKNOWN_SEAL", "no such seal", request="certificates")
            seal.record(outcome="OK", request="certificates")
            self._reply(200, {"seal_id": seal.seal_id, "certificates": self._certificates()})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(min(length, 64 * 1024))
            if not seal.credential_ok(self.headers.get("Authorization")):
                return self._error(401, "BAD_CREDENTIAL", "credential refused", request="sign")
            if self._route() != "/sign":
                return self._error(404, "UNKNOWN_SEAL", "no such seal", request="sign")
            try:
                body = json.loads(raw)
                algorithm, request_id = str(body["digest_algorithm"]), str(body.get("request_id", ""))[:64]
                digest = base64.b64decode(str(body["digest"]), validate=True)
            except (ValueError, KeyError, TypeError, binascii.Error):
                return self._error(400, "BAD_REQUEST", "malformed request", request="sign")
            signature = seal.sign(algorithm, digest)
            if signature is None:
                return self._error(400, "BAD_DIGEST_ALGORITHM", "digest does not fit the seal's key",
                                   request="sign", request_id=request_id, digest_algorithm=algorithm)
            seal.record(outcome="OK", request="sign", request_id=request_id, digest_algorithm=algorithm,
                        digest=digest.hex())
            self._reply(200, {"signature": base64.b64encode(signature).decode(),
                              "certificates": self._certificates()})

    return Handler


def start_service(directory: Path, key: Path, chain: Path, credential_file: Path, seal_id: str, *,
                  port: int = 0) -> tuple[subprocess.Popen[str], int]:
    """The service as a process on 127.0.0.1 (``port`` 0: any free one); returns it and its port."""
    crl = ["--crl", str(directory / "crl.der")] if (directory / "crl.der").exists() else []
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.remote_seal_service", "--port", str(port), *crl, "--key", str(key),
         "--cert", str(chain), "--seal-id", seal_id, "--credential-file", str(credential_file),
         "--log", str(directory / "uses.jsonl")],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("port "), line
    return process, int(line.split()[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="MinSeal's reference remote signing service (a vendor stand-in)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--cert", type=Path, required=True, help="PEM: the signing certificate, then its chain")
    parser.add_argument("--seal-id", required=True)
    parser.add_argument("--credential-file", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--crl", type=Path, help="the platform CA's CRL (DER), served at /crl")
    args = parser.parse_args(argv)
    credential = args.credential_file.read_text(encoding="utf-8").splitlines()[0].strip()
    seal = Seal(args.key.read_bytes(), args.cert.read_bytes(), args.seal_id, credential, args.log)
    crl = args.crl.read_bytes() if args.crl else None
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(seal, crl))
    print(f"port {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
